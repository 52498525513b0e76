/*
 * yaml.c — YAML text to trees of struct spec_node, with libyaml's event
 * parser, for every document of a file.
 *
 * Hostile input is bounded: nesting depth, the number of nodes a document
 * expands to (an alias counts the whole subtree it names, so a "billion
 * laughs" document is stopped after a few levels, long before it costs
 * memory or time: aliases share the anchored node, nothing is copied),
 * duplicate keys (an error, as kubectl's strict decoding), undefined
 * aliases and merge keys.  Also the memory pool of a set.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "spec/internal.h"
#include "util/status.h"
#include "util/xalloc.h"

/* ---- pool --------------------------------------------------------------- */

void *
pool_adopt(struct pool *p, void *ptr)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 64;
		p->ptrs = xreallocarray(p->ptrs, p->cap, sizeof *p->ptrs);
	}
	p->ptrs[p->n++] = ptr;
	return ptr;
}

void *
pool_alloc(struct pool *p, size_t n)
{
	return pool_adopt(p, xcalloc(1, n ? n : 1));
}

char *
pool_strndup(struct pool *p, const char *s, size_t n)
{
	return pool_adopt(p, xstrndup(s, n));
}

char *
pool_strdup(struct pool *p, const char *s)
{
	return pool_adopt(p, xstrdup(s));
}

char *
pool_printf(struct pool *p, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		xalloc_fatal(0);
	va_end(ap);
	return pool_adopt(p, s);
}

void
pool_fini(struct pool *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		free(p->ptrs[i]);
	free(p->ptrs);
	memset(p, 0, sizeof *p);
}

/* ---- the tree builder ----------------------------------------------------- */

struct frame {
	struct spec_node *node;		/* a mapping or sequence being built */
	struct spec_node **kids;	/* keys and values alternate for a mapping */
	size_t n, cap;
};

struct anchor {
	char *name;
	struct spec_node *node;
};

struct builder {
	struct pool *pool;
	const char *file;
	struct diag_list *dl;
	struct frame stack[SPEC_MAX_DEPTH + 1];
	int depth;
	struct spec_node *root;
	struct anchor *anchors;
	size_t n_anchors, cap_anchors;
	size_t expanded;		/* nodes of this document, aliases expanded */
	bool aliased;			/* the document used an alias */
	bool failed;
};

