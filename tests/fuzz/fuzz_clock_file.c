/* fuzz_clock_file.c — clock.json (app/clock_file.c), the engine clock a
 * watcher follows, never crashes on any content; a file that loads gives a
 * mapping whose time moves forward, or stays, as the real clock does. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/clock_file.h"
#include "util/status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[256];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct clock_map m;
	char path[128], err[256];
	FILE *f;
	int st;

	if (dir[0] == '\0') {
		snprintf(dir, sizeof dir, "%.200s/%s.%d", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
		    "perch-fuzz-clock", (int)getpid());
		mkdir(dir, 0700);
	}
	snprintf(path, sizeof path, "%s/" CLOCK_FILE_NAME, dir);
	f = fopen(path, "wb");
	if (f == NULL)
		abort();
	if (size > 0 && fwrite(data, 1, size, f) != size)
		abort();
	fclose(f);
	st = clock_file_load(dir, &m, err, sizeof err);
	if (st != ST_OK && st != ST_CORRUPT && st != ST_NOTFOUND)
		abort();
	if (st == ST_OK) {
		int64_t a = clock_map_at(&m, m.real_ms), b = clock_map_at(&m, m.real_ms + 1000);

		if (b < a)
			abort();
	}
	return 0;
}
