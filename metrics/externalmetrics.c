/*
 * externalmetrics.c — the externalmetrics metric backend: the Kubernetes
 * External Metrics API (reference §4.11).  The query is
 * [<namespace>/]<metricName>[?labelSelector=<selector>]; perch asks GET
 * <address>/apis/external.metrics.k8s.io/v1beta1/namespaces/<ns>/<metric>
 * with the Secret's token as a bearer token, and reads items[0].value, a
 * Kubernetes quantity.  A block without an address asks the cluster's API
 * server through the connection app/ gives (metrics/kube.h), as Flagger
 * does with its own credentials.
 */
#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/externalmetrics.h"
#include "metrics/http_backend.h"
#include "metrics/kube.h"
#include "util/status.h"
#include "util/xalloc.h"

enum { KEY_TOKEN };

static const char *const secret_keys[] = { "token", NULL };

static const struct { const char *s; double f; } suffixes[] = {
	{ "n", 1e-9 }, { "u", 1e-6 }, { "m", 1e-3 }, { "", 1 }, { "k", 1e3 }, { "M", 1e6 },
	{ "G", 1e9 }, { "T", 1e12 }, { "P", 1e15 }, { "E", 1e18 },
	{ "Ki", 1024.0 }, { "Mi", 1048576.0 }, { "Gi", 1073741824.0 },
	{ "Ti", 1099511627776.0 }, { "Pi", 1125899906842624.0 }, { "Ei", 1152921504606846976.0 },
};

int
quantity_parse(const char *s, double *out)
{
	const char *p = s;
	char *end, num[64];
	size_t n, i;
	double v;

	if (*p == '+' || *p == '-')
		p++;
	while (isdigit((unsigned char)*p) || *p == '.')
		p++;
	if ((*p == 'e' || *p == 'E') && (isdigit((unsigned char)p[1]) ||
	    ((p[1] == '+' || p[1] == '-') && isdigit((unsigned char)p[2])))) {
		p += 2;
		while (isdigit((unsigned char)*p))
			p++;
	}
	n = (size_t)(p - s);
	if (n == 0 || n >= sizeof num)
		return ST_PARSE;
	memcpy(num, s, n);
	num[n] = '\0';
	v = strtod(num, &end);
	if (end == num || *end != '\0' || !isdigit((unsigned char)num[strspn(num, "+-.")]))
		return ST_PARSE;
	for (i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++)
		if (strcmp(p, suffixes[i].s) == 0) {
			*out = v * suffixes[i].f;
			return ST_OK;
		}
	return ST_PARSE;
}

void
externalmetrics_parse(const char *body, size_t len, struct metric_value *out)
{
	json_t *root = json_loadb(body, len, 0, NULL), *items, *v;
	const char *s;
	double x;

	if (!json_is_object(root)) {
		hb_result(out, CHECK_ERROR, "not an external metrics answer (%s)", root == NULL ?
		    "invalid JSON" : "not a JSON object");
		json_decref(root);
		return;
	}
	items = json_object_get(root, "items");
	if (items != NULL && !json_is_array(items))
		hb_result(out, CHECK_ERROR, "external metrics answer: items is not an array");
	else if (json_array_size(items) == 0)
		hb_result(out, CHECK_NODATA, "no values found (no items)");
	else if ((v = json_object_get(json_array_get(items, 0), "value")) == NULL)
		hb_result(out, CHECK_ERROR, "external metrics answer: items[0] has no value");
	else if ((s = json_string_value(v)) == NULL || quantity_parse(s, &x) != ST_OK)
		hb_result(out, CHECK_ERROR, "external metrics answer: items[0].value is not a "
		    "Kubernetes quantity");
	else
		hb_value(out, x);
	json_decref(root);
}

/* The API server's Status: {"kind":"Status","message":"..."}. */
static void
http_error(long code, const char *body, size_t len, struct metric_value *out)
{
	json_t *root = json_loadb(body, len, 0, NULL);
	const char *m = json_string_value(json_object_get(root, "message"));

	if (m != NULL)
		hb_result(out, CHECK_ERROR, "external metrics API: HTTP %ld: %s", code, m);
	else
		hb_result(out, CHECK_ERROR, "external metrics API: HTTP %ld: %.*s", code,
		    HB_BODY_SHOWN, body);
	json_decref(root);
}

/* The query's namespace (default: "default"), metric name and label
 * selector (the part after "labelSelector=", as written, or NULL). */
