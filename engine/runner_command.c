/*
 * runner_command.c — manual commands (see runner_int.h): what other
 * threads hand in (runner_command, runner_wake, runner_post), and a
 * command judged on the facts of its canary (engine/command.h) with fresh
 * observations, then applied as a tick's result is.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "engine/runner_int.h"
#include "util/sanitize.h"
#include "util/status.h"
#include "util/xalloc.h"

/* The facts commands on c are judged on (engine/command.h): its status,
 * who controls it, the gate its last tick stopped at, and the readiness
 * last observed (or, for a command, observed just now: fresh).  The
 * strings are sanitized: they reach the screen.  mu held, or the runner
 * thread. */
static void
canary_facts(const struct runner *r, const struct rcan *c, const struct readiness *primary,
    const struct readiness *canary, const char *target_rev, struct cmd_facts *f)
{
	char tmp[sizeof f->canary_why];

	machine_facts(c->cfg, &c->st, r->cfg.confirm, primary, canary, target_rev, f);
	f->watch = r->cfg.observer;
	f->corrupt = c->ctl.corrupt;
	f->deleted = c->ctl.removed || c->ctl.terminating;
	f->refused = c->ctl.refused;
	sanitize(f->refused_why, sizeof f->refused_why, c->ctl.err, c->ctl.refused ? strlen(c->ctl.err) : 0);
	f->driven = c->cfg->driven_by != NULL;
	f->driven_hooks = 0;
	for (size_t i = 0; f->driven && i < c->cfg->n_hooks; i++)
		f->driven_hooks |= 1u << c->cfg->hooks[i].type;
	f->control = c->ctl.control && !c->ctl.readonly && !c->ctl.corrupt && !c->ctl.refused && !r->cfg.observer;
	snprintf(f->holder, sizeof f->holder, "%s", c->ctl.readonly ? c->ctl.holder : "");
	f->requestable = !f->control && c->ctl.readonly && rn_requests(r);
	f->traffic_gate = c->st.gate == GATE_TRAFFIC;
	memcpy(tmp, f->canary_why, sizeof tmp);
	sanitize(f->canary_why, sizeof f->canary_why, tmp, strnlen(tmp, sizeof tmp));
	memcpy(tmp, f->primary_why, sizeof tmp);
	sanitize(f->primary_why, sizeof f->primary_why, tmp, strnlen(tmp, sizeof tmp));
	memcpy(tmp, f->target_rev, sizeof f->target_rev);
	sanitize(f->target_rev, sizeof f->target_rev, tmp, strnlen(tmp, sizeof f->target_rev));
	memcpy(tmp, f->failed_rev, sizeof f->failed_rev);
	sanitize(f->failed_rev, sizeof f->failed_rev, tmp, strnlen(tmp, sizeof f->failed_rev));
}

/* The facts of the last observations (snapshots). mu held. */
void
rn_known_facts(const struct runner *r, const struct rcan *c, struct cmd_facts *f)
{
	canary_facts(r, c, c->seen.ready_known[0] ? &c->seen.ready[0] : NULL,
	    c->seen.ready_known[1] ? &c->seen.ready[1] : NULL, NULL, f);
}

/* Observes, now, what the preconditions of cmd ask about (readiness, the
 * target's revision for a retry) into r->tick.obs, and builds the facts. */
static void
fresh_facts(struct runner *r, struct rcan *c, enum command_kind cmd, int64_t now,
    struct cmd_facts *f)
{
	unsigned pre = command_preconds(cmd);
	bool fits = (command_phases(cmd) & (1u << c->st.phase)) != 0;
	struct obs *o = &r->tick.obs;

	rn_grow_scratch(r, c->cfg);
	obs_reset(o, c->cfg->n_hooks, c->cfg->n_metrics);
	if (fits && (pre & PRE(FAILED_REV)))
		rn_gather(r, c, NEED_REVISION, HOOK_ROLLOUT, now);
	if (fits && (pre & PRE(PRIMARY_READY)) && !c->cfg->skip_analysis)
		rn_gather(r, c, NEED_PRIMARY, HOOK_ROLLOUT, now);
	if (fits && (pre & PRE(CANARY_READY)))
		rn_gather(r, c, NEED_CANARY, HOOK_ROLLOUT, now);
	pthread_mutex_lock(&r->mu);
	canary_facts(r, c, (o->have & (1u << NEED_PRIMARY)) ? &o->primary : NULL,
	    (o->have & (1u << NEED_CANARY)) ? &o->canary : NULL,
	    (o->have & (1u << NEED_REVISION)) && o->rev_status == ST_OK ? o->rev.id : NULL, f);
	pthread_mutex_unlock(&r->mu);
}

/* A command on a canary another controller drives: that controller's own
 * control (cluster_ops.external_command), or why there is none. */
