/* test_spec.c — the Canary loader: every validation rule and lint over the
 * files of tests/data/spec/ with the exact message and position, Flagger's
 * defaults, durations, several files in one set, hostile input (binary,
 * huge, alias bombs) and field positions. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "spec/spec.h"
#include "util/status.h"

#define DATA "tests/data/spec/"

/* Loads files into one set, validates, and prints every finding. */
static char *
run_files(const char *const *files, size_t n, bool strict, struct spec_set **keep)
{
	struct diag_list dl;
	struct spec_set *set = spec_set_new();
	char *out = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&out, &len);

	diag_list_init(&dl, strict);
	for (i = 0; i < n; i++)
		spec_load_file(set, files[i], &dl);
	spec_validate(set, &dl);
	spec_check_drivable(set, &dl);	/* as perch validate */
	diag_list_sort(&dl);
	for (i = 0; i < dl.n; i++)
		diag_print(f, &dl.items[i]);
	fclose(f);
	diag_list_fini(&dl);
	if (keep != NULL)
		*keep = set;
	else
		spec_set_free(set);
	return out;
}

struct file_case {
	const char *name;
	bool strict;
	const char *want;
};

static const struct file_case file_cases[] = {
#include "tests/unit/spec_cases.inc"
};

static void
test_rules_and_lints(void **state)
{
	char path[256];
	const char *files[1] = { path };
	size_t i;
	char *got;

	(void)state;
	for (i = 0; i < sizeof file_cases / sizeof file_cases[0]; i++) {
		snprintf(path, sizeof path, DATA "%s.yaml", file_cases[i].name);
		got = run_files(files, 1, file_cases[i].strict, NULL);
		if (strcmp(got, file_cases[i].want) != 0)
			fail_msg("%s%s:\n--- got\n%s--- want\n%s", file_cases[i].name,
			    file_cases[i].strict ? " (strict)" : "", got, file_cases[i].want);
		free(got);
	}
}

static void
test_defaults(void **state)
{
	const char *files[] = { DATA "valid-canary.yaml" };
	struct spec_set *set;
	const struct spec_canary *c;
	char *out = run_files(files, 1, false, &set);

	(void)state;
	assert_string_equal(out, "");
	free(out);
	assert_int_equal(spec_set_n_canaries(set), 1);
	c = spec_set_canary(set, 0);
	assert_string_equal(c->meta.name, "checkout");
	assert_string_equal(c->meta.ns, "shop");
	assert_true(c->meta.valid);
	assert_string_equal(c->provider, "linkerd");
	assert_int_equal(c->analysis.interval_s, 30);
	assert_int_equal(c->analysis.threshold, 5);
	assert_int_equal(c->max_weight, 50);
	assert_int_equal(c->analysis.step_weight, 10);
	assert_int_equal(c->strategy, STRATEGY_CANARY);
	assert_int_equal(c->progress_deadline_s, 600);
	assert_int_equal(c->analysis.primary_ready_threshold, 100);
	assert_int_equal(c->analysis.canary_ready_threshold, 100);
	assert_string_equal(c->service.port_name, "http");
	assert_string_equal(c->service.target_port, "8080");
	assert_string_equal(c->apex, "checkout");
	assert_int_equal(c->analysis.n_metrics, 1);
	assert_int_equal(c->analysis.metrics[0].kind, METRIC_SUCCESS_RATE);
	assert_int_equal(c->analysis.metrics[0].interval_s, 60);
	assert_true(c->analysis.metrics[0].has_min);
	assert_true(c->analysis.metrics[0].min == 99.0);
	assert_true(c->min_requests == 20.0);
	assert_int_equal(c->nodata, NODATA_HOLD);
	assert_int_equal(c->scrape_interval_s, 15);
	assert_false(c->skip_analysis);
	spec_set_free(set);
}

