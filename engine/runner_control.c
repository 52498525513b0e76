/*
 * runner_control.c — control and leases (see runner_int.h).
 *
 * Each canary's lock is taken at start or by runner_adopt (a corrupt status
 * refuses control of that canary, naming the file in its snapshot reason
 * and the log, while the others run; when every canary is corrupt, e.g.
 * the only one, the start itself is refused), renewed about every RENEW_MS
 * of clock time and before each tick; a canary whose lease was taken over
 * becomes read-only.  An interactive run (not stop_when_done) tries a
 * read-only canary again every RETAKE_MS and takes it once its holder is
 * gone (rn_retake); a headless one never acts on it.  runner_stop saves and
 * releases (rn_release_all).  A canary's object that changes, goes or comes
 * back is handled here too (runner_replace, runner_adopt).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/runner_int.h"
#include "util/log.h"
#include "util/sanitize.h"
#include "util/status.h"
#include "util/xalloc.h"

/* Renews c's control lease.  false: someone else took it, and c is
 * read-only from now on (runner thread, no lock held). */
bool
rn_renew(struct runner *r, struct rcan *c)
{
	if (r->cfg.store == NULL || r->cfg.store->renew == NULL || !c->ctl.control)
		return c->ctl.control;
	if (r->cfg.store->renew(r->cfg.store_ctx, c->key) != ST_LOCKED)
		return true;
	pthread_mutex_lock(&r->mu);
	c->ctl.control = false;
	c->ctl.readonly = true;
	snprintf(c->ctl.holder, sizeof c->ctl.holder, "another controller");
	if (c->ctl.terminating) {	/* finalised by the holder, or once taken back */
		c->ctl.terminating = false;
		c->ctl.deleting = c->ctl.deleting_fin = true;
	}
	r->watch.observing = true;
	rn_heap_remove(r, c);
	r->pub.version++;
	pthread_mutex_unlock(&r->mu);
	return false;
}

/* Leases are renewed about every RENEW_MS of clock time, whatever the
 * canaries' intervals. */
void
rn_renew_all(struct runner *r)
{
	size_t i;

	for (i = 0; i < r->tab.n; i++)
		rn_renew(r, r->tab.cs[i]);
}

/* How many canaries this runner controls, and how many it may (its fair
 * share among replicas; SIZE_MAX without cfg.share). */
static size_t
n_held(const struct runner *r, size_t *limit)
{
	size_t i, held = 0, total = 0;

	for (i = 0; i < r->tab.n; i++) {
		const struct rcan *c = r->tab.cs[i];

		held += c->ctl.control;
		total += !c->ctl.removed && !c->ctl.refused && !c->ctl.corrupt;
	}
	*limit = r->cfg.share != NULL ? r->cfg.share(r->cfg.share_arg, total) : SIZE_MAX;
	return held;
}

/* Whether this runner holds its whole share: no more canary is taken. */
bool
rn_full(const struct runner *r)
{
	size_t limit, held = n_held(r, &limit);

	return held >= limit;
}

/* Holding more than its share (another replica came up): the excess is
 * saved and given back, the last ones first, so that the other replicas
 * take them; each stays read-only here, tried again later (runner
 * thread, no lock held). */
void
rn_rebalance(struct runner *r, int64_t now)
{
	size_t limit, held = n_held(r, &limit), i = r->tab.n;
	char err[ERRMSG_MAX];

	while (held > limit && i-- > 0) {
		struct rcan *c = r->tab.cs[i];

		if (!c->ctl.control || r->cfg.store == NULL)
			continue;
		if (rn_save(r, c, &c->st, err) != ST_OK) {
			log_warn("%s: cannot save it to hand it over: %s", c->key, err);
			continue;
		}
		r->cfg.store->release(r->cfg.store_ctx, c->key);
		pthread_mutex_lock(&r->mu);
		c->ctl.control = false;
		c->ctl.readonly = true;
		c->ctl.holder[0] = '\0';
		c->run.retake_at = now + RETAKE_MS;
		r->watch.observing = true;
		rn_heap_remove(r, c);
		r->pub.version++;
		pthread_mutex_unlock(&r->mu);
		log_info("%s: more than this controller's share (%zu); handed over", c->key, limit);
		held--;
	}
}

/* A configuration the engine must not drive (machine_check_cfg): c is
 * refused before any control is taken, shown with the reason.  True when
 * refused. */
