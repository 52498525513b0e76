/* test_notify.c — alerts to chat services (metrics/notify.c): Flagger's
 * payload per provider type against files under tests/data/alerts, the
 * discord URL, and the POSTs to a local server: headers, body, token,
 * proxy, timeout, failures whose reasons hold no secret. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helper_httpd.h"
#include "metrics/notify.h"
#include "util/status.h"
#include "util/xalloc.h"

#define DATA "tests/data/alerts/"

static const struct alert_field fields[] = {
	{ "Target", "Deployment/podinfo.test" },
	{ "Failed checks threshold", "5" },
	{ "Progress deadline", "60s" },
	{ "Traffic routing", "Weight step: 10 max: 50" },
};

static struct canary_cfg canary = { .ns = "test", .name = "podinfo" };

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *s = xcalloc(1, 65536);
	size_t n;

	if (f == NULL)
		fail_msg("cannot open %s", path);
	n = fread(s, 1, 65535, f);
	fclose(f);
	while (n > 0 && (s[n - 1] == '\n'))
		s[--n] = '\0';
	return s;
}

static void
test_payloads(void **state)
{
	static const struct {
		enum notify_type type;
		bool error;
		const char *file;
	} rows[] = {
		{ NOTIFY_SLACK,   false, "slack-info.json" },
		{ NOTIFY_SLACK,   true,  "slack-error.json" },
		{ NOTIFY_DISCORD, false, "discord-info.json" },
		{ NOTIFY_DISCORD, true,  "discord-error.json" },
		{ NOTIFY_ROCKET,  false, "rocket-info.json" },
		{ NOTIFY_ROCKET,  true,  "rocket-error.json" },
		{ NOTIFY_MSTEAMS, false, "msteams-info.json" },
		{ NOTIFY_MSTEAMS, true,  "msteams-error.json" },
		{ NOTIFY_GCHAT,   false, "gchat-info.json" },
		{ NOTIFY_GCHAT,   true,  "gchat-error.json" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct alert_msg m = { .canary = &canary };
		char path[128], *want, *got;

		if (rows[i].error) {
			m.severity = ALERT_ERROR;
			m.message = "Promotion failed, primary not ready: <b> & c";
		} else {
			m.severity = ALERT_INFO;
			m.message = "New revision detected, progressing canary analysis.";
			m.fields = fields;
			m.n_fields = 4;
		}
		snprintf(path, sizeof path, DATA "%s", rows[i].file);
		want = slurp(path);
		/* The error rows name a channel and a user; the info rows take
		 * the defaults (general, flagger). */
		got = notify_payload(rows[i].type, rows[i].error ? "releases" : NULL,
		    rows[i].error ? "perch" : "", &m);
		if (strcmp(got, want) != 0)
			fail_msg("%s:\n got  %s\n want %s", rows[i].file, got, want);
		free(got);
		free(want);
	}
	assert_int_equal(notify_type_from_name("gchat"), NOTIFY_GCHAT);
	assert_int_equal(notify_type_from_name("pagerduty"), -1);
}

