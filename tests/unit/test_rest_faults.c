/* test_rest_faults.c — the Kubernetes REST client under the test API
 * server's random faults (tests/k8s/chaos.py), one kind at a time, each
 * aimed with `match`, `methods` and `count`: what is repeated, what is read
 * back instead, and that nothing is done twice — a create whose answer is
 * lost is read back, not sent again; one refused before it was carried out
 * is sent again; AlreadyExists after a lost answer is a success only when
 * the object is ours; a PUT's 409 and a DELETE's 404 after a lost answer
 * are the client's own write; a 429's Retry-After is waited for; a watch
 * gets through 410s and streams cut mid-event; Events are never doubled. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "helper_apiserver.h"
#include "k8s/cluster.h"
#include "k8s/kubeconfig.h"
#include "k8s/rest.h"
#include "util/buf.h"
#include "util/status.h"

struct fixture {
	struct apiserver srv;
	struct k8s_config *cfg;
	struct k8s_client *c;
};

static int
setup(void **state)
{
	/* Answers held back 1.5 s; the client gives up after 0.5 s. */
	static const char *const args[] = { "--ready-delay", "0", "--fault-slow-ms", "1500", NULL };
	static const struct k8s_client_opts o = { .backoff_ms = 20, .timeout_ms = 500 };
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

/* One fault of KIND for the next request with METHOD on a path matching
 * REGEX (then none). */
static void
one_fault(struct fixture *f, const char *kind, const char *method, const char *regex)
{
	char body[256];

	snprintf(body, sizeof body, "{\"rate\":1,\"mix\":\"%s\",\"methods\":\"%s\",\"match\":\"%s\","
	    "\"count\":1}", kind, method, regex);
	assert_int_equal(apiserver_post(&f->srv, "/_test/faults", body), 200);
}

static void
no_faults(struct fixture *f)
{
	assert_int_equal(apiserver_post(&f->srv, "/_test/faults",
	    "{\"rate\":0,\"methods\":\"\",\"match\":\"\",\"count\":null}"), 200);
}

static json_t *
cm(const char *name, const char *value)
{
	return json_pack("{s:s, s:s, s:{s:s, s:{s:s}}, s:{s:s}}", "apiVersion", "v1", "kind",
	    "ConfigMap", "metadata", "name", name, "labels", "app", "shop", "data", "k", value);
}

static const char *
data_k(json_t *obj)
{
	return json_string_value(json_object_get(json_object_get(obj, "data"), "k"));
}

static int
audit(struct fixture *f, const char *needle)
{
	return apiserver_audit_count(&f->srv, needle);
}

#define CMS "POST /api/v1/namespaces/default/configmaps "

/* A create carried out whose answer is lost (reset mid-body, or held back
 * past the timeout) is read back, found ours: one POST, ST_OK. */
static void
test_create_answer_lost(void **state)
{
	static const char *const kinds[] = { "reset", "slow" };
	struct fixture *f = *state;
	struct k8s_counters n0, n1;
	struct k8s_err e;
	json_t *o, *got = NULL;
	char name[32];
	size_t i;

	for (i = 0; i < 2; i++) {
		int posts = audit(f, CMS);

		snprintf(name, sizeof name, "lost-%s", kinds[i]);
		o = cm(name, "1");
		k8s_client_counters(f->c, &n0);
		one_fault(f, kinds[i], "POST", "configmaps$");
		assert_int_equal(k8s_create(f->c, K8S_RES(CONFIGMAPS), "default", o, &got, &e), ST_OK);
		k8s_client_counters(f->c, &n1);
		assert_int_equal(audit(f, CMS) - posts, 1);
		assert_int_equal(n1.verified - n0.verified, 1);
		assert_non_null(got);
		assert_string_equal(data_k(got), "1");
		json_decref(got);
		json_decref(o);
	}
	no_faults(f);
}

/* Refused before anything was done (500, 503: the server did nothing, but
 * the client cannot know): read back, absent, sent again.  429: sent again
 * at once, after the Retry-After. */
