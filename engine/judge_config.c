/*
 * judge_config.c — the perch.dev/compare* annotations (judge.h) into a
 * struct judge_config.  Annotation values come from the cluster or a file:
 * every byte of them is outside input, so nothing here trusts a length, a
 * terminator beyond the NUL, or a character, and every piece quoted in an
 * error message is sanitised first.
 */
#include "engine/judge.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/sanitize.h"
#include "util/status.h"
#include "util/xalloc.h"

#define FAMILY "perch.dev/compare"
#define QUOTE_MAX 64		/* bytes of outside text quoted in a message */
#define NUMBER_MAX 32		/* characters of one decimal */

typedef int (*apply_fn)(struct judge_config *c, const char *key, const char *value, char *err,
    size_t errsz);

static int apply_compare(struct judge_config *, const char *, const char *, char *, size_t);
static int apply_confidence(struct judge_config *, const char *, const char *, char *, size_t);
static int apply_tolerance(struct judge_config *, const char *, const char *, char *, size_t);
static int apply_scores(struct judge_config *, const char *, const char *, char *, size_t);

enum annotation {
#define X(id, key) ANNOT_##id,
	JUDGE_ANNOTATION_LIST(X)
#undef X
	ANNOT__COUNT
};

static const char *const annotation_keys[ANNOT__COUNT] = {
#define X(id, key) [ANNOT_##id] = key,
	JUDGE_ANNOTATION_LIST(X)
#undef X
};

static const apply_fn annotation_apply[ANNOT__COUNT] = {
	[ANNOT_COMPARE] = apply_compare,
	[ANNOT_CONFIDENCE] = apply_confidence,
	[ANNOT_TOLERANCE] = apply_tolerance,
	[ANNOT_SCORES] = apply_scores,
};

void
judge_config_init(struct judge_config *c)
{
	*c = (struct judge_config){
		.confidence = JUDGE_DEFAULT_CONFIDENCE,
		.tolerance = JUDGE_DEFAULT_TOLERANCE,
		.scores = { .marginal = JUDGE_DEFAULT_MARGINAL, .pass = JUDGE_DEFAULT_PASS },
	};
}

static void
free_metrics(struct judge_compare *m, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(m[i].metric);
	free(m);
}

void
judge_config_fini(struct judge_config *c)
{
	free_metrics(c->metrics, c->n_metrics);
	c->metrics = NULL;
	c->n_metrics = 0;
}

/* "annotation KEY: " + the formatted message; KEY is sanitised. */
static int __attribute__((format(printf, 5, 6)))
bad(int st, char *err, size_t errsz, const char *key, const char *fmt, ...)
{
	char k[QUOTE_MAX * 2], msg[512];
	va_list ap;

	if (err == NULL || errsz == 0)
		return st;
	sanitize(k, sizeof k, key, strlen(key));
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(err, errsz, "annotation %s: %s", k, msg);
	return st;
}

/* A sanitised, bounded copy of s[0..len) for a message. */
static const char *
quote(char *buf, size_t bufsz, const char *s, size_t len)
{
	sanitize(buf, bufsz, s, len);
	return buf;
}

static void
trim(const char **s, size_t *len)
{
	while (*len > 0 && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
		(*len)--;
}

/* A plain decimal: digits, at most one '.', at least one digit; no sign,
 * exponent, hex, "inf" or "nan".  Surrounding blanks are allowed. */
static bool
parse_decimal(const char *s, size_t len, double *out)
{
	char buf[NUMBER_MAX + 1];
	size_t i, digits = 0, dots = 0;

	trim(&s, &len);
	if (len == 0 || len > NUMBER_MAX)
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			digits++;
		else if (s[i] == '.')
			dots++;
		else
			return false;
	}
	if (digits == 0 || dots > 1)
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	*out = strtod(buf, NULL);
	return true;
}

static int
apply_confidence(struct judge_config *c, const char *key, const char *value, char *err,
    size_t errsz)
{
	char q[QUOTE_MAX];
	double v;

	if (!parse_decimal(value, strlen(value), &v) || !(v > 0 && v < 1))
		return bad(ST_INVALID, err, errsz, key,
		    "\"%s\" is not a confidence level between 0 and 1, such as 0.98",
		    quote(q, sizeof q, value, strlen(value)));
	c->confidence = v;
	return ST_OK;
}

static int
apply_tolerance(struct judge_config *c, const char *key, const char *value, char *err,
    size_t errsz)
{
	char q[QUOTE_MAX];
	double v;

	if (!parse_decimal(value, strlen(value), &v) || !(v >= 0 && v < 1))
		return bad(ST_INVALID, err, errsz, key,
		    "\"%s\" is not an effect-size tolerance from 0 up to (not including) 1, such as 0.25",
		    quote(q, sizeof q, value, strlen(value)));
	c->tolerance = v;
	return ST_OK;
}

static int
score_part(const char *key, const char *what, const char *s, size_t len, double *out, char *err,
    size_t errsz)
{
	char q[QUOTE_MAX];

	if (!parse_decimal(s, len, out) || *out > 100)
		return bad(ST_INVALID, err, errsz, key, "%s score \"%s\" is not a number from 0 to 100",
		    what, quote(q, sizeof q, s, len));
	return ST_OK;
}

