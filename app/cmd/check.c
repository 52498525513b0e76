/*
 * app/cmd/check.c — `perch check -f FILE... --prometheus URL`: evaluates every
 * metric of every Canary in the files once against Prometheus and prints
 * the rendered query, the value, the bounds and pass / fail / no data /
 * error, plus an isolation check (the same query aimed at the primary: the
 * same non-trivial value for both means the query measures all pods, not
 * the canary).  Exit 0 all pass, 1 any fail / no data / error, 3 when
 * Prometheus cannot be reached, 2 usage.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/canary_load.h"
#include "app/check_cluster.h"
#include "app/cli.h"
#include "app/cli_value.h"
#include "app/metric_client.h"
#include "app/cmd/cmd.h"
#include "engine/compare.h"
#include "metrics/backend.h"
#include "metrics/builtin.h"
#include "metrics/prom.h"
#include "spec/spec.h"
#include "util/sanitize.h"
#include "util/status.h"
#include "util/xalloc.h"

struct check_opts {
	const char **files;
	int n_files;
	struct metric_client_opts mc;	/* --prometheus, its token and TLS */
	bool json;
	int64_t at_ms;		/* 0 = now */
	int timeout_ms;
	/* On a cluster: MetricTemplates missing from the files, secretRef credentials. */
	const char *kubeconfig, *context, *ns;
	bool cluster;
};

/* One metric's outcome. */
struct outcome {
	const struct metric_cfg *m;
	const char *primary_query;
	struct metric_value val, vol, prim;
	bool has_vol, has_prim;
	enum check_result result;
	double value;
	char reason[ERRMSG_MAX];
	const char *isolation;	/* "isolated", "same-as-primary", "not-applicable", "unknown" */
};

/* ---- options ---------------------------------------------------------- */

/* UNIX seconds (fraction allowed) or RFC 3339; ms since the epoch, or -1. */
static int64_t
parse_time(const char *s)
{
	struct tm tm, want;
	char *end;
	double d;
	const char *p;
	long off = 0, frac_ms = 0, scale = 100;
	time_t t;

	errno = 0;
	d = strtod(s, &end);
	/* digits and a fraction only: strtod would also take " 5", 0x10 and 1e3 */
	if (isdigit((unsigned char)s[0]) && strspn(s, "0123456789.") == strlen(s) &&
	    end != s && *end == '\0' && errno == 0 && d > 0 && d < 1e11)
		return (int64_t)llround(d * 1000);
	memset(&tm, 0, sizeof tm);
	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (p == NULL)
		return -1;
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++, scale /= 10)
			frac_ms += (*p - '0') * scale;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if ((*p == '+' || *p == '-') && isdigit((unsigned char)p[1]) &&
	    isdigit((unsigned char)p[2]) && p[3] == ':' && isdigit((unsigned char)p[4]) &&
	    isdigit((unsigned char)p[5])) {
		off = ((p[1] - '0') * 10 + (p[2] - '0')) * 3600 + ((p[4] - '0') * 10 + (p[5] - '0')) * 60;
		if (*p == '-')
			off = -off;
		p += 6;
	} else {
		return -1;
	}
	if (*p != '\0')
		return -1;
	want = tm;
	t = timegm(&tm);
	/* timegm makes 30 February 2 March: a date that moved did not exist. */
	if (tm.tm_year != want.tm_year || tm.tm_mon != want.tm_mon ||
	    tm.tm_mday != want.tm_mday || tm.tm_hour != want.tm_hour ||
	    tm.tm_min != want.tm_min || tm.tm_sec != want.tm_sec)
		return -1;
	return ((int64_t)t - off) * 1000 + frac_ms;
}