bool
node_is_null(const struct spec_node *n)
{
	const char *v;

	if (n == NULL)
		return true;
	if (n->kind != SPEC_SCALAR || n->quoted)
		return false;
	v = n->value;
	return v[0] == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
	    strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

static void
fail_at(struct builder *b, const yaml_mark_t *m, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
fail_at(struct builder *b, const yaml_mark_t *m, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	diag_add(b->dl, DIAG_ERROR, b->file, (int)m->line + 1, (int)m->column + 1,
	    "", NULL, "%s", msg);
	b->failed = true;
}

static struct spec_node *
new_node(struct builder *b, enum spec_node_kind kind, const yaml_mark_t *m)
{
	struct spec_node *n = pool_alloc(b->pool, sizeof *n);

	n->kind = kind;
	n->pos.file = b->file;
	n->pos.line = (int)m->line + 1;
	n->pos.col = (int)m->column + 1;
	n->weight = 1;
	return n;
}

static void
remember_anchor(struct builder *b, const yaml_char_t *anchor, struct spec_node *n)
{
	size_t i;

	if (anchor == NULL)
		return;
	for (i = 0; i < b->n_anchors; i++)	/* a redefinition replaces */
		if (strcmp(b->anchors[i].name, (const char *)anchor) == 0) {
			b->anchors[i].node = n;
			return;
		}
	if (b->n_anchors == b->cap_anchors) {
		b->cap_anchors = b->cap_anchors ? b->cap_anchors * 2 : 8;
		b->anchors = xreallocarray(b->anchors, b->cap_anchors, sizeof *b->anchors);
	}
	b->anchors[b->n_anchors].name = xstrdup((const char *)anchor);
	b->anchors[b->n_anchors++].node = n;
}

static void
forget_anchors(struct builder *b)
{
	size_t i;

	for (i = 0; i < b->n_anchors; i++)
		free(b->anchors[i].name);
	b->n_anchors = 0;
}

/* Attaches a finished node to the collection being built (or makes it the
 * document root), counting the nodes it expands to. */
static void
attach(struct builder *b, struct spec_node *n, const yaml_mark_t *m)
{
	struct frame *f;

	b->expanded += n->weight;
	if (b->expanded > SPEC_MAX_NODES) {
		if (b->aliased)
			fail_at(b, m, "document expands to more than %d nodes "
			    "(aliases expanded): refusing it (an alias bomb?)", SPEC_MAX_NODES);
		else
			fail_at(b, m, "document has more than %d nodes: refusing it "
			    "(split it into several documents)", SPEC_MAX_NODES);
		return;
	}
	if (b->depth == 0) {
		b->root = n;
		return;
	}
	f = &b->stack[b->depth - 1];
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 8;
		f->kids = xreallocarray(f->kids, f->cap, sizeof *f->kids);
	}
	f->kids[f->n++] = n;
}

static void
open_collection(struct builder *b, enum spec_node_kind kind, const yaml_event_t *ev,
    const yaml_char_t *anchor)
{
	struct spec_node *n;

	if (b->depth >= SPEC_MAX_DEPTH) {
		fail_at(b, &ev->start_mark, "nesting deeper than %d levels", SPEC_MAX_DEPTH);
		return;
	}
	n = new_node(b, kind, &ev->start_mark);
	remember_anchor(b, anchor, n);
	memset(&b->stack[b->depth], 0, sizeof b->stack[0]);
	b->stack[b->depth++].node = n;
}

static int
cmp_key_ptr(const void *a, const void *b)
{
	const struct spec_node *x = *(struct spec_node *const *)a;
	const struct spec_node *y = *(struct spec_node *const *)b;
	int c = strcmp(x->value, y->value);

	if (c != 0)
		return c;
	if (x->pos.line != y->pos.line)
		return x->pos.line < y->pos.line ? -1 : 1;
	return x->pos.col < y->pos.col ? -1 : x->pos.col > y->pos.col;
}

/* Mapping keys are scalars and unique (merge keys are resolved before). */
static void
check_keys(struct builder *b, struct spec_node *map)
{
	struct spec_node **sorted;
	yaml_mark_t m = { 0, 0, 0 };
	size_t i;

	for (i = 0; i < map->n; i++) {
		m.line = (size_t)map->keys[i]->pos.line - 1;
		m.column = (size_t)map->keys[i]->pos.col - 1;
		if (map->keys[i]->kind != SPEC_SCALAR) {
			fail_at(b, &m, "a mapping key must be a plain string");
			return;
		}
	}
	sorted = xcalloc(map->n ? map->n : 1, sizeof *sorted);
	memcpy(sorted, map->keys, map->n * sizeof *sorted);
	qsort(sorted, map->n, sizeof *sorted, cmp_key_ptr);
	for (i = 1; i < map->n; i++)
		if (strcmp(sorted[i]->value, sorted[i - 1]->value) == 0) {
			diag_add(b->dl, DIAG_ERROR, b->file, sorted[i]->pos.line,
			    sorted[i]->pos.col, "", NULL,
			    "duplicate key '%s' (first at line %d)", sorted[i]->value,
			    sorted[i - 1]->pos.line);
			b->failed = true;
		}
	free(sorted);
}

#define MERGE_MAX 10000	/* keys a mapping may take in through << */

static bool
is_merge_key(const struct spec_node *k)
{
	return k->kind == SPEC_SCALAR && !k->quoted && strcmp(k->value, "<<") == 0;
}

static bool
map_has(const struct spec_node *map, const char *key)
{
	size_t i;

	for (i = 0; i < map->n; i++)
		if (strcmp(map->keys[i]->value, key) == 0)
			return true;
	return false;
}

/* Appends the entries of `src` whose keys `map` lacks (capacity is there). */
static bool
merge_from(struct builder *b, struct spec_node *map, const struct spec_node *src,
    const struct spec_node *key)
{
	yaml_mark_t m = { 0, (size_t)key->pos.line - 1, (size_t)key->pos.col - 1 };
	size_t i;

	if (src->kind != SPEC_MAP) {
		fail_at(b, &m, "the value of a merge key (<<) must be a mapping or a list "
		    "of mappings");
		return false;
	}
	for (i = 0; i < src->n; i++)
		if (!map_has(map, src->keys[i]->value)) {
			map->keys[map->n] = src->keys[i];
			map->items[map->n++] = src->items[i];
		}
	return true;
}

/* YAML merge keys, as Kubernetes reads them: `<<: *defaults` (or a list of
 * aliases) adds the entries the mapping does not set itself; earlier
 * sources win over later ones. */
static void
resolve_merges(struct builder *b, struct spec_node *map)
{
	struct spec_node **keys = map->keys, **items = map->items;
	size_t n = map->n, i, j, room = 0;

	for (i = 0; i < n && !is_merge_key(keys[i]); i++)
		;
	if (i == n)
		return;		/* no merge key: the common case */
	for (i = 0; i < n; i++) {
		if (!is_merge_key(keys[i]))
			continue;
		if (items[i]->kind == SPEC_MAP)
			room += items[i]->n;
		for (j = 0; items[i]->kind == SPEC_SEQ && j < items[i]->n; j++)
			room += items[i]->items[j]->n;
	}
	if (room > MERGE_MAX) {
		yaml_mark_t m = { 0, (size_t)map->pos.line - 1, (size_t)map->pos.col - 1 };

		fail_at(b, &m, "more than %d keys merged into one mapping", MERGE_MAX);
		return;
	}
	map->keys = pool_alloc(b->pool, (n + room + 1) * sizeof *map->keys);
	map->items = pool_alloc(b->pool, (n + room + 1) * sizeof *map->items);
	map->n = 0;
	for (i = 0; i < n; i++)
		if (!is_merge_key(keys[i])) {
			map->keys[map->n] = keys[i];
			map->items[map->n++] = items[i];
		}
	for (i = 0; i < n; i++) {
		if (!is_merge_key(keys[i]))
			continue;
		if (items[i]->kind == SPEC_SEQ) {
			for (j = 0; j < items[i]->n; j++)
				if (!merge_from(b, map, items[i]->items[j], keys[i]))
					return;
		} else if (!merge_from(b, map, items[i], keys[i])) {
			return;
		}
	}
}

static void
close_collection(struct builder *b, const yaml_event_t *ev)
{
	struct frame *f = &b->stack[--b->depth];
	struct spec_node *n = f->node;
	size_t i;

	if (n->kind == SPEC_MAP) {
		n->n = f->n / 2;
		n->keys = pool_alloc(b->pool, (n->n + 1) * sizeof *n->keys);
		n->items = pool_alloc(b->pool, (n->n + 1) * sizeof *n->items);
		for (i = 0; i < n->n; i++) {
			n->keys[i] = f->kids[2 * i];
			n->items[i] = f->kids[2 * i + 1];
		}
		check_keys(b, n);
		if (!b->failed)
			resolve_merges(b, n);
	} else {
		n->n = f->n;
		n->items = pool_alloc(b->pool, (n->n + 1) * sizeof *n->items);
		if (f->n > 0)
			memcpy(n->items, f->kids, f->n * sizeof *n->items);
	}
	for (i = 0; i < f->n; i++)
		n->weight += f->kids[i]->weight;
	free(f->kids);
	f->kids = NULL;
	/* This collection's own nodes were counted as they were attached; add
	 * itself now.  Its weight was counted in `expanded` by the children. */
	b->expanded -= n->weight - 1;
	attach(b, n, &ev->start_mark);
}

static void
on_scalar(struct builder *b, const yaml_event_t *ev)
{
	struct spec_node *n = new_node(b, SPEC_SCALAR, &ev->start_mark);

	if (strlen((const char *)ev->data.scalar.value) != ev->data.scalar.length) {
		fail_at(b, &ev->start_mark, "a NUL character inside a string");
		return;
	}
	n->value = pool_strndup(b->pool, (const char *)ev->data.scalar.value,
	    ev->data.scalar.length);
	n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE &&
	    ev->data.scalar.style != YAML_ANY_SCALAR_STYLE;
	if (ev->data.scalar.tag != NULL &&
	    strcmp((const char *)ev->data.scalar.tag, YAML_STR_TAG) == 0)
		n->quoted = true;
	remember_anchor(b, ev->data.scalar.anchor, n);
	attach(b, n, &ev->start_mark);
}

static void
on_alias(struct builder *b, const yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	size_t i;
	int d;

	for (i = b->n_anchors; i-- > 0;)
		if (strcmp(b->anchors[i].name, name) == 0) {
			for (d = 0; d < b->depth; d++)
				if (b->stack[d].node == b->anchors[i].node) {
					fail_at(b, &ev->start_mark,
					    "alias '*%s' refers to a node that contains it", name);
					return;
				}
			b->aliased = true;
			attach(b, b->anchors[i].node, &ev->start_mark);
			return;
		}
	fail_at(b, &ev->start_mark, "undefined alias '*%s'", name);
}

/* A libyaml error, with a clearer word for the most common cause: a tab
 * used for indentation. */
static void
syntax_error(struct builder *b, const yaml_parser_t *p, const char *data, size_t len)
{
	const yaml_mark_t *m = &p->problem_mark;
	size_t i = m->index;
	size_t line_start = i;

	if (i > len)
		i = line_start = len;
	while (line_start > 0 && data[line_start - 1] != '\n')
		line_start--;
	for (i = line_start; i < len && (data[i] == ' ' || data[i] == '\t'); i++)
		if (data[i] == '\t') {
			diag_add(b->dl, DIAG_ERROR, b->file, (int)m->line + 1,
			    (int)(i - line_start) + 1, "", NULL,
			    "a tab character in indentation (YAML indents with spaces only)");
			b->failed = true;
			return;
		}
	fail_at(b, m, "YAML syntax error: %s%s%s",
	    p->problem != NULL ? p->problem : "invalid YAML",
	    p->context != NULL ? " " : "", p->context != NULL ? p->context : "");
}

static void
end_document(struct builder *b, yaml_doc_fn fn, void *ctx)
{
	if (!b->failed && b->root != NULL && !node_is_null(b->root))
		fn(ctx, b->root);
	b->root = NULL;
	b->expanded = 0;
	b->aliased = false;
	forget_anchors(b);
}

static bool
handle_event(struct builder *b, const yaml_event_t *ev, yaml_doc_fn fn, void *ctx)
{
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		on_scalar(b, ev);
		break;
	case YAML_ALIAS_EVENT:
		on_alias(b, ev);
		break;
	case YAML_MAPPING_START_EVENT:
		open_collection(b, SPEC_MAP, ev, ev->data.mapping_start.anchor);
		break;
	case YAML_SEQUENCE_START_EVENT:
		open_collection(b, SPEC_SEQ, ev, ev->data.sequence_start.anchor);
		break;
	case YAML_MAPPING_END_EVENT:
	case YAML_SEQUENCE_END_EVENT:
		close_collection(b, ev);
		break;
	case YAML_DOCUMENT_END_EVENT:
		end_document(b, fn, ctx);
		break;
	case YAML_STREAM_END_EVENT:
		return false;
	default:
		break;
	}
	return !b->failed;
}