static int
apply_scores(struct judge_config *c, const char *key, const char *value, char *err, size_t errsz)
{
	const char *slash = strchr(value, '/');
	char q[QUOTE_MAX];
	double marginal, pass;
	int st;

	if (slash == NULL || strchr(slash + 1, '/') != NULL)
		return bad(ST_PARSE, err, errsz, key, "\"%s\" is not marginal/pass, such as 75/95",
		    quote(q, sizeof q, value, strlen(value)));
	if ((st = score_part(key, "marginal", value, (size_t)(slash - value), &marginal, err,
	    errsz)) != ST_OK ||
	    (st = score_part(key, "pass", slash + 1, strlen(slash + 1), &pass, err, errsz)) != ST_OK)
		return st;
	if (marginal > pass)
		return bad(ST_INVALID, err, errsz, key, "marginal score %g is above pass score %g",
		    marginal, pass);
	c->scores.marginal = marginal;
	c->scores.pass = pass;
	return ST_OK;
}

/* ---- perch.dev/compare ------------------------------------------------- */

static bool
parse_direction(const char *s, size_t len, enum judge_direction *out)
{
	int d;

	for (d = 0; d < JUDGE_DIR__COUNT; d++) {
		const char *name = judge_direction_name((enum judge_direction)d);

		if (strlen(name) == len && memcmp(name, s, len) == 0) {
			*out = (enum judge_direction)d;
			return true;
		}
	}
	return false;
}

static bool
has_control(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7F)
			return true;
	return false;
}

/* One "name[=direction]" item (already trimmed, non-empty) appended to
 * m[*n]; m has room for it. */
static int
compare_item(const char *key, size_t no, const char *s, size_t len, struct judge_compare *m,
    size_t *n, char *err, size_t errsz)
{
	const char *eq = memchr(s, '=', len), *name = s, *dir = NULL;
	size_t nlen = eq != NULL ? (size_t)(eq - s) : len, dlen = 0, i;
	enum judge_direction d = JUDGE_DIR_EITHER;
	char q[QUOTE_MAX], qd[QUOTE_MAX];

	if (eq != NULL) {
		dir = eq + 1;
		dlen = len - nlen - 1;
		trim(&dir, &dlen);
	}
	trim(&name, &nlen);
	if (nlen == 0)
		return bad(ST_PARSE, err, errsz, key, "item %zu \"%s\" has no metric name", no,
		    quote(q, sizeof q, s, len));
	if (has_control(name, nlen))
		return bad(ST_PARSE, err, errsz, key, "item %zu: metric name \"%s\" has a control character",
		    no, quote(q, sizeof q, name, nlen));
	if (eq != NULL && !parse_direction(dir, dlen, &d))
		return bad(ST_INVALID, err, errsz, key,
		    "item %zu \"%s\": direction \"%s\" is not increase, decrease or either", no,
		    quote(q, sizeof q, s, len), quote(qd, sizeof qd, dir, dlen));
	for (i = 0; i < *n; i++)
		if (strlen(m[i].metric) == nlen && memcmp(m[i].metric, name, nlen) == 0)
			return bad(ST_INVALID, err, errsz, key, "item %zu: metric \"%s\" is named twice", no,
			    quote(q, sizeof q, name, nlen));
	m[*n].metric = xstrndup(name, nlen);
	m[*n].direction = d;
	(*n)++;
	return ST_OK;
}

static int
apply_compare(struct judge_config *c, const char *key, const char *value, char *err, size_t errsz)
{
	size_t cap = 1, n = 0, no, len;
	const char *p, *item, *comma;
	struct judge_compare *m;
	int st = ST_OK;

	for (p = value; *p != '\0'; p++)
		cap += *p == ',';
	m = xcalloc(cap, sizeof *m);
	for (no = 1, item = value; st == ST_OK; no++, item = comma + 1) {
		comma = strchr(item, ',');
		len = comma != NULL ? (size_t)(comma - item) : strlen(item);
		trim(&item, &len);
		if (len == 0 && no == 1 && comma == NULL)
			st = bad(ST_PARSE, err, errsz, key,
			    "no metric named (expected name=increase|decrease|either, ...)");
		else if (len == 0)
			st = bad(ST_PARSE, err, errsz, key, "item %zu is empty", no);
		else
			st = compare_item(key, no, item, len, m, &n, err, errsz);
		if (comma == NULL)
			break;
	}
	if (st != ST_OK) {
		free_metrics(m, n);
		return st;
	}
	free_metrics(c->metrics, c->n_metrics);
	c->metrics = m;
	c->n_metrics = n;
	return ST_OK;
}

int
judge_config_apply(struct judge_config *c, const char *key, const char *value, char *err,
    size_t errsz)
{
	size_t i, flen = strlen(FAMILY);

	if (err != NULL && errsz > 0)
		err[0] = '\0';
	if (key == NULL || strncmp(key, FAMILY, flen) != 0 ||
	    (key[flen] != '\0' && key[flen] != '-'))
		return ST_OK;
	for (i = 0; i < ANNOT__COUNT; i++)
		if (strcmp(key, annotation_keys[i]) == 0)
			return annotation_apply[i](c, key, value != NULL ? value : "", err, errsz);
	return bad(ST_INVALID, err, errsz, key,
	    "unknown annotation (perch.dev/compare, -confidence, -tolerance or -scores)");
}