/* Defaults where the file leaves things out, from a buffer. */
static void
test_defaults_unset(void **state)
{
	static const char doc[] =
	    "apiVersion: flagger.app/v1beta1\n"
	    "kind: Canary\n"
	    "metadata:\n"
	    "  name: web\n"
	    "  annotations:\n"
	    "    perch.dev/confirm: \"rollout, promotion\"\n"
	    "    perch.dev/no-data-policy: fail\n"
	    "spec:\n"
	    "  targetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n"
	    "  service: {port: 80, name: www}\n"
	    "  analysis:\n"
	    "    interval: 5s\n"
	    "    threshold: 1\n"
	    "    iterations: 4\n"
	    "    match: [{headers: {x-canary: {exact: 'yes'}}}]\n"
	    "    webhooks:\n"
	    "      - {name: gate, type: confirm-promotion, url: 'http://gate/'}\n"
	    "      - {name: load, url: 'http://load/', timeout: 1m30s}\n"
	    "---\n"
	    "apiVersion: flagger.app/v1beta1\n"
	    "kind: Canary\n"
	    "metadata: {name: ladder, namespace: shop}\n"
	    "spec:\n"
	    "  targetRef: {apiVersion: apps/v1, kind: Deployment, name: ladder}\n"
	    "  analysis: {interval: 1m, threshold: 2, stepWeights: [1, 2, 10, 80]}\n";
	struct diag_list dl;
	struct spec_set *set = spec_set_new();
	const struct spec_canary *c;

	(void)state;
	diag_list_init(&dl, false);
	assert_int_equal(spec_load_buffer(set, "mem.yaml", doc, sizeof doc - 1, &dl), ST_OK);
	assert_int_equal(spec_validate(set, &dl), ST_OK);
	assert_int_equal(spec_set_n_canaries(set), 2);
	c = spec_set_canary(set, 0);
	assert_string_equal(c->meta.ns, "default");
	assert_int_equal(c->analysis.interval_s, 10);	/* raised to the minimum */
	assert_int_equal(c->analysis.threshold, 1);
	assert_int_equal(c->strategy, STRATEGY_ABTESTING);
	assert_int_equal(c->max_weight, 100);
	assert_string_equal(c->apex, "www");
	assert_int_equal(c->confirm, CONFIRM_ROLLOUT | CONFIRM_PROMOTION);
	assert_int_equal(c->nodata, NODATA_FAIL);
	assert_int_equal(c->analysis.n_webhooks, 2);
	assert_int_equal(c->analysis.webhooks[0].type, HOOK_CONFIRM_PROMOTION);
	assert_int_equal(c->analysis.webhooks[0].timeout_ms, 10000);
	assert_int_equal(c->analysis.webhooks[1].type, HOOK_ROLLOUT);
	assert_int_equal(c->analysis.webhooks[1].timeout_ms, 90000);
	c = spec_set_canary(set, 1);
	assert_int_equal(c->max_weight, 80);
	assert_int_equal(c->analysis.n_step_weights, 4);
	assert_int_equal(c->strategy, STRATEGY_CANARY);
	assert_true(c->skip_analysis == false);
	spec_set_free(set);
	diag_list_fini(&dl);
}

