/*
 * test_curl_missing.c — every network client without libcurl
 * ($PERCH_LIBCURL names a file that does not exist, set before anything
 * loads it): the Kubernetes client is refused with the reason, the
 * Prometheus client is made but says why it cannot query and every query
 * fails with that reason, a webhook call and an alert fail with it; nothing
 * crashes and every reason is one line naming the library and what needs
 * it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "engine/canary.h"
#include "k8s/rest.h"
#include "metrics/notify.h"
#include "metrics/prom.h"
#include "metrics/webhook.h"
#include "util/buf.h"
#include "util/status.h"

#define MISSING "/nonexistent/perch-test/libcurl.so.4"

static void
reason_ok(const char *why, const char *what)
{
	assert_non_null(why);
	if (strstr(why, what) == NULL || strstr(why, "needs libcurl") == NULL ||
	    strstr(why, MISSING ": cannot open shared object file") == NULL || strchr(why, '\n'))
		fail_msg("reason '%s'", why);
}

static void
test_k8s_refused(void **state)
{
	struct k8s_config cfg;
	struct k8s_client *c = (struct k8s_client *)&cfg;
	struct buf err;

	(void)state;
	memset(&cfg, 0, sizeof cfg);
	buf_init(&err, 1024);
	assert_int_equal(k8s_client_new(&cfg, NULL, &c, &err), ST_UNSUPPORTED);
	assert_null(c);
	reason_ok(buf_str(&err), "the Kubernetes API client");
	assert_int_equal(k8s_client_new(&cfg, NULL, &c, NULL), ST_UNSUPPORTED);	/* no err buffer */
	buf_fini(&err);
}

static void
test_prom_says_why(void **state)
{
	struct prom *p = prom_new(NULL);
	struct kv hdr = { .key = (char *)"X-Scope-OrgID", .value = (char *)"team" };
	struct prom_server_cfg sc = { .url = "http://127.0.0.1:1", .headers = &hdr, .n_headers = 1 };
	struct prom_req reqs[2] = { { NULL, "up", 0 }, { "http://127.0.0.1:2", "up", 0 } };
	struct prom_res res[2];
	size_t i;

	(void)state;
	reason_ok(prom_unusable(p), "the Prometheus client");
	assert_int_equal(prom_set_server(p, &sc), ST_OK);
	assert_int_equal(prom_set_server(p, &sc), ST_OK);	/* replaced */
	prom_query_batch(p, reqs, 2, res);
	for (i = 0; i < 2; i++) {
		assert_int_equal(res[i].status, ST_UNSUPPORTED);
		assert_int_equal(res[i].v.result, CHECK_ERROR);
		reason_ok(res[i].v.err, "the Prometheus client");
		assert_false(prom_unreachable(&res[i]));
	}
	prom_free(p);
}

static void
test_webhook_fails(void **state)
{
	struct webhook_client *wc = webhook_client_new(NULL);
	struct hook_cfg h = { .name = (char *)"gate", .url = (char *)"http://127.0.0.1:1/",
		.type = HOOK_CONFIRM_ROLLOUT };
	struct canary_cfg cc;
	struct hook_call call;
	struct hook_result out;

	(void)state;
	memset(&cc, 0, sizeof cc);
	memset(&call, 0, sizeof call);
	call.canary = &cc;
	call.hook = &h;
	assert_int_equal(http_webhook_ops.call(wc, &call, 1, &out), 1);
	assert_false(out.ok);
	reason_ok(out.msg, "webhooks");
	webhook_client_free(wc);
}

static void
test_alert_fails(void **state)
{
	struct notifier *n = notifier_new();
	struct notify_provider np = { .ns = "shop", .name = "on-call", .type = NOTIFY_SLACK,
		.address = "http://127.0.0.1:1/hooks/secret-path" };
	struct alert_cfg ac = { .name = (char *)"a", .provider = (char *)"on-call" };
	struct canary_cfg cc;
	struct alert_msg m;
	char err[ERRMSG_MAX] = "";

	(void)state;
	memset(&cc, 0, sizeof cc);
	cc.ns = (char *)"shop";
	cc.name = (char *)"checkout";
	memset(&m, 0, sizeof m);
	m.canary = &cc;
	m.alert = &ac;
	m.message = "New revision detected";
	notifier_add(n, &np);
	assert_int_equal(http_alert_ops.send(n, &m, err), ST_UNSUPPORTED);
	reason_ok(err, "alerts");
	assert_null(strstr(err, "secret-path"));
	notifier_free(n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_k8s_refused),
		cmocka_unit_test(test_prom_says_why),
		cmocka_unit_test(test_webhook_fails),
		cmocka_unit_test(test_alert_fails),
	};

	setenv("PERCH_LIBCURL", MISSING, 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
