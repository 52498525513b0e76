/* test_util.c — allocation wrappers, capped buffers, status codes, the
 * sanitizer, the log file and the text forms of quantities. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/fmt.h"
#include "util/identity.h"
#include "util/log.h"
#include "util/sanitize.h"
#include "util/status.h"
#include "util/xalloc.h"

static void
test_xalloc(void **state)
{
	char *s;

	(void)state;
	s = xasprintf("%s-%d", "canary", 42);
	assert_string_equal(s, "canary-42");
	free(s);
	s = xstrndup("checkout", 5);
	assert_string_equal(s, "check");
	free(s);
	s = xreallocarray(NULL, 10, 8);
	assert_non_null(s);
	free(s);
}

static void
test_buf_cap(void **state)
{
	struct buf b;
	int i;

	(void)state;
	buf_init(&b, 10);
	assert_string_equal(buf_str(&b), "");
	assert_int_equal(buf_puts(&b, "0123456789"), ST_OK);
	assert_int_equal(b.len, 10);
	/* Past the cap: an error, and the buffer is unchanged. */
	assert_int_equal(buf_putc(&b, 'x'), ST_TOOBIG);
	assert_int_equal(b.len, 10);
	assert_string_equal(buf_str(&b), "0123456789");
	assert_int_equal(buf_printf(&b, "%d", 1), ST_TOOBIG);
	buf_reset(&b);
	assert_int_equal(buf_printf(&b, "%s=%d", "w", 30), ST_OK);
	assert_string_equal(buf_str(&b), "w=30");
	buf_fini(&b);

	/* Uncapped growth keeps the contents. */
	buf_init(&b, 0);
	for (i = 0; i < 1000; i++)
		assert_int_equal(buf_putc(&b, (char)('a' + i % 26)), ST_OK);
	assert_int_equal(b.len, 1000);
	assert_int_equal(b.data[999], 'a' + 999 % 26);
	char *taken = buf_take(&b);
	assert_int_equal(strlen(taken), 1000);
	assert_null(b.data);
	free(taken);
	buf_fini(&b);
}

static void
test_status_names(void **state)
{
	(void)state;
	assert_int_equal(ST_OK, 0);
	assert_string_equal(status_name(ST_TOOBIG), "TOOBIG");
	assert_string_equal(status_text(ST_TIMEOUT), "timed out");
	assert_string_equal(status_name(-1), "UNKNOWN");
	assert_string_equal(status_name(ST__COUNT), "UNKNOWN");
}

struct san_case {
	const char *in;
	size_t inlen;	/* 0: strlen */
	size_t outsz;
	const char *want;
};

static void
test_sanitize_table(void **state)
{
	static const struct san_case cases[] = {
		{ "plain text", 0, 64, "plain text" },
		{ "tab\there\nnewline\r", 0, 64, "tab here newline " },
		{ "bell\a and \x01\x02\x7f", 0, 64, "bell and " },
		{ "red \x1b[31mALERT\x1b[0m", 0, 64, "red ALERT" },
		{ "title \x1b]0;pwned\x07 ok", 0, 64, "title  ok" },
		{ "osc-st \x1b]8;;http://x\x1b\\link", 0, 64, "osc-st link" },
		{ "dcs \x1bPq#0;2;0\x1b\\ end", 0, 64, "dcs  end" },
		{ "two-byte \x1b" "c reset", 0, 64, "two-byte  reset" },
		{ "charset \x1b(B ok", 0, 64, "charset  ok" },
		{ "csi8 \xc2\x9b" "31m", 0, 64, "csi8 31m" },
		{ "raw c1 \x9b" "31m", 0, 64, "raw c1 31m" },
		{ "bidi \xe2\x80\xae" "evil\xe2\x80\xac", 0, 64, "bidi evil" },
		{ "isolate \xe2\x81\xa6x\xe2\x81\xa9", 0, 64, "isolate x" },
		{ "utf8 ok: \xc3\xa9\xe2\x96\x88", 0, 64, "utf8 ok: \xc3\xa9\xe2\x96\x88" },
		{ "overlong \xc0\xaf", 0, 64, "overlong " },
		{ "surrogate \xed\xa0\x80", 0, 64, "surrogate " },
		{ "too big \xf4\x90\x80\x80", 0, 64, "too big " },
		{ "truncated \xe2\x96", 0, 64, "truncated " },
		{ "cut on boundary \xe2\x96\x88", 0, 18, "cut on boundary " },
		{ "abcdef", 0, 4, "abc" },
		{ "nul\0hidden", 10, 64, "nulhidden" },
		{ "unterminated \x1b[31", 0, 64, "unterminated " },
		{ "", 0, 1, "" },
	};
	char out[64];
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct san_case *c = &cases[i];
		size_t len = c->inlen ? c->inlen : strlen(c->in);

		n = sanitize(out, c->outsz, c->in, len);
		if (strcmp(out, c->want) != 0)
			fail_msg("case %zu: got '%s', want '%s'", i, out, c->want);
		assert_int_equal(n, strlen(c->want));
	}
}

