/*
 * prom.h — a client of the Prometheus HTTP API (instant queries), and the
 * metric backend of MetricTemplates of type prometheus, and of the built-in
 * metrics (prometheus_backend, metrics/backend.h).
 *
 * A struct prom holds the settings of each Prometheus server it knows
 * (address, credentials, TLS, extra headers), keyed as the other metric
 * backends key their provider blocks (metric_provider.block: two templates
 * of one address with other Secrets are two servers), and one curl multi
 * handle whose connection cache is reused from one batch to the next.  A batch of queries
 * runs concurrently, at most 8 on the wire at once: the others wait unsent,
 * so that a request's connect and total timeouts measure the server, never
 * the queue.  The whole batch has a deadline of its own (deadline_ms, a
 * tick's analysis): what has not answered by then is a timeout too.  Every
 * response is capped.  Answers are read as Flagger does (reference §3.3):
 * a vector or a scalar gives a value (several samples: the last wins), an
 * empty result or NaN is "no data", a matrix is an error, Prometheus' error
 * JSON and HTTP statuses >= 400 are errors whose text is sanitized.
 *
 * Ownership: prom_new/prom_free; settings passed in are copied.
 * Threads: one struct prom is used by one thread at a time (the engine
 * thread, or the main thread of `perch check`); several may exist.
 * Secrets (tokens, passwords) are kept in memory only: never printed or
 * logged, and never sent to a server other than the one they belong to.
 */
#ifndef PERCH_METRICS_PROM_H
#define PERCH_METRICS_PROM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/canary.h"
#include "engine/providers.h"

#define PROM_MAX_BODY_DEFAULT (8u << 20)	/* bytes */
#define PROM_POST_OVER 4000			/* encoded query longer: POST form */

#define PROM_DEADLINE_DEFAULT_MS 60000

struct prom_opts {
	int    connect_timeout_ms;	/* 0 = 5000 */
	int    timeout_ms;		/* one request on the wire; 0 = 5000 (Flagger's) */
	int    deadline_ms;		/* a whole batch; 0 = PROM_DEADLINE_DEFAULT_MS */
	size_t max_body;		/* 0 = PROM_MAX_BODY_DEFAULT */
};

/* One server's settings.  url is the base ("http://host:9090" or with a
 * path prefix); "/api/v1/query" is appended. */
/* What prom_server_cfg.creds gives: owned strings, NULL for none. */
struct prom_creds {
	char  *bearer;
	char  *cert_pem, *key_pem;
	size_t cert_len, key_len;
};

struct prom_server_cfg {
	const char *url;
	const char *bearer_token;	/* Authorization: Bearer; NULL = none */
	const char *username;		/* basic auth when both are set */
	const char *password;
	const char *ca_file;		/* TLS: extra trust; NULL = system */
	bool        insecure;		/* TLS: do not verify the server */
	const struct kv *headers;	/* extra request headers, in order */
	size_t      n_headers;
	/* A Prometheus reached as a Kubernetes API request (the API server's
	 * service proxy, app/prom_service.h): the cluster's CA in PEM, and the
	 * kubeconfig's client certificate and key, in PEM or as files.  NULL:
	 * none.  Copied; the key is wiped when freed. */
	const char *ca_pem;
	size_t      ca_len;
	const char *cert_pem, *key_pem;
	size_t      cert_len, key_len;
	const char *cert_file, *key_file;
	/* Credentials that change (a kubeconfig's tokenFile, its client
	 * certificate and key files, an exec plugin's, rotated): asked again
	 * before each batch that queries this server; what it fills replaces
	 * the bearer token (NULL: none) and, when given, the client
	 * certificate and key (PEM), taken, the secrets wiped when freed.  A
	 * changed certificate is sent on a new connection.  On an error the
	 * last ones stay.  NULL: they are fixed.  Called on the querying
	 * thread; arg must outlive the server. */
	int (*creds)(void *arg, struct prom_creds *out);
	void *creds_arg;
	/* What makes the block distinct (metric_provider.block: type,
	 * address, secretRef and its namespace, insecureSkipVerify, headers),
	 * or NULL: the server is its url.  Two blocks of one url with other
	 * credentials are two servers by their keys. */
	const char *block;
};