bool
rn_refuse_cfg(struct rcan *c)
{
	char why[ERRMSG_MAX], msg[ERRMSG_MAX + 160];

	if (c->cfg->driven_by != NULL || machine_check_cfg(c->cfg, why, sizeof why) == ST_OK)
		return false;	/* another controller's is its own business */
	snprintf(msg, sizeof msg, "cannot drive %s: %s", c->key, why);
	log_error("%s", msg);
	sanitize(c->ctl.err, sizeof c->ctl.err, msg, strlen(msg));
	machine_status_init(&c->st, 0);
	c->ctl.refused = true;
	c->ctl.control = false;
	return true;
}

/* Takes control of one canary: lock, saved status, spec for watchers.
 * c->ctl.control is set only here, and only once both the lock and the saved
 * status are ours: on every other path nothing is ever written for c (no
 * save at the stop, no journal), whatever the error was. */
int
rn_take_control(struct runner *r, struct rcan *c, int64_t now, char *err, size_t errsz)
{
	const struct store_ops *s = r->cfg.store;
	char holder[96] = "", lerr[ERRMSG_MAX] = "";
	int rc;

	c->ctl.control = false;
	machine_status_init(&c->st, now);
	if (c->cfg->driven_by != NULL) {
		/* Driven by another controller: no lock, no saved status, no
		 * tick; its status comes from the cluster (runner_observe.c). */
		r->watch.observing = true;
		return ST_OK;
	}
	if (s == NULL) {
		c->ctl.control = true;
		return ST_OK;
	}
	if (rn_full(r)) {	/* its share taken: another replica's, for now */
		c->ctl.readonly = true;
		c->run.retake_at = now + RETAKE_MS;
		r->watch.observing = true;
		return ST_OK;
	}
	rc = s->acquire(r->cfg.store_ctx, c->key, r->actor, holder, sizeof holder, lerr);
	if (rc == ST_LOCKED) {
		c->ctl.readonly = true;
		sanitize(c->ctl.holder, sizeof c->ctl.holder, holder, strlen(holder));
		c->run.retake_at = now + RETAKE_MS;
		r->watch.observing = true;
		return ST_OK;
	}
	if (rc != ST_OK) {
		snprintf(err, errsz, "%s: cannot take control: %s", c->key,
		    lerr[0] ? lerr : status_text(rc));
		return rc;
	}
	rc = s->load(r->cfg.store_ctx, c->key, &c->st, lerr);
	if (rc == ST_NOTFOUND) {
		machine_status_init(&c->st, now);
	} else if (rc != ST_OK) {
		c->ctl.corrupt = rc == ST_CORRUPT;
		snprintf(err, errsz, "%s: %s; refusing to control it", c->key,
		    lerr[0] ? lerr : status_text(rc));
		s->release(r->cfg.store_ctx, c->key);
		machine_status_init(&c->st, now);
		return rc;
	} else {
		c->run.reconcile = true;	/* re-apply what the saved status implies */
	}
	c->ctl.control = true;
	c->ctl.readonly = false;
	if (s->save_spec != NULL && s->save_spec(r->cfg.store_ctx, c->key, c->cfg, lerr) != ST_OK)
		log_warn("%s: %s", c->key, lerr);
	return ST_OK;
}

/* The canary's saved status, now that its lock is ours (rn_retake): ST_OK
 * with st filled (a fresh status when there is none), or an error, the
 * lock given back. */
static int
retake_load(struct runner *r, struct rcan *c, struct canary_status *st, int64_t now, char *err)
{
	const struct store_ops *s = r->cfg.store;
	int rc = s->load(r->cfg.store_ctx, c->key, st, err);

	if (rc == ST_NOTFOUND) {
		machine_status_init(st, now);
		return ST_OK;
	}
	if (rc != ST_OK)
		s->release(r->cfg.store_ctx, c->key);
	return rc;
}

/* One take of a batch (rn_retake_all): the canary, then what its I/O
 * found. */
struct take_job {
	struct rcan *c;
	int64_t now;
	int rc;
	struct canary_status st;
	char err[ERRMSG_MAX];
};

/* The I/O of one take, on a take worker or the runner thread
 * (runner_pool.c): the lock, the saved status, then the spec for watchers.
 * It reads only the canary's key and configuration (which only the runner
 * thread changes, and it waits for the batch) and writes only its job. */
