/*
 * codec.c — canary_status, canary_cfg and journal records to and from
 * JSON for the state directory (see codec.h).
 *
 * Structs are described by field tables (name, type, offset), so that
 * encoding and decoding read the same list and cannot drift apart.  Names
 * follow Flagger's status where one exists (canaryWeight, failedChecks,
 * lastAppliedSpec, ...).
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/codec.h"
#include "util/sanitize.h"
#include "util/status.h"
#include "util/systime.h"
#include "util/xalloc.h"

enum ftype { F_INT, F_BOOL, F_UINT, F_I64, F_U64, F_STR, F_DSTR, F_DBL, F_PHASE,
	F_STRATEGY, F_NODATA, F_METRIC_KIND, F_HOOK_TYPE, F_GATE,
	F_OVERRIDE };

/* What a canary waits for, as saved. */
static const char *const gate_names[] = { "none", "rollout", "promotion", "traffic" };

struct field {
	const char *name;
	enum ftype type;
	size_t off;
	size_t size;		/* F_STR: capacity of the char array */
	int optional;		/* may be null/missing: F_DSTR stays NULL, others zero */
};

#define FLD(st, m, t) { #m, t, offsetof(st, m), sizeof(((st *)0)->m), 0 }
#define FLDN(name, st, m, t) { name, t, offsetof(st, m), sizeof(((st *)0)->m), 0 }
#define FLDO(name, st, m, t) { name, t, offsetof(st, m), sizeof(((st *)0)->m), 1 }

static const struct field status_fields[] = {
	FLDN("phase", struct canary_status, phase, F_PHASE),
	FLDN("canaryWeight", struct canary_status, canary_weight, F_INT),
	FLDN("failedChecks", struct canary_status, failed_checks, F_INT),
	FLDN("iterations", struct canary_status, iterations, F_INT),
	FLDN("mirrored", struct canary_status, mirrored, F_BOOL),
	FLDN("paused", struct canary_status, paused, F_BOOL),
	FLDN("skipRequested", struct canary_status, skip_requested, F_BOOL),
	FLDN("approved", struct canary_status, approved, F_UINT),
	FLDN("lastAppliedSpec", struct canary_status, last_applied, F_STR),
	FLDN("lastPromotedSpec", struct canary_status, last_promoted, F_STR),
	FLDN("failedRevision", struct canary_status, failed_revision, F_STR),
	FLDN("lastTransitionMs", struct canary_status, last_transition_ms, F_I64),
	FLDN("phaseSinceMs", struct canary_status, phase_since_ms, F_I64),
	FLDN("holdSinceMs", struct canary_status, hold_since_ms, F_I64),
	FLDN("waitSinceMs", struct canary_status, wait_since_ms, F_I64),
	FLDN("nextTickMs", struct canary_status, next_tick_ms, F_I64),
	FLDN("seq", struct canary_status, seq, F_U64),
	FLDN("reason", struct canary_status, reason, F_STR),
	/* Absent in state saved before session affinity: "". */
	FLDO("sessionAffinityCookie", struct canary_status, affinity_cookie, F_STR),
	FLDO("primarySessionAffinityCookie", struct canary_status, primary_affinity_cookie, F_STR),
	FLDO("previousSessionAffinityCookie", struct canary_status, previous_affinity_cookie, F_STR),
	/* Absent in state saved before the screens read them: unset. */
	FLDO("held", struct canary_status, held, F_BOOL),
	FLDO("gate", struct canary_status, gate, F_GATE),
	FLDO("appliedName", struct canary_status, applied_name, F_STR),
	FLDO("promotedName", struct canary_status, promoted_name, F_STR),
	FLDO("runSinceMs", struct canary_status, run_since_ms, F_I64),
	FLDO("lastOutcome", struct canary_status, last_phase, F_PHASE),
	FLDO("lastOutcomeMs", struct canary_status, last_end_ms, F_I64),
	FLDO("lastOutcomeReason", struct canary_status, last_reason, F_STR),
	/* Absent in state saved before they were kept: none. */
	FLDO("lastFailure", struct canary_status, last_failure, F_STR),
	FLDO("lastFailureMs", struct canary_status, last_failure_ms, F_I64),
	FLDO("override", struct canary_status, override, F_OVERRIDE),
	FLDO("overrideBy", struct canary_status, override_by, F_STR),
	FLDO("overrideMs", struct canary_status, override_ms, F_I64),
	FLDO("overrideFailedChecks", struct canary_status, override_failed, F_INT),
	FLDO("overrideThreshold", struct canary_status, override_threshold, F_INT),
};

