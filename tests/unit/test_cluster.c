/* test_cluster.c — the k8s cluster backend: readiness over Deployment
 * fixtures (reference §2.6), revision ids, then initialize / revision /
 * readiness / scale / promote / routes / events for every router against
 * the test API server, and the refusal to fight a running Flagger. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "helper_apiserver.h"
#include "k8s/cluster.h"
#include "k8s/cluster_int.h"
#include "k8s/kubeconfig.h"
#include "k8s/rest.h"
#include "engine/routers.h"
#include "util/status.h"
#include "util/xalloc.h"

#define DD "tests/data/k8s/deployments/"
#define T10 1795687200L		/* 2026-11-26T10:00:00Z */

struct ready_case {
	const char *file;
	int threshold;
	long now;
	bool ready, retriable;
	const char *msg;
};

static const struct ready_case ready_cases[] = {
	{ DD "ready.json", 100, T10, true, true, "" },
	{ DD "generation-behind.json", 100, T10, false, true, "observed deployment generation less than desired generation" },
	{ DD "updating.json", 100, T10, false, true, "waiting for rollout to finish: 1 out of 3 new replicas have been updated" },
	{ DD "old-pending.json", 100, T10, false, true, "waiting for rollout to finish: 1 old replicas are pending termination" },
	{ DD "unavailable.json", 100, T10 + 300, false, true, "waiting for rollout to finish: 2 of 4 (readyThreshold 100%) updated replicas are available" },
	{ DD "unavailable.json", 100, T10 + 601, false, false, "2 of 4" },
	{ DD "unavailable.json", 50, T10 + 300, true, true, "" },
	{ DD "deadline.json", 100, T10, false, false, "deployment \"checkout\" exceeded its progress deadline" },
};

static void
test_ready_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof ready_cases / sizeof ready_cases[0]; i++) {
		const struct ready_case *t = &ready_cases[i];
		json_t *dep = json_load_file(t->file, 0, NULL);
		struct readiness r;
		char msg[ERRMSG_MAX];

		assert_non_null(dep);
		wl_ready(dep, t->threshold, t->now, &r, msg, sizeof msg);
		if (r.ready != t->ready || r.retriable != t->retriable || !strstr(msg, t->msg))
			fail_msg("case %zu (%s): ready %d retriable %d '%s'", i, t->file, r.ready,
			    r.retriable, msg);
		json_decref(dep);
	}
}

/* Routers-providers §3.2 (isDaemonSetReady): always retriable (the engine
 * gives up at the Canary's progress deadline); a DaemonSet at zero is ready. */
struct ds_case {
	const char *json;
	int threshold;
	bool ready;
	const char *msg;
};

static const struct ds_case ds_cases[] = {
	{ "{\"metadata\":{\"generation\":2},\"status\":{\"observedGeneration\":2,"
	  "\"desiredNumberScheduled\":3,\"updatedNumberScheduled\":3,\"numberAvailable\":3}}",
	  100, true, "" },
	{ "{\"metadata\":{\"generation\":3},\"status\":{\"observedGeneration\":2,"
	  "\"desiredNumberScheduled\":3,\"updatedNumberScheduled\":3,\"numberAvailable\":3}}",
	  100, false, "observed daemonset generation less than desired generation" },
	{ "{\"metadata\":{\"generation\":1},\"status\":{\"observedGeneration\":1,"
	  "\"desiredNumberScheduled\":3,\"updatedNumberScheduled\":1,\"numberAvailable\":3}}",
	  100, false, "waiting for rollout to finish: 1 out of 3 new pods have been updated" },
	{ "{\"metadata\":{\"generation\":1},\"status\":{\"observedGeneration\":1,"
	  "\"desiredNumberScheduled\":4,\"updatedNumberScheduled\":4,\"numberAvailable\":2}}",
	  100, false, "waiting for rollout to finish: 2 of 4 (readyThreshold 100%) updated pods are available" },
	{ "{\"metadata\":{\"generation\":1},\"status\":{\"observedGeneration\":1,"
	  "\"desiredNumberScheduled\":4,\"updatedNumberScheduled\":4,\"numberAvailable\":2}}",
	  50, true, "" },
	{ "{\"metadata\":{\"generation\":1},\"status\":{\"observedGeneration\":1}}",
	  100, true, "" },
};

static void
test_daemonset_ready(void **state)
{
	struct canary_cfg cfg = { .name = "agent", .ns = "default", .target_kind = "DaemonSet" };
	const struct wl_kind *wk = wl_kind_of(&cfg);
	char msg[ERRMSG_MAX], err[ERRMSG_MAX];
	struct readiness r;
	size_t i;

	(void)state;
	assert_non_null(wk);
	assert_string_equal(wk->noun, "daemonset");
	for (i = 0; i < sizeof ds_cases / sizeof ds_cases[0]; i++) {
		json_t *ds = json_loads(ds_cases[i].json, 0, NULL);

		assert_non_null(ds);
		wk->ready(ds, ds_cases[i].threshold, T10, &r, msg, sizeof msg);
		if (r.ready != ds_cases[i].ready || !r.retriable || !strstr(msg, ds_cases[i].msg))
			fail_msg("case %zu: ready %d retriable %d '%s'", i, r.ready, r.retriable, msg);
		json_decref(ds);
	}
	/* A plain Service: always ready, nothing scaled (routers-providers §3.3). */
	cfg.target_kind = "Service";
	cfg.target_api = "v1";
	wk = wl_kind_of(&cfg);
	assert_non_null(wk);
	assert_true(wk->service);
	wk->ready(NULL, 100, T10, &r, msg, sizeof msg);
	assert_true(r.ready);
	assert_int_equal(wk->scale(NULL, &cfg, false, err), ST_OK);
	/* A Knative Service: its Revisions, read its own way (§3.4). */
	cfg.target_api = "serving.knative.dev/v1";
	wk = wl_kind_of(&cfg);
	assert_non_null(wk);
	assert_string_equal(wk->noun, "Knative Service");
	assert_non_null(wk->readiness);
	assert_non_null(wk->revision);
	/* Any other kind of that group is not. */
	cfg.target_kind = "Configuration";
	assert_null(wl_kind_of(&cfg));
	assert_int_equal(wl_unsupported(&cfg, err), ST_UNSUPPORTED);
	assert_non_null(strstr(err, "target kind Configuration of serving.knative.dev/v1 is not "
	    "supported on a cluster"));
}

static void
test_template_hash(void **state)
{
	json_t *a = json_loads("{\"metadata\":{\"labels\":{\"app\":\"x\",\"b\":\"1\"},"
	    "\"creationTimestamp\":null},\"spec\":{\"containers\":[{\"name\":\"x\",\"image\":\"x:1\"}]}}",
	    0, NULL);
	json_t *b = json_loads("{\"spec\":{\"containers\":[{\"image\":\"x:1\",\"name\":\"x\"}]},"
	    "\"metadata\":{\"labels\":{\"b\":\"1\",\"app\":\"x\"}}}", 0, NULL);
	json_t *cfg = json_loads("{\"data\":{\"b\":\"2\",\"a\":\"1\"}}", 0, NULL);
	char ha[17], hb[17], hc[17];

	(void)state;
	k8s_template_hash(a, ha);
	k8s_template_hash(b, hb);
	assert_string_equal(ha, hb);	/* key order and creationTimestamp do not matter */
	assert_int_equal(strlen(ha), 16);
	json_object_set_new(json_array_get(jpath(b, "spec.containers"), 0), "image", json_string("x:2"));
	k8s_template_hash(b, hb);
	assert_string_not_equal(ha, hb);
	k8s_config_checksum(cfg, hc);
	/* sha256('{"a":"1","b":"2"}'), first 8 bytes */
	assert_string_equal(hc, "21f76dfbfe6dfe21");
	json_decref(a);
	json_decref(b);
	json_decref(cfg);
}

#define RD "tests/data/k8s/routes/"

struct object_case {
	const char *file, *provider;
	int st, primary, canary;
	bool mirrored;
	const char *err;
};

static const struct object_case object_cases[] = {
	{ RD "trafficsplit-v1alpha1.json", "linkerd", ST_OK, 90, 10, false, NULL },
	{ RD "trafficsplit-v1alpha2.json", "smi:v1alpha2:osm", ST_OK, 65, 35, false, NULL },
	{ RD "trafficsplit-zero.json", "smi:v1alpha3:linkerd", ST_CORRUPT, 0, 0, false, "both weights are 0" },
	{ RD "httproute-accepted.json", "gatewayapi:v1", ST_OK, 80, 20, false, NULL },
	{ RD "httproute-stale.json", "gatewayapi:v1", ST_AGAIN, 0, 0, false, "HTTPRoute podinfo.test parent gateway is not ready (status: True, observed generation: 3, current generation: 4)" },
	{ RD "virtualservice-mirror.json", "istio", ST_OK, 100, 0, true, NULL },
	{ RD "virtualservice-ab.json", "istio", ST_OK, 0, 100, false, NULL },
	{ RD "ingress-canary.json", "nginx", ST_OK, 80, 20, false, NULL },
	{ RD "ingress-canary.json", "kubernetes", ST_UNSUPPORTED, 0, 0, false, "no route object" },
	{ RD "knative-service.json", "knative", ST_OK, 70, 30, false, NULL },
	{ RD "knative-unpinned.json", "knative", ST_CORRUPT, 0, 0, false, "has no route with both podinfo-primary and podinfo-canary" },
};

/* Route objects as the API returns them (reference §4 samples). */
static void
test_routes_from_objects(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof object_cases / sizeof object_cases[0]; i++) {
		const struct object_case *t = &object_cases[i];
		struct canary_cfg c;
		json_t *obj = json_load_file(t->file, 0, NULL);
		char err[ERRMSG_MAX] = "";
		struct routes r;
		int st;

		assert_non_null(obj);
		memset(&c, 0, sizeof c);
		c.ns = (char *)"test";
		c.name = c.target = c.service = (char *)"podinfo";
		c.provider = (char *)t->provider;
		st = k8s_routes_from_object(&c, obj, &r, err);
		if (st != t->st)
			fail_msg("case %zu (%s): %s (%s)", i, t->file, status_name(st), err);
		if (st == ST_OK) {
			assert_int_equal(r.primary, t->primary);
			assert_int_equal(r.canary, t->canary);
			assert_int_equal(r.mirrored, t->mirrored);
		} else if (!strstr(err, t->err)) {
			fail_msg("case %zu: '%s' lacks '%s'", i, err, t->err);
		}
		json_decref(obj);
	}
}

/* ---- against the test API server ------------------------------------------ */

