/* fuzz_render.c — the template renderer never crashes or overruns: the
 * first input byte picks an interval length, the rest is the template.
 * Success gives a string within the bound; failure gives a message. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/render.h"
#include "util/status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char interval[] = "1m{{ name }}";
	struct kv vars[] = { { .key = (char *)"x", .value = (char *)"{{ variables.x }}" } };
	struct render_ctx ctx = { .name = "podinfo", .ns = "test", .target = "podinfo",
	    .service = "podinfo", .ingress = "ing", .route = "r", .vars = vars, .n_vars = 1 };
	char *tmpl, *out, err[256];
	int st;

	if (size == 0)
		return 0;
	ctx.interval = interval + (data[0] % sizeof interval);
	tmpl = malloc(size);
	memcpy(tmpl, data + 1, size - 1);
	tmpl[size - 1] = '\0';
	err[0] = '\0';
	st = render_template(tmpl, &ctx, &out, err, sizeof err);
	if (st == ST_OK) {
		if (out == NULL || strlen(out) > RENDER_MAX)
			abort();
		collapse_space(out);
		free(out);
	} else if (out != NULL || err[0] == '\0') {
		abort();
	}
	free(tmpl);
	return 0;
}
