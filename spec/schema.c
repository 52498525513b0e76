/*
 * schema.c — converts YAML mappings into structs following a schema table
 * (see schema.h), reporting unknown fields with suggestions and values of
 * the wrong type with their position.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "spec/schema.h"
#include "util/xalloc.h"

#define AT(base, off, type) ((type *)(void *)((char *)(base) + (off)))

void
report(struct diag_list *dl, enum diag_severity sev, const struct spec_pos *pos,
    const char *field, const char *lint, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	diag_add(dl, sev, pos != NULL ? pos->file : "", pos != NULL ? pos->line : 0,
	    pos != NULL ? pos->col : 0, field, lint, "%s", msg);
}

const char *
path_display(const char *path)
{
	return strncmp(path, "spec.", 5) == 0 ? path + 5 : path;
}

size_t
edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t row[64], prev, tmp, cost;

	if (la >= 63 || lb >= 63)
		return 99;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			tmp = row[j];
			cost = tolower((unsigned char)a[i - 1]) ==
			    tolower((unsigned char)b[j - 1]) ? 0 : 1;
			row[j] = prev + cost;
			if (row[j - 1] + 1 < row[j])
				row[j] = row[j - 1] + 1;
			if (tmp + 1 < row[j])
				row[j] = tmp + 1;
			prev = tmp;
		}
	}
	return row[lb];
}

const char *
closest_name(const char *word, const char *const *names, size_t n)
{
	const char *best = NULL;
	size_t best_d = 99, d, i, limit;

	for (i = 0; i < n && names[i] != NULL; i++) {
		d = edit_distance(word, names[i]);
		if (d < best_d) {
			best_d = d;
			best = names[i];
		}
	}
	limit = strlen(word) <= 4 ? 1 : strlen(word) <= 8 ? 2 : 3;
	return best_d <= limit ? best : NULL;
}

bool
scalar_is_int(const char *v)
{
	const char *p = v;

	if (*p == '-' || *p == '+')
		p++;
	if (!isdigit((unsigned char)*p))
		return false;
	while (isdigit((unsigned char)*p) || *p == '_')
		p++;
	return *p == '\0';
}

bool
scalar_is_float(const char *v)
{
	char *end;

	if (!(isdigit((unsigned char)v[0]) || v[0] == '-' || v[0] == '+' || v[0] == '.'))
		return false;
	if (strspn(v, "0123456789+-.eE") != strlen(v))
		return strcmp(v, ".inf") == 0 || strcmp(v, ".nan") == 0;
	errno = 0;
	(void)strtod(v, &end);
	return *end == '\0' && end != v;
}

int
scalar_bool(const char *v)
{
	static const char *const yes[] = { "true", "True", "TRUE", "yes", "Yes", "YES",
		"on", "On", "ON", "y", "Y", NULL };
	static const char *const no[] = { "false", "False", "FALSE", "no", "No", "NO",
		"off", "Off", "OFF", "n", "N", NULL };
	size_t i;

	for (i = 0; yes[i] != NULL; i++)
		if (strcmp(v, yes[i]) == 0)
			return 1;
	for (i = 0; no[i] != NULL; i++)
		if (strcmp(v, no[i]) == 0)
			return 0;
	return -1;
}

static const char *
node_kind_word(const struct spec_node *n)
{
	if (n->kind == SPEC_MAP)
		return "a mapping";
	if (n->kind == SPEC_SEQ)
		return "a list";
	if (n->quoted)
		return "a string";
	if (scalar_is_int(n->value) || scalar_is_float(n->value))
		return "a number";
	if (scalar_bool(n->value) >= 0)
		return "a boolean";
	return "a string";
}

static void
type_error(struct conv *cv, const struct spec_node *n, const char *path, const char *want)
{
	if (n->kind == SPEC_SCALAR)
		report(cv->dl, DIAG_ERROR, &n->pos, path, NULL,
		    "%s: expected %s, found %s '%s'", path_display(path), want,
		    node_kind_word(n), n->value);
	else
		report(cv->dl, DIAG_ERROR, &n->pos, path, NULL,
		    "%s: expected %s, found %s", path_display(path), want, node_kind_word(n));
}

/* A string field: a quoted scalar or a plain one that YAML does not read
 * as a number or a boolean (Kubernetes rejects those for strings). */