static void
driven_command(struct runner *r, struct rcan *c, const struct command *cmd,
    const struct cmd_facts *f)
{
	const struct cluster_ops *cl = r->cfg.cluster;
	char msg[ERRMSG_MAX + 600], why[400], answer[ERRMSG_MAX] = "";
	int rc;

	if (!command_allowed(cmd->kind, f, why, sizeof why, NULL)) {
		snprintf(msg, sizeof msg, "%s %s refused: %s", c->cfg->name, command_name(cmd->kind), why);
	} else if (cl->external_command == NULL) {
		snprintf(msg, sizeof msg, "%s %s refused: this backend cannot reach %s", c->cfg->name,
		    command_name(cmd->kind), c->cfg->driven_by);
	} else {
		rc = cl->external_command(r->cfg.cluster_ctx, c->cfg, cmd->kind, f->paused,
		    cmd->actor[0] ? cmd->actor : r->actor, answer, sizeof answer);
		snprintf(msg, sizeof msg, "%s %s%s: %s", c->cfg->name, command_name(cmd->kind),
		    rc == ST_OK ? "" : " failed", answer[0] ? answer : status_text(rc));
	}
	rn_set_status_msg(r, c->key, msg);
}

void
rn_handle_command(struct runner *r, const struct command *cmd, int64_t now)
{
	struct tick_in in;
	struct rcan *c = rn_find(r, cmd->canary);
	struct cmd_facts f;
	char msg[ERRMSG_MAX + 600], err[ERRMSG_MAX], why[400];
	enum precond failed;

	if (c == NULL) {
		snprintf(msg, sizeof msg, "%s refused: no canary %s", command_name(cmd->kind), cmd->canary);
		rn_set_status_msg(r, cmd->canary, msg);
		return;
	}
	pthread_mutex_lock(&r->mu);
	rn_known_facts(r, c, &f);
	pthread_mutex_unlock(&r->mu);
	if (c->cfg->driven_by != NULL && !r->cfg.observer) {
		driven_command(r, c, cmd, &f);
		return;
	}
	if (f.requestable && !c->ctl.control) {
		rn_request(r, c, cmd, &f, now);
		return;
	}
	if (!command_allowed(cmd->kind, &f, why, sizeof why, &failed) && failed == PRE_CONTROL) {
		/* Not ours to change: answered, never journalled. */
		if (r->cfg.observer)
			snprintf(msg, sizeof msg, "%s", why);
		else
			snprintf(msg, sizeof msg, "%s %s refused: %s", c->cfg->name,
			    command_name(cmd->kind), why);
		rn_set_status_msg(r, c->key, msg);
		return;
	}
	/* A suspended tick was read against the old status: it starts over. */
	c->run.suspended = false;
	fresh_facts(r, c, cmd->kind, now, &f);
	in = (struct tick_in){ .cfg = c->cfg, .st = &c->st, .now_ms = now, .confirm = r->cfg.confirm,
		.entropy = rn_tick_entropy(r, c), .obs = &r->tick.obs, .facts = &f };
	machine_command(&in, cmd->kind, cmd->actor[0] ? cmd->actor : r->actor, &r->tick.out);
	if (!rn_apply(r, c, &r->tick.out, now, err)) {
		snprintf(msg, sizeof msg, "%s %s failed: cannot save state: %s", c->cfg->name,
		    command_name(cmd->kind), err);
		rn_set_status_msg(r, c->key, msg);
		return;
	}
	rn_set_status_msg(r, c->key, r->tick.out.answer);
	pthread_mutex_lock(&r->mu);
	if (c->st.phase != PHASE_INITIALIZING)
		rn_schedule(r, c, c->st.next_tick_ms > now ? c->st.next_tick_ms : now);
	pthread_mutex_unlock(&r->mu);
}

void
runner_command(struct runner *r, const struct command *cmd)
{
	pthread_mutex_lock(&r->mu);
	if (!r->life.started || r->life.finished) {
		snprintf(r->pub.status_msg, sizeof r->pub.status_msg, "%s refused: the engine is not running",
		    command_name(cmd->kind));
		snprintf(r->pub.status_canary, sizeof r->pub.status_canary, "%s", cmd->canary);
		r->pub.status_seq++;
		r->pub.version++;
		pthread_mutex_unlock(&r->mu);
		return;
	}
	if (r->inbox.qn == r->inbox.qcap) {
		r->inbox.qcap = r->inbox.qcap ? r->inbox.qcap * 2 : 8;
		r->inbox.q = xreallocarray(r->inbox.q, r->inbox.qcap, sizeof *r->inbox.q);
	}
	r->inbox.q[r->inbox.qn++] = *cmd;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->mu);
}

void
runner_wake(struct runner *r, const char *canary)
{
	struct rcan *c;

	pthread_mutex_lock(&r->mu);
	/* The index changes under mu (runner_adopt). */
	if (r->life.started && !r->life.finished && (c = rn_find(r, canary)) != NULL) {
		c->sched.wake = true;
		r->sched.wake_pending = true;
		pthread_cond_broadcast(&r->cond);
	}
	pthread_mutex_unlock(&r->mu);
}

void
runner_post(struct runner *r, void (*fn)(struct runner *r, void *arg), void *arg)
{
	pthread_mutex_lock(&r->mu);
	if (!r->life.started || r->life.finished) {
		pthread_mutex_unlock(&r->mu);
		fn(NULL, arg);
		return;
	}
	if (r->inbox.n_tasks == r->inbox.cap_tasks) {
		r->inbox.cap_tasks = r->inbox.cap_tasks ? r->inbox.cap_tasks * 2 : 8;
		r->inbox.tasks = xreallocarray(r->inbox.tasks, r->inbox.cap_tasks, sizeof *r->inbox.tasks);
	}
	r->inbox.tasks[r->inbox.n_tasks++] = (struct task){ fn, arg };
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->mu);
}