static void
take_io(struct runner *r, void *jobs, size_t i)
{
	const struct store_ops *s = r->cfg.store;
	struct take_job *j = (struct take_job *)jobs + i;
	char holder[96] = "", err[ERRMSG_MAX] = "";

	j->rc = s->acquire(r->cfg.store_ctx, j->c->key, r->actor, holder, sizeof holder, j->err);
	if (j->rc == ST_OK)
		j->rc = retake_load(r, j->c, &j->st, j->now, j->err);
	if (j->rc == ST_OK && s->save_spec != NULL &&
	    s->save_spec(r->cfg.store_ctx, j->c->key, j->c->cfg, err) != ST_OK)
		log_warn("%s: %s", j->c->key, err);
}

/* Whether c, read-only, is to be tried again now (rn_retake_all). */
static bool
retake_due(const struct rcan *c, int64_t now)
{
	return c->ctl.readonly && c->cfg->driven_by == NULL && !c->ctl.removed &&
	    !c->ctl.corrupt && now >= c->run.retake_at;
}

/* A take whose lock and status are ours (its spec saved): c is under
 * control from st. */
static void
retake_apply(struct runner *r, struct rcan *c, const struct canary_status *st, int64_t now)
{
	char msg[ERRMSG_MAX + 200];

	snprintf(msg, sizeof msg, "%.127s: %.95s is gone; taken under control", c->key,
	    c->ctl.holder[0] ? c->ctl.holder : "its controller");
	pthread_mutex_lock(&r->mu);
	c->st = *st;
	c->ctl.control = true;
	c->ctl.readonly = false;
	c->ctl.holder[0] = '\0';
	c->run.reconcile = st->phase != PHASE_INITIALIZING;	/* re-apply what it implies */
	rn_first_tick(r, c, now);
	r->pub.version++;
	pthread_mutex_unlock(&r->mu);
	log_info("%s", msg);
	rn_set_status_msg(r, c->key, msg);
	if (c->ctl.deleting)		/* marked for deletion meanwhile */
		runner_delete(r, c->key, c->ctl.deleting_fin);
}

/* An interactive run tries the canaries another controller holds again
 * (each every RETAKE_MS): once that controller is gone (its lock dropped,
 * its lease released or expired, or its process dead on this host), a
 * canary is taken under control as at the start, from its saved status,
 * up to this runner's share.  The takes of a round run at once on the take
 * workers (runner_pool.c), so that the canaries of a dead replica are all
 * taken within about one request's time of their Leases' expiry; each is
 * then put under control here, one after the other.  Headless runs and
 * observers never take: they report the holder.  Runner thread, no lock
 * held. */
void
rn_retake_all(struct runner *r, int64_t now)
{
	size_t limit, held, i, n = 0, room;
	struct take_job *jobs;

	if (r->cfg.store == NULL || r->cfg.observer || r->cfg.stop_when_done)
		return;
	held = n_held(r, &limit);
	room = held < limit ? limit - held : 0;
	for (i = 0; i < r->tab.n; i++)
		n += retake_due(r->tab.cs[i], now);
	if (n == 0)
		return;
	jobs = xcalloc(n < room ? n : room ? room : 1, sizeof *jobs);
	for (i = n = 0; i < r->tab.n; i++) {
		struct rcan *c = r->tab.cs[i];

		if (!retake_due(c, now))
			continue;
		c->run.retake_at = now + RETAKE_MS;
		if (n < room)
			jobs[n++] = (struct take_job){ .c = c, .now = now };
	}
	rn_pool_run(r, n, take_io, jobs);
	for (i = 0; i < n; i++) {
		if (jobs[i].rc == ST_OK)
			retake_apply(r, jobs[i].c, &jobs[i].st, now);
		else if (jobs[i].rc != ST_LOCKED)
			log_warn("%s: still read-only: %s", jobs[i].c->key, jobs[i].err[0] ?
			    jobs[i].err : status_text(jobs[i].rc));
	}
	free(jobs);
}

/* Gives back every canary we control; at the stop its status is saved
 * first (with_save), at a start that failed it is left as it was loaded. */
