/* test_kubeconfig.c — kubeconfig loading, merging, contexts, credentials
 * (tokens, token files, certificates, exec plugins with their cache) and the
 * error messages, over the fixtures in tests/data/k8s/. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "k8s/kubeconfig.h"
#include "k8s/kubeconfig_exec.h"
#include "util/buf.h"
#include "util/status.h"

#define D "tests/data/k8s/"

struct load_case {
	const char *path, *env, *home, *context, *ns;
	int st;
	const char *server, *want_ns, *err;	/* err: a substring of the message */
};

static const struct load_case load_cases[] = {
	{ .path = D "basic.yaml", .st = ST_OK, .server = "https://prod.example.com:6443", .want_ns = "shop" },
	{ .path = D "basic.yaml", .ns = "other", .st = ST_OK, .want_ns = "other" },
	{ .path = D "basic.yaml", .context = "dev", .st = ST_OK, .server = "http://127.0.0.1:8080", .want_ns = "default" },
	{ .path = D "basic.yaml", .context = "nope", .st = ST_NOTFOUND, .err = "context \"nope\" not found" },
	{ .path = D "basic.yaml", .context = "ghost", .st = ST_NOTFOUND, .err = "basic.yaml:28:22: contexts[ghost].context.cluster: cluster \"nowhere\" not found" },
	{ .path = D "basic.yaml", .context = "nouser", .st = ST_NOTFOUND, .err = "basic.yaml:30:34: contexts[nouser].context.user: user \"nobody\" not found" },
	{ .path = D "missing.yaml", .st = ST_NOTFOUND, .err = "missing.yaml" },
	/* $KUBECONFIG: first file wins per name; current-context from the first that sets it. */
	{ .env = D "merge-a.yaml:" D "merge-b.yaml", .st = ST_OK, .server = "https://only-b.example.com", .want_ns = "default" },
	{ .env = D "merge-a.yaml:" D "merge-b.yaml", .context = "a", .st = ST_OK, .server = "https://a.example.com", .want_ns = "from-a" },
	{ .env = D "merge-a.yaml:" D "merge-b.yaml", .context = "both", .st = ST_OK, .server = "https://a.example.com", .want_ns = "first-wins" },
	{ .env = D "merge-b.yaml:" D "merge-a.yaml", .context = "a", .st = ST_OK, .server = "https://b.example.com" },
	{ .env = D "merge-c.yaml:" D "merge-a.yaml:" D "merge-b.yaml", .st = ST_OK, .server = "https://a.example.com", .want_ns = "from-a" },
	{ .env = D "missing.yaml::" D "merge-b.yaml", .st = ST_OK, .server = "https://only-b.example.com" },
	{ .env = D "missing.yaml", .st = ST_NOTFOUND, .err = "none of the files" },
	/* --kubeconfig beats $KUBECONFIG; ~/.kube/config last. */
	{ .path = D "basic.yaml", .env = D "merge-b.yaml", .st = ST_OK, .server = "https://prod.example.com:6443" },
	{ .home = "/nonexistent-home", .st = ST_NOTFOUND, .err = "/nonexistent-home/.kube/config" },
	/* Errors name file:line:column. */
	{ .path = D "bad-syntax.yaml", .st = ST_PARSE, .err = "bad-syntax.yaml:6:1:" },
	{ .path = D "bad-server.yaml", .st = ST_INVALID, .err = "bad-server.yaml:5:13: clusters[x].cluster.server: must start with https://" },
	{ .path = D "bad-b64.yaml", .st = ST_INVALID, .err = "bad-b64.yaml:8:30: users[u].user.client-certificate-data: not valid base64" },
	{ .path = D "bad-list.yaml", .st = ST_INVALID, .err = "bad-list.yaml:2:11: clusters: expected a list" },
	{ .path = D "exec.yaml", .context = "oldapi", .st = ST_UNSUPPORTED, .err = "exec.apiVersion" },
};

static void
test_load_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof load_cases / sizeof load_cases[0]; i++) {
		const struct load_case *t = &load_cases[i];
		struct kubeconfig_opts o = { .path = t->path, .env = t->env, .home = t->home,
		    .context = t->context, .ns = t->ns };
		struct k8s_config *c = NULL;
		struct buf err;
		int st;

		buf_init(&err, 1024);
		st = k8s_config_load(&o, &c, &err);
		if (st != t->st)
			fail_msg("case %zu: status %s, want %s (%s)", i, status_name(st),
			    status_name(t->st), buf_str(&err));
		if (st == ST_OK) {
			assert_non_null(c);
			if (t->server)
				assert_string_equal(c->server, t->server);
			if (t->want_ns)
				assert_string_equal(c->ns, t->want_ns);
		} else {
			assert_null(c);
			if (t->err && !strstr(buf_str(&err), t->err))
				fail_msg("case %zu: message '%s' lacks '%s'", i, buf_str(&err), t->err);
			assert_null(strstr(buf_str(&err), "s3cret"));
		}
		k8s_config_free(c);
		buf_fini(&err);
	}
}

