/*
 * k8s/flagger_cmd.c — the keys of a canary Flagger drives, mapped to
 * Flagger's own controls: the load tester's gates (reference §5.4: /gate/open
 * and /gate/close beside a webhook's /gate/check, /rollback/open beside
 * /rollback/check), reached through the API server's service proxy when the
 * webhook URL names a cluster Service, else called directly with the
 * webhook client of k8s_cluster_set_webhooks; spec.suspend and spec.skipAnalysis of
 * the Canary; a perch.dev/retry annotation in the target's pod template.
 * Each action is also a core/v1 Event on the Canary (reason "perch"),
 * naming who did it.  Engine thread (cluster_ops.external_command).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "k8s/cluster.h"
#include "k8s/cluster_int.h"
#include "util/log.h"
#include "util/status.h"

/* A webhook URL of a cluster Service: http://NAME.NS[.svc[.cluster.local]][:PORT]/PATH. */
bool
parse_svc_url(const char *url, struct svc_url *u)
{
	const char *host, *end, *slash, *colon;
	char h[256], *dot, *rest;
	size_t n;

	memset(u, 0, sizeof *u);
	if (strncmp(url, "http://", 7) == 0)
		u->port = 80, host = url + 7;
	else if (strncmp(url, "https://", 8) == 0)
		u->port = 443, host = url + 8;
	else
		return false;
	slash = strchr(host, '/');
	end = slash != NULL ? slash : host + strlen(host);
	colon = memchr(host, ':', (size_t)(end - host));
	n = (size_t)((colon != NULL ? colon : end) - host);
	if (n == 0 || n >= sizeof h)
		return false;
	memcpy(h, host, n);
	h[n] = '\0';
	if (colon != NULL) {	/* digits only, up to the path */
		char *stop;
		long port = strtol(colon + 1, &stop, 10);

		if (stop != end || stop == colon + 1 || colon[1] < '0' || colon[1] > '9' ||
		    port <= 0 || port > 65535)
			return false;
		u->port = (int)port;
	}
	snprintf(u->path, sizeof u->path, "%s", slash != NULL ? slash : "/");
	if ((dot = strchr(h, '.')) == NULL || dot == h)
		return false;
	*dot = '\0';
	rest = dot + 1;
	if ((dot = strchr(rest, '.')) != NULL) {
		if (strcmp(dot, ".svc") != 0 && strcmp(dot, ".svc.cluster.local") != 0)
			return false;
		*dot = '\0';
	}
	if (strlen(h) >= sizeof u->name || strlen(rest) >= sizeof u->ns || !*rest)
		return false;
	memcpy(u->name, h, strlen(h) + 1);
	memcpy(u->ns, rest, strlen(rest) + 1);
	return true;
}

/* The load tester's endpoint beside the webhook's: /gate/check -> /gate/OP. */
static void
beside(char *path, size_t n, const char *op)
{
	char *last = strrchr(path, '/');
	size_t keep = last != NULL ? (size_t)(last - path) + 1 : 0;

	snprintf(path + keep, n - keep, "%s", op);
}

static const struct hook_cfg *
hook_of(const struct canary_cfg *cfg, enum hook_type t)
{
	size_t i;

	for (i = 0; i < cfg->n_hooks; i++)
		if (cfg->hooks[i].type == t)
			return &cfg->hooks[i];
	return NULL;
}

void
k8s_cluster_set_webhooks(struct k8s_cluster *k, const struct webhook_ops *ops, void *ctx)
{
	k->hooks = ops;
	k->hooks_ctx = ctx;
}

/* OP beside a webhook URL that names no cluster Service, called directly
 * as the webhook itself would be (its payload, timeout and TLS setting;
 * no retry).  ST_OK on a 2xx. */
