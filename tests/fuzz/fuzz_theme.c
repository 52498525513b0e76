/* fuzz_theme.c — libFuzzer target: theme files (tui/theme.c). Any input must
 * give ST_OK or ST_PARSE with an error naming the file, never a crash. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tui/theme.h"
#include "util/status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct theme t;
	char err[512];
	int st, i;

	err[0] = '\0';
	st = theme_parse((const char *)data, size, "fuzz.yaml", &t, err, sizeof err);
	if (st != ST_OK && (st != ST_PARSE || strncmp(err, "fuzz.yaml", 9) != 0))
		__builtin_trap();
	for (i = 0; st == ST_OK && i < ROLE__COUNT; i++)
		if (t.style[i].fg < -1 || t.style[i].fg > 255 || t.style[i].bg < -1 || t.style[i].bg > 255)
			__builtin_trap();
	return 0;
}
