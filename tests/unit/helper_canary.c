/*
 * helper_canary.c — the engine tests' canary fixture (see helper_canary.h).
 */
#include "tests/unit/helper_canary.h"

#include <string.h>

#include "util/xalloc.h"

struct canary_cfg *
fixture_canary(const char *name, size_t n_metrics)
{
	struct canary_cfg *c = xcalloc(1, sizeof *c);

	c->ns = xstrdup("shop");
	c->name = xstrdup(name);
	c->target = xstrdup(name);
	c->target_kind = xstrdup("Deployment");
	c->provider = xstrdup("linkerd");
	c->strategy = STRATEGY_CANARY;
	c->interval_s = 30;
	c->threshold = 5;
	c->max_weight = 50;
	c->step_weight = 10;
	c->progress_deadline_s = 600;
	c->nodata = NODATA_HOLD;
	c->metrics = xcalloc(2, sizeof *c->metrics);
	for (c->n_metrics = 0; c->n_metrics < n_metrics && c->n_metrics < 2; c->n_metrics++) {
		struct metric_cfg *m = &c->metrics[c->n_metrics];

		if (c->n_metrics == 0) {
			m->name = xstrdup("request-success-rate");
			m->kind = METRIC_SUCCESS_RATE;
			m->has_min = true;
			m->min = 99;
		} else {
			m->name = xstrdup("request-duration");
			m->kind = METRIC_DURATION;
			m->has_max = true;
			m->max = 500;
		}
	}
	return c;
}

struct hook_cfg *
fixture_add_hook(struct canary_cfg *c, const char *name, enum hook_type t)
{
	struct hook_cfg *h;

	c->hooks = xreallocarray(c->hooks, c->n_hooks + 1, sizeof *c->hooks);
	h = &c->hooks[c->n_hooks++];
	memset(h, 0, sizeof *h);
	h->name = xstrdup(name);
	h->url = xstrdup("http://127.0.0.1:9/");
	h->type = t;
	return h;
}