static int
split_query(const char *query, char **ns, char **name, char **sel, char *err, size_t errsz)
{
	size_t n = strlen(query), qi, slash;
	const char *s, *nm;
	char *q;

	while (n > 0 && isspace((unsigned char)query[n - 1]))	/* YAML's "|" adds a newline */
		n--;
	while (n > 0 && isspace((unsigned char)*query)) {
		query++;
		n--;
	}
	q = xasprintf("%.*s", (int)n, query);
	qi = strcspn(q, "?");
	s = q[qi] == '?' ? q + qi + 1 : NULL;
	q[qi] = '\0';
	slash = strcspn(q, "/");
	nm = q[slash] == '/' ? q + slash + 1 : q;
	if (q[slash] == '/')
		q[slash] = '\0';
	if (nm[0] == '\0' || strchr(nm, '/') != NULL || (nm != q && q[0] == '\0') ||
	    strpbrk(q, " \t") != NULL || strpbrk(nm, " \t") != NULL) {
		snprintf(err, errsz, "the external metrics query is not [<namespace>/]<metricName>"
		    "[?labelSelector=<selector>]");
		free(q);
		return ST_INVALID;
	}
	if (s != NULL && strncmp(s, "labelSelector=", 14) != 0) {
		snprintf(err, errsz, "the external metrics query may only have ?labelSelector=...");
		free(q);
		return ST_INVALID;
	}
	*ns = xstrdup(nm != q ? q : "default");
	*name = xstrdup(nm);
	*sel = s != NULL ? xstrdup(s + 14) : NULL;
	free(q);
	return ST_OK;
}

int
externalmetrics_path(const char *query, char **path, char *err, size_t errsz)
{
	char *ns, *name, *sel, *ens, *enm;

	if (split_query(query, &ns, &name, &sel, err, errsz) != ST_OK)
		return ST_INVALID;
	ens = hb_escape(ns);
	enm = hb_escape(name);
	*path = xasprintf("/apis/external.metrics.k8s.io/v1beta1/namespaces/%s/%s%s%s", ens, enm,
	    sel != NULL ? "?labelSelector=" : "", sel != NULL ? sel : "");
	free(ens);
	free(enm);
	free(ns);
	free(name);
	free(sel);
	return ST_OK;
}

static int
make_req(const struct hb_server *s, const char *query, struct hb_req *r, char *err,
    size_t errsz)
{
	size_t bl = strlen(s->address);
	char *path;

	if (externalmetrics_path(query, &path, err, errsz) != ST_OK)
		return ST_INVALID;
	while (bl > 0 && s->address[bl - 1] == '/')
		bl--;
	r->url = xasprintf("%.*s%s", (int)bl, s->address, path);
	free(path);
	if (s->secret[KEY_TOKEN] != NULL) {
		char *v = xasprintf("Bearer %s", s->secret[KEY_TOKEN]);

		hb_req_header(r, "Authorization", v);
		xfree_secret(v);
	}
	return ST_OK;
}

static int
request(const struct hb_server *s, const struct metric_query *q, int64_t now_s,
    struct hb_req *r, char *err, size_t errsz)
{
	(void)now_s;
	return make_req(s, q->query, r, err, errsz);
}

static int
probe_request(const struct hb_server *s, int64_t now_s, struct hb_req *r, char *err,
    size_t errsz)
{
	(void)now_s;
	return make_req(s, "kube-system/dummy-metric", r, err, errsz);
}

/* Online: the list answers (any error, a 404 too, is offline: §4.11). */
static bool
probe_ok(long code, const struct metric_value *v)
{
	(void)v;
	return code >= 200 && code < 300;
}

static const struct http_kind kind = {
	.label = "the external metrics API",
	.secret_keys = secret_keys,
	.timeout_ms = 5000,
	.request = request,
	.parse = externalmetrics_parse,
	.probe_request = probe_request,
	.probe_ok = probe_ok,
	.http_error = http_error,
};

/* The handle: the HTTP backend for the blocks with an address; the
 * cluster's API server (its own connection and credentials, as Flagger
 * does) for a block without one. */
struct em {
	void *hb;
	const struct metric_kube *kube;
	bool cluster;			/* a block without an address was added */
};

static void *
open_externalmetrics(const struct metric_backend_opts *o)
{
	struct em *e = xcalloc(1, sizeof *e);

	e->hb = hb_open(&kind, o);
	e->kube = o->kube;
	return e;
}

