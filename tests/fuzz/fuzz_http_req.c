/* fuzz_http_req.c — the request head parser of perch's /metrics server
 * (util/http_req.c) never crashes, reads past its input or leaks on any
 * bytes, and what it accepts is within bounds: a head inside the input and
 * the cap, a method of capital letters, a path starting with '/'. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/http_req.h"
#include "util/status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_req r;
	char *copy = malloc(size ? size : 1);	/* exactly size bytes: ASan sees overreads */
	int st;

	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	st = http_req_parse(copy, size, &r);
	if (st == ST_OK && (r.head_len == 0 || r.head_len > size || r.head_len > HTTP_REQ_MAX_HEAD ||
	    r.path[0] != '/' || strlen(r.path) >= sizeof r.path || r.method[0] == '\0' ||
	    (r.minor != 0 && r.minor != 1)))
		abort();
	if (st != ST_OK && st != ST_AGAIN && st != ST_PARSE && st != ST_TOOBIG)
		abort();
	free(copy);
	return 0;
}
