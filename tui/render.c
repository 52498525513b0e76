/*
 * render.c — the frame of every screen: layout by size, header, status
 * line, footer, and the overlays (help from the keymap table,
 * confirmations).  The overview and detail bodies are in render_overview.c
 * and render_detail.c.
 */
#include <stdio.h>
#include <string.h>

#include "tui/render.h"
#include "util/fmt.h"

/* The rows a status message may take when it does not fit one (the
 * reason of a refusal is read whole, at 80 columns too). */
#define STATUS_ROWS_MAX 4

/* The watched controller's state, where the backends' health goes: a lost
 * controller in the failure style (it cannot be missed), one that stopped,
 * or one whose heartbeat is not known; NULL when the health applies. */
static const char *
controller_state(const struct snapshot *s, char *buf, size_t n, enum theme_role *r)
{
	char span[FMT_MAX];

	if (s == NULL || s->ctl == CTL_SELF || s->ctl == CTL_LIVE)
		return NULL;
	fmt_span(span, sizeof span, s->ctl_silent_ms);
	if (s->ctl == CTL_LOST) {
		snprintf(buf, n, " controller lost: no update for %s ", span);
		*r = ROLE_PHASE_FAILED;
	} else if (s->ctl == CTL_STOPPED) {
		snprintf(buf, n, "controller stopped %s ago", span);
		*r = ROLE_ATTENTION;
	} else {
		snprintf(buf, n, "controller health unknown");
		*r = ROLE_DIM;
	}
	return buf;
}

static void
render_header(const struct pen *p, const struct snapshot *s, const struct ui *u, int w)
{
	char left[256], clock[16], health[96], state[96];
	const char *ctx = u->context[0] != '\0' ? u->context :
	    (s != NULL && s->context != NULL && s->context[0] != '\0') ? s->context : "DEMO";
	const char *dot = G(p, "·", "-"), *bullet = G(p, "●", "*");
	bool api = s == NULL || s->api_ok, met = s == NULL || s->metrics_ok;
	bool slow = s != NULL && s->metrics_degraded, shaky = s != NULL && s->api_degraded;
	const char *badge = u->read_only || (s != NULL && s->read_only) ? " READ-ONLY " : " CONTROL ";
	enum theme_role sr = ROLE_DIM;
	int x = w;

	if (s != NULL && s->ns != NULL && s->ns[0] != '\0')
		snprintf(left, sizeof left, " perch %s %s %s %s", dot, ctx, dot, s->ns);
	else
		snprintf(left, sizeof left, " perch %s %s", dot, ctx);
	fmt_clock(clock, sizeof clock, u->now_ms, ui_any_running(s));
	x -= put_right(p, 0, x - 1, 10, clock, ROLE_HEADER) + 3;
	if (controller_state(s, state, sizeof state, &sr) != NULL) {
		x -= put_right(p, 0, x, 48, state, sr) + 2;
	} else if (w >= SPLIT_COLS) {
		snprintf(health, sizeof health, "%s %s", bullet, !met ? "down" : slow ? "degraded" : "ok");
		x -= put_right(p, 0, x, 20, health, met && !slow ? ROLE_HEALTH_OK : ROLE_HEALTH_BAD);
		x -= put_right(p, 0, x, 12, "prometheus ", ROLE_DIM) + 3;
		snprintf(health, sizeof health, "%s %s", bullet, !api ? "down" : shaky ? "degraded" : "ok");
		x -= put_right(p, 0, x, 20, health, api && !shaky ? ROLE_HEALTH_OK : ROLE_HEALTH_BAD);
		x -= put_right(p, 0, x, 12, "api ", ROLE_DIM) + 3;
	} else {
		snprintf(health, sizeof health, "%s %s", bullet, api && met && !slow && !shaky ? "ok" :
		    !api ? "api down" : !met ? "metrics down" : shaky ? "api degraded" :
		    "metrics slow");
		x -= put_right(p, 0, x, 20, health, api && met && !slow && !shaky ? ROLE_HEALTH_OK :
		    ROLE_HEALTH_BAD) + 2;
	}
	x -= put_right(p, 0, x, 12, badge, u->read_only || (s != NULL && s->read_only) ?
	    ROLE_BADGE_READONLY : ROLE_BADGE_CONTROL);
	put(p, 0, 0, x - 1, left, ROLE_HEADER);
}