static int
parse_args(int argc, char **argv, struct check_opts *o)
{
	static const struct option longopts[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "prometheus", required_argument, NULL, 'p' },
		{ "time", required_argument, NULL, 't' },
		METRIC_CLIENT_LONGOPTS,
		{ "timeout", required_argument, NULL, 'W' },
		{ "kubeconfig", required_argument, NULL, 'K' },
		{ "context", required_argument, NULL, 'X' },
		{ "namespace", required_argument, NULL, 'n' },
		CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	long long ms;
	int c, rc = EXIT_OK;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":f:o:n:" CLI_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			o->files = xreallocarray(o->files, (size_t)o->n_files + 1, sizeof *o->files);
			rc = cli_take_value("check", "-f", CLI_VAL_FILE, optarg, &o->files[o->n_files++]);
			break;
		case 'o':
			if (strcmp(optarg, "json") != 0 && strcmp(optarg, "text") != 0)
				return cli_usage_error("check", "unknown output format '%s' (text or json)",
				    optarg);
			o->json = strcmp(optarg, "json") == 0;
			continue;
		case 'p':
			/* Never quoted back: the URL may hold a user:password. */
			rc = cli_take_value("check", "--prometheus", CLI_VAL_URL, optarg, &o->mc.prometheus);
			break;
		case 't':
			if ((o->at_ms = parse_time(optarg)) < 0)
				return cli_usage_error("check", "--time '%s' is neither RFC 3339 "
				    "(2026-01-02T15:04:05Z) nor UNIX seconds", optarg);
			continue;
		case 'W':
			if (spec_parse_duration_ms(optarg, &ms) != ST_OK || ms <= 0 || ms > 600000)
				return cli_usage_error("check", "--timeout '%s' is not a duration "
				    "from 1ms to 10m, such as 5s or 1m", optarg);
			o->timeout_ms = (int)ms;
			continue;
		case 'K':
			rc = cli_take_value("check", "--kubeconfig", CLI_VAL_FILE, optarg, &o->kubeconfig);
			break;
		case 'X':
			rc = cli_take_value("check", "--context", CLI_VAL_NAME, optarg, &o->context);
			break;
		case 'n':
			rc = cli_take_value("check", "-n", CLI_VAL_NAMESPACE, optarg, &o->ns);
			break;
		default:
			if ((rc = metric_client_option("check", c, optarg, &o->mc)) >= 0)
				break;
			switch (cli_common_option("check", c, optarg)) {
			case CLI_OPT_HANDLED: continue;
			case CLI_OPT_HELP: return -1;
			default: return cli_bad_option("check", c, argv);
			}
		}
		if (rc != EXIT_OK)
			return rc;
		o->cluster |= c == 'K' || c == 'X' || c == 'n';
	}
	if (optind < argc)
		return cli_usage_error("check", "unexpected argument '%s' (files are given with -f)",
		    argv[optind]);
	if (o->n_files == 0)
		return cli_usage_error("check", "no file given (-f FILE)");
	return metric_client_check("check", &o->mc);
}

/* ---- evaluation ------------------------------------------------------- */

/* Equal within rounding; two infinities of one sign are equal (their
 * difference is NaN), NaN equals nothing. */
static bool
same_value(double a, double b)
{
	if (a == b)
		return true;
	if (!isfinite(a) || !isfinite(b))
		return false;
	return fabs(a - b) <= 1e-9 * fmax(1.0, fmax(fabs(a), fabs(b)));
}

static void
judge(const struct canary_cfg *cfg, struct outcome *oc)
{
	const struct metric_cfg *m = oc->m;
	double v = oc->val.value;

	oc->value = NAN;
	if (oc->val.result != CHECK_PASS) {
		oc->result = oc->val.result;
		snprintf(oc->reason, sizeof oc->reason, "%s", oc->val.err);
		return;
	}
	if (m->kind == METRIC_DURATION && m->template_ref == NULL)
		v = builtin_duration_ms(builtin_observer(cfg->provider, cfg->target_kind), v);
	oc->value = v;
	oc->result = metric_judge(m, v);
	if (oc->result == CHECK_FAIL)
		snprintf(oc->reason, sizeof oc->reason, "%g is %s", v,
		    m->has_min && v < m->min ? "below the minimum" : "above the maximum");
	/* The minimum-traffic guard: too few requests is inconclusive. */
	if (cfg->min_requests > 0 && oc->has_vol) {
		double n = oc->vol.result == CHECK_PASS ? oc->vol.value : 0;

		if (oc->vol.result == CHECK_ERROR) {
			oc->result = CHECK_ERROR;
			snprintf(oc->reason, sizeof oc->reason, "volume query: %.200s", oc->vol.err);
		} else if (n < cfg->min_requests) {
			oc->result = CHECK_NODATA;
			snprintf(oc->reason, sizeof oc->reason, "%g requests in the window, fewer than "
			    "perch.dev/min-requests %g", n, cfg->min_requests);
		}
	}
}

