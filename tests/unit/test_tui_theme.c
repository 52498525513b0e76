/*
 * test_tui_theme.c — theme files: every shipped theme loads, the compiled-in
 * default matches themes/default.yaml, broken files name file:line:column,
 * the search path ($XDG_CONFIG_HOME first), and the 8/16-colour fallback.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tui/theme.h"
#include "util/status.h"

static void
test_shipped_themes(void **state)
{
	struct theme t, def;
	char err[512];
	int i;

	(void)state;
	for (i = 0; theme_cycle[i] != NULL; i++) {
		char path[128];

		snprintf(path, sizeof path, "themes/%s.yaml", theme_cycle[i]);
		if (theme_load(path, &t, err, sizeof err) != ST_OK)
			fail_msg("%s: %s", path, err);
		assert_string_equal(t.name, theme_cycle[i]);
	}
	assert_int_equal(theme_load("themes/default.yaml", &t, err, sizeof err), ST_OK);
	theme_default(&def);
	assert_memory_equal(t.style, def.style, sizeof def.style);
	assert_int_equal(theme_load("themes/mono.yaml", &t, err, sizeof err), ST_OK);
	for (i = 0; i < ROLE__COUNT; i++) {
		assert_int_equal(t.style[i].fg, COLOR_DEFAULT);
		assert_int_equal(t.style[i].bg, COLOR_DEFAULT);
	}
	assert_true(t.style[ROLE_PHASE_FAILED].attrs & TA_REVERSE);
}

static const struct {
	const char *text;
	int status;
	const char *err;	/* expected prefix of the error */
} cases[] = {
	{ "roles:\n  weight-canary: { fg: 45, attrs: [bold, underline] }\n", ST_OK, "" },
	{ "name: x\nroles:\n  phase-failed: { fg: bright-red, bg: black, attrs: bold reverse }\n", ST_OK, "" },
	{ "roles:\n  weight-canary: { fg: 256 }\n", ST_PARSE, "t.yaml:2:24: unknown colour '256'" },
	{ "roles:\n  weight-canary: { fg: pink }\n", ST_PARSE, "t.yaml:2:24: unknown colour 'pink'" },
	{ "roles:\n  no-such-role: { fg: 1 }\n", ST_PARSE, "t.yaml:2:3: unknown role 'no-such-role'" },
	{ "roles:\n  dim: { fg: 1, blink: true }\n", ST_PARSE, "t.yaml:2:17: unknown key 'blink'" },
	{ "roles:\n  dim: { attrs: [bold, blinking] }\n", ST_PARSE, "t.yaml:2:24: unknown attribute 'blinking'" },
	{ "colours: 8\n", ST_PARSE, "t.yaml:1:1: unknown key 'colours'" },
	{ "roles: [a, b]\n", ST_PARSE, "t.yaml:1:8: roles must be a mapping" },
	{ "roles:\n  dim: 3\n", ST_PARSE, "t.yaml:2:8: a role must be a mapping" },
	{ "roles:\n  dim: { fg: [1] }\n", ST_PARSE, "t.yaml:2:14: a colour must be" },
	{ "- 1\n- 2\n", ST_PARSE, "t.yaml:1:1: a theme must be a mapping" },
	{ "roles:\n  dim: { fg: 1\n", ST_PARSE, "t.yaml:3:1: " },
	{ "", ST_PARSE, "t.yaml:1:1: the theme is empty" },
	{ "name: \"\\e[31mevil\"\n", ST_OK, "" },
};

static void
test_parse_table(void **state)
{
	struct theme t;
	char err[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int st;

		err[0] = '\0';
		st = theme_parse(cases[i].text, strlen(cases[i].text), "t.yaml", &t, err, sizeof err);
		if (st != cases[i].status || strncmp(err, cases[i].err, strlen(cases[i].err)) != 0)
			fail_msg("case %zu: status %d err '%s', want %d '%s'", i, st, err,
			    cases[i].status, cases[i].err);
	}
	theme_parse(cases[0].text, strlen(cases[0].text), "t.yaml", &t, err, sizeof err);
	assert_int_equal(t.style[ROLE_WEIGHT_CANARY].fg, 45);
	assert_int_equal(t.style[ROLE_WEIGHT_CANARY].attrs, TA_BOLD | TA_UNDERLINE);
	theme_parse(cases[1].text, strlen(cases[1].text), "t.yaml", &t, err, sizeof err);
	assert_int_equal(t.style[ROLE_PHASE_FAILED].fg, 9);
	assert_int_equal(t.style[ROLE_PHASE_FAILED].bg, 0);
	assert_int_equal(t.style[ROLE_PHASE_FAILED].attrs, TA_BOLD | TA_REVERSE);
	/* an escape sequence in a name never survives */
	theme_parse(cases[14].text, strlen(cases[14].text), "t.yaml", &t, err, sizeof err);
	assert_null(strchr(t.name, 0x1b));
}

static void
test_search_path(void **state)
{
	char dir[] = "/tmp/perch-theme-XXXXXX", path[256], err[512];
	struct theme t;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/perch", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof path, "%s/perch/themes", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof path, "%s/perch/themes/mono.yaml", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("name: my-mono\nroles:\n  dim: { fg: 7 }\n", f);
	fclose(f);
	setenv("XDG_CONFIG_HOME", dir, 1);
	/* the user's theme wins over ./themes/mono.yaml */
	assert_int_equal(theme_load("mono", &t, err, sizeof err), ST_OK);
	assert_string_equal(t.name, "my-mono");
	/* ./themes is searched too */
	assert_int_equal(theme_load("dusk", &t, err, sizeof err), ST_OK);
	assert_string_equal(t.name, "dusk");
	assert_int_equal(theme_load("nope", &t, err, sizeof err), ST_NOTFOUND);
	assert_non_null(strstr(err, "theme nope not found in"));
	assert_int_equal(theme_load("../etc/passwd", &t, err, sizeof err), ST_NOTFOUND);
	assert_int_equal(theme_load("no/such/file.yaml", &t, err, sizeof err), ST_NOTFOUND);
	/* a broken user theme is an error naming its file, not a silent default */
	f = fopen(path, "w");
	fputs("roles:\n  dim: { fg: nope }\n", f);
	fclose(f);
	assert_int_equal(theme_load("mono", &t, err, sizeof err), ST_PARSE);
	assert_non_null(strstr(err, "/perch/themes/mono.yaml:2:14: unknown colour 'nope'"));
	unlink(path);
	snprintf(path, sizeof path, "%s/perch/themes", dir);
	rmdir(path);
	snprintf(path, sizeof path, "%s/perch", dir);
	rmdir(path);
	rmdir(dir);
	unsetenv("XDG_CONFIG_HOME");
}

static void
test_nearest(void **state)
{
	static const struct { short in; int n; short want; } rows[] = {
		{ -1, 8, -1 }, { 3, 8, 3 }, { 9, 8, 1 }, { 196, 8, 1 }, { 46, 8, 2 },
		{ 39, 8, 6 }, { 16, 8, 0 }, { 231, 8, 7 }, { 231, 16, 15 }, { 203, 16, 9 },
		{ 244, 16, 8 }, { 114, 256, 114 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++)
		if (theme_nearest(rows[i].in, rows[i].n) != rows[i].want)
			fail_msg("nearest(%d, %d) = %d, want %d", rows[i].in, rows[i].n,
			    theme_nearest(rows[i].in, rows[i].n), rows[i].want);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shipped_themes),
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_search_path),
		cmocka_unit_test(test_nearest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
