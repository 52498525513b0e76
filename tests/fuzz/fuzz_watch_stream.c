/* fuzz_watch_stream.c — the watch stream parser (k8s/rest.c) and the
 * informer cache it feeds (k8s/informer.c) never crash, leak or read out of
 * bounds, whatever the API server sends and however the bytes are split;
 * after any stream a fresh list brings the cache in step with the list
 * alone.  The first input byte sets the size of the pieces the bytes come
 * in (as curl hands them over) and the cap of one line. */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "k8s/informer.h"
#include "k8s/rest.h"
#include "util/status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
to_informer(const char *type, json_t *obj, void *arg)
{
	k8s_informer_feed(arg, type, obj);
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct k8s_informer_opts o = { .res = K8S_RES(DEPLOYMENTS), .ns = "default" };
	struct k8s_informer *inf;
	json_t *list, *got;
	size_t piece, max_line;
	int st;

	if (size < 1)
		return 0;
	piece = 1 + data[0] % 64;
	max_line = data[0] & 0x80 ? 256 : 1 << 20;
	inf = k8s_informer_new(NULL, &o);
	/* A first list, so that the stream's events apply to a cache in step. */
	list = json_pack("{s:{s:s}, s:[]}", "metadata", "resourceVersion", "1", "items");
	k8s_informer_feed(inf, "RELISTED", list);
	st = k8s_watch_parse((const char *)data + 1, size - 1, piece, max_line, to_informer, inf);
	if (st != ST_OK && st != ST_AGAIN && st != ST_HTTP && st != ST_TOOBIG)
		abort();
	if (k8s_informer_list(inf, &got) == ST_OK)
		json_decref(got);
	k8s_informer_get(inf, "default", "web", &got);
	json_decref(got);
	/* A relist of nothing empties the cache, whatever the stream did. */
	k8s_informer_feed(inf, "RELISTED", list);
	if (k8s_informer_list(inf, &got) == ST_OK) {
		if (json_array_size(got) != 0)
			abort();
		json_decref(got);
	}
	json_decref(list);
	k8s_informer_free(inf);
	return 0;
}
