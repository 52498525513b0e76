/* test_rest.c — the Kubernetes REST client: Status answers from JSON
 * fixtures, then every verb against the test API server (tests/k8s/
 * apiserver.py, real HTTP and TLS on 127.0.0.1): 404/409/422, conflict
 * retries, 5xx backoff, timeouts, capped answers, a read-only client, a
 * server that is down, and watches that survive dropped streams and 410. */
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
#include <unistd.h>

#include "helper_apiserver.h"
#include "k8s/kubeconfig.h"
#include "k8s/rest.h"
#include "util/buf.h"
#include "util/status.h"

#define A "tests/data/k8s/answers/"

struct answer_case {
	const char *file;
	int http, st;
	const char *reason, *msg;
};

static const struct answer_case answer_cases[] = {
	{ A "status-404.json", 404, ST_NOTFOUND, "NotFound", "deployments.apps \"checkout\" not found" },
	{ A "status-409.json", 409, ST_CONFLICT, "Conflict", "the object has been modified" },
	{ A "status-403.json", 403, ST_AUTH, "Forbidden", "cannot patch resource \"deployments\"" },
	{ A "status-422-escapes.json", 422, ST_INVALID, "Invalid", "bad red news" },
	{ A "proxy-502.html", 502, ST_HTTP, "", "HTTP 502" },
};

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p = calloc(1, 65536);

	assert_non_null(f);
	*len = fread(p, 1, 65535, f);
	fclose(f);
	return p;
}

static void
test_status_answers(void **state)
{
	struct k8s_err e;
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof answer_cases / sizeof answer_cases[0]; i++) {
		const struct answer_case *t = &answer_cases[i];
		char *body = slurp(t->file, &len);

		assert_int_equal(k8s_status_from_answer(t->http, body, len, &e), t->st);
		assert_int_equal(e.http, t->http);
		assert_string_equal(e.reason, t->reason);
		if (!strstr(e.msg, t->msg))
			fail_msg("%s: '%s' lacks '%s'", t->file, e.msg, t->msg);
		assert_null(strchr(e.msg, '\033'));
		free(body);
	}
	assert_int_equal(k8s_status_from_answer(200, "{}", 2, &e), ST_OK);
}

/* ---- against the test API server ------------------------------------------ */

struct fixture {
	struct apiserver srv;
	struct k8s_config *cfg;
	struct k8s_client *c;
};

static struct k8s_client *
client(struct fixture *f, const char *context, const struct k8s_client_opts *o,
    struct k8s_config **cfg)
{
	struct kubeconfig_opts ko = { .path = f->srv.kubeconfig, .context = context };
	struct k8s_client *c;
	struct buf err;

	buf_init(&err, 512);
	if (k8s_config_load(&ko, cfg, &err) != ST_OK)
		fail_msg("kubeconfig: %s", buf_str(&err));
	assert_int_equal(k8s_client_new(*cfg, o, &c, &err), ST_OK);
	buf_fini(&err);
	return c;
}

