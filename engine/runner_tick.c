/*
 * runner_tick.c — one tick of one canary (see runner_int.h):
 * machine_tick() asks for observations one at a time; each is gathered
 * through the ops (runner_gather.c, outside the lock) and the tick runs
 * again until it completes, then its result is applied (runner_apply.c).
 *
 * Slow backends: a tick whose calls take time is suspended before its next
 * call when another canary is due or a command waits, and resumed after
 * them.  So a slow backend of one canary delays the others by one call at
 * most, never by the sum of its calls.
 */
#include <stdlib.h>

#include "engine/runner_int.h"
#include "util/xalloc.h"

/* Keeps a tick's observations to resume it later (see rn_run_tick). */
static void
suspend(struct rcan *c, const struct obs *o, int64_t at)
{
	if (c->run.resume == NULL) {
		c->run.resume = xmalloc(sizeof *c->run.resume);
		obs_init(c->run.resume);
	}
	obs_copy(c->run.resume, o, c->cfg->n_hooks, c->cfg->n_metrics);
	c->run.resume_at = at;
	c->run.suspended = true;
}

/* One tick of one canary (runner thread, no lock held).
 *
 * A slow backend must not stall the other canaries beyond one call: before
 * each call after the first, when this round has taken time and another
 * canary is due (or a command waits), the tick is suspended with what it
 * has gathered and resumed after them, at its own clock.  The tick is
 * deterministic in (status, observations, time), so it replays to the same
 * point; each round makes at least one call, so it always completes. */
void
rn_run_tick(struct runner *r, struct rcan *c, int64_t now)
{
	int64_t at = c->run.suspended ? c->run.resume_at : now;
	struct tick_in in = { .cfg = c->cfg, .st = &c->st, .obs = &r->tick.obs, .now_ms = at,
		.confirm = r->cfg.confirm, .entropy = rn_tick_entropy(r, c) };
	bool was_idle = c->st.phase == PHASE_INITIALIZED || phase_is_terminal(c->st.phase);
	bool called = false;
	char err[ERRMSG_MAX];
	enum need need;
	int guard;

	/* The lease was renewed when the tick began; a resumed round does
	 * not renew again (with the cluster store that is an API call). */
	if (!c->run.suspended && !rn_renew(r, c))
		return;
	if (c->run.reconcile)
		rn_reconcile(r, c, now);
	if (c->ctl.refused)
		return;
	rn_grow_scratch(r, c->cfg);
	if (c->run.suspended)
		obs_copy(&r->tick.obs, c->run.resume, c->cfg->n_hooks, c->cfg->n_metrics);
	else
		obs_reset(&r->tick.obs, c->cfg->n_hooks, c->cfg->n_metrics);
	c->run.suspended = false;
	for (guard = 0; guard < 32; guard++) {
		need = machine_tick(&in, &r->tick.out);
		if (need == NEED_NONE)
			break;
		if (called && rn_now_ms(r) > now && rn_others_waiting(r, c, rn_now_ms(r))) {
			suspend(c, &r->tick.obs, at);
			return;
		}
		rn_gather(r, c, need, r->tick.out.need_hook, at);
		called = true;
	}
	c->run.ticked = true;
	if (c->run.unsupported) {
		rn_refuse_canary(r, c, at, r->tick.obs.init_err[0] ? r->tick.obs.init_err : "not supported");
		return;
	}
	if (need != NEED_NONE)
		return;
	if (rn_apply(r, c, &r->tick.out, at, err))
		c->run.idle_checked = was_idle && c->st.phase == r->tick.out.st.phase;
}
