/*
 * backend.h — metric backends: one struct metric_backend_ops for each
 * MetricTemplate spec.provider.type perch can query (METRIC_BACKEND_LIST),
 * and the set of backends a command uses (struct metric_backends), which
 * routes each query to the backend of its metric's type.  Built-in metrics
 * and inline queries are Prometheus' (the first backend of the list).
 *
 * `perch run` gives the engine the set's metrics_ops; `perch check`
 * evaluates through the same set (metric_backends_eval).  A MetricTemplate
 * of a type without a backend is refused when the canary is loaded
 * (app/canary_load.c), naming the template and the field.
 *
 * Adding a backend: a file under metrics/ defining
 * `const struct metric_backend_ops <type>_backend`, and its row in
 * METRIC_BACKEND_LIST.  docs/BACKENDS.md.
 *
 * Ownership: metric_backends_new/_free; what add is given is copied (the
 * credentials too: the caller wipes its own copy).  Threads: a set is
 * filled (add) before the engine starts, then evaluated from one thread at
 * a time (the engine thread, or the main thread of `perch check`).
 * Secrets are never printed or logged: errors name the template, the
 * Secret and the key, never a value.
 */
#ifndef PERCH_METRICS_BACKEND_H
#define PERCH_METRICS_BACKEND_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/backend_types.h"
#include "engine/canary.h"
#include "engine/providers.h"
#include "metrics/kube.h"

/* The backends, by MetricTemplate spec.provider.type; the first is the
 * default (built-in metrics, inline queries). */
#define METRIC_BACKEND_LIST(X) \
	X(prometheus) \
	X(graphite) \
	X(datadog) \
	X(newrelic) \
	X(influxdb) \
	X(externalmetrics) \
	X(dynatrace) \
	X(cloudwatch) \
	X(splunk) \
	X(stackdriver) \
	X(keptn)

#define X(type) extern const struct metric_backend_ops type##_backend;
METRIC_BACKEND_LIST(X)
#undef X

struct metric_backend_opts {
	int    connect_timeout_ms;	/* 0: the backend's default */
	int    timeout_ms;		/* one request on the wire; 0: the backend's default */
	int    deadline_ms;		/* a whole batch; 0: the backend's default */
	size_t max_body;		/* bytes of an answer; 0: the backend's default */
	/* The cluster, for the backends that read it (keptn); NULL: none.
	 * Borrowed: outlives the set. */
	const struct metric_kube *kube;
};

/* One MetricTemplate provider block, resolved by the caller. */
struct metric_provider {
	const char *address;		/* provider.address; NULL: the default server */
	const struct kv *headers;	/* provider.headers, in order */
	size_t      n_headers;
	bool        insecure;		/* insecureSkipVerify */
	const char *ca_file;		/* extra TLS trust (perch check --ca-file), or NULL */
	const char *region;		/* provider.region, or NULL */
	/* From the Secret of provider.secretRef: the values of the backend's
	 * secret_keys, in their order (NULL: that key is absent); NULL when
	 * there is no secretRef.  Borrowed for the call. */
	const char *const *secret;
	/* What makes the block distinct (an opaque key: type, address,
	 * secretRef, region, ...; a query's metric_cfg.block names it), or
	 * NULL: the block is its address.  Two blocks of one address (two
	 * address-less templates of one type with other Secrets or regions)
	 * are two blocks by their keys. */
	const char *block;
	/* "namespace/name" of the provider.secretRef Secret, or NULL: for
	 * messages only (never its values). */
	const char *secret_ref;
};

