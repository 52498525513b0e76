/*
 * keptn.c — the keptn metric backend (keptn.h): KeptnMetric values and
 * Analysis results through the cluster connection app/ gives.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics/http_backend.h"
#include "metrics/keptn.h"
#include "util/status.h"
#include "util/systime.h"
#include "util/xalloc.h"

#define KEPTN_MAX_PARTS 5

static const struct metric_kube_res metrics_res = { "metrics.keptn.sh", "v1beta1", "keptnmetrics" };
static const struct metric_kube_res analyses_res = { "metrics.keptn.sh", "v1beta1", "analyses" };

static const char *const format_help =
    "the keptn query is not <keptnmetric|analysis>/<namespace>/<name>[/<timeframe>[/<k=v;...>]]";

/* "k=v;k=v" into an object (pairs without exactly one '=' are skipped, as
 * Flagger does). */
static json_t *
parse_args(const char *s)
{
	json_t *args = json_object();
	char *copy = xstrdup(s), *save = NULL, *p;

	for (p = strtok_r(copy, ";", &save); p != NULL; p = strtok_r(NULL, ";", &save)) {
		char *eq = strchr(p, '=');

		if (eq == NULL || strchr(eq + 1, '=') != NULL)
			continue;
		*eq = '\0';
		json_object_set_new(args, p, json_string(eq + 1));
	}
	free(copy);
	return args;
}

/* The query lower-cased and trimmed, split on '/' into part[] (n parts). */
static size_t
split(char *s, char *part[KEPTN_MAX_PARTS])
{
	size_t n = 0;
	char *p = s;

	for (;;) {
		char *slash = strchr(p, '/');

		if (n < KEPTN_MAX_PARTS)
			part[n] = p;
		n++;
		if (slash == NULL)
			break;
		*slash = '\0';
		p = slash + 1;
	}
	return n;
}

static int
kind_of(const char *s, enum keptn_kind *k)
{
	if (strcmp(s, "keptnmetric") == 0 || strcmp(s, "keptnmetrics") == 0)
		*k = KEPTN_METRIC;
	else if (strcmp(s, "analysis") == 0 || strcmp(s, "analyses") == 0)
		*k = KEPTN_ANALYSIS;
	else
		return ST_INVALID;
	return ST_OK;
}

int
keptn_query_parse(const char *query, struct keptn_query *q, char *err, size_t errsz)
{
	size_t len = strlen(query), n, i;
	char *s, *part[KEPTN_MAX_PARTS];
	int st = ST_INVALID;

	memset(q, 0, sizeof *q);
	while (len > 0 && isspace((unsigned char)query[len - 1]))
		len--;
	while (len > 0 && isspace((unsigned char)*query)) {
		query++;
		len--;
	}
	s = xasprintf("%.*s", (int)len, query);
	for (i = 0; s[i] != '\0'; i++)
		s[i] = (char)tolower((unsigned char)s[i]);
	n = split(s, part);
	if (n < 3 || part[1][0] == '\0' || part[2][0] == '\0' || strpbrk(part[1], " \t\n") ||
	    strpbrk(part[2], " \t\n"))
		snprintf(err, errsz, "%s", format_help);
	else if (kind_of(part[0], &q->kind) != ST_OK)
		snprintf(err, errsz, "the keptn query's kind is not keptnmetric or analysis");
	else
		st = ST_OK;
	if (st == ST_OK) {
		q->ns = xstrdup(part[1]);
		q->name = xstrdup(part[2]);
		q->timeframe = xstrdup(n > 3 && part[3][0] != '\0' ? part[3] : "1m");
		q->args = n > 4 ? parse_args(part[4]) : json_object();
	}
	free(s);
	return st;
}

void
keptn_query_fini(struct keptn_query *q)
{
	free(q->ns);
	free(q->name);
	free(q->timeframe);
	json_decref(q->args);
	memset(q, 0, sizeof *q);
}

void
keptn_metric_value(const json_t *obj, struct metric_value *out)
{
	const json_t *status = json_object_get(obj, "status");
	const char *v = json_string_value(json_object_get(status, "value"));
	const char *why = json_string_value(json_object_get(status, "errMsg"));
	char *end;
	double x;

	if (v == NULL || v[0] == '\0') {
		hb_result(out, CHECK_ERROR, "no value (status.value)%s%s",
		    why != NULL && why[0] != '\0' ? ": " : "", why != NULL ? why : "");
		return;
	}
	errno = 0;
	x = strtod(v, &end);
	if (end == v || *end != '\0' || isnan(x))
		hb_result(out, CHECK_ERROR, "status.value is not a number: %.40s", v);
	else
		hb_value(out, x);
}

bool
keptn_analysis_done(const json_t *obj, struct metric_value *out)
{
	const json_t *status = json_object_get(obj, "status");
	const char *state = json_string_value(json_object_get(status, "state"));
	const json_t *pass = json_object_get(status, "pass");

	if (state == NULL || strcmp(state, "Completed") != 0)
		return false;
	hb_value(out, json_is_true(pass) ? 1 : 0);	/* Keptn omits a false pass */
	return true;
}

/* The handle: the cluster connection, or NULL. */
struct keptn {
	const struct metric_kube *kube;
};

static void *
keptn_open(const struct metric_backend_opts *o)
{
	struct keptn *k = xcalloc(1, sizeof *k);

	k->kube = o->kube;
	return k;
}

static void
keptn_close(void *b)
{
	free(b);
}

static const char *
keptn_unusable(void *b)
{
	const struct keptn *k = b;

	return k->kube != NULL ? NULL : "keptn templates read the cluster's Keptn objects: no "
	    "cluster given (--kubeconfig, --context or -n)";
}

