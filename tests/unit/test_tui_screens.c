/*
 * test_tui_screens.c — golden screens: each screen rendered from a fixed
 * snapshot into a fake terminal (newterm on /dev/null) of a fixed size, its
 * text dumped cell by cell and compared with tests/data/screens/NAME.screen.
 * The nocolor ones are drawn with the attributes NO_COLOR leaves (the
 * default theme without colour: bold, reverse, underline, dim) and add a
 * map of them under the text, so that what tells a failure from a pass
 * without colour is checked too.  UPDATE_GOLDEN=1 rewrites the files
 * instead.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "helper_screen.h"
#include "helper_snapfix.h"
#include "tui/render.h"
#include "tui/ui.h"
#include "util/buf.h"
#include "util/xalloc.h"

struct golden {
	const char *name;
	int cols, rows;
	bool utf8;
	bool read_only;
	const char *keys;	/* typed before rendering */
	bool filter_edit;	/* leave the filter being edited */
	void (*prep)(struct snapshot *s);	/* changes the fixture first, or NULL */
	bool nocolor;		/* NO_COLOR attributes, and their map */
};

/* Where the screens' UI says the state is saved ("" = nothing saved, as in
 * a plain demo); test_quit_saved sets it. */
static const char *golden_saved_in = "";
static const char *golden_released = NULL;

/* Renders one screen (helper_screen.h) and returns its text. */
static char *
render_text(const struct golden *g, struct snapshot *s)
{
	struct screen_spec sp = { .name = g->name, .cols = g->cols, .rows = g->rows,
		.utf8 = g->utf8, .keys = g->keys, .read_only = g->read_only,
		.nocolor = g->nocolor, .saved_in = golden_saved_in,
		.released = golden_released };

	return screen_text(&sp, s);
}

/* perch run -A: no namespace of the run's own, canaries in two. */
static void
all_namespaces(struct snapshot *s)
{
	free(s->ns);
	s->ns = NULL;
}

static void
pause_all(struct snapshot *s)
{
	size_t i;

	for (i = 0; i < s->n_canaries; i++)
		if (ui_in_progress_phase(s->canaries[i].phase))
			s->canaries[i].paused = true;
}

/* Session affinity on the first canary: its detail names the cookie of the
 * run, so that an engineer can pin a client to the canary. */
static void
sticky_session(struct snapshot *s)
{
	free(s->canaries[0].provider);
	s->canaries[0].provider = xstrdup("gatewayapi:v1");
	s->canaries[0].sticky = xstrdup("canary-session=QxZtRbNwKe");
}

/* Nothing in progress: the first canary idle (waiting for a new
 * revision), every other one finished. */
static void
all_idle(struct snapshot *s)
{
	size_t i;

	s->canaries[0].phase = PHASE_INITIALIZED;
	s->canaries[0].weight = 0;
	s->canaries[0].step = 0;
	for (i = 1; i < s->n_canaries; i++) {
		struct snap_canary *c = &s->canaries[i];

		if (!phase_is_terminal(c->phase)) {
			c->phase = PHASE_SUCCEEDED;
			c->gate = GATE_NONE;
			c->held = c->paused = false;
			c->reason[0] = '\0';
		}
	}
}

/* search failed, and a new revision started 25 s ago: its row starts over
 * (no success rate nor p99 of the failed revision), the failure stays in
 * sight, and the detail draws the boundary between the two runs. */
