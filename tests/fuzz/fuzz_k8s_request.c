/* fuzz_k8s_request.c — the requests to a canary's holder and their
 * acknowledgements, read from a perch-<canary> ConfigMap's data (the
 * input: a JSON object of strings as the cluster gives it): the holder's
 * reading of the pending requests and the requester's reading of its
 * answer never crash or leak, take no request at or below its
 * acknowledgement, give no negative age, and bring no control byte to
 * the terminal. */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/k8s_request.h"
#include "util/status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW_MS 1765000000000LL

static void
printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			abort();
}

static void
requests(json_t *cm, json_t *mine)
{
	struct cmd_request rq[4];
	size_t i, n = sk_requests_above(cm, mine, NOW_MS, rq, 4);

	if (n > 4)
		abort();
	for (i = 0; i < n; i++) {
		if (rq[i].seq == 0 || rq[i].age_ms < 0 || rq[i].kind > CMD__COUNT)
			abort();
		printable(rq[i].requester);
		printable(rq[i].actor);
	}
}

/* The answer to each requester the data names, and to one it does not. */
static void
answers(json_t *cm)
{
	struct cmd_request rq[8];
	struct cmd_ack a;
	size_t i, n = sk_requests_above(cm, NULL, NOW_MS, rq, 8);

	for (i = 0; i <= n; i++) {
		const char *id = i < n ? rq[i].requester : "perch pid 1";
		int st = sk_ack_read(cm, id, i < n ? rq[i].seq : 1, NOW_MS, &a);

		if (st != ST_OK && st != ST_NOTFOUND)
			abort();
		if (a.wait_ms < -1)
			abort();
		printable(a.applied_by);
		printable(a.result);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *d = json_loadb((const char *)data, size, 0, NULL), *cm, *mine;
	const char *k;
	json_t *v;

	if (d == NULL)
		return 0;
	cm = json_pack("{s:o}", "data", d);
	requests(cm, NULL);
	/* This store's own acknowledgements: each ack.<h> at a seq above
	 * the request's one. */
	mine = json_object();
	json_object_foreach(d, k, v)
		if (strncmp(k, "ack.", 4) == 0)
			json_object_set_new(mine, k, json_integer((json_int_t)json_string_length(v)));
	requests(cm, mine);
	answers(cm);
	json_decref(mine);
	json_decref(cm);
	return 0;
}
