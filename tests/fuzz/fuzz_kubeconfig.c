/* fuzz_kubeconfig.c — the kubeconfig parser and resolver never crash, leak
 * or read out of bounds, whatever the YAML; an error always has a message. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "k8s/kubeconfig.h"
#include "util/buf.h"
#include "util/status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct k8s_config *c = NULL;
	struct buf err;
	int st;

	buf_init(&err, 4096);
	st = k8s_config_parse("fuzz", (const char *)data, size, NULL, &c, &err);
	if ((st == ST_OK) != (c != NULL))
		abort();
	if (st != ST_OK && err.len == 0)
		abort();
	if (c && (!c->server || !c->ns))
		abort();
	k8s_config_free(c);
	buf_fini(&err);
	return 0;
}