static void
isolation(const struct outcome *oc, struct outcome *w)
{
	double p = oc->prim.value;

	if (!oc->has_prim)
		w->isolation = "not-applicable";
	else if (oc->val.result != CHECK_PASS || oc->prim.result != CHECK_PASS)
		w->isolation = "unknown";
	else if (!same_value(oc->val.value, p))
		w->isolation = "isolated";
	else if (p == 0 || (oc->m->kind == METRIC_SUCCESS_RATE && p == 100))
		w->isolation = "same-trivial";
	else
		w->isolation = "same-as-primary";
}

/* With --time: the provider of m answers only for now (keptn,
 * externalmetrics, stackdriver: backend.h's past), the type's name; else
 * NULL. */
static const char *
only_now(const struct check_opts *o, const struct metric_cfg *m)
{
	const struct metric_backend_ops *ops = metric_backend_find(m->provider);

	return o->at_ms > 0 && ops != NULL && !ops->past ? metric_type_name(ops->type) : NULL;
}

/* Runs every query of one canary: value, volume and primary per metric. */
static void
run_queries(struct metric_backends *b, const struct check_opts *o, const struct canary_cfg *cfg,
    const struct canary_cfg *pcfg, struct outcome *oc)
{
	size_t n = cfg->n_metrics, i, k = 0;
	struct metric_query *q = xcalloc(3 * n + 1, sizeof *q);
	struct metric_value *res = xcalloc(3 * n + 1, sizeof *res);
	int (*slot)[3] = xcalloc(n + 1, sizeof *slot);
	char why[ERRMSG_MAX / 2];

	for (i = 0; i < n; i++) {
		const struct metric_cfg *m = &cfg->metrics[i];

		oc[i].m = m;
		slot[i][0] = (int)k;
		q[k++] = (struct metric_query){ .canary = cfg, .metric = m, .query = m->query,
			.at_ms = o->at_ms };
		slot[i][1] = slot[i][2] = -1;
		if (m->volume_query != NULL) {
			slot[i][1] = (int)k;
			q[k++] = (struct metric_query){ .canary = cfg, .metric = m, .volume = true,
				.query = m->volume_query, .at_ms = o->at_ms };
		}
		if (pcfg != NULL && strcmp(pcfg->metrics[i].query, m->query) != 0) {
			oc[i].primary_query = pcfg->metrics[i].query;
			slot[i][2] = (int)k;
			q[k++] = (struct metric_query){ .canary = pcfg, .metric = &pcfg->metrics[i],
				.query = pcfg->metrics[i].query, .at_ms = o->at_ms };
		}
	}
	metric_backends_eval(b, q, k, res);
	for (i = 0; i < n; i++) {
		oc[i].val = res[slot[i][0]];
		if ((oc[i].has_vol = slot[i][1] >= 0))
			oc[i].vol = res[slot[i][1]];
		if ((oc[i].has_prim = slot[i][2] >= 0))
			oc[i].prim = res[slot[i][2]];
		if (only_now(o, oc[i].m) != NULL) {	/* its answer is for now, not --time */
			oc[i].val = (struct metric_value){ .result = CHECK_ERROR };
			metric_backend_not_past(only_now(o, oc[i].m), why, sizeof why);
			snprintf(oc[i].val.err, sizeof oc[i].val.err, "%s: --time cannot be used for "
			    "it", why);
			oc[i].has_vol = oc[i].has_prim = false;
		}
		judge(cfg, &oc[i]);
		isolation(&oc[i], &oc[i]);
	}
	free(slot);
	free(q);
	free(res);
}

