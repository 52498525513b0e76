/*
 * runner_notify.c — the notifier thread (see runner_int.h).
 *
 * Cluster events, event webhooks, post-rollout hooks and alerts (whose
 * answers change nothing) are queued, in order, for the notifier thread,
 * which the engine thread starts and joins: it sends them one call at a
 * time, so a receiver that hangs delays no tick and no command.  The queue
 * is bounded (NOTE_MAX, dropping the oldest with one warning).  The
 * notifier changes no canary and publishes nothing: a post-rollout hook's
 * answer and an alert that failed go back to the engine thread (nt.res),
 * which records them at its next wake (rn_take_results,
 * runner_journal.c).  stop_when_done ends once the queue is empty too; at
 * the end of the run what is still queued is sent, each call bounded by
 * its own timeout, before the thread ends.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/runner_int.h"
#include "util/log.h"
#include "util/status.h"
#include "util/xalloc.h"

/* A new notification (runner thread), filled in by the caller and then
 * queued with rn_note_queue. */
void
rn_note_init(struct note *n, struct rcan *c, int hook, enum phase phase, int64_t t)
{
	memset(n, 0, sizeof *n);
	n->c = c;
	n->cfg = c->cfg;
	n->gen = c->ctl.gen;
	n->hook = hook;
	n->alert = -1;
	n->asev = ALERT_INFO;
	n->sev = SEV_NORMAL;
	n->phase = phase;
	n->t = t;
	snprintf(n->checksum, sizeof n->checksum, "%s", c->st.last_applied);
}

/* Appends n to the notifier's queue and wakes it (runner thread, mu not
 * held).  When the queue is full (receivers slower than the events), the
 * oldest is dropped and counted. */
void
rn_note_queue(struct runner *r, const struct note *n)
{
	pthread_mutex_lock(&r->mu);
	if (r->nt.n == r->nt.cap && r->nt.cap < NOTE_MAX) {
		size_t ncap = r->nt.cap ? r->nt.cap * 2 : 16, i;
		struct note *nn = xreallocarray(NULL, ncap, sizeof *nn);

		for (i = 0; i < r->nt.n; i++)
			nn[i] = r->nt.notes[(r->nt.head + i) % r->nt.cap];
		free(r->nt.notes);
		r->nt.notes = nn;
		r->nt.cap = ncap;
		r->nt.head = 0;
	}
	if (r->nt.n == r->nt.cap) {
		if (r->nt.dropped++ == 0)
			log_warn("notifications are slower than events: dropping the oldest");
		r->nt.head = (r->nt.head + 1) % r->nt.cap;
		r->nt.n--;
	}
	r->nt.notes[(r->nt.head + r->nt.n++) % r->nt.cap] = *n;
	pthread_cond_signal(&r->nt.cond);
	pthread_mutex_unlock(&r->mu);
}

void
rn_note_push(struct runner *r, struct rcan *c, int hook, const struct mach_event *e, int64_t t,
    const char *msg)
{
	struct note n;

	rn_note_init(&n, c, hook, c->st.phase, t);
	n.sev = e->sev;
	snprintf(n.msg, sizeof n.msg, "%s", msg);
	rn_note_queue(r, &n);
}

/* A result for the runner thread (notifier thread, mu held); wakes it. */
static struct nres *
nres_new(struct runner *r, const struct note *n)
{
	struct nres *x;

	if (r->nt.res_n == r->nt.res_cap) {
		r->nt.res_cap = r->nt.res_cap ? r->nt.res_cap * 2 : 8;
		r->nt.res = xreallocarray(r->nt.res, r->nt.res_cap, sizeof *r->nt.res);
	}
	x = &r->nt.res[r->nt.res_n++];
	memset(x, 0, sizeof *x);
	x->c = n->c;
	x->gen = n->gen;
	x->t = n->t;
	pthread_cond_broadcast(&r->cond);
	return x;
}

/* One post-rollout hook, called (notifier thread, no lock held).  Hooks of
 * one type stop at the first failure (reference §5.1): the notifier skips
 * the rest of a batch that failed (*failed).  The answer goes back to the
 * runner, which records it (post_answer, runner_journal.c). */
static void
note_post(struct runner *r, const struct note *n, uint64_t *failed)
{
	const struct canary_cfg *cfg = n->cfg;
	struct hook_call call = {
		.canary = cfg, .hook = &cfg->hooks[n->hook], .phase = n->phase,
		.checksum = n->checksum,
	};
	struct hook_result res;

	if (*failed == n->batch)
		return;
	memset(&res, 0, sizeof res);
	if (r->cfg.webhook->call(r->cfg.webhook_ctx, &call, 1, &res) < 1)
		snprintf(res.msg, sizeof res.msg, "not called");
	if (!res.ok)
		*failed = n->batch;
	pthread_mutex_lock(&r->mu);
	{
		struct nres *x = nres_new(r, n);

		x->post = true;
		x->hook = n->hook;
		x->res = res;
	}
	pthread_mutex_unlock(&r->mu);
}

/* One alert to one analysis.alerts entry (notifier thread, no lock held);
 * a failure is logged and handed to the runner as a Warning event (the
 * backend's reason holds no secret). */