void
rn_release_all(struct runner *r, bool with_save)
{
	size_t i;

	for (i = 0; i < r->tab.n; i++) {
		struct rcan *c = r->tab.cs[i];
		char err[ERRMSG_MAX];

		if (r->cfg.store == NULL || r->cfg.observer || !c->ctl.control)
			continue;
		if (with_save && rn_save(r, c, &c->st, err) != ST_OK)
			log_error("%s: cannot save its state at the stop: %s", c->key, err);
		r->cfg.store->release(r->cfg.store_ctx, c->key);
		pthread_mutex_lock(&r->mu);	/* runner_health reads them */
		c->ctl.control = false;
		c->ctl.let_go = with_save;
		pthread_mutex_unlock(&r->mu);
	}
}

/* The canary's object is gone: held where it is, its control given back. */
static void
remove_canary(struct runner *r, struct rcan *c)
{
	char msg[200];

	pthread_mutex_lock(&r->mu);
	rn_heap_remove(r, c);
	c->ctl.control = false;
	c->ctl.readonly = true;
	c->ctl.removed = true;
	if (c->ctl.terminating)		/* done, or its object is gone */
		c->ctl.err[0] = '\0';
	c->ctl.terminating = false;
	c->run.suspended = false;
	r->pub.version++;
	pthread_mutex_unlock(&r->mu);
	if (r->cfg.store != NULL && r->cfg.store->release != NULL)
		r->cfg.store->release(r->cfg.store_ctx, c->key);
	snprintf(msg, sizeof msg, "%.127s: the Canary was deleted; no longer controlled", c->key);
	log_info("%s", msg);
	rn_set_status_msg(r, c->key, msg);
}

/* A deleted canary's object is back (deleted and created again): taken
 * under control again as runner_adopt takes a new one (its lease, its saved
 * status), its event history kept.  The new state is built aside and
 * swapped in under mu, so snapshots never see it half made. */
static int
revive_canary(struct runner *r, struct rcan *c, struct canary_cfg *cfg)
{
	struct rcan *t = rn_canary_new(cfg, c->key), old;
	char err[ERRMSG_MAX + 160] = "", msg[ERRMSG_MAX + 160];
	int64_t now = rn_now_ms(r);
	size_t i, old_metrics;
	bool retire;
	int rc;

	t->hist.max_ev = c->hist.max_ev;
	t->hist.max_pts = c->hist.max_pts;
	if ((rc = rn_take_control(r, t, now, err, sizeof err)) != ST_OK) {
		log_error("%s", err);
		rn_set_status_msg(r, c->key, err);
		rn_canary_free(t);
		return rc;
	}
	pthread_mutex_lock(&r->mu);
	old = *c;
	*c = *t;
	c->ctl.gen = old.ctl.gen + 1;		/* hooks and alerts of the old one are dropped */
	old_metrics = old.cfg->n_metrics;
	retire = rn_retire_cfg(r, old.cfg);
	c->hist.ev = old.hist.ev;			/* the history goes on */
	c->hist.ev_n = old.hist.ev_n;
	c->hist.ev_head = old.hist.ev_head;
	c->hist.ev_cap = old.hist.ev_cap;
	if (c->ctl.control)
		rn_first_tick(r, c, now);
	r->pub.version++;
	pthread_mutex_unlock(&r->mu);
	for (i = 0; i < old_metrics; i++)
		free(old.hist.pts[i].p);
	free(old.hist.pts);
	free(old.hist.hooks);
	if (old.run.resume != NULL) {
		obs_fini(old.run.resume);
		free(old.run.resume);
	}
	if (!retire)
		canary_cfg_free(old.cfg);
	free(t);
	if (c->ctl.control)
		snprintf(msg, sizeof msg, "%.127s: the Canary was created again; taken under "
		    "control", c->key);
	else
		snprintf(msg, sizeof msg, "%.127s: the Canary was created again, controlled by "
		    "%.95s; read-only", c->key, c->ctl.holder);
	log_info("%s", msg);
	rn_set_status_msg(r, c->key, msg);
	return ST_OK;
}

/* c removed (gone: snapshots leave it out) or shown again, said in the
 * log and the status line; false when it already was. */
static bool
set_removed(struct runner *r, struct rcan *c, bool gone)
{
	char msg[200];

	if (c->ctl.removed == gone)
		return false;
	pthread_mutex_lock(&r->mu);
	c->ctl.removed = gone;	/* snapshots leave a removed one out */
	r->pub.version++;
	pthread_mutex_unlock(&r->mu);
	snprintf(msg, sizeof msg, "%.127s: the Canary was %s", c->key, gone ?
	    "deleted; no longer shown" : "created again");
	log_info("%s", msg);
	rn_set_status_msg(r, c->key, msg);
	return true;
}

