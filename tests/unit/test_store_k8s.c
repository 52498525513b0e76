/* test_store_k8s.c — canary state in a ConfigMap and control in a Lease, on
 * the test API server: round trips, the bounded journal, list, a second
 * controller refused with the holder's name, take-over after the holder dies
 * and its lease expires (resuming from the stored status) or at once when it
 * was a process of this host, a read-only store
 * that never writes, conflicts, and a corrupted status. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/k8s.h"
#include "helper_apiserver.h"
#include "helper_clock.h"
#include "k8s/kubeconfig.h"
#include "k8s/rest.h"
#include "util/status.h"
#include "util/systime.h"
#include "util/xalloc.h"

#define KEY "default/checkout"

struct fx {
	struct apiserver srv;
	struct k8s_config *cfg;
	struct k8s_client *c;
};

static struct k8s_client *
new_client(struct fx *f, bool ro, struct k8s_config **cfg)
{
	struct kubeconfig_opts ko = { .path = f->srv.kubeconfig };
	struct k8s_client_opts o = { .backoff_ms = 20, .read_only = ro };
	struct k8s_client *c;

	assert_int_equal(k8s_config_load(&ko, cfg, NULL), ST_OK);
	assert_int_equal(k8s_client_new(*cfg, &o, &c, NULL), ST_OK);
	return c;
}

static int
setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof *f);

	if (apiserver_start(&f->srv, NULL) != 0)
		return -1;
	f->c = new_client(f, false, &f->cfg);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	k8s_client_free(f->c);
	k8s_config_free(f->cfg);
	apiserver_stop(&f->srv);
	free(f);
	return 0;
}

static void
test_status_spec_journal(void **state)
{
	struct fx *f = *state;
	struct store_k8s *s = store_k8s_open(f->c, false, 0);
	struct canary_status st = { .phase = PHASE_PROGRESSING, .canary_weight = 30,
		.failed_checks = 1, .iterations = 3, .seq = 7 }, got;
	struct canary_cfg cfg = { .ns = "default", .name = "checkout", .target = "checkout",
		.target_kind = "Deployment", .service = "checkout", .provider = "linkerd", .port = 80,
		.interval_s = 30, .threshold = 5, .max_weight = 50, .step_weight = 10 }, *cfg2;
	struct journal_rec rec, *tail = xcalloc(300, sizeof *tail);
	char err[ERRMSG_MAX], **names;
	size_t n, i;

	assert_int_equal(store_k8s_ops.load(s, KEY, &got, err), ST_NOTFOUND);
	snprintf(st.last_applied, sizeof st.last_applied, "0123456789abcdef");
	snprintf(st.reason, sizeof st.reason, "waiting");
	snprintf(st.affinity_cookie, sizeof st.affinity_cookie, "session=AbcdEfghIj");
	snprintf(st.primary_affinity_cookie, sizeof st.primary_affinity_cookie, "primary=KlmnOpqrSt");
	snprintf(st.previous_affinity_cookie, sizeof st.previous_affinity_cookie, "session=UvwxYzabCd");
	st.override = OVR_FORCED;
	snprintf(st.override_by, sizeof st.override_by, "alice@host");
	st.override_failed = 3;
	st.override_threshold = 5;
	snprintf(st.last_failure, sizeof st.last_failure, "request-duration 681ms > 500ms");
	st.held = true;
	st.gate = GATE_TRAFFIC;
	snprintf(st.applied_name, sizeof st.applied_name, "checkout:v2");
	snprintf(st.promoted_name, sizeof st.promoted_name, "checkout:v1");
	st.run_since_ms = 1795000000000LL;
	st.last_phase = PHASE_SUCCEEDED;
	st.last_end_ms = 1794000000000LL;
	snprintf(st.last_reason, sizeof st.last_reason, "promotion completed");
	assert_int_equal(store_k8s_ops.save(s, KEY, &st, err), ST_OK);
	assert_int_equal(store_k8s_ops.load(s, KEY, &got, err), ST_OK);
	assert_int_equal(got.phase, PHASE_PROGRESSING);
	assert_int_equal(got.canary_weight, 30);
	assert_string_equal(got.last_applied, "0123456789abcdef");
	/* The session affinity cookies are kept in the ConfigMap too. */
	assert_string_equal(got.affinity_cookie, "session=AbcdEfghIj");
	assert_string_equal(got.primary_affinity_cookie, "primary=KlmnOpqrSt");
	assert_string_equal(got.previous_affinity_cookie, "session=UvwxYzabCd");
	/* ... and a forced promotion, with who and how the canary stood */
	assert_int_equal(got.override, OVR_FORCED);
	assert_string_equal(got.override_by, "alice@host");
	assert_int_equal(got.override_failed, 3);
	assert_int_equal(got.override_threshold, 5);
	assert_string_equal(got.last_failure, "request-duration 681ms > 500ms");
	/* ... and what the screens of the controller and its watchers read */
	assert_true(got.held);
	assert_int_equal(got.gate, GATE_TRAFFIC);
	assert_string_equal(got.applied_name, "checkout:v2");
	assert_string_equal(got.promoted_name, "checkout:v1");
	assert_true(got.run_since_ms == 1795000000000LL);
	assert_int_equal(got.last_phase, PHASE_SUCCEEDED);
	assert_true(got.last_end_ms == 1794000000000LL);
	assert_string_equal(got.last_reason, "promotion completed");
	/* Writes survive a few injected conflicts. */
	assert_int_equal(apiserver_post(&f->srv, "/_test/faults", "{\"conflict\":2,\"path\":\"configmaps\"}"), 200);
	st.canary_weight = 40;
	assert_int_equal(store_k8s_ops.save(s, KEY, &st, err), ST_OK);
	assert_int_equal(store_k8s_ops.load(s, KEY, &got, err), ST_OK);
	assert_int_equal(got.canary_weight, 40);

	assert_int_equal(store_k8s_ops.save_spec(s, KEY, &cfg, err), ST_OK);
	assert_int_equal(store_k8s_ops.load_spec(s, KEY, &cfg2, err), ST_OK);
	assert_string_equal(cfg2->provider, "linkerd");
	assert_int_equal(cfg2->port, 80);
	canary_cfg_free(cfg2);

	store_k8s_set_journal_max(s, 20);
	for (i = 0; i < 30; i++) {
		memset(&rec, 0, sizeof rec);
		rec.time_ms = 1000 * (int64_t)i;
		snprintf(rec.canary, sizeof rec.canary, KEY);
		rec.kind = REC_EVENT;
		snprintf(rec.type, sizeof rec.type, "Normal");
		snprintf(rec.reason, sizeof rec.reason, "Synced");
		snprintf(rec.message, sizeof rec.message, "event %zu", i);
		assert_int_equal(store_k8s_ops.append(s, &rec, NULL), ST_OK);
	}
	n = store_k8s_ops.tail(s, KEY, tail, 300);
	assert_int_equal(n, 20);
	assert_string_equal(tail[0].message, "event 10");
	assert_string_equal(tail[n - 1].message, "event 29");
	n = store_k8s_ops.tail(s, KEY, tail, 5);
	assert_int_equal(n, 5);
	assert_string_equal(tail[0].message, "event 25");

	n = store_k8s_ops.list(s, &names);
	assert_int_equal(n, 1);
	assert_string_equal(names[0], KEY);
	free(names[0]);
	free(names);
	free(tail);
	store_k8s_close(s);
}

