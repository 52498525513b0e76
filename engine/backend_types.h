/*
 * backend_types.h — the registry of the other two kinds of provider: the
 * MetricTemplate spec.provider.type names (METRIC_TYPE_LIST) and the
 * AlertProvider spec.type names (ALERT_TYPE_LIST), Flagger's, with what a
 * template of each must give.  Like engine/routers.h (traffic providers),
 * this is the only place where these names are written or compared:
 * spec/ (the schema's lists, validation), metrics/ (the backends and the
 * alert formats) and app/ ask here, by id or capability.
 * tests/lint_providers.sh fails on one of these names written anywhere
 * else in the code.
 *
 * Adding a metric backend: its row here exists already (Flagger's types);
 * add the backend to METRIC_BACKEND_LIST (metrics/backend.h).  Adding an
 * alert format: a row in ALERT_TYPE_LIST and its `<format>_format`
 * (metrics/alert_format.h).  docs/BACKENDS.md.
 *
 * Pure data and functions; any thread.
 */
#ifndef PERCH_ENGINE_BACKEND_TYPES_H
#define PERCH_ENGINE_BACKEND_TYPES_H

enum {
	MT_NEEDS_ADDRESS = 1 << 0,	/* spec.provider.address is required */
	MT_NEEDS_REGION  = 1 << 1,	/* spec.provider.region is required */
};

/* X(ID, "spec.provider.type", caps), in the order of the schema's list;
 * the first is the default (a template without a type, built-in metrics). */
#define METRIC_TYPE_LIST(X) \
	X(PROMETHEUS,      "prometheus",      MT_NEEDS_ADDRESS) \
	X(INFLUXDB,        "influxdb",        MT_NEEDS_ADDRESS) \
	X(DATADOG,         "datadog",         0) \
	X(EXTERNALMETRICS, "externalmetrics", 0) \
	X(STACKDRIVER,     "stackdriver",     0) \
	X(CLOUDWATCH,      "cloudwatch",      MT_NEEDS_REGION) \
	X(NEWRELIC,        "newrelic",        0) \
	X(GRAPHITE,        "graphite",        MT_NEEDS_ADDRESS) \
	X(DYNATRACE,       "dynatrace",       MT_NEEDS_ADDRESS) \
	X(KEPTN,           "keptn",           0) \
	X(SPLUNK,          "splunk",          MT_NEEDS_ADDRESS)

enum metric_type {
#define X(id, name, caps) MT_##id,
	METRIC_TYPE_LIST(X)
#undef X
	MT__COUNT
};

#define MT_DEFAULT MT_PROMETHEUS

/* X(ID, "spec.type", format): each with its payload builder
 * `<format>_format` (metrics/alert_format.h), in the schema's order. */
#define ALERT_TYPE_LIST(X) \
	X(SLACK,   "slack",   slack) \
	X(MSTEAMS, "msteams", msteams) \
	X(DISCORD, "discord", discord) \
	X(ROCKET,  "rocket",  rocket) \
	X(GCHAT,   "gchat",   gchat)

/* The name of a metric type. */
const char *metric_type_name(enum metric_type t);
/* The id of a spec.provider.type name (NULL: the default), or -1. */
int metric_type_find(const char *name);
/* The MT_* flags of a type name (unknown names have none). */
unsigned metric_type_caps(const char *name);
/* The schema's lists (spec/load.c), NULL-ended. */
extern const char *const metric_type_schema_names[];
extern const char *const alert_type_schema_names[];

#endif