static const char *
read_str_echo(struct conv *cv, const struct spec_node *n, const char *path, bool echo)
{
	if (n->kind != SPEC_SCALAR) {
		type_error(cv, n, path, "a string");
		return NULL;
	}
	if (!n->quoted && strcmp(node_kind_word(n), "a string") != 0) {
		if (echo)
			report(cv->dl, DIAG_ERROR, &n->pos, path, NULL,
			    "%s: expected a string, found %s (quote it: \"%s\")",
			    path_display(path), node_kind_word(n), n->value);
		else
			report(cv->dl, DIAG_ERROR, &n->pos, path, NULL,
			    "%s: expected a string, found %s (quote it)",
			    path_display(path), node_kind_word(n));
		return NULL;
	}
	return n->value;
}

static const char *
read_str(struct conv *cv, const struct spec_node *n, const char *path)
{
	return read_str_echo(cv, n, path, true);
}

static bool
read_int(struct conv *cv, const struct spec_node *n, const char *path, int *out)
{
	long long v;
	char *end;
	char digits[32];
	size_t i, j;

	if (n->kind != SPEC_SCALAR || n->quoted || !scalar_is_int(n->value)) {
		if (n->kind == SPEC_SCALAR && !n->quoted && scalar_is_float(n->value))
			report(cv->dl, DIAG_ERROR, &n->pos, path, NULL,
			    "%s: expected a whole number, found '%s'", path_display(path), n->value);
		else
			type_error(cv, n, path, "a number");
		return false;
	}
	for (i = j = 0; n->value[i] != '\0' && j + 1 < sizeof digits; i++)
		if (n->value[i] != '_')
			digits[j++] = n->value[i];
	digits[j] = '\0';
	errno = 0;
	v = strtoll(digits, &end, 10);
	if (errno != 0 || v > INT_MAX || v < INT_MIN) {
		report(cv->dl, DIAG_ERROR, &n->pos, path, NULL,
		    "%s: %s is out of range", path_display(path), n->value);
		return false;
	}
	*out = (int)v;
	return true;
}

static bool
read_num(struct conv *cv, const struct spec_node *n, const char *path, double *out)
{
	if (n->kind != SPEC_SCALAR || n->quoted ||
	    !(scalar_is_int(n->value) || scalar_is_float(n->value))) {
		type_error(cv, n, path, "a number");
		return false;
	}
	*out = strtod(n->value, NULL);
	/* .nan and .inf are YAML floats, and 1e999 overflows: none is a
	 * bound a check can be judged against (strtod would read .nan as 0,
	 * and a 1 % success rate would pass). */
	if (strcmp(n->value, ".nan") == 0 || strcmp(n->value, ".inf") == 0 || !isfinite(*out)) {
		report(cv->dl, DIAG_ERROR, &n->pos, path, NULL,
		    "%s: %s is not a finite number", path_display(path), n->value);
		return false;
	}
	return true;
}

static bool
read_bool(struct conv *cv, const struct spec_node *n, const char *path, bool *out)
{
	int b = n->kind == SPEC_SCALAR && !n->quoted ? scalar_bool(n->value) : -1;

	if (b < 0) {
		type_error(cv, n, path, "true or false");
		return false;
	}
	*out = b == 1;
	return true;
}

static void
check_enum(struct conv *cv, const struct spec_node *n, const char *path,
    const char *v, const char *const *values)
{
	char list[512] = "";
	const char *near;
	size_t i, nv = 0;

	for (i = 0; values[i] != NULL; i++, nv++) {
		if (strcmp(values[i], v) == 0)
			return;
		if (values[i][0] == '\0')
			continue;
		if (list[0] != '\0')
			strncat(list, ", ", sizeof list - strlen(list) - 1);
		strncat(list, values[i], sizeof list - strlen(list) - 1);
	}
	near = closest_name(v, values, nv);
	if (near != NULL && near[0] != '\0')
		report(cv->dl, DIAG_ERROR, &n->pos, path, NULL,
		    "%s: unsupported value '%s' (did you mean %s?)", path_display(path), v, near);
	else
		report(cv->dl, DIAG_ERROR, &n->pos, path, NULL,
		    "%s: unsupported value '%s' (expected one of: %s)", path_display(path), v, list);
}