static void
test_create_refused(void **state)
{
	static const char *const kinds[] = { "500", "503", "429" };
	struct fixture *f = *state;
	struct timespec t0, t1;
	struct k8s_err e;
	json_t *o, *got;
	char name[32];
	size_t i;

	for (i = 0; i < 3; i++) {
		int posts = audit(f, CMS);

		snprintf(name, sizeof name, "refused-%s", kinds[i]);
		o = cm(name, "2");
		one_fault(f, kinds[i], "POST", "configmaps$");
		clock_gettime(CLOCK_MONOTONIC, &t0);
		assert_int_equal(k8s_create(f->c, K8S_RES(CONFIGMAPS), "default", o, NULL, &e), ST_OK);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		assert_int_equal(audit(f, CMS) - posts, 2);
		if (strcmp(kinds[i], "429") == 0)	/* Retry-After: 1 */
			assert_true(t1.tv_sec - t0.tv_sec + (t1.tv_nsec - t0.tv_nsec) / 1e9 >= 0.95);
		assert_int_equal(k8s_get(f->c, K8S_RES(CONFIGMAPS), "default", name, &got, &e), ST_OK);
		json_decref(got);
		json_decref(o);
	}
	no_faults(f);
}

/* A lost answer over an object of the same name that is not ours: the
 * create is not a success. */
static void
test_create_not_ours(void **state)
{
	struct fixture *f = *state;
	json_t *theirs = cm("taken", "theirs"), *mine = cm("taken", "mine"), *got;
	struct k8s_err e;

	assert_int_equal(k8s_create(f->c, K8S_RES(CONFIGMAPS), "default", theirs, NULL, &e), ST_OK);
	one_fault(f, "reset", "POST", "configmaps$");
	assert_int_equal(k8s_create(f->c, K8S_RES(CONFIGMAPS), "default", mine, NULL, &e),
	    ST_CONFLICT);
	assert_int_equal(k8s_get(f->c, K8S_RES(CONFIGMAPS), "default", "taken", &got, &e), ST_OK);
	assert_string_equal(data_k(got), "theirs");
	json_decref(got);
	/* Without a lost answer AlreadyExists stays a conflict, ours or not. */
	assert_int_equal(k8s_create(f->c, K8S_RES(CONFIGMAPS), "default", theirs, NULL, &e),
	    ST_CONFLICT);
	assert_false(e.maybe_done);
	json_decref(theirs);
	json_decref(mine);
	no_faults(f);
}

/* A PUT carried out, its answer lost: the retry meets 409 (its own write
 * moved the resourceVersion); read back, it is ours: ST_OK. */
static void
test_update_answer_lost(void **state)
{
	struct fixture *f = *state;
	json_t *o = cm("put", "1"), *got, *next;
	struct k8s_err e;

	assert_int_equal(k8s_create(f->c, K8S_RES(CONFIGMAPS), "default", o, &got, &e), ST_OK);
	next = json_deep_copy(got);
	json_object_set_new(json_object_get(next, "data"), "k", json_string("2"));
	json_decref(got);
	one_fault(f, "reset", "PUT", "configmaps/put$");
	assert_int_equal(k8s_update(f->c, K8S_RES(CONFIGMAPS), "default", next, &got, &e), ST_OK);
	assert_string_equal(data_k(got), "2");
	json_decref(got);
	assert_int_equal(audit(f, "PUT /api/v1/namespaces/default/configmaps/put rw 409"), 1);
	/* Someone else's write in between is a real conflict. */
	json_object_set_new(json_object_get(next, "data"), "k", json_string("3"));
	assert_int_equal(k8s_update(f->c, K8S_RES(CONFIGMAPS), "default", next, NULL, &e),
	    ST_CONFLICT);
	json_decref(next);
	json_decref(o);
	no_faults(f);
}

/* A DELETE carried out, its answer lost: the retry's 404 is a success. */
static void
test_delete_answer_lost(void **state)
{
	struct fixture *f = *state;
	json_t *o = cm("del", "1");
	struct k8s_err e;

	assert_int_equal(k8s_create(f->c, K8S_RES(CONFIGMAPS), "default", o, NULL, &e), ST_OK);
	one_fault(f, "reset", "DELETE", "configmaps/del$");
	assert_int_equal(k8s_delete(f->c, K8S_RES(CONFIGMAPS), "default", "del", &e), ST_OK);
	assert_int_equal(audit(f, "DELETE /api/v1/namespaces/default/configmaps/del rw 404"), 1);
	/* Without a lost answer, 404 is 404. */
	assert_int_equal(k8s_delete(f->c, K8S_RES(CONFIGMAPS), "default", "del", &e), ST_NOTFOUND);
	json_decref(o);
	no_faults(f);
}