/* A canary another controller drives is deleted (cfg NULL: removed, no
 * longer shown; nothing of it was taken, so nothing is given back) or
 * created again (shown again, from cfg); also in watch mode.  false when
 * c is not such a canary. */
static bool
driven_gone_or_back(struct runner *r, struct rcan *c, const struct canary_cfg *cfg)
{
	if (c == NULL || c->cfg->driven_by == NULL || (cfg != NULL && cfg->driven_by == NULL))
		return false;
	return set_removed(r, c, cfg == NULL);
}

int
runner_observed_gone(struct runner *r, const char *key, bool gone)
{
	struct rcan *c = rn_find(r, key);

	if (c == NULL || !r->cfg.observer || c->cfg->driven_by != NULL)
		return ST_NOTFOUND;
	(void)set_removed(r, c, gone);
	return ST_OK;
}

int
runner_replace(struct runner *r, const char *key, struct canary_cfg *cfg)
{
	struct rcan *c = rn_find(r, key), old;
	char msg[ERRMSG_MAX + 200], err[ERRMSG_MAX];
	bool retire, driven;
	size_t i, old_metrics;

	if (driven_gone_or_back(r, c, cfg) && cfg == NULL)
		return ST_OK;
	if (c != NULL && c->ctl.removed && cfg != NULL && !r->cfg.observer)
		return revive_canary(r, c, cfg);
	if (c != NULL && cfg != NULL && (cfg->driven_by != NULL) != (c->cfg->driven_by != NULL)) {
		/* perch's own became another controller's, or the other way
		 * round: never both drive it; the next start sorts it out. */
		snprintf(msg, sizeof msg, "%.127s: the changed Canary is %s%.100s; the running "
		    "spec stays until perch starts again", key, cfg->driven_by ? "driven by " :
		    "no longer driven by ", cfg->driven_by ? cfg->driven_by : c->cfg->driven_by);
		log_warn("%s", msg);
		rn_set_status_msg(r, key, msg);
		canary_cfg_free(cfg);
		return ST_INVALID;
	}
	/* Another controller's: only what it shows (webhooks, gates, metrics)
	 * follows its spec; nothing is taken, saved or removed for it. */
	driven = c != NULL && cfg != NULL && cfg->driven_by != NULL;
	if (c == NULL || (!driven && (!c->ctl.control || c->ctl.readonly || c->ctl.corrupt ||
	    r->cfg.observer))) {
		canary_cfg_free(cfg);
		return ST_NOTFOUND;
	}
	if (cfg == NULL) {
		remove_canary(r, c);
		return ST_OK;
	}
	if (!driven && machine_check_cfg(cfg, err, sizeof err) != ST_OK) {
		snprintf(msg, sizeof msg, "%.127s: the changed Canary is refused (%s); the "
		    "running spec stays", key, err);
		log_error("%s", msg);
		rn_set_status_msg(r, key, msg);
		canary_cfg_free(cfg);
		return ST_INVALID;
	}
	cfg->order = c->cfg->order;
	pthread_mutex_lock(&r->mu);
	old = *c;
	old_metrics = old.cfg->n_metrics;	/* old.cfg may be freed once unlocked */
	c->cfg = cfg;
	c->ctl.gen++;			/* hooks and alerts of the old one are dropped */
	rn_canary_arrays(c, cfg);
	c->run.suspended = false;		/* a suspended tick was read for the old one */
	r->pub.version++;
	retire = rn_retire_cfg(r, old.cfg);	/* the notifier frees it after its call */
	pthread_mutex_unlock(&r->mu);
	for (i = 0; i < old_metrics; i++)
		free(old.hist.pts[i].p);
	free(old.hist.pts);
	free(old.hist.hooks);
	if (!retire)
		canary_cfg_free(old.cfg);
	if (!driven && r->cfg.store != NULL && r->cfg.store->save_spec != NULL &&
	    r->cfg.store->save_spec(r->cfg.store_ctx, key, cfg, err) != ST_OK)
		log_warn("%s", err);
	snprintf(msg, sizeof msg, "%.127s: the Canary changed; %s", key, driven ?
	    "its webhooks and metrics are shown from the new spec" :
	    "its next tick uses the new spec");
	log_info("%s", msg);
	rn_set_status_msg(r, key, msg);
	return ST_OK;
}