struct metric_backend_ops {
	enum metric_type type;		/* spec.provider.type (engine/backend_types.h) */
	/* The keys it reads from the provider's Secret, NULL-ended (NULL:
	 * none); each from data (base64) or else stringData. */
	const char *const *secret_keys;
	/* Whether a template of this type needs a secretRef (its keys are
	 * the provider's credentials): perch validate says so. */
	bool secret_required;
	/* Whether a query can be aimed at a past time (metric_query.at_ms:
	 * the window ending then), so that `perch replay --from --to` can
	 * re-evaluate the metrics of a past rollout; false: only now. */
	bool past;
	/* Without past: why not, for the messages that say so, or NULL. */
	const char *not_past_why;
	/* A new handle for every provider block of this type (a connection
	 * pool, ...).  Must not block or do I/O.  Never NULL. */
	void *(*open)(const struct metric_backend_opts *o);
	void (*close)(void *b);
	/* NULL when the handle can query, else why not (one line, the
	 * handle's string: "libcurl cannot be loaded ..."). */
	const char *(*unusable)(void *b);
	/* Whether the Secret's values (secret_keys order) are enough: ST_OK,
	 * or ST_INVALID with err ("has no token, nor both username and
	 * password"), never a value.  NULL: anything is. */
	int (*check_secret)(const char *const *values, char *err, size_t errsz);
	/* Adds or replaces a provider block (by block key, else by
	 * address); the first added is the default.  ST_OK, or ST_INVALID (no address when one is needed). */
	int (*add)(void *b, const struct metric_provider *p);
	/* Evaluates n queries, concurrently where it can, each against the
	 * provider block of its metric's server (q->metric->server, NULL: the
	 * default): out[i] a value (CHECK_PASS), no data, or CHECK_ERROR with
	 * `unavailable` set when the backend gave no answer (down, timed out,
	 * 5xx).  Values as the backend gives them: no unit conversion.
	 * Returns ST_OK unless the handle is unusable (then ST_UNSUPPORTED,
	 * every out[i] an error saying why). */
	int (*eval)(void *b, const struct metric_query *q, size_t n, struct metric_value *out);
	/* The samples of n queries over (at - range_ms, at] one every step_ms
	 * (a range query; the comparison judge, engine/compare.h), as eval
	 * for the rest.  NULL: the backend has no range queries; each
	 * compared metric of its type is then NoData ("no samples from
	 * <type>"). */
	int (*samples)(void *b, const struct metric_query *q, size_t n, int64_t range_ms,
	    int64_t step_ms, struct metric_samples *out);
	/* Whether the provider block at address (NULL: the default) answers
	 * (Flagger's IsOnline, reference §2.3 step 6): ST_OK, or an error with
	 * err (ERRMSG_MAX).  NULL: the backend is not probed. */
	int (*probe)(void *b, const char *address, char *err);
};

/* The backend of a spec.provider.type (NULL: the default), or NULL. */
const struct metric_backend_ops *metric_backend_find(const char *type);
/* "prometheus, ...": the types there is a backend for, cut to n bytes. */
void metric_backend_types(char *out, size_t n);
/* "<type> cannot query the past", with the backend's not_past_why in
 * parentheses when it has one, into out (n bytes). */
void metric_backend_not_past(const char *type, char *out, size_t n);

struct metric_backends;

/* Every backend of the list, opened with o (NULL: defaults). */
struct metric_backends *metric_backends_new(const struct metric_backend_opts *o);
void metric_backends_free(struct metric_backends *s);
/* The handle of a type's backend (NULL: the default's), or NULL: for its
 * own functions (a struct prom for prometheus, metrics/prom.h). */
void *metric_backends_handle(struct metric_backends *s, const char *type);
/* NULL when type's backend can query, else why not. */
const char *metric_backends_unusable(struct metric_backends *s, const char *type);
/* Adds a provider block to type's backend.  ST_OK; ST_UNSUPPORTED (no
 * backend for type) or the backend's refusal, with a one-line reason. */
int  metric_backends_add(struct metric_backends *s, const char *type,
    const struct metric_provider *p, char *err, size_t errsz);
/* Evaluates n queries, each by the backend of its metric's type
 * (q->metric->provider; no metric: the default), as the backends give the
 * values.  ST_OK, or the first backend's status that was not. */
int  metric_backends_eval(struct metric_backends *s, const struct metric_query *q, size_t n,
    struct metric_value *out);

/* metric_backends_eval for range samples (metrics_ops.samples). */
int  metric_backends_samples(struct metric_backends *s, const struct metric_query *q, size_t n,
    int64_t range_ms, int64_t step_ms, struct metric_samples *out);

/* The engine's metrics provider; ctx is a struct metric_backends.  On top
 * of metric_backends_eval: a query for a time ahead of real time (a scaled
 * engine clock) asks at the backend's now, and the built-in
 * request-duration comes back in whole milliseconds (metrics/builtin.h).
 * Its check probes the backends of the canary's metrics (ST_UNSUPPORTED,
 * nothing reported, when none of them has a probe); it is NULL (no probe
 * at initialization) when no backend of the list has a probe. */
const struct metrics_ops *metric_backends_engine_ops(void);

#endif
