/*
 * app/cmd/replay.c — `perch replay -f FILE... [--canary NS/NAME]
 * [--state-dir DIR | --kubeconfig PATH --context NAME -n NS] [--rollout N]
 * | --from T --to T [--prometheus URL ...]] [-o text|json]`: what the
 * Canary of the files would have decided on a past rollout's recorded
 * checks (the journal of a state directory or of the cluster store), or on
 * the metrics of a time range (evaluated at each interval with explicit
 * time by the backend of each metric's provider, with perch check's
 * Prometheus options and, with the cluster options, the templates'
 * Secrets: app/metric_client.h; a metric whose provider cannot query the
 * past is left out and said so), through the rollout state machine itself
 * (engine/replay.h), compared with what the recorded rollout did.
 *
 * Stores are opened read-only.  Exit status: 0 the replayed spec would
 * have succeeded (or not decided when the record ends), 1 it would have
 * failed, 2 usage or input errors (files, journal, a canary with no
 * record), 3 the cluster or a metric provider cannot be reached.
 */
#include <ctype.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/canary_load.h"
#include "app/cli.h"
#include "app/cli_value.h"
#include "app/cluster_conn.h"
#include "app/metric_client.h"
#include "app/cmd/cmd.h"
#include "app/replay_journal.h"
#include "app/replay_print.h"
#include "metrics/backend.h"
#include "spec/spec.h"
#include "store/codec.h"
#include "store/dir.h"
#include "store/k8s.h"
#include "util/sanitize.h"
#include "util/status.h"
#include "util/xalloc.h"

#define CMD_NAME "replay"
#define RANGE_MAX 100000	/* analyses of a --from/--to range */

struct replay_opts {
	const char **files;
	int n_files;
	const char *canary;		/* --canary ns/name, or NULL: the spec's */
	const char *dir;
	const char *kubeconfig, *context, *ns;
	bool cluster;
	long rollout;			/* 1-based; 0: the last */
	struct metric_client_opts mc;	/* --prometheus, its token and TLS */
	bool range;			/* the metrics of --from to --to */
	int64_t from_ms, to_ms;		/* -1: not given */
	int timeout_ms;
	bool json;
};

/* Everything one run holds (freed by cleanup). */
struct run {
	struct spec_set *set;
	struct canary_cfg *cfg, *was;
	char canary[300];
	char source[4200];
	struct journal_rec *recs;
	size_t n_recs;
	struct recorded rec;
	struct replay_analysis *range;	/* the metric providers' source */
	size_t n_range;
	struct replay_left *left;	/* metrics left out: not replayable */
	size_t n_left;
	struct check_cluster cc;	/* a metrics replay's cluster: templates, Secrets */
	struct replay_result res;
};

/* ---- options ---------------------------------------------------------- */

/* UNIX seconds or RFC 3339 in UTC (2026-01-02T15:04:05Z); -1 if neither. */
static int64_t
parse_when(const char *s)
{
	int64_t ms;
	char *end;
	long long v;

	if (isdigit((unsigned char)s[0]) && strspn(s, "0123456789") == strlen(s)) {
		v = strtoll(s, &end, 10);
		return v > 0 && v < 100000000000LL ? (int64_t)v * 1000 : -1;
	}
	return rfc3339_parse_ms(s, &ms) == ST_OK && ms > 0 ? ms : -1;
}

/* A canary name "ns/name": two DNS names, nothing that leaves a directory. */
static bool
canary_name_ok(const char *s)
{
	const char *slash = strchr(s, '/');
	size_t n = strlen(s);

	return slash != NULL && slash != s && slash[1] != '\0' && strchr(slash + 1, '/') == NULL &&
	    n < 254 && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-./") == n &&
	    strstr(s, "..") == NULL && s[0] != '.' && slash[1] != '.';
}