static void
test_lease(void **state)
{
	struct fx *f = *state;
	struct store_k8s *a = store_k8s_open(f->c, false, 0), *b = store_k8s_open(f->c, false, 0);
	char holder[96];
	pid_t pid;
	int wst, i, rc;

	assert_int_equal(store_k8s_ops.acquire(a, KEY, "alice@box", holder, sizeof holder, NULL), ST_OK);
	assert_int_equal(store_k8s_ops.renew(a, KEY), ST_OK);
	/* The store's own thread renews a held lease (every third of 3 s). */
	{
		struct store_k8s *q = store_k8s_open(f->c, false, 3);
		struct k8s_err e;
		json_t *l1, *l2;

		assert_int_equal(store_k8s_ops.acquire(q, "default/renewed", "quinn@box", holder, sizeof holder, NULL), ST_OK);
		assert_int_equal(k8s_get(f->c, K8S_RES(LEASES), "default", "perch-renewed", &l1, &e), ST_OK);
		usleep(1600000);
		assert_int_equal(k8s_get(f->c, K8S_RES(LEASES), "default", "perch-renewed", &l2, &e), ST_OK);
		assert_string_not_equal(json_string_value(json_object_get(json_object_get(l1, "spec"), "renewTime")),
		    json_string_value(json_object_get(json_object_get(l2, "spec"), "renewTime")));
		assert_int_equal(json_integer_value(json_object_get(json_object_get(l2, "spec"), "leaseDurationSeconds")), 3);
		json_decref(l1);
		json_decref(l2);
		store_k8s_close(q);
	}
	assert_int_equal(store_k8s_ops.acquire(b, KEY, "bob@box", holder, sizeof holder, NULL), ST_LOCKED);
	assert_non_null(strstr(holder, "alice@box pid "));
	assert_int_equal(store_k8s_ops.release(a, KEY), ST_OK);
	assert_int_equal(store_k8s_ops.acquire(b, KEY, "bob@box", holder, sizeof holder, NULL), ST_OK);
	/* a lost it: renewing says so. */
	assert_int_equal(store_k8s_ops.renew(a, KEY), ST_LOCKED);
	store_k8s_close(b);	/* releases */
	store_k8s_close(a);

	/* A controller that dies holding a 2-second lease, after saving status. */
	pid = fork();
	if (pid == 0) {
		struct k8s_config *cfg;
		struct k8s_client *c = new_client(f, false, &cfg);
		struct store_k8s *s = store_k8s_open(c, false, 2);
		struct canary_status st = { .phase = PHASE_PROGRESSING, .canary_weight = 20 };

		if (store_k8s_ops.acquire(s, "default/dying", "carol@box", holder, sizeof holder, NULL) != ST_OK ||
		    store_k8s_ops.save(s, "default/dying", &st, NULL) != ST_OK)
			_exit(1);
		_exit(0);	/* dies: no release */
	}
	assert_int_equal(waitpid(pid, &wst, 0), pid);
	assert_true(WIFEXITED(wst) && WEXITSTATUS(wst) == 0);
	b = store_k8s_open(f->c, false, 0);
	assert_int_equal(store_k8s_ops.acquire(b, "default/dying", "dave@box", holder, sizeof holder, NULL), ST_LOCKED);
	assert_non_null(strstr(holder, "carol@box"));
	for (i = 0, rc = ST_LOCKED; i < 40 && rc == ST_LOCKED; i++) {
		usleep(100000);
		rc = store_k8s_ops.acquire(b, "default/dying", "dave@box", holder, sizeof holder, NULL);
	}
	assert_int_equal(rc, ST_OK);
	{
		struct canary_status got;
		char err[ERRMSG_MAX];

		assert_int_equal(store_k8s_ops.load(b, "default/dying", &got, err), ST_OK);
		assert_int_equal(got.phase, PHASE_PROGRESSING);
		assert_int_equal(got.canary_weight, 20);
	}
	store_k8s_close(b);

	/* The same on this host: a holder whose process is gone is taken
	 * over at once, not when its lease expires; a live one is not. */
	{
		char host[64] = "", actor[128];

		assert_int_equal(gethostname(host, sizeof host), 0);
		host[sizeof host - 1] = '\0';
		snprintf(actor, sizeof actor, "carol@%s", host);
		pid = fork();
		if (pid == 0) {
			struct k8s_config *cfg;
			struct k8s_client *c = new_client(f, false, &cfg);
			struct store_k8s *s = store_k8s_open(c, false, 60);

			_exit(store_k8s_ops.acquire(s, "default/local", actor, holder, sizeof holder,
			    NULL) == ST_OK ? 0 : 1);	/* dies holding a minute's lease */
		}
		assert_int_equal(waitpid(pid, &wst, 0), pid);
		assert_true(WIFEXITED(wst) && WEXITSTATUS(wst) == 0);
		b = store_k8s_open(f->c, false, 0);
		assert_int_equal(store_k8s_ops.acquire(b, "default/local", "dave@box", holder,
		    sizeof holder, NULL), ST_OK);
		store_k8s_close(b);
		a = store_k8s_open(f->c, false, 60);
		assert_int_equal(store_k8s_ops.acquire(a, "default/local", actor, holder, sizeof holder,
		    NULL), ST_OK);
		b = store_k8s_open(f->c, false, 0);	/* our own pid: alive */
		assert_int_equal(store_k8s_ops.acquire(b, "default/local", "dave@box", holder,
		    sizeof holder, NULL), ST_LOCKED);
		store_k8s_close(b);
		store_k8s_close(a);
	}
}

