/*
 * alert_providers.c — AlertProviders of a run's alerts, from the loaded
 * documents or the cluster, with their secretRef, for the notifier (see
 * alert_providers.h).  Secret values are wiped after use and never reach
 * a message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/alert_providers.h"
#include "k8s/kubeconfig.h"
#include "util/log.h"
#include "util/status.h"
#include "util/xalloc.h"

static const struct k8s_res alertproviders = { "flagger.app", "v1beta1", "alertproviders", true };

/* The AlertProvider's fields, borrowed from a spec document or a JSON
 * object. */
struct found {
	const char *type, *channel, *username, *address, *proxy, *secret;
};

/* Among the loaded documents: ns/name, or a document that names no
 * namespace when the canary's own is meant (it lives where the canary does). */
static const struct spec_alert_provider *
in_set(const struct spec_set *set, const char *ns, const char *name, bool own_ns)
{
	const struct spec_alert_provider *p;
	size_t i;

	for (i = 0; set != NULL && i < spec_set_n_alert_providers(set); i++) {
		p = spec_set_alert_provider(set, i);
		if (p->meta.name == NULL || strcmp(p->meta.name, name) != 0)
			continue;
		if (strcmp(p->meta.ns, ns) == 0 ||
		    (own_ns && spec_node_path(p->meta.root, "metadata.namespace") == NULL))
			return p;
	}
	return NULL;
}

static const char *
jstr(json_t *o, const char *a, const char *b)
{
	json_t *v = json_object_get(o, a);

	if (b != NULL)
		v = json_object_get(v, b);
	return json_string_value(v);
}

/* data[key] decoded, else stringData[key]; NULL when absent or not text. */
static char *
secret_value(json_t *secret, const char *key, bool *bad)
{
	const char *v = jstr(secret, "data", key);
	char *out;
	size_t n;

	if (v != NULL) {
		out = k8s_b64_decode(v, &n);
		if (out == NULL || strlen(out) != n) {
			xfree_secret(out);
			*bad = true;
			return NULL;
		}
		return out;
	}
	v = jstr(secret, "stringData", key);
	return v != NULL ? xstrdup(v) : NULL;
}

/* Reads the Secret into p (address, token).  NULL, or why not (no secret
 * in it). */
static const char *
read_secret(struct k8s_client *kc, const char *ns, const struct found *f,
    struct notify_provider *p, char **addr, char **token, char *why, size_t whysz)
{
	struct k8s_err e;
	json_t *secret;
	bool bad = false;
	int st;

	if (kc == NULL) {
		snprintf(why, whysz, "secret %s: no cluster to read it from", f->secret);
		return why;
	}
	st = k8s_get(kc, K8S_RES(SECRETS), ns, f->secret, &secret, &e);
	if (st != ST_OK) {
		snprintf(why, whysz, "secret %s: %.400s", f->secret, e.msg);
		return why;
	}
	*addr = secret_value(secret, "address", &bad);
	if (!bad)
		*token = secret_value(secret, "token", &bad);
	json_decref(secret);
	if (bad) {
		snprintf(why, whysz, "secret %s: a value is not base64 text", f->secret);
		return why;
	}
	if (*addr == NULL || (*addr)[0] == '\0') {
		snprintf(why, whysz, "secret %s has no address", f->secret);
		return why;
	}
	p->address = *addr;
	p->token = *token;
	return NULL;
}

static void
warn_broken(FILE *warn, const struct canary_cfg *cfg, const struct alert_cfg *a,
    const char *ns, const char *why)
{
	if (warn != NULL)
		fprintf(warn, "perch run: warning: %s/%s: alert %s: AlertProvider %s/%s: %s; "
		    "its alerts are not sent\n", cfg->ns, cfg->name, a->name, ns, a->provider, why);
	log_warn("%s/%s: alert %s: AlertProvider %s/%s: %s", cfg->ns, cfg->name, a->name, ns,
	    a->provider, why);
}

/* Resolves one alert's provider and registers it; false when broken. */
static bool
register_one(struct k8s_client *kc, const struct spec_set *set, const struct canary_cfg *cfg,
    const struct alert_cfg *a, struct notifier *n, FILE *warn)
{
	const char *ns = a->provider_ns != NULL ? a->provider_ns : cfg->ns;
	const struct spec_alert_provider *sp = in_set(set, ns, a->provider, a->provider_ns == NULL);
	struct notify_provider p = { .ns = ns, .name = a->provider };
	char why[ERRMSG_MAX + 64] = "", *addr = NULL, *token = NULL;
	json_t *obj = NULL;
	struct found f = { 0 };
	struct k8s_err e = { 0 };
	int type;

	if (sp != NULL) {
		f = (struct found){ sp->type, sp->channel, sp->username, sp->address, sp->proxy,
			sp->secret_ref };
	} else if (kc != NULL && k8s_get(kc, &alertproviders, ns, a->provider, &obj, &e) == ST_OK) {
		f = (struct found){ jstr(obj, "spec", "type"), jstr(obj, "spec", "channel"),
			jstr(obj, "spec", "username"), jstr(obj, "spec", "address"),
			jstr(obj, "spec", "proxy"), NULL };
		f.secret = json_string_value(json_object_get(json_object_get(json_object_get(obj,
		    "spec"), "secretRef"), "name"));
	} else {
		snprintf(why, sizeof why, "not found%s%.200s", kc != NULL ? ": " : " in the files given",
		    kc != NULL ? e.msg : "");
	}
	if (why[0] == '\0' && (type = notify_type_from_name(f.type)) < 0)
		snprintf(why, sizeof why, "unknown type %s", f.type != NULL ? f.type : "(none)");
	else if (why[0] == '\0')
		p.type = (enum notify_type)type;
	if (why[0] == '\0') {
		p.channel = f.channel;
		p.username = f.username;
		p.address = f.address;
		p.proxy = f.proxy;
		if (f.secret != NULL)
			read_secret(kc, ns, &f, &p, &addr, &token, why, sizeof why);
		else if (f.address == NULL || f.address[0] == '\0')
			snprintf(why, sizeof why, "no address and no secretRef");
	}
	if (why[0] != '\0') {
		warn_broken(warn, cfg, a, ns, why);
		p.broken = why;
	}
	notifier_add(n, &p);
	xfree_secret(addr);
	xfree_secret(token);
	json_decref(obj);
	return why[0] == '\0';
}

size_t
alert_providers_register(struct k8s_client *kc, const struct spec_set *set,
    const struct canary_cfg *cfg, struct notifier *n, FILE *warn)
{
	size_t i, broken = 0;

	for (i = 0; i < cfg->n_alerts; i++) {
		const struct alert_cfg *a = &cfg->alerts[i];

		if (notifier_has(n, a->provider_ns != NULL ? a->provider_ns : cfg->ns, a->provider))
			continue;	/* shared by several alerts or canaries */
		if (!register_one(kc, set, cfg, a, n, warn))
			broken++;
	}
	return broken;
}
