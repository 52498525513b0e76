/* test_routers.c — the provider registry (engine/routers.h): how names are
 * found (exact, SMI's suffixes, prefixes, the default), the lists it gives
 * the schema and messages, and that it agrees with the routers of the k8s
 * backend (k8s/routers/): a provider is driven exactly when its row names a
 * router, and the router implements what the row promises. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "engine/routers.h"
#include "k8s/routers/router.h"

static void
test_find(void **state)
{
	static const struct { const char *in; const char *want; } rows[] = {
		{ NULL, "istio" }, { "", "istio" }, { "istio", "istio" },
		{ "linkerd", "linkerd" }, { "smi:v1alpha1", "smi:v1alpha1" },
		{ "smi:v1alpha2:osm", "smi:v1alpha2" }, { "smi:v1alpha3:linkerd", "smi:v1alpha3" },
		{ "gatewayapi", "gatewayapi" }, { "gatewayapi:v1", "gatewayapi:v1" },
		{ "gatewayapi:v1beta1", "gatewayapi:v1beta1" }, { "gatewayapi:v2", NULL },
		{ "glooX", NULL }, { "nginx2", NULL }, { "kubernetes", "kubernetes" },
		{ "appmesh:v1beta2", "appmesh:v1beta2" }, { "something-else", NULL },
		/* Flagger's factory: "starts with appmesh:v1beta2"; appmesh:v1beta1
		 * is not a router of its (it falls through to istio: refused here). */
		{ "appmesh:v1beta2:mesh", "appmesh:v1beta2" }, { "appmesh:v1beta1", NULL },
		{ "skipper", "skipper" }, { "knative", "knative" }, { "osm", "osm" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const struct router_info *r = router_find(rows[i].in);

		if (rows[i].want == NULL)
			assert_null(r);
		else if (r == NULL || strcmp(r->name, rows[i].want) != 0)
			fail_msg("%s: found %s, want %s", rows[i].in ? rows[i].in : "(null)",
			    r ? r->name : "nothing", rows[i].want);
	}
	assert_string_equal(router_find_prefix("gatewayapi:v1alpha2")->name, "gatewayapi:v1");
	assert_string_equal(router_find_prefix("gatewayapi:v2")->name, "gatewayapi");
	assert_string_equal(router_find_prefix("gatewayapiX")->name, "gatewayapi");
	assert_string_equal(router_find_prefix("smi:v1alpha2:osm")->name, "smi:v1alpha2");
	assert_null(router_find_prefix("zzz"));
	assert_string_equal(provider_name(PROV_LINKERD), "linkerd");
	assert_int_equal(router_by_id(PROV_OSM)->id, PROV_OSM);
}

static void
test_caps(void **state)
{
	(void)state;
	assert_true(router_can(NULL, RT_DRIVEN | RT_MATCH | RT_AFFINITY | RT_MIRROR));
	assert_true(router_can("kubernetes", RT_DRIVEN | RT_BLUEGREEN));
	assert_false(router_can("kubernetes", RT_MATCH));
	assert_false(router_can("istio", RT_BLUEGREEN));
	assert_true(router_can("smi:v1alpha1:linkerd", RT_DRIVEN));
	assert_true(router_can("contour", RT_DRIVEN | RT_MATCH));
	assert_true(router_can("gloo", RT_DRIVEN | RT_MATCH));
	assert_true(router_can("traefik", RT_DRIVEN));
	assert_false(router_can("traefik", RT_MATCH));
	assert_false(router_can("kuma", RT_MATCH));
	assert_false(router_can("apisix", RT_MATCH));	/* Flagger ignores the match */
	assert_true(router_can("nginx", RT_INGRESSREF | RT_MATCH));
	assert_true(router_can("skipper", RT_INGRESSREF));
	assert_true(router_can("apisix", RT_ROUTEREF | RT_DRIVEN));
	assert_true(router_can("knative", RT_KNATIVE));
	assert_true(router_can("gatewayapi:v1beta1", RT_GATEWAYREFS | RT_AFFINITY));
	assert_false(router_can("unknown", 0));	/* unknown names have nothing */
}

/* The schema offers every name but the aliases, in list order; messages
 * list the driven ones. */