static const struct field cfg_fields[] = {
	FLDN("namespace", struct canary_cfg, ns, F_DSTR),
	FLDN("name", struct canary_cfg, name, F_DSTR),
	FLDO("target", struct canary_cfg, target, F_DSTR),
	FLDO("targetKind", struct canary_cfg, target_kind, F_DSTR),
	FLDO("service", struct canary_cfg, service, F_DSTR),
	FLDO("provider", struct canary_cfg, provider, F_DSTR),
	FLDN("port", struct canary_cfg, port, F_INT),
	FLDN("strategy", struct canary_cfg, strategy, F_STRATEGY),
	FLDN("interval", struct canary_cfg, interval_s, F_INT),
	FLDN("threshold", struct canary_cfg, threshold, F_INT),
	FLDN("maxWeight", struct canary_cfg, max_weight, F_INT),
	FLDN("stepWeight", struct canary_cfg, step_weight, F_INT),
	FLDN("stepWeightPromotion", struct canary_cfg, step_weight_promotion, F_INT),
	FLDN("iterations", struct canary_cfg, iterations, F_INT),
	FLDN("mirror", struct canary_cfg, mirror, F_BOOL),
	FLDN("mirrorWeight", struct canary_cfg, mirror_weight, F_INT),
	FLDN("primaryReadyThreshold", struct canary_cfg, primary_ready_threshold, F_INT),
	FLDN("canaryReadyThreshold", struct canary_cfg, canary_ready_threshold, F_INT),
	FLDN("progressDeadline", struct canary_cfg, progress_deadline_s, F_INT),
	FLDN("skipAnalysis", struct canary_cfg, skip_analysis, F_BOOL),
	FLDN("suspend", struct canary_cfg, suspend, F_BOOL),
	FLDN("noDataPolicy", struct canary_cfg, nodata, F_NODATA),
	FLDN("minRequests", struct canary_cfg, min_requests, F_DBL),
	FLDN("confirm", struct canary_cfg, confirm, F_UINT),
	FLDO("order", struct canary_cfg, order, F_INT),
};

static const struct field metric_fields[] = {
	FLDN("name", struct metric_cfg, name, F_DSTR),
	FLDN("kind", struct metric_cfg, kind, F_METRIC_KIND),
	FLDN("intervalSeconds", struct metric_cfg, interval_s, F_INT),
	FLDO("interval", struct metric_cfg, interval, F_DSTR),
	FLDO("query", struct metric_cfg, query, F_DSTR),
	FLDO("volumeQuery", struct metric_cfg, volume_query, F_DSTR),
	FLDO("server", struct metric_cfg, server, F_DSTR),
	FLDO("templateRef", struct metric_cfg, template_ref, F_DSTR),
};

static const struct field hook_fields[] = {
	FLDO("name", struct hook_cfg, name, F_DSTR),
	FLDO("url", struct hook_cfg, url, F_DSTR),
	FLDN("type", struct hook_cfg, type, F_HOOK_TYPE),
	FLDN("timeoutMs", struct hook_cfg, timeout_ms, F_INT),
	FLDN("retries", struct hook_cfg, retries, F_INT),
	FLDN("muteAlert", struct hook_cfg, mute_alert, F_BOOL),
	FLDN("disableTLS", struct hook_cfg, disable_tls, F_BOOL),
};

#define NFIELDS(t) (sizeof(t) / sizeof((t)[0]))

/* ---- generic field encoding --------------------------------------------- */

static const char *
enum_name(enum ftype t, int v)
{
	switch (t) {
	case F_PHASE:		return phase_name((enum phase)v);
	case F_STRATEGY:	return strategy_name((enum strategy)v);
	case F_NODATA:		return nodata_policy_name((enum nodata_policy)v);
	case F_METRIC_KIND:	return metric_kind_name((enum metric_kind)v);
	case F_HOOK_TYPE:	return hook_type_name((enum hook_type)v);
	case F_GATE:		return v >= 0 && v <= GATE_TRAFFIC ? gate_names[v] : "none";
	case F_OVERRIDE:	return override_name((enum override_kind)v);
	default:		return "?";
	}
}