/* The weight in the status of Canary default/<name>, -1 without one. */
static int
canary_weight(struct fx *f, const char *name)
{
	struct k8s_err e;
	json_t *o, *w;
	int v = -1;

	if (k8s_get(f->c, K8S_RES(CANARIES), "default", name, &o, &e) != ST_OK)
		return -1;
	w = json_object_get(json_object_get(o, "status"), "canaryWeight");
	if (json_is_integer(w))
		v = (int)json_integer_value(w);
	json_decref(o);
	return v;
}

/* The Canary objects' status is written off the save's path: with the
 * status of Canary c0 answering in 1.5 s, eight saves (c0, five others,
 * c0 twice more) take less than one write of it, where in series they
 * would wait for three; c0, saved again twice while its write is under way,
 * gets only its newest status written after it; the others are written
 * by other writers; a release waits for the canary's status, and
 * close writes what is still queued before giving the Leases back. */
static void
test_canary_status_async(void **state)
{
	struct fx *f = *state;
	struct store_k8s *a = store_k8s_open(f->c, false, 0);
	struct canary_status st = { .phase = PHASE_PROGRESSING, .canary_weight = 10 };
	char holder[96], key[64], name[16], json[400];
	/* Stretched under the sanitizers, but well within the client's 10 s
	 * timeout (which would send the PUT again). */
	int slow = test_timeout_scale() < 4 ? 1500 * test_timeout_scale() : 6000;
	struct k8s_err e;
	int64_t t0;
	json_t *o;
	int i;

	for (i = 0; i < 6; i++) {
		snprintf(name, sizeof name, "c%d", i);
		snprintf(key, sizeof key, "default/%s", name);
		snprintf(json, sizeof json, "{\"apiVersion\":\"flagger.app/v1beta1\",\"kind\":\"Canary\","
		    "\"metadata\":{\"name\":\"%s\"},\"spec\":{\"targetRef\":{\"apiVersion\":\"apps/v1\","
		    "\"kind\":\"Deployment\",\"name\":\"%s\"},\"analysis\":{\"interval\":\"1m\","
		    "\"threshold\":1,\"stepWeight\":10}}}", name, name);
		o = json_loads(json, 0, NULL);
		assert_int_equal(k8s_create(f->c, K8S_RES(CANARIES), "default", o, NULL, &e), ST_OK);
		json_decref(o);
		assert_int_equal(store_k8s_ops.acquire(a, key, "async@box", holder, sizeof holder, NULL), ST_OK);
	}
	snprintf(json, sizeof json, "{\"latency_ms\":%d,\"path\":\"canaries/c0/status$\","
	    "\"methods\":\"PUT\"}", slow);
	assert_int_equal(apiserver_post(&f->srv, "/_test/faults", json), 200);
	t0 = clock_monotonic_ms();
	for (i = 0; i < 6; i++) {
		snprintf(key, sizeof key, "default/c%d", i);
		assert_int_equal(store_k8s_ops.save(a, key, &st, NULL), ST_OK);
	}
	st.canary_weight = 20;
	assert_int_equal(store_k8s_ops.save(a, "default/c0", &st, NULL), ST_OK);
	st.canary_weight = 30;
	assert_int_equal(store_k8s_ops.save(a, "default/c0", &st, NULL), ST_OK);
	assert_true(clock_monotonic_ms() - t0 < slow);
	assert_int_equal(store_k8s_ops.release(a, "default/c1"), ST_OK);
	assert_int_equal(canary_weight(f, "c1"), 10);
	assert_int_equal(store_k8s_ops.release(a, "default/c0"), ST_OK);
	assert_int_equal(canary_weight(f, "c0"), 30);
	assert_int_equal(apiserver_audit_count(&f->srv,
	    "PUT /apis/flagger.app/v1beta1/namespaces/default/canaries/c0/status"), 2);
	st.canary_weight = 40;
	assert_int_equal(store_k8s_ops.save(a, "default/c5", &st, NULL), ST_OK);
	store_k8s_close(a);
	assert_int_equal(canary_weight(f, "c5"), 40);
	assert_int_equal(apiserver_post(&f->srv, "/_test/faults", "{\"latency_ms\":0}"), 200);
}