/* ---- collections ------------------------------------------------------------ */

static char *
item_path(struct conv *cv, const char *path, size_t i)
{
	return pool_printf(cv->pool, "%s[%zu]", path, i);
}

static char *
key_path(struct conv *cv, const char *path, const char *key)
{
	return path[0] != '\0' ? pool_printf(cv->pool, "%s.%s", path, key) :
	    pool_strdup(cv->pool, key);
}

static bool
read_strlist(struct conv *cv, const struct spec_node *n, const char *path,
    char ***out, size_t *count)
{
	size_t i, k = 0;
	const char *v;

	if (n->kind != SPEC_SEQ) {
		type_error(cv, n, path, "a list of strings");
		return false;
	}
	*out = pool_alloc(cv->pool, (n->n + 1) * sizeof **out);
	for (i = 0; i < n->n; i++)
		if ((v = read_str(cv, n->items[i], item_path(cv, path, i))) != NULL)
			(*out)[k++] = (char *)v;
	*count = k;
	return true;
}

static bool
read_intlist(struct conv *cv, const struct spec_node *n, const char *path,
    int **out, size_t *count)
{
	size_t i, k = 0;

	if (n->kind != SPEC_SEQ) {
		type_error(cv, n, path, "a list of numbers");
		return false;
	}
	*out = pool_alloc(cv->pool, (n->n + 1) * sizeof **out);
	for (i = 0; i < n->n; i++)
		if (read_int(cv, n->items[i], item_path(cv, path, i), &(*out)[k]))
			k++;
	*count = k;
	return true;
}

static bool
read_kv(struct conv *cv, const struct spec_node *n, const char *path,
    struct spec_kv **out, size_t *count, bool headers)
{
	const struct spec_node *v;
	size_t i, j, k = 0, cap = 0;
	const char *s;
	char *p;

	if (n->kind != SPEC_MAP) {
		type_error(cv, n, path, "a mapping of strings");
		return false;
	}
	for (i = 0; i < n->n; i++)
		cap += headers && n->items[i]->kind == SPEC_SEQ ? n->items[i]->n : 1;
	*out = pool_alloc(cv->pool, (cap + 1) * sizeof **out);
	for (i = 0; i < n->n; i++) {
		v = n->items[i];
		p = key_path(cv, path, n->keys[i]->value);
		if (headers && v->kind == SPEC_SEQ) {
			for (j = 0; j < v->n; j++)
				if ((s = read_str_echo(cv, v->items[j], item_path(cv, p, j),
				    false)) != NULL)
					(*out)[k++] = (struct spec_kv){ n->keys[i]->value,
					    (char *)s, n->keys[i]->pos };
			continue;
		}
		/* header values may be credentials: never echoed */
		s = node_is_null(v) ? "" : read_str_echo(cv, v, p, !headers);
		if (s != NULL)
			(*out)[k++] = (struct spec_kv){ n->keys[i]->value, (char *)s,
			    n->keys[i]->pos };
	}
	*count = k;
	return true;
}

static bool
read_list(struct conv *cv, const struct field *f, void *base,
    const struct spec_node *n, const char *path)
{
	const struct schema *s = f->sub;
	char *arr;
	size_t i, k = 0;

	if (n->kind != SPEC_SEQ) {
		type_error(cv, n, path, "a list");
		return false;
	}
	arr = pool_alloc(cv->pool, (n->n + 1) * s->size);
	for (i = 0; i < n->n; i++) {
		if (n->items[i]->kind != SPEC_MAP) {
			type_error(cv, n->items[i], item_path(cv, path, i), "a mapping");
			continue;
		}
		convert_map(cv, s, arr + k * s->size, n->items[i], item_path(cv, path, i));
		k++;
	}
	*AT(base, f->off, void *) = arr;
	*AT(base, f->off_n, size_t) = k;
	return true;
}

/* ---- one field ------------------------------------------------------------- */

