/* test_prom_service.c — the default Prometheus through the API server's
 * service proxy (app/prom_service.h), against a scripted HTTP server that
 * stands for the API server: the queries go to
 * /api/v1/namespaces/NS/services/NAME:PORT/proxy/api/v1/query with the
 * kubeconfig's bearer token, and a token file rotated while perch runs is
 * read again: the next batch presents the new token (the old one never
 * again).  Against the test API server over TLS, with its service proxy in
 * front of that scripted Prometheus, the kubeconfig's client certificate
 * and key files rotated while perch runs (ro's replaced by rw's) are read
 * again: the next batch is rw's, though the old connection could be kept.
 * Also the checks of NS/NAME:PORT. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/prom_service.h"
#include "k8s/rest.h"
#include "metrics/prom.h"
#include "tests/unit/helper_apiserver.h"
#include "tests/unit/helper_httpd.h"
#include "util/buf.h"
#include "util/status.h"

static const struct httpd_rule rules[] = {
	{ "/api/v1/query", 200,
	  "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":"
	  "[{\"metric\":{},\"value\":[1700000000,\"99.5\"]}]}}", 0, 0, false, false },
};

static void
write_token(const char *path, const char *tok)
{
	char tmp[300];
	FILE *f;

	/* replaced as the kubelet rotates a projected token: a new file */
	snprintf(tmp, sizeof tmp, "%s.new", path);
	f = fopen(tmp, "w");
	assert_non_null(f);
	fprintf(f, "%s\n", tok);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(rename(tmp, path), 0);
}

/* One query through the default server; returns its request. */
static char *
query_once(struct metric_backends *mb, struct httpd *h)
{
	struct prom *p = metric_backends_handle(mb, NULL);
	struct prom_req rq = { NULL, "up", 0 };
	struct prom_res res;
	size_t n = httpd_count(h);

	prom_query_batch(p, &rq, 1, &res);
	assert_int_equal(res.status, ST_OK);
	assert_int_equal(httpd_count(h), n + 1);
	return httpd_request(h, n);
}

static void
test_token_file_rotates(void **state)
{
	struct httpd *h = httpd_start(rules, 1);
	const char *tmp = getenv("TMPDIR");
	char dir[256], tokpath[300], url[64], *text, *req;
	struct metric_backends *mb = metric_backends_new(&(struct metric_backend_opts){ 0 });
	struct k8s_config *kc;
	struct buf err;
	char why[256];
	int len;

	(void)state;
	snprintf(dir, sizeof dir, "%s/perch-promsvc.XXXXXX", tmp != NULL && tmp[0] ? tmp : "/tmp");
	assert_non_null(mkdtemp(dir));
	snprintf(tokpath, sizeof tokpath, "%s/token", dir);
	write_token(tokpath, "token-one");
	httpd_url(h, url, sizeof url);
	len = asprintf(&text, "clusters:\n- name: c\n  cluster: {server: '%s'}\n"
	    "users:\n- name: u\n  user: {tokenFile: '%s'}\n"
	    "contexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n",
	    url, tokpath);
	assert_true(len > 0);
	buf_init(&err, 512);
	assert_int_equal(k8s_config_parse("mem", text, (size_t)len, NULL, &kc, &err), ST_OK);
	assert_int_equal(prom_service_use(mb, kc, "monitoring/prometheus:9090", why, sizeof why),
	    ST_OK);

	req = query_once(mb, h);
	assert_non_null(strstr(req, "GET /api/v1/namespaces/monitoring/services/prometheus:9090"
	    "/proxy/api/v1/query?query=up "));
	assert_non_null(strstr(req, "Authorization: Bearer token-one\r\n"));
	free(req);
	/* The token rotates: the next batch presents the new one. */
	write_token(tokpath, "token-two");
	req = query_once(mb, h);
	assert_non_null(strstr(req, "Authorization: Bearer token-two\r\n"));
	assert_null(strstr(req, "token-one"));
	free(req);
	/* A token file that cannot be read keeps the last token. */
	assert_int_equal(unlink(tokpath), 0);
	req = query_once(mb, h);
	assert_non_null(strstr(req, "Authorization: Bearer token-two\r\n"));
	free(req);

	metric_backends_free(mb);
	k8s_config_free(kc);
	buf_fini(&err);
	free(text);
	httpd_stop(h);
	assert_int_equal(rmdir(dir), 0);
}

/* dir/cur.crt and dir/cur.key become the test API server's certificate
 * and key of user (rw or ro, from tls), each written anew and renamed into
 * place. */
static void
use_cert(const char *tls, const char *dir, const char *user)
{
	char cmd[800];

	snprintf(cmd, sizeof cmd, "cp %s/%s.crt %s/cur.crt.new && cp %s/%s.key %s/cur.key.new && "
	    "mv %s/cur.crt.new %s/cur.crt && mv %s/cur.key.new %s/cur.key",
	    tls, user, dir, tls, user, dir, dir, dir, dir, dir);
	assert_int_equal(system(cmd), 0);
}