/* The footer's keys, most useful first when they do not all fit. */
static const enum key_action footer_priority[] = {
	KA_APPROVE, KA_DETAIL, KA_BACK, KA_PAUSE, KA_STEP, KA_ROLLBACK, KA_RETRY, KA_HELP,
	KA_QUIT, KA_PROMOTE, KA_SKIP, KA_FILTER, KA_THEME,
};

static int
footer_item(const struct pen *p, enum key_action a, const struct snap_canary *c, bool draw,
    int y, int x, int w)
{
	const char *name = a == KA_PAUSE && c != NULL && c->paused ? "resume" : keymap[a].footer;
	const char *key = keymap_footer_key(a, p->utf8);
	char item[48];
	int need;

	snprintf(item, sizeof item, " %s  ", name);
	need = text_width(key, p->utf8) + text_width(item, p->utf8);
	if (draw) {
		x += put(p, y, x, w - x, key, ROLE_FOOTER_KEY);
		put(p, y, x, w - x, item, ROLE_DIM);
	}
	return need;
}

static void
footer_keys(const struct pen *p, const struct ui *u, const struct snap_canary *c, int y, int x,
    int w)
{
	bool shown[KA__COUNT] = { false };
	int used = x, a;
	size_t i;

	for (i = 0; i < sizeof footer_priority / sizeof footer_priority[0]; i++) {
		int need;

		a = footer_priority[i];
		if (!(keymap[a].flags & KF_FOOTER) || !ui_applies(u, a, c))
			continue;
		need = footer_item(p, a, c, false, y, 0, w);
		if (used + need <= w) {
			shown[a] = true;
			used += need;
		}
	}
	for (a = 0; a < KA__COUNT; a++)
		if (shown[a])
			x += footer_item(p, a, c, true, y, x, w);
}

static void
render_footer(const struct pen *p, const struct snapshot *s, const struct ui *u, int y, int w)
{
	const struct snap_canary *c = ui_current(u, s);
	int x = 1;

	if (u->overlay == OV_CONFIRM) {
		x += put(p, y, x, w - x, "y", ROLE_FOOTER_KEY);
		x += put(p, y, x, w - x, " yes  ", ROLE_DIM);
		x += put(p, y, x, w - x, "N", ROLE_FOOTER_KEY);
		put(p, y, x, w - x, " no (any other key)", ROLE_DIM);
		return;
	}
	if (u->overlay == OV_HELP) {
		put(p, y, x, w - x, "any key closes the help", ROLE_DIM);
		return;
	}
	if (u->overlay == OV_FILTER) {
		x += put(p, y, x, w - x, G(p, "↵", "Enter"), ROLE_FOOTER_KEY);
		x += put(p, y, x, w - x, " keep the filter  ", ROLE_DIM);
		x += put(p, y, x, w - x, "Esc", ROLE_FOOTER_KEY);
		put(p, y, x, w - x, " clear it", ROLE_DIM);
		return;
	}
	footer_keys(p, u, c, y, x, w);
}

/* The filter shown at the right of the status line ("" none). */
static void
status_filter(const struct ui *u, char *out, size_t n)
{
	snprintf(out, n, "%s%s", u->filter[0] != '\0' ? "filter: " : "", u->filter);
}

/* The width the status line's message has, w the screen's. */
static int
status_width(const struct pen *p, const struct ui *u, int w)
{
	char f[96];
	int fw;

	status_filter(u, f, sizeof f);
	fw = text_width(f, p->utf8);
	return w - 2 - (f[0] != '\0' ? (fw < 40 ? fw : 40) + 2 : 0);
}

/* The rows the status line takes above the footer: a message that does
 * not fit the width is word-wrapped on up to STATUS_ROWS_MAX rows (while
 * it shows, the body above gives them up), so a reason is read whole. */
static int
status_rows(const struct pen *p, const struct snapshot *s, const struct ui *u, int w)
{
	const char *msg;

	if (u->overlay == OV_FILTER || (msg = ui_status_line(u, s, NULL)) == NULL)
		return 1;
	return wrapped_lines(p, status_width(p, u, w), STATUS_ROWS_MAX, msg);
}

