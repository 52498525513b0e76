/*
 * cli_value.c — shared checks of option values (see cli_value.h).
 */
#include "app/cli_value.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "app/cli_msg.h"
#include "store/dir.h"
#include "util/status.h"

/* A DNS-1123 label (lower-case letters, digits and '-', at most 63): the
 * state directory's own check of a canary's namespace, asked of "NS/x". */
static bool
is_namespace(const char *s)
{
	char probe[80];

	return strlen(s) <= 63 && snprintf(probe, sizeof probe, "%s/x", s) < (int)sizeof probe &&
	    store_dir_check_name(probe, NULL, 0) == ST_OK;
}

bool
cli_url_ok(const char *url)
{
	const char *host;

	if (strncasecmp(url, "http://", 7) == 0)
		host = url + 7;
	else if (strncasecmp(url, "https://", 8) == 0)
		host = url + 8;
	else
		return false;
	if (*host == '\0' || *host == '/' || *host == '?' || *host == '#')
		return false;
	for (const unsigned char *p = (const unsigned char *)url; *p != '\0'; p++)
		if (*p <= ' ' || *p == 0x7f)
			return false;
	return true;
}

int
cli_check_value(const char *cmd, const char *opt, enum cli_value kind, const char *arg)
{
	static const char *const wants[] = {
		[CLI_VAL_FILE] = "a file",
		[CLI_VAL_DIR] = "a directory",
		[CLI_VAL_NAME] = "a name",
		[CLI_VAL_NAMESPACE] = "a namespace",
		[CLI_VAL_URL] = "a URL",
	};

	switch (kind) {
	case CLI_VAL_NAMESPACE:
		if (arg[0] != '\0' && !is_namespace(arg))
			return cli_usage_error(cmd, "%s wants a namespace (lower-case letters, digits "
			    "and '-', at most 63), not '%s'", opt, arg);
		break;
	case CLI_VAL_URL:
		if (!cli_url_ok(arg))
			return cli_usage_error(cmd, "%s wants an http:// or https:// URL with a host, "
			    "such as http://127.0.0.1:9090", opt);
		break;
	default:
		break;
	}
	if (arg[0] == '\0')
		return cli_usage_error(cmd, "%s wants %s, not ''", opt, wants[kind]);
	return EXIT_OK;
}

int
cli_take_value(const char *cmd, const char *opt, enum cli_value kind, const char *arg,
    const char **dst)
{
	int rc = cli_check_value(cmd, opt, kind, arg);

	if (rc == EXIT_OK)
		*dst = arg;
	return rc;
}

int
cli_bad_option(const char *cmd, int c, char *const argv[])
{
	if (c == ':')
		return cli_usage_error(cmd, "option '%s' needs an argument", argv[optind - 1]);
	return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
}
