/* fuzz_clock_file.c — the decoder of a state directory's clock.json (the
 * controller's clock and heartbeat, read by every watcher) never crashes
 * or leaks on any input, and what it accepts is within bounds: a sane
 * period, strings cut to their buffers, and a mapping whose time moves
 * forward, or stays, as the real clock does. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app/clock_file.h"
#include "util/status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct clock_map m;
	struct clock_beat b;
	char err[256];

	if (clock_file_parse((const char *)data, size, "clock.json", &m, &b, err,
	    sizeof err) != ST_OK)
		return 0;
	if (b.has && (b.every_ms < 1 || b.every_ms > 3600000 ||
	    strlen(b.controller) >= sizeof b.controller || strlen(b.context) >= sizeof b.context))
		abort();
	if (m.speed < 0 || m.virtual_ms < 0 || m.real_ms < 0)
		abort();
	if (clock_map_at(&m, m.real_ms + 1000) < clock_map_at(&m, m.real_ms))
		abort();
	return 0;
}