/* One pass of a deleted canary's revert or release (machine_on_deletion):
 * with a revert, the target is scaled up and must be ready before the
 * cluster's finalize gives the routes back to it (Flagger waits for it
 * too, then reverts anyway; perch never sends traffic to a target that
 * is not ready).  ST_OK when done; else why not in `why`. */
static int
finalize_pass(struct runner *r, struct rcan *c, int64_t now, char *why, size_t whysz)
{
	const struct cluster_ops *cl = r->cfg.cluster;
	const struct canary_cfg *cfg = c->cfg;
	bool revert = c->run.deletion == DEL_REVERT;
	char err[ERRMSG_MAX] = "";
	struct readiness rd = { .ready = true };
	int rc;

	if (revert && cl->scale != NULL && (rc = cl->scale(r->cfg.cluster_ctx, cfg, true, err)) !=
	    ST_OK) {
		snprintf(why, whysz, "scaling up %s.%s failed: %s", cfg->target, cfg->ns,
		    err[0] ? err : status_text(rc));
		return rc;
	}
	if (revert && cl->readiness != NULL &&
	    ((rc = cl->readiness(r->cfg.cluster_ctx, cfg, WL_CANARY, now, &rd)) != ST_OK ||
	    !rd.ready)) {
		snprintf(why, whysz, "%s.%s not ready: %s; the routes stay until it is", cfg->target,
		    cfg->ns, rd.msg[0] ? rd.msg : status_text(rc));
		return rc != ST_OK ? rc : ST_AGAIN;
	}
	if ((rc = cl->finalize(r->cfg.cluster_ctx, cfg, revert, err)) != ST_OK)
		snprintf(why, whysz, "finalising failed: %s", err[0] ? err : status_text(rc));
	return rc;
}

/* A reverting canary's status says so (phase Terminating, what it does
 * or waits for), saved before the revert's last step removes the
 * finalizer: once it is gone the object may be too.  Flagger writes no
 * Terminated, nor does perch: once the revert is done only perch's own
 * state (and its screens) hears of it, the Canary's status is not found
 * and left alone (sk_canary_status). */
static void
save_terminating(struct runner *r, struct rcan *c, int64_t now, const char *why)
{
	struct canary_status st = c->st;

	machine_terminating(&st, now, why);
	rn_save_set(r, c, &st, now);
}

void
rn_finalize_try(struct runner *r, struct rcan *c, int64_t now)
{
	char why[ERRMSG_MAX + 200] = "", note[ERRMSG_MAX + 300];
	int64_t wait;

	if (!rn_renew(r, c))
		return;
	if (finalize_pass(r, c, now, why, sizeof why) == ST_OK) {
		if (c->run.deletion == DEL_REVERT) {
			rn_publish_msg(r, c, SEV_NORMAL, now, "Terminated canary %s.%s: the target and "
			    "the routes are given back", c->cfg->name, c->cfg->ns);
			/* for perch's own state and screens: the Canary is gone */
			save_terminating(r, c, now, "Reverted on deletion: the target and the routes "
			    "are given back.");
		}
		remove_canary(r, c);
		return;
	}
	wait = machine_finalize_backoff(c->cfg, c->run.fin_tries++);
	rn_publish_msg(r, c, SEV_WARNING, now, "%s: %s; the finalizer stays, tried again in %llds "
	    "(try %d)", c->key, why, (long long)(wait / 1000), c->run.fin_tries);
	if (c->run.deletion == DEL_REVERT) {
		snprintf(note, sizeof note, "Reverting on deletion, try %d did not finish (again in "
		    "%llds): %s", c->run.fin_tries, (long long)(wait / 1000), why);
		save_terminating(r, c, now, note);
	}
	pthread_mutex_lock(&r->mu);
	sanitize(c->ctl.err, sizeof c->ctl.err, why, strlen(why));
	c->st.next_tick_ms = now + wait;
	r->pub.version++;
	pthread_mutex_unlock(&r->mu);
}

/* A canary whose object is deleted while it holds the finalizer: no more
 * ticks; its revert or release is tried now and again until it is done or
 * the object is gone (runner_replace NULL).  A failure leaves the
 * finalizer, which can be removed by hand. */
