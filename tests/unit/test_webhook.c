/* test_webhook.c — webhook payloads (reference §5.3) and calls against a
 * scripted local server: the <= 202 rule, retries with backoff on 5xx, 429
 * and connection errors, timeouts, stop at the first failure, and the
 * sanitized answer as the message. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "metrics/webhook.h"
#include "tests/unit/helper_httpd.h"
#include "util/status.h"

static struct kv md[] = {
	{ .key = (char *)"type", .value = (char *)"cmd" },
	{ .key = (char *)"cmd", .value = (char *)"hey -z 1m -q 10 -c 2 http://podinfo-canary.test:9898/" },
	{ .key = (char *)"eventType", .value = (char *)"override-attempt" },
};

static struct canary_cfg canary = { .ns = (char *)"test", .name = (char *)"podinfo" };

static void
test_payloads(void **state)
{
	struct hook_cfg h = { .name = (char *)"load", .type = HOOK_ROLLOUT, .metadata = md,
	    .n_metadata = 2 };
	struct hook_cfg bare = { .name = (char *)"gate", .type = HOOK_CONFIRM_ROLLOUT };
	struct hook_cfg ev = { .name = (char *)"ev", .type = HOOK_EVENT, .metadata = md,
	    .n_metadata = 3 };
	struct hook_call c = { .canary = &canary, .hook = &h, .phase = PHASE_PROGRESSING,
	    .checksum = "85d557f47b" };
	char *s;

	(void)state;
	s = webhook_payload(&c);
	assert_string_equal(s, "{\"name\":\"podinfo\",\"namespace\":\"test\",\"phase\":\"Progressing\","
	    "\"checksum\":\"85d557f47b\",\"metadata\":{\"cmd\":\"hey -z 1m -q 10 -c 2 "
	    "http://podinfo-canary.test:9898/\",\"type\":\"cmd\"}}");
	free(s);
	c.hook = &bare;
	c.phase = PHASE_WAITING;
	s = webhook_payload(&c);
	assert_string_equal(s, "{\"name\":\"podinfo\",\"namespace\":\"test\",\"phase\":\"Waiting\","
	    "\"checksum\":\"85d557f47b\"}");
	free(s);
	c.hook = &ev;
	c.event_message = "New revision detected! Scaling up podinfo.test";
	c.event_type = SEV_NORMAL;
	c.event_time_ms = 1578607635167LL;
	s = webhook_payload(&c);
	assert_string_equal(s, "{\"name\":\"podinfo\",\"namespace\":\"test\",\"phase\":\"Waiting\","
	    "\"checksum\":\"85d557f47b\",\"metadata\":{\"cmd\":\"hey -z 1m -q 10 -c 2 "
	    "http://podinfo-canary.test:9898/\",\"eventMessage\":\"New revision detected! Scaling up "
	    "podinfo.test\",\"eventType\":\"Normal\",\"timestamp\":\"1578607635167\",\"type\":\"cmd\"}}");
	free(s);
	c.event_type = SEV_ERROR;
	s = webhook_payload(&c);
	assert_non_null(strstr(s, "\"eventType\":\"Warning\""));
	free(s);
	/* Go's escaping of HTML characters and line separators */
	c.hook = &bare;
	c.checksum = "a<b>&c\xe2\x80\xa8" "d\xe2\x80\xa9\xc3\xa9\"\n";
	s = webhook_payload(&c);
	assert_string_equal(s, "{\"name\":\"podinfo\",\"namespace\":\"test\",\"phase\":\"Waiting\","
	    "\"checksum\":\"a\\u003cb\\u003e\\u0026c\\u2028d\\u2029\xc3\xa9\\\"\\n\"}");
	free(s);
}

static const struct httpd_rule rules[] = {
	{ .match = "POST /ok ", .status = 200, .body = "approved" },
	{ .match = "POST /accepted ", .status = 202 },
	{ .match = "POST /203 ", .status = 203, .body = "not quite" },
	{ .match = "POST /deny ", .status = 403, .body = "denied:\x1b[31m red \x1b]0;title\x07 by policy\n" },
	{ .match = "POST /boom ", .status = 500, .body = "internal" },
	{ .match = "POST /busy ", .status = 429, .body = "slow down" },
	{ .match = "POST /slow ", .status = 200, .delay_ms = 800 },
};

struct row {
	const char *path;
	int retries;
	int timeout_ms;
	bool ok;
	int http;
	const char *msg;	/* exact, or a prefix when it ends in '*' */
	size_t posts;		/* requests the server saw */
};