/* Every field read, with its value. */
static void
test_kitchen_sink(void **state)
{
	const char *files[] = { DATA "valid-kitchen-sink.yaml" };
	static const enum hook_type types[] = { HOOK_CONFIRM_ROLLOUT, HOOK_PRE_ROLLOUT,
		HOOK_ROLLOUT, HOOK_CONFIRM_TRAFFIC_INCREASE, HOOK_CONFIRM_PROMOTION,
		HOOK_POST_ROLLOUT, HOOK_ROLLBACK, HOOK_EVENT, HOOK_ROLLOUT };
	struct spec_set *set;
	const struct spec_canary *c;
	const struct spec_analysis *a;
	const struct spec_metric_template *t;
	const struct spec_alert_provider *p;
	char *out = run_files(files, 1, true, &set);
	size_t i;

	(void)state;
	assert_string_equal(out, "");
	free(out);
	c = spec_set_canary(set, 0);
	a = &c->analysis;
	assert_string_equal(c->metrics_server, "http://prometheus.istio-system:9090");
	assert_true(c->autoscaler_ref.set);
	assert_string_equal(c->autoscaler_ref.kind, "HorizontalPodAutoscaler");
	assert_int_equal(c->progress_deadline_s, 120);
	assert_true(c->revert_on_deletion);
	assert_string_equal(c->apex, "catalog-svc");
	assert_string_equal(c->service.target_port, "http");
	assert_string_equal(c->service.port_name, "http-catalog");
	assert_int_equal(c->service.n_gateways, 2);
	assert_string_equal(c->service.hosts[0], "catalog.example.com");
	assert_non_null(c->service.match);
	assert_int_equal(c->service.match->kind, SPEC_SEQ);
	assert_string_equal(spec_node_str(spec_node_path(c->service.retries, "retryOn")),
	    "gateway-error,connect-failure");
	assert_non_null(c->service.cors_policy);
	assert_non_null(c->service.unmanaged_metadata);
	assert_int_equal(c->max_weight, 30);
	assert_int_equal(a->step_weight_promotion, 25);
	assert_true(a->mirror);
	assert_int_equal(a->mirror_weight, 50);
	assert_int_equal(a->primary_ready_threshold, 80);
	assert_int_equal(a->canary_ready_threshold, 90);
	assert_true(a->session_affinity.set);
	assert_string_equal(a->session_affinity.same_site, "Lax");
	assert_int_equal(a->session_affinity.max_age, 3600);
	assert_true(a->session_affinity.secure);
	assert_int_equal(a->n_metrics, 3);
	assert_int_equal(a->metrics[2].kind, METRIC_CUSTOM);
	assert_string_equal(a->metrics[2].template_variables[0].key, "route");
	assert_int_equal(a->metrics[2].interval_s, 120);
	assert_int_equal(a->n_webhooks, 9);
	for (i = 0; i < a->n_webhooks; i++)
		assert_int_equal(a->webhooks[i].type, types[i]);
	assert_int_equal(a->webhooks[1].timeout_ms, 180000);
	assert_int_equal(a->webhooks[2].retries, 2);
	assert_true(a->webhooks[2].disable_tls);
	assert_true(a->webhooks[3].mute_alert);
	assert_string_equal(a->webhooks[1].metadata[1].value, "./check-schema --strict");
	assert_string_equal(a->alerts[0].severity, "error");
	assert_int_equal(c->nodata, NODATA_PASS);
	assert_int_equal(c->confirm, CONFIRM_ROLLOUT);
	assert_int_equal(c->scrape_interval_s, 30);
	assert_int_equal(c->n_lint_ignore, 2);
	assert_int_equal(c->meta.n_labels, 1);
	t = spec_set_template(set, 0);
	assert_int_equal(t->n_headers, 2);
	assert_string_equal(t->headers[0].key, "X-Scope-OrgID");
	assert_string_equal(t->headers[0].value, "shop");
	assert_string_equal(t->secret_ref, "prom-auth");
	assert_true(t->insecure_skip_verify);
	assert_non_null(t->volume_query);
	p = spec_set_alert_provider(set, 0);	/* from the List */
	assert_string_equal(p->type, "msteams");
	assert_string_equal(p->channel, "general");
	assert_string_equal(p->username, "flagger");
	spec_set_free(set);
}

/* Merge keys: merged entries fill in, keys written beside << win. */
static void
test_merge_keys(void **state)
{
	const char *files[] = { DATA "merge-keys.yaml" };
	struct spec_set *set;
	const struct spec_analysis *a;
	char *out = run_files(files, 1, true, &set);

	(void)state;
	assert_string_equal(out, "");
	free(out);
	a = &spec_set_canary(set, 0)->analysis;
	assert_int_equal(a->n_metrics, 2);
	assert_int_equal(a->metrics[1].kind, METRIC_DURATION);
	assert_int_equal(a->metrics[1].interval_s, 60);
	assert_true(a->metrics[1].has_max);
	assert_false(a->metrics[1].has_min);
	assert_int_equal(a->n_webhooks, 2);
	assert_string_equal(a->webhooks[1].name, "load");
	assert_string_equal(a->webhooks[1].url, "http://tester.shop/");
	assert_int_equal(a->webhooks[1].type, HOOK_ROLLOUT);
	assert_int_equal(a->webhooks[1].timeout_ms, 30000);
	assert_int_equal(a->webhooks[1].retries, 2);
	spec_set_free(set);
}

