/*
 * runner_holder.c — the holder's side of the requests to it (the protocol
 * is in runner_request.c): each request above its acknowledgement runs
 * through rn_handle_command, the command path of the holder's own keys,
 * acknowledged in the save of the status it changed.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "engine/runner_int.h"
#include "util/log.h"
#include "util/status.h"

#define PENDING_MAX 8

/* Holder: runs rq on c as its own keys' command would, acknowledged in
 * the save of what it changed. */
static void
apply_request(struct runner *r, struct rcan *c, const struct cmd_request *rq, int64_t now)
{
	struct cmd_ack a = { .seq = rq->seq };
	struct command cmd = { .kind = rq->kind };
	char err[ERRMSG_MAX];
	uint64_t seq;

	snprintf(a.requester, sizeof a.requester, "%s", rq->requester);
	if (rq->kind >= CMD__COUNT) {
		snprintf(a.result, sizeof a.result, "not applied: not a command perch knows");
	} else if (rq->age_ms > REQUEST_WAIT_MS) {
		snprintf(a.result, sizeof a.result, "not applied: asked %lld s ago, after its "
		    "requester stopped waiting", (long long)(rq->age_ms / 1000));
	} else {
		snprintf(a.result, sizeof a.result, "applied");
		a.applied = true;	/* if a save writes it, it saves the change */
		r->cfg.store->ack(r->cfg.store_ctx, c->key, &a);
		seq = c->st.seq;
		snprintf(cmd.canary, sizeof cmd.canary, "%s", c->key);
		snprintf(cmd.actor, sizeof cmd.actor, "%s", rq->actor);
		rn_handle_command(r, &cmd, now);
		pthread_mutex_lock(&r->mu);
		snprintf(a.result, sizeof a.result, "%.*s", (int)sizeof a.result - 1, r->pub.status_msg);
		pthread_mutex_unlock(&r->mu);
		a.applied = c->st.seq != seq;
	}
	r->cfg.store->ack(r->cfg.store_ctx, c->key, &a);
	if (rn_save(r, c, &c->st, err) != ST_OK)
		log_warn("%s: the answer to %s's request is not saved yet: %s", c->key, rq->actor, err);
	rn_publish_msg(r, c, SEV_NORMAL, now, "%s requested by %s, %s by %s: %s",
	    rq->kind < CMD__COUNT ? command_name(rq->kind) : "a command", rq->actor,
	    a.applied ? "applied" : "not applied", r->actor, a.result);
}

void
rn_requests_poll(struct runner *r, int64_t now)
{
	struct cmd_request rq[PENDING_MAX];
	size_t i, j, n;

	for (i = 0; i < r->tab.n; i++) {
		struct rcan *c = r->tab.cs[i];

		if (c->run.req.waiting && !c->ctl.control) {
			rn_request_poll(r, c);
			continue;
		}
		c->run.req.waiting = false;	/* taken over since: ours to run */
		if (!c->ctl.control || c->ctl.refused || c->ctl.removed)
			continue;
		n = r->cfg.store->pending(r->cfg.store_ctx, c->key, rq, PENDING_MAX);
		for (j = 0; j < n && c->ctl.control; j++)
			apply_request(r, c, &rq[j], now);
	}
}
