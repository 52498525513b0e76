/* fuzz_journal.c — the state directory's journal file (store/dir_journal.c)
 * read back never crashes or leaks whatever it holds (torn lines, garbage,
 * huge lines, records of the wrong shape), and a record appended after any
 * such file reads back as the newest one: the torn tail is cut, nothing is
 * lost or read twice. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/dir.h"
#include "util/status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CANARY "shop/checkout"

static char dir[256];

static void
write_file(const char *path, const uint8_t *data, size_t size)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL)
		abort();
	if (size > 0 && fwrite(data, 1, size, f) != size)
		abort();
	fclose(f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct journal_rec out[64];
	struct journal_rec rec;
	struct store_dir *sd;
	char path[256], err[512];
	size_t n;

	if (dir[0] == '\0') {
		snprintf(dir, sizeof dir, "%.200s/%s.%d", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
		    "perch-fuzz-journal", (int)getpid());
		mkdir(dir, 0700);
	}
	sd = store_dir_open(dir, false, err, sizeof err);
	if (sd == NULL)
		abort();
	snprintf(path, sizeof path, "%s/shop", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof path, "%s/" CANARY, dir);
	mkdir(path, 0700);
	snprintf(path, sizeof path, "%s/" CANARY "/journal.jsonl", dir);
	write_file(path, data, size);
	snprintf(path, sizeof path, "%s/" CANARY "/journal.1.jsonl", dir);
	unlink(path);
	n = store_dir_ops.tail(sd, CANARY, out, 64);
	if (n > 64)
		abort();
	memset(&rec, 0, sizeof rec);
	rec.time_ms = 1700000000123;
	snprintf(rec.canary, sizeof rec.canary, CANARY);
	rec.kind = REC_EVENT;
	snprintf(rec.type, sizeof rec.type, "Normal");
	snprintf(rec.reason, sizeof rec.reason, "Synced");
	snprintf(rec.message, sizeof rec.message, "the newest record");
	if (store_dir_ops.append(sd, &rec, err) == ST_OK) {
		n = store_dir_ops.tail(sd, CANARY, out, 64);
		if (n == 0 || strcmp(out[n - 1].message, "the newest record") != 0 ||
		    out[n - 1].time_ms != rec.time_ms)
			abort();
	}
	store_dir_close(sd);
	return 0;
}
