/*
 * diag.c — the list of findings about input files and its compiler-style
 * printer (see diag.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec/diag.h"
#include "util/sanitize.h"
#include "util/xalloc.h"

#define DIAG_DEFAULT_MAX 10000
#define DIAG_PRINT_MAX 1024

void
diag_list_init(struct diag_list *dl, bool strict)
{
	memset(dl, 0, sizeof *dl);
	dl->strict = strict;
}

void
diag_list_fini(struct diag_list *dl)
{
	size_t i;

	for (i = 0; i < dl->n; i++) {
		free(dl->items[i].file);
		free(dl->items[i].field);
		free(dl->items[i].lint);
		free(dl->items[i].message);
	}
	free(dl->items);
	for (i = 0; i < dl->n_files; i++)
		free(dl->files[i]);
	free(dl->files);
	memset(dl, 0, sizeof *dl);
}

void
diag_list_file(struct diag_list *dl, const char *file)
{
	size_t i;

	for (i = 0; i < dl->n_files; i++)
		if (strcmp(dl->files[i], file) == 0)
			return;
	dl->files = xreallocarray(dl->files, dl->n_files + 1, sizeof *dl->files);
	dl->files[dl->n_files++] = xstrdup(file);
}

void
diag_add(struct diag_list *dl, enum diag_severity sev, const char *file,
    int line, int col, const char *field, const char *lint, const char *fmt, ...)
{
	size_t max = dl->max != 0 ? dl->max : DIAG_DEFAULT_MAX;
	struct diag *d;
	va_list ap;
	char *msg;

	if (dl->strict)
		sev = DIAG_ERROR;
	if (sev == DIAG_ERROR)
		dl->n_errors++;
	else
		dl->n_warnings++;
	if (dl->n >= max)
		return;
	if (dl->n == dl->cap) {
		dl->cap = dl->cap ? dl->cap * 2 : 16;
		dl->items = xreallocarray(dl->items, dl->cap, sizeof *dl->items);
	}
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		xalloc_fatal(0);
	va_end(ap);
	d = &dl->items[dl->n++];
	d->file = xstrdup(file != NULL ? file : "");
	d->line = line;
	d->col = col;
	d->severity = sev;
	d->field = xstrdup(field != NULL ? field : "");
	d->lint = lint != NULL ? xstrdup(lint) : NULL;
	d->message = msg;
}

/* Stable order: by the file's first appearance, then line and column, then
 * the order of recording. */
struct diag_key {
	size_t file_rank, seq;
	const struct diag *d;
};

static int
cmp_key(const void *a, const void *b)
{
	const struct diag_key *x = a, *y = b;

	if (x->file_rank != y->file_rank)
		return x->file_rank < y->file_rank ? -1 : 1;
	if (x->d->line != y->d->line)
		return x->d->line < y->d->line ? -1 : 1;
	if (x->d->col != y->d->col)
		return x->d->col < y->d->col ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void
diag_list_sort(struct diag_list *dl)
{
	struct diag_key *keys;
	struct diag *out;
	size_t i, j;

	if (dl->n < 2)
		return;
	keys = xcalloc(dl->n, sizeof *keys);
	for (i = 0; i < dl->n; i++) {
		keys[i].d = &dl->items[i];
		keys[i].seq = i;
		keys[i].file_rank = dl->n_files + i;
		for (j = 0; j < dl->n_files; j++)
			if (strcmp(dl->files[j], dl->items[i].file) == 0)
				break;
		if (j < dl->n_files) {
			keys[i].file_rank = j;
			continue;
		}
		for (j = 0; j < i; j++)
			if (strcmp(dl->items[j].file, dl->items[i].file) == 0) {
				keys[i].file_rank = keys[j].file_rank;
				break;
			}
	}
	qsort(keys, dl->n, sizeof *keys, cmp_key);
	out = xcalloc(dl->cap, sizeof *out);
	for (i = 0; i < dl->n; i++)
		out[i] = *keys[i].d;
	free(dl->items);
	dl->items = out;
	free(keys);
}

const char *
diag_severity_name(enum diag_severity sev)
{
	return sev == DIAG_ERROR ? "error" : "warning";
}

void
diag_print(FILE *f, const struct diag *d)
{
	char file[512], msg[DIAG_PRINT_MAX];

	sanitize(file, sizeof file, d->file, strlen(d->file));
	sanitize(msg, sizeof msg, d->message, strlen(d->message));
	if (file[0] != '\0' && d->line > 0)
		fprintf(f, "%s:%d:%d: ", file, d->line, d->col);
	else if (file[0] != '\0')
		fprintf(f, "%s: ", file);
	fprintf(f, "%s: ", diag_severity_name(d->severity));
	if (d->lint != NULL)
		fprintf(f, "[%s] ", d->lint);
	fprintf(f, "%s\n", msg);
}