struct fx {
	struct apiserver srv;
	struct k8s_config *cfg;
	struct k8s_client *c;
	struct k8s_cluster *k;
};

static void
apply(struct fx *f, const struct k8s_res *r, const char *ns, const char *json)
{
	json_t *o = json_loads(json, 0, NULL), *made = NULL;
	struct k8s_err e;

	assert_non_null(o);
	if (k8s_create(f->c, r, ns, o, &made, &e) != ST_OK)
		fail_msg("create: %s", e.msg);
	/* A create leaves the status subresource out, as the real server
	 * does: the status goes in a second write, as a controller's. */
	if (json_object_get(o, "status") != NULL) {
		json_object_set(made, "status", json_object_get(o, "status"));
		if (k8s_update_status(f->c, r, ns, made, NULL, &e) != ST_OK)
			fail_msg("status: %s", e.msg);
	}
	json_decref(made);
	json_decref(o);
}

static int
setup(void **state)
{
	static const char *const args[] = { "--ready-delay", "0", NULL };
	static const struct k8s_client_opts o = { .backoff_ms = 20 };
	struct kubeconfig_opts ko = { 0 };
	struct fx *f = xcalloc(1, sizeof *f);
	struct buf err;

	if (apiserver_start(&f->srv, args) != 0)
		return -1;
	ko.path = f->srv.kubeconfig;
	buf_init(&err, 256);
	if (k8s_config_load(&ko, &f->cfg, &err) != ST_OK ||
	    k8s_client_new(f->cfg, &o, &f->c, &err) != ST_OK)
		return -1;
	buf_fini(&err);
	f->k = k8s_cluster_new(f->c);
	apply(f, K8S_RES(NAMESPACES), NULL, "{\"metadata\":{\"name\":\"shop\"}}");
	apply(f, K8S_RES(CONFIGMAPS), "shop", "{\"metadata\":{\"name\":\"checkout-config\"},"
	    "\"data\":{\"mode\":\"fast\"}}");
	apply(f, K8S_RES(SECRETS), "shop", "{\"metadata\":{\"name\":\"checkout-secret\"},"
	    "\"data\":{\"key\":\"c2VjcmV0\"}}");
	apply(f, K8S_RES(DEPLOYMENTS), "shop", "{\"metadata\":{\"name\":\"checkout\","
	    "\"labels\":{\"app\":\"checkout\"}},\"spec\":{\"replicas\":2,\"selector\":{\"matchLabels\":"
	    "{\"app\":\"checkout\"}},\"template\":{\"metadata\":{\"labels\":{\"app\":\"checkout\"}},"
	    "\"spec\":{\"containers\":[{\"name\":\"checkout\",\"image\":\"checkout:v1\",\"env\":[{"
	    "\"name\":\"MODE\",\"valueFrom\":{\"configMapKeyRef\":{\"name\":\"checkout-config\","
	    "\"key\":\"mode\"}}}]}],\"volumes\":[{\"name\":\"s\",\"secret\":{\"secretName\":"
	    "\"checkout-secret\"}},{\"name\":\"o\",\"configMap\":{\"name\":\"gone\",\"optional\":true}}]}}}}");
	apply(f, K8S_RES(INGRESSES), "shop", "{\"metadata\":{\"name\":\"checkout\",\"annotations\":"
	    "{\"kubernetes.io/ingress.class\":\"nginx\"}},\"spec\":{\"rules\":[{\"host\":\"shop.example\","
	    "\"http\":{\"paths\":[{\"path\":\"/\",\"pathType\":\"Prefix\",\"backend\":{\"service\":"
	    "{\"name\":\"checkout\",\"port\":{\"number\":80}}}}]}}]}}");
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	k8s_cluster_free(f->k);
	k8s_client_free(f->c);
	k8s_config_free(f->cfg);
	apiserver_stop(&f->srv);
	free(f);
	return 0;
}

static struct canary_cfg
cfg_for(const char *provider)
{
	struct canary_cfg c;

	memset(&c, 0, sizeof c);
	c.ns = (char *)"shop";
	c.name = (char *)"checkout";
	c.target = (char *)"checkout";
	c.target_kind = (char *)"Deployment";
	c.service = (char *)"checkout";
	c.provider = (char *)provider;
	c.port = 80;
	c.mirror_weight = 50;
	return c;
}

static json_t *
get(struct fx *f, const struct k8s_res *r, const char *name)
{
	struct k8s_err e;
	json_t *o;

	if (k8s_get(f->c, r, "shop", name, &o, &e) != ST_OK)
		fail_msg("get %s %s: %s", r->plural, name, e.msg);
	return o;
}

static void
test_initialize_and_promote(void **state)
{
	struct fx *f = *state;
	struct canary_cfg c = cfg_for("kubernetes");
	char err[ERRMSG_MAX], id1[72], fid[64];
	struct revision rev, prev;
	struct readiness rd;
	json_t *o, *patch;
	struct k8s_err e;

	assert_int_equal(k8s_cluster_ops.initialize(f->k, &c, err), ST_OK);
	o = get(f, K8S_RES(DEPLOYMENTS), "checkout-primary");
	assert_string_equal(jstr(o, "spec.selector.matchLabels.app"), "checkout-primary");
	assert_string_equal(jstr(o, "spec.template.metadata.labels.app"), "checkout-primary");
	assert_non_null(jstr(o, "spec.template.metadata.annotations.flagger-id"));
	snprintf(fid, sizeof fid, "%s", jstr(o, "spec.template.metadata.annotations.flagger-id"));
	assert_string_equal(jstr(json_array_get(jpath(json_array_get(jpath(o, "spec.template.spec.containers"), 0), "env"), 0), "valueFrom.configMapKeyRef.name"), "checkout-config-primary");
	assert_string_equal(jstr(json_array_get(jpath(o, "spec.template.spec.volumes"), 0), "secret.secretName"), "checkout-secret-primary");
	assert_string_equal(jstr(json_array_get(jpath(o, "spec.template.spec.volumes"), 1), "configMap.name"), "gone");
	assert_int_equal(json_integer_value(jpath(o, "spec.replicas")), 2);
	json_decref(o);
	o = get(f, K8S_RES(CONFIGMAPS), "checkout-config-primary");
	assert_string_equal(jstr(o, "data.mode"), "fast");
	json_decref(o);
	o = get(f, K8S_RES(SECRETS), "checkout-secret-primary");
	assert_string_equal(jstr(o, "data.key"), "c2VjcmV0");
	json_decref(o);
	o = get(f, K8S_RES(SERVICES), "checkout");
	assert_string_equal(jstr(o, "spec.selector.app"), "checkout-primary");
	json_decref(o);
	o = get(f, K8S_RES(SERVICES), "checkout-canary");
	assert_string_equal(jstr(o, "spec.selector.app"), "checkout");
	json_decref(o);
	/* The primary is ready at once (ready-delay 0), so the target is at zero. */
	o = get(f, K8S_RES(DEPLOYMENTS), "checkout");
	assert_int_equal(json_integer_value(jpath(o, "spec.replicas")), 0);
	json_decref(o);
	assert_int_equal(k8s_cluster_ops.initialize(f->k, &c, err), ST_OK);	/* idempotent */

	assert_int_equal(k8s_cluster_ops.revision(f->k, &c, &rev, err), ST_OK);
	assert_int_equal(strlen(rev.id), 33);
	assert_string_equal(rev.image, "checkout:v1");
	snprintf(id1, sizeof id1, "%s", rev.id);
	assert_int_equal(k8s_cluster_ops.primary_revision(f->k, &c, &prev, err), ST_OK);
	assert_string_equal(prev.id, id1);
	/* A config change changes the config part only. */
	patch = json_pack("{s:{s:s}}", "data", "mode", "slow");
	assert_int_equal(k8s_patch(f->c, K8S_RES(CONFIGMAPS), "shop", "checkout-config", K8S_PATCH_MERGE, patch, NULL, &e), ST_OK);
	json_decref(patch);
	assert_int_equal(k8s_cluster_ops.revision(f->k, &c, &rev, err), ST_OK);
	assert_memory_equal(rev.id, id1, 16);
	assert_string_not_equal(rev.id, id1);
	/* A new image changes the template part. */
	patch = json_loads("{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"checkout\",\"image\":\"checkout:v2\"}]}}}}", 0, NULL);
	assert_int_equal(k8s_patch(f->c, K8S_RES(DEPLOYMENTS), "shop", "checkout", K8S_PATCH_STRATEGIC, patch, NULL, &e), ST_OK);
	json_decref(patch);
	assert_int_equal(k8s_cluster_ops.revision(f->k, &c, &rev, err), ST_OK);
	assert_memory_not_equal(rev.id, id1, 16);
	assert_string_equal(rev.image, "checkout:v2");
	/* The primary still says what it was made from (v1 and the first
	 * config), whatever the target became since: initialization saves
	 * that, and the target's changes are a new revision. */
	assert_int_equal(k8s_cluster_ops.initialize(f->k, &c, err), ST_OK);
	assert_int_equal(k8s_cluster_ops.primary_revision(f->k, &c, &prev, err), ST_OK);
	assert_string_equal(prev.id, id1);
	assert_string_equal(prev.image, "checkout:v1");

	/* Scale up from zero: the primary's replica count. */
	assert_int_equal(k8s_cluster_ops.scale(f->k, &c, true, err), ST_OK);
	o = get(f, K8S_RES(DEPLOYMENTS), "checkout");
	assert_int_equal(json_integer_value(jpath(o, "spec.replicas")), 2);
	json_decref(o);
	assert_int_equal(k8s_cluster_ops.readiness(f->k, &c, WL_CANARY, (int64_t)time(NULL) * 1000, &rd), ST_OK);
	assert_true(rd.ready);
	/* A canary that never gets ready. */
	patch = json_pack("{s:{s:{s:s}}}", "metadata", "annotations", "test.perch.dev/never-ready", "true");
	assert_int_equal(k8s_patch(f->c, K8S_RES(DEPLOYMENTS), "shop", "checkout", K8S_PATCH_MERGE, patch, NULL, &e), ST_OK);
	json_decref(patch);
	assert_int_equal(k8s_cluster_ops.readiness(f->k, &c, WL_CANARY, (int64_t)time(NULL) * 1000, &rd), ST_OK);
	assert_false(rd.ready);
	assert_true(rd.retriable);
	assert_string_equal(rd.msg, "waiting for rollout to finish: 1 of 2 (readyThreshold 100%) updated replicas are available");
	/* The engine's clock may run ahead of the wall clock (PERCH_TIME_SCALE):
	 * the Deployment's times are the cluster's, on the wall clock, and so
	 * is its progress deadline. */
	assert_int_equal(k8s_cluster_ops.readiness(f->k, &c, WL_CANARY,
	    ((int64_t)time(NULL) + 3600) * 1000, &rd), ST_OK);
	assert_true(rd.retriable);

	/* Promotion copies the template (new flagger-id), the annotations and the configs. */
	patch = json_loads("{\"metadata\":{\"annotations\":{\"test.perch.dev/never-ready\":null}}}", 0, NULL);
	assert_int_equal(k8s_patch(f->c, K8S_RES(DEPLOYMENTS), "shop", "checkout", K8S_PATCH_MERGE, patch, NULL, &e), ST_OK);
	json_decref(patch);
	assert_int_equal(k8s_cluster_ops.promote(f->k, &c, err), ST_OK);
	o = get(f, K8S_RES(DEPLOYMENTS), "checkout-primary");
	assert_string_equal(jstr(json_array_get(jpath(o, "spec.template.spec.containers"), 0), "image"), "checkout:v2");
	assert_string_not_equal(jstr(o, "spec.template.metadata.annotations.flagger-id"), fid);
	assert_string_equal(jstr(o, "spec.template.metadata.labels.app"), "checkout-primary");
	json_decref(o);
	assert_int_equal(k8s_cluster_ops.revision(f->k, &c, &rev, err), ST_OK);
	assert_int_equal(k8s_cluster_ops.primary_revision(f->k, &c, &prev, err), ST_OK);
	assert_string_equal(prev.id, rev.id);
	assert_string_equal(prev.image, "checkout:v2");
	o = get(f, K8S_RES(CONFIGMAPS), "checkout-config-primary");
	assert_string_equal(jstr(o, "data.mode"), "slow");
	json_decref(o);
	assert_int_equal(k8s_cluster_ops.readiness(f->k, &c, WL_PRIMARY, (int64_t)time(NULL) * 1000, &rd), ST_OK);
	assert_true(rd.ready);

	/* Scale down; an Event on the target. */
	assert_int_equal(k8s_cluster_ops.scale(f->k, &c, false, err), ST_OK);
	assert_int_equal(k8s_cluster_ops.emit_event(f->k, &c, SEV_WARNING, "Canary failed! Scaling down checkout.shop"), ST_OK);
	assert_int_equal(k8s_list(f->c, K8S_RES(EVENTS), "shop", NULL, &o, &e), ST_OK);
	assert_int_equal(json_array_size(json_object_get(o, "items")), 1);
	assert_string_equal(jstr(json_array_get(json_object_get(o, "items"), 0), "message"), "Canary failed! Scaling down checkout.shop");
	assert_string_equal(jstr(json_array_get(json_object_get(o, "items"), 0), "type"), "Warning");
	assert_string_equal(jstr(json_array_get(json_object_get(o, "items"), 0), "involvedObject.name"), "checkout");
	json_decref(o);

}

