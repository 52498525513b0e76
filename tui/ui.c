/*
 * ui.c — the key handler and the state it changes (see ui.h).  Every key
 * goes through keymap_lookup(); actions that change a rollout are refused in
 * read-only mode before any command is built.  A key that sends a command
 * is judged first by the command's preconditions (engine/command.h) on the
 * facts the snapshot carries: when they do not hold it answers why and
 * sends nothing; the commands the table marks go through a confirmation
 * that names the canary, its step, its weight and its health.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "engine/command.h"
#include "tui/draw.h"
#include "tui/nc.h"
#include "tui/ui.h"

#define READ_ONLY_MSG "read-only: perch watch cannot change rollouts"

void
ui_init(struct ui *u, bool read_only, bool utf8)
{
	memset(u, 0, sizeof *u);
	u->read_only = read_only;
	u->utf8 = utf8;
	u->confirm = KA_NONE;
}

void
ui_message(struct ui *u, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(u->msg, sizeof u->msg, fmt, ap);
	va_end(ap);
	u->msg_canary[0] = '\0';
	u->msg_at = u->mono_ms;
}

void
ui_canary_message(struct ui *u, const char *canary, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(u->msg, sizeof u->msg, fmt, ap);
	va_end(ap);
	snprintf(u->msg_canary, sizeof u->msg_canary, "%s", canary != NULL ? canary : "");
	u->msg_at = u->mono_ms;
}

static void
canary_key(const struct snap_canary *c, char *out, size_t n)
{
	snprintf(out, n, "%s/%s", c->ns ? c->ns : "", c->name ? c->name : "");
}

size_t
ui_visible(const struct ui *u, const struct snapshot *s, size_t *idx, size_t n)
{
	size_t i, k = 0;
	char key[160];

	if (s == NULL)
		return 0;
	for (i = 0; i < s->n_canaries && k < n; i++) {
		canary_key(&s->canaries[i], key, sizeof key);
		if (u->filter[0] == '\0' || strstr(key, u->filter) != NULL)
			idx[k++] = i;
	}
	return k;
}

static const struct snap_canary *
find_canary(const struct snapshot *s, const char *want)
{
	size_t i;
	char key[160];

	if (s == NULL)
		return NULL;
	for (i = 0; i < s->n_canaries; i++) {
		canary_key(&s->canaries[i], key, sizeof key);
		if (strcmp(key, want) == 0)
			return &s->canaries[i];
	}
	return NULL;
}

const struct snap_canary *
ui_current(const struct ui *u, const struct snapshot *s)
{
	size_t idx[1];

	if (u->selected[0] != '\0') {
		const struct snap_canary *c = find_canary(s, u->selected);
		char key[160];

		if (c != NULL && u->filter[0] != '\0') {
			canary_key(c, key, sizeof key);
			if (strstr(key, u->filter) == NULL)
				c = NULL;
		}
		if (c != NULL)
			return c;
	}
	if (ui_visible(u, s, idx, 1) == 1)
		return &s->canaries[idx[0]];
	return NULL;
}

void
ui_sync(struct ui *u, const struct snapshot *s)
{
	const struct snap_canary *c;

	if (s == NULL)
		return;
	if (s->status_seq != u->status_seq) {
		u->status_seq = s->status_seq;
		if (s->status_msg != NULL && s->status_msg[0] != '\0')
			ui_canary_message(u, s->status_canary, "%s", s->status_msg);
	}
	if (u->screen == SCR_DETAIL && u->selected[0] != '\0' &&
	    find_canary(s, u->selected) == NULL) {
		/* Its canary is no longer shown (its Canary deleted): the
		 * overview, never another canary's detail or a stale one. */
		u->screen = SCR_OVERVIEW;
		if (strcmp(u->msg_canary, u->selected) != 0 ||
		    u->mono_ms - u->msg_at >= UI_MSG_TTL_MS)
			ui_canary_message(u, u->selected, "%s is no longer shown; back to the "
			    "overview", u->selected);
	}
	c = ui_current(u, s);
	if (c != NULL)
		canary_key(c, u->selected, sizeof u->selected);
}

bool
ui_in_progress_phase(enum phase p)
{
	return !phase_is_terminal(p) && p != PHASE_INITIALIZING && p != PHASE_INITIALIZED;
}

int
ui_in_progress_controlled(const struct snapshot *s)
{
	size_t i;
	int n = 0;

	for (i = 0; s != NULL && i < s->n_canaries; i++)
		if (ui_in_progress_phase(s->canaries[i].phase) && s->canaries[i].can_control)
			n++;
	return n;
}