/* Merge patches are the same however often they land: repeated. */
static void
test_patch_repeated(void **state)
{
	static const char *const kinds[] = { "reset", "500", "409" };
	struct fixture *f = *state;
	json_t *o = cm("patched", "0"), *p, *got;
	struct k8s_err e;
	char v[16];
	size_t i;

	assert_int_equal(k8s_create(f->c, K8S_RES(CONFIGMAPS), "default", o, NULL, &e), ST_OK);
	for (i = 0; i < 3; i++) {
		snprintf(v, sizeof v, "%zu", i + 1);
		p = json_pack("{s:{s:s}}", "data", "k", v);
		one_fault(f, kinds[i], "PATCH", "configmaps/patched$");
		if (strcmp(kinds[i], "409") == 0) {
			/* a 409 is the caller's to handle (k8s_modify re-reads) */
			assert_int_equal(k8s_patch(f->c, K8S_RES(CONFIGMAPS), "default", "patched",
			    K8S_PATCH_MERGE, p, NULL, &e), ST_CONFLICT);
			assert_int_equal(k8s_patch(f->c, K8S_RES(CONFIGMAPS), "default", "patched",
			    K8S_PATCH_MERGE, p, &got, &e), ST_OK);
		} else {
			assert_int_equal(k8s_patch(f->c, K8S_RES(CONFIGMAPS), "default", "patched",
			    K8S_PATCH_MERGE, p, &got, &e), ST_OK);
		}
		assert_string_equal(data_k(got), v);
		json_decref(got);
		json_decref(p);
	}
	json_decref(o);
	no_faults(f);
}

/* A Retry-After longer than the client will wait is not waited for. */
static void
test_throttled(void **state)
{
	struct fixture *f = *state;
	struct k8s_counters n0, n1;
	struct k8s_err e;
	json_t *got;

	k8s_client_counters(f->c, &n0);
	assert_int_equal(apiserver_post(&f->srv, "/_test/faults",
	    "{\"rate\":1,\"mix\":\"429\",\"methods\":\"GET\",\"match\":\"namespaces/default$\","
	    "\"count\":2}"), 200);
	assert_int_equal(k8s_get(f->c, K8S_RES(NAMESPACES), NULL, "default", &got, &e), ST_OK);
	json_decref(got);
	k8s_client_counters(f->c, &n1);
	assert_int_equal(n1.throttled - n0.throttled, 2);
	assert_int_equal(n1.retries - n0.retries, 2);
	assert_true(n1.troubled_ms > 0);
	no_faults(f);
}

/* The API server's health: degraded after a request had to be repeated,
 * not after a 404; back to well by itself K8S_DEGRADED_MS later. */
static void
test_degraded(void **state)
{
	struct fixture *f = *state;
	struct k8s_client *quiet;
	struct k8s_cluster *k;
	struct k8s_err e;
	struct buf err;
	json_t *got;
	long long now;

	buf_init(&err, 256);
	assert_int_equal(k8s_client_new(f->cfg, NULL, &quiet, &err), ST_OK);
	buf_fini(&err);
	k = k8s_cluster_new(quiet);
	assert_false(k8s_cluster_degraded(k, k8s_mono_ms()));
	assert_int_equal(k8s_get(quiet, K8S_RES(CONFIGMAPS), "default", "none", &got, &e),
	    ST_NOTFOUND);
	assert_false(k8s_cluster_degraded(k, k8s_mono_ms()));
	one_fault(f, "503", "GET", "namespaces/default$");
	assert_int_equal(k8s_get(quiet, K8S_RES(NAMESPACES), NULL, "default", &got, &e), ST_OK);
	json_decref(got);
	now = k8s_mono_ms();
	assert_true(k8s_cluster_degraded(k, now));
	assert_true(k8s_cluster_ops.degraded(k));
	assert_false(k8s_cluster_degraded(k, now + K8S_DEGRADED_MS + 1));
	/* The events client counts too. */
	k8s_cluster_set_event_client(k, f->c);
	assert_false(k8s_cluster_degraded(k, now + K8S_DEGRADED_MS + 1));
	k8s_cluster_free(k);
	k8s_client_free(quiet);
	no_faults(f);
}