/* Events on a client of their own (the runner's notifier thread sends
 * them): the cluster's client sends nothing for them. */
static void
test_events_own_client(void **state)
{
	struct fx *f = *state;
	struct canary_cfg c = cfg_for("kubernetes");
	struct k8s_client *ev = NULL;
	struct k8s_counters before, after, ev_n;
	struct buf berr;
	struct k8s_err e;
	json_t *o;
	size_t n0;

	assert_int_equal(k8s_list(f->c, K8S_RES(EVENTS), "shop", NULL, &o, &e), ST_OK);
	n0 = json_array_size(json_object_get(o, "items"));
	json_decref(o);
	buf_init(&berr, 256);
	assert_int_equal(k8s_client_new(f->cfg, NULL, &ev, &berr), ST_OK);
	buf_fini(&berr);
	k8s_cluster_set_event_client(f->k, ev);
	k8s_client_counters(f->c, &before);
	assert_int_equal(k8s_cluster_ops.emit_event(f->k, &c, SEV_NORMAL, "Promotion completed!"), ST_OK);
	k8s_client_counters(f->c, &after);
	k8s_client_counters(ev, &ev_n);
	assert_int_equal(after.create, before.create);
	assert_int_equal(ev_n.create, 1);
	k8s_cluster_set_event_client(f->k, NULL);
	k8s_client_free(ev);
	assert_int_equal(k8s_cluster_ops.emit_event(f->k, &c, SEV_NORMAL, "Second"), ST_OK);
	k8s_client_counters(f->c, &after);
	assert_int_equal(after.create, before.create + 1);	/* back on its own */
	assert_int_equal(k8s_list(f->c, K8S_RES(EVENTS), "shop", NULL, &o, &e), ST_OK);
	assert_int_equal(json_array_size(json_object_get(o, "items")), n0 + 2);
	json_decref(o);
}

struct route_case {
	const char *provider;
	enum k8s_res_id res;
	const char *object;		/* the route object's name */
	const char *weight_path;	/* a JSONish description checked by text */
	const char *want;		/* substring of the object's JSON at 80/20 */
};

static const struct route_case route_cases[] = {
	{ "kubernetes", K8S__COUNT, NULL, NULL, NULL },
	{ "linkerd", K8S_TRAFFICSPLITS_A1, "checkout", "spec", "{\"service\":\"checkout-canary\",\"weight\":\"20\"}" },
	{ "smi:v1alpha2:osm", K8S_TRAFFICSPLITS_A2, "checkout", "spec", "{\"service\":\"checkout-primary\",\"weight\":80}" },
	{ "smi:v1alpha3:linkerd", K8S_TRAFFICSPLITS_A3, "checkout", "spec", "{\"service\":\"checkout-canary\",\"weight\":20}" },
	{ "gatewayapi:v1", K8S_HTTPROUTES_V1, "checkout", "spec", "\"name\":\"checkout-canary\",\"port\":80,\"weight\":20" },
	{ "gatewayapi:v1beta1", K8S_HTTPROUTES_V1B1, "checkout", "spec", "\"name\":\"checkout-primary\",\"port\":80,\"weight\":80" },
	{ "istio", K8S_VIRTUALSERVICES, "checkout", "spec", "{\"destination\":{\"host\":\"checkout-canary\"},\"weight\":20}" },
	{ "appmesh:v1beta2", K8S_MESH_ROUTERS_B2, "checkout", "spec", "\"action\":{\"weightedTargets\":[{\"virtualNodeRef\":{\"name\":\"checkout-canary\"},\"weight\":20},{\"virtualNodeRef\":{\"name\":\"checkout-primary\"},\"weight\":80}]}" },
	{ "skipper", K8S_INGRESSES, "checkout-canary", "metadata", "\"zalando.org/backend-weights\":\"{\\\"checkout-canary\\\":20,\\\"checkout-primary\\\":80}\",\"zalando.org/skipper-predicate\":\"Weight(100)\"" },
	{ "nginx", K8S_INGRESSES, "checkout-canary", "metadata", "\"nginx.ingress.kubernetes.io/canary-weight\":\"20\"" },
	{ "contour", K8S_HTTPPROXIES, "checkout", "spec", "\"name\":\"checkout-canary\",\"port\":80,\"weight\":20" },
	{ "gloo", K8S_ROUTETABLES, "checkout", "spec", "{\"upstream\":{\"name\":\"shop-checkout-canaryupstream-80\",\"namespace\":\"shop\"}},\"weight\":20}" },
	{ "traefik", K8S_TRAEFIKSERVICES, "checkout", "spec", "{\"name\":\"checkout-canary\",\"namespace\":\"shop\",\"port\":80,\"weight\":20}" },
	{ "kuma", K8S_TRAFFICROUTES, "checkout", "spec", "{\"weight\":20,\"destination\":{\"kuma.io/service\":\"checkout-canary_shop_svc_80\"}}" },
};

static void
test_routers(void **state)
{
	struct fx *f = *state;
	char err[ERRMSG_MAX], *text;
	struct routes r;
	size_t i;
	json_t *o;

	for (i = 0; i < sizeof route_cases / sizeof route_cases[0]; i++) {
		const struct route_case *t = &route_cases[i];
		struct canary_cfg c = cfg_for(t->provider);
		struct routes w = { .primary = 80, .canary = 20, .mirrored = false };

		if (k8s_cluster_ops.initialize(f->k, &c, err) != ST_OK)
			fail_msg("%s: initialize: %s", t->provider, err);
		if (k8s_cluster_ops.get_routes(f->k, &c, &r, err) != ST_OK)
			fail_msg("%s: get: %s", t->provider, err);
		assert_int_equal(r.primary, 100);
		assert_int_equal(r.canary, 0);
		if (k8s_cluster_ops.set_routes(f->k, &c, &w, err) != ST_OK)
			fail_msg("%s: set: %s", t->provider, err);
		assert_int_equal(k8s_cluster_ops.get_routes(f->k, &c, &r, err), ST_OK);
		assert_int_equal(r.primary, 80);
		assert_int_equal(r.canary, 20);
		if (t->object) {
			o = get(f, &k8s_resources[t->res], t->object);
			text = json_dumps(json_object_get(o, t->weight_path), JSON_COMPACT);
			if (!strstr(text, t->want))
				fail_msg("%s: %s lacks %s", t->provider, text, t->want);
			free(text);
			json_decref(o);
		}
		w = (struct routes){ .primary = 100, .canary = 0 };
		assert_int_equal(k8s_cluster_ops.set_routes(f->k, &c, &w, err), ST_OK);
	}
	/* Istio mirroring. */
	{
		struct canary_cfg c = cfg_for("istio");
		struct routes w = { .primary = 100, .canary = 0, .mirrored = true };

		assert_int_equal(k8s_cluster_ops.set_routes(f->k, &c, &w, err), ST_OK);
		assert_int_equal(k8s_cluster_ops.get_routes(f->k, &c, &r, err), ST_OK);
		assert_true(r.mirrored);
	}
	/* A provider without a router (the first the registry has, if any). */
	for (i = 0; i < PROV__COUNT; i++) {
		const struct router_info *ri = router_by_id((enum provider)i);
		struct canary_cfg c;
		char want[100];

		if (router_caps(ri) & RT_DRIVEN)
			continue;
		c = cfg_for(ri->name);
		snprintf(want, sizeof want, "provider \"%s\" is not supported", ri->name);
		assert_int_equal(k8s_cluster_ops.get_routes(f->k, &c, &r, err), ST_UNSUPPORTED);
		assert_non_null(strstr(err, want));
		break;
	}
}

/* revertOnDeletion (routers-providers §2.11): each router's revert from a
 * split of 80/20.  NGINX and Skipper delete the canary Ingress, the
 * kubernetes provider has no route to give back, every other route object
 * sends all traffic to the target (<svc>-canary). */