static void
test_sanitize_dup_bounds(void **state)
{
	char big[5000];
	char *s;

	(void)state;
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	s = sanitize_dup(big, 256);
	assert_int_equal(strlen(s), 256);
	free(s);
	s = sanitize_dup(NULL, 10);
	assert_string_equal(s, "");
	free(s);
	s = sanitize_dup("\x1b[2J\x1b[Hclear", 100);
	assert_string_equal(s, "clear");
	free(s);
}

static void
test_log_file(void **state)
{
	char path[] = "/tmp/perch-log-XXXXXX";
	char line[512];
	FILE *f;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(log_open(path, LOG_INFO), ST_OK);
	log_info("canary %s at %d%%", "checkout", 30);
	log_info("event %s", "a\nfake 2026 error forged\x1b[2J\xe2\x80\xae line");
	log_debug("not written at info level");
	log_close();
	log_info("not written after close");
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof line, f));
	assert_non_null(strstr(line, "info  canary checkout at 30%"));
	assert_non_null(fgets(line, sizeof line, f));
	assert_non_null(strstr(line, "info  event a fake 2026 error forged line\n"));
	assert_null(fgets(line, sizeof line, f));
	fclose(f);
	unlink(path);
	assert_int_equal(log_open("/nonexistent/dir/log", LOG_INFO), ST_IO);
}

/* One text form per quantity: measured values, bounds as written, and
 * non-finite values spelled as Prometheus does. */
static void
test_fmt_quantities(void **state)
{
	static const struct {
		enum fmt_unit u;
		enum fmt_prec p;
		double v;
		const char *want;
	} rows[] = {
		{ FMT_PERCENT, FMT_MEASURED, 92.83, "92.8%" },
		{ FMT_PERCENT, FMT_MEASURED, 92, "92.0%" },
		{ FMT_PERCENT, FMT_MEASURED, 100, "100.0%" },
		{ FMT_PERCENT, FMT_MEASURED, -0.01, "0.0%" },
		{ FMT_PERCENT, FMT_EXACT, 99, "99%" },
		{ FMT_PERCENT, FMT_EXACT, 99.95, "99.95%" },
		{ FMT_PERCENT, FMT_EXACT, 0.99, "0.99%" },
		{ FMT_PERCENT, FMT_EXACT, 1.0 / 3, "0.333%" },
		{ FMT_MS, FMT_MEASURED, 729.675824, "730ms" },
		{ FMT_MS, FMT_MEASURED, 999.4, "999ms" },
		{ FMT_MS, FMT_MEASURED, 999.6, "1.00s" },
		{ FMT_MS, FMT_MEASURED, 1250, "1.25s" },
		{ FMT_MS, FMT_MEASURED, 0.2, "0ms" },
		{ FMT_MS, FMT_EXACT, 500, "500ms" },
		{ FMT_MS, FMT_EXACT, 0.5, "0.5ms" },
		{ FMT_MS, FMT_EXACT, 1500, "1.5s" },
		{ FMT_PLAIN, FMT_MEASURED, 0.4217, "0.422" },
		{ FMT_PLAIN, FMT_MEASURED, 12345.6, "12346" },
		{ FMT_PLAIN, FMT_EXACT, 0.25, "0.25" },
		{ FMT_PLAIN, FMT_EXACT, 3, "3" },
		{ FMT_PERCENT, FMT_MEASURED, NAN, "NaN" },
		{ FMT_MS, FMT_EXACT, INFINITY, "+Inf" },
		{ FMT_PLAIN, FMT_MEASURED, -INFINITY, "-Inf" },
		/* huge: never hundreds of digits nor a number cut short */
		{ FMT_MS, FMT_MEASURED, 1e308, "1e+305s" },
		{ FMT_MS, FMT_EXACT, 1e308, "1e+305s" },
		{ FMT_PERCENT, FMT_MEASURED, 1e308, "1e+308%" },
		{ FMT_PLAIN, FMT_MEASURED, -3e20, "-3e+20" },
		{ FMT_MS, FMT_MEASURED, 1e13, "10000000000.00s" },
	};
	char out[FMT_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		fmt_quantity(out, sizeof out, rows[i].u, rows[i].p, rows[i].v);
		if (strcmp(out, rows[i].want) != 0)
			fail_msg("row %zu: %g gave '%s', want '%s'", i, rows[i].v, out, rows[i].want);
	}
	fmt_percent(out, sizeof out, 93.24);
	assert_string_equal(out, "93.2%");
	fmt_latency(out, sizeof out, 212.4);
	assert_string_equal(out, "212ms");
	fmt_number(out, sizeof out, 2.5);
	assert_string_equal(out, "2.5");
	fmt_weight(out, sizeof out, 30);
	assert_string_equal(out, "30%");
	assert_int_equal(fmt_unit_of("%"), FMT_PERCENT);
	assert_int_equal(fmt_unit_of("ms"), FMT_MS);
	assert_int_equal(fmt_unit_of(""), FMT_PLAIN);
	assert_int_equal(fmt_unit_of(NULL), FMT_PLAIN);
	fmt_quantity(out, 4, FMT_PERCENT, FMT_MEASURED, 99.84);
	assert_string_equal(out, "99.");	/* cut to the buffer */
}