/* Every block is the same: the cluster. */
static int
keptn_add(void *b, const struct metric_provider *p)
{
	(void)b;
	(void)p;
	return ST_OK;
}

/* An error of the cluster connection into out. */
static void
kube_error(struct metric_value *out, int st, const char *what, const struct keptn_query *q,
    const char *err)
{
	hb_result(out, CHECK_ERROR, "%s %s/%s: %s", what, q->ns, q->name,
	    st == ST_NOTFOUND ? "not found" : err);
	out->unavailable = st == ST_NETWORK || st == ST_TIMEOUT;
}

static void
read_metric(const struct metric_kube *kube, const struct keptn_query *q, struct metric_value *out)
{
	char err[ERRMSG_MAX] = "";
	json_t *obj = NULL;
	int st = kube->get(kube->ctx, &metrics_res, q->ns, q->name, &obj, err, sizeof err);

	if (st != ST_OK) {
		kube_error(out, st, "KeptnMetric", q, err);
		return;
	}
	keptn_metric_value(obj, out);
	if (out->result == CHECK_ERROR) {
		char msg[ERRMSG_MAX];

		snprintf(msg, sizeof msg, "%s", out->err);
		hb_result(out, CHECK_ERROR, "KeptnMetric %s/%s: %s", q->ns, q->name, msg);
	}
	json_decref(obj);
}

/* "<name>-" and the first 6 hex digits of a random UUID. */
static char *
analysis_name(const char *name)
{
	unsigned char r[3] = { 0x5a, 0x5a, 0x5a };
	FILE *f = fopen("/dev/urandom", "rb");

	if (f != NULL) {
		if (fread(r, 1, sizeof r, f) != sizeof r)
			r[0] ^= (unsigned char)clock_monotonic_ms();
		fclose(f);
	}
	return xasprintf("%s-%02x%02x%02x", name, r[0], r[1], r[2]);
}

static json_t *
analysis_obj(const struct keptn_query *q, const char *name)
{
	return json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:{s:s}, s:{s:s}, s:O}}",
	    "apiVersion", "metrics.keptn.sh/v1beta1", "kind", "Analysis",
	    "metadata", "name", name, "namespace", q->ns,
	    "spec", "analysisDefinition", "name", q->name, "timeframe", "recent", q->timeframe,
	    "args", q->args);
}

static void
nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Reads Analysis name every KEPTN_POLL_MS until it is done or the wait is over. */
static void
await_analysis(const struct metric_kube *kube, const struct keptn_query *q, const char *name,
    struct metric_value *out)
{
	int64_t until = clock_monotonic_ms() + KEPTN_ANALYSIS_WAIT_MS;
	char err[ERRMSG_MAX];

	while (clock_monotonic_ms() < until) {
		json_t *obj = NULL;
		int st;
		bool done;

		nap_ms(KEPTN_POLL_MS);
		st = kube->get(kube->ctx, &analyses_res, q->ns, name, &obj, err, sizeof err);
		if (st != ST_OK && st != ST_NETWORK && st != ST_TIMEOUT) {
			kube_error(out, st, "Analysis", q, err);
			return;
		}
		done = st == ST_OK && keptn_analysis_done(obj, out);
		json_decref(obj);
		if (done)
			return;
	}
	hb_result(out, CHECK_ERROR, "encountered timeout while waiting for Keptn Analysis %s/%s "
	    "(%d s)", q->ns, name, KEPTN_ANALYSIS_WAIT_MS / 1000);
}

static void
run_analysis(const struct metric_kube *kube, const struct keptn_query *q, struct metric_value *out)
{
	char err[ERRMSG_MAX] = "", *name = analysis_name(q->name);
	json_t *obj = analysis_obj(q, name);
	int st = kube->create(kube->ctx, &analyses_res, q->ns, obj, err, sizeof err);

	json_decref(obj);
	if (st != ST_OK) {
		kube_error(out, st, "Analysis", q, err);
		free(name);
		return;
	}
	await_analysis(kube, q, name, out);
	kube->del(kube->ctx, &analyses_res, q->ns, name, err, sizeof err);
	free(name);
}

static void
eval_one(const struct keptn *k, const struct metric_query *q, struct metric_value *out)
{
	struct keptn_query kq;
	char err[ERRMSG_MAX];

	if (keptn_query_parse(q->query, &kq, err, sizeof err) != ST_OK) {
		hb_result(out, CHECK_ERROR, "%s", err);
		return;
	}
	if (kq.kind == KEPTN_METRIC)
		read_metric(k->kube, &kq, out);
	else
		run_analysis(k->kube, &kq, out);
	keptn_query_fini(&kq);
}

static int
keptn_eval(void *b, const struct metric_query *q, size_t n, struct metric_value *out)
{
	const struct keptn *k = b;
	size_t i;

	for (i = 0; i < n; i++) {
		if (k->kube == NULL)
			hb_result(&out[i], CHECK_ERROR, "%s", keptn_unusable(b));
		else
			eval_one(k, &q[i], &out[i]);
	}
	return k->kube == NULL ? ST_UNSUPPORTED : ST_OK;
}

/* Flagger's IsOnline is always true: online when there is a cluster. */
static int
keptn_probe(void *b, const char *address, char *err)
{
	(void)address;
	if (keptn_unusable(b) == NULL)
		return ST_OK;
	snprintf(err, ERRMSG_MAX, "%s", keptn_unusable(b));
	return ST_UNSUPPORTED;
}

const struct metric_backend_ops keptn_backend = {
	.type = MT_KEPTN,
	.open = keptn_open,
	.close = keptn_close,
	.unusable = keptn_unusable,
	.add = keptn_add,
	.eval = keptn_eval,
	.probe = keptn_probe,
};