static void
test_router_reverts(void **state)
{
	struct fx *f = *state;
	char err[ERRMSG_MAX];
	struct k8s_err e;
	struct routes r;
	json_t *o;
	size_t i;

	for (i = 0; i < sizeof route_cases / sizeof route_cases[0]; i++) {
		const struct route_case *t = &route_cases[i];
		struct canary_cfg c = cfg_for(t->provider);
		struct routes w = { .primary = 80, .canary = 20 };

		if (k8s_cluster_ops.initialize(f->k, &c, err) != ST_OK ||
		    k8s_cluster_ops.set_routes(f->k, &c, &w, err) != ST_OK)
			fail_msg("%s: %s", t->provider, err);
		if (rt_revert(f->k, &c, err) != ST_OK)
			fail_msg("%s: revert: %s", t->provider, err);
		if (t->res == K8S_INGRESSES) {
			assert_int_equal(k8s_get(f->c, &k8s_resources[t->res], "shop", t->object, &o,
			    &e), ST_NOTFOUND);
		} else {
			assert_int_equal(k8s_cluster_ops.get_routes(f->k, &c, &r, err), ST_OK);
			if (r.primary != (t->object ? 0 : 80) || r.canary != (t->object ? 100 : 20))
				fail_msg("%s: %d/%d after the revert", t->provider, r.primary,
				    r.canary);
		}
		/* Twice: nothing left to change, nothing fails. */
		assert_int_equal(rt_revert(f->k, &c, err), ST_OK);
		/* Back to 100/0 for the tests that follow. */
		w = (struct routes){ .primary = 100, .canary = 0 };
		assert_int_equal(k8s_cluster_ops.initialize(f->k, &c, err), ST_OK);
		assert_int_equal(k8s_cluster_ops.set_routes(f->k, &c, &w, err), ST_OK);
	}
}

/* Reference §4.7: every tick (on the revision read) the route objects are
 * brought back to what perch wants, live weights kept; a reconcile with
 * nothing to change writes nothing. */
struct reconcile_case {
	const char *provider;
	enum k8s_res_id res;
	const char *object;
	const char *tamper;	/* merge patch of a manual edit */
	const char *path;	/* a field the edit changed (dot path) */
	const char *want;	/* its value after the reconcile, as compact JSON */
};

static const struct reconcile_case reconcile_cases[] = {
	{ "istio", K8S_VIRTUALSERVICES, "checkout", "{\"spec\":{\"gateways\":[\"evil\"]}}",
	  "spec.gateways", "[\"mesh\"]" },
	{ "linkerd", K8S_TRAFFICSPLITS_A1, "checkout", "{\"spec\":{\"service\":\"other\"}}",
	  "spec.service", "\"checkout\"" },
	{ "gatewayapi:v1", K8S_HTTPROUTES_V1, "checkout", "{\"spec\":{\"rules\":[{\"backendRefs\":"
	  "[{\"name\":\"checkout-primary\",\"port\":80,\"weight\":80},{\"name\":\"checkout-canary\","
	  "\"port\":80,\"weight\":20}],\"matches\":[{\"path\":{\"type\":\"Exact\",\"value\":\"/admin\"}}]}]}}",
	  "spec.rules", "\"value\":\"/\"" },
	{ "skipper", K8S_INGRESSES, "checkout-canary", "{\"spec\":{\"rules\":[{\"host\":\"evil.example\"}]}}",
	  "spec.rules", "{\"name\":\"checkout-canary\",\"port\":{\"number\":80}}" },
	{ "appmesh:v1beta2", K8S_MESH_ROUTERS_B2, "checkout", "{\"spec\":{\"listeners\":[{\"portMapping\":"
	  "{\"port\":1,\"protocol\":\"tcp\"}}]}}", "spec.listeners", "{\"port\":80,\"protocol\":\"http\"}" },
	{ "nginx", K8S_INGRESSES, "checkout-canary", "{\"spec\":{\"rules\":[{\"host\":\"evil.example\"}]}}",
	  "spec.rules", "\"host\":\"shop.example\"" },
	{ "contour", K8S_HTTPPROXIES, "checkout", "{\"spec\":{\"routes\":[{\"conditions\":[{\"prefix\":"
	  "\"/evil\"}],\"services\":[{\"name\":\"checkout-primary\",\"port\":80,\"weight\":80},"
	  "{\"name\":\"checkout-canary\",\"port\":80,\"weight\":20}]}]}}", "spec.routes",
	  "[{\"conditions\":[{\"prefix\":\"/\"}]" },
	{ "gloo", K8S_ROUTETABLES, "checkout", "{\"spec\":{\"routes\":[{\"routeAction\":{\"multi\":"
	  "{\"destinations\":[{\"destination\":{\"upstream\":{\"name\":\"shop-checkout-primaryupstream-80\","
	  "\"namespace\":\"shop\"}},\"weight\":80},{\"destination\":{\"upstream\":{\"name\":"
	  "\"shop-checkout-canaryupstream-80\",\"namespace\":\"shop\"}},\"weight\":20}]}}}]}}",
	  "spec.routes", "\"inheritablePathMatchers\":true" },
	{ "traefik", K8S_TRAEFIKSERVICES, "checkout", "{\"spec\":{\"weighted\":{\"services\":[{\"name\":"
	  "\"checkout-primary\",\"namespace\":\"evil\",\"port\":80,\"weight\":80}]}}}",
	  "spec.weighted.services", "{\"name\":\"checkout-canary\",\"namespace\":\"shop\",\"port\":80,"
	  "\"weight\":20}" },
	{ "kuma", K8S_TRAFFICROUTES, "checkout", "{\"spec\":{\"sources\":[{\"match\":{\"kuma.io/service\":"
	  "\"evil\"}}]}}", "spec.sources", "\"*\"" },
};

static void
test_reconcile_every_tick(void **state)
{
	struct fx *f = *state;
	char err[ERRMSG_MAX], *text, rv[64];
	struct revision rev;
	struct routes r;
	struct k8s_err e;
	json_t *o, *p;
	size_t i;

	for (i = 0; i < sizeof reconcile_cases / sizeof reconcile_cases[0]; i++) {
		const struct reconcile_case *t = &reconcile_cases[i];
		const struct k8s_res *res = &k8s_resources[t->res];
		struct canary_cfg c = cfg_for(t->provider);
		struct routes w = { .primary = 80, .canary = 20 };

		if (k8s_cluster_ops.initialize(f->k, &c, err) != ST_OK ||
		    k8s_cluster_ops.set_routes(f->k, &c, &w, err) != ST_OK)
			fail_msg("%s: %s", t->provider, err);
		p = json_loads(t->tamper, 0, NULL);
		assert_non_null(p);
		if (k8s_patch(f->c, res, "shop", t->object, K8S_PATCH_MERGE, p, NULL, &e) != ST_OK)
			fail_msg("%s: tamper: %s", t->provider, e.msg);
		json_decref(p);
		if (k8s_cluster_ops.revision(f->k, &c, &rev, err) != ST_OK)
			fail_msg("%s: revision: %s", t->provider, err);
		o = get(f, res, t->object);
		text = json_dumps(jpath(o, t->path), JSON_COMPACT | JSON_ENCODE_ANY);
		if (!strstr(text, t->want))
			fail_msg("%s: %s is %s, want %s", t->provider, t->path, text, t->want);
		free(text);
		snprintf(rv, sizeof rv, "%s", jstr(o, "metadata.resourceVersion"));
		json_decref(o);
		if (k8s_cluster_ops.get_routes(f->k, &c, &r, err) != ST_OK)
			fail_msg("%s: get: %s", t->provider, err);
		if (r.primary != 80 || r.canary != 20)
			fail_msg("%s: weights %d/%d after reconcile", t->provider, r.primary, r.canary);
		/* Nothing to change: nothing written. */
		assert_int_equal(k8s_cluster_ops.revision(f->k, &c, &rev, err), ST_OK);
		o = get(f, res, t->object);
		if (strcmp(rv, jstr(o, "metadata.resourceVersion")) != 0)
			fail_msg("%s: a reconcile without changes wrote the object", t->provider);
		json_decref(o);
		w = (struct routes){ .primary = 100, .canary = 0 };
		assert_int_equal(k8s_cluster_ops.set_routes(f->k, &c, &w, err), ST_OK);
	}
}

/* Knative (reference: routers §2.7): the first reconcile pins the latest
 * created revision as the primary with all the traffic; the weights go to
 * spec.traffic and are read from status.traffic (written here as Knative's
 * controller would). */
static void
test_knative(void **state)
{
	struct fx *f = *state;
	struct canary_cfg c = cfg_for("knative");
	struct routes w = { .primary = 80, .canary = 20 }, r;
	char err[ERRMSG_MAX], *text;
	struct k8s_err e;
	json_t *o;
	int i, st;

	c.target = c.service = (char *)"hello";
	c.target_kind = (char *)"Service";
	apply(f, K8S_RES(KNATIVE_SERVICES), "shop", "{\"metadata\":{\"name\":\"hello\"},"
	    "\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"hello\",\"image\":\"hello:v1\"}]}}},"
	    "\"status\":{\"latestCreatedRevisionName\":\"hello-00001\"}}");
	if (rt_initialize(f->k, &c, err) != ST_OK)
		fail_msg("initialize: %s", err);
	o = get(f, K8S_RES(KNATIVE_SERVICES), "hello");
	assert_string_equal(json_string_value(json_object_get(jpath(o, "metadata.annotations"),
	    "flagger.app/primary-revision")), "hello-00001");
	text = json_dumps(jpath(o, "spec.traffic"), JSON_COMPACT);
	assert_string_equal(text, "[{\"latestRevision\":true,\"percent\":0},"
	    "{\"revisionName\":\"hello-00001\",\"percent\":100}]");
	free(text);
	json_decref(o);
	if (rt_set(f->k, &c, &w, err) != ST_OK)
		fail_msg("set: %s", err);
	o = get(f, K8S_RES(KNATIVE_SERVICES), "hello");
	text = json_dumps(jpath(o, "spec.traffic"), JSON_COMPACT);
	assert_string_equal(text, "[{\"latestRevision\":true,\"percent\":20},"
	    "{\"revisionName\":\"hello-00001\",\"percent\":80}]");
	free(text);
	/* Knative serves a new revision as the latest.  The test API server's
	 * own Knative simulation writes the Service's status too: on a
	 * conflict, read it again and write once more. */
	for (i = 0;; i++) {
		json_object_set_new(json_object_get(o, "status"), "traffic", json_pack("[{s:b, s:s, "
		    "s:i}, {s:b, s:s, s:i}]", "latestRevision", 1, "revisionName", "hello-00002",
		    "percent", 20, "latestRevision", 0, "revisionName", "hello-00001", "percent", 80));
		st = k8s_update_status(f->c, K8S_RES(KNATIVE_SERVICES), "shop", o, NULL, &e);
		json_decref(o);
		if (st != ST_CONFLICT || i == 10)
			break;
		o = get(f, K8S_RES(KNATIVE_SERVICES), "hello");
	}
	if (st != ST_OK)
		fail_msg("status: %s", e.msg);
	if (rt_initialize(f->k, &c, err) != ST_OK || rt_get(f->k, &c, &r, err) != ST_OK)
		fail_msg("get: %s", err);
	assert_int_equal(r.primary, 80);
	assert_int_equal(r.canary, 20);
	/* revertOnDeletion: the pin removed, all traffic on the latest revision. */
	if (rt_revert(f->k, &c, err) != ST_OK)
		fail_msg("revert: %s", err);
	o = get(f, K8S_RES(KNATIVE_SERVICES), "hello");
	assert_null(json_object_get(jpath(o, "metadata.annotations"), "flagger.app/primary-revision"));
	text = json_dumps(jpath(o, "spec.traffic"), JSON_COMPACT);
	assert_string_equal(text, "[{\"latestRevision\":true,\"percent\":100}]");
	free(text);
	json_decref(o);
	/* A/B testing is refused: Knative routes by weight only. */
	c.strategy = STRATEGY_ABTESTING;
	assert_int_equal(rt_get(f->k, &c, &r, err), ST_UNSUPPORTED);
	assert_non_null(strstr(err, "not supported with provider knative"));
}