static void
close_externalmetrics(void *b)
{
	struct em *e = b;

	hb_close(e->hb);
	free(e);
}

static const char *
em_unusable(void *b)
{
	return hb_unusable(((struct em *)b)->hb);
}

static int
em_add(void *b, const struct metric_provider *p)
{
	struct em *e = b;

	if (p->address == NULL && e->kube != NULL) {
		e->cluster = true;
		return ST_OK;
	}
	return hb_add(e->hb, p);
}

/* Whether query q goes to the cluster's API server. */
static bool
via_cluster(const struct em *e, const struct metric_query *q)
{
	return e->cluster && (q->metric == NULL || q->metric->server == NULL);
}

/* GET the external metric of query through the cluster connection:
 * ST_OK, ST_PARSE (the query is not one), or the connection's status. */
static int
cluster_get(const struct em *e, const char *query, json_t **out, char *err, size_t errsz)
{
	struct metric_kube_res r = { "external.metrics.k8s.io", "v1beta1", NULL };
	char *ns, *name, *sel, *form;
	struct kv *kv = NULL;
	size_t nkv = 0;
	int st;

	*out = NULL;
	if (split_query(query, &ns, &name, &sel, err, errsz) != ST_OK)
		return ST_PARSE;
	form = sel != NULL ? xasprintf("s=%s", sel) : NULL;
	if (form != NULL && (hb_form_parse(form, &kv, &nkv) != 1 || kv[0].value[0] == '\0')) {
		snprintf(err, errsz, "the external metrics query's labelSelector is not form-encoded");
		st = ST_PARSE;
	} else {
		r.plural = hb_escape(name);
		st = e->kube->list(e->kube->ctx, &r, ns, nkv > 0 ? kv[0].value : NULL, out, err,
		    errsz);
		free((char *)r.plural);
	}
	hb_kv_free(kv, nkv);
	free(form);
	free(ns);
	free(name);
	free(sel);
	return st;
}

static void
cluster_eval(const struct em *e, const struct metric_query *q, struct metric_value *out)
{
	char err[ERRMSG_MAX] = "", *text;
	json_t *obj;
	int st = cluster_get(e, q->query, &obj, err, sizeof err);

	if (st == ST_PARSE) {
		hb_result(out, CHECK_ERROR, "%s", err);
		return;
	}
	if (st != ST_OK) {
		hb_result(out, CHECK_ERROR, "external metrics API: %s", err);
		out->unavailable = st == ST_NETWORK || st == ST_TIMEOUT || st == ST_HTTP;
		return;
	}
	text = json_dumps(obj, JSON_COMPACT);
	externalmetrics_parse(text, strlen(text), out);
	free(text);
	json_decref(obj);
}

static int
em_eval(void *b, const struct metric_query *q, size_t n, struct metric_value *out)
{
	struct em *e = b;
	struct metric_query *hq = xcalloc(n + 1, sizeof *hq);
	struct metric_value *hv = xcalloc(n + 1, sizeof *hv);
	size_t i, k = 0;
	int st = ST_OK;

	for (i = 0; i < n; i++) {
		if (via_cluster(e, &q[i]))
			cluster_eval(e, &q[i], &out[i]);
		else
			hq[k++] = q[i];
	}
	if (k > 0)
		st = hb_eval(e->hb, hq, k, hv);
	for (i = 0, k = 0; i < n; i++)
		if (!via_cluster(e, &q[i]))
			out[i] = hv[k++];
	free(hq);
	free(hv);
	return st;
}

/* The probe of a block without an address: the dummy metric through the
 * cluster, answered (§4.11). */
static int
em_probe(void *b, const char *address, char *err)
{
	struct em *e = b;
	json_t *obj;
	int st;

	if (address != NULL || !e->cluster)
		return hb_probe(e->hb, address, err);
	st = cluster_get(e, "kube-system/dummy-metric", &obj, err, ERRMSG_MAX);
	json_decref(obj);
	return st;
}

const struct metric_backend_ops externalmetrics_backend = {
	.type = MT_EXTERNALMETRICS,
	.secret_keys = secret_keys,
	.open = open_externalmetrics,
	.close = close_externalmetrics,
	.unusable = em_unusable,
	.check_secret = NULL,
	.add = em_add,
	.eval = em_eval,
	.probe = em_probe,
};
