/* test_router_affinity.c — session affinity on the Gateway API and Istio
 * routers (reference §4.3, §4.4): the route objects set_routes makes during
 * and after a run, compared with expected JSON under
 * tests/data/k8s/routes/; the weights and cookies read back from them (the
 * weighted rule, not the sticky one); setting the same routes twice gives
 * the same object. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "k8s/cluster.h"
#include "util/status.h"
#include "util/xalloc.h"

#define RD "tests/data/k8s/routes/"

struct aff_case {
	const char *provider;
	const char *input;		/* the object as the API returns it */
	const char *service_match;	/* spec.service.match (JSON), or NULL */
	bool full;			/* every cookie attribute set */
	bool primary_cookie;		/* primaryCookieName set */
	int canary;			/* weight */
	const char *cookie, *primary, *previous;
	const char *want;		/* the expected object */
};

static const struct aff_case cases[] = {
	/* During a run: sticky canary and primary rules, Set-Cookie on both backends. */
	{ "gatewayapi:v1", RD "httproute-accepted.json", NULL, true, true, 20,
	  "canary-session=AbcdEfghIj", "primary-session=KlmnOpqrSt", "",
	  RD "httproute-affinity-run.json" },
	/* After it: the previous cookie expired on a rule that matches it. */
	{ "gatewayapi:v1", RD "httproute-accepted.json", NULL, true, true, 0,
	  "", "", "canary-session=AbcdEfghIj", RD "httproute-affinity-after.json" },
	/* Istio, default attributes, a service match that the sticky rule keeps. */
	{ "istio", RD "virtualservice-mirror.json", "[{\"uri\":{\"prefix\":\"/api\"}}]", false,
	  false, 35, "flagger.cookie=UvwxYzabCd", "", "flagger.cookie=OldOldOldO",
	  RD "virtualservice-affinity-run.json" },
	{ "istio", RD "virtualservice-mirror.json", NULL, false, false, 0,
	  "", "", "flagger.cookie=UvwxYzabCd", RD "virtualservice-affinity-after.json" },
};

static struct canary_cfg
cfg_of(const struct aff_case *t, struct affinity_cfg *a)
{
	struct canary_cfg c;

	memset(&c, 0, sizeof c);
	c.ns = (char *)"test";
	c.name = c.target = c.service = (char *)"podinfo";
	c.provider = (char *)t->provider;
	c.port = 9898;
	memset(a, 0, sizeof *a);
	a->cookie_name = (char *)"canary-session";
	a->max_age = t->full ? 3600 : 86400;
	if (t->primary_cookie)
		a->primary_cookie_name = (char *)"primary-session";
	if (t->full) {
		a->domain = (char *)"shop.example.com";
		a->path = (char *)"/";
		a->same_site = (char *)"Lax";
		a->http_only = a->partitioned = a->secure = true;
	}
	c.affinity = a;
	return c;
}

static struct k8s_cluster *
cluster_for(const struct aff_case *t)
{
	struct k8s_cluster *k = k8s_cluster_new(NULL);
	json_t *m = t->service_match ? json_loads(t->service_match, 0, NULL) : NULL;
	struct k8s_routing r = { .service_match = m };

	k8s_cluster_set_routing(k, "test", "podinfo", &r);
	json_decref(m);
	return k;
}

static void
expect_object(const char *want_file, json_t *got)
{
	json_t *want = json_load_file(want_file, 0, NULL);
	char *text;

	if (want == NULL || !json_equal(want, got)) {
		text = json_dumps(got, JSON_INDENT(1) | JSON_SORT_KEYS);
		fail_msg("%s differs; got:\n%s", want_file, text);
	}
	json_decref(want);
}

static void
test_affinity_objects(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct aff_case *t = &cases[i];
		struct affinity_cfg a;
		struct canary_cfg c = cfg_of(t, &a);
		struct k8s_cluster *k = cluster_for(t);
		json_t *obj = json_load_file(t->input, 0, NULL), *again;
		struct routes w, r;
		char err[ERRMSG_MAX] = "";

		assert_non_null(obj);
		memset(&w, 0, sizeof w);
		w.canary = t->canary;
		w.primary = 100 - t->canary;
		snprintf(w.cookie, sizeof w.cookie, "%s", t->cookie);
		snprintf(w.primary_cookie, sizeof w.primary_cookie, "%s", t->primary);
		snprintf(w.previous_cookie, sizeof w.previous_cookie, "%s", t->previous);
		if (k8s_routes_to_object(k, &c, obj, &w, err) != ST_OK)
			fail_msg("case %zu: %s", i, err);
		expect_object(t->want, obj);
		/* GetRoutes reads the weighted rule and the cookies back. */
		assert_int_equal(k8s_routes_from_object(&c, obj, &r, err), ST_OK);
		assert_int_equal(r.primary, w.primary);
		assert_int_equal(r.canary, w.canary);
		assert_string_equal(r.cookie, w.cookie);
		assert_string_equal(r.primary_cookie, w.primary_cookie);
		/* The previous cookie is only expired after the run. */
		assert_string_equal(r.previous_cookie, t->canary > 0 ? "" : t->previous);
		/* The same routes again: the same object. */
		again = json_deep_copy(obj);
		assert_int_equal(k8s_routes_to_object(k, &c, again, &w, err), ST_OK);
		assert_true(json_equal(again, obj));
		json_decref(again);
		json_decref(obj);
		k8s_cluster_free(k);
	}
}

