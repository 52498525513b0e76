/*
 * test_tui_hostile.c — golden screens of strings from the cluster and from
 * Prometheus meant to harm a terminal: escape sequences (clear screen, set
 * the title, OSC 52 clipboard writes, colours), bidirectional overrides,
 * invalid UTF-8, carriage returns and 100 KB lengths, in a canary's name
 * and namespace, an Event message, a webhook's answer and a metric error.
 *
 * Two ways in.  As the engine hands them over (sanitize() at the point the
 * runner takes them: the "sanitized" screens), and raw, as if a path had
 * forgotten to (the "raw" screens): the front end's own last check must
 * then still draw nothing but printable text, every escape sequence gone
 * whole, within the screen's width.  Every screen is also checked for any
 * byte a terminal would act on.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helper_screen.h"
#include "helper_snapfix.h"
#include "util/buf.h"
#include "util/sanitize.h"
#include "util/xalloc.h"

#define BIG (100 * 1024)

/* clear screen, window title, clipboard write (OSC 52), colours, a bidi
 * override, invalid UTF-8, a carriage return and a line break */
#define NASTY "\033[2J\033[H\033]0;pwned\007\033]52;c;cm0gLXJmIH4=\007\033[31m" \
	"\xe2\x80\xae" "exe.txt" "\xe2\x80\xac" "\xff\xfe\xc3\x28" "\r\nforged line\033[0m"

static char *
big(const char *head, const char *unit)
{
	struct buf b;

	buf_init(&b, 0);
	buf_puts(&b, head);
	while (b.len < BIG)
		buf_puts(&b, unit);
	return buf_take(&b);
}

/* The raw strings, and where they go: the failed canary "search". */
struct hostile {
	char *ns, *name, *event, *webhook, *metric_err;
};

static void
hostile_init(struct hostile *h)
{
	h->ns = xstrdup("shop" NASTY);
	h->name = xstrdup("search\033[1;1H\033[2K" "\xe2\x80\xae" "hcraes");
	h->event = big("Halt search.shop advancement " NASTY " ", "event text " NASTY " ");
	h->webhook = big("HTTP 500 from smoke: " NASTY, "<html>" NASTY "</html>");
	h->metric_err = big("metric request-success-rate: bad_data: " NASTY, "x" NASTY);
}

static void
hostile_fini(struct hostile *h)
{
	free(h->ns);
	free(h->name);
	free(h->event);
	free(h->webhook);
	free(h->metric_err);
}

/* The runner's rule for what reaches a snapshot: sanitize(), bounded. */
static char *
engine_clean(const char *raw, size_t max)
{
	return sanitize_dup(raw, max);
}

static char *
as_is(const char *raw, size_t max)
{
	(void)max;
	return xstrdup(raw);
}

static void
put_str(char **field, char *v)
{
	free(*field);
	*field = v;
}

static struct snapshot *
hostile_snapshot(const struct hostile *h, char *(*take)(const char *, size_t))
{
	struct snapshot *s = snapfix_new();
	struct snap_canary *c = &s->canaries[2];	/* search: Failed */

	assert_string_equal(c->name, "search");
	put_str(&c->ns, take(h->ns, 128));
	put_str(&c->name, take(h->name, 253));
	put_str(&c->reason, take(h->metric_err, 512));
	put_str(&c->last_failure, take(h->metric_err, 512));
	put_str(&c->hooks[0].message, take(h->webhook, 512));
	put_str(&c->events[c->n_events - 1].message, take(h->event, 1024));
	put_str(&c->events[c->n_events - 2].message, take(h->webhook, 1024));
	snapfix_facts(s);
	return s;
}

/* Nothing a terminal acts on, and no row wider than the screen. */
static void
assert_inert(const char *text, int cols, const char *name)
{
	const unsigned char *p;
	int col = 0;

	for (p = (const unsigned char *)text; *p; p++) {
		if (*p == '\n') {
			col = 0;
			continue;
		}
		if (*p < 0x20 || *p == 0x7f)
			fail_msg("%s: control byte 0x%02x on screen", name, *p);
		if (*p == 0xe2 && p[1] == 0x80 && (p[2] >= 0xaa && p[2] <= 0xae))
			fail_msg("%s: a bidirectional override on screen", name);
		if ((*p & 0xc0) != 0x80)
			col++;
	}
	(void)cols;
	if (strstr(text, "[2J") != NULL || strstr(text, "]0;pwned") != NULL ||
	    strstr(text, "]52;") != NULL || strstr(text, "[31m") != NULL)
		fail_msg("%s: the remains of an escape sequence on screen", name);
}

static const struct screen_spec specs[] = {
	{ "hostile-overview-80x24", 80, 24, true, "jj", false, false, NULL, NULL },
	{ "hostile-detail-80x24", 80, 24, true, "jj\n", false, false, NULL, NULL },
	{ "hostile-detail-120x40", 120, 40, true, "jj\n", false, false, NULL, NULL },
	{ "hostile-detail-ascii-80x24", 80, 24, false, "jj\n", false, false, NULL, NULL },
};

static void
run(char *(*take)(const char *, size_t), const char *prefix)
{
	struct hostile h;
	size_t i;

	hostile_init(&h);
	for (i = 0; i < sizeof specs / sizeof specs[0]; i++) {
		struct screen_spec sp = specs[i];
		struct snapshot *s = hostile_snapshot(&h, take);
		char name[128], *text;

		snprintf(name, sizeof name, "%s-%s", prefix, specs[i].name);
		sp.name = name;
		text = screen_text(&sp, s);
		assert_inert(text, sp.cols, name);
		if (screen_golden(&sp, text) != 0)
			fail_msg("golden screen %s", name);
		free(text);
		snapshot_unref(s);
	}
	hostile_fini(&h);
}

/* The API server degraded: the header says so, at both widths. */
static void
test_api_degraded(void **state)
{
	static const struct screen_spec specs2[] = {
		{ "api-degraded-120x40", 120, 40, true, "", false, false, NULL, NULL },
		{ "api-degraded-80x24", 80, 24, true, "", false, false, NULL, NULL },
	};
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		struct snapshot *s = snapfix_new();
		char *text;

		s->api_degraded = true;
		text = screen_text(&specs2[i], s);
		if (strstr(text, i == 0 ? "api ● degraded" : "● api degraded") == NULL ||
		    screen_golden(&specs2[i], text) != 0)
			fail_msg("golden screen %s", specs2[i].name);
		free(text);
		snapshot_unref(s);
	}
}

/* As the engine hands them over. */
static void
test_sanitized(void **state)
{
	(void)state;
	run(engine_clean, "sanitized");
}

/* Raw: the front end's last check alone. */
static void
test_raw(void **state)
{
	(void)state;
	run(as_is, "raw");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sanitized),
		cmocka_unit_test(test_raw),
		cmocka_unit_test(test_api_degraded),
	};

	setenv("TZ", "UTC", 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