/* More leases than any fixed table held: every one is taken, known as
 * held, and given back when the store closes. */
static void
test_many_leases(void **state)
{
	struct fx *f = *state;
	struct store_k8s *a = store_k8s_open(f->c, false, 0);
	char holder[96], key[64], name[64];
	struct k8s_err e;
	json_t *l;
	int i;

	for (i = 0; i < 80; i++) {
		snprintf(key, sizeof key, "default/many%d", i);
		assert_int_equal(store_k8s_ops.acquire(a, key, "many@box", holder, sizeof holder, NULL), ST_OK);
	}
	for (i = 0; i < 80; i++) {
		snprintf(key, sizeof key, "default/many%d", i);
		assert_int_equal(store_k8s_ops.renew(a, key), ST_OK);
	}
	assert_int_equal(store_k8s_ops.release(a, "default/many3"), ST_OK);
	assert_int_equal(store_k8s_ops.renew(a, "default/many3"), ST_LOCKED);
	store_k8s_close(a);
	for (i = 0; i < 80; i += 79) {
		snprintf(name, sizeof name, "perch-many%d", i);
		assert_int_equal(k8s_get(f->c, K8S_RES(LEASES), "default", name, &l, &e), ST_OK);
		assert_string_equal(json_string_value(json_object_get(json_object_get(l, "spec"),
		    "holderIdentity")), "");
		json_decref(l);
	}
}

/* Loads a's view of key until its weight is w, read from the watch's
 * cache (which catches up). */
static void
await_weight(struct store_k8s *a, const char *key, int w)
{
	struct k8s_informer_stats s0, s1;
	struct canary_status got;
	int i;

	for (i = 0; i < 100; i++) {
		memset(&got, 0, sizeof got);
		store_k8s_watch_stats(a, &s0);
		if (store_k8s_ops.load(a, key, &got, NULL) == ST_OK && got.canary_weight == w) {
			store_k8s_watch_stats(a, &s1);
			if (s1.hits > s0.hits)
				return;
		}
		usleep(50000);
	}
	fail_msg("%s never showed weight %d from the cache", key, w);
}

/* A controller's store with a watch of its namespace's ConfigMaps reads
 * the canaries another replica holds from the cache (no request however
 * often), and those it holds from the server. */
static void
test_watch_others(void **state)
{
	struct fx *f = *state;
	struct store_k8s *a = store_k8s_open(f->c, false, 0), *b = store_k8s_open(f->c, false, 0);
	struct canary_status st = { .phase = PHASE_PROGRESSING, .canary_weight = 30 }, got;
	struct k8s_informer_stats s0, s1;
	char holder[96];
	int i;

	assert_int_equal(store_k8s_ops.acquire(b, "default/other", "b@box", holder, sizeof holder, NULL), ST_OK);
	assert_int_equal(store_k8s_ops.save(b, "default/other", &st, NULL), ST_OK);
	assert_int_equal(store_k8s_watch_in(a, "default"), ST_OK);
	await_weight(a, "default/other", 30);
	store_k8s_watch_stats(a, &s0);
	for (i = 0; i < 20; i++)
		assert_int_equal(store_k8s_ops.load(a, "default/other", &got, NULL), ST_OK);
	store_k8s_watch_stats(a, &s1);
	assert_int_equal(s1.hits - s0.hits, 20);
	assert_int_equal(s1.misses, s0.misses);
	st.canary_weight = 40;
	assert_int_equal(store_k8s_ops.save(b, "default/other", &st, NULL), ST_OK);
	await_weight(a, "default/other", 40);

	/* What a holds it reads from the server, never from the cache. */
	assert_int_equal(store_k8s_ops.acquire(a, "default/mine", "a@box", holder, sizeof holder, NULL), ST_OK);
	assert_int_equal(store_k8s_ops.save(a, "default/mine", &st, NULL), ST_OK);
	store_k8s_watch_stats(a, &s0);
	assert_int_equal(store_k8s_ops.load(a, "default/mine", &got, NULL), ST_OK);
	assert_int_equal(got.canary_weight, 40);
	store_k8s_watch_stats(a, &s1);
	assert_int_equal(s1.hits, s0.hits);
	store_k8s_close(b);
	store_k8s_close(a);
}