/* ---- output ----------------------------------------------------------- */

/* JSON has no infinities: a value that is not finite is null (the text
 * output spells it +Inf, -Inf or NaN). */
static json_t *
num_or_null(bool has, double v)
{
	return has && isfinite(v) ? json_real(v) : json_null();
}

/* A value as Prometheus spells it: %g, or +Inf, -Inf, NaN. */
static const char *
num_text(double v, char *buf, size_t bufsz)
{
	if (isnan(v))
		return "NaN";
	if (isinf(v))
		return v > 0 ? "+Inf" : "-Inf";
	snprintf(buf, bufsz, "%g", v);
	return buf;
}

/* A JSON string of text from the files or the server, sanitised like the
 * text output (jansson escapes C0 controls, but bidi overrides and C1
 * controls would reach the terminal as they are); NULL gives null. */
static json_t *
clean_string(const char *text)
{
	char *clean;
	json_t *j;

	if (text == NULL)
		return json_null();
	clean = sanitize_dup(text, RENDER_MAX);
	j = json_string(clean);
	free(clean);
	return j;
}

static void
print_json(const struct canary_cfg *cfg, const struct outcome *oc, const char *when)
{
	const struct metric_cfg *m = oc->m;
	char canary[300];
	json_t *o;
	char *s;

	snprintf(canary, sizeof canary, "%s/%s", cfg->ns, cfg->name);
	o = json_object();
	json_object_set_new(o, "time", json_string(when));
	json_object_set_new(o, "canary", clean_string(canary));
	json_object_set_new(o, "kind", json_string("check"));
	json_object_set_new(o, "metric", clean_string(m->name));
	json_object_set_new(o, "value", num_or_null(true, oc->value));
	json_object_set_new(o, "min", num_or_null(m->has_min, m->min));
	json_object_set_new(o, "max", num_or_null(m->has_max, m->max));
	json_object_set_new(o, "result", json_string(check_result_name(oc->result)));
	json_object_set_new(o, "query", clean_string(m->query));
	json_object_set_new(o, "volume", num_or_null(oc->has_vol &&
	    oc->vol.result == CHECK_PASS, oc->vol.value));
	json_object_set_new(o, "volumeQuery", clean_string(m->volume_query));
	json_object_set_new(o, "primaryQuery", clean_string(oc->primary_query));
	json_object_set_new(o, "primaryValue", num_or_null(oc->has_prim &&
	    oc->prim.result == CHECK_PASS, oc->prim.value));
	json_object_set_new(o, "isolation", json_string(oc->isolation));
	json_object_set_new(o, "error", oc->reason[0] != '\0' && oc->result != CHECK_PASS ?
	    clean_string(oc->reason) : json_null());
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (s != NULL)
		printf("%s\n", s);
	free(s);
	json_decref(o);
}

static void
print_line(const char *label, const char *text)
{
	char *clean = sanitize_dup(text, RENDER_MAX);

	printf("          %-8s %s\n", label, clean);
	free(clean);
}

static const char *
isolation_text(const char *isolation)
{
	if (strcmp(isolation, "isolated") == 0)
		return "differs: the query isolates the canary";
	if (strcmp(isolation, "same-trivial") == 0)
		return "same as the canary, a trivial value";
	if (strcmp(isolation, "same-as-primary") == 0)
		return "WARNING: same as the canary: the query measures all pods, not the canary";
	return "the canary has no value to compare";
}

