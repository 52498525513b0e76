/*
 * machine_out.c — what a tick writes (see machine_int.h): its context,
 * its events (Flagger's texts), alerts, reasons, actions and routes (with
 * the session affinity cookies that follow them), the observations it
 * asks for, and the answers of its webhooks.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "engine/machine_int.h"
#include "util/fmt.h"

void
mk_init(struct tk *k, const struct tick_in *in, struct tick_out *o)
{
	const struct canary_cfg *c = in->cfg;
	int interval = c->interval_s > 0 ? c->interval_s : 60;

	/* The output is large and a tick runs several times while it gathers
	 * observations: reset the header and the counts, not the arrays. */
	o->need = NEED_NONE;
	o->need_hook = HOOK_ROLLOUT;
	o->st = *in->st;
	o->n_acts = o->n_ev = o->n_checks = o->n_alerts = 0;
	o->analysed = o->held = o->refused = o->tick_now = false;
	o->gate = GATE_NONE;
	o->answer[0] = '\0';
	k->in = in;
	k->o = o;
	k->c = c;
	k->ob = in->obs;
	k->st = &o->st;
	k->now = in->now_ms;
	k->confirm = in->confirm | c->confirm;
	k->nn[0] = k->tn[0] = '\0';	/* formatted when an event needs them */
	o->st.next_tick_ms = in->now_ms + (int64_t)interval * 1000;
}

/* "<name>.<ns>" and "<target>.<ns>" for event texts. */
const char *
mk_nn(struct tk *k)
{
	if (k->nn[0] == '\0')
		snprintf(k->nn, sizeof k->nn, "%s.%s", k->c->name ? k->c->name : "",
		    k->c->ns ? k->c->ns : "");
	return k->nn;
}

const char *
mk_tn(struct tk *k)
{
	if (k->tn[0] == '\0')
		snprintf(k->tn, sizeof k->tn, "%s.%s", k->c->target ? k->c->target : "",
		    k->c->ns ? k->c->ns : "");
	return k->tn;
}

void
mk_add_event(struct tk *k, enum severity sev, const char *reason, const char *actor,
    const char *fmt, va_list ap)
{
	struct mach_event *e;

	if (k->o->n_ev >= MACH_MAX_EVENTS)
		return;
	e = &k->o->ev[k->o->n_ev++];
	e->sev = sev;
	snprintf(e->reason, sizeof e->reason, "%s", reason);
	snprintf(e->actor, sizeof e->actor, "%s", actor ? actor : "");
	vsnprintf(e->message, sizeof e->message, fmt, ap);
}

const char *
mk_rev_label(const struct tk *k, const char *id, char *out)
{
	const char *name = "";

	if (k->ob != NULL && (k->ob->have & (1u << NEED_REVISION)) && k->ob->rev_status == 0 &&
	    strcmp(k->ob->rev.id, id) == 0)
		name = k->ob->rev.image;
	else if (strcmp(id, k->st->last_applied) == 0)
		name = k->st->applied_name;
	else if (strcmp(id, k->st->last_promoted) == 0)
		name = k->st->promoted_name;
	fmt_revision(out, REV_LABEL_MAX, name, id);
	return out;
}

void
mk_ev(struct tk *k, enum severity sev, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	mk_add_event(k, sev, "Synced", NULL, fmt, ap);
	va_end(ap);
}

/* An alert (reference §6.1) with or without the metadata fields. */
void
mk_alert(struct tk *k, enum alert_severity sev, bool metadata, const char *fmt, ...)
{
	struct mach_alert *a;
	va_list ap;

	if (k->o->n_alerts >= MACH_MAX_ALERTS)
		return;
	a = &k->o->alerts[k->o->n_alerts++];
	a->sev = sev;
	a->metadata = metadata;
	va_start(ap, fmt);
	vsnprintf(a->message, sizeof a->message, fmt, ap);
	va_end(ap);
}

void
mk_set_reason(struct tk *k, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(k->st->reason, sizeof k->st->reason, fmt, ap);
	va_end(ap);
}

void
mk_act(struct tk *k, enum action_kind kind, enum phase hook_phase)
{
	struct action *a;

	if (k->o->n_acts >= MACH_MAX_ACTIONS)
		return;
	a = &k->o->acts[k->o->n_acts++];
	memset(a, 0, sizeof *a);
	a->kind = kind;
	a->hook_phase = hook_phase;
}

static void
new_cookie(char *dst, const char *name, uint64_t seed)
{
	char value[AFFINITY_VALUE_LEN + 1];

	machine_cookie_value(seed, value);
	memset(dst, 0, AFFINITY_COOKIE_MAX);
	snprintf(dst, AFFINITY_COOKIE_MAX, "%s=%s", name, value);
}