static int
direct_call(struct k8s_cluster *k, const struct canary_cfg *cfg, const struct hook_cfg *h,
    const char *op, char *answer, size_t n)
{
	char url[512], *host, *path;
	struct hook_cfg hc = *h;
	struct hook_result res = { .ok = false };
	size_t keep = strcspn(h->url, "?#");

	if (k->hooks == NULL) {
		snprintf(answer, n, "webhook %s: %s does not name a cluster Service "
		    "(http://NAME.NAMESPACE/...); open it there yourself", h->name, h->url);
		return ST_UNSUPPORTED;
	}
	snprintf(url, sizeof url, "%.*s", (int)keep, h->url);
	host = strstr(url, "://");
	path = host != NULL ? strchr(host + 3, '/') : NULL;
	if (path == NULL || strlen(url) + strlen(op) + 1 >= sizeof url) {
		snprintf(answer, n, "webhook %s: %s is not an http(s) URL with a path", h->name, h->url);
		return ST_INVALID;
	}
	beside(path, sizeof url - (size_t)(path - url), op);
	hc.url = url;
	hc.retries = 0;
	k->hooks->call(k->hooks_ctx, &(struct hook_call){ .canary = cfg, .hook = &hc,
	    .phase = PHASE_PROGRESSING, .checksum = "" }, 1, &res);
	if (!res.ok || res.http_status < 200 || res.http_status > 299) {
		snprintf(answer, n, "%.200s answered %d %.120s", url, res.http_status, res.msg);
		return res.http_status == 0 ? ST_NETWORK : ST_HTTP;
	}
	snprintf(answer, n, "%.200s answered %d", url, res.http_status);
	return ST_OK;
}

/* POSTs the webhook payload to OP beside hook's URL.  ST_OK on a 2xx. */
static int
gate_call(struct k8s_cluster *k, const struct canary_cfg *cfg, const struct hook_cfg *h,
    const char *op, char *answer, size_t n)
{
	struct svc_url u;
	struct k8s_err e;
	char body[600], got[200];
	long http = 0;
	int st;

	if (!parse_svc_url(h->url, &u))
		return direct_call(k, cfg, h, op, answer, n);
	beside(u.path, sizeof u.path, op);
	snprintf(body, sizeof body, "{\"name\":\"%s\",\"namespace\":\"%s\",\"phase\":\"\","
	    "\"metadata\":{}}", cfg->name, cfg->ns);
	st = k8s_service_post(k->c, u.ns, u.name, u.port, u.path, body, &http, got, sizeof got, &e);
	if (st != ST_OK) {
		snprintf(answer, n, "%s %s.%s:%d%.120s: %.200s", op, u.name, u.ns, u.port, u.path, e.msg);
		return st;
	}
	if (http < 200 || http > 299) {
		snprintf(answer, n, "%s.%s:%d%.120s answered %ld %.80s", u.name, u.ns, u.port, u.path,
		    http, got);
		return ST_HTTP;
	}
	snprintf(answer, n, "%s.%s:%d%.120s answered %ld", u.name, u.ns, u.port, u.path, http);
	return ST_OK;
}

/* The action on the Canary, for `kubectl describe canary`. */
static void
record(struct k8s_cluster *k, const struct canary_cfg *cfg, const char *actor, const char *what)
{
	struct timespec ts;
	struct k8s_err e;
	char now[32], name[300], msg[600];
	json_t *ev;

	clock_gettime(CLOCK_REALTIME, &ts);
	strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", gmtime(&ts.tv_sec));
	snprintf(name, sizeof name, "%.200s.perch%lx%05lx", cfg->name, (long)ts.tv_sec,
	    (long)(ts.tv_nsec / 10000) & 0xFFFFF);
	snprintf(msg, sizeof msg, "%s: %s", actor, what);
	ev = json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s, s:s, s:s}, s:s, s:s, s:s, s:{s:s},"
	    " s:s, s:s, s:i, s:s}", "apiVersion", "v1", "kind", "Event", "metadata", "name", name,
	    "namespace", cfg->ns, "involvedObject", "apiVersion", "flagger.app/v1beta1", "kind",
	    "Canary", "name", cfg->name, "namespace", cfg->ns, "reason", "perch", "message", msg,
	    "type", "Normal", "source", "component", "perch", "firstTimestamp", now,
	    "lastTimestamp", now, "count", 1, "reportingComponent", "perch");
	if (ev == NULL || k8s_create(k->ev, K8S_RES(EVENTS), cfg->ns, ev, NULL, &e) != ST_OK)
		log_warn("%s/%s: the event \"%s\" was not recorded", cfg->ns, cfg->name, msg);
	json_decref(ev);
}