/* Without sessionAffinity the same routes make no cookie rule at all. */
static void
test_affinity_off(void **state)
{
	const struct aff_case *t = &cases[0];
	struct affinity_cfg a;
	struct canary_cfg c = cfg_of(t, &a);
	struct k8s_cluster *k = cluster_for(t);
	json_t *obj = json_load_file(t->input, 0, NULL);
	struct routes w = { .primary = 80, .canary = 20 };
	char err[ERRMSG_MAX] = "", *text;

	(void)state;
	c.affinity = NULL;
	snprintf(w.cookie, sizeof w.cookie, "canary-session=AbcdEfghIj");
	assert_int_equal(k8s_routes_to_object(k, &c, obj, &w, err), ST_OK);
	text = json_dumps(obj, 0);
	assert_null(strstr(text, "Cookie"));
	assert_int_equal(json_array_size(json_object_get(json_object_get(obj, "spec"), "rules")), 1);
	free(text);
	json_decref(obj);
	k8s_cluster_free(k);
}

/* A route object of a provider without cookie routing is refused, never
 * written without the cookies (validation refuses such a spec first). */
static void
test_affinity_refused(void **state)
{
	static const char *const providers[] = { "linkerd", "nginx", "kubernetes", "osm",
		"contour", "gloo", "traefik", "kuma", "apisix" };
	struct affinity_cfg a;
	struct canary_cfg c = cfg_of(&cases[0], &a);
	struct k8s_cluster *k = cluster_for(&cases[0]);
	json_t *obj = json_load_file(RD "trafficsplit-v1alpha1.json", 0, NULL);
	struct routes w = { .primary = 80, .canary = 20 }, r;
	char err[ERRMSG_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof providers / sizeof providers[0]; i++) {
		c.provider = (char *)providers[i];
		err[0] = '\0';
		assert_int_equal(k8s_routes_to_object(k, &c, obj, &w, err), ST_UNSUPPORTED);
		assert_non_null(strstr(err, "spec.analysis.sessionAffinity is not supported with "
		    "provider"));
		assert_non_null(strstr(err, providers[i]));
		assert_int_equal(k8s_routes_from_object(&c, obj, &r, err), ST_UNSUPPORTED);
	}
	json_decref(obj);
	k8s_cluster_free(k);
}

/* An A/B canary on a router that splits by weight only is refused the
 * same way: its matches would otherwise route nothing. */
static void
test_ab_refused(void **state)
{
	static const char *const providers[] = { "linkerd", "kubernetes", "osm", "smi:v1alpha3",
		"traefik", "kuma", "apisix" };
	struct affinity_cfg a;
	struct canary_cfg c = cfg_of(&cases[0], &a);
	struct k8s_cluster *k = cluster_for(&cases[0]);
	json_t *obj = json_load_file(RD "trafficsplit-v1alpha1.json", 0, NULL);
	struct routes w = { .primary = 100, .canary = 0 };
	char err[ERRMSG_MAX];
	size_t i;

	(void)state;
	c.affinity = NULL;
	c.strategy = STRATEGY_ABTESTING;
	for (i = 0; i < sizeof providers / sizeof providers[0]; i++) {
		c.provider = (char *)providers[i];
		err[0] = '\0';
		assert_int_equal(k8s_routes_to_object(k, &c, obj, &w, err), ST_UNSUPPORTED);
		assert_non_null(strstr(err, "spec.analysis.match (A/B testing) is not supported"));
		assert_non_null(strstr(err, providers[i]));
	}
	c.strategy = STRATEGY_CANARY;	/* the same provider without A/B is accepted */
	c.provider = (char *)"linkerd";
	assert_int_equal(k8s_routes_to_object(k, &c, obj, &w, err), ST_OK);
	json_decref(obj);
	k8s_cluster_free(k);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_affinity_objects),
		cmocka_unit_test(test_affinity_off),
		cmocka_unit_test(test_affinity_refused),
		cmocka_unit_test(test_ab_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