static void
render_status(const struct pen *p, const struct snapshot *s, const struct ui *u, int y, int w)
{
	const char *msg;
	char f[96];
	int x = 1, rows = status_rows(p, s, u, w);

	if (u->overlay == OV_FILTER) {
		x += put(p, y, x, w - 2, "filter: ", ROLE_DIM);
		x += put(p, y, x, w - x - 1, u->filter, ROLE_STATUS);
		put(p, y, x, 1, "_", ROLE_STATUS);
		return;
	}
	status_filter(u, f, sizeof f);
	if (f[0] != '\0')
		put_right(p, y, w - 1, 40, f, ROLE_DIM);
	if ((msg = ui_status_line(u, s, NULL)) != NULL)
		put_wrapped(p, y - rows + 1, x, status_width(p, u, w), rows, msg, ROLE_STATUS);
	else if (s != NULL && s->read_only && s->holder != NULL && s->holder[0] != '\0')
		putf(p, y, x, status_width(p, u, w), ROLE_DIM, "controlled by %s", s->holder);
}

static void
render_help(const struct pen *p, const struct ui *u, int H, int W)
{
	int bw = W - 4 < 78 ? W - 4 : 78, bh = KA__COUNT + 4, y0, x0, a;

	/* Every key of the table is listed: on a short screen the box takes
	 * the status line too (nothing else is read while it is open). */
	if (bh > H - 2)
		bh = H - 2;
	y0 = 1 + (H - 3 - bh > 0 ? (H - 3 - bh) / 2 : 0);
	x0 = (W - bw) / 2;
	clear_rect(p, y0, x0 - 1, bh, bw + 2);	/* a margin, and no wide character cut in half */
	draw_box(p, y0, x0, bh, bw, "keys");
	for (a = 0; a < KA__COUNT && a + 1 < bh - 2; a++) {
		bool off = u->read_only && (keymap[a].flags & KF_MUTATES);

		put(p, y0 + 1 + a, x0 + 2, 11, keymap[a].label, off ? ROLE_DIM : ROLE_FOOTER_KEY);
		put(p, y0 + 1 + a, x0 + 14, bw - 16, keymap[a].help, off ? ROLE_DIM : ROLE_NORMAL);
	}
	put(p, y0 + bh - 2, x0 + 2, bw - 4, u->read_only ?
	    "read-only: the dimmed keys change rollouts; perch watch cannot." :
	    "Nothing destructive happens on one key: those ask y/N first.", ROLE_DIM);
}

/* A confirmation: its title and up to three paragraphs (what the canary
 * is, its health, what happens), the health one in the failure colour
 * when checks failed. */
struct confirm {
	char title[160];
	char para[3][640];
	bool alarm;		/* para[1] reports failed checks */
};

/* The names of the rollouts in progress under our control: "checkout,
 * payments, cart and 2 more". */
static void
quit_names(const struct snapshot *s, char *out, size_t n)
{
	size_t i, len = 0;
	int shown = 0, more = 0;

	out[0] = '\0';
	for (i = 0; s != NULL && i < s->n_canaries; i++) {
		const struct snap_canary *c = &s->canaries[i];

		if (!ui_in_progress_phase(c->phase) || !c->can_control)
			continue;
		if (shown == 4) {
			more++;
			continue;
		}
		len += (size_t)snprintf(out + len, len < n ? n - len : 0, "%s%.60s",
		    shown ? ", " : "", c->name);
		shown++;
		if (len >= n)
			len = n - 1;
	}
	if (more > 0)
		snprintf(out + len, n - len, " and %d more", more);
}

/* Quitting hands the rollouts over: their state saved, their control
 * given back, so that a perch that waits for them (a controller, another
 * perch run) goes on with them. */
static void
quit_text(const struct snapshot *s, const struct ui *u, struct confirm *q)
{
	int n = ui_in_progress_controlled(s);
	const char *its = n == 1 ? "its" : "their", *it = n == 1 ? "it" : "them";
	char names[400];

	snprintf(q->title, sizeof q->title, "quit perch?");
	quit_names(s, names, sizeof names);
	if (u->saved_in[0] != '\0') {
		snprintf(q->para[0], sizeof q->para[0], "%d rollout%s in progress under this perch's "
		    "control: %s.", n, n == 1 ? " is" : "s are", names);
		snprintf(q->para[1], sizeof q->para[1], "Quitting saves %s state %s and releases %s "
		    "%s%s at once: %s that waits for %s takes %s over and goes on from where %s %s.",
		    its, u->saved_in, its, u->released,
		    n == 1 || strcmp(u->released, "control") == 0 ? "" : "s",
		    strcmp(u->released, "Lease") == 0 ? "a perch controller or another perch run" :
		    "another perch", it, it,
		    n == 1 ? "it" : "they", n == 1 ? "is" : "are");
		snprintf(q->para[2], sizeof q->para[2], "If none runs, %s weight%s stay%s where "
		    "%s %s until perch runs next.", its, n == 1 ? "" : "s", n == 1 ? "s" : "",
		    n == 1 ? "it" : "they", n == 1 ? "is" : "are");
	} else
		snprintf(q->para[0], sizeof q->para[0], "%d rollout%s in progress in the simulator. "
		    "Nothing is saved: %s with the demo (perch demo --state-dir DIR keeps %s).", n,
		    n == 1 ? " is" : "s are", n == 1 ? "it ends" : "they end",
		    n == 1 ? "it" : "them");
}

