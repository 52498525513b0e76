/* fuzz_exec_credential.c — the output of a kubeconfig exec credential
 * plugin (an ExecCredential JSON document, k8s/kubeconfig_exec.c) never
 * crashes or leaks whatever the plugin prints; a document that parses gives
 * a token, or a client certificate with its key, and a failure a message. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "k8s/kubeconfig_exec.h"
#include "util/buf.h"
#include "util/status.h"
#include "util/xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const versions[] = { "client.authentication.k8s.io/v1",
		"client.authentication.k8s.io/v1beta1" };
	char *token = NULL, *cert = NULL, *key = NULL;
	size_t cert_len = 0, key_len = 0;
	time_t expiry = 0;
	struct buf err;
	int st;

	if (size < 1)
		return 0;
	buf_init(&err, 4096);
	st = k8s_exec_parse(versions[data[0] & 1], (const char *)data + 1, size - 1, &token, &cert,
	    &cert_len, &key, &key_len, &expiry, &err);
	if (st == ST_OK && token == NULL && (cert == NULL || key == NULL))
		abort();
	if (st != ST_OK && err.len == 0)
		abort();
	xfree_secret(token);
	xfree_secret(cert);
	xfree_secret(key);
	buf_fini(&err);
	return 0;
}
