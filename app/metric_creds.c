/*
 * metric_creds.c — MetricTemplate secretRef credentials from the cluster for
 * the template's metric backend (see metric_creds.h).  Values are wiped after use
 * and never reach a message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/canary_load.h"
#include "app/metric_creds.h"
#include "k8s/kubeconfig.h"
#include "util/status.h"
#include "util/xalloc.h"

/* data[key] decoded, else stringData[key]; NULL when absent.  *bad is set
 * when data[key] is not base64. */
static char *
secret_value(json_t *secret, const char *key, bool *bad)
{
	const char *v = json_string_value(json_object_get(json_object_get(secret, "data"), key));
	char *out;
	size_t n;

	if (v) {
		if (!(out = k8s_b64_decode(v, &n)) || strlen(out) != n) {
			xfree_secret(out);
			*bad = true;
			return NULL;
		}
		return out;
	}
	v = json_string_value(json_object_get(json_object_get(secret, "stringData"), key));
	return v ? xstrdup(v) : NULL;
}

#define MAX_SECRET_KEYS 8

struct creds {
	char *v[MAX_SECRET_KEYS + 1];	/* the values of the backend's secret keys */
	size_t n;
};

static void
creds_wipe(struct creds *cr)
{
	size_t i;

	for (i = 0; i < cr->n; i++)
		xfree_secret(cr->v[i]);
	memset(cr, 0, sizeof *cr);
}

static int
read_creds(struct k8s_client *kc, const struct spec_metric_template *t, const char *ns,
    const struct metric_backend_ops *ops, struct creds *cr, char *err, size_t errsz)
{
	const char *const *keys = ops->secret_keys;
	char why[256];
	struct k8s_err e;
	json_t *secret;
	bool bad = false;
	size_t i;
	int st;

	memset(cr, 0, sizeof *cr);
	st = k8s_get(kc, K8S_RES(SECRETS), ns, t->secret_ref, &secret, &e);
	if (st != ST_OK) {
		snprintf(err, errsz, "MetricTemplate %s/%s: secret %s: %s", ns, t->meta.name,
		    t->secret_ref, e.msg);
		return st;
	}
	for (i = 0; keys != NULL && keys[i] != NULL && i < MAX_SECRET_KEYS && !bad; i++)
		cr->v[cr->n++] = secret_value(secret, keys[i], &bad);
	json_decref(secret);
	if (bad) {
		snprintf(err, errsz, "MetricTemplate %s/%s: secret %s: data.%s is not base64 text",
		    ns, t->meta.name, t->secret_ref, keys[i - 1]);
		st = ST_INVALID;
	} else if (ops->check_secret != NULL &&
	    ops->check_secret((const char *const *)cr->v, why, sizeof why) != ST_OK) {
		snprintf(err, errsz, "MetricTemplate %s/%s: secret %s %s", ns, t->meta.name,
		    t->secret_ref, why);
		st = ST_INVALID;
	}
	if (st != ST_OK)
		creds_wipe(cr);
	return st;
}

int
metric_creds_set(struct k8s_client *kc, const struct spec_metric_template *t,
    const char *ns, struct metric_backends *b, const struct metric_provider *p, char *err,
    size_t errsz)
{
	const struct metric_backend_ops *ops = metric_backend_find(t->provider_type);
	struct metric_provider q = *p;
	char why[256], ref[256];
	struct creds cr;
	int st;

	ns = ns ? ns : t->meta.ns;
	if (ops == NULL) {
		snprintf(err, errsz, "MetricTemplate %s/%s: spec.provider.type %s has no metric "
		    "backend", ns, t->meta.name, t->provider_type);
		return ST_UNSUPPORTED;
	}
	if ((st = read_creds(kc, t, ns, ops, &cr, err, errsz)) == ST_OK) {
		q.secret = (const char *const *)cr.v;
		snprintf(ref, sizeof ref, "%s/%s", ns, t->secret_ref);
		q.secret_ref = ref;
		if ((st = metric_backends_add(b, t->provider_type, &q, why, sizeof why)) != ST_OK)
			snprintf(err, errsz, "MetricTemplate %s/%s: %s", ns, t->meta.name, why);
	}
	creds_wipe(&cr);
	return st;
}

int
metric_creds_template(struct k8s_client *kc, const struct spec_metric_template *t,
    const char *ns, struct metric_backends *b, char *err, size_t errsz)
{
	struct kv *h = t->n_headers ? xcalloc(t->n_headers, sizeof *h) : NULL;
	struct metric_provider p = { .address = t->address, .insecure = t->insecure_skip_verify,
		.headers = h, .n_headers = t->n_headers, .region = t->region };
	char *block;
	size_t i;
	int st;

	for (i = 0; i < t->n_headers; i++) {
		h[i].key = t->headers[i].key;
		h[i].value = t->headers[i].value ? t->headers[i].value : (char *)"";
	}
	p.block = block = metric_template_block(t);
	st = metric_creds_set(kc, t, ns, b, &p, err, errsz);
	free(block);
	free(h);
	return st;
}

int
metric_creds_register(struct k8s_client *kc, const struct spec_set *set,
    const struct spec_canary *c, struct metric_backends *b, char *err, size_t errsz)
{
	const struct spec_metric_template *t;
	size_t i;
	int st;

	for (i = 0; i < c->analysis.n_metrics; i++) {
		const struct spec_metric *m = &c->analysis.metrics[i];

		if (!m->template_ref.set || (t = spec_find_template(set, c, m)) == NULL ||
		    !t->secret_ref)	/* no address: the type's default server */
			continue;
		if ((st = metric_creds_template(kc, t, NULL, b, err, errsz)) != ST_OK)
			return st;
	}
	return ST_OK;
}
