/*
 * diag.h — findings about input files: errors and warnings with a position,
 * printed compiler style:
 *
 *   checkout.yaml:14:7: error: analysis.stepWeight and analysis.iterations are mutually exclusive
 *   checkout.yaml:9:3: warning: [big-step] a step of 50% sends half the traffic ...
 *
 * A struct diag_list is embedded (diag_list_init/diag_list_fini) and owns
 * every string of its diags.  With `strict` set, warnings are recorded as
 * errors (`perch validate --strict`).  Not thread-safe: one list per thread.
 */
#ifndef PERCH_SPEC_DIAG_H
#define PERCH_SPEC_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum diag_severity { DIAG_ERROR, DIAG_WARNING };

struct diag {
	char *file;		/* as given to the loader; "" when none */
	int   line, col;	/* 1-based; 0 when unknown */
	enum diag_severity severity;
	char *field;		/* "spec.analysis.stepWeight", or "" */
	char *lint;		/* stable lint id ("big-step") or NULL */
	char *message;		/* without the lint id; may quote user input, so
				 * printers sanitise it */
};

struct diag_list {
	struct diag *items;
	size_t n, cap;
	size_t n_errors, n_warnings;
	bool   strict;		/* warnings become errors */
	size_t max;		/* stop recording after this many (0: 10000) */
	char **files;		/* the order files were read in, for sorting */
	size_t n_files;
};

void diag_list_init(struct diag_list *dl, bool strict);
void diag_list_fini(struct diag_list *dl);

/* Appends one finding; strings are copied.  `lint` may be NULL. */
void diag_add(struct diag_list *dl, enum diag_severity sev, const char *file,
    int line, int col, const char *field, const char *lint, const char *fmt, ...)
    __attribute__((format(printf, 8, 9)));

/* Notes that `file` is read now: findings sort in the order files are read. */
void diag_list_file(struct diag_list *dl, const char *file);

/* Sorts by file (the order of diag_list_file, then of first appearance),
 * then line and column; findings at one position keep their order. */
void diag_list_sort(struct diag_list *dl);

const char *diag_severity_name(enum diag_severity sev);	/* "error", "warning" */

/* "file:line:col: error: message" ("[id] " before the message of a lint),
 * one line, sanitised for the terminal. */
void diag_print(FILE *f, const struct diag *d);

#endif