static int
patch_spec(struct k8s_cluster *k, const struct canary_cfg *cfg, const char *field, bool v,
    char *answer, size_t n)
{
	json_t *p = json_pack("{s:{s:b}}", "spec", field, v);
	struct k8s_err e;
	int st = k8s_patch(k->c, K8S_RES(CANARIES), cfg->ns, cfg->name, K8S_PATCH_MERGE, p, NULL, &e);

	json_decref(p);
	if (st != ST_OK)
		snprintf(answer, n, "patching spec.%s of Canary %s.%s: %s", field, cfg->name, cfg->ns,
		    e.msg);
	else
		snprintf(answer, n, "spec.%s: %s", field, v ? "true" : "false");
	return st;
}

static int
retry(struct k8s_cluster *k, const struct canary_cfg *cfg, char *answer, size_t n)
{
	const struct k8s_res *res = cfg->target_kind != NULL && strcmp(cfg->target_kind,
	    "DaemonSet") == 0 ? K8S_RES(DAEMONSETS) : K8S_RES(DEPLOYMENTS);
	char now[32];
	time_t t = time(NULL);
	struct k8s_err e;
	json_t *p;
	int st;

	strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	p = json_pack("{s:{s:{s:{s:{s:s}}}}}", "spec", "template", "metadata", "annotations",
	    "perch.dev/retry", now);
	st = k8s_patch(k->c, res, cfg->ns, cfg->target, K8S_PATCH_MERGE, p, NULL, &e);
	json_decref(p);
	if (st != ST_OK)
		snprintf(answer, n, "patching %s %s.%s: %s", res->plural, cfg->target, cfg->ns, e.msg);
	else
		snprintf(answer, n, "perch.dev/retry=%s in the pod template of %s.%s", now,
		    cfg->target, cfg->ns);
	return st;
}

/* The gate the canary waits at, from its phase; else the first there is. */
static const struct hook_cfg *
pending_gate(struct k8s_cluster *k, const struct canary_cfg *cfg)
{
	static const enum hook_type order[] = { HOOK_CONFIRM_ROLLOUT, HOOK_CONFIRM_PROMOTION,
		HOOK_CONFIRM_TRAFFIC_INCREASE };
	const struct hook_cfg *h = NULL;
	struct k8s_err e;
	json_t *obj;
	const char *ph = NULL;
	size_t i;

	if (cached_get(k, K8S_RES(CANARIES), cfg->ns, cfg->name, &obj, &e) == ST_OK) {
		ph = jstr(obj, "status.phase");
		if (ph != NULL && strcmp(ph, "Waiting") == 0)
			h = hook_of(cfg, HOOK_CONFIRM_ROLLOUT);
		else if (ph != NULL && strcmp(ph, "WaitingPromotion") == 0)
			h = hook_of(cfg, HOOK_CONFIRM_PROMOTION);
		else if (ph != NULL && strcmp(ph, "Progressing") == 0)
			h = hook_of(cfg, HOOK_CONFIRM_TRAFFIC_INCREASE);
		json_decref(obj);
	}
	for (i = 0; h == NULL && i < sizeof order / sizeof order[0]; i++)
		h = hook_of(cfg, order[i]);
	return h;
}

static int
open_gate(struct k8s_cluster *k, const struct canary_cfg *cfg, const struct hook_cfg *h,
    const char *op, const char *actor, char *answer, size_t n)
{
	char what[400], got[600];
	int st = gate_call(k, cfg, h, op, got, sizeof got);

	if (st == ST_OK) {
		snprintf(what, sizeof what, "%s %s of webhook %s (%s)", strncmp(op, "open", 4) == 0 ?
		    "opened" : "closed", strstr(h->url, "/rollback/") ? "the rollback" : "the gate",
		    h->name, hook_type_name(h->type));
		record(k, cfg, actor, what);
		snprintf(answer, n, "%s; %s", what, got);
	} else {
		snprintf(answer, n, "%s", got);
	}
	return st;
}