/* Events: a lost answer never makes two. */
static void
test_events_once(void **state)
{
	static const char *const kinds[] = { "reset", "slow", "500", "503", "429" };
	struct fixture *f = *state;
	struct k8s_cluster *k = k8s_cluster_new(f->c);
	struct canary_cfg c = { .ns = (char *)"default", .name = (char *)"shop",
		.target = (char *)"shop", .service = (char *)"shop" };
	char msg[64];
	struct k8s_err e;
	json_t *list, *ev;
	size_t i, j, n;

	for (i = 0; i < 5; i++) {
		snprintf(msg, sizeof msg, "event under fault %s", kinds[i]);
		one_fault(f, kinds[i], "POST", "events$");
		assert_int_equal(k8s_cluster_ops.emit_event(k, &c, SEV_NORMAL, msg), ST_OK);
	}
	assert_int_equal(k8s_list(f->c, K8S_RES(EVENTS), "default", NULL, &list, &e), ST_OK);
	for (i = 0; i < 5; i++) {
		snprintf(msg, sizeof msg, "event under fault %s", kinds[i]);
		n = 0;
		json_array_foreach(json_object_get(list, "items"), j, ev) {
			n += strcmp(json_string_value(json_object_get(ev, "message")), msg) == 0;
		}
		if (n != 1)
			fail_msg("%s: %zu events", msg, n);
	}
	json_decref(list);
	k8s_cluster_free(k);
	no_faults(f);
}

/* A watch through 410s and streams cut mid-event sees every change, once. */
struct seen {
	pthread_mutex_t lock;
	int last;		/* the highest data.k seen */
	int relists, opened;
};

static bool
on_event(const char *type, json_t *obj, void *arg)
{
	struct seen *s = arg;
	const char *k = data_k(obj);

	pthread_mutex_lock(&s->lock);
	if (strcmp(type, "RELISTED") == 0)
		s->relists++;
	if (strcmp(type, "OPENED") == 0)
		s->opened++;
	if (k != NULL && atoi(k) > s->last)
		s->last = atoi(k);
	pthread_mutex_unlock(&s->lock);
	return true;
}

struct wrun {
	struct k8s_client *c;
	struct seen *s;
	atomic_bool stop;
};

static void *
watcher(void *arg)
{
	struct wrun *w = arg;
	struct k8s_err e;

	k8s_watch(w->c, K8S_RES(CONFIGMAPS), "default", "app=watch", NULL, on_event, w->s, &w->stop,
	    &e);
	return NULL;
}

static void
test_watch_faults(void **state)
{
	struct fixture *f = *state;
	struct seen s = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct wrun w = { .c = f->c, .s = &s };
	json_t *o = json_pack("{s:s, s:s, s:{s:s, s:{s:s}}, s:{s:s}}", "apiVersion", "v1", "kind",
	    "ConfigMap", "metadata", "name", "w", "labels", "app", "watch", "data", "k", "0"), *p;
	struct k8s_err e;
	pthread_t t;
	char v[16];
	int i, last = 0;

	assert_int_equal(k8s_create(f->c, K8S_RES(CONFIGMAPS), "default", o, NULL, &e), ST_OK);
	json_decref(o);
	/* Every new stream of the watch gets a fault: 410 or a cut. */
	assert_int_equal(apiserver_post(&f->srv, "/_test/faults",
	    "{\"rate\":1,\"mix\":\"410:1,cut:2\",\"methods\":\"GET\",\"match\":\"configmaps$\","
	    "\"count\":6}"), 200);
	atomic_init(&w.stop, false);
	assert_int_equal(pthread_create(&t, NULL, watcher, &w), 0);
	for (i = 1; i <= 20; i++) {
		snprintf(v, sizeof v, "%d", i);
		p = json_pack("{s:{s:s}}", "data", "k", v);
		assert_int_equal(k8s_patch(f->c, K8S_RES(CONFIGMAPS), "default", "w", K8S_PATCH_MERGE, p,
		    NULL, &e), ST_OK);
		json_decref(p);
		usleep(100000);
	}
	for (i = 0; i < 200 && last < 20; i++) {
		pthread_mutex_lock(&s.lock);
		last = s.last;
		pthread_mutex_unlock(&s.lock);
		if (last < 20)
			usleep(50000);
	}
	k8s_watch_interrupt(f->c, &w.stop);
	pthread_join(t, NULL);
	assert_int_equal(last, 20);
	assert_true(audit(f, "fault=410") + audit(f, "fault=cut") >= 1);
	no_faults(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_answer_lost),
		cmocka_unit_test(test_create_refused),
		cmocka_unit_test(test_create_not_ours),
		cmocka_unit_test(test_update_answer_lost),
		cmocka_unit_test(test_delete_answer_lost),
		cmocka_unit_test(test_patch_repeated),
		cmocka_unit_test(test_throttled),
		cmocka_unit_test(test_events_once),
		cmocka_unit_test(test_degraded),
		cmocka_unit_test(test_watch_faults),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