/* Session affinity cookies follow the routes (reference §4.3): a run that
 * sends traffic to the canary gets a canary cookie (and a primary one with
 * primaryCookieName) the first time, kept until the canary weight is back
 * to 0; then the canary cookie becomes the previous one (expired by the
 * router) and the primary cookie is dropped. */
static void
affinity_rotate(struct tk *k, int canary)
{
	const struct affinity_cfg *a = k->c->affinity;
	struct canary_status *st = k->st;

	if (a == NULL || a->cookie_name == NULL)
		return;
	if (canary > 0) {
		if (st->affinity_cookie[0] == '\0')
			new_cookie(st->affinity_cookie, a->cookie_name, k->in->entropy);
		if (a->primary_cookie_name != NULL && st->primary_affinity_cookie[0] == '\0')
			new_cookie(st->primary_affinity_cookie, a->primary_cookie_name,
			    k->in->entropy ^ 0x5DEECE66DULL);
		return;
	}
	if (st->affinity_cookie[0] != '\0')
		memcpy(st->previous_affinity_cookie, st->affinity_cookie,
		    sizeof st->previous_affinity_cookie);
	memset(st->affinity_cookie, 0, sizeof st->affinity_cookie);
	memset(st->primary_affinity_cookie, 0, sizeof st->primary_affinity_cookie);
}

void
mk_act_routes(struct tk *k, int primary, int canary, bool mirrored)
{
	mk_act(k, ACT_SET_ROUTES, PHASE_PROGRESSING);
	if (k->o->n_acts > 0 && k->o->acts[k->o->n_acts - 1].kind == ACT_SET_ROUTES) {
		struct routes *r = &k->o->acts[k->o->n_acts - 1].routes;

		affinity_rotate(k, canary);
		*r = machine_routes(k->st);
		r->primary = primary;
		r->canary = canary;
		r->mirrored = mirrored;
	}
}

void
mk_set_phase(struct tk *k, enum phase p)
{
	if (k->st->phase != p)
		k->st->phase_since_ms = k->now;
	k->st->phase = p;
}

void
mk_copy_id(char *dst, size_t dstsz, const char *src)
{
	snprintf(dst, dstsz, "%s", src);
}

/* Stops the tick to ask for an observation. */
bool
mk_ask(struct tk *k, enum need n)
{
	k->o->need = n;
	return true;
}

bool
mk_have(const struct tk *k, enum need n)
{
	return (k->ob->have & (1u << n)) != 0;
}

bool
mk_has_hooks(const struct canary_cfg *c, enum hook_type t)
{
	size_t i;

	for (i = 0; i < c->n_hooks; i++)
		if (c->hooks[i].type == t)
			return true;
	return false;
}

/* Asks for the hooks of type t when needed.  Returns true when the tick
 * must stop to gather them. */
bool
mk_need_hooks(struct tk *k, enum hook_type t)
{
	if (!mk_has_hooks(k->c, t) || (k->ob->hooks_have & (1u << t)))
		return false;
	k->o->need_hook = t;
	return mk_ask(k, NEED_HOOKS);
}

/* The first hook of type t that failed (or was never answered), or -1. */
int
mk_failed_hook(const struct tk *k, enum hook_type t)
{
	size_t i;

	for (i = 0; i < k->c->n_hooks; i++) {
		if (k->c->hooks[i].type != t)
			continue;
		if (!k->ob->hooks[i].called || !k->ob->hooks[i].r.ok)
			return (int)i;
	}
	return -1;
}

void
mk_passed_hooks(struct tk *k, enum hook_type t, const char *what)
{
	size_t i;

	for (i = 0; i < k->c->n_hooks; i++)
		if (k->c->hooks[i].type == t && k->ob->hooks[i].called && k->ob->hooks[i].r.ok)
			mk_ev(k, SEV_NORMAL, "%s check %s passed", what, k->c->hooks[i].name);
}

const char *
mk_hook_msg(const struct tk *k, int i)
{
	const struct hook_obs *h = &k->ob->hooks[i];

	if (!h->called)
		return "not called";
	return h->r.msg[0] ? h->r.msg : "failed";
}

void
machine_post_hook_events(const struct canary_cfg *c, const struct hook_obs *h,
    struct tick_out *out)
{
	struct tick_in in = { .cfg = c, .st = &out->st };
	struct tk k = { .in = &in, .o = out, .c = c, .st = &out->st };
	size_t i;

	for (i = 0; i < c->n_hooks; i++) {
		if (c->hooks[i].type != HOOK_POST_ROLLOUT || !h[i].called)
			continue;
		if (h[i].r.ok)
			mk_ev(&k, SEV_NORMAL, "Post-rollout check %s passed", c->hooks[i].name);
		else
			mk_ev(&k, SEV_WARNING, "Post-rollout hook %s failed %s", c->hooks[i].name,
			    h[i].r.msg[0] ? h[i].r.msg : "failed");
	}
}