/* The canary's health, for the commands that bypass its analysis: failed
 * checks of the threshold and the last failure, or that none failed. */
static bool
health_text(const struct snap_canary *c, char *out, size_t n)
{
	char t[16];

	if (c->failed_checks > 0 && c->last_failure != NULL && c->last_failure[0] != '\0') {
		fmt_clock(t, sizeof t, c->last_failure_ms, true);
		snprintf(out, n, "It has FAILED %d of %d checks; the last, at %s: %s.",
		    c->failed_checks, c->threshold, t, c->last_failure);
		return true;
	}
	if (c->failed_checks > 0) {
		snprintf(out, n, "It has FAILED %d of %d checks.", c->failed_checks, c->threshold);
		return true;
	}
	if (c->held)
		snprintf(out, n, "It has failed 0 of %d checks, but the last was inconclusive: %s.",
		    c->threshold, c->reason != NULL && c->reason[0] ? c->reason : "no data");
	else
		snprintf(out, n, "It has failed 0 of %d checks.", c->threshold);
	return false;
}

/* The confirmation of a key on a canary Flagger drives: exactly what will
 * be changed (k8s/flagger_cmd.c does it). */
static void
driven_text(const struct ui *u, const struct snap_canary *c, struct confirm *q)
{
	const char *rec = "It is recorded as an Event on the Canary, naming you.";

	snprintf(q->para[0], sizeof q->para[0], "%s is driven by %s; perch asks Flagger through "
	    "its own controls.", c->name, c->driven_by);
	snprintf(q->para[2], sizeof q->para[2], "%s", rec);
	switch (ui_command_of(u->confirm, c)) {
	case CMD_APPROVE:
		snprintf(q->title, sizeof q->title, "open the gate of %s?", c->name);
		snprintf(q->para[1], sizeof q->para[1], "POST /gate/open beside the webhook's "
		    "/gate/check on the load tester: Flagger goes on at its next check.");
		break;
	case CMD_PROMOTE_STEP:
		snprintf(q->title, sizeof q->title, "let %s move one step?", c->name);
		snprintf(q->para[1], sizeof q->para[1], "Opens its confirm-traffic-increase gate, and "
		    "closes it again once the weight has moved.");
		break;
	case CMD_PROMOTE_FULL:
		snprintf(q->title, sizeof q->title, "promote %s fully?", c->name);
		snprintf(q->para[1], sizeof q->para[1], c->facts.driven_hooks &
		    (1u << HOOK_CONFIRM_PROMOTION) ? "Opens its confirm-promotion gate on the load "
		    "tester." : "Patches spec.skipAnalysis: true on the Canary: Flagger promotes "
		    "without analysis. A GitOps tool that owns the Canary may revert this spec edit.");
		break;
	case CMD_PAUSE:
		snprintf(q->title, sizeof q->title, "suspend %s?", c->name);
		snprintf(q->para[1], sizeof q->para[1], "Patches spec.suspend: true on the Canary. "
		    "Unlike a perch pause, a suspended Flagger canary stops its analysis too, "
		    "not only its weight. A GitOps tool may revert this spec edit.");
		break;
	case CMD_RESUME:
		snprintf(q->title, sizeof q->title, "resume %s?", c->name);
		snprintf(q->para[1], sizeof q->para[1], "Patches spec.suspend: false on the Canary: "
		    "Flagger runs its analysis again.");
		break;
	case CMD_ROLLBACK:
		snprintf(q->title, sizeof q->title, "roll back %s?", c->name);
		snprintf(q->para[1], sizeof q->para[1], "POST /rollback/open beside its rollback "
		    "webhook on the load tester: Flagger rolls back at its next check.");
		break;
	case CMD_RETRY:
		snprintf(q->title, sizeof q->title, "retry %s?", c->name);
		snprintf(q->para[1], sizeof q->para[1], "Flagger retries when the target changes: "
		    "a perch.dev/retry annotation (a timestamp) goes into the pod template of %s. "
		    "This restarts the canary pods.", c->target ? c->target : "the target");
		break;
	default:
		snprintf(q->title, sizeof q->title, "%s %s?", command_name(ui_command_of(u->confirm,
		    c)), c->name);
		break;
	}
}