static int
enum_value(enum ftype t, const char *s)
{
	int i;

	switch (t) {
	case F_PHASE:		return phase_from_name(s);
	case F_NODATA:		return nodata_policy_from_name(s);
	case F_HOOK_TYPE:	return s[0] == '\0' ? -1 : hook_type_from_name(s);
	case F_OVERRIDE:	return override_from_name(s);
	case F_STRATEGY:
		for (i = 0; i < STRATEGY__COUNT; i++)
			if (strcmp(strategy_name((enum strategy)i), s) == 0)
				return i;
		return -1;
	case F_METRIC_KIND:
		for (i = 0; i < METRIC__COUNT; i++)
			if (strcmp(metric_kind_name((enum metric_kind)i), s) == 0)
				return i;
		return -1;
	case F_GATE:
		for (i = 0; i <= GATE_TRAFFIC; i++)
			if (strcmp(gate_names[i], s) == 0)
				return i;
		return -1;
	default:
		return -1;
	}
}

static json_t *
field_to_json(const struct field *f, const void *base)
{
	const char *p = (const char *)base + f->off;
	const char *s;

	switch (f->type) {
	case F_INT:	return json_integer(*(const int *)(const void *)p);
	case F_UINT:	return json_integer(*(const unsigned *)(const void *)p);
	case F_BOOL:	return json_boolean(*(const bool *)(const void *)p);
	case F_I64:	return json_integer(*(const int64_t *)(const void *)p);
	case F_U64:	return json_integer((json_int_t)*(const uint64_t *)(const void *)p);
	case F_DBL: {
		double d = *(const double *)(const void *)p;
		return isfinite(d) ? json_real(d) : json_null();
	}
	case F_STR:	return json_string(p);
	case F_DSTR:
		s = *(char *const *)(const void *)p;
		return s != NULL ? json_string(s) : json_null();
	default:
		return json_string(enum_name(f->type, *(const int *)(const void *)p));
	}
}

static void
fields_to_json(json_t *o, const struct field *fs, size_t n, const void *base)
{
	size_t i;

	for (i = 0; i < n; i++)
		json_object_set_new(o, fs[i].name, field_to_json(&fs[i], base));
}

static int
bad(char *err, size_t errsz, const char *what, const char *name, const char *why)
{
	snprintf(err, errsz, "%s field \"%s\" %s", what, name, why);
	return ST_CORRUPT;
}

static int
field_from_json(const struct field *f, const json_t *v, void *base, const char *what,
    char *err, size_t errsz)
{
	char *p = (char *)base + f->off;
	int e;

	if (v == NULL || json_is_null(v)) {
		if (f->optional)
			return ST_OK;
		return bad(err, errsz, what, f->name, v == NULL ? "is missing" : "is null");
	}
	switch (f->type) {
	case F_INT: case F_UINT: case F_I64: case F_U64:
		if (!json_is_integer(v))
			return bad(err, errsz, what, f->name, "is not an integer");
		if ((f->type == F_INT && (json_integer_value(v) < INT_MIN ||
		    json_integer_value(v) > INT_MAX)) ||
		    (f->type == F_UINT && (json_integer_value(v) < 0 ||
		    json_integer_value(v) > (json_int_t)UINT_MAX)))
			return bad(err, errsz, what, f->name, "is out of range");
		if (f->type == F_INT)
			*(int *)(void *)p = (int)json_integer_value(v);
		else if (f->type == F_UINT)
			*(unsigned *)(void *)p = (unsigned)json_integer_value(v);
		else if (f->type == F_I64)
			*(int64_t *)(void *)p = json_integer_value(v);
		else
			*(uint64_t *)(void *)p = (uint64_t)json_integer_value(v);
		return ST_OK;
	case F_BOOL:
		if (!json_is_boolean(v))
			return bad(err, errsz, what, f->name, "is not a boolean");
		*(bool *)(void *)p = json_is_true(v);
		return ST_OK;
	case F_DBL:
		if (!json_is_number(v))
			return bad(err, errsz, what, f->name, "is not a number");
		*(double *)(void *)p = json_number_value(v);
		return ST_OK;
	case F_STR:
		if (!json_is_string(v))
			return bad(err, errsz, what, f->name, "is not a string");
		if (json_string_length(v) >= f->size)
			return bad(err, errsz, what, f->name, "is too long");
		memcpy(p, json_string_value(v), json_string_length(v) + 1);
		return ST_OK;
	case F_DSTR:
		if (!json_is_string(v))
			return bad(err, errsz, what, f->name, "is not a string");
		*(char **)(void *)p = xstrdup(json_string_value(v));
		return ST_OK;
	default:
		e = json_is_string(v) ? enum_value(f->type, json_string_value(v)) : -1;
		if (e < 0)
			return bad(err, errsz, what, f->name, "has an unknown value");
		*(int *)(void *)p = e;
		return ST_OK;
	}
}

