/*
 * internal.h — what the files of spec/ share and nobody else uses: the
 * memory pool a spec_set owns, the YAML tree builder, the schema-driven
 * conversion of a document into a struct, validation and lints.
 *
 * Everything allocated for a set goes into its pool and is freed at once by
 * spec_set_free(); tree nodes are shared by aliases, so nothing in a set is
 * freed one by one.  Not thread-safe (one set, one thread).
 */
#ifndef PERCH_SPEC_INTERNAL_H
#define PERCH_SPEC_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "spec/spec.h"

struct pool {
	void  **ptrs;
	size_t  n, cap;
};

void  pool_fini(struct pool *p);
void *pool_alloc(struct pool *p, size_t n);		/* zeroed */
void *pool_adopt(struct pool *p, void *ptr);		/* takes a malloc'd block */
char *pool_strndup(struct pool *p, const char *s, size_t n);
char *pool_strdup(struct pool *p, const char *s);
char *pool_printf(struct pool *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Called with the root of each non-empty document, in file order. */
typedef void (*yaml_doc_fn)(void *ctx, const struct spec_node *root);

/* Parses `data` (already checked for size) into trees; errors go to dl
 * naming `file` (a pool string).  Returns ST_OK or ST_PARSE. */
int yaml_parse_docs(struct pool *pool, const char *file, const char *data,
    size_t len, struct diag_list *dl, yaml_doc_fn fn, void *ctx);

/* True for a plain scalar that YAML reads as null (~, null, empty). */
bool node_is_null(const struct spec_node *n);

/* The object kinds of a set. */
struct spec_set {
	struct pool pool;
	struct spec_canary         **canaries;   size_t n_canaries, cap_canaries;
	struct spec_metric_template **templates; size_t n_templates, cap_templates;
	struct spec_alert_provider **providers;  size_t n_providers, cap_providers;
	bool validated;
};

/* load.c: one document into the set (or skipped when of another kind). */
void load_document(struct spec_set *set, const char *file, const struct spec_node *root,
    struct diag_list *dl);

/* Report helpers: a message at a node's position, naming `field`. */
void report(struct diag_list *dl, enum diag_severity sev, const struct spec_pos *pos,
    const char *field, const char *lint, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* Edit distance with a cap (for "did you mean"). */
size_t edit_distance(const char *a, const char *b);

/* validate.c and lint.c */
void validate_canary(const struct spec_set *set, const struct spec_canary *c,
    struct diag_list *dl);
void validate_template(const struct spec_metric_template *t, struct diag_list *dl);
void validate_alert_provider(const struct spec_alert_provider *p, struct diag_list *dl);
void lint_canary(const struct spec_set *set, const struct spec_canary *c, struct diag_list *dl);
/* The lints that apply to a MetricTemplate no Canary of the set uses (a
 * template validated in a file of its own). */
void lint_template(const struct spec_set *set, const struct spec_metric_template *t,
    struct diag_list *dl);

#endif
