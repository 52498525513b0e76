/* helper_snapfix.c — the fixed snapshots of helper_snapfix.h. */
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "helper_snapfix.h"
#include "util/xalloc.h"

#define NOW SNAPFIX_NOW_MS

static void
add_metric(struct snap_canary *c, const char *name, enum metric_kind k, bool is_min,
    double bound, double base, double step, int n, int fail_from, int nodata_from)
{
	struct snap_metric *m;
	int i;

	c->metrics = xreallocarray(c->metrics, c->n_metrics + 1, sizeof *c->metrics);
	m = &c->metrics[c->n_metrics++];
	memset(m, 0, sizeof *m);
	m->name = xstrdup(name);
	m->kind = k;
	m->has_min = is_min;
	m->has_max = !is_min;
	m->min = is_min ? bound : 0;
	m->max = is_min ? 0 : bound;
	m->points = xcalloc((size_t)n, sizeof *m->points);
	m->n_points = (size_t)n;
	for (i = 0; i < n; i++) {
		struct snap_point *p = &m->points[i];

		p->t_ms = NOW - (int64_t)(n - i) * 30000;
		p->value = base + step * sin(i * 0.7);
		p->result = CHECK_PASS;
		if (fail_from >= 0 && i >= fail_from) {
			p->value = is_min ? bound - 4 - (i - fail_from) : bound * 1.3 + (i - fail_from) * 10;
			p->result = CHECK_FAIL;
		}
		if (nodata_from >= 0 && i >= nodata_from) {
			p->value = 0;
			p->result = CHECK_NODATA;
		}
	}
}

static void
add_event(struct snap_canary *c, int64_t ago_s, enum severity sev, const char *msg,
    const char *actor)
{
	struct snap_event *e;

	c->events = xreallocarray(c->events, c->n_events + 1, sizeof *c->events);
	e = &c->events[c->n_events++];
	e->t_ms = NOW - ago_s * 1000;
	e->severity = sev;
	e->message = xstrdup(msg);
	e->actor = xstrdup(actor);
}

static void
add_hook(struct snap_canary *c, const char *name, enum hook_type t, enum check_result last,
    const char *msg)
{
	struct snap_hook *h;

	c->hooks = xreallocarray(c->hooks, c->n_hooks + 1, sizeof *c->hooks);
	h = &c->hooks[c->n_hooks++];
	h->name = xstrdup(name);
	h->type = t;
	h->last = last;
	h->message = xstrdup(msg);
}

static struct snap_canary *
add_canary(struct snapshot *s, const char *name, enum phase ph, int weight, int step)
{
	static const int ladder[] = { 10, 20, 30, 40, 50 };
	struct snap_canary *c;

	s->canaries = xreallocarray(s->canaries, s->n_canaries + 1, sizeof *s->canaries);
	c = &s->canaries[s->n_canaries++];
	memset(c, 0, sizeof *c);
	c->ns = xstrdup("shop");
	c->name = xstrdup(name);
	c->target = xstrdup(name);
	c->provider = xstrdup("linkerd");
	c->strategy = STRATEGY_CANARY;
	c->phase = ph;
	c->weight = weight;
	c->max_weight = 50;
	c->ladder = xmalloc(sizeof ladder);
	memcpy(c->ladder, ladder, sizeof ladder);
	c->n_ladder = 5;
	c->step = step;
	c->threshold = 5;
	c->interval_s = 30;
	c->can_control = true;
	c->phase_since_ms = NOW - 90000;
	c->next_check_ms = NOW + 12000;
	c->rev_from = xasprintf("%s:v1", name);
	c->rev_to = xasprintf("%s:v2", name);
	c->reason = xstrdup("");
	return c;
}

