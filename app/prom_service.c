/*
 * prom_service.c — the default Prometheus through the API server's
 * service proxy (see prom_service.h).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/cli_msg.h"
#include "app/prom_service.h"
#include "metrics/prom.h"
#include "util/buf.h"
#include "util/status.h"
#include "util/xalloc.h"

/* A DNS label (RFC 1123): lower-case letters, digits and '-', neither
 * first nor last a '-', 1 to max characters. */
static bool
dns_label(const char *s, size_t len, size_t max)
{
	size_t i;

	if (len == 0 || len > max || s[0] == '-' || s[len - 1] == '-')
		return false;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

static int
part(const char *what, const char *s, size_t len, size_t max, char *out, size_t outsz, char *err,
    size_t errsz)
{
	if (!dns_label(s, len, max) || len >= outsz) {
		snprintf(err, errsz, "--prometheus-service: the %s must be a DNS label of at most %zu "
		    "characters (lower-case letters, digits, '-'); want NS/NAME:PORT", what, max);
		return ST_INVALID;
	}
	memcpy(out, s, len);
	out[len] = '\0';
	return ST_OK;
}

int
prom_service_parse(const char *spec, char *ns, size_t nssz, char *name, size_t namesz,
    char *port, size_t portsz, char *err, size_t errsz)
{
	const char *slash = strchr(spec, '/'), *colon = slash ? strchr(slash, ':') : NULL;

	if (slash == NULL || colon == NULL) {
		snprintf(err, errsz, "--prometheus-service: want NS/NAME:PORT (a namespace, a Service "
		    "and its port, e.g. monitoring/prometheus:9090)");
		return ST_INVALID;
	}
	if (part("namespace", spec, (size_t)(slash - spec), 63, ns, nssz, err, errsz) != ST_OK ||
	    part("service name", slash + 1, (size_t)(colon - slash - 1), 63, name, namesz, err,
	    errsz) != ST_OK || part("port", colon + 1, strlen(colon + 1), 15, port, portsz, err,
	    errsz) != ST_OK)
		return ST_INVALID;
	return ST_OK;
}

int
prom_service_opt(const char *cmd, const char *arg, const char **out)
{
	char ns[64], name[64], port[16], err[256];

	if (prom_service_parse(arg, ns, sizeof ns, name, sizeof name, port, sizeof port, err,
	    sizeof err) != ST_OK)
		return cli_usage_error(cmd, "%s", err);
	*out = arg;
	return EXIT_OK;
}

/* The kubeconfig's credentials now, as the REST client asks them at each
 * request: its token file read again, an exec plugin's token or
 * certificate renewed when it expired, its client certificate and key
 * files read again (so that a rotated pair is presented). */
static int
proxy_creds(void *arg, struct prom_creds *out)
{
	struct k8s_auth a;
	struct buf why;
	int st;

	memset(&a, 0, sizeof a);
	buf_init(&why, 512);
	st = k8s_config_auth(arg, time(NULL), &a, &why);
	if (st == ST_OK)
		st = k8s_auth_read_files(&a, &why);
	buf_fini(&why);
	if (st == ST_OK) {
		*out = (struct prom_creds){ .bearer = a.bearer, .cert_pem = a.cert_pem,
		    .cert_len = a.cert_len, .key_pem = a.key_pem, .key_len = a.key_len };
		a.bearer = a.cert_pem = a.key_pem = NULL;
	}
	k8s_auth_fini(&a);
	return st;
}

int
prom_service_use(struct metric_backends *mb, struct k8s_config *kc, const char *spec,
    char *err, size_t errsz)
{
	char ns[64], name[64], port[16], *url;
	struct prom *p = metric_backends_handle(mb, NULL);
	struct k8s_auth a;
	struct buf why;
	int st;

	if ((st = prom_service_parse(spec, ns, sizeof ns, name, sizeof name, port, sizeof port, err,
	    errsz)) != ST_OK)
		return st;
	if (p == NULL) {
		snprintf(err, errsz, "--prometheus-service: no Prometheus backend");
		return ST_UNSUPPORTED;
	}
	memset(&a, 0, sizeof a);
	buf_init(&why, 512);
	if ((st = k8s_config_auth(kc, time(NULL), &a, &why)) != ST_OK) {
		snprintf(err, errsz, "--prometheus-service: the kubeconfig's credentials: %s",
		    buf_str(&why));
		buf_fini(&why);
		return st;
	}
	buf_fini(&why);
	url = xasprintf("%s/api/v1/namespaces/%s/services/%s:%s/proxy", kc->server, ns, name, port);
	st = prom_set_server(p, &(struct prom_server_cfg){
		.url = url, .bearer_token = a.bearer, .ca_file = kc->ca_file, .insecure = kc->insecure,
		.ca_pem = kc->ca_data, .ca_len = kc->ca_len,
		.cert_pem = a.cert_pem, .cert_len = a.cert_len, .key_pem = a.key_pem,
		.key_len = a.key_len, .cert_file = a.cert_file, .key_file = a.key_file,
		.creds = proxy_creds, .creds_arg = kc,
	});
	if (st != ST_OK)
		snprintf(err, errsz, "--prometheus-service: %s", status_text(st));
	free(url);
	k8s_auth_fini(&a);
	return st;
}
