/* fuzz_store_codec.c — the decoders of the state directory's JSON (status,
 * spec, journal records) never crash or leak on any input, and a status that
 * decodes encodes back to the same status. */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/codec.h"
#include "util/status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
status_round_trip(const json_t *o)
{
	struct canary_status a, b;
	char err[256];
	json_t *again;

	if (status_from_json(o, &a, err, sizeof err) != ST_OK)
		return;
	again = status_to_json(&a);
	if (status_from_json(again, &b, err, sizeof err) != ST_OK || memcmp(&a, &b, sizeof a) != 0)
		abort();
	json_decref(again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct canary_cfg *cfg = NULL;
	struct journal_rec rec;
	char err[256];
	json_t *o = json_loadb((const char *)data, size, 0, NULL), *again;

	if (o == NULL)
		return 0;
	status_round_trip(o);
	if (spec_from_json(o, &cfg, err, sizeof err) == ST_OK) {
		again = spec_to_json(cfg);
		json_decref(again);
		canary_cfg_free(cfg);
	}
	if (journal_from_json(o, &rec, err, sizeof err) == ST_OK) {
		again = journal_to_json(&rec);
		json_decref(again);
	}
	json_decref(o);
	return 0;
}