static void
new_revision(struct snapshot *s)
{
	struct snap_canary *c = &s->canaries[2];
	size_t i;

	c->phase = PHASE_PROGRESSING;
	c->weight = 10;
	c->step = 1;
	c->failed_checks = 0;
	c->phase_since_ms = SNAPFIX_NOW_MS - 25000;
	c->run_since_ms = SNAPFIX_NOW_MS - 25000;
	c->last_phase = PHASE_FAILED;
	c->last_end_ms = SNAPFIX_NOW_MS - 26000;
	c->last_reason = xstrdup(c->reason);
	c->reason[0] = '\0';
	free(c->rev_from);
	free(c->rev_to);
	c->rev_from = xstrdup("search:v1");
	c->rev_to = xstrdup("search:v3");
	for (i = 0; i < c->n_metrics; i++) {	/* the new run's first check */
		struct snap_metric *m = &c->metrics[i];

		m->points = xreallocarray(m->points, m->n_points + 1, sizeof *m->points);
		m->points[m->n_points++] = (struct snap_point){ SNAPFIX_NOW_MS - 5000,
			m->kind == METRIC_DURATION ? 210 : 99.7, CHECK_PASS };
	}
}

/* Texts longer than their place: cut with "…" on the screens, whole in
 * the full-text view. */
static void
long_texts(struct snapshot *s)
{
	struct snap_canary *c = &s->canaries[0], *cart = &s->canaries[3];

	c->events = xreallocarray(c->events, c->n_events + 1, sizeof *c->events);
	c->events[c->n_events++] = (struct snap_event){ SNAPFIX_NOW_MS - 2000, SEV_WARNING,
		xstrdup("Halt checkout.shop advancement request duration 730ms > 500ms: the p99 of "
		    "the last minute is above its bound, so the weight stays at 30% and the next "
		    "check decides whether the canary goes on or a fifth failure rolls it back"),
		xstrdup("") };
	free(cart->reason);
	cart->reason = xstrdup("held: request-success-rate no traffic: 3 requests in 1m, need "
	    "100 (perch.dev/min-requests); the canary keeps 10% until traffic comes back or its "
	    "progress deadline of 10m passes");
}

/* perch watch, its controller silent for 12 s: said where the backends'
 * health goes, which is not claimed "ok". */
static void
controller_lost(struct snapshot *s)
{
	s->ctl = CTL_LOST;
	s->ctl_silent_ms = 12400;
}

/* Another perch controls every canary (perch run refused control): the
 * keys that change rollouts are not offered, and answer why. */
static void
held_elsewhere(struct snapshot *s)
{
	size_t i;

	for (i = 0; i < s->n_canaries; i++)
		s->canaries[i].can_control = false;
	s->read_only = true;
	free(s->holder);
	s->holder = xstrdup("alice@laptop pid 4711");
}

/* payments is driven by a running Flagger: marked FLAGGER beside its name
 * (FLG at 80 columns, where the traffic bar gives up the room), every
 * other column as without it. */
static void
flagger_payments(struct snapshot *s)
{
	free(s->canaries[1].driven_by);
	s->canaries[1].driven_by = xstrdup("Flagger (flagger-system/flagger)");
}

/* checkout has failed 3 of its 5 checks, the last on its p99. */
static void
failing_checkout(struct snapshot *s)
{
	struct snap_canary *c = &s->canaries[0];

	c->failed_checks = 3;
	free(c->last_failure);
	c->last_failure = xstrdup("request-duration 681ms > 500ms");
	c->last_failure_ms = SNAPFIX_NOW_MS - 30000;
}

/* profile was promoted with its analysis skipped, 3 of 5 checks failed. */
static void
skipped_profile(struct snapshot *s)
{
	struct snap_canary *c = &s->canaries[4];

	c->failed_checks = 3;
	c->override = OVR_SKIPPED;
	free(c->override_text);
	c->override_text = xstrdup("promoted with analysis skipped by alice@laptop, 3 of 5 "
	    "checks failed");
}

/* profile promoted: the primary runs what was rolled out, the title names
 * one image ("profile:v2", not "profile:v2 → profile:v2"). */
static void
promoted_profile(struct snapshot *s)
{
	struct snap_canary *c = &s->canaries[4];

	free(c->rev_from);
	c->rev_from = xstrdup("profile:v2");
}

/* checkout compared with its primary (perch.dev/compare): its p99 twice
 * the primary's (High), its success rate like it (Pass): score 50, which
 * the scores 40/95 make marginal.  The detail shows the score, each
 * metric's classification, medians and effect size, and beside the p99's
 * graph the two distributions of the last analysis. */