/* A comparison shows the relation it claims, with more decimals when
 * needed. */
static void
test_fmt_compare(void **state)
{
	static const struct {
		enum fmt_unit u;
		double v, b;
		const char *op, *want;
	} rows[] = {
		{ FMT_PERCENT, 93.24, 99, "<", "93.2% < 99%" },
		{ FMT_PERCENT, 98.96, 99, "<", "98.96% < 99%" },
		{ FMT_PERCENT, 98.9999, 99, "<", "98.9999% < 99%" },
		{ FMT_MS, 729.675824, 500, ">", "730ms > 500ms" },
		{ FMT_MS, 500.4, 500, ">", "500.4ms > 500ms" },
		{ FMT_MS, 1499.99, 1500, "<", "1.49999s < 1.5s" },
		{ FMT_PLAIN, 0.5004, 0.5, ">", "0.5004 > 0.5" },
		{ FMT_PERCENT, NAN, 99, "<", "NaN < 99%" },
		{ FMT_MS, 700, INFINITY, "<", "700ms < +Inf" },
		{ FMT_MS, 1e308, 500, ">", "1e+305s > 500ms" },
	};
	char out[2 * FMT_MAX + 8];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		fmt_compare(out, sizeof out, rows[i].u, rows[i].v, rows[i].op, rows[i].b);
		if (strcmp(out, rows[i].want) != 0)
			fail_msg("row %zu: '%s', want '%s'", i, out, rows[i].want);
	}
}

static void
test_fmt_spans_revisions(void **state)
{
	static const struct { int64_t ms; const char *want; } rows[] = {
		{ -5000, "0s" }, { 0, "0s" }, { 999, "0s" }, { 12000, "12s" }, { 59999, "59s" },
		{ 60000, "1m" }, { 242000, "4m" }, { 3600000, "1h00m" }, { 7500000, "2h05m" },
		{ 86400000, "1d" }, { 864000000, "10d" },
	};
	char out[FMT_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		fmt_span(out, sizeof out, rows[i].ms);
		assert_string_equal(out, rows[i].want);
	}
	fmt_revision(out, sizeof out, "cart:v2", "006f2c07139f6c98");
	assert_string_equal(out, "cart:v2");
	fmt_revision(out, sizeof out, "", "006f2c07139f6c98");
	assert_string_equal(out, "006f2c07139f");
	fmt_revision(out, sizeof out, NULL, NULL);
	assert_string_equal(out, "?");
}

/* One identity for events, locks and Leases: $PERCH_IDENTITY (whole when
 * it has an "@"), else $USER, else the password database; always @host,
 * sanitized and bounded. */
static void
test_identity(void **state)
{
	static const struct {
		const char *perch, *user;
		const char *want;	/* "%s" is the host; NULL: the passwd name */
	} rows[] = {
		{ NULL, "alice", "alice@%s" },
		{ "", "alice", "alice@%s" },
		{ "release-bot", "alice", "release-bot@%s" },
		{ "ci@runner-7", "alice", "ci@runner-7" },
		{ NULL, "", NULL },
		{ NULL, NULL, NULL },
		{ "evil\x1b[31mred", NULL, "evilred@%s" },
	};
	struct passwd *pw = getpwuid(getuid());
	char host[72] = "", want[256], got[IDENTITY_MAX], tiny[8];
	char *saved_user = getenv("USER") ? strdup(getenv("USER")) : NULL;
	size_t i;

	(void)state;
	assert_non_null(pw);
	assert_int_equal(gethostname(host, sizeof host - 1), 0);
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		if (rows[i].perch)
			setenv("PERCH_IDENTITY", rows[i].perch, 1);
		else
			unsetenv("PERCH_IDENTITY");
		if (rows[i].user)
			setenv("USER", rows[i].user, 1);
		else
			unsetenv("USER");
		if (rows[i].want == NULL)
			snprintf(want, sizeof want, "%s@%s", pw->pw_name, host);
		else
			snprintf(want, sizeof want, rows[i].want, host);
		identity_get(got, sizeof got);
		if (strcmp(got, want) != 0)
			fail_msg("row %zu: got '%s', want '%s'", i, got, want);
	}
	/* bounded: a long name is cut, never overflows */
	setenv("PERCH_IDENTITY", "a-very-long-identity-name@host", 1);
	assert_string_equal(identity_get(tiny, sizeof tiny), "a-very-");
	unsetenv("PERCH_IDENTITY");
	if (saved_user)
		setenv("USER", saved_user, 1);
	free(saved_user);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xalloc),
		cmocka_unit_test(test_buf_cap),
		cmocka_unit_test(test_status_names),
		cmocka_unit_test(test_sanitize_table),
		cmocka_unit_test(test_sanitize_dup_bounds),
		cmocka_unit_test(test_log_file),
		cmocka_unit_test(test_fmt_quantities),
		cmocka_unit_test(test_fmt_compare),
		cmocka_unit_test(test_fmt_spans_revisions),
		cmocka_unit_test(test_identity),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
