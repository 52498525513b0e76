/* fuzz_flagger.c — what perch reads of a Flagger canary: any Canary object
 * and any Events as the API server could return them, and any webhook URL
 * (JSON: {"canary": ..., "events": [...], "url": "..."}).  The status is
 * mapped and the Canary's Events picked, sorted and capped without a crash,
 * every string NUL-terminated and free of control characters; a Service URL
 * parses into a name, a namespace, a port in range and a path. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "engine/providers.h"
#include "k8s/cluster.h"
#include "k8s/cluster_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
clean_or_abort(const char *s, size_t n)
{
	size_t i;

	if (memchr(s, '\0', n) == NULL)
		abort();
	for (i = 0; s[i]; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct canary_cfg cfg = { .ns = (char *)"default", .name = (char *)"podinfo" };
	struct journal_rec ev[8];
	struct canary_status st;
	struct svc_url u;
	json_t *in = json_loadb((const char *)data, size, 0, NULL);
	const char *url;
	size_t n = 0, i;

	if (in == NULL)
		return 0;
	memset(&st, 0, sizeof st);
	k8s_flagger_from_objects(&cfg, json_object_get(in, "canary"), json_object_get(in, "events"),
	    &st, ev, 8, &n);
	if (n > 8)
		abort();
	clean_or_abort(st.reason, sizeof st.reason);
	for (i = 0; i < n; i++) {
		clean_or_abort(ev[i].message, sizeof ev[i].message);
		if (i > 0 && ev[i].time_ms < ev[i - 1].time_ms)
			abort();
	}
	url = json_string_value(json_object_get(in, "url"));
	if (url != NULL && parse_svc_url(url, &u) &&
	    (u.port <= 0 || u.port > 65535 || !u.name[0] || !u.ns[0] || u.path[0] != '/'))
		abort();
	json_decref(in);
	return 0;
}
