/*
 * cmd_run.c — `perch run`: controls real canaries on a Kubernetes cluster.
 *
 * Wiring: Canary specs from -f files (or the canaries.flagger.app objects of
 * the namespace, with its MetricTemplates) go through the spec loader and
 * app/canary_load into canary_cfgs; the kubeconfig (k8s/kubeconfig) gives a
 * REST client; the engine runner gets the k8s cluster_ops, Prometheus
 * metrics_ops, HTTP webhook_ops, HTTP alert_ops (the AlertProviders of
 * the canaries' analysis.alerts: app/alert_providers), a real clock and a
 * store: the state
 * directory with --state-dir, else ConfigMaps and Leases on the cluster.
 * Headless runs print JSON lines and end when every canary is done; the TUI
 * runs until the user quits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/alert_providers.h"
#include "app/canary_load.h"
#include "app/cli.h"
#include "app/clock.h"
#include "app/headless.h"
#include "app/metric_creds.h"
#include "app/spec_json.h"
#include "app/store_dir.h"
#include "app/store_k8s.h"
#include "engine/runner.h"
#include "engine/snapshot.h"
#include "k8s/cluster.h"
#include "k8s/kubeconfig.h"
#include "k8s/rest.h"
#include "metrics/notify.h"
#include "metrics/prom.h"
#include "metrics/webhook.h"
#include "spec/diag.h"
#include "spec/spec.h"
#include "tui/tui.h"
#include "util/buf.h"
#include "util/sanitize.h"
#include "util/status.h"
#include "util/xalloc.h"

struct run_opts {
	const char **files;
	int n_files;
	const char *kubeconfig, *context, *ns, *prometheus, *state_dir, *theme;
	unsigned confirm;
	bool headless;
};

struct run {
	struct run_opts o;
	struct k8s_config *kc;
	struct k8s_client *client;
	struct k8s_cluster *cluster;
	struct prom *prom;
	struct webhook_client *hooks;
	struct notifier *notify;
	struct perch_clock *clock;
	struct store_dir *sdir;
	struct store_k8s *sk8s;
	struct spec_set *set;
	struct canary_cfg **cfgs;
	size_t n_cfgs;
};

static int
parse_confirm(const char *s, unsigned *out)
{
	char *copy = xstrdup(s), *tok, *save = NULL;
	int rc = EXIT_OK;

	*out = 0;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (strcmp(tok, "rollout") == 0)
			*out |= CONFIRM_ROLLOUT;
		else if (strcmp(tok, "promotion") == 0)
			*out |= CONFIRM_PROMOTION;
		else
			rc = cli_usage_error("run", "--confirm: unknown gate '%s' (rollout, promotion)", tok);
	}
	free(copy);
	return rc;
}

/* EXIT_OK, -1 for --help, or a usage error. */
static int
parse_args(int argc, char **argv, struct run_opts *o)
{
	static const struct option longopts[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "kubeconfig", required_argument, NULL, 0x200 },
		{ "context", required_argument, NULL, 0x201 },
		{ "namespace", required_argument, NULL, 'n' },
		{ "prometheus", required_argument, NULL, 0x202 },
		{ "confirm", required_argument, NULL, 0x203 },
		{ "headless", no_argument, NULL, 0x204 },
		{ "state-dir", required_argument, NULL, 0x205 },
		{ "theme", required_argument, NULL, 0x206 },
		CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	int c, r;

	optind = 1;
	o->files = xcalloc((size_t)argc + 1, sizeof *o->files);
	while ((c = getopt_long(argc, argv, "f:n:" CLI_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		switch (c) {
		case 'f': o->files[o->n_files++] = optarg; break;
		case 'n': o->ns = optarg; break;
		case 0x200: o->kubeconfig = optarg; break;
		case 0x201: o->context = optarg; break;
		case 0x202: o->prometheus = optarg; break;
		case 0x203:
			if ((r = parse_confirm(optarg, &o->confirm)) != EXIT_OK)
				return r;
			break;
		case 0x204: o->headless = true; break;
		case 0x205: o->state_dir = optarg; break;
		case 0x206: o->theme = optarg; break;
		default:
			r = cli_common_option("run", c, optarg);
			if (r == CLI_OPT_HELP)
				return -1;
			if (r != CLI_OPT_HANDLED)
				return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage_error("run", "unexpected argument '%s'", argv[optind]);
	return EXIT_OK;
}

/* ---- specs ------------------------------------------------------------- */

/* Loads canaries.flagger.app and metrictemplates.flagger.app of the namespace. */
static int
load_cluster_specs(struct run *rn, struct diag_list *dl)
{
	static const struct k8s_res templates = { "flagger.app", "v1beta1", "metrictemplates", true };
	const struct k8s_res *res[2] = { &templates, K8S_RES(CANARIES) };
	json_t *list, *item;
	struct k8s_err e;
	char name[300], *text;
	size_t i;
	int k, st;

	for (k = 0; k < 2; k++) {
		st = k8s_list(rn->client, res[k], rn->kc->ns, NULL, &list, &e);
		if (st == ST_NOTFOUND && k == 0)
			continue;
		if (st != ST_OK) {
			fprintf(stderr, "perch run: listing %s in %s: %s\n", res[k]->plural, rn->kc->ns,
			    e.msg);
			return EXIT_INFRA;
		}
		json_array_foreach(json_object_get(list, "items"), i, item) {
			json_object_del(item, "status");
			snprintf(name, sizeof name, "%s %s/%s", res[k]->plural, rn->kc->ns,
			    json_string_value(json_object_get(json_object_get(item, "metadata"), "name")));
			text = json_dumps(item, JSON_INDENT(1));
			if (text)
				spec_load_buffer(rn->set, name, text, strlen(text), dl);
			free(text);
		}
		json_decref(list);
	}
	return EXIT_OK;
}

static int
load_specs(struct run *rn)
{
	struct diag_list dl;
	int i, rc = EXIT_OK;
	size_t k;

	diag_list_init(&dl, false);
	for (i = 0; i < rn->o.n_files; i++)
		spec_load_file(rn->set, rn->o.files[i], &dl);
	if (rn->o.n_files == 0)
		rc = load_cluster_specs(rn, &dl);
	spec_validate(rn->set, &dl);
	diag_list_sort(&dl);
	for (k = 0; k < dl.n; k++)
		if (dl.items[k].severity == DIAG_ERROR)
			diag_print(stderr, &dl.items[k]);
	if (rc == EXIT_OK && dl.n_errors > 0) {
		fprintf(stderr, "perch run: %zu error%s in the canaries; see perch validate\n",
		    dl.n_errors, dl.n_errors == 1 ? "" : "s");
		rc = EXIT_FAILED;
	} else if (rc == EXIT_OK && spec_set_n_canaries(rn->set) == 0) {
		fprintf(stderr, "perch run: no Canary %s\n", rn->o.n_files ? "in the files given" :
		    "in the namespace");
		rc = EXIT_FAILED;
	}
	diag_list_fini(&dl);
	return rc;
}

/* Hands the routers what canary_cfg does not carry (k8s/cluster.h). */
static void
set_routing(struct run *rn, const struct spec_canary *sc, const struct canary_cfg *cfg)
{
	const struct spec_service *sv = &sc->service;
	struct k8s_routing r = {
		.hosts = (const char *const *)sv->hosts, .n_hosts = sv->n_hosts,
		.gateways = (const char *const *)sv->gateways, .n_gateways = sv->n_gateways,
		.ingress = sc->ingress_ref.set ? sc->ingress_ref.name : NULL,
		.target_port = sv->target_port,
		.match = sc->analysis.match ? spec_node_json(sc->analysis.match) : NULL,
		.service_match = sv->match ? spec_node_json(sv->match) : NULL,
	};
	const struct spec_gateway_ref *g;
	json_t *ref;
	size_t i;

	if (sv->n_gateway_refs)
		r.parent_refs = json_array();
	for (i = 0; i < sv->n_gateway_refs; i++) {
		g = &sv->gateway_refs[i];
		ref = json_pack("{s:s}", "name", g->name ? g->name : "");
		if (g->group)
			json_object_set_new(ref, "group", json_string(g->group));
		if (g->kind)
			json_object_set_new(ref, "kind", json_string(g->kind));
		if (g->ns)
			json_object_set_new(ref, "namespace", json_string(g->ns));
		if (g->section_name)
			json_object_set_new(ref, "sectionName", json_string(g->section_name));
		if (g->port > 0)
			json_object_set_new(ref, "port", json_integer(g->port));
		json_array_append_new(r.parent_refs, ref);
	}
	k8s_cluster_set_routing(rn->cluster, cfg->ns, cfg->name, &r);
	json_decref(r.parent_refs);
	json_decref(r.match);
	json_decref(r.service_match);
}

static int
build_cfgs(struct run *rn)
{
	const struct spec_canary *sc;
	struct canary_cfg *cfg;
	char err[512];
	size_t i;
	int st;

	rn->cfgs = xcalloc(spec_set_n_canaries(rn->set) + 1, sizeof *rn->cfgs);
	for (i = 0; i < spec_set_n_canaries(rn->set); i++) {
		sc = spec_set_canary(rn->set, i);
		if (canary_load(rn->set, sc, AIM_CANARY, &cfg, err, sizeof err) != ST_OK) {
			fprintf(stderr, "perch run: %s\n", err);
			return EXIT_FAILED;
		}
		/* -n / the context's namespace for canaries that name none */
		if (!spec_node_path(sc->meta.root, "metadata.namespace")) {
			free(cfg->ns);
			cfg->ns = xstrdup(rn->kc->ns);
		}
		canary_register_servers(rn->set, sc, rn->prom);
		st = metric_creds_register(rn->client, rn->set, sc, rn->prom, err, sizeof err);
		if (st != ST_OK) {
			canary_cfg_free(cfg);
			fprintf(stderr, "perch run: %s\n", err);
			return st == ST_NETWORK || st == ST_TIMEOUT || st == ST_HTTP ? EXIT_INFRA :
			    EXIT_FAILED;
		}
		set_routing(rn, sc, cfg);
		alert_providers_register(rn->client, rn->set, cfg, rn->notify, stderr);
		rn->cfgs[rn->n_cfgs++] = cfg;
	}
	return EXIT_OK;
}

/* ---- the world ------------------------------------------------------------- */

static int
connect_cluster(struct run *rn)
{
	struct kubeconfig_opts ko = {
		.path = rn->o.kubeconfig, .env = getenv("KUBECONFIG"), .home = getenv("HOME"),
		.context = rn->o.context, .ns = rn->o.ns,
	};
	struct buf err;
	int st;

	buf_init(&err, 1024);
	st = k8s_config_load(&ko, &rn->kc, &err);
	if (st == ST_OK)
		st = k8s_client_new(rn->kc, NULL, &rn->client, &err);
	if (st != ST_OK) {
		fprintf(stderr, "perch run: %s\n", buf_str(&err));
		buf_fini(&err);
		return st == ST_PARSE || st == ST_INVALID ? EXIT_USAGE : EXIT_INFRA;
	}
	buf_fini(&err);
	rn->cluster = k8s_cluster_new(rn->client);
	return EXIT_OK;
}

static int
open_store(struct run *rn, const struct store_ops **ops, void **ctx)
{
	char err[ERRMSG_MAX];

	if (rn->o.state_dir) {
		rn->sdir = store_dir_open(rn->o.state_dir, false, err, sizeof err);
		if (!rn->sdir) {
			fprintf(stderr, "perch run: %s\n", err);
			return EXIT_INFRA;
		}
		*ops = &store_dir_ops;
		*ctx = rn->sdir;
	} else {
		rn->sk8s = store_k8s_open(rn->client, false, 0);
		*ops = &store_k8s_ops;
		*ctx = rn->sk8s;
	}
	return EXIT_OK;
}

/* Says who holds control when this process could only watch. */
static void
report_holder(struct runner *r)
{
	struct snapshot *snap = runner_snapshot(r);
	size_t i;

	for (i = 0; snap && i < snap->n_canaries; i++)
		if (!snap->canaries[i].can_control)
			fprintf(stderr, "perch run: %s/%s is controlled by %s; not changing it\n",
			    snap->canaries[i].ns ? snap->canaries[i].ns : "",
			    snap->canaries[i].name ? snap->canaries[i].name : "",
			    snap->holder && *snap->holder ? snap->holder : "another controller");
	snapshot_unref(snap);
}

/* The runner's seed for session affinity cookies: 8 bytes of
 * /dev/urandom, or (without it) the time and the process id. */
static uint64_t
random_seed(void)
{
	uint64_t seed = 0;
	FILE *f = fopen("/dev/urandom", "rb");

	if (f == NULL || fread(&seed, sizeof seed, 1, f) != 1)
		seed = (uint64_t)clock_realtime_ms() * 0x9E3779B97F4A7C15ULL ^ (uint64_t)getpid();
	if (f != NULL)
		fclose(f);
	return seed;
}

static int
execute(struct run *rn)
{
	struct runner_config rc = {
		.cluster = &k8s_cluster_ops, .cluster_ctx = rn->cluster,
		.metrics = &prom_metrics_ops, .metrics_ctx = rn->prom,
		.webhook = &http_webhook_ops, .webhook_ctx = rn->hooks,
		.alert = &http_alert_ops, .alert_ctx = rn->notify,
		.clock = &perch_clock_ops, .clock_ctx = rn->clock,
		.actor = cli_actor(), .context = rn->kc->context, .ns = rn->kc->ns,
		.confirm = rn->o.confirm, .stop_when_done = rn->o.headless,
		.seed = random_seed(),
	};
	struct tui_config tc = { .theme = rn->o.theme, .context = rn->kc->context };
	struct tui *t = NULL;
	struct runner *r;
	char err[512];
	int rc_exit;
	size_t i;

	if ((rc_exit = open_store(rn, &rc.store, &rc.store_ctx)) != EXIT_OK)
		return rc_exit;
	if (rn->o.headless) {
		rc.sink = headless_sink;
		rc.sink_arg = stdout;
	} else {
		t = tui_new(&tc);
		if (t == NULL) {
			fprintf(stderr, "perch run: cannot create the wake pipe\n");
			return EXIT_INFRA;
		}
		rc.notify = tui_notify;
		rc.notify_arg = t;
	}
	r = runner_new(&rc);
	for (i = 0; i < rn->n_cfgs; i++) {
		runner_add(r, rn->cfgs[i]);
		rn->cfgs[i] = NULL;	/* the runner owns it */
	}
	if (runner_start(r, err, sizeof err) != ST_OK) {
		fprintf(stderr, "perch run: %s\n", err);
		runner_free(r);
		tui_free(t);
		return EXIT_INFRA;
	}
	if (rn->o.headless) {
		runner_wait(r);
		runner_stop(r);
		rc_exit = runner_outcome(r);
		report_holder(r);
	} else {
		rc_exit = tui_run(t, r);
		runner_stop(r);
		if (rc_exit == EXIT_OK)
			rc_exit = runner_outcome(r);
	}
	runner_free(r);
	tui_free(t);
	return rc_exit;
}

static void
run_fini(struct run *rn)
{
	size_t i;

	for (i = 0; rn->cfgs && i < rn->n_cfgs; i++)
		canary_cfg_free(rn->cfgs[i]);
	free(rn->cfgs);
	store_k8s_close(rn->sk8s);
	store_dir_close(rn->sdir);
	if (rn->clock)
		clock_free(rn->clock);
	if (rn->hooks)
		webhook_client_free(rn->hooks);
	notifier_free(rn->notify);
	if (rn->prom)
		prom_free(rn->prom);
	k8s_cluster_free(rn->cluster);
	k8s_client_free(rn->client);
	k8s_config_free(rn->kc);
	if (rn->set)
		spec_set_free(rn->set);
	free(rn->o.files);
}

/* Real time; $PERCH_TIME_SCALE=N (tests, demos) runs the engine's clock N
 * times faster, starting now. */
static struct perch_clock *
make_clock(void)
{
	const char *s = getenv("PERCH_TIME_SCALE");
	double speed = s ? strtod(s, NULL) : 0;

	if (speed > 0 && speed != 1)
		return clock_new(CLOCK_KIND_SCALED, clock_realtime_ms(), speed);
	return clock_new(CLOCK_KIND_REAL, 0, 1);
}

int
cmd_run(int argc, char **argv)
{
	struct run rn;
	struct prom_opts po = { 0 };
	struct prom_server_cfg ps = { 0 };
	int rc;

	memset(&rn, 0, sizeof rn);
	rc = parse_args(argc, argv, &rn.o);
	if (rc == -1) {
		free(rn.o.files);
		return cli_command_help("run");
	}
	if (rc == EXIT_OK)
		rc = cli_apply_logging("run");
	if (rc == EXIT_OK)
		rc = connect_cluster(&rn);
	if (rc == EXIT_OK) {
		rn.set = spec_set_new();
		rn.prom = prom_new(&po);
		rn.notify = notifier_new();
		if (rn.o.prometheus) {
			ps.url = rn.o.prometheus;
			prom_set_server(rn.prom, &ps);
		}
		rc = load_specs(&rn);
	}
	if (rc == EXIT_OK)
		rc = build_cfgs(&rn);
	if (rc == EXIT_OK) {
		rn.hooks = webhook_client_new(NULL);
		rn.clock = make_clock();
		rc = execute(&rn);
	}
	run_fini(&rn);
	return rc;
}