static int
fields_from_json(const json_t *o, const struct field *fs, size_t n, void *base,
    const char *what, char *err, size_t errsz)
{
	size_t i;
	int st;

	for (i = 0; i < n; i++) {
		st = field_from_json(&fs[i], json_object_get(o, fs[i].name), base, what, err, errsz);
		if (st != ST_OK)
			return st;
	}
	return ST_OK;
}

/* ---- status ------------------------------------------------------------- */

json_t *
status_to_json(const struct canary_status *st)
{
	json_t *o = json_object();

	fields_to_json(o, status_fields, NFIELDS(status_fields), st);
	return o;
}

int
status_from_json(const json_t *o, struct canary_status *out, char *err, size_t errsz)
{
	memset(out, 0, sizeof *out);
	if (!json_is_object(o)) {
		snprintf(err, errsz, "status is not an object");
		return ST_CORRUPT;
	}
	return fields_from_json(o, status_fields, NFIELDS(status_fields), out, "status", err, errsz);
}

/* ---- spec --------------------------------------------------------------- */

static json_t *
bound_json(bool has, double v)
{
	return has && isfinite(v) ? json_real(v) : json_null();
}

static json_t *
metric_to_json(const struct metric_cfg *m)
{
	json_t *o = json_object();

	fields_to_json(o, metric_fields, NFIELDS(metric_fields), m);
	json_object_set_new(o, "min", bound_json(m->has_min, m->min));
	json_object_set_new(o, "max", bound_json(m->has_max, m->max));
	return o;
}

/* The URL without "user:password@": secrets stay out of the state dir. */
static char *
url_without_userinfo(const char *url)
{
	const char *host = url != NULL ? strstr(url, "://") : NULL;
	const char *at, *slash;

	if (host == NULL)
		return url != NULL ? xstrdup(url) : NULL;
	host += 3;
	slash = host + strcspn(host, "/?#");
	at = memchr(host, '@', (size_t)(slash - host));
	if (at == NULL)
		return xstrdup(url);
	return xasprintf("%.*s%s", (int)(host - url), url, at + 1);
}

/* Webhook metadata is not saved: it often carries tokens, and no screen
 * shows it. */
static json_t *
hook_to_json(const struct hook_cfg *h)
{
	struct hook_cfg copy = *h;
	json_t *o = json_object();

	copy.url = url_without_userinfo(h->url);
	fields_to_json(o, hook_fields, NFIELDS(hook_fields), &copy);
	free(copy.url);
	return o;
}

json_t *
spec_to_json(const struct canary_cfg *c)
{
	json_t *o = json_object(), *a;
	size_t i;

	fields_to_json(o, cfg_fields, NFIELDS(cfg_fields), c);
	a = json_array();
	for (i = 0; i < c->n_step_weights; i++)
		json_array_append_new(a, json_integer(c->step_weights[i]));
	json_object_set_new(o, "stepWeights", a);
	a = json_array();
	for (i = 0; i < c->n_metrics; i++)
		json_array_append_new(a, metric_to_json(&c->metrics[i]));
	json_object_set_new(o, "metrics", a);
	a = json_array();
	for (i = 0; i < c->n_hooks; i++)
		json_array_append_new(a, hook_to_json(&c->hooks[i]));
	json_object_set_new(o, "webhooks", a);
	return o;
}

static int
bound_from_json(const json_t *o, const char *key, bool *has, double *v, char *err, size_t errsz)
{
	const json_t *b = json_object_get(o, key);

	*has = false;
	if (b == NULL || json_is_null(b))
		return ST_OK;
	if (!json_is_number(b))
		return bad(err, errsz, "metric", key, "is not a number");
	*has = true;
	*v = json_number_value(b);
	return ST_OK;
}

