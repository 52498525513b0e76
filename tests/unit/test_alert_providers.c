/* test_alert_providers.c — where a run's AlertProviders come from
 * (app/alert_providers.c): the documents loaded, else the cluster (the
 * test API server); secretRef address and token read from the cluster;
 * broken providers reported without a secret, and each alert to them a
 * clear failure.  Alerts really go to a local recording server. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/alert_providers.h"
#include "app/canary_load.h"
#include "helper_apiserver.h"
#include "helper_httpd.h"
#include "k8s/kubeconfig.h"
#include "k8s/rest.h"
#include "spec/diag.h"
#include "spec/spec.h"
#include "util/status.h"
#include "util/xalloc.h"

static const struct httpd_rule rules[] = {
	{ .match = NULL, .status = 200, .body = "ok" },
};

static const struct k8s_res alertproviders = { "flagger.app", "v1beta1", "alertproviders", true };

static void
create(struct k8s_client *c, const struct k8s_res *r, const char *ns, json_t *obj)
{
	struct k8s_err e;

	if (k8s_create(c, r, ns, obj, NULL, &e) != ST_OK)
		fail_msg("create: %s", e.msg);
	json_decref(obj);
}

static char *
b64(const char *s)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(s), i, o = 0;
	char *out = xcalloc(1, 4 * (n / 3 + 2));

	for (i = 0; i < n; i += 3) {
		unsigned v = (unsigned char)s[i] << 16;

		v |= i + 1 < n ? (unsigned char)s[i + 1] << 8 : 0;
		v |= i + 2 < n ? (unsigned char)s[i + 2] : 0;
		out[o++] = t[v >> 18 & 63];
		out[o++] = t[v >> 12 & 63];
		out[o++] = i + 1 < n ? t[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? t[v & 63] : '=';
	}
	return out;
}

static const char doc[] =
    "apiVersion: flagger.app/v1beta1\n"
    "kind: AlertProvider\n"
    "metadata: {name: on-call, namespace: shop}\n"
    "spec: {type: slack, channel: releases, secretRef: {name: slack-url}}\n"
    "---\n"
    "apiVersion: flagger.app/v1beta1\n"
    "kind: AlertProvider\n"
    "metadata: {name: half, namespace: shop}\n"
    "spec: {type: slack, secretRef: {name: token-only}}\n"
    "---\n"
    "apiVersion: flagger.app/v1beta1\n"
    "kind: Canary\n"
    "metadata: {name: web, namespace: shop}\n"
    "spec:\n"
    "  targetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n"
    "  service: {port: 80}\n"
    "  analysis:\n"
    "    interval: 1m\n"
    "    threshold: 2\n"
    "    stepWeight: 10\n"
    "    alerts:\n"
    "      - {name: a, severity: error, providerRef: {name: on-call}}\n"
    "      - {name: b, providerRef: {name: teams, namespace: ops}}\n"
    "      - {name: c, severity: warn, providerRef: {name: nowhere}}\n"
    "      - {name: d, severity: '', providerRef: {name: half}}\n";

static int
send(struct notifier *n, const struct canary_cfg *cfg, size_t i, char *err)
{
	struct alert_msg m = { .canary = cfg, .alert = &cfg->alerts[i], .severity = ALERT_ERROR,
		.message = "Failed checks threshold reached 2" };

	return http_alert_ops.send(n, &m, err);
}

static void
test_register(void **state)
{
	static const struct k8s_client_opts o = { .retries = -1 };
	struct kubeconfig_opts ko = { 0 };
	struct httpd *h = httpd_start(rules, 1);
	struct notifier *n = notifier_new();
	struct spec_set *set = spec_set_new();
	struct canary_cfg *cfg;
	struct apiserver srv;
	struct k8s_config *kcfg;
	struct k8s_client *c;
	struct diag_list dl;
	char base[64], addr[160], err[512], warn[2048] = "", *req, *v, *t;
	FILE *wf;

	(void)state;
	httpd_url(h, base, sizeof base);
	assert_int_equal(apiserver_start(&srv, NULL), 0);
	ko.path = srv.kubeconfig;
	assert_int_equal(k8s_config_load(&ko, &kcfg, NULL), ST_OK);
	assert_int_equal(k8s_client_new(kcfg, &o, &c, NULL), ST_OK);
	create(c, K8S_RES(NAMESPACES), NULL, json_pack("{s:{s:s}}", "metadata", "name", "shop"));
	create(c, K8S_RES(NAMESPACES), NULL, json_pack("{s:{s:s}}", "metadata", "name", "ops"));
	snprintf(addr, sizeof addr, "%s/services/T0/B0/hook-secret", base);
	v = b64(addr);
	t = b64("xoxb-s3cr3t");
	create(c, K8S_RES(SECRETS), "shop", json_pack("{s:{s:s},s:{s:s,s:s}}", "metadata", "name",
	    "slack-url", "data", "address", v, "token", t));
	free(v);
	free(t);
	create(c, K8S_RES(SECRETS), "shop", json_pack("{s:{s:s},s:{s:s}}", "metadata", "name",
	    "token-only", "stringData", "token", "xoxb-s3cr3t"));
	snprintf(addr, sizeof addr, "%s/teams/cluster-secret", base);
	create(c, &alertproviders, "ops", json_pack("{s:s,s:s,s:{s:s},s:{s:s,s:s}}",
	    "apiVersion", "flagger.app/v1beta1", "kind", "AlertProvider", "metadata", "name", "teams",
	    "spec", "type", "msteams", "address", addr));

	diag_list_init(&dl, false);
	assert_int_equal(spec_load_buffer(set, "web.yaml", doc, strlen(doc), &dl), ST_OK);
	spec_validate(set, &dl);
	diag_list_fini(&dl);
	assert_int_equal(canary_load(set, spec_set_canary(set, 0), AIM_CANARY, &cfg, err, sizeof err),
	    ST_OK);
	assert_int_equal(cfg->n_alerts, 4);
	assert_int_equal(cfg->alerts[0].severity, ALERT_ERROR);
	assert_int_equal(cfg->alerts[1].severity, ALERT_INFO);	/* not given */
	assert_int_equal(cfg->alerts[3].severity, ALERT_INFO);	/* "" */
	assert_null(cfg->alerts[0].provider_ns);
	assert_string_equal(cfg->alerts[1].provider_ns, "ops");

	wf = fmemopen(warn, sizeof warn - 1, "w");
	assert_int_equal(alert_providers_register(c, set, cfg, n, wf), 2);
	fclose(wf);
	assert_non_null(strstr(warn, "alert c: AlertProvider shop/nowhere: not found"));
	assert_non_null(strstr(warn, "alert d: AlertProvider shop/half: secret token-only has no address"));
	assert_null(strstr(warn, "s3cr3t"));
	assert_null(strstr(warn, "hook-secret"));

	/* From the file, address and token from the Secret. */
	assert_int_equal(send(n, cfg, 0, err), ST_OK);
	req = httpd_request(h, 0);
	assert_non_null(strstr(req, "POST /services/T0/B0/hook-secret HTTP/1.1"));
	assert_non_null(strstr(req, "Authorization: Bearer xoxb-s3cr3t"));
	assert_non_null(strstr(req, "\"channel\":\"releases\""));
	free(req);
	/* From the cluster, in providerRef.namespace. */
	assert_int_equal(send(n, cfg, 1, err), ST_OK);
	req = httpd_request(h, 1);
	assert_non_null(strstr(req, "POST /teams/cluster-secret HTTP/1.1"));
	assert_non_null(strstr(req, "\"@type\":\"MessageCard\""));
	assert_null(strstr(req, "Authorization:"));
	free(req);
	/* Broken ones fail with their reason, and send nothing. */
	assert_int_equal(send(n, cfg, 2, err), ST_INVALID);
	assert_non_null(strstr(err, "not found"));
	assert_int_equal(send(n, cfg, 3, err), ST_INVALID);
	assert_string_equal(err, "secret token-only has no address");
	assert_int_equal(httpd_count(h), 2);

	canary_cfg_free(cfg);
	spec_set_free(set);
	notifier_free(n);
	k8s_client_free(c);
	k8s_config_free(kcfg);
	apiserver_stop(&srv);
	httpd_stop(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