static void
compared_checkout(struct snapshot *s)
{
	struct compare_result *r = &s->canaries[0].compare;
	static const double lat[11] = { 228, 236, 240, 244, 252, 238, 242, 246, 234, 240, 248 };
	static const double rate[11] = { 99.9, 99.8, 99.9, 100, 99.9, 99.8, 99.9, 99.9, 100, 99.9,
		99.8 };
	size_t i;

	s->canaries[0].compares = true;
	memset(r, 0, sizeof *r);
	r->done = true;
	r->n = 2;
	r->score = 50;
	r->verdict = JUDGE_VERDICT_MARGINAL;
	r->m[0] = (struct compare_metric){ .metric = 1, .name = "request-duration",
		.classification = JUDGE_HIGH, .canary_median = 240, .primary_median = 120,
		.effect = 2.0, .n_canary = 11, .n_primary = 11 };
	r->m[1] = (struct compare_metric){ .metric = 0, .name = "request-success-rate",
		.classification = JUDGE_PASS, .canary_median = 99.9, .primary_median = 99.9,
		.effect = 1.0, .n_canary = 11, .n_primary = 11 };
	for (i = 0; i < 11; i++) {
		r->m[0].canary[i] = lat[i];
		r->m[0].primary[i] = lat[i] / 2;
		r->m[1].canary[i] = rate[i];
		r->m[1].primary[i] = rate[10 - i];
	}
}

static void
check_golden(const struct golden *g)
{
	struct snapshot *s = snapfix_new();
	struct screen_spec sp;
	char *got;

	if (g->prep != NULL) {
		g->prep(s);
		snapfix_facts(s);
		if (g->prep == held_elsewhere)
			for (size_t i = 0; i < s->n_canaries; i++)
				snprintf(s->canaries[i].facts.holder,
				    sizeof s->canaries[i].facts.holder, "%s", s->holder);
	}
	got = render_text(g, s);
	sp = (struct screen_spec){ .name = g->name };
	if (screen_golden(&sp, got) != 0)
		fail_msg("golden screen %s", g->name);
	free(got);
	snapshot_unref(s);
}