/* Decodes the arrays of a spec; c already has its scalar fields. */
static int
spec_arrays_from_json(const json_t *o, struct canary_cfg *c, char *err, size_t errsz)
{
	const json_t *a = json_object_get(o, "stepWeights"), *e;
	size_t i;
	int st = ST_OK;

	if (!json_is_array(a))
		return bad(err, errsz, "spec", "stepWeights", "is not an array");
	c->step_weights = xcalloc(json_array_size(a) + 1, sizeof *c->step_weights);
	json_array_foreach(a, i, e) {
		if (!json_is_integer(e))
			return bad(err, errsz, "spec", "stepWeights", "has a non-integer entry");
		c->step_weights[c->n_step_weights++] = (int)json_integer_value(e);
	}
	a = json_object_get(o, "metrics");
	if (!json_is_array(a))
		return bad(err, errsz, "spec", "metrics", "is not an array");
	c->metrics = xcalloc(json_array_size(a) + 1, sizeof *c->metrics);
	json_array_foreach(a, i, e) {
		struct metric_cfg *m = &c->metrics[c->n_metrics++];

		if (!json_is_object(e))
			return bad(err, errsz, "spec", "metrics", "has an entry that is not an object");
		st = fields_from_json(e, metric_fields, NFIELDS(metric_fields), m, "metric", err, errsz);
		if (st == ST_OK)
			st = bound_from_json(e, "min", &m->has_min, &m->min, err, errsz);
		if (st == ST_OK)
			st = bound_from_json(e, "max", &m->has_max, &m->max, err, errsz);
		if (st != ST_OK)
			return st;
	}
	a = json_object_get(o, "webhooks");
	if (!json_is_array(a))
		return bad(err, errsz, "spec", "webhooks", "is not an array");
	c->hooks = xcalloc(json_array_size(a) + 1, sizeof *c->hooks);
	json_array_foreach(a, i, e) {
		struct hook_cfg *h = &c->hooks[c->n_hooks++];

		if (!json_is_object(e))
			return bad(err, errsz, "spec", "webhooks", "has an entry that is not an object");
		st = fields_from_json(e, hook_fields, NFIELDS(hook_fields), h, "webhook", err, errsz);
		if (st != ST_OK)
			return st;
	}
	return ST_OK;
}

int
spec_from_json(const json_t *o, struct canary_cfg **out, char *err, size_t errsz)
{
	struct canary_cfg *c;
	int st;

	*out = NULL;
	if (!json_is_object(o)) {
		snprintf(err, errsz, "spec is not an object");
		return ST_CORRUPT;
	}
	c = xcalloc(1, sizeof *c);
	st = fields_from_json(o, cfg_fields, NFIELDS(cfg_fields), c, "spec", err, errsz);
	if (st == ST_OK)
		st = spec_arrays_from_json(o, c, err, errsz);
	if (st != ST_OK) {
		canary_cfg_free(c);
		return st;
	}
	*out = c;
	return ST_OK;
}

/* ---- journal ------------------------------------------------------------ */

int
rfc3339_parse_ms(const char *s, int64_t *ms)
{
	struct tm tm;
	const char *p;
	int frac = 0, digits = 0;

	memset(&tm, 0, sizeof tm);
	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (p == NULL)
		return ST_PARSE;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, digits++)
			if (digits < 3)
				frac = frac * 10 + (*p - '0');
		if (digits == 0)
			return ST_PARSE;
		for (; digits < 3; digits++)
			frac *= 10;
	}
	if (strcmp(p, "Z") != 0)
		return ST_PARSE;
	*ms = (int64_t)timegm(&tm) * 1000 + frac;
	return ST_OK;
}

/* A string member: sanitized for display; stored as it is, unless it is
 * not valid UTF-8 (jansson refuses it, and the key would be lost). */
static json_t *
str_json(const char *s, enum journal_form form)
{
	char clean[512];
	json_t *v = form == JOURNAL_STORED ? json_string(s) : NULL;

	if (v == NULL) {
		sanitize(clean, sizeof clean, s, strlen(s));
		v = json_string(clean);
	}
	return v;
}

/* An optional number: null when absent or not finite; rounded to three
 * decimals for display ("99.95", not "99.950000000000003"). */
static json_t *
num_json(bool has, double v, enum journal_form form)
{
	if (!has || !isfinite(v))
		return json_null();
	/* v * 1000 of a huge value is infinite, which JSON cannot hold */
	return json_real(form == JOURNAL_DISPLAY && fabs(v) < 1e15 ? round(v * 1000.0) / 1000.0 : v);
}

