/* fuzz_router_match.c — the A/B match rules of the routers never crash on
 * any analysis.match / service.match (JSON: {"match": ..., "service": ...}),
 * and a Gateway API conversion is either a list as long as its input with
 * an object per match, or an error with a message. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "k8s/cluster_int.h"
#include "util/status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *in = json_loadb((const char *)data, size, 0, NULL), *dflt, *m, *gw, *v;
	struct routing g;
	char err[ERRMSG_MAX];
	size_t i;
	int ab, st;

	if (!in)
		return 0;
	memset(&g, 0, sizeof g);
	g.match = json_is_array(json_object_get(in, "match")) ? json_object_get(in, "match") : NULL;
	g.service_match = json_is_array(json_object_get(in, "service")) ?
	    json_object_get(in, "service") : NULL;
	dflt = json_pack("[{s:{s:s}}]", "uri", "prefix", "/");
	for (ab = 0; ab < 2; ab++) {
		m = rt_matches(&g, ab, dflt);
		if (!json_is_array(m))
			abort();
		err[0] = '\0';
		st = rt_gateway_matches(m, &gw, err);
		if (st == ST_OK) {
			if (json_array_size(gw) != json_array_size(m))
				abort();
			json_array_foreach(gw, i, v)
				if (!json_is_object(v))
					abort();
		} else if (gw || err[0] == '\0') {
			abort();
		}
		json_decref(gw);
		json_decref(m);
	}
	json_decref(dflt);
	json_decref(in);
	return 0;
}