static void
note_alert(struct runner *r, const struct note *n)
{
	const struct canary_cfg *cfg = n->cfg;
	const struct alert_cfg *a = &cfg->alerts[n->alert];
	struct alert_field fields[MACH_ALERT_FIELDS];
	struct mach_alert_buf fb = { "", "", "", "" };
	struct alert_msg msg = {
		.canary = cfg, .alert = a, .severity = n->asev, .message = n->msg,
		.fields = fields,
		.n_fields = n->meta ? machine_alert_fields(cfg, fields, &fb) : 0,
	};
	const char *pns = a->provider_ns != NULL ? a->provider_ns : cfg->ns;
	char err[ERRMSG_MAX] = "";
	int st;

	st = r->cfg.alert->send(r->cfg.alert_ctx, &msg, err);
	if (st == ST_OK) {
		log_debug("%s/%s: alert %s sent to AlertProvider %s/%s: %s", cfg->ns, cfg->name,
		    a->name, pns, a->provider, n->msg);
		return;
	}
	log_warn("%s/%s: alert %s to AlertProvider %s/%s not sent: %s", cfg->ns, cfg->name,
	    a->name, pns, a->provider, err[0] ? err : status_text(st));
	pthread_mutex_lock(&r->mu);
	snprintf(nres_new(r, n)->msg, MACH_MSG_MAX,
	    "Alert %s to AlertProvider %s/%s not sent: %.200s", a->name, pns, a->provider,
	    err[0] ? err : status_text(st));
	pthread_mutex_unlock(&r->mu);
}

/* Sends one notification (notifier thread, no lock held). */
static void
note_send(struct runner *r, const struct note *n, uint64_t *failed)
{
	const struct canary_cfg *cfg = n->cfg;

	if (n->post) {
		note_post(r, n, failed);
	} else if (n->alert >= 0) {
		note_alert(r, n);
	} else if (n->hook < 0) {
		r->cfg.cluster->emit_event(r->cfg.cluster_ctx, cfg, n->sev, n->msg);
	} else {
		struct hook_call call = {
			.canary = cfg, .hook = &cfg->hooks[n->hook], .phase = n->phase,
			.checksum = n->checksum, .event_message = n->msg,
			.event_type = n->sev, .event_time_ms = n->t,
		};
		struct hook_result res;

		/* Event hooks are notifications: every one is called. */
		r->cfg.webhook->call(r->cfg.webhook_ctx, &call, 1, &res);
	}
}

/* Frees the configurations replaced while a note of theirs was being sent
 * (mu held; nothing else uses them). */
void
rn_free_retired(struct runner *r)
{
	size_t i;

	for (i = 0; i < r->nt.n_retired; i++)
		canary_cfg_free(r->nt.retired[i]);
	free(r->nt.retired);
	r->nt.retired = NULL;
	r->nt.n_retired = 0;
}

/* The notifier thread: sends the queued notifications one at a time, in
 * order, until told to stop with none left.  It wakes the runner when the
 * queue runs dry (stop_when_done waits for that) and with each result. */
void *
rn_notifier_main(void *arg)
{
	struct runner *r = arg;
	uint64_t failed = 0;		/* the batch of post-rollout hooks that failed */

	pthread_mutex_lock(&r->mu);
	for (;;) {
		struct note n;

		while (r->nt.n == 0 && !r->nt.stop)
			pthread_cond_wait(&r->nt.cond, &r->mu);
		if (r->nt.drop && r->nt.n > 0) {	/* runner_drop_notes */
			r->nt.dropped += r->nt.n;
			r->nt.n = 0;
			pthread_cond_broadcast(&r->cond);
			continue;
		}
		if (r->nt.n == 0)
			break;
		n = r->nt.notes[r->nt.head];
		r->nt.head = (r->nt.head + 1) % r->nt.cap;
		r->nt.n--;
		/* A note of a configuration replaced since is dropped. */
		if (n.gen == n.c->ctl.gen) {
			r->nt.busy = true;
			r->nt.sending = n.cfg;
			pthread_mutex_unlock(&r->mu);
			note_send(r, &n, &failed);
			pthread_mutex_lock(&r->mu);
			r->nt.busy = false;
			r->nt.sending = NULL;
			rn_free_retired(r);
		}
		if (r->nt.n == 0)	/* the runner may wait for this */
			pthread_cond_broadcast(&r->cond);
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

/* Whether the notifier has work left or results wait (mu held).  Without
 * a notifier (it could not start) nothing is ever sent: nothing waits. */
bool
rn_notes_pending(const struct runner *r)
{
	return r->nt.running && (r->nt.n > 0 || r->nt.busy || r->nt.res_n > 0);
}

/* c's configuration old is replaced (mu held, c->ctl.gen moved on so that its
 * pending hooks and alerts are dropped): true when the notifier is sending
 * a note of it, which then frees it after the call; else the caller does. */
bool
rn_retire_cfg(struct runner *r, struct canary_cfg *old)
{
	if (!r->nt.busy || r->nt.sending != old)
		return false;
	r->nt.retired = xreallocarray(r->nt.retired, r->nt.n_retired + 1, sizeof *r->nt.retired);
	r->nt.retired[r->nt.n_retired++] = old;
	return true;
}