/* One side's samples of a compare record (NaN as null). */
static json_t *
samples_json(const double *v, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < n && i < JOURNAL_SAMPLES_MAX; i++)
		json_array_append_new(a, num_json(true, v[i], JOURNAL_STORED));
	return a;
}

/* A compare record (a metric judged against the primary) or a score
 * record (the canary's comparison), as perch check prints them. */
static void
compare_to_json(json_t *o, const struct journal_rec *r, enum journal_form form)
{
	if (r->kind == REC_COMPARE) {
		json_object_set_new(o, "kind", json_string("compare"));
		json_object_set_new(o, "metric", str_json(r->metric, form));
		json_object_set_new(o, "classification", json_string(judge_class_name(r->judge_class)));
		json_object_set_new(o, "canaryMedian", num_json(true, r->canary_median, form));
		json_object_set_new(o, "primaryMedian", num_json(true, r->primary_median, form));
		json_object_set_new(o, "effectSize", num_json(true, r->effect, form));
		if (form == JOURNAL_STORED) {	/* the graph's distributions, for perch watch */
			json_object_set_new(o, "canarySamples", samples_json(r->canary_samples, r->n_canary));
			json_object_set_new(o, "primarySamples", samples_json(r->primary_samples, r->n_primary));
		}
	} else {
		json_object_set_new(o, "kind", json_string("score"));
		json_object_set_new(o, "score", num_json(true, r->value, form));
		json_object_set_new(o, "result", json_string(judge_verdict_name(r->verdict)));
	}
	json_object_set_new(o, "reason", r->message[0] ? str_json(r->message, form) : json_null());
}

json_t *
journal_to_json_form(const struct journal_rec *r, enum journal_form form)
{
	bool stored = form == JOURNAL_STORED;
	json_t *o = json_object();
	char t[40];

	if (stored)
		clock_format_rfc3339_ms(r->time_ms, t, sizeof t);
	else
		clock_format_rfc3339(r->time_ms, t, sizeof t);
	json_object_set_new(o, "time", json_string(t));
	json_object_set_new(o, "canary", str_json(r->canary, form));
	if (r->kind == REC_COMPARE || r->kind == REC_SCORE) {
		compare_to_json(o, r, form);
		if (!stored)
			return o;
	}
	if (r->kind == REC_CHECK) {
		json_object_set_new(o, "kind", json_string("check"));
		json_object_set_new(o, "metric", str_json(r->metric, form));
		json_object_set_new(o, "value", num_json(r->has_value, r->value, form));
		json_object_set_new(o, "min", num_json(r->has_min, r->min, form));
		json_object_set_new(o, "max", num_json(r->has_max, r->max, form));
		json_object_set_new(o, "result", json_string(check_result_name(r->result)));
		if (!stored)
			return o;
		if (r->has_volume)	/* for perch replay's minimum-traffic guard */
			json_object_set_new(o, "volume", num_json(true, r->volume, form));
	}
	json_object_set_new(o, "phase", json_string(phase_name(r->phase)));
	json_object_set_new(o, "weight", json_integer(r->weight));
	json_object_set_new(o, "failedChecks", json_integer(r->failed_checks));
	json_object_set_new(o, "iteration", json_integer(r->iteration));
	if (r->kind != REC_EVENT)
		return o;
	json_object_set_new(o, "type", stored || r->type[0] != '\0' ? str_json(r->type, form) :
	    json_string(severity_name(r->severity)));
	if (stored)
		json_object_set_new(o, "severity", json_string(severity_name(r->severity)));
	json_object_set_new(o, "reason", str_json(r->reason, form));
	json_object_set_new(o, "message", str_json(r->message, form));
	if (stored)
		json_object_set_new(o, "actor", str_json(r->actor, form));
	return o;
}

json_t *
journal_to_json(const struct journal_rec *r)
{
	return journal_to_json_form(r, JOURNAL_STORED);
}

/* Copies an optional string member (missing = ""); ST_CORRUPT if not a string. */
static int
get_str(const json_t *o, const char *key, char *dst, size_t dstsz, char *err, size_t errsz)
{
	const json_t *v = json_object_get(o, key);

	dst[0] = '\0';
	if (v == NULL)
		return ST_OK;
	if (!json_is_string(v))
		return bad(err, errsz, "journal", key, "is not a string");
	snprintf(dst, dstsz, "%s", json_string_value(v));
	return ST_OK;
}

