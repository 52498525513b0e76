/*
 * replay.c — recorded analyses through the rollout state machine on a
 * replayed clock (see replay.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/replay.h"
#include "util/status.h"
#include "util/xalloc.h"

static const char *const decision_names[] = {
#define X(id, text, json) text,
	REPLAY_DECISION_LIST(X)
#undef X
};

static const char *const decision_ids[] = {
#define X(id, text, json) json,
	REPLAY_DECISION_LIST(X)
#undef X
};

static const char *const outcome_names[] = {
#define X(id, text) text,
	REPLAY_OUTCOME_LIST(X)
#undef X
};

const char *
replay_decision_name(enum replay_decision d)
{
	return (unsigned)d < REPLAY_DECISION__COUNT ? decision_names[d] : "?";
}

const char *
replay_decision_id(enum replay_decision d)
{
	return (unsigned)d < REPLAY_DECISION__COUNT ? decision_ids[d] : "?";
}

const char *
replay_outcome_name(enum replay_outcome o)
{
	return (unsigned)o < REPLAY_OUTCOME__COUNT ? outcome_names[o] : "?";
}

/* The replay in progress. */
struct rp {
	struct canary_cfg c;		/* cfg without hooks, gates and alerts */
	struct canary_status st;
	struct obs o;
	struct tick_out out;
	const char *rev;		/* the revision the target runs */
	const struct replay_analysis *a;
	size_t n, next;			/* analyses; the next one to feed */
	bool fed, starved;		/* this tick: metrics fed; none left */
	struct replay_result *res;
	size_t cap;
};

static const struct replay_value *
find_value(const struct replay_analysis *a, const char *metric)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		if (strcmp(a->v[i].metric, metric) == 0)
			return &a->v[i];
	return NULL;
}

/* Metric i of the configuration from the recorded analysis a. */
static void
feed_metric(struct rp *p, const struct replay_analysis *a, size_t i)
{
	const struct metric_cfg *m = &p->c.metrics[i];
	const struct replay_value *rv = find_value(a, m->name);
	struct metric_value *v = &p->o.values[i];

	memset(v, 0, sizeof *v);
	p->o.has_volume[i] = false;
	if (rv == NULL) {
		v->result = CHECK_NODATA;
		snprintf(v->err, sizeof v->err, "not recorded in this analysis");
		return;
	}
	if (rv->has_value) {
		v->result = CHECK_PASS;
		v->value = rv->value;
		if (rv->has_volume && machine_wants_volume(&p->c, m)) {
			p->o.has_volume[i] = true;
			p->o.volumes[i].result = CHECK_PASS;
			p->o.volumes[i].value = rv->volume;
		} else if (rv->result == CHECK_NODATA) {
			/* below the recorded minimum volume, which was not saved */
			v->result = CHECK_NODATA;
			snprintf(v->err, sizeof v->err, "request volume below the minimum (as recorded)");
		}
		return;
	}
	v->result = rv->result == CHECK_ERROR ? CHECK_ERROR : CHECK_NODATA;
	snprintf(v->err, sizeof v->err, "%s (as recorded)",
	    rv->result == CHECK_ERROR ? "query failed" : "no values found");
}

/* Gathers what the tick asks for from the replayed world. */
static void
gather(struct rp *p, enum need need, enum hook_type ht)
{
	size_t i;

	switch (need) {
	case NEED_INIT:
		p->o.init_status = ST_OK;
		break;
	case NEED_PROVIDERS:
		p->o.providers_status = ST_OK;
		break;
	case NEED_REVISION:
		p->o.rev_status = ST_OK;
		snprintf(p->o.rev.id, sizeof p->o.rev.id, "%s", p->rev);
		break;
	case NEED_PRIMARY:
		p->o.primary.ready = true;
		break;
	case NEED_CANARY:
		p->o.canary.ready = true;
		break;
	case NEED_HOOKS:
		p->o.hooks_have |= 1u << ht;
		return;
	case NEED_METRICS:
		if (p->next >= p->n) {
			p->starved = true;
			return;
		}
		for (i = 0; i < p->c.n_metrics; i++)
			feed_metric(p, &p->a[p->next], i);
		p->next++;
		p->fed = true;
		break;
	default:
		break;
	}
	p->o.have |= 1u << need;
}

/* One tick at now; false when it could not complete (no analysis left). */
static bool
tick(struct rp *p, int64_t now)
{
	struct tick_in in = { .cfg = &p->c, .st = &p->st, .obs = &p->o, .now_ms = now,
		.entropy = (uint64_t)now };
	size_t i;
	int guard = 0;

	obs_reset(&p->o, 0, p->c.n_metrics);
	p->fed = false;
	while (machine_tick(&in, &p->out) != NEED_NONE && ++guard < 32) {
		gather(p, p->out.need, p->out.need_hook);
		if (p->starved)
			return false;
	}
	if (p->out.need != NEED_NONE)
		return false;
	p->st = p->out.st;
	for (i = 0; i < p->out.n_acts; i++)
		if (p->out.acts[i].kind == ACT_PROMOTE && machine_promote_pending(&p->st))
			snprintf(p->st.last_promoted, sizeof p->st.last_promoted, "%s",
			    p->st.last_applied);
	return true;
}

