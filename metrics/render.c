/*
 * render.c — renders Flagger query templates (see render.h): a small
 * scanner over "{{ ... }}" actions, no general template language.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/render.h"
#include "util/buf.h"
#include "util/sanitize.h"
#include "util/status.h"

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

char *
collapse_space(char *s)
{
	char *r = s, *w = s;

	while (*r != '\0') {
		if (is_space(*r)) {
			while (is_space(*r))
				r++;
			*w++ = ' ';
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
	return s;
}

/* Where we are in the template, for messages. */
static void
position(const char *tmpl, const char *at, int *line, int *col)
{
	const char *p;

	*line = 1;
	*col = 1;
	for (p = tmpl; p < at; p++) {
		if (*p == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

static int
fail(char *err, size_t errsz, const char *tmpl, const char *at, int st,
    const char *what, const char *word, size_t wordlen)
{
	char clean[96];
	int line, col;

	position(tmpl, at, &line, &col);
	sanitize(clean, sizeof clean, word, wordlen);
	if (err != NULL && errsz > 0)
		snprintf(err, errsz, "line %d col %d: %s \"%s\"", line, col, what, clean);
	return st;
}

static const char *
lookup_kv(const struct kv *kv, size_t n, const char *key, size_t keylen)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (kv[i].key != NULL && strlen(kv[i].key) == keylen &&
		    memcmp(kv[i].key, key, keylen) == 0)
			return kv[i].value != NULL ? kv[i].value : "";
	return NULL;
}

static const char *
orempty(const char *s)
{
	return s != NULL ? s : "";
}

/* The value of one function name, or NULL when there is no such function. */
static const char *
function_value(const struct render_ctx *ctx, const char *w, size_t n)
{
	static const char *const names[] = {
		"name", "namespace", "target", "service", "ingress", "route", "interval",
	};
	const char *values[] = {
		ctx->name, ctx->ns, ctx->target, ctx->service, ctx->ingress, ctx->route,
		ctx->interval,
	};
	size_t i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strlen(names[i]) == n && memcmp(names[i], w, n) == 0)
			return orempty(values[i]);
	return NULL;
}

static bool
is_ident(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '_' || c == '-';
}

/* Evaluates the expression [w, w+n) (no surrounding space). */
static int
eval_action(const char *tmpl, const char *w, size_t n, const struct render_ctx *ctx,
    struct buf *out, char *err, size_t errsz)
{
	static const char vprefix[] = "variables.";
	const size_t vplen = sizeof vprefix - 1;
	const char *v;
	size_t i;

	if (n == 0)
		return fail(err, errsz, tmpl, w, ST_PARSE, "empty action", "", 0);
	for (i = 0; i < n; i++)
		if (!is_ident(w[i]) && w[i] != '.' && w[i] != '$')
			return fail(err, errsz, tmpl, w, ST_PARSE,
			    "unsupported template expression", w, n);
	if (w[0] == '$') {
		v = lookup_kv(ctx->locals, ctx->n_locals, w + 1, n - 1);
		if (v == NULL)
			return fail(err, errsz, tmpl, w, ST_NOTFOUND, "undefined variable", w, n);
	} else if (n > vplen && memcmp(w, vprefix, vplen) == 0) {
		v = lookup_kv(ctx->vars, ctx->n_vars, w + vplen, n - vplen);
		if (v == NULL)
			return fail(err, errsz, tmpl, w, ST_NOTFOUND,
			    "missing templateVariables key", w + vplen, n - vplen);
	} else {
		v = function_value(ctx, w, n);
		if (v == NULL)
			return fail(err, errsz, tmpl, w, ST_NOTFOUND, "unknown function", w, n);
	}
	if (buf_puts(out, v) != ST_OK)
		return fail(err, errsz, tmpl, w, ST_TOOBIG, "rendered query too long at", w, n);
	return ST_OK;
}

/* Drops trailing white space from the output (a "{{- " marker). */
static void
trim_output(struct buf *out)
{
	while (out->len > 0 && is_space(out->data[out->len - 1]))
		out->data[--out->len] = '\0';
}

int
render_template(const char *tmpl, const struct render_ctx *ctx, char **out,
    char *err, size_t errsz)
{
	struct buf b;
	const char *p = tmpl, *open, *close, *s, *e;
	bool trim_after;
	int st = ST_OK;

	*out = NULL;
	buf_init(&b, RENDER_MAX);
	while (st == ST_OK && (open = strstr(p, "{{")) != NULL) {
		if (buf_append(&b, p, (size_t)(open - p)) != ST_OK) {
			st = fail(err, errsz, tmpl, p, ST_TOOBIG, "rendered query too long", "", 0);
			break;
		}
		s = open + 2;
		if (s[0] == '-' && is_space(s[1])) {
			trim_output(&b);
			s++;
		}
		close = strstr(s, "}}");
		if (close == NULL) {
			st = fail(err, errsz, tmpl, open, ST_PARSE, "unclosed action", "{{", 2);
			break;
		}
		e = close;
		trim_after = e - s >= 2 && e[-1] == '-' && is_space(e[-2]);
		if (trim_after)
			e--;
		while (s < e && is_space(*s))
			s++;
		while (e > s && is_space(e[-1]))
			e--;
		st = eval_action(tmpl, s, (size_t)(e - s), ctx, &b, err, errsz);
		p = close + 2;
		if (trim_after)
			while (is_space(*p))
				p++;
	}
	if (st == ST_OK && buf_puts(&b, p) != ST_OK)
		st = fail(err, errsz, tmpl, p, ST_TOOBIG, "rendered query too long", "", 0);
	if (st == ST_OK)
		*out = buf_take(&b);
	buf_fini(&b);
	return st;
}