struct prom_req {
	const char *server;	/* base URL; NULL = the default server */
	const char *query;	/* PromQL, sent as is */
	int64_t     at_ms;	/* evaluation time (time=); 0 = the server's now */
};

struct prom_res {
	int status;			/* ST_OK (a value, or no data), ST_NETWORK,
					 * ST_TIMEOUT, ST_HTTP, ST_PARSE, ST_TOOBIG,
					 * ST_ERR (Prometheus said error), ST_INVALID */
	int http_status;		/* 0 when there was no answer */
	struct metric_value v;		/* result PASS (value) / NODATA / ERROR */
};

/* libcurl is loaded by the first prom_new (net/curl_lazy.h).  When it
 * cannot be, the client is still made, prom_unusable() says why (one line)
 * and every query fails with ST_UNSUPPORTED and that reason. */
struct prom *prom_new(const struct prom_opts *opts);
void prom_free(struct prom *p);
/* NULL when p can send queries, else why not (p's string). */
const char *prom_unusable(const struct prom *p);

/* Adds a server or replaces its settings (matched by block key when it
 * has one, else by url).  The first
 * server added is the default one.  ST_OK or ST_INVALID (no url). */
int prom_set_server(struct prom *p, const struct prom_server_cfg *cfg);

/* Runs n queries concurrently; fills out[i] for each.  A server that was
 * never added is used with no credentials and default TLS. */
void prom_query_batch(struct prom *p, const struct prom_req *reqs, size_t n,
    struct prom_res *out);

/* Runs n range queries (/api/v1/query_range) concurrently, as
 * prom_query_batch: each over (at_ms - range_ms, at_ms] every step_ms
 * (at_ms 0: the client's now); its matrix, one series, into samples[i],
 * and res[i] as prom_query_batch would fill it (status, an error). */
void prom_range_batch(struct prom *p, const struct prom_req *reqs, size_t n, int64_t range_ms,
    int64_t step_ms, struct metric_samples *samples, struct prom_res *res);

/* Reads one response body of /api/v1/query into out (pure; for tests and
 * fuzzing).  Returns ST_OK (value or no data), ST_PARSE or ST_ERR. */
int prom_parse(const char *body, size_t len, struct metric_value *out);

/* Reads one response body of /api/v1/query_range into out: a matrix of
 * one series (values oldest first, NaN left out, the latest
 * METRIC_SAMPLES_MAX), none (CHECK_NODATA), or an error (several series,
 * not a matrix, Prometheus' error).  Pure.  ST_OK, ST_PARSE or ST_ERR. */
int prom_parse_range(const char *body, size_t len, struct metric_samples *out);

/* Reads a bearer token file (`--prometheus-token-file`): its first line,
 * without surrounding white space.  ST_OK, or ST_IO / ST_INVALID (empty)
 * with a reason in err that never contains the token. */
int prom_read_token_file(const char *path, char *tok, size_t toksz, char *err, size_t errsz);

/* True when res means Prometheus could not be reached or is unavailable
 * (connection failure, timeout, HTTP 5xx). */
bool prom_unreachable(const struct prom_res *res);

/* The metric backend of spec.provider.type prometheus
 * (prometheus_backend, metrics/backend.h) is this client: a handle is a
 * struct prom, a provider block a server (its Secret's token, else
 * username and password).  A query Prometheus did not answer
 * (prom_unreachable) comes back as CHECK_ERROR with `unavailable` set: the
 * backend is degraded, the metric is not failing.  No probe: perch does
 * not ask Prometheus whether it is up before the first analysis. */

#endif