static void
test_tls_and_credentials(void **state)
{
	struct kubeconfig_opts o = { .path = D "basic.yaml" };
	struct k8s_config *c;
	struct k8s_auth a;
	struct buf err;

	(void)state;
	buf_init(&err, 1024);
	assert_int_equal(k8s_config_load(&o, &c, &err), ST_OK);
	assert_non_null(c->ca_data);
	assert_non_null(strstr(c->ca_data, "BEGIN CERTIFICATE"));
	assert_string_equal(c->tls_server_name, "api.prod.internal");
	assert_false(c->insecure);
	assert_int_equal(k8s_config_auth(c, 0, &a, &err), ST_OK);
	assert_string_equal(a.bearer, "s3cret-token-alice");
	assert_null(a.cert_file);
	k8s_auth_fini(&a);
	k8s_config_free(c);

	/* Token file re-read per call, relative paths against the file's folder. */
	o.context = "dev";
	assert_int_equal(k8s_config_load(&o, &c, &err), ST_OK);
	assert_true(c->insecure);
	assert_string_equal(c->cert_file, D "certs/client.crt");
	assert_int_equal(k8s_config_auth(c, 0, &a, &err), ST_OK);
	assert_string_equal(a.bearer, "s3cret-from-file");
	assert_string_equal(a.key_file, D "certs/client.key");
	k8s_auth_fini(&a);
	k8s_config_free(c);
	buf_fini(&err);
}

static int
count_lines(const char *path)
{
	FILE *f = fopen(path, "r");
	int n = 0, ch;

	if (!f)
		return 0;
	while ((ch = fgetc(f)) != EOF)
		n += ch == '\n';
	fclose(f);
	return n;
}

