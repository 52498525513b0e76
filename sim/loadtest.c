/*
 * loadtest.c — the simulated load tester (world.h, sim_webhook_ops).
 *
 * Flagger's blue/green needs one: its canary gets no share of the routes
 * during the analysis, so the requests the metrics judge come from a
 * rollout webhook that asks flagger-loadtester to run `hey` against the
 * canary's Service.  This load tester understands that command and records
 * the load it would send; traffic.c adds it to the canary's buckets.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/world_impl.h"
#include "util/status.h"

#define HEY_ARGS_MAX 32

/* "1m", "30s", "1m30s", "2h" (hey's -z, a Go duration in whole units). */
static int64_t
hey_duration_ms(const char *s)
{
	int64_t total = 0;
	char *end;
	long v;

	if (s == NULL || *s == '\0')
		return -1;
	while (*s != '\0') {
		if (*s < '0' || *s > '9')
			return -1;
		v = strtol(s, &end, 10);
		if (v > 86400)
			return -1;
		switch (*end) {
		case 'h': total += (int64_t)v * 3600000; break;
		case 'm': total += (int64_t)v * 60000; break;
		case 's': total += (int64_t)v * 1000; break;
		default: return -1;
		}
		s = end + 1;
	}
	return total > 0 && total <= INT64_C(86400000) ? total : -1;
}

struct hey {
	int64_t duration_ms;	/* -z */
	double rate;		/* -q, per worker */
	int workers;		/* -c, hey's default 50 */
	const char *url;	/* the last argument */
};

/* Splits cmd (modified) into a `hey` command's flags; 0, or -1 with why. */
static int
hey_parse(char *cmd, struct hey *h, const char **why)
{
	char *argv[HEY_ARGS_MAX], *save = NULL, *t;
	int argc = 0, i;

	for (t = strtok_r(cmd, " \t", &save); t != NULL && argc < HEY_ARGS_MAX;
	    t = strtok_r(NULL, " \t", &save))
		argv[argc++] = t;
	*h = (struct hey){ .duration_ms = -1, .workers = 50 };
	if (argc < 2 || strcmp(argv[0], "hey") != 0)
		return *why = "only hey commands are simulated", -1;
	for (i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "-z") == 0)
			h->duration_ms = hey_duration_ms(argv[i + 1]);
		else if (strcmp(argv[i], "-q") == 0)
			h->rate = strtod(argv[i + 1], NULL);
		else if (strcmp(argv[i], "-c") == 0)
			h->workers = atoi(argv[i + 1]);
		else
			return *why = "unknown hey flag", -1;
	}
	h->url = argv[argc - 1];
	if (i != argc - 1 || h->duration_ms <= 0)
		return *why = "hey needs -z DURATION and a URL", -1;
	if (h->rate <= 0 || h->rate > 10000 || h->workers <= 0 || h->workers > 1000)
		return *why = "the simulation needs -q RATE (and -c WORKERS) within reason", -1;
	return 0;
}

/* Whether url names the canary's Service: http://SERVICE-canary[.NS...][:PORT]/... */
static bool
targets_canary(const struct canary_cfg *c, const char *url)
{
	size_t n = strlen(c->service);
	const char *host = strstr(url, "://");

	host = host != NULL ? host + 3 : url;
	return strncmp(host, c->service, n) == 0 && strncmp(host + n, "-canary", 7) == 0 &&
	    strchr(".:/", host[n + 7]) != NULL;
}

static void
record_load(struct sim_app *a, int64_t now, const struct hey *h)
{
	a->load[a->n_load % SIM_HISTORY] = (struct load_run){ now, now + h->duration_ms,
	    h->rate * h->workers };
	a->n_load++;
	a->hist_gen++;
}

double
sim_load_rps_at(const struct sim_app *a, int64_t t_ms)
{
	unsigned kept = a->n_load < SIM_HISTORY ? a->n_load : SIM_HISTORY;
	double rps = 0;
	unsigned i;

	for (i = 0; i < kept; i++) {
		const struct load_run *r = &a->load[i];

		if (r->from_ms <= t_ms && t_ms < r->to_ms)
			rps += r->rps;
	}
	return rps;
}

static const char *
hook_cmd(const struct hook_cfg *k)
{
	size_t i;

	for (i = 0; i < k->n_metadata; i++)
		if (strcmp(k->metadata[i].key, "cmd") == 0)
			return k->metadata[i].value;
	return NULL;
}

static void
call_one(struct sim_world *w, const struct hook_call *call, struct hook_result *r)
{
	const char *cmd = hook_cmd(call->hook), *why = NULL;
	struct sim_app *a;
	char buf[512];
	struct hey h;

	*r = (struct hook_result){ .ok = false, .http_status = 400 };
	if (call->hook->type != HOOK_ROLLOUT && call->hook->type != HOOK_PRE_ROLLOUT) {
		snprintf(r->msg, sizeof r->msg, "the simulated load tester runs commands only");
		return;
	}
	if ((a = sim_app_of(w, call->canary)) == NULL) {
		snprintf(r->msg, sizeof r->msg, "canary %s/%s is not in the simulated world",
		    call->canary->ns, call->canary->name);
		return;
	}
	if (cmd == NULL || strlen(cmd) >= sizeof buf) {
		snprintf(r->msg, sizeof r->msg, "metadata cmd not found");
		return;
	}
	memcpy(buf, cmd, strlen(cmd) + 1);
	if (hey_parse(buf, &h, &why) != 0) {
		snprintf(r->msg, sizeof r->msg, "%s", why);
		return;
	}
	if (targets_canary(call->canary, h.url))
		record_load(a, world_now(w), &h);
	r->ok = true;
	r->http_status = 202;
	snprintf(r->msg, sizeof r->msg, "command %s accepted", cmd);
}

static size_t
op_call(void *ctx, const struct hook_call *calls, size_t n, struct hook_result *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		call_one(ctx, &calls[i], &out[i]);
		if (!out[i].ok)
			return i + 1;
	}
	return n;
}

const struct webhook_ops sim_webhook_ops = {
	.name = "sim-loadtester",
	.call = op_call,
};