int
ui_in_progress(const struct snapshot *s)
{
	size_t i;
	int n = 0;

	for (i = 0; s != NULL && i < s->n_canaries; i++)
		if (ui_in_progress_phase(s->canaries[i].phase))
			n++;
	return n;
}

bool
ui_canary_running(const struct snap_canary *c)
{
	return c != NULL && ui_in_progress_phase(c->phase) && !c->paused;
}

bool
ui_any_running(const struct snapshot *s)
{
	size_t i;

	for (i = 0; s != NULL && i < s->n_canaries; i++)
		if (ui_canary_running(&s->canaries[i]))
			return true;
	return false;
}

int
ui_event_selected(const struct ui *u, const struct snap_canary *c)
{
	int n = c != NULL ? (int)c->n_events : 0, skip = u->event_scroll;

	if (n == 0)
		return -1;
	skip = skip < 0 ? 0 : skip > n - 1 ? n - 1 : skip;
	return n - 1 - skip;
}

const char *
ui_status_line(const struct ui *u, const struct snapshot *s, int64_t *expires)
{
	const struct snap_canary *c;
	char key[160];

	if (expires != NULL)
		*expires = 0;
	if (u->msg[0] == '\0' || u->mono_ms - u->msg_at >= UI_MSG_TTL_MS) {
		/* perch run starting: what it does stands until it is done */
		if (s == NULL || s->startup == NULL || s->startup[0] == '\0')
			return NULL;
		if (expires != NULL)
			*expires = INT64_MAX / 2;
		return s->startup;
	}
	/* A message about one canary never stands under another's detail. */
	if (u->msg_canary[0] != '\0' && u->screen == SCR_DETAIL &&
	    (c = ui_current(u, s)) != NULL) {
		canary_key(c, key, sizeof key);
		if (strcmp(key, u->msg_canary) != 0)
			return NULL;
	}
	if (expires != NULL)
		*expires = u->msg_at + UI_MSG_TTL_MS;
	return u->msg;
}

/* The command of each key that sends one (KF_MUTATES); Space toggles. */
static const enum command_kind key_commands[KA__COUNT] = {
	[KA_STEP] = CMD_PROMOTE_STEP,
	[KA_PROMOTE] = CMD_PROMOTE_FULL,
	[KA_PAUSE] = CMD_PAUSE,
	[KA_ROLLBACK] = CMD_ROLLBACK,
	[KA_RETRY] = CMD_RETRY,
	[KA_SKIP] = CMD_SKIP,
	[KA_APPROVE] = CMD_APPROVE,
};

enum command_kind
ui_command_of(enum key_action a, const struct snap_canary *c)
{
	if (a == KA_PAUSE && c != NULL && c->paused)
		return CMD_RESUME;
	return a >= 0 && a < KA__COUNT ? key_commands[a] : CMD__COUNT;
}

bool
ui_allowed(const struct ui *u, enum key_action a, const struct snap_canary *c, char *why,
    size_t whysz)
{
	if (why != NULL && whysz > 0)
		why[0] = '\0';
	if (a < 0 || a >= KA__COUNT || !(keymap[a].flags & KF_MUTATES))
		return ui_applies(u, a, c);
	if (u->read_only) {
		if (why != NULL)
			snprintf(why, whysz, READ_ONLY_MSG);
		return false;
	}
	if (c == NULL) {
		if (why != NULL)
			snprintf(why, whysz, "no canary selected");
		return false;
	}
	return command_allowed(ui_command_of(a, c), &c->facts, why, whysz, NULL);
}

bool
ui_applies(const struct ui *u, enum key_action a, const struct snap_canary *c)
{
	if (a >= 0 && a < KA__COUNT && (keymap[a].flags & KF_MUTATES))
		return ui_allowed(u, a, c, NULL, 0);
	switch (a) {
	case KA_DETAIL:
		return u->screen == SCR_OVERVIEW && c != NULL;
	case KA_BACK:
		return u->screen == SCR_DETAIL;
	default:
		return true;
	}
}

static unsigned
build_command(struct ui *u, enum key_action a, const struct snap_canary *c, struct command *cmd)
{
	if (u->read_only) {	/* never reached: refused earlier; kept as a second lock */
		ui_message(u, READ_ONLY_MSG);
		return UI_REDRAW;
	}
	memset(cmd, 0, sizeof *cmd);
	cmd->kind = ui_command_of(a, c);
	canary_key(c, cmd->canary, sizeof cmd->canary);
	snprintf(cmd->actor, sizeof cmd->actor, "%s", u->actor);
	ui_canary_message(u, cmd->canary, "%s %s: sent", c->name, command_name(cmd->kind));
	return UI_REDRAW | UI_SEND;
}

