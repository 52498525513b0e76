/*
 * runner_request.c — commands on a canary another process holds, the
 * requester's side (see runner_int.h and store_ops request/pending/ack/
 * answer); the holder's side is runner_holder.c.
 *
 * The requester (a perch run whose canary is held by a controller or by
 * another terminal) writes the command as a request through its store and
 * waits: about every REQUEST_POLL_MS it reads the holder's
 * acknowledgement; one at or above its request's seq answers it ("applied
 * by"), none after REQUEST_WAIT_MS (two lease renewal periods) gives up,
 * naming the holder.  One request per canary waits at a time.  Both
 * sides count REQUEST_WAIT_MS on the wall clock, from the time written in
 * the request (the store's answer and pending report its age): the two
 * processes share no engine clock (PERCH_TIME_SCALE, a replay, a
 * simulation), and the person waiting for the answer waits real seconds.
 *
 * The holder (the same runner, whatever the front end) reads the pending
 * requests of each canary it controls as often, and runs each through the
 * command path of its own keys (rn_handle_command) as the person who asked.
 * Its acknowledgement is staged before the command runs, so the save that
 * writes the command's status writes it too: a request is applied once,
 * whatever crashes or takeovers come between.  A second save carries the
 * command's answer.  A request older than REQUEST_WAIT_MS (its requester
 * gave up: a holder that was stopped, a takeover) is acknowledged as not
 * applied.  The holder records each in the canary's journal (the
 * requester, which holds nothing, only logs it).
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "engine/runner_int.h"
#include "util/log.h"
#include "util/status.h"

bool
rn_requests(const struct runner *r)
{
	const struct store_ops *s = r->cfg.store;

	return s != NULL && !r->cfg.observer && s->request != NULL && s->pending != NULL &&
	    s->ack != NULL && s->answer != NULL;
}

static const char *
holder_name(const char *h)
{
	return h && *h ? h : "its holder";
}

void
rn_request(struct runner *r, struct rcan *c, const struct command *cmd,
    const struct cmd_facts *f, int64_t now)
{
	struct cmd_request rq = { .kind = cmd->kind };
	char err[ERRMSG_MAX] = "", why[400], msg[ERRMSG_MAX + 600];
	const char *name = command_name(cmd->kind);

	if (c->run.req.waiting) {
		snprintf(msg, sizeof msg, "%s %s not requested: %s is still waiting for %s", c->cfg->name,
		    name, command_name(c->run.req.kind), holder_name(c->run.req.holder));
	} else if (!command_allowed(cmd->kind, f, why, sizeof why, NULL)) {
		snprintf(msg, sizeof msg, "%s %s refused: %s", c->cfg->name, name, why);
	} else {
		snprintf(rq.actor, sizeof rq.actor, "%s", cmd->actor[0] ? cmd->actor : r->actor);
		if (r->cfg.store->request(r->cfg.store_ctx, c->key, &rq, err) != ST_OK) {
			snprintf(msg, sizeof msg, "%s %s %s", c->cfg->name, name, err);
			log_warn("%s: %s %s", c->key, name, err);
		} else {
			c->run.req = (struct rreq){ .waiting = true, .seq = rq.seq, .kind = cmd->kind };
			snprintf(c->run.req.holder, sizeof c->run.req.holder, "%s", holder_name(f->holder));
			snprintf(msg, sizeof msg, "requested: %s %s (waiting for %s)", c->cfg->name, name,
			    c->run.req.holder);
			log_info("%s: %s requested by %s of %s", c->key, name, rq.actor,
			    c->run.req.holder);
			r->watch.next_request = now + REQUEST_POLL_MS / 4;
		}
	}
	rn_set_status_msg(r, c->key, msg);
}

/* Requester: the holder's answer to c's waiting request, or the end of
 * the wait. */
void
rn_request_poll(struct runner *r, struct rcan *c)
{
	struct rreq *q = &c->run.req;
	struct cmd_ack a;
	char msg[ERRMSG_MAX + 600];
	const char *name = command_name(q->kind);

	if (r->cfg.store->answer(r->cfg.store_ctx, c->key, "", &a) == ST_OK && a.seq >= q->seq) {
		snprintf(msg, sizeof msg, "%s %s %s by %s: %s", c->cfg->name, name,
		    a.applied ? "applied" : "not applied", holder_name(a.applied_by), a.result);
	} else if (a.wait_ms > REQUEST_WAIT_MS) {
		snprintf(msg, sizeof msg, "%s %s not applied: %s did not answer within %d s "
		    "(stopped, or cut off from the API server)", c->cfg->name, name, q->holder,
		    REQUEST_WAIT_MS / 1000);
		log_warn("%s", msg);
	} else {
		return;
	}
	q->waiting = false;
	rn_set_status_msg(r, c->key, msg);
}
