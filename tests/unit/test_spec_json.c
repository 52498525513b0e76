/* test_spec_json.c — Canary fields passed through as YAML (analysis.match,
 * service.match) become the JSON the route objects carry: types as an API
 * server reads YAML, quoted scalars always strings. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "app/spec_json.h"
#include "spec/diag.h"
#include "spec/spec.h"
#include "util/status.h"

static const char doc[] =
    "apiVersion: flagger.app/v1beta1\n"
    "kind: Canary\n"
    "metadata: {name: web, namespace: shop}\n"
    "spec:\n"
    "  provider: istio\n"
    "  targetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n"
    "  service:\n"
    "    port: 80\n"
    "    match:\n"
    "      - uri: {prefix: /api}\n"
    "        port: 8080\n"
    "        ignoreUriCase: true\n"
    "  analysis:\n"
    "    interval: 1m\n"
    "    threshold: 5\n"
    "    iterations: 10\n"
    "    match:\n"
    "      - headers:\n"
    "          x-canary: {exact: insider}\n"
    "          x-build: {exact: '42'}\n"
    "      - headers:\n"
    "          cookie: {regex: \"^(.*?;)?(canary=always)(;.*)?$\"}\n"
    "        sourceLabels: {app: ~}\n";

static const struct { const char *path, *want; } cases[] = {
	{ "spec.service.match", "[{\"uri\":{\"prefix\":\"/api\"},\"port\":8080,\"ignoreUriCase\":true}]" },
	{ "spec.analysis.match", "[{\"headers\":{\"x-canary\":{\"exact\":\"insider\"},\"x-build\":"
	  "{\"exact\":\"42\"}}},{\"headers\":{\"cookie\":{\"regex\":\"^(.*?;)?(canary=always)(;.*)?$\"}},"
	  "\"sourceLabels\":{\"app\":null}}]" },
	{ "spec.service.port", "80" },
	{ "spec.nothing", "null" },
};

static void
test_node_json(void **state)
{
	struct spec_set *set = spec_set_new();
	struct diag_list dl;
	size_t i;

	(void)state;
	diag_list_init(&dl, false);
	assert_int_equal(spec_load_buffer(set, "web.yaml", doc, strlen(doc), &dl), ST_OK);
	assert_int_equal(spec_set_n_canaries(set), 1);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		json_t *got = spec_node_json(spec_node_path(spec_set_canary(set, 0)->meta.root,
		    cases[i].path));
		json_t *want = json_loads(cases[i].want, JSON_DECODE_ANY, NULL);
		char *text = json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY);

		assert_non_null(want);
		if (!json_equal(got, want))
			fail_msg("%s: got %s, want %s", cases[i].path, text, cases[i].want);
		free(text);
		json_decref(got);
		json_decref(want);
	}
	diag_list_fini(&dl);
	spec_set_free(set);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_node_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