static void
test_read_only_and_corrupt(void **state)
{
	struct fx *f = *state;
	struct k8s_config *rocfg;
	struct k8s_client *ro = new_client(f, true, &rocfg);
	struct store_k8s *s = store_k8s_open(f->c, false, 0), *w = store_k8s_open(ro, true, 0);
	struct canary_status st = { .phase = PHASE_SUCCEEDED }, got;
	char err[ERRMSG_MAX], holder[96];
	struct journal_rec rec = { .kind = REC_EVENT };
	struct k8s_err e;
	json_t *patch;
	int writes;

	assert_int_equal(store_k8s_ops.save(s, KEY, &st, err), ST_OK);
	writes = apiserver_audit_count(&f->srv, "PUT ") + apiserver_audit_count(&f->srv, "POST ") +
	    apiserver_audit_count(&f->srv, "PATCH ");
	assert_int_equal(store_k8s_ops.load(w, KEY, &got, err), ST_OK);
	assert_int_equal(got.phase, PHASE_SUCCEEDED);
	assert_int_equal(store_k8s_ops.save(w, KEY, &st, err), ST_REFUSED);
	assert_int_equal(store_k8s_ops.acquire(w, KEY, "eve@box", holder, sizeof holder, NULL), ST_REFUSED);
	snprintf(rec.canary, sizeof rec.canary, KEY);
	assert_int_equal(store_k8s_ops.append(w, &rec, NULL), ST_REFUSED);
	store_k8s_close(w);
	assert_int_equal(apiserver_audit_count(&f->srv, "PUT ") + apiserver_audit_count(&f->srv, "POST ") +
	    apiserver_audit_count(&f->srv, "PATCH "), writes);

	patch = json_pack("{s:{s:s}}", "data", "status", "{not json");
	assert_int_equal(k8s_patch(f->c, K8S_RES(CONFIGMAPS), "default", "perch-checkout", K8S_PATCH_MERGE, patch, NULL, &e), ST_OK);
	json_decref(patch);
	assert_int_equal(store_k8s_ops.load(s, KEY, &got, err), ST_CORRUPT);
	assert_non_null(strstr(err, "data.status is not JSON"));
	store_k8s_close(s);
	k8s_client_free(ro);
	k8s_config_free(rocfg);
}

static void
event(struct journal_rec *rec, const char *key, int i)
{
	memset(rec, 0, sizeof *rec);
	rec->time_ms = 1000 * (int64_t)i;
	snprintf(rec->canary, sizeof rec->canary, "%s", key);
	rec->kind = REC_EVENT;
	snprintf(rec->type, sizeof rec->type, "Normal");
	snprintf(rec->reason, sizeof rec->reason, "Synced");
	snprintf(rec->message, sizeof rec->message, "event %d", i);
}

static int
writes(struct fx *f)
{
	return apiserver_audit_count(&f->srv, "PUT ") + apiserver_audit_count(&f->srv, "POST ") +
	    apiserver_audit_count(&f->srv, "PATCH ");
}

/* The journal in segments: a tick's records in one merge patch, a status
 * save in one, the history bounded to JOURNAL_SEGS keys, an older perch's
 * single "journal" key read and folded in, a write that fails (503s, 409s)
 * kept and written later, and what is queued written at close. */