/* false, with the reason in the status line, when the command of key a
 * may not run on c now. */
static bool
may_send(struct ui *u, enum key_action a, const struct snap_canary *c)
{
	char why[400], key[160];

	if (ui_allowed(u, a, c, why, sizeof why))
		return true;
	canary_key(c, key, sizeof key);
	ui_canary_message(u, key, "%s %s refused: %s", c->name, command_name(ui_command_of(a, c)),
	    why);
	return false;
}

static unsigned
key_confirm(struct ui *u, const struct snapshot *s, int code, struct command *cmd)
{
	const struct snap_canary *c;
	enum key_action a = u->confirm;

	u->overlay = OV_NONE;
	u->confirm = KA_NONE;
	if (code != 'y' && code != 'Y') {
		if (a == KA_QUIT || u->confirm_canary[0] == '\0')
			ui_message(u, "cancelled");
		else
			ui_canary_message(u, u->confirm_canary, "%s: cancelled", keymap[a].footer);
		return UI_REDRAW;
	}
	if (a == KA_QUIT)
		return UI_QUIT;
	c = find_canary(s, u->confirm_canary);
	if (c == NULL) {
		ui_message(u, "%s is gone", u->confirm_canary);
		return UI_REDRAW;
	}
	/* The canary may have moved on while the question was open. */
	if (!may_send(u, a, c))
		return UI_REDRAW;
	return build_command(u, a, c, cmd);
}

static unsigned
key_filter(struct ui *u, int code)
{
	size_t len = strlen(u->filter);

	if (code == 27) {
		u->filter[0] = '\0';
		u->overlay = OV_NONE;
	} else if (code == '\n' || code == '\r' || code == KEY_ENTER) {
		u->overlay = OV_NONE;
	} else if (code == KEY_BACKSPACE || code == 127 || code == 8) {
		if (len > 0)
			u->filter[len - 1] = '\0';
	} else if (code >= 0x20 && code < 0x7f && len + 1 < sizeof u->filter) {
		u->filter[len] = (char)code;
		u->filter[len + 1] = '\0';
	}
	return UI_REDRAW;
}

static void
move_selection(struct ui *u, const struct snapshot *s, int delta)
{
	size_t idx[512], n = ui_visible(u, s, idx, 512), i, cur = 0;
	const struct snap_canary *c = ui_current(u, s);

	if (n == 0)
		return;
	for (i = 0; i < n; i++)
		if (&s->canaries[idx[i]] == c)
			cur = i;
	if (delta < 0 && cur > 0)
		cur--;
	else if (delta > 0 && cur + 1 < n)
		cur++;
	canary_key(&s->canaries[idx[cur]], u->selected, sizeof u->selected);
	u->event_scroll = 0;
}

/* Moves the event log of the selected canary by delta lines, within
 * 0 .. events - 1 (the renderer also stops at the last full page). */
static void
scroll_events(struct ui *u, const struct snapshot *s, int delta)
{
	const struct snap_canary *c = ui_current(u, s);
	int max = c != NULL && c->n_events > 0 ? (int)c->n_events - 1 : 0;

	u->event_scroll += delta;
	if (u->event_scroll > max)
		u->event_scroll = max;
	if (u->event_scroll < 0)
		u->event_scroll = 0;
}

static unsigned
key_mutating(struct ui *u, enum key_action a, const struct snap_canary *c, struct command *cmd)
{
	if (u->read_only) {
		ui_message(u, READ_ONLY_MSG);
		return UI_REDRAW;
	}
	if (c == NULL) {
		ui_message(u, "no canary selected");
		return UI_REDRAW;
	}
	if (!may_send(u, a, c))
		return UI_REDRAW;
	/* On a canary Flagger drives every key asks: it changes the cluster. */
	if (command_asks(ui_command_of(a, c)) || (c->driven_by != NULL && c->driven_by[0] != '\0')) {
		u->overlay = OV_CONFIRM;
		u->confirm = a;
		canary_key(c, u->confirm_canary, sizeof u->confirm_canary);
		return UI_REDRAW;
	}
	return build_command(u, a, c, cmd);
}

/* Opens the full text of c's selected event and reason (copied: new
 * events do not move what is being read). */