/* A/B testing (reference §4.3-§4.5): analysis.match × service.match on the
 * weighted route and service.match to the primary after it; NGINX header
 * and cookie annotations; reset at weight 0; reconciled without writes. */
struct ab_case {
	const char *provider;
	enum k8s_res_id res;
	const char *object;
	const char *match, *service_match;	/* JSON */
	const char *path;			/* checked part of the object */
	const char *want[2];			/* substrings at 0/100 (sorted keys) */
	const char *reset;			/* substring after 100/0 */
	const char *gone;			/* and what must be gone then */
};

#define XC "{\"headers\":{\"x-canary\":{\"exact\":\"insider\"}}}"
static const struct ab_case ab_cases[] = {
	{ "istio", K8S_VIRTUALSERVICES, "checkout", "[" XC "]", "[{\"uri\":{\"prefix\":\"/api\"}}]",
	  "spec.http", { "[{\"match\":[{\"headers\":{\"x-canary\":{\"exact\":\"insider\"}},\"uri\":"
	  "{\"prefix\":\"/api\"}}],\"route\":[{\"destination\":{\"host\":\"checkout-primary\"},\"weight\":0},"
	  "{\"destination\":{\"host\":\"checkout-canary\"},\"weight\":100}]}",
	  "{\"match\":[{\"uri\":{\"prefix\":\"/api\"}}],\"route\":[{\"destination\":{\"host\":"
	  "\"checkout-primary\"},\"weight\":100}]}]" },
	  "\"host\":\"checkout-primary\"},\"weight\":100},{\"destination\":{\"host\":\"checkout-canary\"},"
	  "\"weight\":0}", "\"weight\":100}]},{\"route\"" },
	{ "gatewayapi:v1", K8S_HTTPROUTES_V1, "checkout", "[" XC "]", "[{\"uri\":{\"prefix\":\"/api\"}}]",
	  "spec.rules", { "\"matches\":[{\"headers\":[{\"name\":\"x-canary\",\"type\":\"Exact\",\"value\":"
	  "\"insider\"}],\"path\":{\"type\":\"PathPrefix\",\"value\":\"/api\"}}]",
	  "{\"backendRefs\":[{\"group\":\"\",\"kind\":\"Service\",\"name\":\"checkout-primary\",\"port\":80,"
	  "\"weight\":100}],\"matches\":[{\"path\":{\"type\":\"PathPrefix\",\"value\":\"/api\"}}]}]" },
	  "\"name\":\"checkout-canary\",\"port\":80,\"weight\":0}", "\"weight\":100}],\"matches\":[{\"headers\"" },
	{ "gatewayapi:v1beta1", K8S_HTTPROUTES_V1B1, "checkout", "[" XC "]", NULL,
	  "spec.rules", { "\"matches\":[{\"headers\":[{\"name\":\"x-canary\",\"type\":\"Exact\",\"value\":"
	  "\"insider\"}],\"path\":{\"type\":\"PathPrefix\",\"value\":\"/\"}}]",
	  "\"matches\":[{\"path\":{\"type\":\"PathPrefix\",\"value\":\"/\"}}]}]" },
	  "\"weight\":0}]", "\"name\":\"checkout-canary\",\"port\":80,\"weight\":100" },
	{ "nginx", K8S_INGRESSES, "checkout-canary", "[" XC "]", NULL, "metadata.annotations",
	  { "\"nginx.ingress.kubernetes.io/canary-by-header\":\"x-canary\","
	  "\"nginx.ingress.kubernetes.io/canary-by-header-value\":\"insider\"", "/canary\":\"true\"" },
	  "\"nginx.ingress.kubernetes.io/canary-weight\":\"0\"", "by-header" },
	{ "nginx", K8S_INGRESSES, "checkout-canary", "[{\"headers\":{\"cookie\":{\"exact\":\"canary\"}}}]",
	  NULL, "metadata.annotations", { "\"nginx.ingress.kubernetes.io/canary-by-cookie\":\"canary\"",
	  "/canary\":\"true\"" }, "\"nginx.ingress.kubernetes.io/canary-weight\":\"0\"", "by-cookie" },
	/* One Contour route per match element (Flagger ANDs them in one). */
	{ "contour", K8S_HTTPPROXIES, "checkout", "[" XC ", {\"headers\":{\"x-user\":{\"suffix\":\"beta\"}}}]",
	  NULL, "spec.routes", { "{\"conditions\":[{\"prefix\":\"/\"},{\"header\":{\"exact\":\"insider\","
	  "\"name\":\"x-canary\"}}]", "local:80\"}]},\"weight\":100}]},{\"conditions\":[{\"prefix\":\"/\"},"
	  "{\"header\":{\"contains\":\"beta\",\"name\":\"x-user\"}}]" },
	  "},{\"conditions\":[{\"prefix\":\"/\"}],\"services\"",
	  "checkout-canary.shop.svc.cluster.local:80\"}]},\"weight\":100}" },
	/* One Gloo matcher per element, prefix as a regex, the rest to the primary. */
	{ "gloo", K8S_ROUTETABLES, "checkout", "[" XC ", {\"headers\":{\"x-user\":{\"prefix\":\"a.b\"}},"
	  "\"method\":{\"exact\":\"GET\"}}]", NULL, "spec.routes", { "\"matchers\":[{\"headers\":[{\"name\":"
	  "\"x-canary\",\"value\":\"insider\"}]},{\"headers\":[{\"name\":\"x-user\",\"regex\":true,"
	  "\"value\":\"^a\\\\.b.*\"}],\"methods\":[\"GET\"]}]", "\"name\":\"shop-checkout-canaryupstream-80\","
	  "\"namespace\":\"shop\"}},\"weight\":100}]}}},{\"inheritablePathMatchers\":true,\"routeAction\"" },
	  "canaryupstream-80\",\"namespace\":\"shop\"}},\"weight\":0}]}}},{", "\"weight\":100}]}}},{" },
};

static char *
dump_at(struct fx *f, const struct k8s_res *res, const char *name, const char *path, char *rv,
    size_t rvsz)
{
	json_t *o = get(f, res, name);
	char *text = json_dumps(jpath(o, path), JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);

	if (rv)
		snprintf(rv, rvsz, "%s", jstr(o, "metadata.resourceVersion"));
	json_decref(o);
	return text;
}

static void
ab_routing(struct fx *f, const char *match, const char *service_match)
{
	struct k8s_routing rt = { 0 };

	rt.match = match ? json_loads(match, 0, NULL) : NULL;
	rt.service_match = service_match ? json_loads(service_match, 0, NULL) : NULL;
	k8s_cluster_set_routing(f->k, "shop", "checkout", &rt);
	json_decref(rt.match);
	json_decref(rt.service_match);
}

static void
test_ab_routes(void **state)
{
	struct fx *f = *state;
	char err[ERRMSG_MAX], *text, rv[64], rv2[64];
	struct revision rev;
	struct routes r;
	size_t i, j;

	for (i = 0; i < sizeof ab_cases / sizeof ab_cases[0]; i++) {
		const struct ab_case *t = &ab_cases[i];
		const struct k8s_res *res = &k8s_resources[t->res];
		struct canary_cfg c = cfg_for(t->provider);
		struct routes w = { .primary = 0, .canary = 100 };

		ab_routing(f, t->match, t->service_match);
		if (k8s_cluster_ops.initialize(f->k, &c, err) != ST_OK ||
		    k8s_cluster_ops.set_routes(f->k, &c, &w, err) != ST_OK)
			fail_msg("case %zu %s: %s", i, t->provider, err);
		assert_int_equal(k8s_cluster_ops.revision(f->k, &c, &rev, err), ST_OK);
		text = dump_at(f, res, t->object, t->path, rv, sizeof rv);
		for (j = 0; j < 2; j++)
			if (!strstr(text, t->want[j]))
				fail_msg("case %zu %s: %s lacks %s", i, t->provider, text, t->want[j]);
		free(text);
		assert_int_equal(k8s_cluster_ops.get_routes(f->k, &c, &r, err), ST_OK);
		if (r.primary != 0 || r.canary != 100)
			fail_msg("case %zu %s: weights %d/%d", i, t->provider, r.primary, r.canary);
		assert_int_equal(k8s_cluster_ops.revision(f->k, &c, &rev, err), ST_OK);
		free(dump_at(f, res, t->object, t->path, rv2, sizeof rv2));
		if (strcmp(rv, rv2) != 0)
			fail_msg("case %zu %s: a reconcile without changes wrote the object", i, t->provider);
		w = (struct routes){ .primary = 100, .canary = 0 };
		assert_int_equal(k8s_cluster_ops.set_routes(f->k, &c, &w, err), ST_OK);
		text = dump_at(f, res, t->object, t->path, NULL, 0);
		if (!strstr(text, t->reset) || strstr(text, t->gone))
			fail_msg("case %zu %s: after the run %s (want %s, not %s)", i, t->provider, text,
			    t->reset, t->gone);
		free(text);
	}
	/* A match Gateway API cannot express is refused by name. */
	{
		struct canary_cfg c = cfg_for("gatewayapi:v1");

		ab_routing(f, "[{\"authority\":{\"exact\":\"x\"}}]", NULL);
		assert_int_equal(k8s_cluster_ops.initialize(f->k, &c, err), ST_INVALID);
		assert_non_null(strstr(err, "Gateway API doesn't support the specified authority selector"));
	}
	/* Contour's header conditions have no regex. */
	{
		struct canary_cfg c = cfg_for("contour");

		ab_routing(f, "[{\"headers\":{\"x-user\":{\"regex\":\"^a\"}}}]", NULL);
		assert_int_equal(k8s_cluster_ops.initialize(f->k, &c, err), ST_INVALID);
		assert_non_null(strstr(err, "analysis.match[0].headers.x-user: Contour matches a header "
		    "by exact value, prefix or suffix, not by regex"));
	}
	ab_routing(f, NULL, NULL);
}

