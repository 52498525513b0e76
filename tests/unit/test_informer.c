/* test_informer.c — the watch-fed cache (k8s/informer.h): a table of watch
 * event sequences over Deployment fixtures (what the cache answers, what it
 * reports as changed, when it sends reads to the server), then against the
 * test API server with its fault injection: a stream cut while objects
 * change, and a cut after the history was compacted (410: relist, deletions
 * found), each recovered with the cache intact and one warning per outage;
 * and the cluster backend reading Deployments from the cache, its own
 * writes read back from the server until the cache has them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "helper_apiserver.h"
#include "helper_clock.h"
#include "k8s/cluster.h"
#include "k8s/cluster_int.h"
#include "k8s/informer.h"
#include "k8s/kubeconfig.h"
#include "k8s/rest.h"
#include "util/buf.h"
#include "util/status.h"

/* ---- the reported changes ----------------------------------------------------- */

struct heard {
	pthread_mutex_t mu;
	char log[8192];
	int n;
};

static const char *
image_of(json_t *obj)
{
	return json_string_value(json_object_get(json_array_get(json_object_get(json_object_get(
	    json_object_get(json_object_get(obj, "spec"), "template"), "spec"), "containers"), 0),
	    "image"));
}

static const char *
name_of(json_t *obj)
{
	return json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
}

static void
on_change(void *arg, const char *type, json_t *old, json_t *obj)
{
	struct heard *h = arg;
	size_t n;

	pthread_mutex_lock(&h->mu);
	n = strlen(h->log);
	if (strcmp(type, "MODIFIED") == 0 && image_of(old) && image_of(obj))
		snprintf(h->log + n, sizeof h->log - n, "%s %s %s>%s|", type, name_of(obj),
		    image_of(old), image_of(obj));
	else
		snprintf(h->log + n, sizeof h->log - n, "%s %s|", type, name_of(obj));
	h->n++;
	pthread_mutex_unlock(&h->mu);
}

/* ---- the table: tests/data/k8s/watch/steps.json ---------------------------------
 * Each step feeds events, then checks synced, what get answers per name
 * (an image, null = not found, "again" = ask the server) and the changes
 * reported, in order. */

static void
check_gets(struct k8s_informer *inf, json_t *want, const char *what)
{
	const char *name;
	json_t *w, *got;
	int st;

	json_object_foreach(want, name, w) {
		st = k8s_informer_get(inf, "shop", name, &got);
		if (json_is_null(w) && st != ST_NOTFOUND)
			fail_msg("%s: get %s: %s, want not found", what, name, status_name(st));
		if (json_is_string(w) && strcmp(json_string_value(w), "again") == 0) {
			if (st != ST_AGAIN)
				fail_msg("%s: get %s: %s, want again", what, name, status_name(st));
		} else if (json_is_string(w)) {
			if (st != ST_OK || strcmp(image_of(got), json_string_value(w)) != 0)
				fail_msg("%s: get %s: %s %s, want %s", what, name, status_name(st),
				    st == ST_OK ? image_of(got) : "", json_string_value(w));
		}
		json_decref(got);
	}
}