static void
print_text(const struct canary_cfg *cfg, const struct outcome *oc)
{
	const struct metric_cfg *m = oc->m;
	const char *unit = metric_kind_unit(m->kind);
	char *name = sanitize_dup(m->name, 128), bounds[96] = "", line[256], num[40];

	if (m->has_min)
		snprintf(bounds, sizeof bounds, "min %g", m->min);
	if (m->has_max)
		snprintf(bounds + strlen(bounds), sizeof bounds - strlen(bounds), "%smax %g",
		    m->has_min ? ", " : "", m->max);
	if (!isnan(oc->value))
		printf("  %-6s  %s = %s%s%s%s%s%s\n", check_result_name(oc->result), name,
		    num_text(oc->value, num, sizeof num), unit[0] ? " " : "", unit, bounds[0] ? "  (" : "",
		    bounds, bounds[0] ? ")" : "");
	else
		printf("  %-6s  %s%s%s%s\n", check_result_name(oc->result), name,
		    bounds[0] ? "  (" : "", bounds, bounds[0] ? ")" : "");
	if (oc->result != CHECK_PASS && oc->reason[0] != '\0')
		print_line("reason:", oc->reason);
	print_line("query:", m->query);
	if (!oc->has_vol && cfg->min_requests > 0)
		print_line("volume:", m->template_ref != NULL ?
		    "unknown: the MetricTemplate has no perch.dev/volume-query, so "
		    "perch.dev/min-requests cannot guard this metric" :
		    "unknown: an inline query has no volume query, so "
		    "perch.dev/min-requests cannot guard this metric");
	if (oc->has_vol) {
		if (oc->vol.result == CHECK_PASS)
			snprintf(line, sizeof line, "%s requests in the window",
			    num_text(oc->vol.value, num, sizeof num));
		else
			snprintf(line, sizeof line, "%s", oc->vol.err);
		print_line("volume:", line);
	}
	if (strcmp(oc->isolation, "not-applicable") == 0)
		print_line("primary:", "the query does not name the target or service; not compared");
	else if (oc->prim.result != CHECK_PASS)
		print_line("primary:", oc->prim.err);
	else {
		snprintf(line, sizeof line, "%s%s%s (%s)", num_text(oc->prim.value, num, sizeof num),
		    unit[0] ? " " : "", unit, isolation_text(oc->isolation));
		print_line("primary:", line);
	}
	free(name);
}

/* ---- the comparison judge (engine/compare.h) ---------------------------- */

/* The samples of every compared metric, canary and primary, judged. */
static void
run_compare(struct metric_backends *b, const struct check_opts *o, const struct canary_cfg *cfg,
    struct compare_result *cr)
{
	size_t n = compare_count(cfg);
	struct metric_query *q = xcalloc(2 * n + 1, sizeof *q);
	struct metric_samples *s = xcalloc(2 * n + 1, sizeof *s);

	compare_queries(cfg, o->at_ms, q);
	metric_backends_samples(b, q, 2 * n, compare_range_ms(cfg), compare_step_ms(cfg), s);
	compare_judge(cfg, s, NULL, cr);
	free(q);
	free(s);
}

static void
print_compare_json(const char *canary, const struct compare_result *cr, const char *when)
{
	json_t *o;
	char *s;
	size_t i;

	for (i = 0; i <= cr->n; i++) {
		const struct compare_metric *m = &cr->m[i];

		o = json_object();
		json_object_set_new(o, "time", json_string(when));
		json_object_set_new(o, "canary", clean_string(canary));
		if (i < cr->n) {
			json_object_set_new(o, "kind", json_string("compare"));
			json_object_set_new(o, "metric", clean_string(m->name));
			json_object_set_new(o, "classification",
			    json_string(judge_class_name(m->classification)));
			json_object_set_new(o, "canaryMedian", num_or_null(true, m->canary_median));
			json_object_set_new(o, "primaryMedian", num_or_null(true, m->primary_median));
			json_object_set_new(o, "effectSize", num_or_null(true, m->effect));
			json_object_set_new(o, "reason", m->reason[0] ? clean_string(m->reason) :
			    json_null());
		} else {
			json_object_set_new(o, "kind", json_string("score"));
			json_object_set_new(o, "score", json_real(cr->score));
			json_object_set_new(o, "result", json_string(judge_verdict_name(cr->verdict)));
			json_object_set_new(o, "reason", cr->reason[0] ? clean_string(cr->reason) :
			    json_null());
		}
		s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
		if (s != NULL)
			printf("%s\n", s);
		free(s);
		json_decref(o);
	}
}