int
yaml_parse_docs(struct pool *pool, const char *file, const char *data, size_t len,
    struct diag_list *dl, yaml_doc_fn fn, void *ctx)
{
	struct builder b;
	yaml_parser_t parser;
	yaml_event_t ev;
	bool more = true;

	memset(&b, 0, sizeof b);
	b.pool = pool;
	b.file = file;
	b.dl = dl;
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
	while (more) {
		if (!yaml_parser_parse(&parser, &ev)) {
			syntax_error(&b, &parser, data, len);
			break;
		}
		more = handle_event(&b, &ev, fn, ctx);
		yaml_event_delete(&ev);
	}
	while (b.depth > 0)
		free(b.stack[--b.depth].kids);
	forget_anchors(&b);
	free(b.anchors);
	yaml_parser_delete(&parser);
	return b.failed ? ST_PARSE : ST_OK;
}

/* ---- reading trees ---------------------------------------------------------- */

const struct spec_node *
spec_node_get(const struct spec_node *map, const char *key)
{
	size_t i;

	if (map == NULL || map->kind != SPEC_MAP)
		return NULL;
	for (i = 0; i < map->n; i++)
		if (strcmp(map->keys[i]->value, key) == 0)
			return map->items[i];
	return NULL;
}

const char *
spec_node_str(const struct spec_node *n)
{
	if (n == NULL || n->kind != SPEC_SCALAR || node_is_null(n))
		return NULL;
	return n->value;
}

/* One step of a path: "name" or "name[3]"; returns the rest or NULL. */
const struct spec_node *
spec_node_path(const struct spec_node *root, const char *path)
{
	const struct spec_node *n = root;
	char key[128];
	size_t len;
	const char *p = path;

	while (n != NULL && *p != '\0') {
		len = strcspn(p, ".[");
		if (len > 0) {
			if (len >= sizeof key)
				return NULL;
			memcpy(key, p, len);
			key[len] = '\0';
			n = spec_node_get(n, key);
			p += len;
		}
		while (n != NULL && *p == '[') {
			char *end;
			unsigned long idx = strtoul(p + 1, &end, 10);

			if (*end != ']' || n->kind != SPEC_SEQ || idx >= n->n)
				return NULL;
			n = n->items[idx];
			p = end + 1;
		}
		if (*p == '.')
			p++;
	}
	return n;
}