static void
test_journal_batches(void **state)
{
	struct fx *f = *state;
	struct store_k8s *s = store_k8s_open(f->c, false, 0);
	struct canary_status st = { .phase = PHASE_PROGRESSING };
	struct journal_rec rec, *tail = xcalloc(300, sizeof *tail);
	char err[ERRMSG_MAX], k[32];
	const char *key = "default/batched";
	struct k8s_err e;
	json_t *cm, *patch;
	int w, i, segs;
	size_t n;

	/* An older perch's journal: one key, a plain array. */
	assert_int_equal(store_k8s_ops.save(s, key, &st, err), ST_OK);
	patch = json_pack("{s:{s:s}}", "data", "journal",
	    "[{\"time\":\"1970-01-01T00:00:00Z\",\"canary\":\"default/batched\",\"type\":\"Normal\","
	    "\"reason\":\"Synced\",\"message\":\"legacy\",\"phase\":\"Progressing\",\"weight\":0,"
	    "\"failedChecks\":0,\"iteration\":0}]");
	assert_int_equal(k8s_patch(f->c, K8S_RES(CONFIGMAPS), "default", "perch-batched",
	    K8S_PATCH_MERGE, patch, NULL, &e), ST_OK);
	json_decref(patch);
	n = store_k8s_ops.tail(s, key, tail, 10);
	assert_int_equal(n, 1);
	assert_string_equal(tail[0].message, "legacy");

	/* One status save: one request. */
	w = writes(f);
	assert_int_equal(store_k8s_ops.save(s, key, &st, err), ST_OK);
	assert_int_equal(writes(f), w + 1);
	assert_int_equal(apiserver_audit_count(&f->srv, "GET /api/v1/namespaces/default/configmaps/perch-batched "), 1);

	/* A tick's records: one write. */
	w = writes(f);
	for (i = 0; i < 8; i++) {
		event(&rec, key, i);
		assert_int_equal(store_k8s_ops.append(s, &rec, NULL), ST_OK);
	}
	n = store_k8s_ops.tail(s, key, tail, 300);
	assert_int_equal(writes(f), w + 1);
	assert_int_equal(n, 9);
	assert_string_equal(tail[0].message, "legacy");
	assert_string_equal(tail[8].message, "event 7");

	/* Many more, in batches: bounded, the newest kept. */
	store_k8s_set_journal_max(s, 20);
	for (i = 8; i < 100; i++) {
		event(&rec, key, i);
		assert_int_equal(store_k8s_ops.append(s, &rec, NULL), ST_OK);
		if (i % 7 == 0)
			store_k8s_ops.tail(s, key, tail, 1);
	}
	n = store_k8s_ops.tail(s, key, tail, 300);
	assert_int_equal(n, 20);
	assert_string_equal(tail[0].message, "event 80");
	assert_string_equal(tail[19].message, "event 99");
	assert_int_equal(k8s_get(f->c, K8S_RES(CONFIGMAPS), "default", "perch-batched", &cm, &e), ST_OK);
	assert_null(json_object_get(json_object_get(cm, "data"), "journal"));	/* folded in */
	for (i = 0, segs = 0; i < 8; i++) {
		snprintf(k, sizeof k, "journal.%d", i);
		segs += json_object_get(json_object_get(cm, "data"), k) != NULL;
	}
	assert_int_equal(segs, 5);
	assert_non_null(json_object_get(json_object_get(cm, "data"), "status"));
	json_decref(cm);

	/* The API server fails the writes for a while: kept, written later. */
	assert_int_equal(apiserver_post(&f->srv, "/_test/faults", "{\"error_5xx\":6,\"conflict\":2,\"path\":\"perch-batched\",\"methods\":\"PATCH\"}"), 200);
	event(&rec, key, 100);
	assert_int_equal(store_k8s_ops.append(s, &rec, NULL), ST_OK);
	n = store_k8s_ops.tail(s, key, tail, 300);
	assert_int_equal(apiserver_post(&f->srv, "/_test/faults", "{\"error_5xx\":0,\"conflict\":0,\"path\":\"\"}"), 200);
	for (i = 0; i < 50 && (n == 0 || strcmp(tail[n - 1].message, "event 100") != 0); i++) {
		usleep(100000);
		n = store_k8s_ops.tail(s, key, tail, 300);
	}
	assert_string_equal(tail[n - 1].message, "event 100");
	assert_string_equal(tail[n - 2].message, "event 99");

	/* Queued at close: written before it returns. */
	event(&rec, key, 101);
	assert_int_equal(store_k8s_ops.append(s, &rec, NULL), ST_OK);
	store_k8s_close(s);
	s = store_k8s_open(f->c, true, 0);
	n = store_k8s_ops.tail(s, key, tail, 300);
	assert_string_equal(tail[n - 1].message, "event 101");
	store_k8s_close(s);
	free(tail);
}

/* A segment torn or garbled (by hand, or by a broken writer) costs its own
 * records only: the next writer starts from the newest sound segment and
 * the records after it are kept.  A write that fails is said by the next
 * append (its records kept and tried again). */
static void
test_journal_torn_segment(void **state)
{
	struct fx *f = *state;
	struct store_k8s *s = store_k8s_open(f->c, false, 0);
	struct canary_status st = { .phase = PHASE_PROGRESSING };
	struct journal_rec rec, *tail = xcalloc(64, sizeof *tail);
	const char *key = "default/torn";
	char err[ERRMSG_MAX];
	struct k8s_err e;
	json_t *patch;
	size_t n;
	int i;

	store_k8s_set_journal_max(s, 20);	/* segments of 5 */
	assert_int_equal(store_k8s_ops.save(s, key, &st, err), ST_OK);
	for (i = 0; i < 12; i++) {
		event(&rec, key, i);
		assert_int_equal(store_k8s_ops.append(s, &rec, NULL), ST_OK);
	}
	assert_int_equal(store_k8s_ops.tail(s, key, tail, 64), 12);
	store_k8s_close(s);
	patch = json_pack("{s:{s:s}}", "data", "journal.2", "{\"seq\":2,\"records\":[{\"time\":\"19");
	assert_int_equal(k8s_patch(f->c, K8S_RES(CONFIGMAPS), "default", "perch-torn",
	    K8S_PATCH_MERGE, patch, NULL, &e), ST_OK);
	json_decref(patch);
	s = store_k8s_open(f->c, false, 0);
	store_k8s_set_journal_max(s, 20);
	event(&rec, key, 12);
	assert_int_equal(store_k8s_ops.append(s, &rec, NULL), ST_OK);
	n = store_k8s_ops.tail(s, key, tail, 64);
	assert_int_equal(n, 11);		/* 0..9 and 12: 10 and 11 went with the segment */
	assert_string_equal(tail[9].message, "event 9");
	assert_string_equal(tail[10].message, "event 12");

	/* Writes fail: the next append says so. */
	assert_int_equal(apiserver_post(&f->srv, "/_test/faults", "{\"error_5xx\":1000,\"path\":\"perch-torn\",\"methods\":\"PATCH\"}"), 200);
	event(&rec, key, 13);
	assert_int_equal(store_k8s_ops.append(s, &rec, NULL), ST_OK);
	store_k8s_ops.tail(s, key, tail, 64);	/* waits for the write to be tried */
	event(&rec, key, 14);
	err[0] = '\0';
	assert_int_equal(store_k8s_ops.append(s, &rec, err), ST_AGAIN);	/* kept */
	assert_non_null(strstr(err, "configmap default/perch-torn: HTTP 503"));
	assert_int_equal(apiserver_post(&f->srv, "/_test/faults", "{\"error_5xx\":0,\"path\":\"\",\"methods\":\"\"}"), 200);
	for (i = 0; i < 50; i++) {
		n = store_k8s_ops.tail(s, key, tail, 64);
		if (n > 0 && strcmp(tail[n - 1].message, "event 14") == 0)
			break;
		usleep(100000);
	}
	assert_string_equal(tail[n - 1].message, "event 14");
	event(&rec, key, 15);
	assert_int_equal(store_k8s_ops.append(s, &rec, NULL), ST_OK);	/* written again */
	store_k8s_close(s);
	free(tail);
}