static void
test_lists(void **state)
{
	static const char *const schema[] = { "apisix", "appmesh", "appmesh:v1beta2",
		"contour", "gatewayapi:v1", "gatewayapi:v1beta1", "gloo", "istio", "knative",
		"kubernetes", "kuma", "linkerd", "nginx", "osm", "skipper", "smi:v1alpha1",
		"smi:v1alpha2", "smi:v1alpha3", "traefik", NULL };
	char names[ROUTER_NAMES_MAX], small[20];
	size_t i;

	(void)state;
	for (i = 0; schema[i] != NULL; i++) {
		assert_non_null(router_schema_names[i]);
		assert_string_equal(router_schema_names[i], schema[i]);
	}
	assert_null(router_schema_names[i]);
	router_driven_names(names, sizeof names);
	assert_string_equal(names, "apisix, appmesh, appmesh:v1beta2, contour, gatewayapi, "
	    "gatewayapi:v1, gatewayapi:v1beta1, gloo, istio, knative, kubernetes, kuma, linkerd, "
	    "nginx, osm, skipper, smi:v1alpha1, smi:v1alpha2, smi:v1alpha3, traefik");
	router_names_can(RT_DRIVEN | RT_MATCH, names, sizeof names);
	assert_string_equal(names, "appmesh, appmesh:v1beta2, contour, gatewayapi, "
	    "gatewayapi:v1, gatewayapi:v1beta1, gloo, istio, nginx");
	router_driven_names(small, sizeof small);
	assert_int_equal(strlen(small), sizeof small - 1);	/* cut, terminated */
}

static const struct router_ops *const k8s_routers[PROV__COUNT] = {
#define X(id, name, match, caps, obs, router) [PROV_##id] = &router##_router,
	PROVIDER_LIST(X)
#undef X
};

/* Each row's router does what the row says; the rows without one are
 * the ones validation refuses. */
static void
test_rows_agree_with_routers(void **state)
{
	const unsigned routed = RT_MATCH | RT_AFFINITY | RT_MIRROR;
	size_t i;

	(void)state;
	for (i = 0; i < PROV__COUNT; i++) {
		const struct router_info *r = router_by_id((enum provider)i);
		const struct router_ops *o = k8s_routers[i];
		bool driven = o != &none_router;

		if (driven != ((router_caps(r) & RT_DRIVEN) != 0) || driven != (strcmp(r->router,
		    "none") != 0))
			fail_msg("%s: driven by the registry, not by k8s (or the reverse)", r->name);
		if (!driven)
			continue;
		if ((r->caps & routed) != o->caps)
			fail_msg("%s: the registry's caps %#x, the router's %#x", r->name,
			    r->caps & routed, o->caps);
		if ((o->affinity != NULL) != ((r->caps & RT_AFFINITY) != 0))
			fail_msg("%s: affinity rules without the capability (or the reverse)", r->name);
		if ((o->kind == NULL) != ((r->caps & RT_BLUEGREEN) != 0))
			fail_msg("%s: a route object for a blue/green-only provider (or none for "
			    "another)", r->name);
		if (o->revert == NULL)
			fail_msg("%s: no revert on deletion (route_revert_none when nothing to "
			    "give back)", r->name);
		if (o->kind == NULL ? o->set == NULL || o->get == NULL : o->res == NULL ||
		    o->write == NULL || o->read == NULL || o->reconcile == NULL)
			fail_msg("%s: the router lacks an op", r->name);
		assert_non_null(o->name);
	}
}

static void
test_observers(void **state)
{
	(void)state;
	assert_string_equal(observer_name(OBS_HTTP), "http");
	assert_string_equal(observer_name((enum observer)OBS__COUNT), "?");
	assert_int_equal(provider_observer("gatewayapi", "Service"), OBS_HTTP);
	assert_int_equal(provider_observer("gatewayapiX", NULL), OBS_HTTP);
	assert_int_equal(provider_observer("glooX", "Service"), OBS_GLOO);
	assert_int_equal(provider_observer("knative", "Service"), OBS_KNATIVE);
	assert_int_equal(provider_observer("smi:v1alpha1:linkerd", NULL), OBS_ISTIO);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_rows_agree_with_routers),
		cmocka_unit_test(test_observers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