static void
read_hooktype(struct conv *cv, const struct spec_node *n, const char *path, void *out)
{
	static const char *const names[] = { "", "confirm-rollout", "pre-rollout",
		"rollout", "confirm-promotion", "post-rollout", "event", "rollback",
		"confirm-traffic-increase", NULL };
	const char *v = read_str(cv, n, path);
	int t;

	if (v == NULL)
		return;
	t = hook_type_from_name(v);
	if (t < 0) {
		check_enum(cv, n, path, v, names);
		return;
	}
	*(enum hook_type *)out = (enum hook_type)t;
}

static void
convert_field(struct conv *cv, const struct field *f, void *base,
    const struct spec_node *n, const char *path)
{
	const char *s;

	if (node_is_null(n) && f->kind != F_IGNORE && f->kind != F_NODE)
		return;		/* `field:` with no value is unset, as in Kubernetes */
	switch (f->kind) {
	case F_STR:
	case F_INTSTR:
		if (f->kind == F_INTSTR && n->kind == SPEC_SCALAR && scalar_is_int(n->value))
			s = n->value;
		else
			s = read_str(cv, n, path);
		if (s == NULL)
			return;
		if (f->values != NULL)
			check_enum(cv, n, path, s, f->values);
		*AT(base, f->off, const char *) = s;
		break;
	case F_INT:
		if (!read_int(cv, n, path, AT(base, f->off, int)))
			return;
		break;
	case F_NUM:
		if (!read_num(cv, n, path, AT(base, f->off, double)))
			return;
		break;
	case F_BOOL:
		if (!read_bool(cv, n, path, AT(base, f->off, bool)))
			return;
		break;
	case F_STRLIST:
		if (!read_strlist(cv, n, path, AT(base, f->off, char **),
		    AT(base, f->off_n, size_t)))
			return;
		break;
	case F_INTLIST:
		if (!read_intlist(cv, n, path, AT(base, f->off, int *),
		    AT(base, f->off_n, size_t)))
			return;
		break;
	case F_KV:
	case F_HEADERS:
		if (!read_kv(cv, n, path, AT(base, f->off, struct spec_kv *),
		    AT(base, f->off_n, size_t), f->kind == F_HEADERS))
			return;
		break;
	case F_HOOKTYPE:
		read_hooktype(cv, n, path, AT(base, f->off, void));
		break;
	case F_NODE:
		*AT(base, f->off, const struct spec_node *) = n;
		break;
	case F_OBJ:
		if (n->kind != SPEC_MAP) {
			type_error(cv, n, path, "a mapping");
			return;
		}
		convert_map(cv, f->sub, AT(base, f->off, void), n, path);
		break;
	case F_LIST:
		if (!read_list(cv, f, base, n, path))
			return;
		break;
	case F_IGNORE:
		break;
	}
	if (f->off_set != NO_OFF)
		*AT(base, f->off_set, bool) = true;
}

static void
unknown_field(struct conv *cv, const struct schema *s, const struct spec_node *key,
    const char *path)
{
	const char *names[128];
	const char *near;
	size_t n = 0;

	while (n < 127 && s->fields[n].name != NULL) {
		names[n] = s->fields[n].name;
		n++;
	}
	names[n] = NULL;
	near = closest_name(key->value, names, n);
	if (near != NULL)
		report(cv->dl, DIAG_WARNING, &key->pos, path, NULL,
		    "%s: unknown field '%s' (did you mean %s?)",
		    path_display(path), key->value, near);
	else
		report(cv->dl, DIAG_WARNING, &key->pos, path, NULL,
		    "%s: unknown field '%s'", path_display(path), key->value);
}

void
convert_map(struct conv *cv, const struct schema *s, void *base,
    const struct spec_node *map, const char *path)
{
	const struct field *f;
	size_t i;

	if (s->off_pos != NO_OFF)
		*AT(base, s->off_pos, struct spec_pos) = map->pos;
	for (i = 0; i < map->n; i++) {
		for (f = s->fields; f->name != NULL; f++)
			if (strcmp(f->name, map->keys[i]->value) == 0)
				break;
		if (f->name == NULL) {
			unknown_field(cv, s, map->keys[i], key_path(cv, path, map->keys[i]->value));
			continue;
		}
		convert_field(cv, f, base, map->items[i], key_path(cv, path, f->name));
	}
}
