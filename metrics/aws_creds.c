/*
 * aws_creds.c — AWS credentials from the environment or the shared
 * credentials and config files (aws_creds.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/aws_creds.h"
#include "util/status.h"
#include "util/xalloc.h"

#define MAX_FILE (1u << 20)	/* bytes of a credentials or config file read */

/* One line of the text, trimmed of its blanks at both ends. */
struct ini_line {
	const char *p;
	size_t n;
	bool indented;
};

static void
trim(const char **p, size_t *n)
{
	while (*n > 0 && ((*p)[0] == ' ' || (*p)[0] == '\t')) {
		(*p)++;
		(*n)--;
	}
	while (*n > 0 && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t' || (*p)[*n - 1] == '\r'))
		(*n)--;
}

static bool
eq(const char *p, size_t n, const char *s)
{
	return strlen(s) == n && memcmp(p, s, n) == 0;
}

/* Reads "key = value" of line l into keys/vals when section is the one
 * wanted (the first value of a key is kept). */
static void
take(const struct ini_line *l, size_t eqpos, const char *const *keys, char **vals, size_t n)
{
	const char *k = l->p, *v = l->p + eqpos + 1;
	size_t kn = eqpos, vn = l->n - eqpos - 1, i;

	trim(&k, &kn);
	trim(&v, &vn);
	for (i = 0; i < n; i++)
		if (vals[i] == NULL && eq(k, kn, keys[i]))
			vals[i] = xstrndup(v, vn);
}

/* One line: ST_OK, or ST_PARSE with what is wrong in why.  *in is the
 * state: 0 before any section, 1 in another section, 2 in the wanted one;
 * *key whether a key was read in the current section. */
static int
ini_line(const struct ini_line *l, const char *section, int *in, bool *key,
    const char *const *keys, char **vals, size_t n, const char **why)
{
	const char *eqp;

	if (l->n == 0 || l->p[0] == '#' || l->p[0] == ';')
		return ST_OK;
	if (l->indented && *key)	/* a nested setting of the key above */
		return ST_OK;
	if (l->p[0] == '[') {
		const char *s = l->p + 1;
		size_t sn = l->n - 2;

		if (l->n < 2 || l->p[l->n - 1] != ']')
			return *why = "a section header without its closing ]", ST_PARSE;
		trim(&s, &sn);
		*in = eq(s, sn, section) ? 2 : 1;
		*key = false;
		return ST_OK;
	}
	for (eqp = l->p; eqp < l->p + l->n && *eqp != '=' && *eqp != ':'; eqp++)
		;	/* the first '=' or ':', as Python's configparser */
	if (eqp == l->p + l->n || eqp == l->p)
		return *why = "not a [section] or key = value line", ST_PARSE;
	if (*in == 0)
		return *why = "a key = value line before any [section]", ST_PARSE;
	*key = true;
	if (*in == 2)
		take(l, (size_t)(eqp - l->p), keys, vals, n);
	return ST_OK;
}

int
aws_ini_get(const char *text, size_t len, const char *path, const char *section,
    const char *const *keys, char **vals, size_t n, char *err, size_t errsz)
{
	const char *p = text, *end = text + len, *why = NULL;
	int in = 0, line = 0, st = ST_OK;
	bool key = false;
	size_t i;

	for (i = 0; i < n; i++)
		vals[i] = NULL;
	while (p < end && st == ST_OK) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		struct ini_line l = { p, nl != NULL ? (size_t)(nl - p) : (size_t)(end - p), false };

		line++;
		l.indented = l.n > 0 && (p[0] == ' ' || p[0] == '\t');
		trim(&l.p, &l.n);
		if (memchr(l.p, '\0', l.n) != NULL)
			why = "a NUL byte", st = ST_PARSE;
		else
			st = ini_line(&l, section, &in, &key, keys, vals, n, &why);
		p = nl != NULL ? nl + 1 : end;
	}
	if (st != ST_OK) {
		for (i = 0; i < n; i++)
			xfree_secret(vals[i]), vals[i] = NULL;
		snprintf(err, errsz, "%s:%d: %s", path, line, why);
	}
	return st;
}