static void
print_compare_text(const struct canary_cfg *cfg, const struct compare_result *cr)
{
	char line[512];
	size_t i;

	printf("  compared with the primary (confidence %g, tolerance %g, scores %g/%g):\n",
	    cfg->judge.confidence, cfg->judge.tolerance, cfg->judge.scores.marginal,
	    cfg->judge.scores.pass);
	for (i = 0; i < cr->n; i++) {
		compare_words(&cr->m[i], line, sizeof line);
		print_line(judge_class_name(cr->m[i].classification), line);
	}
	snprintf(line, sizeof line, "%g (%s)%s%s", cr->score, judge_verdict_name(cr->verdict),
	    cr->reason[0] ? ": " : "", cr->reason);
	print_line("score", line);
}

/* ---- the command ------------------------------------------------------ */

static void
format_time(int64_t ms, char *out, size_t outsz)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, outsz, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* An error from the cluster or the files, sanitised: it may quote what a
 * server answered. */
static void
print_error(const char *err)
{
	char *clean = sanitize_dup(err, ERRMSG_MAX);

	cli_error("check", "%s", clean);
	free(clean);
}

/* Checks one canary; returns its exit status (0, 1 or 3). */
static int
check_canary(struct metric_backends *b, const struct check_opts *o, const struct spec_set *set,
    const struct spec_canary *sc, const char *when)
{
	struct canary_cfg *cfg, *pcfg = NULL;
	struct outcome *oc;
	char err[512], *id;
	int rc = EXIT_OK;
	size_t i;

	if (canary_load(set, sc, AIM_CANARY, &cfg, err, sizeof err) != ST_OK) {
		id = sanitize_dup(err, sizeof err);
		cli_error("check", "%s", id);
		free(id);
		return EXIT_FAILED;
	}
	if (canary_load(set, sc, AIM_PRIMARY, &pcfg, err, sizeof err) != ST_OK)
		pcfg = NULL;
	metric_client_default_server(cfg);
	metric_client_default_server(pcfg);
	oc = xcalloc(cfg->n_metrics + 1, sizeof *oc);
	run_queries(b, o, cfg, pcfg, oc);
	snprintf(err, sizeof err, "%s/%s", cfg->ns, cfg->name);
	id = sanitize_dup(err, 300);
	if (!o->json)
		printf("%s (observer %s) at %s:%s\n", id,
		    observer_name(builtin_observer(cfg->provider, cfg->target_kind)), when,
		    cfg->n_metrics == 0 ? " no metrics" : "");
	for (i = 0; i < cfg->n_metrics; i++) {
		if (o->json)
			print_json(cfg, &oc[i], when);
		else
			print_text(cfg, &oc[i]);
		if (o->json && strcmp(oc[i].isolation, "same-as-primary") == 0) {
			char *metric = sanitize_dup(oc[i].m->name, 128);

			cli_error("check", "warning: %s %s: canary and primary give the same value; the "
			    "query measures all pods, not the canary", id, metric);
			free(metric);
		}
		if (oc[i].val.unavailable || (oc[i].has_vol && oc[i].vol.unavailable))
			rc = EXIT_INFRA;
		else if (oc[i].result != CHECK_PASS && rc == EXIT_OK)
			rc = EXIT_FAILED;
	}
	if (compare_count(cfg) > 0) {
		struct compare_result *cr = xcalloc(1, sizeof *cr);

		run_compare(b, o, cfg, cr);
		if (o->json)
			print_compare_json(err, cr, when);
		else
			print_compare_text(cfg, cr);
		if (cr->unavailable)
			rc = EXIT_INFRA;
		else if (cr->verdict == JUDGE_VERDICT_FAIL && rc == EXIT_OK)
			rc = EXIT_FAILED;
		free(cr);
	}
	free(id);
	free(oc);
	canary_cfg_free(pcfg);
	canary_cfg_free(cfg);
	return rc;
}