int
k8s_flagger_command(struct k8s_cluster *k, const struct canary_cfg *cfg, enum command_kind kind,
    bool paused, const char *actor, char *answer, size_t n)
{
	const struct hook_cfg *h;
	char what[300];
	int st;

	switch (kind) {
	case CMD_APPROVE:
		if ((h = pending_gate(k, cfg)) == NULL)
			break;
		return open_gate(k, cfg, h, "open", actor, answer, n);
	case CMD_PROMOTE_STEP:
		if ((h = hook_of(cfg, HOOK_CONFIRM_TRAFFIC_INCREASE)) == NULL)
			break;
		if ((st = open_gate(k, cfg, h, "open", actor, answer, n)) == ST_OK)
			flagger_close_after_step(k, cfg, h);
		return st;
	case CMD_PROMOTE_FULL:
		if ((h = hook_of(cfg, HOOK_CONFIRM_PROMOTION)) != NULL)
			return open_gate(k, cfg, h, "open", actor, answer, n);
		if ((st = patch_spec(k, cfg, "skipAnalysis", true, answer, n)) == ST_OK)
			record(k, cfg, actor, "set spec.skipAnalysis: true (promote fully)");
		return st;
	case CMD_PAUSE:
	case CMD_RESUME:
		st = patch_spec(k, cfg, "suspend", !paused, answer, n);
		snprintf(what, sizeof what, "set spec.suspend: %s (%s)", paused ? "false" : "true",
		    paused ? "resume" : "suspend");
		if (st == ST_OK)
			record(k, cfg, actor, what);
		return st;
	case CMD_ROLLBACK:
		if ((h = hook_of(cfg, HOOK_ROLLBACK)) == NULL)
			break;
		return open_gate(k, cfg, h, "open", actor, answer, n);
	case CMD_RETRY:
		if ((st = retry(k, cfg, answer, n)) == ST_OK)
			record(k, cfg, actor, "annotated the target's pod template with perch.dev/retry "
			    "(retry: the canary pods restart)");
		return st;
	default:
		break;
	}
	snprintf(answer, n, "unavailable: Flagger offers nothing for %s here", command_name(kind));
	return ST_UNSUPPORTED;
}

/* ---- one step through a confirm-traffic-increase gate ----------------------- */

void
flagger_close_after_step(struct k8s_cluster *k, const struct canary_cfg *cfg,
    const struct hook_cfg *h)
{
	struct step_gate *s;
	struct k8s_err e;
	json_t *obj;

	if (k->n_steps == sizeof k->steps / sizeof k->steps[0])
		return;
	s = &k->steps[k->n_steps++];
	memset(s, 0, sizeof *s);
	snprintf(s->key, sizeof s->key, "%s/%s", cfg->ns, cfg->name);
	snprintf(s->hook, sizeof s->hook, "%s", h->name);
	s->weight = -1;
	if (cached_get(k, K8S_RES(CANARIES), cfg->ns, cfg->name, &obj, &e) == ST_OK) {
		s->weight = (int)json_integer_value(jpath(obj, "status.canaryWeight"));
		json_decref(obj);
	}
}

void
flagger_step_moved(struct k8s_cluster *k, const struct canary_cfg *cfg, int weight)
{
	char key[200], got[600];
	size_t i;

	snprintf(key, sizeof key, "%s/%s", cfg->ns, cfg->name);
	for (i = 0; i < k->n_steps; i++) {
		const struct hook_cfg *h = NULL;
		size_t j;

		if (strcmp(k->steps[i].key, key) != 0 || k->steps[i].weight == weight)
			continue;
		for (j = 0; j < cfg->n_hooks && h == NULL; j++)
			if (strcmp(cfg->hooks[j].name, k->steps[i].hook) == 0)
				h = &cfg->hooks[j];
		if (h != NULL && gate_call(k, cfg, h, "close", got, sizeof got) == ST_OK)
			record(k, cfg, "perch", "closed the gate again after one step");
		k->steps[i--] = k->steps[--k->n_steps];
	}
}
