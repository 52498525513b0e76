/* test_route_words.c — the route object each provider of the registry
 * names on the detail screen (engine/route_words.c): every provider has
 * one, named after the apex service, and an unknown provider has none. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "engine/route_words.h"
#include "engine/routers.h"

static void
test_every_provider(void **state)
{
	struct canary_cfg c = { .name = "checkout", .ns = "shop", .target = "checkout",
		.service = "checkout" };
	char out[200];
	int id;

	(void)state;
	for (id = 0; id < PROV__COUNT; id++) {
		c.provider = (char *)provider_name((enum provider)id);
		route_words(&c, out, sizeof out);
		if (out[0] == '\0' || strchr(out, ' ') == NULL)
			fail_msg("provider %s: route '%s'", c.provider, out);
	}
}

static void
test_names(void **state)
{
	struct canary_cfg c = { .name = "web", .ns = "shop", .target = "web", .service = "front" };
	char out[200];

	(void)state;
	c.provider = (char *)provider_name(PROV_ISTIO);
	route_words(&c, out, sizeof out);
	assert_string_equal(out, "VirtualService front");
	c.provider = (char *)provider_name(PROV_SMI_V1ALPHA2);
	route_words(&c, out, sizeof out);
	assert_string_equal(out, "TrafficSplit front");
	c.provider = (char *)provider_name(PROV_NGINX);
	route_words(&c, out, sizeof out);
	assert_string_equal(out, "Ingress (ingressRef)-canary");
	c.provider = (char *)provider_name(PROV_KUBERNETES);
	route_words(&c, out, sizeof out);
	assert_string_equal(out, "Services front-primary, front-canary (no route object)");
	c.provider = NULL;		/* Flagger's default: istio */
	route_words(&c, out, sizeof out);
	assert_string_equal(out, "VirtualService front");
	c.provider = "no-such-mesh";
	route_words(&c, out, sizeof out);
	assert_string_equal(out, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_provider),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