static void
test_steps(void **state)
{
	json_error_t je;
	json_t *steps = json_load_file("tests/data/k8s/watch/steps.json", 0, &je), *step, *ev, *c;
	struct heard h = { .mu = PTHREAD_MUTEX_INITIALIZER };
	struct k8s_informer_opts o = { .res = K8S_RES(DEPLOYMENTS), .ns = "shop",
		.on_change = on_change, .arg = &h };
	struct k8s_informer *inf = k8s_informer_new(NULL, &o);
	struct k8s_informer_stats st;
	char want[2048];
	size_t i, k;

	(void)state;
	if (steps == NULL)
		fail_msg("steps.json:%d: %s", je.line, je.text);
	json_array_foreach(steps, i, step) {
		const char *what = json_string_value(json_object_get(step, "what"));

		h.log[0] = '\0';
		json_array_foreach(json_object_get(step, "feed"), k, ev)
			k8s_informer_feed(inf, json_string_value(json_array_get(ev, 0)),
			    json_array_get(ev, 1));
		if (k8s_informer_synced(inf) != json_is_true(json_object_get(step, "synced")))
			fail_msg("%s: synced %d", what, k8s_informer_synced(inf));
		check_gets(inf, json_object_get(step, "get"), what);
		want[0] = '\0';
		json_array_foreach(json_object_get(step, "changes"), k, c)
			snprintf(want + strlen(want), sizeof want - strlen(want), "%s|",
			    json_string_value(c));
		if (strcmp(h.log, want) != 0)
			fail_msg("%s: changes '%s', want '%s'", what, h.log, want);
	}
	k8s_informer_stats(inf, &st);
	assert_int_equal(st.relists, 4);
	assert_int_equal(st.drops, 3);
	assert_int_equal(st.events, 4);
	k8s_informer_free(inf);
	json_decref(steps);
}

/* A list while out of step answers again; in step, copies the caller owns. */
static void
test_list(void **state)
{
	struct k8s_informer_opts o = { .res = K8S_RES(CONFIGMAPS), .ns = "shop" };
	struct k8s_informer *inf = k8s_informer_new(NULL, &o);
	json_t *a = json_pack("{s:{s:s, s:s, s:s}}", "metadata", "name", "a", "namespace", "shop",
	    "resourceVersion", "5"), *list, *empty = json_object(), *got;

	(void)state;
	assert_int_equal(k8s_informer_list(inf, &list), ST_AGAIN);
	assert_null(list);
	k8s_informer_feed(inf, "SYNC", a);
	assert_int_equal(k8s_informer_list(inf, &list), ST_AGAIN);	/* list not complete */
	k8s_informer_feed(inf, "RELISTED", empty);
	assert_int_equal(k8s_informer_list(inf, &list), ST_OK);
	assert_int_equal(json_array_size(list), 1);
	json_object_set_new(json_array_get(list, 0), "changed", json_true());
	json_decref(list);
	assert_int_equal(k8s_informer_get(inf, "shop", "a", &got), ST_OK);
	assert_null(json_object_get(got, "changed"));
	json_decref(got);
	json_decref(a);
	json_decref(empty);
	k8s_informer_free(inf);
}

/* ---- against the test API server ------------------------------------------------ */

struct fixture {
	struct apiserver srv;
	struct k8s_config *cfg;
	struct k8s_client *c;
};

static int
setup(void **state)
{
	static const char *const args[] = { "--ready-delay", "0", NULL };
	static const struct k8s_client_opts o = { .backoff_ms = 20, .timeout_ms = 5000 };
	struct fixture *f = calloc(1, sizeof *f);
	struct kubeconfig_opts ko = { 0 };
	struct buf err;

	if (apiserver_start(&f->srv, args) != 0) {
		free(f);
		return -1;
	}
	ko.path = f->srv.kubeconfig;
	buf_init(&err, 512);
	if (k8s_config_load(&ko, &f->cfg, &err) != ST_OK ||
	    k8s_client_new(f->cfg, &o, &f->c, &err) != ST_OK) {
		fprintf(stderr, "client: %s\n", buf_str(&err));
		buf_fini(&err);
		return -1;
	}
	buf_fini(&err);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	k8s_client_free(f->c);
	k8s_config_free(f->cfg);
	apiserver_stop(&f->srv);
	free(f);
	return 0;
}

static json_t *
deployment(const char *name, const char *image)
{
	return json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:i, s:{s:{s:s}}, s:{s:{s:{s:s}}, "
	    "s:{s:[{s:s, s:s}]}}}}", "apiVersion", "apps/v1", "kind", "Deployment", "metadata",
	    "name", name, "namespace", "default", "spec", "replicas", 1, "selector", "matchLabels",
	    "app", name, "template", "metadata", "labels", "app", name, "spec", "containers",
	    "name", name, "image", image);
}