static int
take_option(int c, struct replay_opts *o)
{
	char *end;

	switch (c) {
	case 'f':
		o->files = xreallocarray(o->files, (size_t)o->n_files + 1, sizeof *o->files);
		return cli_take_value(CMD_NAME, "-f", CLI_VAL_FILE, optarg, &o->files[o->n_files++]);
	case 'c':
		if (!canary_name_ok(optarg))
			return cli_usage_error(CMD_NAME, "--canary wants NAMESPACE/NAME");
		o->canary = optarg;
		return EXIT_OK;
	case 'd': return cli_take_value(CMD_NAME, "--state-dir", CLI_VAL_DIR, optarg, &o->dir);
	case 'K': return cli_take_value(CMD_NAME, "--kubeconfig", CLI_VAL_FILE, optarg, &o->kubeconfig);
	case 'X': return cli_take_value(CMD_NAME, "--context", CLI_VAL_NAME, optarg, &o->context);
	case 'n': return cli_take_value(CMD_NAME, "-n", CLI_VAL_NAMESPACE, optarg, &o->ns);
	case 'r':
		o->rollout = strtol(optarg, &end, 10);
		if (end == optarg || *end != '\0' || o->rollout < 1 || o->rollout > 1000000)
			return cli_usage_error(CMD_NAME, "--rollout wants a number from 1 (the first "
			    "rollout of the journal)");
		return EXIT_OK;
	case 'p': return cli_take_value(CMD_NAME, "--prometheus", CLI_VAL_URL, optarg, &o->mc.prometheus);
	case 'F':
	case 'T':
		if ((*(c == 'F' ? &o->from_ms : &o->to_ms) = parse_when(optarg)) < 0)
			return cli_usage_error(CMD_NAME, "%s wants RFC 3339 (2026-01-02T15:04:05Z) or "
			    "UNIX seconds", c == 'F' ? "--from" : "--to");
		return EXIT_OK;
	case 'W': {
		long long ms;

		if (spec_parse_duration_ms(optarg, &ms) != ST_OK || ms <= 0 || ms > 600000)
			return cli_usage_error(CMD_NAME, "--timeout wants a duration from 1ms to 10m, "
			    "such as 5s");
		o->timeout_ms = (int)ms;
		return EXIT_OK;
	}
	case 'o':
		if (strcmp(optarg, "json") != 0 && strcmp(optarg, "text") != 0)
			return cli_usage_error(CMD_NAME, "-o must be text or json");
		o->json = strcmp(optarg, "json") == 0;
		return EXIT_OK;
	default:
		return EXIT_USAGE;
	}
}

/* The combinations the options allow. */
static int
check_options(const struct replay_opts *o)
{
	bool range = o->range;

	if (o->n_files == 0)
		return cli_usage_error(CMD_NAME, "no Canary file given (-f FILE)");
	if (o->dir != NULL && o->cluster)
		return cli_usage_error(CMD_NAME, "--state-dir and the cluster options exclude each other");
	if (range && (o->dir != NULL || o->rollout > 0))
		return cli_usage_error(CMD_NAME, "--prometheus/--from/--to replay metrics, not a "
		    "journal: give them without --state-dir or --rollout");
	if (range && (o->from_ms < 0 || o->to_ms < 0))
		return cli_usage_error(CMD_NAME, "a metrics replay needs --from and --to");
	if (range && o->to_ms <= o->from_ms)
		return cli_usage_error(CMD_NAME, "--to must be after --from");
	return metric_client_check(CMD_NAME, &o->mc);
}

/* EXIT_OK, a usage error, or -1 for --help. */
static int
parse(int argc, char **argv, struct replay_opts *o)
{
	static const struct option longopts[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "canary", required_argument, NULL, 'c' },
		{ "state-dir", required_argument, NULL, 'd' },
		{ "kubeconfig", required_argument, NULL, 'K' },
		{ "context", required_argument, NULL, 'X' },
		{ "namespace", required_argument, NULL, 'n' },
		{ "rollout", required_argument, NULL, 'r' },
		{ "prometheus", required_argument, NULL, 'p' },
		{ "from", required_argument, NULL, 'F' },
		{ "to", required_argument, NULL, 'T' },
		{ "timeout", required_argument, NULL, 'W' },
		{ "output", required_argument, NULL, 'o' },
		METRIC_CLIENT_LONGOPTS,
		CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	int c, rc;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":f:n:o:" CLI_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		if ((rc = metric_client_option(CMD_NAME, c, optarg, &o->mc)) >= 0) {
			if (rc != EXIT_OK)
				return rc;
			continue;
		}
		if (strchr("fcdKXnrpFTWo", c) == NULL) {
			switch (cli_common_option(CMD_NAME, c, optarg)) {
			case CLI_OPT_HANDLED: continue;
			case CLI_OPT_HELP: return -1;
			default: return cli_bad_option(CMD_NAME, c, argv);
			}
		}
		if ((rc = take_option(c, o)) != EXIT_OK)
			return rc;
		o->cluster |= c == 'K' || c == 'X' || c == 'n';
	}
	if (optind < argc)
		return cli_usage_error(CMD_NAME, "unexpected argument '%s' (files are given with -f)",
		    argv[optind]);
	o->range = o->mc.prometheus != NULL || o->from_ms >= 0 || o->to_ms >= 0 ||
	    metric_client_given(&o->mc);
	return check_options(o);
}