static void
test_exec_plugin(void **state)
{
	struct kubeconfig_opts o = { .path = D "exec.yaml" };
	struct k8s_config *c;
	struct k8s_auth a;
	struct buf err;
	char count[] = "/tmp/perch-kc-count.XXXXXX";
	int fd = mkstemp(count);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	setenv("PLUGIN_COUNT_FILE", count, 1);
	buf_init(&err, 1024);
	assert_int_equal(k8s_config_load(&o, &c, &err), ST_OK);
	assert_int_equal(k8s_config_auth(c, 1000, &a, &err), ST_OK);
	assert_string_equal(a.bearer, "exec-token-x");
	k8s_auth_fini(&a);
	/* Cached until the expiration timestamp (2030-01-01). */
	assert_int_equal(k8s_config_auth(c, 2000, &a, &err), ST_OK);
	k8s_auth_fini(&a);
	assert_int_equal(count_lines(count), 1);
	assert_int_equal(c->expiry, 1893456000);
	/* Past it, the plugin runs again; forget() forces it too. */
	assert_int_equal(k8s_config_auth(c, 1893456000, &a, &err), ST_OK);
	k8s_auth_fini(&a);
	assert_int_equal(count_lines(count), 2);
	k8s_config_forget(c);
	assert_int_equal(k8s_config_auth(c, 2000, &a, &err), ST_OK);
	k8s_auth_fini(&a);
	assert_int_equal(count_lines(count), 3);
	k8s_config_free(c);

	o.context = "beta";	/* v1beta1, a client certificate */
	assert_int_equal(k8s_config_load(&o, &c, &err), ST_OK);
	assert_int_equal(k8s_config_auth(c, 0, &a, &err), ST_OK);
	assert_null(a.bearer);
	assert_string_equal(a.cert_pem, "CERT");
	assert_string_equal(a.key_pem, "KEY");
	k8s_auth_fini(&a);
	k8s_config_free(c);

	o.context = "failing";	/* the exit status and the first line of stderr */
	assert_int_equal(k8s_config_load(&o, &c, &err), ST_OK);
	assert_int_equal(k8s_config_auth(c, 0, &a, &err), ST_AUTH);
	assert_non_null(strstr(buf_str(&err), "exited with status 1: no credentials for you"));
	k8s_config_free(c);
	unsetenv("PLUGIN_COUNT_FILE");
	unlink(count);
	buf_fini(&err);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Whether process pid has ended (gone, or a zombie waiting for init to
 * reap it), within two seconds. */
static bool
gone(long pid)
{
	char path[64], stat[256] = "";
	const char *state;
	FILE *f;
	int i;

	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	for (i = 0; i < 200; i++) {
		if ((f = fopen(path, "r")) == NULL)
			return true;
		if (fgets(stat, sizeof stat, f) == NULL)
			stat[0] = '\0';
		fclose(f);
		state = strrchr(stat, ')');
		if (state != NULL && state[1] == ' ' && (state[2] == 'Z' || state[2] == 'X'))
			return true;
		usleep(10000);
	}
	return false;
}

/* Each way a plugin can fail is named: the command, its exit status and
 * the first line of its stderr (sanitized), not found, output that is not
 * a credential; one that hangs is killed with the process it started
 * when its timeout ends. */
static void
test_exec_plugin_failures(void **state)
{
	static const struct {
		const char *context, *want, *not;
	} rows[] = {
		{ "exit7", "exec credential plugin " D "./exec-plugin.sh: exited with status 7: "
		    "error: the SSO session has expired; run login", "second line" },
		{ "missing", "exec credential plugin perch-no-such-plugin: not found (is it installed "
		    "and on $PATH?)", NULL },
		{ "garbage", "its output is not a JSON ExecCredential object", "this is not JSON" },
		{ "hang", "exec credential plugin " D "./exec-plugin.sh: no answer within 500 ms; "
		    "killed with its process group", NULL },
	};
	struct kubeconfig_opts o = { .path = D "exec.yaml" };
	char pidfile[] = "/tmp/perch-kc-pid.XXXXXX";
	int fd = mkstemp(pidfile);
	struct k8s_config *c;
	struct k8s_auth a;
	struct buf err;
	double t0;
	size_t i;
	FILE *f;
	long pid = 0;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	setenv("PLUGIN_PID_FILE", pidfile, 1);
	setenv("PERCH_EXEC_TIMEOUT", "0.5", 1);
	buf_init(&err, 1024);
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		o.context = rows[i].context;
		assert_int_equal(k8s_config_load(&o, &c, &err), ST_OK);
		t0 = now_s();
		assert_int_equal(k8s_config_auth(c, 0, &a, &err), strcmp(rows[i].context, "hang") == 0 ?
		    ST_TIMEOUT : ST_AUTH);
		assert_true(now_s() - t0 < 3);
		if (strstr(buf_str(&err), rows[i].want) == NULL)
			fail_msg("%s: '%s' lacks '%s'", rows[i].context, buf_str(&err), rows[i].want);
		if (rows[i].not != NULL && strstr(buf_str(&err), rows[i].not) != NULL)
			fail_msg("%s: '%s' shows '%s'", rows[i].context, buf_str(&err), rows[i].not);
		assert_null(strchr(buf_str(&err), '\x1b'));
		k8s_config_free(c);
	}
	/* The hanging plugin's own child went with it. */
	assert_non_null(f = fopen(pidfile, "r"));
	assert_int_equal(fscanf(f, "%ld", &pid), 1);
	fclose(f);
	assert_true(pid > 0);
	assert_true(gone(pid));
	unsetenv("PERCH_EXEC_TIMEOUT");
	unsetenv("PLUGIN_PID_FILE");
	unlink(pidfile);
	buf_fini(&err);
}

struct exec_case {
	const char *json;
	int st;
	const char *token;
	long expiry;
	const char *err;
};

static const struct exec_case exec_cases[] = {
	{ "{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"t\"}}", ST_OK, "t", 0, NULL },
	{ "{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"t\",\"expirationTimestamp\":\"2026-11-26T10:00:00.5+01:00\"}}", ST_OK, "t", 1795683600, NULL },
	{ "{\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"t\"}}", ST_AUTH, NULL, 0, "apiVersion" },
	{ "{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"Other\",\"status\":{\"token\":\"t\"}}", ST_AUTH, NULL, 0, "kind" },
	{ "{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{}}", ST_AUTH, NULL, 0, "neither" },
	{ "{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"t\",\"expirationTimestamp\":\"soon\"}}", ST_AUTH, NULL, 0, "expirationTimestamp" },
	{ "secret-garbage", ST_AUTH, NULL, 0, "not a JSON" },
};