static int
get_opt_real(const json_t *o, const char *key, bool *has, double *v, char *err, size_t errsz)
{
	const json_t *j = json_object_get(o, key);

	*has = false;
	if (j == NULL || json_is_null(j))
		return ST_OK;
	if (!json_is_number(j))
		return bad(err, errsz, "journal", key, "is not a number");
	*has = true;
	*v = json_number_value(j);
	return ST_OK;
}

static int
enum_member(const json_t *o, const char *key, const char *const *names, int count, int *out)
{
	const char *s = json_string_value(json_object_get(o, key));
	int i;

	for (i = 0; s != NULL && i < count; i++)
		if (strcmp(names[i], s) == 0) {
			*out = i;
			return ST_OK;
		}
	return ST_CORRUPT;
}

static int
journal_check_from_json(const json_t *o, struct journal_rec *r, char *err, size_t errsz)
{
	static const char *const results[] = {
#define X(id, text) text,
		CHECK_RESULT_LIST(X)
#undef X
	};
	int v, st;

	r->kind = REC_CHECK;
	if ((st = get_str(o, "metric", r->metric, sizeof r->metric, err, errsz)) != ST_OK ||
	    (st = get_opt_real(o, "value", &r->has_value, &r->value, err, errsz)) != ST_OK ||
	    (st = get_opt_real(o, "min", &r->has_min, &r->min, err, errsz)) != ST_OK ||
	    (st = get_opt_real(o, "max", &r->has_max, &r->max, err, errsz)) != ST_OK ||
	    (st = get_opt_real(o, "volume", &r->has_volume, &r->volume, err, errsz)) != ST_OK)
		return st;
	if (enum_member(o, "result", results, CHECK__COUNT, &v) != ST_OK)
		return bad(err, errsz, "journal", "result", "is missing or unknown");
	r->result = (enum check_result)v;
	return ST_OK;
}

static int
name_member(const json_t *o, const char *key, const char *(*name)(int), int count, int *out)
{
	const char *s = json_string_value(json_object_get(o, key));
	int i;

	for (i = 0; s != NULL && i < count; i++)
		if (strcmp(name(i), s) == 0) {
			*out = i;
			return ST_OK;
		}
	return ST_CORRUPT;
}

static const char *
class_name(int i)
{
	return judge_class_name((enum judge_class)i);
}

static const char *
verdict_name(int i)
{
	return judge_verdict_name((enum judge_verdict)i);
}

/* A number or null (NaN). */
static int
get_num_or_nan(const json_t *o, const char *key, double *v, char *err, size_t errsz)
{
	bool has;
	int st = get_opt_real(o, key, &has, v, err, errsz);

	if (st == ST_OK && !has)
		*v = NAN;
	return st;
}

/* An optional array of at most JOURNAL_SAMPLES_MAX numbers or nulls
 * (NaN); missing (an older journal) is none. */
static int
get_samples(const json_t *o, const char *key, double *v, size_t *n, char *err, size_t errsz)
{
	const json_t *a = json_object_get(o, key), *e;
	size_t i;

	*n = 0;
	if (a == NULL || json_is_null(a))
		return ST_OK;
	if (!json_is_array(a))
		return bad(err, errsz, "journal", key, "is not an array");
	if (json_array_size(a) > JOURNAL_SAMPLES_MAX) {
		snprintf(err, errsz, "journal field \"%s\" has more than %d values", key,
		    JOURNAL_SAMPLES_MAX);
		return ST_CORRUPT;
	}
	json_array_foreach(a, i, e) {
		if (!json_is_number(e) && !json_is_null(e)) {
			snprintf(err, errsz, "journal field \"%s\" value %zu is not a number", key, i);
			return ST_CORRUPT;
		}
		v[i] = json_is_null(e) ? NAN : json_number_value(e);
	}
	*n = json_array_size(a);
	return ST_OK;
}

