/*
 * schema.h — the table-driven conversion of a YAML mapping into a C struct
 * (spec/ only).  A schema lists the fields an object may have: the name
 * Flagger uses, how to read the value and where to store it (offsetof).
 * Unknown fields become warnings with a "did you mean" suggestion; values
 * of the wrong type, and values outside an enumeration, become errors.
 */
#ifndef PERCH_SPEC_SCHEMA_H
#define PERCH_SPEC_SCHEMA_H

#include <stddef.h>

#include "spec/internal.h"

enum fkind {
	F_STR,		/* char *, borrowed from the tree (pool) */
	F_INT,		/* int */
	F_NUM,		/* double */
	F_BOOL,		/* bool */
	F_STRLIST,	/* char **, count at off_n */
	F_INTLIST,	/* int *, count at off_n */
	F_KV,		/* struct spec_kv *, count at off_n: a string map */
	F_HEADERS,	/* struct spec_kv *, count at off_n: {name: [values]} */
	F_INTSTR,	/* char *: an int or a string (targetPort) */
	F_HOOKTYPE,	/* enum hook_type */
	F_NODE,		/* const struct spec_node *: passed through */
	F_OBJ,		/* a nested object, converted with `sub` at base+off */
	F_LIST,		/* a list of objects: array at off, count at off_n */
	F_IGNORE,	/* accepted and ignored (status, managed metadata) */
};

#define NO_OFF ((size_t)-1)

struct schema;

struct field {
	const char *name;
	enum fkind kind;
	size_t off;
	size_t off_n;		/* counts of lists and maps */
	size_t off_set;		/* a bool set to true when present, or NO_OFF */
	const struct schema *sub;
	const char *const *values;	/* F_STR: the allowed values, NULL-ended */
};

struct schema {
	const char *what;	/* "metric", for messages */
	const struct field *fields;	/* ended by a NULL name */
	size_t size;		/* of one element (F_LIST) */
	size_t off_pos;		/* struct spec_pos in the element, or NO_OFF */
};

struct conv {
	struct pool *pool;
	struct diag_list *dl;
};

/* Converts `map` into the struct at `base`.  `path` is the field path of
 * the mapping ("spec.analysis"). */
void convert_map(struct conv *cv, const struct schema *s, void *base,
    const struct spec_node *map, const char *path);

/* The display form of a path: without the leading "spec." */
const char *path_display(const char *path);

/* The closest name in a NULL-ended list, when close enough; else NULL. */
const char *closest_name(const char *word, const char *const *names, size_t n);

/* What a plain scalar reads as in YAML 1.1 (as Kubernetes reads it). */
bool scalar_is_int(const char *v);
bool scalar_is_float(const char *v);
int  scalar_bool(const char *v);	/* 1, 0, or -1 when not a boolean */

#endif