#define RKEY "default/steer"

/* A holder's pending requests, once its watch has the ConfigMap. */
static size_t
pending_of(struct store_k8s *s, struct cmd_request *rq, size_t want)
{
	size_t n = 0;
	int i;

	for (i = 0; i < 200 && (n = store_k8s_ops.pending(s, RKEY, rq, 4)) != want; i++)
		usleep(20000);
	return n;
}

/* Requests to the holder are applied exactly once: a request whose
 * acknowledgement was staged but not saved (the holder died before the
 * save) is pending again for the next holder; once saved with the status,
 * no later holder sees it; the requester reads the answer, and its next
 * request gets the next seq.  A read-only store writes none. */
static void
test_requests(void **state)
{
	struct fx *f = *state;
	struct store_k8s *a = store_k8s_open(f->c, false, 0), *b, *ro;
	struct cmd_request rq = { .kind = CMD_PROMOTE_STEP, .requester = "alice@box pid 7",
		.actor = "alice@box" }, got[4];
	struct canary_status st = { .phase = PHASE_PROGRESSING, .canary_weight = 10 }, back;
	struct cmd_ack ack = { .seq = 1, .requester = "alice@box pid 7", .result = "applying" }, ans;
	struct k8s_client *roc;
	struct k8s_config *rocfg;
	char holder[96], err[ERRMSG_MAX];
	int i;

	assert_int_equal(store_k8s_ops.acquire(a, RKEY, "ctl-a", holder, sizeof holder, NULL), ST_OK);
	assert_int_equal(store_k8s_ops.save(a, RKEY, &st, err), ST_OK);
	assert_int_equal(store_k8s_watch(a), ST_OK);
	assert_int_equal(store_k8s_ops.request(a, RKEY, &rq, err), ST_OK);
	assert_int_equal(rq.seq, 1);
	assert_int_equal(pending_of(a, got, 1), 1);
	assert_int_equal(got[0].seq, 1);
	assert_int_equal(got[0].kind, CMD_PROMOTE_STEP);
	assert_string_equal(got[0].actor, "alice@box");
	assert_true(got[0].age_ms >= 0 && got[0].age_ms < 10000);
	/* Staged: no longer pending here, but nothing written: a holder that
	 * dies now leaves it pending for the next one. */
	store_k8s_ops.ack(a, RKEY, &ack);
	assert_int_equal(store_k8s_ops.pending(a, RKEY, got, 4), 0);
	assert_int_equal(store_k8s_ops.answer(a, RKEY, "alice@box pid 7", &ans), ST_NOTFOUND);
	store_k8s_close(a);
	b = store_k8s_open(f->c, false, 0);
	assert_int_equal(store_k8s_ops.acquire(b, RKEY, "ctl-b", holder, sizeof holder, NULL), ST_OK);
	assert_int_equal(store_k8s_watch(b), ST_OK);
	assert_int_equal(pending_of(b, got, 1), 1);
	/* Applied by b: the ack rides the save of the status. */
	snprintf(ack.result, sizeof ack.result, "promote-step done");
	ack.applied = true;
	store_k8s_ops.ack(b, RKEY, &ack);
	st.canary_weight = 20;
	assert_int_equal(store_k8s_ops.save(b, RKEY, &st, err), ST_OK);
	for (i = 0; i < 200 && store_k8s_ops.answer(b, RKEY, "alice@box pid 7", &ans) != ST_OK; i++)
		usleep(20000);	/* the watch follows the save */
	assert_int_equal(ans.seq, 1);
	assert_non_null(strstr(ans.applied_by, "ctl-b pid "));
	assert_string_equal(ans.result, "promote-step done");
	assert_true(ans.applied);
	assert_int_equal(store_k8s_ops.load(b, RKEY, &back, err), ST_OK);
	assert_int_equal(back.canary_weight, 20);
	store_k8s_close(b);
	/* A restart: nothing pending; the next request is seq 2, and pending. */
	b = store_k8s_open(f->c, false, 0);
	assert_int_equal(store_k8s_ops.acquire(b, RKEY, "ctl-c", holder, sizeof holder, NULL), ST_OK);
	assert_int_equal(store_k8s_watch(b), ST_OK);
	assert_int_equal(pending_of(b, got, 0), 0);
	rq.seq = 0;
	assert_int_equal(store_k8s_ops.request(b, RKEY, &rq, err), ST_OK);
	assert_int_equal(rq.seq, 2);
	assert_int_equal(pending_of(b, got, 1), 1);
	assert_int_equal(got[0].seq, 2);
	store_k8s_close(b);
	/* A read-only store never writes one. */
	roc = new_client(f, true, &rocfg);
	ro = store_k8s_open(roc, true, 0);
	assert_int_equal(store_k8s_ops.request(ro, RKEY, &rq, err), ST_REFUSED);
	store_k8s_close(ro);
	k8s_client_free(roc);
	k8s_config_free(rocfg);
}