static int
setup(void **state)
{
	static const char *const args[] = { "--ready-delay", "0", NULL };
	static const struct k8s_client_opts o = { .backoff_ms = 20, .timeout_ms = 5000 };
	struct fixture *f = calloc(1, sizeof *f);

	if (apiserver_start(&f->srv, args) != 0) {
		free(f);
		return -1;
	}
	f->c = client(f, NULL, &o, &f->cfg);
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
cm(const char *name, const char *value)
{
	return json_pack("{s:s, s:s, s:{s:s, s:{s:s}}, s:{s:s}}", "apiVersion", "v1", "kind",
	    "ConfigMap", "metadata", "name", name, "labels", "app", "checkout", "data", "k", value);
}

static const char *
data_k(json_t *obj)
{
	return json_string_value(json_object_get(json_object_get(obj, "data"), "k"));
}

static void
test_verbs(void **state)
{
	struct fixture *f = *state;
	const struct k8s_res *r = K8S_RES(CONFIGMAPS);
	json_t *o = cm("verbs", "1"), *got, *p;
	struct k8s_err e;

	assert_int_equal(k8s_create(f->c, r, "default", o, &got, &e), ST_OK);
	assert_non_null(json_string_value(json_object_get(json_object_get(got, "metadata"), "uid")));
	json_decref(got);
	assert_int_equal(k8s_create(f->c, r, "default", o, NULL, &e), ST_CONFLICT);
	assert_string_equal(e.reason, "AlreadyExists");
	json_decref(o);

	assert_int_equal(k8s_get(f->c, r, "default", "verbs", &got, &e), ST_OK);
	assert_string_equal(data_k(got), "1");
	/* A stale resourceVersion is a conflict. */
	json_object_set_new(json_object_get(got, "data"), "k", json_string("2"));
	assert_int_equal(k8s_update(f->c, r, "default", got, NULL, &e), ST_OK);
	json_object_set_new(json_object_get(got, "data"), "k", json_string("3"));
	assert_int_equal(k8s_update(f->c, r, "default", got, NULL, &e), ST_CONFLICT);
	assert_int_equal(e.http, 409);
	json_decref(got);

	p = json_pack("{s:{s:s}}", "data", "k", "merged");
	assert_int_equal(k8s_patch(f->c, r, "default", "verbs", K8S_PATCH_MERGE, p, &got, &e), ST_OK);
	assert_string_equal(data_k(got), "merged");
	json_decref(got);
	json_decref(p);
	p = json_pack("[{s:s, s:s, s:s}]", "op", "replace", "path", "/data/k", "value", "json");
	assert_int_equal(k8s_patch(f->c, r, "default", "verbs", K8S_PATCH_JSON, p, &got, &e), ST_OK);
	assert_string_equal(data_k(got), "json");
	json_decref(got);
	json_decref(p);
	p = json_pack("[{s:s, s:s}]", "op", "remove", "path", "/data/nothing");
	assert_int_equal(k8s_patch(f->c, r, "default", "verbs", K8S_PATCH_JSON, p, NULL, &e), ST_INVALID);
	assert_int_equal(e.http, 422);
	json_decref(p);

	assert_int_equal(k8s_list(f->c, r, "default", "app=checkout", &got, &e), ST_OK);
	assert_int_equal(json_array_size(json_object_get(got, "items")), 1);
	json_decref(got);
	assert_int_equal(k8s_list(f->c, r, "default", "app in (other)", &got, &e), ST_OK);
	assert_int_equal(json_array_size(json_object_get(got, "items")), 0);
	json_decref(got);

	assert_int_equal(k8s_delete(f->c, r, "default", "verbs", &e), ST_OK);
	assert_int_equal(k8s_get(f->c, r, "default", "verbs", &got, &e), ST_NOTFOUND);
	assert_string_equal(e.msg, "configmaps \"verbs\" not found");
	assert_null(got);
	assert_int_equal(k8s_get(f->c, r, "default", "../etc", &got, &e), ST_INVALID);
}

static int
bump(json_t *obj, void *arg)
{
	int *calls = arg;

	(*calls)++;
	json_object_set_new(json_object_get(obj, "data"), "k", json_sprintf("%d", *calls));
	return ST_OK;
}

static void
test_conflict_retries(void **state)
{
	struct fixture *f = *state;
	const struct k8s_res *r = K8S_RES(CONFIGMAPS);
	json_t *o = cm("busy", "0"), *got;
	struct k8s_err e;
	int calls = 0;

	assert_int_equal(k8s_create(f->c, r, "default", o, NULL, &e), ST_OK);
	json_decref(o);
	/* Two 409s, then the write goes through: re-read each time. */
	assert_int_equal(apiserver_post(&f->srv, "/_test/faults", "{\"conflict\":2,\"path\":\"busy\"}"), 200);
	assert_int_equal(k8s_modify(f->c, r, "default", "busy", bump, &calls, &got, &e), ST_OK);
	assert_int_equal(calls, 3);
	assert_string_equal(data_k(got), "3");
	json_decref(got);
	/* A storm of 409s: bounded attempts, then the conflict is reported. */
	calls = 0;
	assert_int_equal(apiserver_post(&f->srv, "/_test/faults", "{\"conflict\":50,\"path\":\"busy\"}"), 200);
	assert_int_equal(k8s_modify(f->c, r, "default", "busy", bump, &calls, NULL, &e), ST_CONFLICT);
	assert_int_equal(calls, 5);
	assert_int_equal(apiserver_post(&f->srv, "/_test/faults", "{\"conflict\":0,\"path\":\"\"}"), 200);
	/* The object is intact: the last successful write. */
	assert_int_equal(k8s_get(f->c, r, "default", "busy", &got, &e), ST_OK);
	assert_string_equal(data_k(got), "3");
	json_decref(got);
}

static void
test_5xx_backoff(void **state)
{
	struct fixture *f = *state;
	struct k8s_counters n0, n1;
	struct k8s_err e;
	json_t *got;

	k8s_client_counters(f->c, &n0);
	assert_int_equal(apiserver_post(&f->srv, "/_test/faults", "{\"error_5xx\":2,\"path\":\"namespaces/default$\"}"), 200);
	assert_int_equal(k8s_get(f->c, K8S_RES(NAMESPACES), NULL, "default", &got, &e), ST_OK);
	json_decref(got);
	k8s_client_counters(f->c, &n1);
	assert_int_equal(n1.retries - n0.retries, 2);
	/* More failures than retries: the last answer is reported. */
	assert_int_equal(apiserver_post(&f->srv, "/_test/faults", "{\"error_5xx\":20,\"path\":\"namespaces/default$\"}"), 200);
	assert_int_equal(k8s_get(f->c, K8S_RES(NAMESPACES), NULL, "default", &got, &e), ST_HTTP);
	assert_int_equal(e.http, 503);
	assert_non_null(strstr(e.msg, "injected fault"));
	assert_int_equal(apiserver_post(&f->srv, "/_test/faults", "{\"error_5xx\":0,\"path\":\"\"}"), 200);
	/* A dropped connection is retried too. */
	assert_int_equal(apiserver_post(&f->srv, "/_test/faults", "{\"drop\":1,\"path\":\"namespaces/default$\"}"), 200);
	assert_int_equal(k8s_get(f->c, K8S_RES(NAMESPACES), NULL, "default", &got, &e), ST_OK);
	json_decref(got);
	assert_int_equal(apiserver_post(&f->srv, "/_test/faults", "{\"path\":\"\"}"), 200);
}

static void
test_timeout_and_cap(void **state)
{
	struct fixture *f = *state;
	static const struct k8s_client_opts slow = { .timeout_ms = 300, .retries = -1 };
	static const struct k8s_client_opts tiny = { .max_response = 64, .retries = -1 };
	struct k8s_config *cfg;
	struct k8s_client *c;
	struct k8s_err e;
	json_t *got;

	c = client(f, NULL, &slow, &cfg);
	assert_int_equal(apiserver_post(&f->srv, "/_test/faults", "{\"latency_ms\":1000,\"path\":\"kube-system\"}"), 200);
	assert_int_equal(k8s_get(c, K8S_RES(NAMESPACES), NULL, "kube-system", &got, &e), ST_TIMEOUT);
	assert_int_equal(apiserver_post(&f->srv, "/_test/faults", "{\"latency_ms\":0,\"path\":\"\"}"), 200);
	k8s_client_free(c);
	k8s_config_free(cfg);

	c = client(f, NULL, &tiny, &cfg);
	assert_int_equal(k8s_list(c, K8S_RES(NAMESPACES), NULL, NULL, &got, &e), ST_TOOBIG);
	assert_null(got);
	k8s_client_free(c);
	k8s_config_free(cfg);
}

static void
test_read_only(void **state)
{
	struct fixture *f = *state;
	static const struct k8s_client_opts ro = { .read_only = true };
	struct k8s_config *cfg;
	struct k8s_client *c;
	struct k8s_err e;
	json_t *o = cm("ro", "1"), *got;
	int before = apiserver_audit_count(&f->srv, "POST ");

	/* A read-only client refuses before sending anything. */
	c = client(f, NULL, &ro, &cfg);
	assert_int_equal(k8s_create(c, K8S_RES(CONFIGMAPS), "default", o, NULL, &e), ST_REFUSED);
	assert_int_equal(k8s_get(c, K8S_RES(NAMESPACES), NULL, "default", &got, &e), ST_OK);
	json_decref(got);
	assert_int_equal(apiserver_audit_count(&f->srv, "POST "), before);
	k8s_client_free(c);
	k8s_config_free(cfg);
	/* The ro identity is refused by the server: 403. */
	c = client(f, "ro", NULL, &cfg);
	assert_int_equal(k8s_create(c, K8S_RES(CONFIGMAPS), "default", o, NULL, &e), ST_AUTH);
	assert_int_equal(e.http, 403);
	k8s_client_free(c);
	k8s_config_free(cfg);
	json_decref(o);
}

static void
test_server_down(void **state)
{
	static const char text[] = "clusters:\n- name: c\n  cluster: {server: 'http://127.0.0.1:1'}\n"
	    "users:\n- name: u\n  user: {token: t}\n"
	    "contexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n";
	static const struct k8s_client_opts o = { .retries = 2, .backoff_ms = 10 };
	struct k8s_config *cfg;
	struct k8s_client *c;
	struct k8s_err e;
	struct buf err;
	json_t *got;

	(void)state;
	buf_init(&err, 256);
	assert_int_equal(k8s_config_parse("down", text, sizeof text - 1, NULL, &cfg, &err), ST_OK);
	assert_int_equal(k8s_client_new(cfg, &o, &c, &err), ST_OK);
	assert_int_equal(k8s_get(c, K8S_RES(NAMESPACES), NULL, "default", &got, &e), ST_NETWORK);
	assert_int_equal(e.http, 0);
	assert_non_null(strstr(e.msg, "127.0.0.1:1"));
	k8s_client_free(c);
	k8s_config_free(cfg);
	buf_fini(&err);
}

/* ---- watch ---------------------------------------------------------------- */

struct seen {
	pthread_mutex_t lock;
	char log[4096];
	int relists;
	atomic_bool stop;
};

static bool
on_event(const char *type, json_t *obj, void *arg)
{
	struct seen *s = arg;
	const char *name = json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
	size_t n;

	pthread_mutex_lock(&s->lock);
	n = strlen(s->log);
	if (strcmp(type, "RELISTED") == 0)
		s->relists++;
	else
		snprintf(s->log + n, sizeof s->log - n, "%s:%s=%s ", type, name ? name : "?",
		    data_k(obj) ? data_k(obj) : "");
	pthread_mutex_unlock(&s->lock);
	return true;
}

struct watch_run {
	struct k8s_client *c;
	struct seen *s;
	int st;
};

static void *
watcher(void *arg)
{
	struct watch_run *w = arg;
	struct k8s_err e;

	w->st = k8s_watch(w->c, K8S_RES(CONFIGMAPS), "watched", NULL, NULL, on_event, w->s,
	    &w->s->stop, &e);
	return NULL;
}

static bool
wait_log(struct seen *s, const char *needle)
{
	int i;
	bool found = false;

	for (i = 0; i < 100 && !found; i++) {
		pthread_mutex_lock(&s->lock);
		found = strstr(s->log, needle) != NULL;
		pthread_mutex_unlock(&s->lock);
		if (!found)
			usleep(50000);
	}
	return found;
}

static bool
wait_relists(struct seen *s, int want)
{
	int i, n = 0;

	for (i = 0; i < 100 && n < want; i++) {
		pthread_mutex_lock(&s->lock);
		n = s->relists;
		pthread_mutex_unlock(&s->lock);
		if (n < want)
			usleep(50000);
	}
	return n == want;
}

static void
set_k(struct fixture *f, const char *name, const char *v)
{
	json_t *p = json_pack("{s:{s:s}}", "data", "k", v);
	struct k8s_err e;

	assert_int_equal(k8s_patch(f->c, K8S_RES(CONFIGMAPS), "watched", name, K8S_PATCH_MERGE, p,
	    NULL, &e), ST_OK);
	json_decref(p);
}

static void
test_watch(void **state)
{
	struct fixture *f = *state;
	struct seen s = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct watch_run w = { .c = f->c, .s = &s };
	json_t *ns = json_pack("{s:{s:s}}", "metadata", "name", "watched"), *o = cm("w", "0");
	struct k8s_err e;
	pthread_t t;

	assert_int_equal(k8s_create(f->c, K8S_RES(NAMESPACES), NULL, ns, NULL, &e), ST_OK);
	assert_int_equal(k8s_create(f->c, K8S_RES(CONFIGMAPS), "watched", o, NULL, &e), ST_OK);
	pthread_create(&t, NULL, watcher, &w);
	assert_true(wait_log(&s, "SYNC:w=0"));
	set_k(f, "w", "1");
	assert_true(wait_log(&s, "MODIFIED:w=1"));
	/* The stream is cut: the watch resumes from its resourceVersion, no relist. */
	assert_int_equal(apiserver_post(&f->srv, "/_test/faults", "{\"drop\":1,\"path\":\"watched/configmaps$\"}"), 200);
	set_k(f, "w", "2");
	assert_true(wait_log(&s, "MODIFIED:w=2"));
	set_k(f, "w", "3");
	assert_true(wait_log(&s, "MODIFIED:w=3"));
	assert_true(wait_relists(&s, 1));
	/* The history is compacted and the stream cut: 410, relist, go on. */
	assert_int_equal(apiserver_post(&f->srv, "/_test/compact", "{}"), 200);
	assert_int_equal(apiserver_post(&f->srv, "/_test/faults", "{\"drop\":1,\"path\":\"watched/configmaps$\"}"), 200);
	set_k(f, "w", "4");
	assert_true(wait_log(&s, "w=4"));
	assert_true(wait_relists(&s, 2));
	set_k(f, "w", "5");
	assert_true(wait_log(&s, "MODIFIED:w=5"));
	atomic_store(&s.stop, true);
	pthread_join(t, NULL);
	assert_int_equal(w.st, ST_OK);
	assert_int_equal(apiserver_post(&f->srv, "/_test/faults", "{\"drop\":0,\"path\":\"\"}"), 200);
	json_decref(ns);
	json_decref(o);
}

static char *
b64_file(const char *path)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n, i, o = 0;
	char *in = slurp(path, &n), *out = calloc(1, n / 3 * 4 + 8);
	unsigned v;

	for (i = 0; i < n; i += 3) {
		v = (unsigned char)in[i] << 16 | (i + 1 < n ? (unsigned char)in[i + 1] << 8 : 0) |
		    (i + 2 < n ? (unsigned char)in[i + 2] : 0);
		out[o++] = tab[v >> 18 & 63];
		out[o++] = tab[v >> 12 & 63];
		out[o++] = i + 1 < n ? tab[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? tab[v & 63] : '=';
	}
	free(in);
	return out;
}

/* A client over the kubeconfig text `user` (the YAML of one user entry). */
static int
tls_get(struct apiserver *srv, const char *tlsdir, const char *user, bool write, struct k8s_err *e)
{
	char text[16384];
	struct k8s_config *cfg;
	struct k8s_client *c;
	struct buf err;
	json_t *got = NULL, *o;
	int st;

	snprintf(text, sizeof text, "clusters:\n- name: t\n  cluster:\n    server: %s\n"
	    "    certificate-authority: %s/ca.crt\nusers:\n- name: u\n  user:\n%s"
	    "contexts:\n- name: x\n  context: {cluster: t, user: u}\ncurrent-context: x\n",
	    srv->url, tlsdir, user);
	buf_init(&err, 512);
	if (k8s_config_parse("tls", text, strlen(text), NULL, &cfg, &err) != ST_OK)
		fail_msg("kubeconfig: %s", buf_str(&err));
	assert_int_equal(k8s_client_new(cfg, NULL, &c, &err), ST_OK);
	if (write) {
		o = cm("from-cert", "1");
		st = k8s_create(c, K8S_RES(CONFIGMAPS), "default", o, NULL, e);
		json_decref(o);
	} else {
		st = k8s_get(c, K8S_RES(NAMESPACES), NULL, "default", &got, e);
	}
	json_decref(got);
	k8s_client_free(c);
	k8s_config_free(cfg);
	buf_fini(&err);
	return st;
}

static void
test_tls(void **state)
{
	struct apiserver srv;
	char tlsdir[128], user[12000], path[256], *crt, *key, cwd[200];
	const char *args[] = { "--tls-dir", tlsdir, "--token-rw", "exec-token-x", NULL };
	struct fixture f;
	struct k8s_config *cfg;
	struct k8s_client *c;
	struct k8s_err e;
	json_t *got;

	(void)state;
	snprintf(tlsdir, sizeof tlsdir, "/tmp/perch-tls-%d", (int)getpid());
	assert_int_equal(apiserver_start(&srv, args), 0);
	assert_non_null(strstr(srv.url, "https://127.0.0.1:"));
	f.srv = srv;
	c = client(&f, NULL, NULL, &cfg);
	assert_int_equal(k8s_get(c, K8S_RES(NAMESPACES), NULL, "default", &got, &e), ST_OK);
	json_decref(got);
	k8s_client_free(c);
	/* Without the CA the certificate is not trusted. */
	free(cfg->ca_data);
	cfg->ca_data = NULL;
	cfg->ca_file = strdup("/dev/null");
	assert_int_equal(k8s_client_new(cfg, NULL, &c, NULL), ST_OK);
	assert_int_equal(k8s_get(c, K8S_RES(NAMESPACES), NULL, "default", &got, &e), ST_NETWORK);
	k8s_client_free(c);
	/* tls-server-name: addressed as localhost (in the certificate), connected to 127.0.0.1. */
	k8s_config_free(cfg);
	c = client(&f, NULL, NULL, &cfg);
	k8s_client_free(c);
	cfg->tls_server_name = strdup("localhost");
	assert_int_equal(k8s_client_new(cfg, NULL, &c, NULL), ST_OK);
	assert_int_equal(k8s_get(c, K8S_RES(NAMESPACES), NULL, "default", &got, &e), ST_OK);
	json_decref(got);
	k8s_client_free(c);
	k8s_config_free(cfg);

	/* Client certificates: files (rw) and -data (ro). */
	snprintf(user, sizeof user, "    client-certificate: %s/rw.crt\n    client-key: %s/rw.key\n",
	    tlsdir, tlsdir);
	assert_int_equal(tls_get(&srv, tlsdir, user, true, &e), ST_OK);
	snprintf(path, sizeof path, "%s/ro.crt", tlsdir);
	crt = b64_file(path);
	snprintf(path, sizeof path, "%s/ro.key", tlsdir);
	key = b64_file(path);
	snprintf(user, sizeof user, "    client-certificate-data: %s\n    client-key-data: %s\n", crt, key);
	free(crt);
	free(key);
	assert_int_equal(tls_get(&srv, tlsdir, user, false, &e), ST_OK);
	assert_int_equal(tls_get(&srv, tlsdir, user, true, &e), ST_AUTH);
	assert_int_equal(e.http, 403);
	/* insecure-skip-tls-verify without the CA. */
	{
		char text[1024];
		struct buf err;

		snprintf(text, sizeof text, "clusters:\n- name: t\n  cluster: {server: '%s', "
		    "insecure-skip-tls-verify: true}\nusers:\n- name: u\n  user: {token: exec-token-x}\n"
		    "contexts:\n- name: x\n  context: {cluster: t, user: u}\ncurrent-context: x\n", srv.url);
		buf_init(&err, 256);
		assert_int_equal(k8s_config_parse("insecure", text, strlen(text), NULL, &cfg, &err), ST_OK);
		assert_int_equal(k8s_client_new(cfg, NULL, &c, &err), ST_OK);
		assert_int_equal(k8s_get(c, K8S_RES(NAMESPACES), NULL, "default", &got, &e), ST_OK);
		json_decref(got);
		k8s_client_free(c);
		k8s_config_free(cfg);
		buf_fini(&err);
	}
	/* No credentials at all: 401. */
	assert_int_equal(tls_get(&srv, tlsdir, "    {}\n", false, &e), ST_AUTH);
	assert_int_equal(e.http, 401);
	/* An exec plugin whose token is the read-write one. */
	assert_non_null(getcwd(cwd, sizeof cwd));
	snprintf(user, sizeof user, "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n"
	    "      command: %s/tests/data/k8s/exec-plugin.sh\n      args: [token, v1]\n", cwd);
	assert_int_equal(tls_get(&srv, tlsdir, user, false, &e), ST_OK);
	assert_int_equal(apiserver_audit_count(&srv, "GET /api/v1/namespaces/default rw 200"), 4);
	assert_int_equal(apiserver_audit_count(&srv, "POST /api/v1/namespaces/default/configmaps rw 201"), 1);
	assert_int_equal(apiserver_audit_count(&srv, "GET /api/v1/namespaces/default ro 200"), 1);

	apiserver_stop(&srv);
	{
		char cmd[160];

		snprintf(cmd, sizeof cmd, "rm -rf /tmp/perch-tls-%d", (int)getpid());
		assert_int_equal(system(cmd), 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_answers),
		cmocka_unit_test(test_verbs),
		cmocka_unit_test(test_conflict_retries),
		cmocka_unit_test(test_5xx_backoff),
		cmocka_unit_test(test_timeout_and_cap),
		cmocka_unit_test(test_read_only),
		cmocka_unit_test(test_server_down),
		cmocka_unit_test(test_watch),
		cmocka_unit_test(test_tls),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
