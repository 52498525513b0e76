/*
 * test_curl_lazy.c — libcurl loaded at run time (net/curl_lazy.h): a real
 * libcurl resolves every function of the table; a missing library and a
 * library that is not libcurl give a one-line reason; once loaded, calls
 * through the table (the variadic setopt / getinfo included) reach libcurl,
 * here a refused connection to 127.0.0.1.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "net/curl_lazy.h"
#include "util/status.h"

static void
test_open_table(void **state)
{
	static const struct {
		const char *lib;
		int st;
		const char *err;	/* substring of the reason */
	} cases[] = {
		{ CURL_LAZY_SONAME, ST_OK, "" },
		{ "/nonexistent/libcurl.so.4", ST_UNSUPPORTED,
		  "/nonexistent/libcurl.so.4: cannot open shared object file" },
		{ "libm.so.6", ST_UNSUPPORTED, "libm.so.6: no curl_global_init" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct curl_lazy_fns f;
		char err[512] = "";
		int st = curl_lazy_open(cases[i].lib, &f, err, sizeof err);

		if (st != cases[i].st || strstr(err, cases[i].err) == NULL || strchr(err, '\n'))
			fail_msg("%s: status %d, reason '%s'", cases[i].lib, st, err);
		if (st != ST_OK)
			continue;
#define X(ret, name, params) \
		if (f.name == NULL) \
			fail_msg("curl_%s not resolved", #name);
		CURL_LAZY_FUNCS(X)
#undef X
	}
}

/* Without $PERCH_LIBCURL perch tries libcurl.so.4, then the GnuTLS and NSS
 * builds of the same ABI: the first that loads is used; when none does,
 * the reason names the first. */
static void
test_open_any(void **state)
{
	static const char *const later[] = { "/nonexistent/libcurl.so.4", "libm.so.6",
		CURL_LAZY_SONAME };
	static const char *const none[] = { "/nonexistent/libcurl.so.4", "libm.so.6" };
	static const char *const defaults[] = CURL_LAZY_SONAMES;
	struct curl_lazy_fns f;
	const char *which = NULL;
	char err[512] = "";

	(void)state;
	assert_int_equal(curl_lazy_open_any(later, 3, &f, &which, err, sizeof err), ST_OK);
	assert_string_equal(which, CURL_LAZY_SONAME);
	assert_non_null(f.easy_init);
	assert_int_equal(curl_lazy_open_any(none, 2, &f, &which, err, sizeof err), ST_UNSUPPORTED);
	assert_string_equal(which, "/nonexistent/libcurl.so.4");
	assert_non_null(strstr(err, "/nonexistent/libcurl.so.4: cannot open shared object file"));
	assert_int_equal(curl_lazy_open_any(defaults, sizeof defaults / sizeof defaults[0], &f,
	    &which, err, sizeof err), ST_OK);
	assert_string_equal(which, CURL_LAZY_SONAME);
}

static void
test_calls_reach_libcurl(void **state)
{
	char err[640] = "", *esc, *host = NULL;
	long code = -1;
	CURLU *u;
	CURL *h;

	(void)state;
	unsetenv("PERCH_LIBCURL");
	assert_int_equal(curl_lazy_load("this test", err, sizeof err), ST_OK);
	assert_string_equal(err, "");
	assert_int_equal(curl_lazy_load("again", err, sizeof err), ST_OK);	/* once */

	h = curl_easy_init();
	assert_non_null(h);
	esc = curl_easy_escape(h, "a b/c", 0);
	assert_string_equal(esc, "a%20b%2Fc");
	curl_free(esc);
	assert_int_equal(curl_easy_setopt(h, CURLOPT_URL, "http://127.0.0.1:1/"), CURLE_OK);
	assert_int_equal(curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 2000L), CURLE_OK);
	assert_int_equal(curl_easy_perform(h), CURLE_COULDNT_CONNECT);
	assert_int_equal(curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code), CURLE_OK);
	assert_int_equal(code, 0);
	assert_non_null(strstr(curl_easy_strerror(CURLE_COULDNT_CONNECT), "connect"));
	curl_easy_cleanup(h);

	u = curl_url();
	assert_int_equal(curl_url_set(u, CURLUPART_URL, "https://example.test:8443/x", 0), CURLUE_OK);
	assert_int_equal(curl_url_get(u, CURLUPART_HOST, &host, 0), CURLUE_OK);
	assert_string_equal(host, "example.test");
	curl_free(host);
	curl_url_cleanup(u);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_table),
		cmocka_unit_test(test_open_any),
		cmocka_unit_test(test_calls_reach_libcurl),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
