/* test_aws_creds.c — AWS credentials as the SDK finds them: the INI
 * dialect of the shared files (sections, comments, nested settings, the
 * errors naming file:line), and the chain environment > credentials file >
 * config file with AWS_PROFILE. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "metrics/aws_creds.h"
#include "util/status.h"

static const char *const keys[] = { "aws_access_key_id", "aws_secret_access_key", "region" };

static int
get(const char *text, const char *section, char **v, char *err)
{
	return aws_ini_get(text, strlen(text), "creds", section, keys, v, 3, err, 256);
}

static void
free3(char **v)
{
	free(v[0]), free(v[1]), free(v[2]);
}

static void
test_ini_sections(void **state)
{
	const char *text = "# comment\n; other\n[default]\naws_access_key_id = A1\r\n"
	    "s3 =\n  max_concurrent_requests = 20\n\n[ profile dev ]\n"
	    "aws_access_key_id=D1\naws_secret_access_key =  with = sign \nregion=eu-west-1\n"
	    "aws_access_key_id = later\n";
	char *v[3], err[256];

	(void)state;
	assert_int_equal(get(text, "default", v, err), ST_OK);
	assert_string_equal(v[0], "A1");
	assert_null(v[1]);
	free3(v);
	assert_int_equal(get(text, "profile dev", v, err), ST_OK);
	assert_string_equal(v[0], "D1");	/* the first value of a key */
	assert_string_equal(v[1], "with = sign");
	assert_string_equal(v[2], "eu-west-1");
	free3(v);
	assert_int_equal(get(text, "nothere", v, err), ST_OK);
	assert_null(v[0]);
}

static void
test_ini_errors(void **state)
{
	static const struct { const char *text, *msg; } rows[] = {
		{ "[default\nx = 1\n", "creds:1: a section header without its closing ]" },
		{ "x = 1\n", "creds:1: a key = value line before any [section]" },
		{ "[a]\nx = 1\n\njust words\n", "creds:4: not a [section] or key = value line" },
		{ "[a]\n  = 1\n", "creds:2: not a [section] or key = value line" },
		{ "[a]\nx = \0\n", "creds:2: a NUL byte" },
	};
	char *v[3], err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		size_t len = strlen(rows[i].text) + (i == 4 ? 2 : 0);

		assert_int_equal(aws_ini_get(rows[i].text, len, "creds", "a", keys, v, 3, err,
		    sizeof err), ST_PARSE);
		if (strncmp(err, rows[i].msg, strlen(rows[i].msg)) != 0)
			fail_msg("row %zu: %s", i, err);
		assert_null(v[0]);
	}
}

static char dir[64];

/* dir/name, in a static buffer. */
static const char *
at(const char *name)
{
	static char path[128];

	snprintf(path, sizeof path, "%s/%s", dir, name);
	return path;
}

static void
write_file(const char *name, const char *text)
{
	FILE *f = fopen(at(name), "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "%s/awsXXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(dir) == NULL)
		return -1;
	setenv("AWS_SHARED_CREDENTIALS_FILE", at("credentials"), 1);
	setenv("AWS_CONFIG_FILE", at("config"), 1);
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_SESSION_TOKEN");
	unsetenv("AWS_PROFILE");
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink(at("credentials"));
	unlink(at("config"));
	return rmdir(dir);
}

static void
expect_creds(const char *id, const char *secret, const char *token)
{
	struct aws_creds c;
	char err[256] = "";

	if (aws_creds_load(&c, err, sizeof err) != ST_OK)
		fail_msg("%s", err);
	assert_string_equal(c.v[AWS_KEY_ID], id);
	assert_string_equal(c.v[AWS_KEY_SECRET], secret);
	if (token == NULL)
		assert_null(c.v[AWS_KEY_TOKEN]);
	else
		assert_string_equal(c.v[AWS_KEY_TOKEN], token);
	aws_creds_fini(&c);
}

static void
expect_error(int st, const char *msg)
{
	struct aws_creds c;
	char err[512] = "";

	assert_int_equal(aws_creds_load(&c, err, sizeof err), st);
	if (strstr(err, msg) == NULL)
		fail_msg("%s", err);
	assert_null(c.v[AWS_KEY_ID]);
}

static void
test_chain(void **state)
{
	(void)state;
	expect_error(ST_INVALID, "no AWS credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
	    "in perch's environment, or profile default");
	write_file("config", "[default]\naws_access_key_id = CFG\naws_secret_access_key = cs\n"
	    "[profile dev]\naws_access_key_id = CDEV\naws_secret_access_key = cds\n");
	expect_creds("CFG", "cs", NULL);
	setenv("AWS_PROFILE", "dev", 1);
	expect_creds("CDEV", "cds", NULL);
	write_file("credentials", "[dev]\naws_access_key_id = FDEV\naws_secret_access_key = fds\n"
	    "aws_session_token = ftok\n[default]\naws_access_key_id = FDEF\n"
	    "aws_secret_access_key = fdefs\n");
	expect_creds("FDEV", "fds", "ftok");	/* the credentials file before config */
	unsetenv("AWS_PROFILE");
	expect_creds("FDEF", "fdefs", NULL);
	setenv("AWS_ACCESS_KEY_ID", "ENV", 1);
	expect_creds("FDEF", "fdefs", NULL);	/* the environment only with both keys */
	setenv("AWS_SECRET_ACCESS_KEY", "envs", 1);
	expect_creds("ENV", "envs", NULL);	/* the environment first */
	setenv("AWS_SESSION_TOKEN", "etok", 1);
	expect_creds("ENV", "envs", "etok");
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_SESSION_TOKEN");
	write_file("credentials", "[default]\naws_access_key_id = X\n");
	expect_error(ST_INVALID, "/credentials: profile [default] has aws_access_key_id but no "
	    "aws_secret_access_key");
	write_file("credentials", "[default]\naws_access_key_id: CK\naws_secret_access_key:cs\n");
	expect_creds("CK", "cs", NULL);	/* ':' separates too */
	write_file("credentials", "[default]\n\naws_access_key_id X\n");
	expect_error(ST_PARSE, "/credentials:3: not a [section] or key = value line");
	write_file("credentials", "[other]\naws_access_key_id = X\n");
	write_file("config", "[profile default]\naws_access_key_id = X\n");
	expect_error(ST_INVALID, "or profile default in");	/* config: [default], not [profile default] */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ini_sections),
		cmocka_unit_test(test_ini_errors),
		cmocka_unit_test_setup_teardown(test_chain, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