static void
fixture_canaries(struct snapshot *s)
{
	struct snap_canary *c;

	c = add_canary(s, "checkout", PHASE_PROGRESSING, 30, 3);
	add_metric(c, "request-success-rate", METRIC_SUCCESS_RATE, true, 99, 99.6, 0.3, 40, -1, -1);
	add_metric(c, "request-duration", METRIC_DURATION, false, 500, 200, 25, 40, -1, -1);
	add_event(c, 330, SEV_NORMAL, "Initialization done! checkout.shop", "");
	add_event(c, 300, SEV_NORMAL, "Synced shop/checkout", "");
	add_event(c, 270, SEV_NORMAL, "Waiting for the next revision of checkout.shop", "");
	add_event(c, 240, SEV_NORMAL, "New revision detected! Scaling up checkout.shop", "");
	add_event(c, 210, SEV_NORMAL, "Starting canary analysis for checkout.shop", "");
	add_event(c, 180, SEV_NORMAL, "Advance checkout.shop canary weight 10", "");
	add_event(c, 120, SEV_NORMAL, "Advance checkout.shop canary weight 20", "");
	add_event(c, 95, SEV_WARNING, "Halt advancement no values found for custom metric: error-budget", "");
	add_event(c, 60, SEV_NORMAL, "Promote one step (manual)", "alice@laptop");
	add_event(c, 30, SEV_NORMAL, "Advance checkout.shop canary weight 30", "");

	c = add_canary(s, "payments", PHASE_WAITING_PROMOTION, 50, 5);
	c->gate = GATE_PROMOTION;
	c->phase_since_ms = NOW - 242000;
	add_hook(c, "acceptance-test", HOOK_PRE_ROLLOUT, CHECK_PASS, "");
	add_hook(c, "load-test", HOOK_ROLLOUT, CHECK_PASS, "");
	add_metric(c, "request-success-rate", METRIC_SUCCESS_RATE, true, 99, 99.9, 0.05, 20, -1, -1);
	add_metric(c, "request-duration", METRIC_DURATION, false, 500, 180, 10, 20, -1, -1);

	c = add_canary(s, "search", PHASE_FAILED, 0, 0);
	c->failed_checks = 5;
	c->phase_since_ms = NOW - 12000;
	free(c->reason);
	c->reason = xstrdup("request-success-rate 91.2% < 99% (5 of 5 checks)");
	add_hook(c, "smoke", HOOK_ROLLOUT, CHECK_FAIL, "HTTP 500: upstream connect error");
	add_hook(c, "notify-slack", HOOK_POST_ROLLOUT, CHECK_NODATA, "");
	add_metric(c, "request-success-rate", METRIC_SUCCESS_RATE, true, 99, 99.5, 0.2, 30, 25, -1);
	add_metric(c, "request-duration", METRIC_DURATION, false, 500, 300, 40, 30, 27, -1);
	add_event(c, 40, SEV_WARNING, "Halt checkout.shop advancement success rate 95.0% < 99%", "");
	add_event(c, 12, SEV_WARNING, "Rolling back search.shop failed checks threshold reached 5", "");
	add_event(c, 11, SEV_WARNING, "Canary failed! Scaling down search.shop", "");

	c = add_canary(s, "cart", PHASE_PROGRESSING, 10, 1);
	c->held = true;
	c->phase_since_ms = NOW - 400000;
	free(c->reason);
	c->reason = xstrdup("no traffic: 3 requests in 1m, need 100");
	add_metric(c, "request-success-rate", METRIC_SUCCESS_RATE, true, 99, 99.8, 0.1, 12, -1, 8);
	add_metric(c, "request-duration", METRIC_DURATION, false, 500, 150, 5, 12, -1, 8);

	c = add_canary(s, "profile", PHASE_SUCCEEDED, 0, 0);
	c->phase_since_ms = NOW - 7200000;
	add_metric(c, "request-success-rate", METRIC_SUCCESS_RATE, true, 99, 99.9, 0.02, 10, -1, -1);
	add_metric(c, "request-duration", METRIC_DURATION, false, 500, 150, 3, 10, -1, -1);

	c = add_canary(s, "ledger-blue-green-with-a-very-long-name", PHASE_PROGRESSING, 0, 0);
	c->strategy = STRATEGY_BLUEGREEN;
	c->iteration = 2;
	c->iterations = 10;
	c->paused = true;
	c->max_weight = 100;
	free(c->ns);
	c->ns = xstrdup("finance");
	add_metric(c, "error-budget", METRIC_CUSTOM, false, 0.5, 0.2, 0.1, 6, -1, -1);

	/* wide characters must stay inside their columns */
	c = add_canary(s, "支払い-gateway-東京-region-one", PHASE_INITIALIZING, 0, 0);
	c->phase_since_ms = NOW - 3000;
	add_event(c, 3, SEV_ERROR, "cannot reach the API server: 連絡できません (timeout after 10s)", "");
}

void
snapfix_facts(struct snapshot *s)
{
	size_t i;

	for (i = 0; i < s->n_canaries; i++) {
		struct snap_canary *c = &s->canaries[i];
		struct cmd_facts *f = &c->facts;

		memset(f, 0, sizeof *f);
		f->phase = c->phase;
		f->control = c->can_control;
		f->paused = c->paused;
		f->manual_gate = c->gate == GATE_ROLLOUT ? CONFIRM_ROLLOUT :
		    c->gate == GATE_PROMOTION ? CONFIRM_PROMOTION : 0;
		f->traffic_gate = c->gate == GATE_TRAFFIC;
		if (c->phase == PHASE_FAILED)
			snprintf(f->failed_rev, sizeof f->failed_rev, "%s", c->rev_to);
	}
}

struct snapshot *
snapfix_new(void)
{
	struct snapshot *s = snapshot_new();

	s->version = 7;
	s->now_ms = NOW;
	s->context = xstrdup("prod-eu");
	s->ns = xstrdup("shop");
	s->api_ok = true;
	s->metrics_ok = true;
	s->holder = xstrdup("");
	s->status_msg = xstrdup("");
	fixture_canaries(s);
	snapfix_facts(s);
	return s;
}