void
aws_creds_fini(struct aws_creds *c)
{
	size_t i;

	for (i = 0; i < AWS_KEY_N; i++)
		xfree_secret(c->v[i]), c->v[i] = NULL;
}

static const char *
env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0' ? v : NULL;
}

/* The file of variable var, else ~/rel: a new string, or NULL without HOME. */
static char *
file_path(const char *var, const char *rel)
{
	const char *home = env("HOME");

	if (env(var) != NULL)
		return xstrdup(env(var));
	return home != NULL ? xasprintf("%s/%s", home, rel) : NULL;
}

/* The text of path (capped): ST_OK, ST_NOTFOUND when there is no file, or
 * ST_IO with err. */
static int
slurp(const char *path, char **text, size_t *len, char *err, size_t errsz)
{
	FILE *f = fopen(path, "r");

	*text = NULL;
	if (f == NULL) {
		if (errno == ENOENT || errno == ENOTDIR)
			return ST_NOTFOUND;
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return ST_IO;
	}
	*text = xmalloc(MAX_FILE);
	*len = fread(*text, 1, MAX_FILE, f);
	if (ferror(f) || !feof(f)) {
		snprintf(err, errsz, "%s: %s", path, ferror(f) ? "read error" : "larger than 1 MiB");
		fclose(f);
		xfree_secret(*text);
		*text = NULL;
		return ST_IO;
	}
	fclose(f);
	return ST_OK;
}

static const char *const key_names[AWS_KEY_N] = {
	"aws_access_key_id", "aws_secret_access_key", "aws_session_token",
};

/* The keys of section in the file of var (else ~/rel) into c: ST_OK (found
 * both keys), ST_NOTFOUND (no file, or no access key in it), or an error. */
static int
from_file(const char *var, const char *rel, const char *section, struct aws_creds *c,
    char *err, size_t errsz)
{
	char *path = file_path(var, rel), *text = NULL;
	size_t len = 0;
	int st = path != NULL ? slurp(path, &text, &len, err, errsz) : ST_NOTFOUND;

	if (st == ST_OK)
		st = aws_ini_get(text, len, path, section, key_names, c->v, AWS_KEY_N, err, errsz);
	if (st == ST_OK && c->v[AWS_KEY_ID] == NULL)
		st = ST_NOTFOUND;
	else if (st == ST_OK && c->v[AWS_KEY_SECRET] == NULL) {
		snprintf(err, errsz, "%s: profile [%s] has aws_access_key_id but no "
		    "aws_secret_access_key", path, section);
		st = ST_INVALID;
	}
	if (st != ST_OK)
		aws_creds_fini(c);
	if (text != NULL)
		explicit_bzero(text, len);
	free(text);
	free(path);
	return st;
}

int
aws_creds_load(struct aws_creds *c, char *err, size_t errsz)
{
	const char *profile = env("AWS_PROFILE") != NULL ? env("AWS_PROFILE") : "default";
	char *section;
	int st;

	memset(c, 0, sizeof *c);
	if (env("AWS_ACCESS_KEY_ID") != NULL && env("AWS_SECRET_ACCESS_KEY") != NULL) {
		c->v[AWS_KEY_ID] = xstrdup(env("AWS_ACCESS_KEY_ID"));
		c->v[AWS_KEY_SECRET] = xstrdup(env("AWS_SECRET_ACCESS_KEY"));
		c->v[AWS_KEY_TOKEN] = env("AWS_SESSION_TOKEN") ? xstrdup(env("AWS_SESSION_TOKEN")) : NULL;
		return ST_OK;
	}
	st = from_file("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials", profile, c, err, errsz);
	if (st != ST_NOTFOUND)
		return st;
	section = strcmp(profile, "default") == 0 ? xstrdup(profile) :
	    xasprintf("profile %s", profile);
	st = from_file("AWS_CONFIG_FILE", ".aws/config", section, c, err, errsz);
	free(section);
	if (st == ST_NOTFOUND) {
		snprintf(err, errsz, "no AWS credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
		    "in perch's environment, or profile %s in the shared credentials or config file)",
		    profile);
		st = ST_INVALID;
	}
	return st;
}
