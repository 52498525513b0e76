/*
 * aws_creds.h — AWS credentials as the AWS SDK's default chain finds them
 * (without its web-identity, SSO and instance-metadata providers): the
 * environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN),
 * else the profile AWS_PROFILE ("default" when unset) of the shared
 * credentials file (AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials;
 * section [NAME]), else of the config file (AWS_CONFIG_FILE, else
 * ~/.aws/config; section [profile NAME], or [default]).  Keys
 * aws_access_key_id, aws_secret_access_key, aws_session_token.
 *
 * The files are read at each call (a rotated file is taken up).  Values are
 * secrets: wiped by aws_creds_fini, never in a message.  No global state:
 * any thread.
 */
#ifndef PERCH_METRICS_AWS_CREDS_H
#define PERCH_METRICS_AWS_CREDS_H

#include <stddef.h>

enum aws_key { AWS_KEY_ID, AWS_KEY_SECRET, AWS_KEY_TOKEN, AWS_KEY_N };

struct aws_creds {
	char *v[AWS_KEY_N];		/* by enum aws_key; NULL: absent */
};

/* The values of keys[0..n) in section `section` of the INI text (the AWS
 * files' dialect: [section] lines, key = value (or key: value) lines, # and
 * ; comments,
 * indented lines continuing a key's nested settings).  vals[i] is a new
 * string, or NULL when absent.  ST_OK, or ST_PARSE with err naming
 * path:line and what is wrong (no value in it). */
int aws_ini_get(const char *text, size_t len, const char *path, const char *section,
    const char *const *keys, char **vals, size_t n, char *err, size_t errsz);

/* Fills c as the chain above finds them: ST_OK, or ST_INVALID (none found,
 * or a profile without its secret key) / ST_PARSE (a malformed file) /
 * ST_IO (a file that exists but cannot be read), with err. */
int aws_creds_load(struct aws_creds *c, char *err, size_t errsz);
void aws_creds_fini(struct aws_creds *c);

#endif