/* Objects read from the API server come as JSON, with server fields. */
static void
test_json(void **state)
{
	static const char doc[] =
	    "{\"apiVersion\": \"flagger.app/v1beta1\", \"kind\": \"Canary\",\n"
	    " \"metadata\": {\"name\": \"web\", \"namespace\": \"shop\", \"uid\": \"0b3e\",\n"
	    "  \"generation\": 2, \"managedFields\": [{\"manager\": \"kubectl\"}],\n"
	    "  \"annotations\": {\"perch.dev/min-requests\": \"5\"}},\n"
	    " \"spec\": {\"targetRef\": {\"apiVersion\": \"apps/v1\", \"kind\": \"Deployment\",\n"
	    "  \"name\": \"web\"}, \"service\": {\"port\": 80},\n"
	    "  \"analysis\": {\"interval\": \"1m\", \"threshold\": 3, \"stepWeight\": 10,\n"
	    "   \"mirror\": false, \"metrics\": [{\"name\": \"request-success-rate\",\n"
	    "   \"thresholdRange\": {\"min\": 99.5}, \"interval\": \"1m\"}]}},\n"
	    " \"status\": {\"phase\": \"Succeeded\", \"canaryWeight\": 0}}\n";
	struct diag_list dl;
	struct spec_set *set = spec_set_new();
	const struct spec_canary *c;

	(void)state;
	diag_list_init(&dl, true);
	assert_int_equal(spec_load_buffer(set, "canaries shop/web", doc, sizeof doc - 1, &dl), ST_OK);
	assert_int_equal(spec_validate(set, &dl), ST_OK);
	assert_int_equal(dl.n, 0);
	c = spec_set_canary(set, 0);
	assert_int_equal(c->service.port, 80);
	assert_true(c->analysis.metrics[0].min == 99.5);
	assert_true(c->min_requests == 5.0);
	spec_set_free(set);
	diag_list_fini(&dl);
}

static void
test_durations(void **state)
{
	static const struct { const char *in; int st; long long ms; } rows[] = {
		{ "30s", ST_OK, 30000 },
		{ "1m", ST_OK, 60000 },
		{ "1m30s", ST_OK, 90000 },
		{ "500ms", ST_OK, 500 },
		{ "0s", ST_OK, 0 },
		{ "10m", ST_OK, 600000 },
		{ "1h", ST_INVALID, 0 },	/* the CRD pattern wants s or m first */
		{ "1.5m", ST_INVALID, 0 },
		{ "m", ST_INVALID, 0 },
		{ "", ST_INVALID, 0 },
		{ "30", ST_INVALID, 0 },
		{ "30sm", ST_INVALID, 0 },	/* passes the pattern, not Go */
		{ "1min", ST_INVALID, 0 },
	};
	long long ms;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		ms = -1;
		if (spec_parse_duration_ms(rows[i].in, &ms) != rows[i].st)
			fail_msg("'%s': status", rows[i].in);
		if (rows[i].st == ST_OK && ms != rows[i].ms)
			fail_msg("'%s': %lld ms, want %lld", rows[i].in, ms, rows[i].ms);
	}
}

/* A Canary finds its MetricTemplates in another file of the set. */
static void
test_several_files(void **state)
{
	const char *alone[] = { "examples/istio.yaml" };
	const char *both[] = { "examples/istio.yaml", "examples/metric-templates.yaml" };
	struct spec_set *set;
	const struct spec_canary *c;
	const struct spec_metric_template *t;
	char *out;

	(void)state;
	out = run_files(alone, 1, false, NULL);
	assert_non_null(strstr(out, "MetricTemplate shop/error-rate is not in the files given"));
	free(out);
	out = run_files(both, 2, false, &set);
	assert_string_equal(out, "");
	free(out);
	c = spec_set_canary(set, 0);
	t = spec_find_template(set, c, &c->analysis.metrics[0]);
	assert_non_null(t);
	assert_string_equal(t->meta.name, "error-rate");
	assert_string_equal(t->provider_type, "prometheus");
	assert_non_null(t->volume_query);
	assert_int_equal(spec_set_n_alert_providers(set), 1);
	assert_string_equal(spec_set_alert_provider(set, 0)->secret_ref, "slack-on-call");
	spec_set_free(set);
}