static void
command_text(const struct ui *u, const struct snap_canary *c, struct confirm *q)
{
	char pos[96], weight[FMT_MAX];
	const char *to = c->rev_to && c->rev_to[0] ? c->rev_to : "the canary";
	const char *from = c->rev_from && c->rev_from[0] ? c->rev_from : "the primary";
	const char *who = u->actor[0] ? u->actor : "you";

	if (c->driven_by != NULL && c->driven_by[0] != '\0') {
		driven_text(u, c, q);
		return;
	}
	if (c->strategy == STRATEGY_CANARY)
		snprintf(pos, sizeof pos, "step %d/%zu", c->step, c->n_ladder);
	else
		snprintf(pos, sizeof pos, "iteration %d/%d", c->iteration, c->iterations);
	fmt_weight(weight, sizeof weight, c->weight);
	snprintf(q->para[0], sizeof q->para[0], "%s is at %s with %s of traffic.", to, pos, weight);
	switch (ui_command_of(u->confirm, c)) {
	case CMD_ROLLBACK:
		snprintf(q->title, sizeof q->title, "roll back %s?", c->name);
		snprintf(q->para[2], sizeof q->para[2], "All traffic returns to %s and the canary "
		    "scales to zero.", from);
		break;
	case CMD_PROMOTE_FULL:
		snprintf(q->title, sizeof q->title, "promote %s fully now?", c->name);
		q->alarm = health_text(c, q->para[1], sizeof q->para[1]);
		snprintf(q->para[2], sizeof q->para[2], "The remaining steps and checks are skipped: "
		    "it replaces %s now, and the promotion is recorded as forced by %s.", from, who);
		break;
	case CMD_SKIP:
		snprintf(q->title, sizeof q->title, "skip the analysis of %s?", c->name);
		q->alarm = health_text(c, q->para[1], sizeof q->para[1]);
		snprintf(q->para[2], sizeof q->para[2], "No more checks: it replaces %s as soon as "
		    "its pods are ready%s%s%s, and the promotion is recorded as skipped by %s.", from,
		    c->facts.canary == READY_NO ? " (" : "",
		    c->facts.canary == READY_NO ? c->facts.canary_why : "",
		    c->facts.canary == READY_NO ? ")" : "", who);
		break;
	default:
		snprintf(q->title, sizeof q->title, "approve %s?", to);
		snprintf(q->para[0], sizeof q->para[0], c->gate == GATE_ROLLOUT ?
		    "%s waits to start its rollout (%s, %s of traffic). Traffic then moves to "
		    "it step by step, under analysis." :
		    "%s is at %s with %s of traffic and waits for promotion. It then replaces "
		    "the primary.", to, pos, weight);
		break;
	}
}

static void
render_confirm(const struct pen *p, const struct snapshot *s, const struct ui *u, int H, int W)
{
	struct confirm q;
	const struct snap_canary *c = NULL;
	size_t i;
	int bw = W - 8 < 64 ? W - 8 : 64, bh, y0, x0, y, lines[3], k;

	memset(&q, 0, sizeof q);
	for (i = 0; s != NULL && i < s->n_canaries; i++) {
		char key[160];

		snprintf(key, sizeof key, "%s/%s", s->canaries[i].ns, s->canaries[i].name);
		if (strcmp(key, u->confirm_canary) == 0)
			c = &s->canaries[i];
	}
	if (u->confirm == KA_QUIT || c == NULL)
		quit_text(s, u, &q);
	else
		command_text(u, c, &q);
	bh = 4;
	for (k = 0; k < 3; k++) {
		lines[k] = wrapped_lines(p, bw - 4, 8, q.para[k]);
		bh += lines[k];
	}
	if (bh > H - 3)
		bh = H - 3;
	y0 = 1 + (H - 3 - bh) / 2;
	x0 = (W - bw) / 2;
	clear_rect(p, y0, x0 - 1, bh, bw + 2);	/* a margin, and no wide character cut in half */
	draw_box(p, y0, x0, bh, bw, q.title);
	for (k = 0, y = y0 + 1; k < 3; k++)
		y += put_wrapped(p, y, x0 + 2, bw - 4, y0 + bh - 2 - y, q.para[k],
		    k == 1 && q.alarm ? ROLE_METRIC_FAIL : ROLE_DIALOG);
	put_right(p, y0 + bh - 2, x0 + bw - 2, bw - 4, "[y] yes  [N] no", ROLE_FOOTER_KEY);
}