/* ---- the spec ------------------------------------------------------------ */

static void
error_clean(const char *err)
{
	char *c = sanitize_dup(err, ERRMSG_MAX + 1024);

	cli_error(CMD_NAME, "%s", c);
	free(c);
}

/* The one Canary of the files, loaded for the engine. */
static int
load_spec(const struct replay_opts *o, struct run *r)
{
	struct diag_list dl;
	char err[ERRMSG_MAX];
	size_t k, n;
	int i;

	diag_list_init(&dl, false);
	for (i = 0; i < o->n_files; i++)
		spec_load_file(r->set, o->files[i], &dl);
	if (o->range && o->cluster && (check_cluster_open(&r->cc, o->kubeconfig, o->context, o->ns,
	    err, sizeof err) != ST_OK || check_cluster_templates(&r->cc, r->set, &dl, err,
	    sizeof err) != ST_OK)) {
		error_clean(err);
		diag_list_fini(&dl);
		return EXIT_INFRA;
	}
	spec_validate(r->set, &dl);
	diag_list_sort(&dl);
	for (k = 0; k < dl.n; k++)
		if (dl.items[k].severity == DIAG_ERROR)
			diag_print(stderr, &dl.items[k]);
	n = dl.n_errors;
	diag_list_fini(&dl);
	if (n > 0) {
		cli_error(CMD_NAME, "%zu error%s in the files; see perch validate", n,
		    n == 1 ? "" : "s");
		return EXIT_USAGE;
	}
	if (spec_set_n_canaries(r->set) != 1) {
		cli_error(CMD_NAME, "the files hold %zu Canaries: give the files of one",
		    spec_set_n_canaries(r->set));
		return EXIT_USAGE;
	}
	if (canary_load(r->set, spec_set_canary(r->set, 0), AIM_CANARY, &r->cfg, err,
	    sizeof err) != ST_OK) {
		error_clean(err);
		return EXIT_USAGE;
	}
	if (o->range && o->mc.prometheus == NULL && metric_client_needs_prometheus(r->set) != NULL) {
		snprintf(err, sizeof err, "no Prometheus given (--prometheus URL); metric %s queries "
		    "Prometheus", metric_client_needs_prometheus(r->set));
		error_clean(err);
		return EXIT_USAGE;
	}
	if (o->canary != NULL)
		snprintf(r->canary, sizeof r->canary, "%s", o->canary);
	else
		snprintf(r->canary, sizeof r->canary, "%s/%s", r->cfg->ns, r->cfg->name);
	return EXIT_OK;
}

/* ---- the recorded rollouts ---------------------------------------------- */

static int
read_dir(const char *dir, struct run *r)
{
	char err[ERRMSG_MAX + 512];
	struct store_dir *sd;
	int st;

	st = replay_journal_read_dir(dir, r->canary, &r->recs, &r->n_recs, err, sizeof err);
	if (st != ST_OK) {
		error_clean(err);
		return st == ST_IO ? EXIT_INFRA : EXIT_USAGE;
	}
	snprintf(r->source, sizeof r->source, "%s/%s/journal.jsonl", dir, r->canary);
	if ((sd = store_dir_open(dir, true, err, sizeof err)) != NULL) {
		if (store_dir_ops.load_spec(sd, r->canary, &r->was, err) != ST_OK)
			r->was = NULL;
		store_dir_close(sd);
	}
	return EXIT_OK;
}

/* Whether the namespace holds the canary's ConfigMap: EXIT_OK, EXIT_USAGE
 * naming those it holds, EXIT_INFRA when they cannot be listed. */
