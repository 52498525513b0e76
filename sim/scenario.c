/*
 * scenario.c — the scenario table and the demo canaries (see scenario.h).
 *
 * The numbers are chosen so that each scenario's outcome is clear-cut under
 * the canonical configuration: the healthy version's p99 is about 170 ms
 * against a 500 ms bound and its success rate 99.95% against 99%; the
 * faulty ones miss by a wide margin.
 */
#include <stdio.h>
#include <string.h>

#include "engine/routers.h"
#include "sim/scenario.h"
#include "util/xalloc.h"

static const char *const names[] = {
#define X(id, name, app, help) name,
	SCENARIO_LIST(X)
#undef X
};
static const char *const apps[] = {
#define X(id, name, app, help) app,
	SCENARIO_LIST(X)
#undef X
};
static const char *const helps[] = {
#define X(id, name, app, help) help,
	SCENARIO_LIST(X)
#undef X
};

/* Shared by every scenario: the released version and the pods.  Each row
 * states the rest (what the new revision does, traffic, readiness). */
#define BASE \
	.replicas = 3, .base_success = 0.9995, .base_median_ms = 60, .sigma = 0.45, \
	.canary_success = 0.9995, .primary_ready_s = 9
#define WEB(rps) .peak_rps = (rps), .profile = PROFILE_WEB

static const struct scenario_params params[SCN__COUNT] = {
	[SCN_HEALTHY] = { BASE, WEB(60), .canary_median_ms = 60, .canary_ready_s = 6 },
	[SCN_ERROR_SPIKE] = { BASE, WEB(80), .canary_median_ms = 60, .canary_ready_s = 6,
		.spike_weight = 30, .spike_success = 0.93 },
	[SCN_LATENCY_REGRESSION] = { BASE, WEB(50), .canary_median_ms = 240,
		.canary_ready_s = 6 },
	/* Local time 02:00 at the demo's start (14:00 UTC): an office
	 * service with nobody awake to use it for five hours. */
	[SCN_NO_TRAFFIC] = { BASE, .peak_rps = 40, .profile = PROFILE_OFFICE,
		.tz_offset_s = 12 * 3600, .canary_median_ms = 60, .canary_ready_s = 6 },
	[SCN_FLAPPING] = { BASE, WEB(60), .canary_median_ms = 60, .canary_ready_s = 6,
		.flap_period_s = 20, .flap_prob = 0.15, .flap_success = 0.95 },
	[SCN_SLOW_START] = { BASE, WEB(40), .canary_median_ms = 60, .canary_ready_s = 150 },
	[SCN_PROMOTION_FAILURE] = { BASE, WEB(50), .canary_median_ms = 60, .canary_ready_s = 6,
		.primary_fails = true },
	/* Twice the primary's latency: p99 about 340 ms against 170 ms. */
	[SCN_LATENCY_DRIFT] = { BASE, WEB(50), .canary_median_ms = 120, .canary_ready_s = 6 },
	[SCN_LATENCY_DRIFT_JUDGED] = { BASE, WEB(50), .canary_median_ms = 120, .canary_ready_s = 6 },
};

const char *
scenario_name(enum scenario s)
{
	return (int)s >= 0 && s < SCN__COUNT ? names[s] : "?";
}

const char *
scenario_app(enum scenario s)
{
	return (int)s >= 0 && s < SCN__COUNT ? apps[s] : "?";
}

const char *
scenario_help(enum scenario s)
{
	return (int)s >= 0 && s < SCN__COUNT ? helps[s] : "?";
}

int
scenario_from_name(const char *name)
{
	int i;

	for (i = 0; name != NULL && i < SCN__COUNT; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

const struct scenario_params *
scenario_params(enum scenario s)
{
	return (int)s >= 0 && s < SCN__COUNT ? &params[s] : &params[SCN_HEALTHY];
}

static void
known_names(char *dst, size_t dstsz)
{
	size_t len = 0;
	int i;

	dst[0] = '\0';
	for (i = 0; i < SCN__COUNT && len < dstsz; i++) {
		int n = snprintf(dst + len, dstsz - len, "%s%s", i ? ", " : "", names[i]);

		if (n < 0)
			break;
		len += (size_t)n;
	}
}

int
scenario_parse_list(const char *list, enum scenario *out, size_t max, char *err, size_t errsz)
{
	char word[64], known[256];
	const char *p = list, *end;
	size_t n = 0, len;
	int s;

	for (;;) {
		end = strchr(p, ',');
		len = end != NULL ? (size_t)(end - p) : strlen(p);
		if (len == 0 || len >= sizeof word) {
			snprintf(err, errsz, "empty or overlong scenario name in '%.64s'", list);
			return -1;
		}
		memcpy(word, p, len);
		word[len] = '\0';
		if ((s = scenario_from_name(word)) < 0) {
			known_names(known, sizeof known);
			snprintf(err, errsz, "unknown scenario '%s' (known: %s)", word, known);
			return -1;
		}
		if (n == max) {
			snprintf(err, errsz, "too many scenarios (at most %zu)", max);
			return -1;
		}
		out[n++] = (enum scenario)s;
		if (end == NULL)
			return (int)n;
		p = end + 1;
	}
}

static void
builtin_metric(struct metric_cfg *m, enum metric_kind kind)
{
	m->name = xstrdup(metric_kind_name(kind));
	m->kind = kind;
	m->interval_s = 60;
	m->interval = xstrdup("1m");
	if (kind == METRIC_SUCCESS_RATE) {
		m->has_min = true;
		m->min = 99;
	} else {
		m->has_max = true;
		m->max = 500;
	}
}

struct canary_cfg *
scenario_canary(enum scenario s, const char *ns, const char *name, unsigned confirm)
{
	struct canary_cfg *c = xcalloc(1, sizeof *c);

	c->ns = xstrdup(ns);
	c->name = xstrdup(name);
	c->target = xstrdup(name);
	c->target_kind = xstrdup("Deployment");
	c->service = xstrdup(name);
	c->provider = xstrdup(provider_name(PROV_LINKERD));
	c->port = 8080;
	c->strategy = STRATEGY_CANARY;
	c->interval_s = 30;
	c->threshold = 5;
	c->max_weight = 50;
	c->step_weight = 10;
	c->primary_ready_threshold = 100;
	c->canary_ready_threshold = 100;
	c->progress_deadline_s = 600;
	c->nodata = NODATA_HOLD;
	c->min_requests = 10;
	c->confirm = confirm;
	c->n_metrics = 2;
	c->metrics = xcalloc(2, sizeof *c->metrics);
	builtin_metric(&c->metrics[0], METRIC_SUCCESS_RATE);
	builtin_metric(&c->metrics[1], METRIC_DURATION);
	switch (s) {
	case SCN_NO_TRAFFIC:
		c->progress_deadline_s = 300;
		break;
	case SCN_FLAPPING:
		c->threshold = 4;
		break;
	case SCN_PROMOTION_FAILURE:
		c->progress_deadline_s = 120;
		break;
	case SCN_LATENCY_DRIFT_JUDGED:
		judge_config_init(&c->judge);
		judge_config_apply(&c->judge, "perch.dev/compare", "request-duration=increase", NULL, 0);
		break;
	default:
		break;
	}
	return c;
}