static unsigned
open_text(struct ui *u, const struct snap_canary *c)
{
	int sel = ui_event_selected(u, c);
	char when[16], key[160];

	if (c == NULL) {
		ui_message(u, "no canary selected");
		return UI_REDRAW;
	}
	if (sel < 0 && (c->reason == NULL || c->reason[0] == '\0')) {
		canary_key(c, key, sizeof key);
		ui_canary_message(u, key, "%s has no event yet", c->name);
		return UI_REDRAW;
	}
	u->text[0] = u->text_reason[0] = '\0';
	snprintf(u->text_title, sizeof u->text_title, "%s", c->name);
	if (sel >= 0) {
		const struct snap_event *e = &c->events[sel];

		fmt_clock(when, sizeof when, e->t_ms, true);
		snprintf(u->text_title, sizeof u->text_title, "%s %s %s", c->name, when,
		    severity_name(e->severity < SEV__COUNT ? e->severity : SEV_ERROR));
		snprintf(u->text, sizeof u->text, "%s%s%s", e->message,
		    e->actor != NULL && e->actor[0] ? " (by " : "",
		    e->actor != NULL && e->actor[0] ? e->actor : "");
		if (e->actor != NULL && e->actor[0])
			snprintf(u->text + strlen(u->text), sizeof u->text - strlen(u->text), ")");
	}
	if (c->reason != NULL && c->reason[0] != '\0')
		snprintf(u->text_reason, sizeof u->text_reason, "%s", c->reason);
	u->overlay = OV_TEXT;
	return UI_REDRAW;
}

static unsigned
key_view(struct ui *u, const struct snapshot *s, enum key_action a, int code)
{
	switch (a) {
	case KA_UP:
	case KA_DOWN:
		if (u->screen == SCR_DETAIL)
			scroll_events(u, s, a == KA_UP ? -1 : 1);
		else
			move_selection(u, s, a == KA_UP ? -1 : 1);
		return UI_REDRAW;
	case KA_EV_LINE:
		scroll_events(u, s, code == 'K' ? -1 : 1);
		return UI_REDRAW;
	case KA_EV_PAGE: {
		int page = u->event_page > 1 ? u->event_page - 1 : UI_PAGE_DEFAULT;

		/* a page less one line, so that one stays in sight */
		scroll_events(u, s, code == KEY_PPAGE ? -page : page);
		return UI_REDRAW;
	}
	case KA_DETAIL:
		if (u->screen == SCR_DETAIL)
			return open_text(u, ui_current(u, s));
		if (ui_current(u, s) != NULL)
			u->screen = SCR_DETAIL;
		u->event_scroll = 0;
		return UI_REDRAW;
	case KA_EVENT:
		return open_text(u, ui_current(u, s));
	case KA_BACK:
		u->screen = SCR_OVERVIEW;
		return UI_REDRAW;
	case KA_FILTER:
		u->overlay = OV_FILTER;
		return UI_REDRAW;
	case KA_THEME:
		return UI_REDRAW | UI_THEME;
	case KA_HELP:
		u->overlay = OV_HELP;
		return UI_REDRAW;
	case KA_REDRAW:
		return UI_REDRAW | UI_REPAINT;
	case KA_QUIT:
		/* Nothing of ours in progress (perch watch, or every canary
		 * controlled elsewhere): nothing to ask about. */
		if (u->read_only || ui_in_progress_controlled(s) == 0)
			return UI_QUIT;
		u->overlay = OV_CONFIRM;
		u->confirm = KA_QUIT;
		u->confirm_canary[0] = '\0';
		return UI_REDRAW;
	default:
		return 0;
	}
}

unsigned
ui_key(struct ui *u, const struct snapshot *s, int code, struct command *cmd)
{
	enum key_action a;

	if (code == KEY_RESIZE)
		return UI_REDRAW;
	if (u->overlay == OV_CONFIRM)
		return key_confirm(u, s, code, cmd);
	if (u->overlay == OV_FILTER)
		return key_filter(u, code);
	a = keymap_lookup(code);
	if (u->overlay == OV_HELP || u->overlay == OV_TEXT) {	/* any key closes it */
		u->overlay = OV_NONE;
		return a == KA_REDRAW ? UI_REDRAW | UI_REPAINT : UI_REDRAW;
	}
	if (a == KA_NONE)
		return 0;
	if (keymap[a].flags & KF_MUTATES)
		return key_mutating(u, a, ui_current(u, s), cmd);
	return key_view(u, s, a, code);
}