static int
cluster_has(struct store_k8s *sk, const char *canary, const char *ns)
{
	char err[ERRMSG_MAX + 1024], there[512] = "";
	char **names = NULL;
	size_t n = 0, i, used = 0;
	bool found = false;
	int st = store_k8s_list(sk, &names, &n, err);

	if (st != ST_OK) {
		error_clean(err);
		return EXIT_INFRA;
	}
	for (i = 0; i < n; i++) {
		found |= strcmp(names[i], canary) == 0;
		if (used < sizeof there)
			used += (size_t)snprintf(there + used, sizeof there - used, "%s%s",
			    i ? ", " : "", names[i]);
		free(names[i]);
	}
	free(names);
	if (found)
		return EXIT_OK;
	snprintf(err, sizeof err, "no journal of canary %s on the cluster (namespace %s holds %s)",
	    canary, ns, n > 0 ? there : "none");
	error_clean(err);
	return EXIT_USAGE;
}

static int
read_cluster(const struct replay_opts *o, struct run *r)
{
	struct cluster_conn cc;
	struct store_k8s *sk;
	char err[ERRMSG_MAX];
	size_t max = 1024;		/* the store keeps STORE_K8S_JOURNAL */
	int rc;

	if ((rc = cluster_connect(CMD_NAME, o->kubeconfig, o->context, o->ns, true, &cc)) != EXIT_OK)
		return rc;
	sk = store_k8s_open(cc.client, true, 0);
	if ((rc = cluster_has(sk, r->canary, cc.cfg->ns)) != EXIT_OK) {
		store_k8s_close(sk);
		cluster_disconnect(&cc);
		return rc;
	}
	r->recs = xcalloc(max, sizeof *r->recs);
	r->n_recs = store_k8s_ops.tail(sk, r->canary, r->recs, max);
	if (store_k8s_ops.load_spec(sk, r->canary, &r->was, err) != ST_OK)
		r->was = NULL;
	snprintf(r->source, sizeof r->source, "ConfigMap perch-%s (context %s)",
	    strchr(r->canary, '/') + 1, cc.cfg->context);
	store_k8s_close(sk);
	cluster_disconnect(&cc);
	if (r->n_recs == 0) {
		cli_error(CMD_NAME, "no journal of canary %s on the cluster", r->canary);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/* The rollout to replay, checked against the spec's metrics. */
static int
pick(const struct replay_opts *o, struct run *r, const struct recorded_rollout **ro)
{
	size_t i, j, k;

	replay_journal_cut(r->recs, r->n_recs, &r->rec);
	if (r->rec.n == 0) {
		cli_error(CMD_NAME, "%s: the journal holds no rollout of %s (no record of a running "
		    "phase)", r->source, r->canary);
		return EXIT_USAGE;
	}
	if (o->rollout > (long)r->rec.n) {
		cli_error(CMD_NAME, "--rollout %ld: the journal holds %zu rollout%s", o->rollout,
		    r->rec.n, r->rec.n == 1 ? "" : "s");
		return EXIT_USAGE;
	}
	*ro = &r->rec.r[o->rollout > 0 ? (size_t)o->rollout - 1 : r->rec.n - 1];
	for (i = 0; i < r->cfg->n_metrics; i++) {
		for (j = 0; j < (*ro)->n; j++)
			for (k = 0; k < (*ro)->a[j].n; k++)
				if (strcmp((*ro)->a[j].v[k].metric, r->cfg->metrics[i].name) == 0)
					goto found;
		cli_error(CMD_NAME, "metric %s of the spec has no recorded check in that rollout "
		    "of %s (%zu analyses)", r->cfg->metrics[i].name, r->canary, (*ro)->n);
		return EXIT_USAGE;
found:		;
	}
	return EXIT_OK;
}

/* ---- the metrics of a time range ----------------------------------------- */

/* One time's answers into analysis a; EXIT_INFRA when Prometheus gave no
 * answer (unreachable, timeout, 5xx): a replay on missing metrics would
 * mislead. */
static int
fill_range(const struct canary_cfg *c, const struct metric_query *q,
    const struct metric_value *v, size_t k, struct replay_analysis *a)
{
	size_t i, j;

	for (j = 0; j < k; j++) {
		struct replay_value *rv;

		if (v[j].result == CHECK_ERROR && v[j].unavailable) {
			error_clean(v[j].err);
			return EXIT_INFRA;
		}
		i = (size_t)(q[j].metric - c->metrics);
		rv = &a->v[i];
		snprintf(rv->metric, sizeof rv->metric, "%s", c->metrics[i].name);
		if (q[j].volume) {
			rv->has_volume = v[j].result == CHECK_PASS;
			rv->volume = v[j].value;
			continue;
		}
		rv->result = v[j].result == CHECK_PASS ? CHECK_PASS : v[j].result;
		rv->has_value = v[j].result == CHECK_PASS && !isnan(v[j].value);
		rv->value = v[j].value;
	}
	return EXIT_OK;
}

/* Leaves out the metrics whose provider cannot query the past, each said
 * in the output ("not replayable: <type> cannot query the past"); a spec
 * left with none of its metrics is an error. */
static int
leave_out(struct run *r)
{
	struct canary_cfg *c = r->cfg;
	const struct metric_backend_ops *ops;
	size_t i = 0, had = c->n_metrics;
	char why[256];

	while (i < c->n_metrics) {
		ops = metric_backend_find(c->metrics[i].provider);
		if (ops == NULL || ops->past) {
			i++;
			continue;
		}
		r->left = xreallocarray(r->left, r->n_left + 1, sizeof *r->left);
		snprintf(r->left[r->n_left].metric, sizeof r->left->metric, "%s", c->metrics[i].name);
		r->left[r->n_left++].provider = metric_type_name(ops->type);
		canary_cfg_drop_metric(c, i);
	}
	if (had > 0 && c->n_metrics == 0) {
		metric_backend_not_past(r->left[0].provider, why, sizeof why);
		cli_error(CMD_NAME, "no metric of the spec can be replayed: %s", why);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/* "--prometheus, graphite": where the metrics of the replay come from. */
static void
name_source(struct run *r)
{
	const struct canary_cfg *c = r->cfg;
	size_t i, j, used = 0;
	const char *what;

	r->source[0] = '\0';
	for (i = 0; i < c->n_metrics && used < sizeof r->source; i++) {
		for (j = 0; j < i; j++)
			if (metric_type_find(c->metrics[j].provider) ==
			    metric_type_find(c->metrics[i].provider))
				break;
		if (j < i)
			continue;
		what = metric_type_find(c->metrics[i].provider) == MT_DEFAULT ? "--prometheus" :
		    c->metrics[i].provider;
		used += (size_t)snprintf(r->source + used, sizeof r->source - used, "%s%s",
		    used > 0 ? ", " : "", what);
	}
}

/* The metric backends of the replay, with the options' and the cluster's
 * credentials; NULL with *rc set when they cannot be made. */
static struct metric_backends *
make_backends(const struct replay_opts *o, struct run *r, int *rc)
{
	char token[METRIC_CLIENT_TOKEN_MAX];
	struct metric_backends *b;

	if ((*rc = metric_client_token(CMD_NAME, &o->mc, token, sizeof token)) != EXIT_OK)
		return NULL;
	b = metric_client_new(CMD_NAME, &o->mc, o->timeout_ms, token, o->cluster ? &r->cc : NULL,
	    r->set, rc);
	memset(token, 0, sizeof token);
	if (*rc == EXIT_FAILED)		/* a Secret that cannot be used: bad input */
		*rc = EXIT_USAGE;
	return b;
}

/* Evaluates every metric (and its request volume) at each interval of
 * [from, to], as perch run would at that time, each by the backend of its
 * provider. */
static int
read_range(const struct replay_opts *o, struct run *r)
{
	struct canary_cfg *c = r->cfg;
	int64_t step = (int64_t)c->interval_s * 1000, t;
	struct metric_query *q = xcalloc(2 * c->n_metrics + 1, sizeof *q);
	struct metric_value *v = xcalloc(2 * c->n_metrics + 1, sizeof *v);
	struct metric_backends *b = NULL;
	int rc = leave_out(r);
	size_t i, k;

	if (rc == EXIT_OK)
		b = make_backends(o, r, &rc);
	if (rc == EXIT_OK && (o->to_ms - o->from_ms) / step + 1 > RANGE_MAX) {
		cli_error(CMD_NAME, "--from to --to holds more than %d intervals", RANGE_MAX);
		rc = EXIT_USAGE;
	}
	metric_client_default_server(c);
	name_source(r);
	for (t = o->from_ms; rc == EXIT_OK && t <= o->to_ms; t += step) {
		struct replay_analysis *a;

		for (i = k = 0; i < c->n_metrics; i++) {
			q[k++] = (struct metric_query){ .canary = c, .metric = &c->metrics[i],
				.query = c->metrics[i].query, .at_ms = t };
			if (c->metrics[i].volume_query != NULL)
				q[k++] = (struct metric_query){ .canary = c, .metric = &c->metrics[i],
					.volume = true, .query = c->metrics[i].volume_query, .at_ms = t };
		}
		metric_backends_engine_ops()->eval(b, q, k, v);
		r->range = xreallocarray(r->range, r->n_range + 1, sizeof *r->range);
		a = &r->range[r->n_range++];
		a->time_ms = t;
		a->weight = -1;
		a->n = c->n_metrics;
		a->v = xcalloc(c->n_metrics + 1, sizeof *a->v);
		rc = fill_range(c, q, v, k, a);
	}
	free(q);
	free(v);
	metric_backends_free(b);
	return rc;
}

/* ---- the command ------------------------------------------------------------ */

static int
read_source(const struct replay_opts *o, struct run *r, const struct recorded_rollout **ro)
{
	char *def = NULL;
	int rc;

	*ro = NULL;
	if (o->range)
		return read_range(o, r);
	if (o->cluster) {
		rc = read_cluster(o, r);
	} else {
		if (o->dir == NULL && (def = store_dir_default_path()) == NULL) {
			cli_error(CMD_NAME, "no state directory: set HOME or use --state-dir");
			return EXIT_USAGE;
		}
		rc = read_dir(o->dir != NULL ? o->dir : def, r);
		free(def);
	}
	return rc == EXIT_OK ? pick(o, r, ro) : rc;
}

static void
cleanup(struct run *r)
{
	size_t i;

	replay_result_fini(&r->res);
	replay_journal_free(&r->rec);
	for (i = 0; i < r->n_range; i++)
		free(r->range[i].v);
	free(r->range);
	free(r->recs);
	free(r->left);
	check_cluster_close(&r->cc);
	canary_cfg_free(r->cfg);
	canary_cfg_free(r->was);
	spec_set_free(r->set);
}

int
cmd_replay(int argc, char **argv)
{
	struct replay_opts o = { .from_ms = -1, .to_ms = -1 };
	struct run r;
	const struct recorded_rollout *ro = NULL;
	struct replay_show show;
	char err[ERRMSG_MAX];
	int rc;

	memset(&r, 0, sizeof r);
	rc = parse(argc, argv, &o);
	if (rc == -1) {
		free(o.files);
		return cli_command_help(CMD_NAME);
	}
	if (rc == EXIT_OK)
		rc = cli_apply_logging(CMD_NAME);
	r.set = spec_set_new();
	if (rc == EXIT_OK)
		rc = load_spec(&o, &r);
	if (rc == EXIT_OK)
		rc = read_source(&o, &r, &ro);
	if (rc == EXIT_OK && replay_run(r.cfg, ro != NULL ? ro->start_ms :
	    o.from_ms - 2 * (int64_t)r.cfg->interval_s * 1000, ro != NULL ? ro->a : r.range,
	    ro != NULL ? ro->n : r.n_range, &r.res, err, sizeof err) != ST_OK) {
		error_clean(err);
		rc = EXIT_USAGE;
	}
	if (rc == EXIT_OK) {
		show = (struct replay_show){ .cfg = r.cfg, .was = r.was, .canary = r.canary,
			.source = r.source, .a = ro != NULL ? ro->a : r.range,
			.n = ro != NULL ? ro->n : r.n_range, .rec = ro,
			.rollout = ro != NULL ? (size_t)(ro - r.rec.r) + 1 : 0, .rollouts = r.rec.n,
			.res = &r.res, .json = o.json, .left = r.left, .n_left = r.n_left };
		replay_print(&show);
		rc = r.res.outcome == REPLAY_OUT_FAILED ? EXIT_FAILED : EXIT_OK;
	}
	cleanup(&r);
	free(o.files);
	return rc;
}
