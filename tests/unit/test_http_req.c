/* test_http_req.c — the request heads the /metrics server accepts and
 * refuses (util/http_req.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/http_req.h"
#include "util/status.h"

static void
test_table(void **state)
{
	static const struct { const char *in; int st; const char *method, *path; } tab[] = {
		{ "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n", ST_OK, "GET", "/metrics" },
		{ "HEAD /healthz?verbose=1 HTTP/1.0\n\n", ST_OK, "HEAD", "/healthz" },
		{ "GET /metrics HTTP/1.1\r\nHost: a\r\n", ST_AGAIN, "", "" },
		{ "GET /metrics HTTP/1.1", ST_AGAIN, "", "" },
		{ "GET /metrics HTTP/2.0\r\n\r\n", ST_PARSE, "", "" },
		{ "GET metrics HTTP/1.1\r\n\r\n", ST_PARSE, "", "" },
		{ "get /metrics HTTP/1.1\r\n\r\n", ST_PARSE, "", "" },
		{ "GET  /metrics HTTP/1.1\r\n\r\n", ST_PARSE, "", "" },
		{ "GET /metrics HTTP/1.1\r\nNoColon\r\n\r\n", ST_PARSE, "", "" },
		{ "GET /metrics HTTP/1.1\r\nBad Name: x\r\n\r\n", ST_PARSE, "", "" },
		{ "GET /metrics HTTP/1.1\r\nX: a\x01" "b\r\n\r\n", ST_PARSE, "", "" },
		{ "GET /a\x7f HTTP/1.1\r\n\r\n", ST_PARSE, "", "" },
		{ "\r\n\r\n", ST_PARSE, "", "" },
	};
	struct http_req r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof tab / sizeof tab[0]; i++) {
		int st = http_req_parse(tab[i].in, strlen(tab[i].in), &r);

		if (st != tab[i].st)
			fail_msg("case %zu: got %d, want %d", i, st, tab[i].st);
		if (st == ST_OK) {
			assert_string_equal(r.method, tab[i].method);
			assert_string_equal(r.path, tab[i].path);
			assert_int_equal(r.head_len, strlen(tab[i].in));
		}
	}
}

static void
test_caps(void **state)
{
	char *big = malloc(HTTP_REQ_MAX_HEAD + 100);
	struct http_req r;
	size_t n;

	(void)state;
	/* a target longer than the path buffer */
	n = (size_t)sprintf(big, "GET /");
	memset(big + n, 'a', HTTP_REQ_MAX_PATH);
	n += HTTP_REQ_MAX_PATH;
	n += (size_t)sprintf(big + n, " HTTP/1.1\r\n\r\n");
	assert_int_equal(http_req_parse(big, n, &r), ST_TOOBIG);
	assert_string_equal(r.path, "");
	/* a head past the cap, never ended */
	n = (size_t)sprintf(big, "GET /metrics HTTP/1.1\r\nX: ");
	memset(big + n, 'x', HTTP_REQ_MAX_HEAD + 100 - n);
	assert_int_equal(http_req_parse(big, HTTP_REQ_MAX_HEAD + 100, &r), ST_TOOBIG);
	assert_string_equal(r.path, "/metrics");
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_caps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