static void
set_image_of(struct fixture *f, const struct k8s_res *res, const char *name, const char *image)
{
	json_t *p = json_pack("{s:{s:{s:{s:[{s:s, s:s}]}}}}", "spec", "template", "spec",
	    "containers", "name", name, "image", image);
	struct k8s_err e;

	assert_int_equal(k8s_patch(f->c, res, "default", name, K8S_PATCH_STRATEGIC, p, NULL, &e),
	    ST_OK);
	json_decref(p);
}

static void
set_image(struct fixture *f, const char *name, const char *image)
{
	set_image_of(f, K8S_RES(DEPLOYMENTS), name, image);
}

/* Waits (up to 5 s) until the cache answers `image` for name (NULL: gone). */
static bool
cache_has(struct k8s_informer *inf, const char *name, const char *image)
{
	json_t *got;
	int i, st;
	bool ok = false;

	for (i = 0; i < 250 && !ok; i++) {
		st = k8s_informer_get(inf, "default", name, &got);
		ok = image ? st == ST_OK && strcmp(image_of(got), image) == 0 : st == ST_NOTFOUND;
		json_decref(got);
		if (!ok)
			usleep(20000);
	}
	return ok;
}

static bool
heard(struct heard *h, const char *text)
{
	int i;
	bool found = false;

	for (i = 0; i < 250 && !found; i++) {
		pthread_mutex_lock(&h->mu);
		found = strstr(h->log, text) != NULL;
		pthread_mutex_unlock(&h->mu);
		if (!found)
			usleep(20000);
	}
	return found;
}

static void
faults(struct fixture *f, const char *body)
{
	assert_int_equal(apiserver_post(&f->srv, "/_test/faults", body), 200);
}

/* Cut streams, a compacted history, an API server answering 503 to the
 * watch: every change is in the cache afterwards, the deletion made while
 * the watch was down included, and nothing is reported twice. */