static const struct golden goldens[] = {
	{ "overview-80x24",        80, 24, true, false, "", false, NULL, false },
	{ "overview-120x40",      120, 40, true, false, "", false, NULL, false },
	{ "overview-sel3-80x24",   80, 24, true, false, "jj", false, NULL, false },
	{ "detail-80x24",          80, 24, true, false, "\n", false, NULL, false },
	{ "detail-failed-120x40", 120, 40, true, false, "jj\n", false, NULL, false },
	{ "detail-bluegreen-80x24", 80, 24, true, false, "jjjjj\n", false, NULL, false },
	{ "detail-held-120x40",   120, 40, true, false, "jjj\n", false, NULL, false },
	{ "split-events-scrolled-120x40", 120, 40, true, false, "JJ", false, NULL, false },
	{ "help-80x24",            80, 24, true, false, "?", false, NULL, false },
	{ "help-120x40",          120, 40, true, false, "?", false, NULL, false },
	{ "confirm-rollback-80x24", 80, 24, true, false, "r", false, NULL, false },
	{ "confirm-rollback-120x40", 120, 40, true, false, "r", false, NULL, false },
	{ "confirm-approve-80x24", 80, 24, true, false, "ja", false, NULL, false },
	{ "confirm-quit-80x24",    80, 24, true, false, "q", false, NULL, false },
	{ "too-small-79x24",       79, 24, true, false, "", false, NULL, false },
	{ "too-small-100x20",     100, 20, true, false, "", false, NULL, false },
	{ "readonly-80x24",        80, 24, true, true, "r", false, NULL, false },
	{ "readonly-120x40",      120, 40, true, true, "j", false, NULL, false },
	{ "readonly-help-80x24",   80, 24, true, true, "?", false, NULL, false },
	{ "filter-edit-80x24",     80, 24, true, false, "/ca", true, NULL, false },
	{ "filter-kept-120x40",   120, 40, true, false, "/ar\n", false, NULL, false },
	{ "ascii-overview-80x24",  80, 24, false, false, "", false, NULL, false },
	{ "ascii-overview-120x40", 120, 40, false, false, "", false, NULL, false },
	{ "ascii-detail-80x24",    80, 24, false, false, "\n", false, NULL, false },
	{ "ascii-detail-failed-80x24", 80, 24, false, false, "jj\n", false, NULL, false },
	{ "all-paused-120x40",    120, 40, true, false, "", false, pause_all, false },
	{ "all-paused-detail-80x24", 80, 24, true, false, "\n", false, pause_all, false },
	{ "idle-detail-80x24",     80, 24, true, false, "\n", false, all_idle, false },
	{ "sticky-detail-80x24",   80, 24, true, false, "\n", false, sticky_session, false },
	{ "revision-overview-80x24", 80, 24, true, false, "", false, new_revision, false },
	{ "revision-detail-120x40", 120, 40, true, false, "jj\n", false, new_revision, false },
	{ "revision-detail-80x24",  80, 24, true, false, "jj\n", false, new_revision, false },
	{ "ascii-revision-detail-80x24", 80, 24, false, false, "jj\n", false, new_revision, false },
	{ "long-split-120x40",    120, 40, true, false, "", false, long_texts, false },
	{ "long-overview-80x24",   80, 24, true, false, "", false, long_texts, false },
	{ "long-detail-80x24",     80, 24, true, false, "\n", false, long_texts, false },
	{ "long-event-text-80x24", 80, 24, true, false, "\n\n", false, long_texts, false },
	{ "long-event-text-120x40", 120, 40, true, false, "jjje", false, long_texts, false },
	{ "watch-lost-80x24",      80, 24, true, true, "", false, controller_lost, false },
	{ "watch-lost-120x40",    120, 40, true, true, "", false, controller_lost, false },
	{ "nocolor-detail-failed-120x40", 120, 40, true, false, "jj\n", false, NULL, true },
	{ "nocolor-revision-80x24", 80, 24, true, false, "jj\n", false, new_revision, true },
	{ "nocolor-watch-lost-80x24", 80, 24, true, true, "", false, controller_lost, true },
	{ "held-elsewhere-80x24",  80, 24, true, false, "p", false, held_elsewhere, false },
	{ "held-elsewhere-detail-120x40", 120, 40, true, false, "", false, held_elsewhere, false },
	{ "confirm-skip-failing-80x24", 80, 24, true, false, "s", false, failing_checkout, false },
	{ "confirm-promote-failing-120x40", 120, 40, true, false, "P", false, failing_checkout, false },
	{ "confirm-skip-healthy-80x24", 80, 24, true, false, "s", false, NULL, false },
	{ "override-120x40",      120, 40, true, false, "jjjj", false, skipped_profile, false },
	{ "promoted-detail-80x24", 80, 24, true, false, "jjjj\n", false, promoted_profile, false },
	{ "compare-detail-80x24",  80, 24, true, false, "\n", false, compared_checkout, false },
	{ "compare-split-120x40", 120, 40, true, false, "", false, compared_checkout, false },
	{ "ascii-compare-detail-80x24", 80, 24, false, false, "\n", false, compared_checkout, false },
	{ "nocolor-compare-detail-120x40", 120, 40, true, false, "\n", false, compared_checkout, true },
	{ "all-namespaces-80x24",   80, 24, true, false, "j", false, all_namespaces, false },
	{ "all-namespaces-120x40", 120, 40, true, false, "", false, all_namespaces, false },
	{ "flagger-80x24",          80, 24, true, false, "", false, flagger_payments, false },
	{ "flagger-120x40",        120, 40, true, false, "", false, flagger_payments, false },
};