static void
start_finalize(struct runner *r, struct rcan *c, enum deletion d)
{
	const struct cluster_ops *cl = r->cfg.cluster;
	int64_t now = rn_now_ms(r);

	if (cl->finalize == NULL) {
		rn_publish_msg(r, c, SEV_WARNING, now, "%s: the cluster cannot finalise a Canary; "
		    "the revert on deletion is not done", c->key);
		remove_canary(r, c);
		return;
	}
	if (d == DEL_REVERT) {
		rn_publish_msg(r, c, SEV_NORMAL, now, "Terminating canary %s.%s", c->cfg->name,
		    c->cfg->ns);
		save_terminating(r, c, now, "Reverting on deletion: the target is scaled up and, "
		    "once ready, gets its traffic back.");
	}
	pthread_mutex_lock(&r->mu);
	c->ctl.terminating = true;
	c->run.deletion = d;
	c->run.fin_tries = 0;
	c->run.suspended = false;	/* no tick is resumed */
	r->pub.version++;
	pthread_mutex_unlock(&r->mu);
	rn_finalize_try(r, c, now);
	pthread_mutex_lock(&r->mu);
	if (c->ctl.control)
		rn_schedule(r, c, c->st.next_tick_ms);
	pthread_mutex_unlock(&r->mu);
}

int
runner_delete(struct runner *r, const char *key, bool finalizer)
{
	struct rcan *c = rn_find(r, key);
	enum deletion d;

	if (c == NULL || c->ctl.removed || c->ctl.corrupt || r->cfg.observer)
		return ST_NOTFOUND;
	if (!c->ctl.control || c->ctl.readonly) {	/* done if it is taken later */
		c->ctl.deleting = true;
		c->ctl.deleting_fin = finalizer;
		return ST_NOTFOUND;
	}
	if (c->ctl.terminating)
		return ST_OK;
	if ((d = machine_on_deletion(c->cfg, finalizer)) != DEL_LET_GO)
		start_finalize(r, c, d);
	else
		remove_canary(r, c);
	return ST_OK;
}

/* runner_adopt: a canary joins the running engine, set up as runner_start
 * sets up each one (rn_take_control, rn_first_tick) before anyone else can see
 * it; then, under mu, it enters the table, the index and the heap that
 * runner_wake, runner_outcome and the snapshots read. */
int
runner_adopt(struct runner *r, struct canary_cfg *cfg)
{
	char key[128], err[ERRMSG_MAX + 160] = "", msg[ERRMSG_MAX + 160];
	int64_t now = rn_now_ms(r);
	struct rcan *c;
	int rc;

	snprintf(key, sizeof key, "%s/%s", cfg->ns ? cfg->ns : "", cfg->name ? cfg->name : "");
	/* an observer shows a new one that another controller drives */
	if ((r->cfg.observer && cfg->driven_by == NULL) || rn_find(r, key) != NULL) {
		canary_cfg_free(cfg);
		return rn_find(r, key) == NULL ? ST_REFUSED : ST_CONFLICT;
	}
	cfg->order = (int)r->tab.n;
	c = rn_canary_new(cfg, key);
	rn_hist_depth(c, r->tab.n + 1);
	rc = rn_refuse_cfg(c) ? ST_OK : rn_take_control(r, c, now, err, sizeof err);
	if (rc != ST_OK && rc != ST_CORRUPT) {
		log_error("%s", err);
		rn_canary_free(c);
		return rc;
	}
	if (rc == ST_CORRUPT) {		/* shown with the reason, never acted on */
		log_error("%s", err);
		sanitize(c->ctl.err, sizeof c->ctl.err, err, strlen(err));
		snprintf(msg, sizeof msg, "%s", err);
	} else if (c->ctl.refused) {
		snprintf(msg, sizeof msg, "%s", c->ctl.err);
	} else if (cfg->driven_by != NULL) {
		snprintf(msg, sizeof msg, "%.127s: new Canary, driven by %.95s", key, cfg->driven_by);
	} else if (!c->ctl.control) {
		snprintf(msg, sizeof msg, "%.127s: new Canary, controlled by %.95s; read-only", key,
		    c->ctl.holder);
	} else {
		snprintf(msg, sizeof msg, "%.127s: new Canary taken under control", key);
	}
	pthread_mutex_lock(&r->mu);
	rn_add_canary(r, c);
	if (c->ctl.control)
		rn_first_tick(r, c, now);
	r->pub.version++;
	pthread_mutex_unlock(&r->mu);
	log_info("%s", msg);
	rn_set_status_msg(r, key, msg);
	return rc;
}