static const char *const url_secrets[] = { "hunter2", "p@ss", "ss@", "T0KEN", "s3cret", "k3y", "def" };

static void
check_row(struct httpd *h, const struct webhook_client *wc, const struct row *r, size_t i)
{
	char url[128];
	struct hook_cfg hook = { .name = (char *)"h", .url = url, .type = HOOK_ROLLOUT,
	    .retries = r->retries, .timeout_ms = r->timeout_ms };
	struct hook_call call = { .canary = &canary, .hook = &hook, .phase = PHASE_PROGRESSING,
	    .checksum = "abc" };
	struct hook_result res;
	size_t before = httpd_count(h), len = strlen(r->msg);

	if (strncmp(r->path, "http", 4) == 0)
		snprintf(url, sizeof url, "%s", r->path);
	else
		snprintf(url, sizeof url, "http://127.0.0.1:%d%s", httpd_port(h), r->path);
	assert_int_equal(http_webhook_ops.call((void *)wc, &call, 1, &res), 1);
	if (res.ok != r->ok || res.http_status != r->http)
		fail_msg("row %zu: ok %d http %d (%s)", i, res.ok, res.http_status, res.msg);
	if (len > 0 && r->msg[len - 1] == '*' ? strncmp(res.msg, r->msg, len - 1) != 0 :
	    strcmp(res.msg, r->msg) != 0)
		fail_msg("row %zu: message '%s', want '%s'", i, res.msg, r->msg);
	/* the secrets of the URLs below, wherever curl's message may put them */
	for (size_t k = 0; k < sizeof url_secrets / sizeof url_secrets[0]; k++)
		if (strstr(res.msg, url_secrets[k]) != NULL)
			fail_msg("row %zu: message '%s' shows '%s'", i, res.msg, url_secrets[k]);
	if (httpd_count(h) - before != r->posts)
		fail_msg("row %zu: %zu requests, want %zu", i, httpd_count(h) - before, r->posts);
}

static void
test_calls(void **state)
{
	struct httpd *h = httpd_start(rules, sizeof rules / sizeof rules[0]);
	struct webhook_opts o = { .backoff_min_ms = 10, .backoff_max_ms = 20 };
	struct webhook_client *wc = webhook_client_new(&o);
	char want[128];
	const struct row rows[] = {
		{ "/ok", 0, 0, true, 200, "approved", 1 },
		{ "/accepted", 0, 0, true, 202, "", 1 },
		{ "/203", 0, 0, false, 203, "not quite", 1 },
		{ "/deny", 3, 0, false, 403, "denied: red  by policy ", 1 },
		{ "/boom", 0, 0, false, 500, "POST http://127.0.0.1:*", 1 },
		{ "/boom", 2, 0, false, 500, want, 3 },
		{ "/busy", 1, 0, false, 429, "POST *", 2 },
		{ "/missing", 0, 0, false, 404, "HTTP 404", 1 },
		{ "/slow", 0, 200, false, 0, "POST *", 1 },
		{ "http://127.0.0.1:1/x", 1, 0, false, 0, "POST http://127.0.0.1:1/x giving up after 2 attempt(s): *", 0 },
		{ "http://user:hunter2@127.0.0.1:1/x", 0, 0, false, 0,
		  "POST http://user:xxxxx@127.0.0.1:1/x giving up after 1 attempt(s)*", 0 },
		/* a password holding '@', a user name alone (a token), query values */
		{ "http://user:p@ss@127.0.0.1:1/x", 0, 0, false, 0,
		  "POST http://user:xxxxx@127.0.0.1:1/x giving up after 1 attempt(s)*", 0 },
		{ "http://ghp_T0KEN@127.0.0.1:1/x?token=s3cret&debug&key=k3y#frag", 0, 0, false, 0,
		  "POST http://xxxxx@127.0.0.1:1/x?token=xxxxx&debug&key=xxxxx giving up after 1 attempt(s)*", 0 },
		{ "http://127.0.0.1:1?sig=abc@def", 0, 0, false, 0,
		  "POST http://127.0.0.1:1?sig=xxxxx giving up after 1 attempt(s)*", 0 },
	};
	size_t i;
	char *req;

	(void)state;
	snprintf(want, sizeof want, "POST http://127.0.0.1:%d/boom giving up after 3 attempt(s)",
	    httpd_port(h));
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++)
		check_row(h, wc, &rows[i], i);
	req = httpd_request(h, 0);
	assert_non_null(strstr(req, "POST /ok HTTP/1.1\r\n"));
	assert_non_null(strstr(req, "Content-Type: application/json\r\n"));
	assert_non_null(strstr(req, "\r\n\r\n{\"name\":\"podinfo\",\"namespace\":\"test\","
	    "\"phase\":\"Progressing\",\"checksum\":\"abc\"}"));
	free(req);
	webhook_client_free(wc);
	httpd_stop(h);
}

