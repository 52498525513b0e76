/*
 * metric_creds.c — MetricTemplate secretRef credentials from the cluster for
 * the Prometheus client (see metric_creds.h).  Values are wiped after use
 * and never reach a message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

struct creds {
	char *token, *username, *password;
};

static void
creds_wipe(struct creds *cr)
{
	xfree_secret(cr->token);
	xfree_secret(cr->username);
	xfree_secret(cr->password);
	memset(cr, 0, sizeof *cr);
}

static int
read_creds(struct k8s_client *kc, const struct spec_metric_template *t, const char *ns,
    struct creds *cr, char *err, size_t errsz)
{
	static const char *const keys[] = { "token", "username", "password" };
	char **dst[] = { &cr->token, &cr->username, &cr->password };
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
	for (i = 0; i < 3 && !bad; i++)
		*dst[i] = secret_value(secret, keys[i], &bad);
	json_decref(secret);
	if (bad) {
		snprintf(err, errsz, "MetricTemplate %s/%s: secret %s: data.%s is not base64 text",
		    ns, t->meta.name, t->secret_ref, keys[i - 1]);
		st = ST_INVALID;
	} else if (!cr->token && (!cr->username || !cr->password)) {
		snprintf(err, errsz, "MetricTemplate %s/%s: secret %s has no token, nor both "
		    "username and password", ns, t->meta.name, t->secret_ref);
		st = ST_INVALID;
	}
	if (st != ST_OK)
		creds_wipe(cr);
	return st;
}

int
metric_creds_set(struct k8s_client *kc, const struct spec_metric_template *t,
    const char *ns, struct prom *p, const struct prom_server_cfg *server, char *err,
    size_t errsz)
{
	struct prom_server_cfg sc = *server;
	struct creds cr;
	int st;

	if ((st = read_creds(kc, t, ns ? ns : t->meta.ns, &cr, err, errsz)) == ST_OK) {
		sc.bearer_token = cr.token;
		sc.username = cr.token ? NULL : cr.username;
		sc.password = cr.token ? NULL : cr.password;
		if ((st = prom_set_server(p, &sc)) != ST_OK)
			snprintf(err, errsz, "MetricTemplate %s/%s: the server was refused",
			    ns ? ns : t->meta.ns, t->meta.name);
	}
	creds_wipe(&cr);
	return st;
}

static int
register_one(struct k8s_client *kc, const struct spec_metric_template *t, struct prom *p,
    char *err, size_t errsz)
{
	struct kv *h = t->n_headers ? xcalloc(t->n_headers, sizeof *h) : NULL;
	struct prom_server_cfg sc = { .url = t->address, .insecure = t->insecure_skip_verify,
		.headers = h, .n_headers = t->n_headers };
	size_t i;
	int st;

	for (i = 0; i < t->n_headers; i++) {
		h[i].key = t->headers[i].key;
		h[i].value = t->headers[i].value ? t->headers[i].value : (char *)"";
	}
	st = metric_creds_set(kc, t, NULL, p, &sc, err, errsz);
	free(h);
	return st;
}

int
metric_creds_register(struct k8s_client *kc, const struct spec_set *set,
    const struct spec_canary *c, struct prom *p, char *err, size_t errsz)
{
	const struct spec_metric_template *t;
	size_t i;
	int st;

	for (i = 0; i < c->analysis.n_metrics; i++) {
		const struct spec_metric *m = &c->analysis.metrics[i];

		if (!m->template_ref.set || (t = spec_find_template(set, c, m)) == NULL ||
		    !t->address || !t->secret_ref)
			continue;
		if ((st = register_one(kc, t, p, err, errsz)) != ST_OK)
			return st;
	}
	return ST_OK;
}
