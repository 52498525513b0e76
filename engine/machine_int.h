/*
 * machine_int.h — what the files of the state machine share (machine.c and
 * machine_*.c); not for other modules: use machine.h.
 *
 * The files, each calling only those below it (make lint checks that no
 * file calls back up):
 *
 *   machine_command.c   manual commands: the command table, the facts
 *   machine_tick.c      the tick, in Flagger's order
 *   machine_strategy.c  advancing: the strategy table (canary, blue/green,
 *                       A/B) and the promotion gate
 *   machine_analysis.c  the analysis: webhooks, then metrics
 *   machine_trans.c     transitions: roll back, start a run, promote, ...
 *   machine_out.c       the tick's context and what it writes
 *   machine.c           weights, strategy, routes and status, outside a tick
 *
 * Pure: no clock, no I/O, no shared state (the time and the randomness
 * come in struct tick_in).  Any thread, one tick at a time per output.
 */
#ifndef PERCH_ENGINE_MACHINE_INT_H
#define PERCH_ENGINE_MACHINE_INT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/machine.h"

/* A tick (or a command) under way: its input, its output, and the names
 * its events use, formatted once. */
struct tk {
	const struct tick_in *in;
	struct tick_out *o;
	const struct canary_cfg *c;
	const struct obs *ob;
	struct canary_status *st;
	int64_t now;
	unsigned confirm;
	char nn[160];		/* <name>.<ns> */
	char tn[160];		/* <target>.<ns> */
};

/* A revision for people (util/fmt.h fmt_revision): its image when this
 * tick read it or the status names it ("cart:v2"), else its id, short.
 * out must hold FMT_MAX + 96 bytes. */
#define REV_LABEL_MAX 128

/* ---- machine.c */
bool mk_kubernetes_provider(const struct canary_cfg *c);
bool mk_at_first_step_of(const struct canary_cfg *c, const struct canary_status *st);

/* ---- machine_out.c: the tick's context and what it writes */
void mk_init(struct tk *k, const struct tick_in *in, struct tick_out *o);
const char *mk_nn(struct tk *k);
const char *mk_tn(struct tk *k);
void mk_add_event(struct tk *k, enum severity sev, const char *reason, const char *actor,
    const char *fmt, va_list ap);
const char *mk_rev_label(const struct tk *k, const char *id, char *out);
void mk_ev(struct tk *k, enum severity sev, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));
void mk_alert(struct tk *k, enum alert_severity sev, bool metadata, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));
void mk_set_reason(struct tk *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void mk_act(struct tk *k, enum action_kind kind, enum phase hook_phase);
void mk_act_routes(struct tk *k, int primary, int canary, bool mirrored);
void mk_set_phase(struct tk *k, enum phase p);
void mk_copy_id(char *dst, size_t dstsz, const char *src);
bool mk_ask(struct tk *k, enum need n);
bool mk_have(const struct tk *k, enum need n);
bool mk_has_hooks(const struct canary_cfg *c, enum hook_type t);
bool mk_need_hooks(struct tk *k, enum hook_type t);
int mk_failed_hook(const struct tk *k, enum hook_type t);
void mk_passed_hooks(struct tk *k, enum hook_type t, const char *what);
const char *mk_hook_msg(const struct tk *k, int i);

/* ---- machine_trans.c: transitions */
void mk_clear_run(struct canary_status *st);
void mk_rollback(struct tk *k, const char *why);
void mk_failed_promotion(struct tk *k, const char *msg);
void mk_new_run_marks(struct canary_status *st);
void mk_start_run(struct tk *k, const char *rev);
void mk_promote_now(struct tk *k);
bool mk_fail_check(struct tk *k, const char *why);
void mk_not_ready_words(const struct canary_cfg *c, bool primary,
    const struct readiness *r, char *out, size_t outsz);
bool mk_not_ready(struct tk *k, bool primary, const struct readiness *r);

/* ---- machine_analysis.c: the analysis of a step */
bool mk_analyse(struct tk *k);
bool mk_first_step(struct tk *k);

/* ---- machine_strategy.c: advancing, one strategy per row */

/* A strategy (reference §2.7): how a passed step advances, and when the
 * promotion comes next.  A new strategy is a row of the table in
 * machine_strategy.c (and a value of STRATEGY_LIST). */
struct mk_strategy {
	const char *name;
	/* A step passed (or a manual step, `manual`: no gate asked): the next
	 * weight or iteration, or the promotion gate and the promotion.
	 * Returns true (the tick ends). */
	bool (*advance)(struct tk *k, bool manual);
	/* Whether the next step of a progressing canary is its promotion. */
	bool (*promotion_next)(const struct canary_cfg *c, const struct canary_status *st);
	/* The answer to a manual step that did not promote. */
	void (*step_words)(const struct tk *k, char *out, size_t outsz);
};

/* The strategy in effect for c (machine_strategy: the kubernetes provider
 * forces blue/green). */
const struct mk_strategy *mk_strategy_of(const struct canary_cfg *c);
/* The kubernetes provider's warnings, then the strategy's advance. */
bool mk_advance(struct tk *k, bool manual);

#endif