static void
test_stops_at_first_failure(void **state)
{
	struct httpd *h = httpd_start(rules, sizeof rules / sizeof rules[0]);
	char u1[64], u2[64], u3[64];
	struct hook_cfg hooks[3] = {
		{ .name = (char *)"a", .url = u1 }, { .name = (char *)"b", .url = u2 },
		{ .name = (char *)"c", .url = u3 },
	};
	struct hook_call calls[3];
	struct hook_result res[3];
	size_t i;

	(void)state;
	snprintf(u1, sizeof u1, "http://127.0.0.1:%d/ok", httpd_port(h));
	snprintf(u2, sizeof u2, "http://127.0.0.1:%d/deny", httpd_port(h));
	snprintf(u3, sizeof u3, "http://127.0.0.1:%d/ok", httpd_port(h));
	for (i = 0; i < 3; i++)
		calls[i] = (struct hook_call){ .canary = &canary, .hook = &hooks[i],
		    .phase = PHASE_PROGRESSING };
	assert_int_equal(http_webhook_ops.call(NULL, calls, 3, res), 2);
	assert_true(res[0].ok);
	assert_false(res[1].ok);
	assert_int_equal(httpd_count(h), 2);
	hooks[1].url = u3;
	assert_int_equal(http_webhook_ops.call(NULL, calls, 3, res), 3);
	assert_true(res[2].ok);
	httpd_stop(h);
}

/* disableTLS: an HTTPS hook with a self-signed certificate fails unless
 * verification is off.  The server is python3's, started here. */
static void
test_disable_tls(void **state)
{
	static const char server[] =
	    "import http.server, ssl, sys\n"
	    "class H(http.server.BaseHTTPRequestHandler):\n"
	    "    def log_message(self, *a): pass\n"
	    "    def do_POST(self):\n"
	    "        self.rfile.read(int(self.headers['Content-Length']))\n"
	    "        self.send_response(200); self.send_header('Content-Length', '2')\n"
	    "        self.end_headers(); self.wfile.write(b'ok')\n"
	    "s = http.server.HTTPServer(('127.0.0.1', 0), H)\n"
	    "c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); c.load_cert_chain(sys.argv[1], sys.argv[2])\n"
	    "s.socket = c.wrap_socket(s.socket, server_side=True)\n"
	    "print(s.server_address[1], flush=True)\n"
	    "s.handle_request(); s.handle_request()\n";
	char dir[] = "/tmp/perch-webhook-tls.XXXXXX", cmd[1024], url[64], port[16] = "";
	struct hook_cfg hook = { .name = (char *)"tls", .url = url };
	struct hook_call call = { .canary = &canary, .hook = &hook, .phase = PHASE_PROGRESSING };
	struct hook_result res;
	FILE *py, *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(cmd, sizeof cmd, "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=t "
	    "-addext subjectAltName=IP:127.0.0.1 -keyout %s/key.pem -out %s/cert.pem >/dev/null 2>&1",
	    dir, dir);
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof cmd, "%s/server.py", dir);
	f = fopen(cmd, "w");
	assert_non_null(f);
	fputs(server, f);
	fclose(f);
	snprintf(cmd, sizeof cmd, "python3 %s/server.py %s/cert.pem %s/key.pem", dir, dir, dir);
	py = popen(cmd, "r");
	assert_non_null(py);
	assert_non_null(fgets(port, sizeof port, py));
	snprintf(url, sizeof url, "https://127.0.0.1:%d/hook", atoi(port));
	http_webhook_ops.call(NULL, &call, 1, &res);
	assert_false(res.ok);
	assert_non_null(strstr(res.msg, "certificate"));
	hook.disable_tls = true;
	http_webhook_ops.call(NULL, &call, 1, &res);
	assert_true(res.ok);
	assert_string_equal(res.msg, "ok");
	pclose(py);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_payloads),
		cmocka_unit_test(test_calls),
		cmocka_unit_test(test_stops_at_first_failure),
		cmocka_unit_test(test_disable_tls),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