static void
test_exec_parse_table(void **state)
{
	size_t i, cl, kl;
	char *tok, *cert, *key;
	time_t exp;
	struct buf err;

	(void)state;
	buf_init(&err, 512);
	for (i = 0; i < sizeof exec_cases / sizeof exec_cases[0]; i++) {
		const struct exec_case *t = &exec_cases[i];
		int st = k8s_exec_parse("client.authentication.k8s.io/v1", t->json, strlen(t->json),
		    &tok, &cert, &cl, &key, &kl, &exp, &err);

		if (st != t->st)
			fail_msg("case %zu: %s (%s)", i, status_name(st), buf_str(&err));
		if (st == ST_OK) {
			assert_string_equal(tok, t->token);
			assert_int_equal((long)exp, t->expiry);
		} else {
			assert_non_null(strstr(buf_str(&err), t->err));
			assert_null(strstr(buf_str(&err), "secret-garbage"));
		}
		free(tok);
		free(cert);
		free(key);
	}
	buf_fini(&err);
}

static void
test_parse_mem(void **state)
{
	static const char text[] =
	    "clusters:\n- name: c\n  cluster: {server: 'https://h:1'}\n"
	    "contexts:\n- name: x\n  context: {cluster: c}\ncurrent-context: x\n";
	struct k8s_config *c;
	struct buf err;

	(void)state;
	buf_init(&err, 512);
	assert_int_equal(k8s_config_parse("mem", text, sizeof text - 1, NULL, &c, &err), ST_OK);
	assert_string_equal(c->server, "https://h:1");
	assert_null(c->user);
	k8s_config_free(c);
	assert_int_equal(k8s_config_parse("mem", "", 0, NULL, &c, &err), ST_NOTFOUND);
	assert_int_equal(k8s_config_parse("mem", "- a\n", 4, NULL, &c, &err), ST_INVALID);
	assert_non_null(strstr(buf_str(&err), "mem:1:1:"));
	buf_fini(&err);
}

static void
write_text(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* In-cluster credentials: server from host and port (IPv6 bracketed), the
 * token file read at every request (a rotated token is used at once), the
 * CA and the namespace of the service-account directory. */
static void
test_in_cluster(void **state)
{
	char dir[] = "/tmp/perch-sa-XXXXXX", path[600];
	struct k8s_config *c = NULL;
	struct k8s_auth a;
	struct buf err;

	(void)state;
	buf_init(&err, 1024);
	assert_non_null(mkdtemp(dir));
	assert_int_equal(k8s_config_in_cluster(NULL, "443", dir, NULL, &c, &err), ST_NOTFOUND);
	assert_null(c);
	assert_non_null(strstr(buf_str(&err), "KUBERNETES_SERVICE_HOST"));
	/* no token file: not in a cluster either */
	assert_int_equal(k8s_config_in_cluster("10.0.0.1", "443", dir, NULL, &c, &err), ST_NOTFOUND);
	write_text(dir, "token", "first-token\n");
	assert_int_equal(k8s_config_in_cluster("10.0.0.1", "443", dir, NULL, &c, &err), ST_OK);
	assert_string_equal(c->server, "https://10.0.0.1:443");
	assert_string_equal(c->ns, "default");
	assert_string_equal(c->context, "in-cluster");
	assert_null(c->ca_file);
	assert_int_equal(k8s_config_auth(c, time(NULL), &a, &err), ST_OK);
	assert_string_equal(a.bearer, "first-token");
	k8s_auth_fini(&a);
	write_text(dir, "token", "rotated-token");
	assert_int_equal(k8s_config_auth(c, time(NULL), &a, &err), ST_OK);
	assert_string_equal(a.bearer, "rotated-token");
	k8s_auth_fini(&a);
	k8s_config_free(c);

	write_text(dir, "ca.crt", "-----BEGIN CERTIFICATE-----\n");
	write_text(dir, "namespace", "perch-system\n");
	assert_int_equal(k8s_config_in_cluster("fd00::1", "6443", dir, NULL, &c, &err), ST_OK);
	assert_string_equal(c->server, "https://[fd00::1]:6443");
	assert_string_equal(c->ns, "perch-system");
	snprintf(path, sizeof path, "%s/ca.crt", dir);
	assert_string_equal(c->ca_file, path);
	k8s_config_free(c);
	assert_int_equal(k8s_config_in_cluster("h", "1", dir, "other", &c, &err), ST_OK);
	assert_string_equal(c->ns, "other");
	k8s_config_free(c);

	snprintf(path, sizeof path, "rm -rf '%s'", dir);
	assert_int_equal(system(path), 0);
	buf_fini(&err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_table),
		cmocka_unit_test(test_tls_and_credentials),
		cmocka_unit_test(test_exec_plugin),
		cmocka_unit_test(test_exec_plugin_failures),
		cmocka_unit_test(test_exec_parse_table),
		cmocka_unit_test(test_parse_mem),
		cmocka_unit_test(test_in_cluster),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