/* Findings come in the order the files were read, even when a later file's
 * finding was recorded first (the redefinition is found before the lints). */
static void
test_file_order(void **state)
{
	const char *files[] = { DATA "lint-no-guard.yaml", DATA "lint-big-step.yaml" };
	char *out = run_files(files, 2, false, NULL);

	(void)state;
	assert_string_equal(out,
	    DATA "lint-no-guard.yaml:16:5: warning: [no-guard] no minimum-traffic guard: "
	    "with little traffic a success rate of a handful of requests looks perfect; "
	    "set the annotation perch.dev/min-requests\n"
	    DATA "lint-big-step.yaml:1:1: warning: Canary shop/checkout is defined again "
	    "(first at " DATA "lint-no-guard.yaml:1): the later one replaces it\n"
	    DATA "lint-big-step.yaml:19:5: warning: [big-step] a step of 50% sends half "
	    "or more of the traffic to the new version at once: that is not a canary "
	    "(use 5-20, or a stepWeights ladder)\n");
	free(out);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Billion laughs, deeper than the file in tests/data: refused at once. */
static void
test_alias_bomb(void **state)
{
	char *doc = malloc(64 * 1024), *p = doc;
	struct diag_list dl;
	struct spec_set *set = spec_set_new();
	double t0;
	int i, j;

	(void)state;
	p += sprintf(p, "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
	for (i = 1; i < 30; i++) {
		p += sprintf(p, "a%d: &a%d [", i, i);
		for (j = 0; j < 10; j++)
			p += sprintf(p, "%s*a%d", j ? ", " : "", i - 1);
		p += sprintf(p, "]\n");
	}
	diag_list_init(&dl, false);
	t0 = now_s();
	assert_int_equal(spec_load_buffer(set, "bomb.yaml", doc, (size_t)(p - doc), &dl), ST_PARSE);
	assert_true(now_s() - t0 < 1.0);
	assert_int_equal(dl.n_errors, 1);
	assert_non_null(strstr(dl.items[0].message, "alias bomb"));
	diag_list_fini(&dl);
	spec_set_free(set);
	free(doc);
}

static void
test_hostile_buffers(void **state)
{
	static const char binary[] = "apiVersion: v1\nkind: \0Canary\n";
	static const char latin1[] = "metadata:\n  name: caf\xe9\n";
	struct diag_list dl;
	struct spec_set *set = spec_set_new();
	size_t big = SPEC_MAX_FILE_BYTES + 1;
	char *huge = malloc(big);

	(void)state;
	diag_list_init(&dl, false);
	assert_int_equal(spec_load_buffer(set, "b.yaml", binary, sizeof binary - 1, &dl), ST_PARSE);
	assert_string_equal(dl.items[0].message, "binary data (a NUL byte): expected a YAML text file");
	assert_int_equal(dl.items[0].line, 2);
	assert_int_equal(dl.items[0].col, 7);
	assert_int_equal(spec_load_buffer(set, "l.yaml", latin1, sizeof latin1 - 1, &dl), ST_PARSE);
	assert_string_equal(dl.items[1].message, "not UTF-8 text (byte 0xe9): expected a YAML text file");
	memset(huge, '#', big);
	assert_int_equal(spec_load_buffer(set, "h.yaml", huge, big, &dl), ST_TOOBIG);
	assert_non_null(strstr(dl.items[2].message, "file too large"));
	assert_int_equal(spec_load_file(set, DATA "no-such-file.yaml", &dl), ST_IO);
	assert_non_null(strstr(dl.items[3].message, "cannot read"));
	assert_int_equal(dl.n_errors, 4);
	free(huge);
	diag_list_fini(&dl);
	spec_set_free(set);
}

/* A plain document too big is told so; "alias bomb" is said only when the
 * document used aliases. */
static void
test_big_plain_document(void **state)
{
	size_t n = 210000, len = 0;
	char *doc = malloc(n * 2 + 16);
	struct diag_list dl;
	struct spec_set *set = spec_set_new();

	(void)state;
	len += (size_t)sprintf(doc, "a:\n");
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(doc + len, "-\n");
	diag_list_init(&dl, false);
	assert_int_equal(spec_load_buffer(set, "big.yaml", doc, len, &dl), ST_PARSE);
	assert_int_equal(dl.n_errors, 1);
	assert_string_equal(dl.items[0].message, "document has more than 200000 nodes: "
	    "refusing it (split it into several documents)");
	diag_list_fini(&dl);
	spec_set_free(set);
	free(doc);
}

/* Raw control characters are named with their position, not left to
 * libyaml (which names no line); what YAML allows raw passes this check. */
static void
test_control_characters(void **state)
{
	static const struct {
		const char *text;
		int line, col;		/* 0: no control-character error */
		unsigned int cp;
	} cases[] = {
		{ "a: 1\nb: \"x\x1b[31m\"\n", 2, 6, 0x1b },
		{ "a: b\x07\n", 1, 5, 0x07 },
		{ "a: b\x7f\n", 1, 5, 0x7f },
		{ "a: \xc3\xa9\xc2\x9b\n", 1, 5, 0x9b },
		{ "a: \xef\xbf\xbe\n", 1, 4, 0xfffe },
		{ "a:\tb\r\nc: \xc2\x85" "d\n", 0, 0, 0 },
		{ "a: \"\\e[31m \\u202e\"\n", 0, 0, 0 },
	};
	char want[160];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct diag_list dl;
		struct spec_set *set = spec_set_new();

		diag_list_init(&dl, false);
		spec_load_buffer(set, "c.yaml", cases[i].text, strlen(cases[i].text), &dl);
		if (cases[i].line == 0) {
			for (size_t k = 0; k < dl.n; k++)
				assert_null(strstr(dl.items[k].message, "control character"));
		} else {
			snprintf(want, sizeof want, "a control character (U+%04X) in the text: "
			    "YAML cannot hold it raw; write it as an escape in a double-quoted "
			    "string", cases[i].cp);
			assert_int_equal(dl.n_errors, 1);
			assert_string_equal(dl.items[0].message, want);
			assert_int_equal(dl.items[0].line, cases[i].line);
			assert_int_equal(dl.items[0].col, cases[i].col);
		}
		diag_list_fini(&dl);
		spec_set_free(set);
	}
}

static void
test_field_pos(void **state)
{
	const char *files[] = { DATA "valid-canary.yaml" };
	static const struct { const char *path; int line, col; } rows[] = {
		{ "spec.analysis.stepWeight", 20, 5 },
		{ "spec.analysis.metrics[0].thresholdRange.min", 24, 11 },
		{ "spec.analysis.metrics[0]", 22, 9 },
		{ "spec.analysis.noSuchField", 16, 3 },	/* the nearest parent */
		{ "metadata.annotations", 6, 3 },
	};
	struct spec_set *set;
	struct spec_pos pos;
	size_t i;
	char *out = run_files(files, 1, false, &set);

	(void)state;
	free(out);
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		pos = spec_field_pos(&spec_set_canary(set, 0)->meta, rows[i].path);
		if (pos.line != rows[i].line || pos.col != rows[i].col)
			fail_msg("%s: %d:%d, want %d:%d", rows[i].path, pos.line, pos.col,
			    rows[i].line, rows[i].col);
	}
	spec_set_free(set);
}

/* Every example validates without a finding, all files together. */
static void
test_examples(void **state)
{
	const char *files[] = { "examples/checkout-linkerd.yaml", "examples/istio.yaml",
		"examples/metric-templates.yaml", "examples/nginx.yaml",
		"examples/gatewayapi.yaml", "examples/kubernetes-bluegreen.yaml",
		"examples/ab-testing.yaml" };
	char *out = run_files(files, sizeof files / sizeof files[0], true, NULL);

	(void)state;
	assert_string_equal(out, "");
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules_and_lints),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_defaults_unset),
		cmocka_unit_test(test_kitchen_sink),
		cmocka_unit_test(test_merge_keys),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_several_files),
		cmocka_unit_test(test_file_order),
		cmocka_unit_test(test_alias_bomb),
		cmocka_unit_test(test_hostile_buffers),
		cmocka_unit_test(test_control_characters),
		cmocka_unit_test(test_big_plain_document),
		cmocka_unit_test(test_field_pos),
		cmocka_unit_test(test_examples),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