/* Gateway API blue/green mirroring (reference §4.3): a RequestMirror filter
 * while mirrored with iterations, kept by the reconcile, gone after. */
static void
test_gateway_mirror(void **state)
{
	struct fx *f = *state;
	struct canary_cfg c = cfg_for("gatewayapi:v1");
	struct routes w = { .primary = 100, .canary = 0, .mirrored = true }, r;
	const struct k8s_res *res = K8S_RES(HTTPROUTES_V1);
	char err[ERRMSG_MAX], *text;
	struct revision rev;

	c.iterations = 10;
	assert_int_equal(k8s_cluster_ops.initialize(f->k, &c, err), ST_OK);
	assert_int_equal(k8s_cluster_ops.set_routes(f->k, &c, &w, err), ST_OK);
	assert_int_equal(k8s_cluster_ops.revision(f->k, &c, &rev, err), ST_OK);
	text = dump_at(f, res, "checkout", "spec.rules", NULL, 0);
	assert_non_null(strstr(text, "\"filters\":[{\"requestMirror\":{\"backendRef\":{\"group\":\"\","
	    "\"kind\":\"Service\",\"name\":\"checkout-canary\",\"port\":80}},\"type\":\"RequestMirror\"}]"));
	free(text);
	assert_int_equal(k8s_cluster_ops.get_routes(f->k, &c, &r, err), ST_OK);
	assert_true(r.mirrored);
	w.mirrored = false;
	assert_int_equal(k8s_cluster_ops.set_routes(f->k, &c, &w, err), ST_OK);
	text = dump_at(f, res, "checkout", "spec.rules", NULL, 0);
	assert_null(strstr(text, "RequestMirror"));
	free(text);
	assert_int_equal(k8s_cluster_ops.get_routes(f->k, &c, &r, err), ST_OK);
	assert_false(r.mirrored);
}

/* Session affinity on the API server (reference §4.3, §4.4): the cookie
 * rules set during a run and the expiring one after it survive the
 * reconcile of every tick (they are read back from the live object, as the
 * weights are), and a manual edit of them is reverted. */
static void
test_affinity_reconciled(void **state)
{
	static const struct { const char *provider; const struct k8s_res *res; const char *list; }
	    rows[] = {
		{ "gatewayapi:v1", K8S_RES(HTTPROUTES_V1), "spec.rules" },
		{ "istio", K8S_RES(VIRTUALSERVICES), "spec.http" },
	};
	struct fx *f = *state;
	struct affinity_cfg a = { .cookie_name = (char *)"session", .max_age = 600 };
	struct routes w, r;
	struct revision rev;
	char err[ERRMSG_MAX], *text;
	struct k8s_err e;
	json_t *o;
	size_t i;

	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct canary_cfg c = cfg_for(rows[i].provider);

		c.affinity = &a;
		memset(&w, 0, sizeof w);
		w.primary = 80;
		w.canary = 20;
		snprintf(w.cookie, sizeof w.cookie, "session=AbcdEfghIj");
		assert_int_equal(k8s_cluster_ops.initialize(f->k, &c, err), ST_OK);
		assert_int_equal(k8s_cluster_ops.set_routes(f->k, &c, &w, err), ST_OK);
		/* Someone drops the sticky rule: the next tick's reconcile puts it back. */
		o = get(f, rows[i].res, "checkout");
		json_array_remove(jpath(o, rows[i].list), 0);
		assert_int_equal(k8s_update(f->c, rows[i].res, "shop", o, NULL, &e), ST_OK);
		json_decref(o);
		assert_int_equal(k8s_cluster_ops.revision(f->k, &c, &rev, err), ST_OK);
		assert_int_equal(k8s_cluster_ops.get_routes(f->k, &c, &r, err), ST_OK);
		assert_int_equal(r.canary, 20);
		assert_string_equal(r.cookie, "session=AbcdEfghIj");
		text = dump_at(f, rows[i].res, "checkout", rows[i].list, NULL, 0);
		assert_non_null(strstr(text, ".*session.*AbcdEfghIj.*"));
		assert_non_null(strstr(text, "session=AbcdEfghIj; Max-Age=600"));
		free(text);
		/* After the run: the cookie expired; kept by the reconcile too. */
		memset(&w, 0, sizeof w);
		w.primary = 100;
		snprintf(w.previous_cookie, sizeof w.previous_cookie, "session=AbcdEfghIj");
		assert_int_equal(k8s_cluster_ops.set_routes(f->k, &c, &w, err), ST_OK);
		assert_int_equal(k8s_cluster_ops.revision(f->k, &c, &rev, err), ST_OK);
		assert_int_equal(k8s_cluster_ops.get_routes(f->k, &c, &r, err), ST_OK);
		assert_int_equal(r.primary, 100);
		assert_string_equal(r.cookie, "");
		assert_string_equal(r.previous_cookie, "session=AbcdEfghIj");
		text = dump_at(f, rows[i].res, "checkout", rows[i].list, NULL, 0);
		assert_non_null(strstr(text, "session=AbcdEfghIj; Max-Age=-1"));
		assert_null(strstr(text, "Max-Age=600"));
		free(text);
	}
}

/* Provider kubernetes: the weights survive a restart (a new cluster
 * context reads them from the canary Service's annotation). */
static void
test_kubernetes_weights_survive(void **state)
{
	struct fx *f = *state;
	struct canary_cfg c = cfg_for("kubernetes");
	struct routes w = { .primary = 0, .canary = 100 }, r;
	char err[ERRMSG_MAX];
	json_t *o;

	assert_int_equal(k8s_cluster_ops.initialize(f->k, &c, err), ST_OK);
	assert_int_equal(k8s_cluster_ops.get_routes(f->k, &c, &r, err), ST_OK);
	assert_int_equal(r.canary, 0);
	assert_int_equal(k8s_cluster_ops.set_routes(f->k, &c, &w, err), ST_OK);
	k8s_cluster_free(f->k);
	f->k = k8s_cluster_new(f->c);
	assert_int_equal(k8s_cluster_ops.get_routes(f->k, &c, &r, err), ST_OK);
	assert_int_equal(r.primary, 0);
	assert_int_equal(r.canary, 100);
	o = get(f, K8S_RES(SERVICES), "checkout-canary");
	assert_string_equal(json_string_value(json_object_get(jpath(o, "metadata.annotations"),
	    "perch.dev/canary-weight")), "100");
	json_decref(o);
	w = (struct routes){ .primary = 100, .canary = 0 };
	assert_int_equal(k8s_cluster_ops.set_routes(f->k, &c, &w, err), ST_OK);
	assert_int_equal(k8s_cluster_ops.get_routes(f->k, &c, &r, err), ST_OK);
	assert_int_equal(r.canary, 0);
}

/* Reference §4: when the Canary object exists in the cluster, the objects
 * perch generates are owned by it (garbage-collected with it); without one,
 * they carry no ownerReferences. */
