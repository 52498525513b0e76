/* fuzz_spec.c — the Canary loader (YAML parsing, conversion, validation,
 * lints, printing) never crashes, leaks or runs away on any input, strict
 * or not, and every finding prints as one line. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag_list dl;
	struct spec_set *set = spec_set_new();
	char *out = NULL;
	size_t len = 0, i, lines = 0;
	FILE *f = open_memstream(&out, &len);

	diag_list_init(&dl, size > 0 && (data[0] & 1));
	spec_load_buffer(set, "fuzz.yaml", (const char *)data, size, &dl);
	spec_validate(set, &dl);
	diag_list_sort(&dl);
	for (i = 0; i < dl.n; i++)
		diag_print(f, &dl.items[i]);
	fclose(f);
	for (i = 0; i < len; i++)
		lines += out[i] == '\n';
	if (lines != dl.n)
		abort();
	free(out);
	diag_list_fini(&dl);
	spec_set_free(set);
	return 0;
}