static int
journal_compare_from_json(const json_t *o, struct journal_rec *r, const char *kind, char *err,
    size_t errsz)
{
	int v, st;

	if ((st = get_str(o, "reason", r->message, sizeof r->message, err, errsz)) != ST_OK &&
	    !json_is_null(json_object_get(o, "reason")))
		return st;
	if (strcmp(kind, "score") == 0) {
		r->kind = REC_SCORE;
		if ((st = get_opt_real(o, "score", &r->has_value, &r->value, err, errsz)) != ST_OK)
			return st;
		if (name_member(o, "result", verdict_name, JUDGE_VERDICT__COUNT, &v) != ST_OK)
			return bad(err, errsz, "journal", "result", "is missing or unknown");
		r->verdict = (enum judge_verdict)v;
		return ST_OK;
	}
	r->kind = REC_COMPARE;
	if ((st = get_str(o, "metric", r->metric, sizeof r->metric, err, errsz)) != ST_OK ||
	    (st = get_num_or_nan(o, "canaryMedian", &r->canary_median, err, errsz)) != ST_OK ||
	    (st = get_num_or_nan(o, "primaryMedian", &r->primary_median, err, errsz)) != ST_OK ||
	    (st = get_num_or_nan(o, "effectSize", &r->effect, err, errsz)) != ST_OK ||
	    (st = get_samples(o, "canarySamples", r->canary_samples, &r->n_canary, err, errsz)) != ST_OK ||
	    (st = get_samples(o, "primarySamples", r->primary_samples, &r->n_primary, err, errsz)) != ST_OK)
		return st;
	if (name_member(o, "classification", class_name, JUDGE_CLASS__COUNT, &v) != ST_OK)
		return bad(err, errsz, "journal", "classification", "is missing or unknown");
	r->judge_class = (enum judge_class)v;
	return ST_OK;
}

static int
journal_event_from_json(const json_t *o, struct journal_rec *r, char *err, size_t errsz)
{
	static const char *const sevs[] = {
#define X(id, text) text,
		SEVERITY_LIST(X)
#undef X
	};
	int v = SEV_NORMAL, st;

	r->kind = REC_EVENT;
	if ((st = get_str(o, "type", r->type, sizeof r->type, err, errsz)) != ST_OK ||
	    (st = get_str(o, "reason", r->reason, sizeof r->reason, err, errsz)) != ST_OK ||
	    (st = get_str(o, "message", r->message, sizeof r->message, err, errsz)) != ST_OK ||
	    (st = get_str(o, "actor", r->actor, sizeof r->actor, err, errsz)) != ST_OK)
		return st;
	if (json_object_get(o, "severity") != NULL &&
	    enum_member(o, "severity", sevs, SEV__COUNT, &v) != ST_OK)
		return bad(err, errsz, "journal", "severity", "is unknown");
	r->severity = (enum severity)v;
	return ST_OK;
}

int
journal_from_json(const json_t *o, struct journal_rec *r, char *err, size_t errsz)
{
	const char *t, *kind;
	const json_t *v;
	int p;

	memset(r, 0, sizeof *r);
	if (!json_is_object(o)) {
		snprintf(err, errsz, "journal record is not an object");
		return ST_CORRUPT;
	}
	t = json_string_value(json_object_get(o, "time"));
	if (t == NULL || rfc3339_parse_ms(t, &r->time_ms) != ST_OK)
		return bad(err, errsz, "journal", "time", "is missing or not RFC 3339");
	if (get_str(o, "canary", r->canary, sizeof r->canary, err, errsz) != ST_OK)
		return ST_CORRUPT;
	p = phase_from_name(json_string_value(json_object_get(o, "phase")));
	if (p < 0)
		return bad(err, errsz, "journal", "phase", "is missing or unknown");
	r->phase = (enum phase)p;
	if ((v = json_object_get(o, "weight")) != NULL && json_is_integer(v))
		r->weight = (int)json_integer_value(v);
	if ((v = json_object_get(o, "failedChecks")) != NULL && json_is_integer(v))
		r->failed_checks = (int)json_integer_value(v);
	if ((v = json_object_get(o, "iteration")) != NULL && json_is_integer(v))
		r->iteration = (int)json_integer_value(v);
	kind = json_string_value(json_object_get(o, "kind"));
	if (kind != NULL && strcmp(kind, "check") == 0)
		return journal_check_from_json(o, r, err, errsz);
	if (kind != NULL && (strcmp(kind, "compare") == 0 || strcmp(kind, "score") == 0))
		return journal_compare_from_json(o, r, kind, err, errsz);
	return journal_event_from_json(o, r, err, errsz);
}

uint64_t
fnv1a64(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 0xcbf29ce484222325ULL;

	while (n-- > 0) {
		h ^= *s++;
		h *= 0x100000001b3ULL;
	}
	return h;
}