static void
test_owner_references(void **state)
{
	static const struct { enum k8s_res_id res; const char *name; } owned[] = {
		{ K8S_DEPLOYMENTS, "web-primary" }, { K8S_CONFIGMAPS, "web-config-primary" },
		{ K8S_SERVICES, "web" }, { K8S_SERVICES, "web-primary" }, { K8S_SERVICES, "web-canary" },
		{ K8S_VIRTUALSERVICES, "web" }, { K8S_DESTINATIONRULES, "web-primary" },
		{ K8S_DESTINATIONRULES, "web-canary" },
	};
	struct fx *f = *state;
	struct canary_cfg c = cfg_for("istio");
	char err[ERRMSG_MAX], *text, want[300];
	struct k8s_err e;
	json_t *o;
	size_t i;

	apply(f, K8S_RES(NAMESPACES), NULL, "{\"metadata\":{\"name\":\"owned\"}}");
	apply(f, K8S_RES(CONFIGMAPS), "owned", "{\"metadata\":{\"name\":\"web-config\"},"
	    "\"data\":{\"a\":\"1\"}}");
	apply(f, K8S_RES(DEPLOYMENTS), "owned", "{\"metadata\":{\"name\":\"web\"},\"spec\":{"
	    "\"replicas\":1,\"selector\":{\"matchLabels\":{\"app\":\"web\"}},\"template\":{\"metadata\":"
	    "{\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":[{\"name\":\"web\",\"image\":"
	    "\"web:1\",\"envFrom\":[{\"configMapRef\":{\"name\":\"web-config\"}}]}]}}}}");
	apply(f, K8S_RES(CANARIES), "owned", "{\"apiVersion\":\"flagger.app/v1beta1\",\"kind\":"
	    "\"Canary\",\"metadata\":{\"name\":\"web\"},\"spec\":{\"targetRef\":{\"apiVersion\":"
	    "\"apps/v1\",\"kind\":\"Deployment\",\"name\":\"web\"},\"analysis\":{\"interval\":"
	    "\"1m\",\"threshold\":1,\"stepWeight\":10}}}");
	assert_int_equal(k8s_get(f->c, K8S_RES(CANARIES), "owned", "web", &o, &e), ST_OK);
	snprintf(want, sizeof want, "[{\"apiVersion\":\"flagger.app/v1beta1\",\"blockOwnerDeletion\":"
	    "true,\"controller\":true,\"kind\":\"Canary\",\"name\":\"web\",\"uid\":\"%s\"}]",
	    jstr(o, "metadata.uid"));
	json_decref(o);
	c.ns = (char *)"owned";
	c.name = c.target = c.service = (char *)"web";
	if (k8s_cluster_ops.initialize(f->k, &c, err) != ST_OK)
		fail_msg("initialize: %s", err);
	for (i = 0; i < sizeof owned / sizeof owned[0]; i++) {
		assert_int_equal(k8s_get(f->c, &k8s_resources[owned[i].res], "owned", owned[i].name, &o,
		    &e), ST_OK);
		text = json_dumps(jpath(o, "metadata.ownerReferences"), JSON_COMPACT | JSON_SORT_KEYS |
		    JSON_ENCODE_ANY);
		if (!text || strcmp(text, want) != 0)
			fail_msg("%s %s: ownerReferences %s, want %s", k8s_resources[owned[i].res].plural,
			    owned[i].name, text ? text : "none", want);
		free(text);
		json_decref(o);
	}
	/* No Canary object for shop/checkout: nothing owned. */
	o = get(f, K8S_RES(DEPLOYMENTS), "checkout-primary");
	assert_null(jpath(o, "metadata.ownerReferences"));
	json_decref(o);
}

/* Routing from the spec: parentRefs and hostnames, Istio hosts and gateways,
 * the NGINX ingressRef. */
static void
test_routing_from_spec(void **state)
{
	struct fx *f = *state;
	static const char *const hosts[] = { "search.example.com" };
	static const char *const gws[] = { "public-gateway.istio-system.svc.cluster.local" };
	struct k8s_routing rt = { .hosts = hosts, .n_hosts = 1, .gateways = gws, .n_gateways = 1,
		.ingress = "web", .target_port = "http-web" };
	const char *providers[] = { "gatewayapi:v1", "istio", "nginx", "osm" };
	char err[ERRMSG_MAX], *text;
	struct routes w = { .primary = 70, .canary = 30 }, r;
	json_t *o;
	size_t i;

	apply(f, K8S_RES(INGRESSES), "shop", "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"rules\":"
	    "[{\"http\":{\"paths\":[{\"path\":\"/\",\"pathType\":\"Prefix\",\"backend\":"
	    "{\"service\":{\"name\":\"search\",\"port\":{\"number\":80}}}}]}}]}}");
	rt.parent_refs = json_loads("[{\"name\":\"public\",\"namespace\":\"gateway-system\"}]", 0, NULL);
	for (i = 0; i < sizeof providers / sizeof providers[0]; i++) {
		struct canary_cfg c = cfg_for(providers[i]);

		c.name = (char *)"search";
		c.service = (char *)"search";
		k8s_cluster_set_routing(f->k, "shop", "search", &rt);
		if (k8s_cluster_ops.initialize(f->k, &c, err) != ST_OK)
			fail_msg("%s: %s", providers[i], err);
		assert_int_equal(k8s_cluster_ops.set_routes(f->k, &c, &w, err), ST_OK);
		assert_int_equal(k8s_cluster_ops.get_routes(f->k, &c, &r, err), ST_OK);
		assert_int_equal(r.canary, 30);
	}
	json_decref(rt.parent_refs);
	o = get(f, K8S_RES(HTTPROUTES_V1), "search");
	text = json_dumps(json_object_get(o, "spec"), JSON_COMPACT | JSON_SORT_KEYS);
	assert_non_null(strstr(text, "\"parentRefs\":[{\"name\":\"public\",\"namespace\":\"gateway-system\"}]"));
	assert_non_null(strstr(text, "\"hostnames\":[\"search.example.com\"]"));
	free(text);
	json_decref(o);
	o = get(f, K8S_RES(VIRTUALSERVICES), "search");
	text = json_dumps(json_object_get(o, "spec"), JSON_COMPACT | JSON_SORT_KEYS);
	assert_non_null(strstr(text, "\"gateways\":[\"public-gateway.istio-system.svc.cluster.local\"]"));
	assert_non_null(strstr(text, "\"hosts\":[\"search.example.com\",\"search\"]"));
	free(text);
	json_decref(o);
	/* SMI: the TrafficSplit's service is the first host. */
	o = get(f, K8S_RES(TRAFFICSPLITS_A2), "search");
	assert_string_equal(jstr(o, "spec.service"), "search.example.com");
	json_decref(o);
	o = get(f, K8S_RES(INGRESSES), "web-canary");
	assert_string_equal(jstr(json_array_get(jpath(json_array_get(jpath(o, "spec.rules"), 0), "http.paths"), 0), "backend.service.name"), "search-canary");
	json_decref(o);
	o = get(f, K8S_RES(SERVICES), "search-primary");
	assert_string_equal(jstr(json_array_get(jpath(o, "spec.ports"), 0), "targetPort"), "http-web");
	json_decref(o);

	/* A Gateway that has not accepted the route's generation halts the read. */
	{
		struct canary_cfg c = cfg_for("gatewayapi:v1");
		struct k8s_err e;

		c.name = (char *)"search";
		c.service = (char *)"search";
		o = get(f, K8S_RES(HTTPROUTES_V1), "search");
		json_object_set_new(o, "status", json_pack("{s:[{s:{s:s}, s:s, s:[{s:s, s:s, s:I, "
		    "s:s, s:s, s:s}]}]}", "parents", "parentRef", "name", "public", "controllerName",
		    "example.com/gateway", "conditions", "type", "Accepted", "status", "False",
		    "observedGeneration", json_integer_value(jpath(o, "metadata.generation")),
		    "lastTransitionTime", "2024-01-01T00:00:00Z", "reason", "NotAllowedByListeners",
		    "message", "no listener allows the route"));
		assert_int_equal(k8s_update_status(f->c, K8S_RES(HTTPROUTES_V1), "shop", o, NULL, &e), ST_OK);
		json_decref(o);
		assert_int_equal(k8s_cluster_ops.get_routes(f->k, &c, &r, err), ST_AGAIN);
		assert_non_null(strstr(err, "HTTPRoute search.shop parent public is not ready (status: False"));
	}
}

/* A Canary name of shop (Deployment name) whose status Flagger-style
 * says phase, its Promoted condition cond, updated at `when`. */
static void
apply_flagger_canary(struct fx *f, const char *name, const char *phase, const char *cond,
    time_t when)
{
	char json[900], at[32];

	strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%SZ", gmtime(&when));
	snprintf(json, sizeof json, "{\"apiVersion\":\"flagger.app/v1beta1\",\"kind\":\"Canary\","
	    "\"metadata\":{\"name\":\"%s\"},\"spec\":{\"targetRef\":{\"apiVersion\":"
	    "\"apps/v1\",\"kind\":\"Deployment\",\"name\":\"%s\"},\"analysis\":{"
	    "\"interval\":\"1m\",\"threshold\":1,\"stepWeight\":10}},"
	    "\"status\":{\"phase\":\"%s\",\"conditions\":[{\"type\":\"Promoted\","
	    "\"status\":\"%s\",\"lastUpdateTime\":\"%s\"}]}}", name, name, phase, cond, at);
	apply(f, K8S_RES(CANARIES), "shop", json);
}

static void
test_refuses_flagger(void **state)
{
	struct fx *f = *state;
	struct canary_cfg c = cfg_for("kubernetes");
	char err[ERRMSG_MAX], who[240];
	time_t t = time(NULL);

	apply_flagger_canary(f, "checkout", "Succeeded", "True", t);
	assert_int_equal(k8s_cluster_ops.initialize(f->k, &c, err), ST_REFUSED);
	assert_non_null(strstr(err, "reconciled by a running Flagger"));

	/* Suspended in Flagger: perch may take it. */
	{
		json_t *p = json_pack("{s:{s:b}}", "spec", "suspend", 1);
		struct k8s_err e;

		assert_int_equal(k8s_patch(f->c, K8S_RES(CANARIES), "shop", "checkout", K8S_PATCH_MERGE, p, NULL, &e), ST_OK);
		json_decref(p);
		assert_int_equal(k8s_flagger_check(f->c, &c, (long)t, err), ST_OK);
		/* A Canary with an old status, while a Flagger Deployment runs. */
		p = json_pack("{s:{s:b}}", "spec", "suspend", 0);
		assert_int_equal(k8s_patch(f->c, K8S_RES(CANARIES), "shop", "checkout", K8S_PATCH_MERGE, p, NULL, &e), ST_OK);
		json_decref(p);
		assert_int_equal(k8s_flagger_check(f->c, &c, (long)t + 3600, err), ST_OK);
		apply(f, K8S_RES(NAMESPACES), NULL, "{\"metadata\":{\"name\":\"flagger-system\"}}");
		apply(f, K8S_RES(DEPLOYMENTS), "flagger-system", "{\"metadata\":{\"name\":\"flagger\","
		    "\"labels\":{\"app.kubernetes.io/name\":\"flagger\"}},\"spec\":{\"replicas\":1,"
		    "\"selector\":{\"matchLabels\":{\"app.kubernetes.io/name\":\"flagger\"}},\"template\":"
		    "{\"metadata\":{\"labels\":{\"app.kubernetes.io/name\":\"flagger\"}},\"spec\":"
		    "{\"containers\":[{\"name\":\"flagger\",\"image\":\"flagger:1.44\"}]}}}}");
		assert_int_equal(k8s_flagger_check(f->c, &c, (long)t + 3600, err), ST_REFUSED);
		assert_non_null(strstr(err, "Flagger runs in this cluster (deployment flagger-system/flagger)"));
		assert_true(k8s_flagger_driver(f->c, &c, (long)t + 3600, who, sizeof who));
		assert_string_equal(who, "Flagger (flagger-system/flagger)");
		/* A Canary whose status Flagger never wrote is not Flagger's. */
		apply(f, K8S_RES(CANARIES), "shop", "{\"apiVersion\":\"flagger.app/v1beta1\",\"kind\":"
		    "\"Canary\",\"metadata\":{\"name\":\"mine\"},\"spec\":{\"targetRef\":{"
		    "\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"name\":\"mine\"},"
		    "\"analysis\":{\"interval\":\"1m\",\"threshold\":1,\"stepWeight\":10}}}");
		c.name = (char *)"mine";
		assert_int_equal(k8s_flagger_check(f->c, &c, (long)t + 3600, err), ST_OK);
		assert_false(k8s_flagger_driver(f->c, &c, (long)t + 3600, who, sizeof who));
		/* New and unclaimed while Flagger runs: left to Flagger for a while. */
		{
			json_t *mine = get(f, K8S_RES(CANARIES), "mine");

			assert_true(k8s_flagger_may_claim(f->c, mine, (long)t, who, sizeof who));
			assert_string_equal(who, "flagger-system/flagger");
			assert_false(k8s_flagger_may_claim(f->c, mine, (long)t + K8S_FLAGGER_CLAIM_S + 5,
			    who, sizeof who));
			json_decref(mine);
		}
	}
}

/* perch's Lease perch-<name>, held by ctl-b for 6 s from `renewed`. */
static void
apply_perch_lease(struct fx *f, const char *name, time_t renewed)
{
	char json[600], at[40];

	strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%S.000000Z", gmtime(&renewed));
	snprintf(json, sizeof json, "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\","
	    "\"metadata\":{\"name\":\"perch-%s\"},\"spec\":{\"holderIdentity\":\"ctl-b\","
	    "\"leaseDurationSeconds\":6,\"renewTime\":\"%s\"}}", name, at);
	apply(f, K8S_RES(LEASES), "shop", json);
}

/* perch's saved state of canary `name` (ConfigMap perch-<name>), its
 * status last changed at `ms`; it replaces one saved before. */
static void
apply_saved_status(struct fx *f, const char *name, long long ms)
{
	char json[600], cm[200];
	struct k8s_err e;

	snprintf(cm, sizeof cm, "perch-%s", name);
	(void)k8s_delete(f->c, K8S_RES(CONFIGMAPS), "shop", cm, &e);
	snprintf(json, sizeof json, "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":"
	    "{\"name\":\"%s\"},\"data\":{\"status\":\"{\\\"lastTransitionMs\\\":%lld}\"}}",
	    cm, ms);
	apply(f, K8S_RES(CONFIGMAPS), "shop", json);
}

/* A status dated ahead of the clock (an engine under PERCH_TIME_SCALE) on
 * a Canary with a perch Lease is perch's, even between two renewals;
 * without the Lease it is taken for a live Flagger's. */
static void
test_flagger_future_status(void **state)
{
	struct fx *f = *state;
	struct canary_cfg c = cfg_for("kubernetes");
	char err[ERRMSG_MAX];
	time_t t = time(NULL), a = t + 3600, r = t - 120;
	json_t *obj;

	c.name = (char *)"ahead";
	apply_flagger_canary(f, "ahead", "Progressing", "Unknown", a);
	assert_int_equal(k8s_flagger_check(f->c, &c, (long)t, err), ST_REFUSED);
	apply_perch_lease(f, "ahead", r);
	assert_int_equal(k8s_flagger_check(f->c, &c, (long)t, err), ST_OK);
	/* a Canary with a status is claimed already */
	obj = get(f, K8S_RES(CANARIES), "ahead");
	assert_false(k8s_flagger_may_claim(f->c, obj, (long)t, err, sizeof err));
	json_decref(obj);
}

/* A status dated a little ahead (under PERCH_TIME_SCALE), its Lease
 * expired and not renewed since: perch's own when perch's saved state
 * (ConfigMap perch-<name>) is as new; Flagger's when it is newer. */
static void
test_flagger_saved_status(void **state)
{
	struct fx *f = *state;
	struct canary_cfg c = cfg_for("kubernetes");
	char err[ERRMSG_MAX];
	time_t t = time(NULL), a = t + 30, r = t - 120;

	c.name = (char *)"saved";
	apply_flagger_canary(f, "saved", "Progressing", "Unknown", a);
	apply_perch_lease(f, "saved", r);
	assert_int_equal(k8s_flagger_check(f->c, &c, (long)t, err), ST_REFUSED);
	/* perch saved an older state: the newer status is Flagger's */
	apply_saved_status(f, "saved", (long long)(t - 300) * 1000);
	assert_int_equal(k8s_flagger_check(f->c, &c, (long)t, err), ST_REFUSED);
	/* perch saved the state the status was written from */
	apply_saved_status(f, "saved", (long long)a * 1000 + 400);
	assert_int_equal(k8s_flagger_check(f->c, &c, (long)t, err), ST_OK);
}

/* The references of the new routers: Gloo copies spec.upstreamRef's
 * settings and labels into its Upstreams, and drops a setting dropped
 * from it; APISIX says why it cannot use a route; a
 * Kuma TrafficRoute of another namespace's service is not taken over. */
static void
test_router_refs(void **state)
{
	struct fx *f = *state;
	char err[ERRMSG_MAX];
	struct k8s_routing rt = { 0 };
	struct k8s_err e;
	json_t *o;

	o = json_pack("{s:s, s:s, s:{s:s, s:{s:s}}, s:{s:{s:s, s:s, s:i}, s:{s:s}}}", "apiVersion",
	    "gloo.solo.io/v1", "kind", "Upstream", "metadata", "name", "tuned", "labels", "team",
	    "web", "spec", "kube", "serviceName", "x", "serviceNamespace", "shop", "servicePort", 80,
	    "loadBalancerConfig", "hashPolicy", "header");
	assert_int_equal(k8s_create(f->c, K8S_RES(GLOO_UPSTREAMS), "shop", o, NULL, &e), ST_OK);
	json_decref(o);
	rt.upstream = "tuned";
	k8s_cluster_set_routing(f->k, "shop", "checkout", &rt);
	/* created afresh: the labels are copied at creation */
	(void)k8s_delete(f->c, K8S_RES(GLOO_UPSTREAMS), "shop", "shop-checkout-canaryupstream-80", &e);
	{
		struct canary_cfg c = cfg_for("gloo");

		assert_int_equal(k8s_cluster_ops.initialize(f->k, &c, err), ST_OK);
		o = get(f, K8S_RES(GLOO_UPSTREAMS), "shop-checkout-canaryupstream-80");
		assert_string_equal(jstr(o, "spec.loadBalancerConfig.hashPolicy"), "header");
		assert_string_equal(jstr(o, "metadata.labels.team"), "web");
		assert_string_equal(jstr(o, "spec.kube.serviceName"), "checkout-canary");
		json_decref(o);
		/* an Upstream made before: the labels are merged in too */
		o = get(f, K8S_RES(GLOO_UPSTREAMS), "shop-checkout-primaryupstream-80");
		assert_string_equal(jstr(o, "metadata.labels.team"), "web");
		json_decref(o);
		/* a setting dropped from upstreamRef is dropped from both */
		o = get(f, K8S_RES(GLOO_UPSTREAMS), "tuned");
		json_object_del(json_object_get(o, "spec"), "loadBalancerConfig");
		json_object_set_new(json_object_get(o, "spec"), "useHttp2", json_true());
		assert_int_equal(k8s_update(f->c, K8S_RES(GLOO_UPSTREAMS), "shop", o, NULL, &e), ST_OK);
		json_decref(o);
		assert_int_equal(k8s_cluster_ops.initialize(f->k, &c, err), ST_OK);
		o = get(f, K8S_RES(GLOO_UPSTREAMS), "shop-checkout-canaryupstream-80");
		assert_null(jpath(o, "spec.loadBalancerConfig"));
		assert_true(json_is_true(jpath(o, "spec.useHttp2")));
		assert_string_equal(jstr(o, "spec.kube.serviceName"), "checkout-canary");
		json_decref(o);
	}
	rt.upstream = NULL;
	/* APISIX: no such route, then a route whose backend is not the service. */
	rt.route = "shop-route";
	k8s_cluster_set_routing(f->k, "shop", "checkout", &rt);
	{
		struct canary_cfg c = cfg_for("apisix");

		assert_int_not_equal(k8s_cluster_ops.initialize(f->k, &c, err), ST_OK);
		assert_non_null(strstr(err, "APISIX route shop-route.shop get query error"));
		o = json_pack("{s:s, s:s, s:{s:s}, s:{s:[{s:s, s:{s:[s]}, s:[{s:s, s:i}, {s:s, s:i}]}]}}",
		    "apiVersion", "apisix.apache.org/v2", "kind", "ApisixRoute", "metadata", "name",
		    "shop-route", "spec", "http", "name", "web", "match", "paths", "/*", "backends",
		    "serviceName", "checkout", "servicePort", 80, "serviceName", "other", "servicePort",
		    80);
		assert_int_equal(k8s_create(f->c, K8S_RES(APISIXROUTES), "shop", o, NULL, &e), ST_OK);
		json_decref(o);
		assert_int_equal(k8s_cluster_ops.initialize(f->k, &c, err), ST_INVALID);
		assert_non_null(strstr(err, "APISIX route shop-route.shop's http route web only one "
		    "http backend is supported"));
	}
	rt.route = NULL;
	k8s_cluster_set_routing(f->k, "shop", "checkout", &rt);
	/* Kuma: the cluster-wide TrafficRoute of another namespace's checkout. */
	o = json_pack("{s:s, s:s, s:s, s:{s:s}, s:{s:[{s:{s:s}}], s:[{s:{s:s}}], s:{}}}",
	    "apiVersion", "kuma.io/v1alpha1", "kind", "TrafficRoute", "mesh", "default", "metadata",
	    "name", "checkout", "spec", "sources", "match", "kuma.io/service", "*", "destinations",
	    "match", "kuma.io/service", "checkout_other_svc_80", "conf");
	(void)k8s_delete(f->c, K8S_RES(TRAFFICROUTES), NULL, "checkout", &e);	/* test_routers' */
	assert_int_equal(k8s_create(f->c, K8S_RES(TRAFFICROUTES), NULL, o, NULL, &e), ST_OK);
	json_decref(o);
	{
		struct canary_cfg c = cfg_for("kuma");

		assert_int_equal(k8s_cluster_ops.initialize(f->k, &c, err), ST_INVALID);
		assert_non_null(strstr(err, "TrafficRoute checkout routes checkout_other_svc_80, not "
		    "checkout_shop_svc_80: it belongs to another canary"));
	}
	assert_int_equal(k8s_delete(f->c, K8S_RES(TRAFFICROUTES), NULL, "checkout", &e), ST_OK);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ready_table),
		cmocka_unit_test(test_daemonset_ready),
		cmocka_unit_test(test_template_hash),
		cmocka_unit_test(test_routes_from_objects),
		cmocka_unit_test(test_initialize_and_promote),
		cmocka_unit_test(test_routers),
		cmocka_unit_test(test_router_reverts),
		cmocka_unit_test(test_router_refs),
		cmocka_unit_test(test_knative),
		cmocka_unit_test(test_reconcile_every_tick),
		cmocka_unit_test(test_ab_routes),
		cmocka_unit_test(test_gateway_mirror),
		cmocka_unit_test(test_affinity_reconciled),
		cmocka_unit_test(test_kubernetes_weights_survive),
		cmocka_unit_test(test_owner_references),
		cmocka_unit_test(test_routing_from_spec),
		cmocka_unit_test(test_refuses_flagger),
		cmocka_unit_test(test_flagger_future_status),
		cmocka_unit_test(test_flagger_saved_status),
		cmocka_unit_test(test_events_own_client),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