static enum replay_decision
decide(const struct canary_status *before, const struct canary_status *after, bool held)
{
	if (after->phase == PHASE_FAILED)
		return REPLAY_ROLLBACK;
	if (after->phase == PHASE_PROMOTING || after->phase == PHASE_FINALISING ||
	    after->phase == PHASE_SUCCEEDED || after->phase == PHASE_WAITING_PROMOTION)
		return REPLAY_PROMOTE;
	if (held)
		return REPLAY_HOLD;
	if (after->failed_checks > before->failed_checks)
		return REPLAY_FAILED;
	if (after->canary_weight > before->canary_weight)
		return REPLAY_ADVANCE;
	if (after->iterations > before->iterations)
		return REPLAY_ITERATE;
	return REPLAY_STAY;
}

static void
record_step(struct rp *p, const struct canary_status *before, int64_t now)
{
	struct replay_result *r = p->res;
	struct replay_step *s;

	if (r->n_steps == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 16;
		r->steps = xrealloc(r->steps, p->cap * sizeof *r->steps);
	}
	s = &r->steps[r->n_steps++];
	memset(s, 0, sizeof *s);
	s->time_ms = now;
	s->analysis = p->next - 1;
	s->weight = before->canary_weight;
	s->weight_after = p->st.canary_weight;
	s->failed_checks = p->st.failed_checks;
	s->iteration = p->st.iterations;
	s->phase = p->st.phase;
	s->decision = decide(before, &p->st, p->out.held);
	s->n_checks = p->out.n_checks;
	memcpy(s->checks, p->out.checks, p->out.n_checks * sizeof *s->checks);
	snprintf(s->reason, sizeof s->reason, "%s", p->st.reason);
}

/* Ticks until the canary succeeds or fails, or the analyses run out. */
static void
drive(struct rp *p, int64_t now)
{
	struct canary_status before;
	int64_t step = (int64_t)(p->c.interval_s > 0 ? p->c.interval_s : 60) * 1000;
	int weight = 0;
	size_t ticks, max = 4 * p->n + 64;

	for (ticks = 0; ticks < max; ticks++) {
		before = p->st;
		if (!tick(p, now))
			break;
		if (p->fed)
			record_step(p, &before, now);
		if (before.canary_weight > 0)
			weight = before.canary_weight;
		if (p->st.phase == PHASE_FAILED || p->st.phase == PHASE_SUCCEEDED) {
			p->res->outcome = p->st.phase == PHASE_FAILED ? REPLAY_OUT_FAILED :
			    REPLAY_OUT_SUCCEEDED;
			p->res->end_ms = now;
			p->res->weight = weight;
			snprintf(p->res->reason, sizeof p->res->reason, "%s", p->st.reason);
			return;
		}
		now = p->st.next_tick_ms > now ? p->st.next_tick_ms : now + step;
	}
	p->res->outcome = REPLAY_OUT_UNDECIDED;
	p->res->end_ms = p->res->n_steps > 0 ? p->res->steps[p->res->n_steps - 1].time_ms : now;
	p->res->weight = p->st.canary_weight;
}

int
replay_run(const struct canary_cfg *cfg, int64_t start_ms, const struct replay_analysis *a,
    size_t n, struct replay_result *out, char *err, size_t errsz)
{
	struct rp p;
	int64_t step = (int64_t)(cfg->interval_s > 0 ? cfg->interval_s : 60) * 1000, t;
	int guard;
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = machine_check_cfg(cfg, err, errsz)) != ST_OK)
		return rc;
	memset(&p, 0, sizeof p);
	p.c = *cfg;
	p.c.hooks = NULL;
	p.c.n_hooks = 0;
	p.c.confirm = 0;
	p.c.alerts = NULL;
	p.c.n_alerts = 0;
	p.c.suspend = false;
	p.a = a;
	p.n = n;
	p.res = out;
	obs_init(&p.o);
	/* The primary made from "recorded-primary", one interval before the
	 * new revision arrives. */
	t = start_ms - step;
	machine_status_init(&p.st, t);
	p.rev = "recorded-primary";
	for (guard = 0; guard < 8 && p.st.phase != PHASE_INITIALIZED; guard++)
		if (!tick(&p, t))
			break;
	p.rev = "recorded-canary";
	drive(&p, start_ms);
	out->used = p.next;
	obs_fini(&p.o);
	return ST_OK;
}

void
replay_result_fini(struct replay_result *r)
{
	free(r->steps);
	memset(r, 0, sizeof *r);
}