static int
load_specs(const struct check_opts *o, struct check_cluster *cc, struct spec_set *set)
{
	struct diag_list dl;
	char err[ERRMSG_MAX];
	int i, rc = EXIT_OK;
	size_t k;

	diag_list_init(&dl, false);
	for (i = 0; i < o->n_files; i++)
		spec_load_file(set, o->files[i], &dl);
	if (o->cluster && check_cluster_templates(cc, set, &dl, err, sizeof err) != ST_OK) {
		print_error(err);
		diag_list_fini(&dl);
		return EXIT_INFRA;
	}
	spec_validate(set, &dl);
	diag_list_sort(&dl);
	for (k = 0; k < dl.n; k++)
		if (dl.items[k].severity == DIAG_ERROR)
			diag_print(stderr, &dl.items[k]);
	if (dl.n_errors > 0) {
		cli_error("check", "%zu error%s in the files; see perch validate",
		    dl.n_errors, dl.n_errors == 1 ? "" : "s");
		rc = EXIT_FAILED;
	} else if (spec_set_n_canaries(set) == 0) {
		cli_error("check", "no Canary in the files given");
		rc = EXIT_FAILED;
	}
	diag_list_fini(&dl);
	return rc;
}

int
cmd_check(int argc, char **argv)
{
	struct check_opts o = { 0 };
	struct check_cluster cc = { 0 };
	char token[METRIC_CLIENT_TOKEN_MAX] = "", when[40], err[ERRMSG_MAX];
	struct spec_set *set;
	struct metric_backends *b = NULL;
	struct timespec now;
	int rc, r;
	size_t i;

	rc = parse_args(argc, argv, &o);
	if (rc == -1) {
		free(o.files);
		return cli_command_help("check");
	}
	if (rc == EXIT_OK)
		rc = metric_client_token("check", &o.mc, token, sizeof token);
	if (rc == EXIT_OK)
		rc = cli_apply_logging("check");
	if (rc == EXIT_OK && o.cluster &&
	    (r = check_cluster_open(&cc, o.kubeconfig, o.context, o.ns, err, sizeof err)) != ST_OK) {
		print_error(err);
		rc = r == ST_PARSE || r == ST_INVALID || r == ST_NOTFOUND ? EXIT_USAGE : EXIT_INFRA;
	}
	if (rc != EXIT_OK) {
		free(o.files);
		return rc;
	}
	if (o.at_ms == 0) {
		clock_gettime(CLOCK_REALTIME, &now);
		format_time((int64_t)now.tv_sec * 1000, when, sizeof when);
	} else {
		format_time(o.at_ms, when, sizeof when);
	}
	set = spec_set_new();
	rc = load_specs(&o, &cc, set);
	if (rc == EXIT_OK && o.mc.prometheus == NULL && metric_client_needs_prometheus(set) != NULL) {
		char *m = sanitize_dup(metric_client_needs_prometheus(set), 128);

		rc = cli_usage_error("check", "no Prometheus given (--prometheus URL); metric %s "
		    "queries Prometheus", m);
		free(m);
	}
	if (rc == EXIT_OK)
		b = metric_client_new("check", &o.mc, o.timeout_ms, token, o.cluster ? &cc : NULL, set,
		    &rc);
	if (rc == EXIT_OK) {
		for (i = 0; i < spec_set_n_canaries(set); i++) {
			r = check_canary(b, &o, set, spec_set_canary(set, i), when);
			if (r == EXIT_INFRA || (r == EXIT_FAILED && rc == EXIT_OK))
				rc = r;
		}
	}
	metric_backends_free(b);
	check_cluster_close(&cc);
	memset(token, 0, sizeof token);
	spec_set_free(set);
	free(o.files);
	return rc;
}
