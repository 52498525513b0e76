/*
 * kubeconfig.h — which cluster to talk to, as whom, and how to trust it.
 *
 * Loads kubeconfig files the way kubectl does: `--kubeconfig PATH` alone when
 * given; else every file of $KUBECONFIG (colon-separated; missing files are
 * skipped) merged by kubectl's rules — the first file that names a cluster,
 * user or context wins for that name, and current-context comes from the first
 * file that sets it; else ~/.kube/config.  Then resolves one context
 * (`--context` or current-context) to a server, a namespace (`-n`, the
 * context's, or "default"), TLS settings and credentials: a bearer token,
 * a token file, a client certificate and key (file or -data), or an exec
 * plugin (client.authentication.k8s.io v1 / v1beta1 ExecCredential, cached
 * until its expirationTimestamp).  Relative paths are relative to the file
 * that names them.
 *
 * Errors name FILE:LINE:COLUMN and the field.  Secrets (tokens, keys, the
 * output of exec plugins) are never put into error messages or logs.
 *
 * Ownership: k8s_config_load() returns a heap object freed with
 * k8s_config_free(); k8s_config_auth() fills a struct k8s_auth the caller
 * releases with k8s_auth_fini().  Threads: loading is for one thread;
 * k8s_config_auth() may be called from any thread (the exec cache has a lock).
 */
#ifndef PERCH_K8S_KUBECONFIG_H
#define PERCH_K8S_KUBECONFIG_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "util/buf.h"

#define KUBECONFIG_MAX_BYTES (4u << 20)	/* larger files are refused */

/* An exec credential plugin (users[].user.exec): k8s/kubeconfig_exec.h. */
struct kc_exec;

/* Where to load from (all borrowed; NULL = not given). */
struct kubeconfig_opts {
	const char *path;	/* --kubeconfig */
	const char *env;	/* the value of $KUBECONFIG */
	const char *home;	/* $HOME, for ~/.kube/config */
	const char *context;	/* --context */
	const char *ns;		/* -n */
};

/* One resolved context. */
struct k8s_config {
	char *file;		/* the file the context came from */
	char *context, *cluster, *user;
	char *server;		/* "https://host:port", no trailing slash */
	char *ns;
	/* TLS */
	char *ca_file;
	char *ca_data;		/* PEM, decoded from certificate-authority-data */
	size_t ca_len;
	char *tls_server_name;
	bool insecure;		/* insecure-skip-tls-verify */
	/* credentials (secrets: never printed) */
	char *token, *token_file;
	char *cert_file, *key_file;
	char *cert_data, *key_data;
	size_t cert_len, key_len;
	struct kc_exec *exec;
	/* exec credential cache */
	pthread_mutex_t lock;
	bool cached;
	time_t expiry;		/* 0 = does not expire */
	char *x_token, *x_cert, *x_key;
	size_t x_cert_len, x_key_len;
	/* the plugin's last failure, answered again for EXEC_FAIL_HOLD_S
	 * without running it (a hung plugin costs its timeout once, not once
	 * per request); k8s_config_forget clears it */
	time_t x_failed_at;
	int x_failed_st;
	char *x_failed_msg;
};

/* What one request presents: any combination may be NULL.  Owned copies. */
struct k8s_auth {
	char *bearer;
	char *cert_pem, *key_pem;	/* in memory (data fields, exec) */
	size_t cert_len, key_len;
	char *cert_file, *key_file;	/* on disk */
};

/* ST_OK; ST_NOTFOUND (no file, no such context/cluster/user), ST_PARSE or
 * ST_INVALID with a one-line reason naming file:line:column in err. */
int  k8s_config_load(const struct kubeconfig_opts *o, struct k8s_config **out, struct buf *err);
void k8s_config_free(struct k8s_config *c);

/* The credentials to present now: reads token files, runs the exec plugin
 * when its cached credential expired (or was never fetched).  ST_OK, or
 * ST_AUTH / ST_IO with a reason in err. */
int  k8s_config_auth(struct k8s_config *c, time_t now, struct k8s_auth *out, struct buf *err);
/* a's client certificate and key files (cert_file, key_file) read into
 * cert_pem and key_pem as they are on disk now, for a client that keeps
 * its connections and must see a rotated pair (a changed PEM is a new
 * connection); nothing when a holds PEM already or names no files.  ST_OK,
 * or ST_AUTH with the file and why in err. */
int  k8s_auth_read_files(struct k8s_auth *a, struct buf *err);
/* Forgets a cached exec credential (after a 401, for example). */
void k8s_config_forget(struct k8s_config *c);
void k8s_auth_fini(struct k8s_auth *a);

/* In-cluster credentials, as client-go's rest.InClusterConfig: the server
 * https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT (host and port
 * given, IPv6 in brackets), the service account's token file DIR/token
 * (read again at every request, so a rotated token is picked up), its CA
 * DIR/ca.crt and its namespace DIR/namespace (ns overrides it; "default"
 * when neither).  DIR is sa_dir, or KUBE_SERVICEACCOUNT_DIR when NULL.
 * Context and cluster are named "in-cluster".  ST_OK; ST_NOTFOUND when host
 * or port is missing or the token cannot be read; the reason in err. */
#define KUBE_SERVICEACCOUNT_DIR "/var/run/secrets/kubernetes.io/serviceaccount"
int  k8s_config_in_cluster(const char *host, const char *port, const char *sa_dir,
    const char *ns, struct k8s_config **out, struct buf *err);

/* Parses one kubeconfig text and resolves `context` (NULL = current) in it,
 * without touching the file system beyond nothing: for tests and fuzzing.
 * `name` is used in messages; relative paths stay relative. */
int  k8s_config_parse(const char *name, const char *data, size_t len, const char *context,
    struct k8s_config **out, struct buf *err);

/* Parses an RFC 3339 time ("2026-01-02T03:04:05Z", fractions and offsets
 * allowed) to a time_t.  ST_OK or ST_PARSE. */
int  k8s_parse_time(const char *s, time_t *out);

/* Decodes standard or URL-safe base64 (whitespace ignored), NUL-terminated,
 * its length in *outlen; NULL when s is not base64.  The caller frees. */
char *k8s_b64_decode(const char *s, size_t *outlen);

#endif