#define WKEY "default/wait"

/* Moves the time written in each request of WKEY's ConfigMap back by ms
 * (a request written that long ago). */
static void
backdate_requests(struct fx *f, json_int_t ms)
{
	json_t *cm = NULL, *patch = json_pack("{s:{}}", "data"), *j, *v;
	struct k8s_err e;
	const char *k;
	char *text;

	assert_int_equal(k8s_get(f->c, K8S_RES(CONFIGMAPS), "default", "perch-wait", &cm, &e), ST_OK);
	json_object_foreach(json_object_get(cm, "data"), k, v) {
		if (strncmp(k, "request.", 8) != 0)
			continue;
		j = json_loads(json_string_value(v), 0, NULL);
		json_object_set_new(j, "timeMs",
		    json_integer(json_integer_value(json_object_get(j, "timeMs")) - ms));
		text = json_dumps(j, JSON_COMPACT);
		json_object_set_new(json_object_get(patch, "data"), k, json_string(text));
		free(text);
		json_decref(j);
	}
	assert_int_equal(k8s_patch(f->c, K8S_RES(CONFIGMAPS), "default", "perch-wait",
	    K8S_PATCH_MERGE, patch, NULL, &e), ST_OK);
	json_decref(patch);
	json_decref(cm);
}

/* How long a request has waited is one number for its requester and its
 * holder: the wall-clock age of the time written in the request.  Fresh,
 * the answer says it has waited under a second (none yet); written 25 s
 * ago, both the requester's answer and the holder's pending say so. */
static void
test_request_wait(void **state)
{
	struct fx *f = *state;
	struct store_k8s *h = store_k8s_open(f->c, false, 0), *q = store_k8s_open(f->c, false, 0);
	struct cmd_request rq = { .kind = CMD_PAUSE, .requester = "bob@lap pid 9", .actor = "bob" };
	struct canary_status st = { .phase = PHASE_PROGRESSING, .canary_weight = 10 };
	struct cmd_request got[4];
	struct cmd_ack ans;
	char holder[96], err[ERRMSG_MAX];
	int i;

	assert_int_equal(store_k8s_ops.acquire(h, WKEY, "ctl-a", holder, sizeof holder, NULL), ST_OK);
	assert_int_equal(store_k8s_ops.save(h, WKEY, &st, err), ST_OK);
	assert_int_equal(store_k8s_watch(h), ST_OK);
	assert_int_equal(store_k8s_ops.answer(q, WKEY, "bob@lap pid 9", &ans), ST_NOTFOUND);
	assert_int_equal(ans.wait_ms, -1);	/* nothing asked yet */
	assert_int_equal(store_k8s_ops.request(q, WKEY, &rq, err), ST_OK);
	assert_int_equal(store_k8s_ops.answer(q, WKEY, "bob@lap pid 9", &ans), ST_NOTFOUND);
	assert_true(ans.wait_ms >= 0 && ans.wait_ms < 1000);
	backdate_requests(f, 25000);
	assert_int_equal(store_k8s_ops.answer(q, WKEY, "bob@lap pid 9", &ans), ST_NOTFOUND);
	assert_true(ans.wait_ms >= 25000 && ans.wait_ms < 26000);
	/* The holder's watch follows the patch. */
	for (i = 0; i < 200 && (store_k8s_ops.pending(h, WKEY, got, 4) != 1 ||
	    got[0].age_ms < 25000); i++)
		usleep(20000);
	assert_true(got[0].age_ms >= 25000 && got[0].age_ms < 26000);
	store_k8s_close(q);
	store_k8s_close(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_spec_journal),
		cmocka_unit_test(test_journal_batches),
		cmocka_unit_test(test_journal_torn_segment),
		cmocka_unit_test(test_lease),
		cmocka_unit_test(test_many_leases),
		cmocka_unit_test(test_canary_status_async),
		cmocka_unit_test(test_watch_others),
		cmocka_unit_test(test_read_only_and_corrupt),
		cmocka_unit_test(test_requests),
		cmocka_unit_test(test_request_wait),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