/* The Service default/prometheus, created with the server's rw token. */
static void
create_service(struct apiserver *srv)
{
	struct kubeconfig_opts o = { .path = srv->kubeconfig, .context = "rw" };
	json_t *svc = json_pack("{s:s,s:s,s:{s:s},s:{s:[{s:i}]}}", "apiVersion", "v1",
	    "kind", "Service", "metadata", "name", "prometheus", "spec", "ports", "port", 9090);
	struct k8s_config *cfg;
	struct k8s_client *c;
	struct k8s_err e;
	struct buf err;

	buf_init(&err, 512);
	assert_int_equal(k8s_config_load(&o, &cfg, &err), ST_OK);
	assert_int_equal(k8s_client_new(cfg, NULL, &c, &err), ST_OK);
	assert_int_equal(k8s_create(c, K8S_RES(SERVICES), "default", svc, NULL, &e), ST_OK);
	k8s_client_free(c);
	k8s_config_free(cfg);
	json_decref(svc);
	buf_fini(&err);
}

static void
test_client_cert_rotates(void **state)
{
	struct httpd *h = httpd_start(rules, 1);
	struct apiserver srv;
	char tls[100], proxy[100], *text, *req;
	const char *args[] = { "--tls-dir", tls, "--ready-delay", "0", "--service-proxy", proxy,
		NULL };
	struct metric_backends *mb = metric_backends_new(&(struct metric_backend_opts){ 0 });
	struct kubeconfig_opts o = { 0 };
	struct k8s_config *kc;
	struct buf err;
	char why[256], path[200];

	(void)state;
	snprintf(tls, sizeof tls, "/tmp/perch-promsvc-tls-%d", (int)getpid());
	snprintf(proxy, sizeof proxy, "default/prometheus:9090=%d", httpd_port(h));
	assert_int_equal(apiserver_start(&srv, args), 0);
	create_service(&srv);
	/* The server's kubeconfig, its user's token replaced by the files. */
	snprintf(path, sizeof path, "%s/certs.kubeconfig", srv.dir);
	assert_true(asprintf(&text, "sed -e 's|^    token: .*|    client-certificate: %s/cur.crt\\n"
	    "    client-key: %s/cur.key|' %s > %s", srv.dir, srv.dir, srv.kubeconfig, path) > 0);
	assert_int_equal(system(text), 0);
	free(text);
	use_cert(tls, srv.dir, "ro");
	o.path = path;
	o.context = "ro";
	buf_init(&err, 512);
	assert_int_equal(k8s_config_load(&o, &kc, &err), ST_OK);
	assert_int_equal(prom_service_use(mb, kc, "default/prometheus:9090", why, sizeof why),
	    ST_OK);
	free(query_once(mb, h));
	assert_int_equal(apiserver_audit_count(&srv, "/proxy/api/v1/query?query=up ro 200"), 1);
	/* The pair rotates: the next batch presents the new one. */
	use_cert(tls, srv.dir, "rw");
	req = query_once(mb, h);
	assert_non_null(strstr(req, "GET /api/v1/query?query=up "));
	free(req);
	assert_int_equal(apiserver_audit_count(&srv, "/proxy/api/v1/query?query=up rw 200"), 1);
	assert_int_equal(apiserver_audit_count(&srv, "/proxy/api/v1/query?query=up ro 200"), 1);
	/* Files that cannot be read keep the last pair. */
	snprintf(path, sizeof path, "%s/cur.key", srv.dir);
	assert_int_equal(unlink(path), 0);
	free(query_once(mb, h));
	assert_int_equal(apiserver_audit_count(&srv, "/proxy/api/v1/query?query=up rw 200"), 2);

	metric_backends_free(mb);
	k8s_config_free(kc);
	buf_fini(&err);
	apiserver_stop(&srv);
	httpd_stop(h);
	assert_true(asprintf(&text, "rm -rf %s", tls) > 0);
	assert_int_equal(system(text), 0);
	free(text);
}

static void
test_parse(void **state)
{
	char ns[64], name[64], port[16], err[256];

	(void)state;
	assert_int_equal(prom_service_parse("monitoring/prometheus:web", ns, sizeof ns, name,
	    sizeof name, port, sizeof port, err, sizeof err), ST_OK);
	assert_string_equal(ns, "monitoring");
	assert_string_equal(name, "prometheus");
	assert_string_equal(port, "web");
	assert_int_equal(prom_service_parse("monitoring/prometheus", ns, sizeof ns, name,
	    sizeof name, port, sizeof port, err, sizeof err), ST_INVALID);
	assert_non_null(strstr(err, "want NS/NAME:PORT"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_file_rotates),
		cmocka_unit_test(test_client_cert_rotates),
		cmocka_unit_test(test_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