static void
test_golden(void **state)
{
	check_golden((const struct golden *)*state);
}

/* The quit dialog of a run whose state is saved names the rollouts it
 * hands over, says where their state is saved and what is released (the
 * locks of a state directory); the plain demo's (confirm-quit-80x24) says
 * that nothing is saved. */
static void
test_quit_saved(void **state)
{
	static const struct golden g = { "confirm-quit-saved-80x24", 80, 24, true, false, "q",
		false, NULL, false };

	(void)state;
	golden_saved_in = "in /var/lib/perch";
	golden_released = "lock";
	check_golden(&g);
	golden_saved_in = "";
	golden_released = NULL;
}

/* On the cluster: their Leases, for a controller or another perch run. */
static void
test_quit_cluster(void **state)
{
	static const struct golden g = { "confirm-quit-cluster-80x24", 80, 24, true, false, "q",
		false, NULL, false };

	(void)state;
	golden_saved_in = "in the cluster";
	golden_released = "Lease";
	check_golden(&g);
	golden_saved_in = "";
	golden_released = NULL;
}

/* The help lists every key of the table on the smallest screen, in both
 * modes: none falls off the end as the table grows. */
static void
test_help_every_key(void **state)
{
	static const struct golden gs[] = {
		{ "help", 80, 24, true, false, "?", false, NULL, false },
		{ "help", 80, 24, true, true, "?", false, NULL, false },
	};
	size_t i;
	int a;

	(void)state;
	for (i = 0; i < sizeof gs / sizeof gs[0]; i++) {
		struct snapshot *s = snapfix_new();
		char *got = render_text(&gs[i], s);

		for (a = 0; a < KA__COUNT; a++) {
			char want[160];

			snprintf(want, sizeof want, "│ %-11s %s", keymap[a].label, keymap[a].help);
			if (strstr(got, want) == NULL)
				fail_msg("the help (%s) does not list %s:\n%s",
				    gs[i].read_only ? "read-only" : "control", keymap[a].label, got);
		}
		free(got);
		snapshot_unref(s);
	}
}

/* A canary whose phase has no known start (a Flagger canary whose status
 * has no transition yet): its FOR column says "—", not the days since
 * 1970. */
static void
test_unknown_since(void **state)
{
	static const struct golden g = { "unknown-since", 120, 40, true, false, "", false,
		NULL, false };
	struct snapshot *s = snapfix_new();
	char *got, *line, *end;

	(void)state;
	s->canaries[0].phase_since_ms = 0;
	got = render_text(&g, s);
	line = strstr(got, s->canaries[0].name);
	assert_non_null(line);
	end = strchr(line, '\n');
	assert_non_null(end);
	*end = '\0';
	if (strstr(line, "d │") != NULL || strstr(line, "— │") == NULL)
		fail_msg("FOR of an unknown start: %s", line);
	free(got);
	snapshot_unref(s);
}

int
main(void)
{
	struct CMUnitTest tests[sizeof goldens / sizeof goldens[0] + 4];
	size_t i;

	setenv("TZ", "UTC", 1);
	for (i = 0; i < sizeof goldens / sizeof goldens[0]; i++) {
		tests[i] = (struct CMUnitTest){ goldens[i].name, test_golden, NULL, NULL,
		    (void *)&goldens[i] };
	}
	tests[i++] = (struct CMUnitTest){ "confirm-quit-cluster-80x24", test_quit_cluster, NULL, NULL,
	    NULL };
	tests[i++] = (struct CMUnitTest){ "confirm-quit-saved-80x24", test_quit_saved, NULL, NULL,
	    NULL };
	tests[i++] = (struct CMUnitTest){ "help-every-key", test_help_every_key, NULL, NULL, NULL };
	tests[i++] = (struct CMUnitTest){ "unknown-since", test_unknown_since, NULL, NULL, NULL };
	return _cmocka_run_group_tests("tui_screens", tests, i, NULL, NULL);
}