/* The full text of an event and of the reason (Enter in the detail, e):
 * wrapped, nothing cut but what the screen cannot hold. */
static void
render_text(const struct pen *p, const struct ui *u, int H, int W)
{
	int bw = W - 4 < 100 ? W - 4 : 100, tw, lines, rl, bh, y0, x0, y;

	tw = bw - 4;
	lines = u->text[0] != '\0' ? wrapped_lines(p, tw, 1 << 20, u->text) : 0;
	rl = u->text_reason[0] != '\0' ? wrapped_lines(p, tw - 8, 1 << 20, u->text_reason) : 0;
	bh = lines + (rl > 0 ? rl + (lines > 0 ? 1 : 0) : 0) + 3;
	if (bh > H - 3)
		bh = H - 3;
	y0 = 1 + (H - 3 - bh) / 2;
	x0 = (W - bw) / 2;
	clear_rect(p, y0, x0 - 1, bh, bw + 2);
	draw_box(p, y0, x0, bh, bw, u->text_title);
	y = y0 + 1;
	if (lines > 0)
		y += put_wrapped(p, y, x0 + 2, tw, y0 + bh - 2 - y, u->text, ROLE_DIALOG) + 1;
	if (rl > 0 && y < y0 + bh - 2) {
		put(p, y, x0 + 2, 8, "reason", ROLE_DIM);
		put_wrapped(p, y, x0 + 10, tw - 8, y0 + bh - 2 - y, u->text_reason, ROLE_DIALOG);
	}
	put_right(p, y0 + bh - 2, x0 + bw - 2, bw - 4, "any key closes", ROLE_DIM);
}

static void
render_body(const struct pen *p, const struct snapshot *s, const struct ui *u, int H, int W)
{
	const struct snap_canary *c = ui_current(u, s);
	int sr = status_rows(p, s, u, W);
	struct rect body = { 1, 0, H - 2 - sr, W };

	if (s == NULL) {
		put(p, 2, 2, W - 4, "waiting for the engine...", ROLE_DIM);
		return;
	}
	if (u->screen == SCR_DETAIL && c != NULL) {
		render_detail(p, s, u, c, body);
	} else if (W >= SPLIT_COLS && H >= SPLIT_ROWS) {
		int oh = overview_rows(s, u) + 3;
		struct rect top, bottom;

		if (oh > H / 3)
			oh = H / 3;
		if (oh < 5)
			oh = 5;
		top = (struct rect){ 1, 0, oh, W };
		bottom = (struct rect){ 1 + oh, 0, H - 2 - sr - oh, W };
		render_overview(p, s, u, top, true);
		if (c != NULL)
			render_detail(p, s, u, c, bottom);
	} else {
		render_overview(p, s, u, body, false);
	}
}

int
render(WINDOW *w, const attr_t *roles, const struct snapshot *s, const struct ui *u)
{
	int H, W, event_rows = 0;
	struct pen p = { w, roles, u->utf8, &event_rows };

	getmaxyx(w, H, W);
	werase(w);
	if (W < MIN_COLS || H < MIN_ROWS) {
		char msg[80];

		snprintf(msg, sizeof msg, "terminal too small: need %dx%d, have %dx%d",
		    MIN_COLS, MIN_ROWS, W, H);
		put(&p, H / 2, W > text_width(msg, false) ? (W - text_width(msg, false)) / 2 : 0,
		    W, msg, ROLE_NORMAL);
		return 0;
	}
	render_header(&p, s, u, W);
	render_body(&p, s, u, H, W);
	render_status(&p, s, u, H - 2, W);
	render_footer(&p, s, u, H - 1, W);
	if (u->overlay == OV_HELP)
		render_help(&p, u, H, W);
	else if (u->overlay == OV_CONFIRM)
		render_confirm(&p, s, u, H, W);
	else if (u->overlay == OV_TEXT)
		render_text(&p, u, H, W);
	return event_rows;
}