static void
test_urls(void **state)
{
	static const struct {
		enum notify_type type;
		const char *in, *out;
	} rows[] = {
		{ NOTIFY_DISCORD, "https://discord.com/api/webhooks/1/abc",
		  "https://discord.com/api/webhooks/1/abc/slack" },
		{ NOTIFY_DISCORD, "https://discord.com/api/webhooks/1/abc/",
		  "https://discord.com/api/webhooks/1/abc/slack" },
		{ NOTIFY_DISCORD, "https://discord.com/api/webhooks/1/abc/slack",
		  "https://discord.com/api/webhooks/1/abc/slack" },
		{ NOTIFY_DISCORD, "https://discord.com/api/webhooks/1/abc?wait=true",
		  "https://discord.com/api/webhooks/1/abc/slack?wait=true" },
		{ NOTIFY_SLACK, "https://hooks.slack.com/services/T/B/X",
		  "https://hooks.slack.com/services/T/B/X" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		char *u = notify_url(rows[i].type, rows[i].in);

		if (strcmp(u, rows[i].out) != 0)
			fail_msg("%s -> %s, want %s", rows[i].in, u, rows[i].out);
		free(u);
	}
}

static const struct httpd_rule rules[] = {
	{ .match = "POST /slow", .status = 200, .delay_ms = 2000 },
	{ .match = "POST /hooks/secret-path-500", .status = 500,
	  .body = "bad token tok-999 for /hooks/secret-path-500" },
	{ .match = "POST /hooks/plain-404", .status = 404, .body = "no_service" },
	{ .match = NULL, .status = 200, .body = "ok" },
};

static int
send_to(struct notifier *n, const char *provider, enum alert_severity sev, char *err)
{
	struct alert_cfg a = { .name = "on-call", .severity = ALERT_INFO, .provider = (char *)provider };
	struct alert_msg m = { .canary = &canary, .alert = &a, .severity = sev,
		.message = "Failed checks threshold reached 5" };

	return http_alert_ops.send(n, &m, err);
}

static void
add(struct notifier *n, const char *name, enum notify_type type, const char *address,
    const char *token, const char *proxy)
{
	struct notify_provider p = { .ns = "test", .name = name, .type = type, .address = address,
		.token = token, .proxy = proxy, .channel = "releases" };

	notifier_add(n, &p);
}

static void
test_send(void **state)
{
	struct httpd *h = httpd_start(rules, sizeof rules / sizeof rules[0]);
	struct notifier *n = notifier_new();
	char base[64], url[160], err[ERRMSG_MAX], *req;
	struct notify_provider broken = { .ns = "test", .name = "broken", .type = NOTIFY_SLACK,
		.broken = "secret slack-url has no address" };

	(void)state;
	httpd_url(h, base, sizeof base);
	snprintf(url, sizeof url, "%s/hooks/T1/B2/slack-secret", base);
	add(n, "slack", NOTIFY_SLACK, url, "tok-123", NULL);
	snprintf(url, sizeof url, "%s/hooks/teams", base);
	add(n, "teams", NOTIFY_MSTEAMS, url, NULL, NULL);
	snprintf(url, sizeof url, "%s/api/webhooks/9/discord-secret", base);
	add(n, "discord", NOTIFY_DISCORD, url, NULL, NULL);
	snprintf(url, sizeof url, "%s/hooks/secret-path-500", base);
	add(n, "echo", NOTIFY_ROCKET, url, "tok-999", NULL);
	snprintf(url, sizeof url, "%s/hooks/plain-404", base);
	add(n, "gone", NOTIFY_GCHAT, url, NULL, NULL);
	/* Through a proxy (the local server): the request line holds the
	 * absolute URL, and nothing connects to the far host itself. */
	add(n, "proxied", NOTIFY_SLACK, "http://chat.example.invalid/hook", NULL, base);
	notifier_add(n, &broken);

	assert_int_equal(send_to(n, "slack", ALERT_ERROR, err), ST_OK);
	req = httpd_request(h, 0);
	assert_non_null(strstr(req, "POST /hooks/T1/B2/slack-secret HTTP/1.1"));
	assert_non_null(strstr(req, "Content-Type: application/json"));
	assert_non_null(strstr(req, "Authorization: Bearer tok-123"));
	assert_non_null(strstr(req, "\"channel\":\"releases\",\"username\":\"flagger\""));
	assert_non_null(strstr(req, "\"color\":\"danger\""));
	assert_non_null(strstr(req, "\"text\":\"Failed checks threshold reached 5\""));
	free(req);

	assert_int_equal(send_to(n, "teams", ALERT_WARN, err), ST_OK);
	req = httpd_request(h, 1);
	assert_non_null(strstr(req, "POST /hooks/teams HTTP/1.1"));
	assert_null(strstr(req, "Authorization:"));
	assert_non_null(strstr(req, "\"themeColor\":\"0076D7\""));
	free(req);

	assert_int_equal(send_to(n, "discord", ALERT_INFO, err), ST_OK);
	req = httpd_request(h, 2);
	assert_non_null(strstr(req, "POST /api/webhooks/9/discord-secret/slack HTTP/1.1"));
	free(req);

	/* A failure names the type and the status; a body that echoes the
	 * token or the address is left out. */
	assert_int_equal(send_to(n, "echo", ALERT_ERROR, err), ST_HTTP);
	assert_string_equal(err, "rocket: HTTP 500");
	assert_int_equal(send_to(n, "gone", ALERT_ERROR, err), ST_HTTP);
	assert_string_equal(err, "gchat: HTTP 404: no_service");

	assert_int_equal(send_to(n, "proxied", ALERT_INFO, err), ST_OK);
	req = httpd_request(h, 5);
	assert_non_null(strstr(req, "POST http://chat.example.invalid/hook HTTP/1.1"));
	free(req);

	assert_int_equal(send_to(n, "broken", ALERT_INFO, err), ST_INVALID);
	assert_string_equal(err, "secret slack-url has no address");
	assert_int_equal(send_to(n, "missing", ALERT_INFO, err), ST_NOTFOUND);
	assert_string_equal(err, "AlertProvider not found");
	assert_int_equal(httpd_count(h), 6);

	notifier_free(n);
	httpd_stop(h);
}

static void
test_timeout(void **state)
{
	struct httpd *h = httpd_start(rules, sizeof rules / sizeof rules[0]);
	struct notifier *n = notifier_new();
	char url[160], err[ERRMSG_MAX];

	(void)state;
	httpd_url(h, url, sizeof url);
	strcat(url, "/slow/secret");
	add(n, "slow", NOTIFY_SLACK, url, NULL, NULL);
	notifier_set_timeout_ms(n, 300);
	assert_int_equal(send_to(n, "slow", ALERT_INFO, err), ST_TIMEOUT);
	assert_non_null(strstr(err, "slack: "));
	assert_null(strstr(err, "secret"));
	assert_null(strstr(err, "127.0.0.1"));
	notifier_free(n);
	httpd_stop(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_payloads),
		cmocka_unit_test(test_urls),
		cmocka_unit_test(test_send),
		cmocka_unit_test(test_timeout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