static void
test_faults(void **state)
{
	struct fixture *f = *state;
	struct heard h = { .mu = PTHREAD_MUTEX_INITIALIZER };
	struct k8s_informer_opts o = { .res = K8S_RES(DEPLOYMENTS), .ns = "default",
		.on_change = on_change, .arg = &h };
	struct k8s_informer *inf;
	struct k8s_informer_stats st;
	struct k8s_err e;
	json_t *d;
	const char *names[] = { "web", "api", "gone" };
	struct timespec t0, t1;
	size_t i;

	for (i = 0; i < 3; i++) {
		d = deployment(names[i], "v1");
		assert_int_equal(k8s_create(f->c, K8S_RES(DEPLOYMENTS), "default", d, NULL, &e), ST_OK);
		json_decref(d);
	}
	inf = k8s_informer_new(f->c, &o);
	assert_int_equal(k8s_informer_start(inf), ST_OK);
	assert_true(cache_has(inf, "web", "v1"));
	assert_true(cache_has(inf, "gone", "v1"));

	/* A stream cut: resumed from its resourceVersion, nothing missed. */
	faults(f, "{\"drop\":1,\"path\":\"default/deployments$\"}");
	set_image(f, "web", "v2");
	set_image(f, "api", "v2");
	assert_true(cache_has(inf, "web", "v2"));
	assert_true(cache_has(inf, "api", "v2"));
	assert_true(heard(&h, "MODIFIED web v1>v2|"));

	/* Compacted while cut, and the watch refused twice with 503: the
	 * relist finds the change and the deletion made meanwhile. */
	assert_int_equal(apiserver_post(&f->srv, "/_test/compact", "{}"), 200);
	faults(f, "{\"drop\":1,\"error_5xx\":2,\"path\":\"default/deployments$\"}");
	set_image(f, "web", "v3");
	assert_int_equal(k8s_delete(f->c, K8S_RES(DEPLOYMENTS), "default", "gone", &e), ST_OK);
	assert_true(cache_has(inf, "web", "v3"));
	assert_true(cache_has(inf, "gone", NULL));
	assert_true(cache_has(inf, "api", "v2"));
	assert_true(heard(&h, "DELETED gone|"));
	assert_true(k8s_informer_synced(inf));
	faults(f, "{\"drop\":0,\"error_5xx\":0,\"path\":\"\"}");

	/* Still following. */
	set_image(f, "api", "v3");
	assert_true(cache_has(inf, "api", "v3"));
	k8s_informer_stats(inf, &st);
	assert_true(st.drops >= 2);
	assert_true(st.relists >= 2);
	pthread_mutex_lock(&h.mu);
	assert_null(strstr(strstr(h.log, "MODIFIED web v1>v2|") + 1, "MODIFIED web v1>v2|"));
	pthread_mutex_unlock(&h.mu);
	/* Stopping cuts the idle stream: no wait for the next check of stop. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	k8s_informer_free(inf);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* (about 170 ms when it waits for curl's next progress call) */
	assert_true((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 <
	    100 * test_timeout_scale());
	for (i = 0; i < 2; i++)
		k8s_delete(f->c, K8S_RES(DEPLOYMENTS), "default", names[i], &e);
}

/* The cluster backend: revision and readiness from the cache (no GET of the
 * Deployment), its own writes read back from the server until the cache
 * has them, a `set image` seen at once; the Services likewise. */
static void
test_cluster_reads(void **state)
{
	struct fixture *f = *state;
	struct canary_cfg cfg = { .ns = "default", .name = "shop", .target = "shop" };
	struct k8s_cluster *k = k8s_cluster_new(f->c);
	struct revision r1, r2;
	struct readiness rd;
	struct k8s_err e;
	char err[ERRMSG_MAX];
	int gets, i;
	json_t *d = deployment("shop", "shop:v1");

	assert_int_equal(k8s_create(f->c, K8S_RES(DEPLOYMENTS), "default", d, NULL, &e), ST_OK);
	json_decref(d);
	assert_int_equal(k8s_cluster_watch(k, "default", NULL, NULL), ST_OK);
	for (i = 0; i < 250 && !k8s_informer_synced(k->watched[0].inf); i++)
		usleep(20000);
	gets = apiserver_audit_count(&f->srv, "GET /apis/apps/v1/namespaces/default/deployments/shop ");
	assert_int_equal(wl_revision(k, &cfg, &r1, err), ST_OK);
	assert_int_equal(wl_readiness(k, &cfg, WL_CANARY, 0, &rd), ST_OK);
	assert_int_equal(apiserver_audit_count(&f->srv, "GET /apis/apps/v1/namespaces/default/deployments/shop "), gets);
	set_image(f, "shop", "shop:v2");
	for (i = 0; i < 250; i++) {
		assert_int_equal(wl_revision(k, &cfg, &r2, err), ST_OK);
		if (strcmp(r2.image, "shop:v2") == 0)
			break;
		usleep(20000);
	}
	assert_string_equal(r2.image, "shop:v2");
	assert_string_not_equal(r1.id, r2.id);
	/* Its own write: the next read goes to the server, then the cache again. */
	written(k, K8S_RES(DEPLOYMENTS), "default", "shop");
	assert_int_equal(wl_revision(k, &cfg, &r2, err), ST_OK);
	assert_int_equal(apiserver_audit_count(&f->srv, "GET /apis/apps/v1/namespaces/default/deployments/shop "), gets + 1);
	usleep(200000);
	assert_int_equal(wl_revision(k, &cfg, &r2, err), ST_OK);
	assert_int_equal(apiserver_audit_count(&f->srv, "GET /apis/apps/v1/namespaces/default/deployments/shop "), gets + 1);

	/* The Services reconciled at every tick: created once, read back from
	 * the server until the cache has them, then from the cache. */
	cfg.service = "shop";
	cfg.port = 80;
	assert_int_equal(rt_services(k, &cfg, "app", "shop", err), ST_OK);
	assert_int_equal(apiserver_audit_count(&f->srv, "POST /api/v1/namespaces/default/services "), 3);
	usleep(200000);
	assert_int_equal(rt_services(k, &cfg, "app", "shop", err), ST_OK);
	gets = apiserver_audit_count(&f->srv, "GET /api/v1/namespaces/default/services/");
	assert_int_equal(gets, 3);
	for (i = 0; i < 3; i++)
		assert_int_equal(rt_services(k, &cfg, "app", "shop", err), ST_OK);
	assert_int_equal(apiserver_audit_count(&f->srv, "GET /api/v1/namespaces/default/services/"), gets);
	assert_int_equal(apiserver_audit_count(&f->srv, "POST /api/v1/namespaces/default/services "), 3);
	k8s_cluster_free(k);
	k8s_delete(f->c, K8S_RES(DEPLOYMENTS), "default", "shop", &e);
}

static bool
heard_of(struct heard *h, const char *what)
{
	bool yes;

	pthread_mutex_lock(&h->mu);
	yes = strstr(h->log, what) != NULL;
	pthread_mutex_unlock(&h->mu);
	return yes;
}

/* A DaemonSet target is watched as Deployments are: a new image is heard
 * of at once (not at the next tick) and read from the cache; scaling it to
 * zero by its nodeSelector is not a new template. */
static void
test_daemonset_watch(void **state)
{
	struct fixture *f = *state;
	struct canary_cfg cfg = { .ns = "default", .name = "agent", .target = "agent",
		.target_kind = "DaemonSet" };
	struct k8s_cluster *k = k8s_cluster_new(f->c);
	struct heard h = { .mu = PTHREAD_MUTEX_INITIALIZER };
	json_t *ds = deployment("agent", "agent:v1"), *z;
	char err[ERRMSG_MAX], t1[17], t2[17];
	struct revision r;
	struct k8s_err e;
	int gets, i;

	json_object_set_new(ds, "kind", json_string("DaemonSet"));
	json_object_del(json_object_get(ds, "spec"), "replicas");
	assert_int_equal(k8s_create(f->c, K8S_RES(DAEMONSETS), "default", ds, NULL, &e), ST_OK);
	assert_int_equal(k8s_cluster_watch_target(k, &cfg, on_change, &h), ST_OK);
	assert_int_equal(k->n_watched, 3);
	for (i = 0; i < 250 && !k8s_informer_synced(k->watched[2].inf); i++)
		usleep(20000);
	set_image_of(f, K8S_RES(DAEMONSETS), "agent", "agent:v2");
	for (i = 0; i < 250 && !heard_of(&h, "MODIFIED agent agent:v1>agent:v2|"); i++)
		usleep(20000);
	if (!heard_of(&h, "MODIFIED agent agent:v1>agent:v2|"))
		fail_msg("the new image of the DaemonSet was not heard of");
	gets = apiserver_audit_count(&f->srv, "GET /apis/apps/v1/namespaces/default/daemonsets/agent ");
	assert_int_equal(wl_revision(k, &cfg, &r, err), ST_OK);
	assert_string_equal(r.image, "agent:v2");
	assert_int_equal(apiserver_audit_count(&f->srv,
	    "GET /apis/apps/v1/namespaces/default/daemonsets/agent "), gets);
	/* Scaled to zero: the same revision. */
	z = json_deep_copy(ds);
	k8s_workload_template_hash(z, t1);
	json_object_set_new(jpath(z, "spec.template.spec"), "nodeSelector",
	    json_pack("{s:s}", "flagger.app/scale-to-zero", "true"));
	k8s_workload_template_hash(z, t2);
	assert_string_equal(t1, t2);
	json_decref(z);
	json_decref(ds);
	k8s_cluster_free(k);
	k8s_delete(f->c, K8S_RES(DAEMONSETS), "default", "agent", &e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_steps),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_faults),
		cmocka_unit_test(test_cluster_reads),
		cmocka_unit_test(test_daemonset_watch),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
