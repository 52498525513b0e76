/*
 * app/cmd/run.c — `perch run`: controls real canaries on a Kubernetes cluster.
 *
 * Wiring: Canary specs from -f files (or the canaries.flagger.app objects of
 * the namespace, with its MetricTemplates) go through the spec loader and
 * app/canary_load into canary_cfgs; the kubeconfig (k8s/kubeconfig) gives a
 * REST client; the engine runner gets the k8s cluster_ops, the metrics_ops
 * of the metric backends (metrics/backend.h: Prometheus, --prometheus the
 * default server), HTTP webhook_ops, HTTP alert_ops (the AlertProviders of
 * the canaries' analysis.alerts: app/alert_providers), a real clock and a
 * store: the state
 * directory with --state-dir, else ConfigMaps and Leases on the cluster.
 * Headless runs print JSON lines and end when every canary is done; the TUI
 * runs until the user quits.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app/alert_providers.h"
#include "app/canary_load.h"
#include "app/cli.h"
#include "app/cli_value.h"
#include "app/cluster_specs.h"
#include "app/cmd/cmd.h"
#include "app/cmd/run.h"
#include "app/clock.h"
#include "app/clock_file.h"
#include "app/heartbeat.h"
#include "app/headless.h"
#include "app/interrupt.h"
#include "app/later.h"
#include "app/metric_creds.h"
#include "app/metric_kube.h"
#include "app/metrics_http.h"
#include "app/prom_expo.h"
#include "app/prom_service.h"
#include "app/spec_json.h"
#include "app/startup.h"
#include "store/dir.h"
#include "store/k8s.h"
#include "store/k8s_replicas.h"
#include "engine/runner.h"
#include "engine/snapshot.h"
#include "k8s/cluster.h"
#include "k8s/finalize.h"
#include "k8s/kubeconfig.h"
#include "k8s/rest.h"
#include "metrics/backend.h"
#include "metrics/notify.h"
#include "metrics/webhook.h"
#include "spec/diag.h"
#include "spec/spec.h"
#include "tui/tui.h"
#include "util/buf.h"
#include "util/identity.h"
#include "util/log.h"
#include "util/sanitize.h"
#include "util/status.h"
#include "util/xalloc.h"

/* Which canary a watched Deployment or DaemonSet wakes
 * (k8s_cluster_watch_target callbacks). */
struct waker {
	pthread_mutex_t mu;
	struct runner *r;		/* NULL before the start and after the stop */
	struct wake_target {
		char ns[64], target[254], key[200];
		bool deleted;		/* its Canary object was deleted */
	} *t;
	size_t n, cap;			/* t grows as Canaries are adopted (mu) */
};

struct run {
	struct run_opts o;
	struct waker wk;
	struct k8s_informer **canaries;	/* without -f: the Canary objects, one per namespace */
	size_t n_canaries;
	struct replicas *replicas;	/* perch controller: the live replicas */
	struct later *later;		/* new Canaries tried again (adopt) */
	struct metrics_http *mh;	/* --metrics-addr: the /metrics server */
	struct prom_expo *expo;		/* what it answers */
	atomic_bool ready;		/* the engine runs and the Canaries are watched */
	json_t *loaded;			/* "ns/name" -> its spec_part at the start */
	json_t *doomed;			/* "ns/name" -> a Canary marked for deletion then */
	struct k8s_config *kc;
	struct k8s_client *client;
	struct k8s_client *ev_client;	/* events, from the notifier thread */
	struct metric_kube kube;	/* client, for the metric backends that read the cluster */
	struct k8s_cluster *cluster;
	struct metric_backends *metrics;
	struct webhook_client *hooks;
	struct notifier *notify;
	struct perch_clock *clock;
	double speed;			/* of the clock: 1 real time, N under PERCH_TIME_SCALE */
	struct store_dir *sdir;
	struct store_k8s *sk8s;
	struct beat_dir beat_dir;	/* the heartbeat's target with --state-dir */
	struct beat_writer *beat;
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
	if (strspn(s, ",") == strlen(s)) {
		free(copy);
		return cli_usage_error("run", "--confirm wants rollout, promotion or both, not '%s'", s);
	}
	for (tok = strtok_r(copy, ",", &save); tok && rc == EXIT_OK; tok = strtok_r(NULL, ",", &save)) {
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
		{ "all-namespaces", no_argument, NULL, 'A' },
		{ "prometheus", required_argument, NULL, 0x202 },
		{ "confirm", required_argument, NULL, 0x203 },
		{ "headless", no_argument, NULL, 0x204 },
		{ "state-dir", required_argument, NULL, 0x205 },
		{ "theme", required_argument, NULL, 0x206 },
		{ "metrics-addr", required_argument, NULL, 0x207 },
		{ "prometheus-service", required_argument, NULL, 0x2a0 },
		CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	int c, r;

	optind = 1;
	o->files = xcalloc((size_t)argc + 1, sizeof *o->files);
	while ((c = getopt_long(argc, argv, ":f:n:A" CLI_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			r = cli_take_value("run", "-f", CLI_VAL_FILE, optarg, &o->files[o->n_files++]);
			break;
		case 'n': r = cli_take_value("run", "-n", CLI_VAL_NAMESPACE, optarg, &o->ns); break;
		case 'A': o->all_ns = true; continue;
		case 0x200: r = cli_take_value("run", "--kubeconfig", CLI_VAL_FILE, optarg, &o->kubeconfig); break;
		case 0x201: r = cli_take_value("run", "--context", CLI_VAL_NAME, optarg, &o->context); break;
		case 0x202: r = cli_take_value("run", "--prometheus", CLI_VAL_URL, optarg, &o->prometheus); break;
		case 0x203: r = parse_confirm(optarg, &o->confirm); break;
		case 0x204: o->headless = true; continue;
		case 0x205: r = cli_take_value("run", "--state-dir", CLI_VAL_DIR, optarg, &o->state_dir); break;
		case 0x206: r = cli_take_value("run", "--theme", CLI_VAL_NAME, optarg, &o->theme); break;
		case 0x207: r = cli_take_value("run", "--metrics-addr", CLI_VAL_NAME, optarg, &o->metrics_addr); break;
		case 0x2a0: r = prom_service_opt("run", optarg, &o->prometheus_service); break;
		default:
			switch (cli_common_option("run", c, optarg)) {
			case CLI_OPT_HANDLED: continue;
			case CLI_OPT_HELP: return -1;
			default: return cli_bad_option("run", c, argv);
			}
		}
		if (r != EXIT_OK)
			return r;
	}
	if (optind < argc)
		return cli_usage_error("run", "unexpected argument '%s'", argv[optind]);
	if (o->all_ns && (o->ns != NULL || o->n_files > 0))
		return cli_usage_error("run", "-A reads the Canaries of every namespace: not with %s",
		    o->ns != NULL ? "-n" : "-f");
	return EXIT_OK;
}

/* ---- specs ------------------------------------------------------------- */

/* What of a Canary object perch runs from: its spec, labels and
 * annotations (not its status, which Flagger or perch rewrite all the
 * time).  A new object. */
static json_t *
spec_part(json_t *obj)
{
	json_t *md = json_object_get(obj, "metadata");

	return json_pack("{s:O*, s:O*, s:O*}", "spec", json_object_get(obj, "spec"),
	    "labels", json_object_get(md, "labels"), "annotations",
	    json_object_get(md, "annotations"));
}

/* A Canary as loaded at the start, so that the watch's first list tells a
 * Canary changed since from the same one. */
static void
remember_version(struct run *rn, json_t *item)
{
	json_t *md = json_object_get(item, "metadata");
	const char *ns = json_string_value(json_object_get(md, "namespace"));
	const char *name = json_string_value(json_object_get(md, "name"));
	char key[200];

	if (rn->loaded == NULL)
		rn->loaded = json_object();
	snprintf(key, sizeof key, "%s/%s", ns ? ns : rn->kc->ns, name ? name : "");
	json_object_set_new(rn->loaded, key, spec_part(item));
	if (k8s_canary_deleting(item)) {
		if (rn->doomed == NULL)
			rn->doomed = json_object();
		json_object_set_new(rn->doomed, key, json_deep_copy(item));
	}
}

/* Each Canary loaded at the start (cluster_specs_load). */
static void
loaded_canary(void *arg, json_t *item)
{
	remember_version(arg, item);
}

/* The MetricTemplates of ns and, unless only_templates, its Canaries into
 * set (cluster_specs_load). */
static int
load_cluster_objects(struct run *rn, const char *ns, struct spec_set *set, bool only_templates,
    struct diag_list *dl, char *err, size_t errsz)
{
	return cluster_specs_load(rn->client, ns, set, only_templates, dl,
	    &(struct cluster_specs_each){ loaded_canary, rn }, err, errsz);
}

/* The namespace whose Canaries are run: NULL with -A (every one). */
static const char *
run_ns(const struct run *rn)
{
	return rn->o.all_ns ? NULL : rn->kc->ns;
}

/* Loads canaries.flagger.app and metrictemplates.flagger.app of the
 * namespace (of every namespace with -A). */
static int
load_cluster_specs(struct run *rn, struct diag_list *dl)
{
	char err[ERRMSG_MAX + 200];

	if (load_cluster_objects(rn, run_ns(rn), rn->set, false, dl, err, sizeof err) != ST_OK) {
		cli_error(rn->o.cmd, "%s", err);
		return EXIT_INFRA;
	}
	return EXIT_OK;
}

static int
load_specs(struct run *rn)
{
	struct diag_list dl;
	int i, rc = EXIT_OK;
	size_t k;

	if (rn->o.controller)
		return EXIT_OK;	/* each Canary is adopted as its watch lists it */
	diag_list_init(&dl, false);
	for (i = 0; i < rn->o.n_files; i++)
		spec_load_file(rn->set, rn->o.files[i], &dl);
	if (rn->o.n_files == 0)
		rc = load_cluster_specs(rn, &dl);
	spec_validate(rn->set, &dl);
	spec_check_drivable(rn->set, &dl);
	diag_list_sort(&dl);
	for (k = 0; k < dl.n; k++)
		if (dl.items[k].severity == DIAG_ERROR)
			diag_print(stderr, &dl.items[k]);
	if (rc == EXIT_OK && dl.n_errors > 0) {
		cli_error(rn->o.cmd, "%zu error%s in the canaries; see perch validate",
		    dl.n_errors, dl.n_errors == 1 ? "" : "s");
		rc = EXIT_FAILED;
	} else if (rc == EXIT_OK && spec_set_n_canaries(rn->set) == 0) {
		cli_error(rn->o.cmd, "no Canary %s", rn->o.n_files ? "in the files given" :
		    rn->o.all_ns ? "in any namespace" : "in the namespace");
		rc = EXIT_FAILED;
	}
	diag_list_fini(&dl);
	return rc;
}

/* service.timeout and service.retries, for the routers that write them
 * (Contour, App Mesh), with their durations in milliseconds (0 when one
 * does not parse: Flagger then leaves it out, or takes its default). */
static void
route_policies(const struct spec_service *sv, struct k8s_routing *r)
{
	long long ms;
	const char *per_try;

	r->timeout = sv->timeout;
	if (sv->timeout != NULL && spec_parse_duration_ms(sv->timeout, &ms) == ST_OK)
		r->timeout_ms = ms;
	r->retries = sv->retries ? spec_node_json(sv->retries) : NULL;
	per_try = json_string_value(json_object_get(r->retries, "perTryTimeout"));
	if (per_try != NULL && spec_parse_duration_ms(per_try, &ms) == ST_OK)
		r->per_try_ms = ms;
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
		.route = sc->route_ref.set ? sc->route_ref.name : NULL,
		.upstream = sc->upstream_ref.set ? sc->upstream_ref.name : NULL,
		.upstream_ns = sc->upstream_ref.set ? sc->upstream_ref.ns : NULL,
		.annotations = json_object(),
		.apex = sv->apex ? spec_node_json(sv->apex) : NULL,
		.port_name = sv->port_name, .mesh_name = sv->mesh_name,
		.backends = sv->backends ? spec_node_json(sv->backends) : NULL,
	};
	const struct spec_gateway_ref *g;
	json_t *ref;
	size_t i;

	for (i = 0; i < sc->meta.n_annotations; i++)
		json_object_set_new(r.annotations, sc->meta.annotations[i].key,
		    json_string(sc->meta.annotations[i].value ? sc->meta.annotations[i].value : ""));
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
	route_policies(sv, &r);
	k8s_cluster_set_routing(rn->cluster, cfg->ns, cfg->name, &r);
	json_decref(r.retries);
	json_decref(r.parent_refs);
	json_decref(r.match);
	json_decref(r.service_match);
	json_decref(r.annotations);
	json_decref(r.apex);
	json_decref(r.backends);
}

/* A Canary that a running Flagger reconciles is shown, never driven
 * (k8s/cluster.h): its status and Events are watched. */
static void
mark_driver(struct run *rn, struct canary_cfg *cfg)
{
	char who[240];

	if (!k8s_flagger_driver(rn->client, cfg, (long)time(NULL), who, sizeof who))
		return;
	cfg->driven_by = xstrdup(who);
	log_info("run: %s/%s is driven by %s; shown, not driven", cfg->ns, cfg->name, who);
	if (k8s_cluster_watch_flagger(rn->cluster, cfg->ns) != ST_OK)
		log_warn("run: cannot watch the Canaries and Events of %s; reading them from the "
		    "API server", cfg->ns);
}

/* spec.revertOnDeletion (k8s/finalize.h): a Canary object perch drives
 * holds the finalizer while it is true, so that its deletion waits for the
 * revert; turned off, the finalizer goes.  Canaries from -f files and
 * those another controller drives are left alone. */
static void
sync_finalizer(struct run *rn, const struct canary_cfg *cfg)
{
	char err[ERRMSG_MAX];

	if (rn->o.n_files > 0 || cfg->driven_by != NULL)
		return;
	if (k8s_canary_finalizer(rn->client, cfg->ns, cfg->name, cfg->revert_on_deletion, err) !=
	    ST_OK)
		log_warn("run: %s", err);
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
			cli_error(rn->o.cmd, "%s", err);
			return EXIT_FAILED;
		}
		/* -n / the context's namespace for canaries that name none */
		if (!spec_node_path(sc->meta.root, "metadata.namespace")) {
			free(cfg->ns);
			cfg->ns = xstrdup(rn->kc->ns);
		}
		canary_register_servers(rn->set, sc, rn->metrics);
		st = metric_creds_register(rn->client, rn->set, sc, rn->metrics, err, sizeof err);
		if (st != ST_OK) {
			canary_cfg_free(cfg);
			cli_error(rn->o.cmd, "%s", err);
			return st == ST_NETWORK || st == ST_TIMEOUT || st == ST_HTTP ? EXIT_INFRA :
			    EXIT_FAILED;
		}
		set_routing(rn, sc, cfg);
		mark_driver(rn, cfg);
		alert_providers_register(rn->client, rn->set, cfg, rn->notify, stderr);
		sync_finalizer(rn, cfg);
		rn->cfgs[rn->n_cfgs++] = cfg;
	}
	return EXIT_OK;
}

/* ---- watches ------------------------------------------------------------------ */

/* A target's pod template changed (kubectl set image, apply, ...): its
 * canary ticks now if it is idle, so the new revision is found within about
 * a second instead of at the next interval.  Status-only changes (rollout
 * progress) wake nothing: readiness is read at the ticks, from the cache. */
static void
on_deployment(void *arg, const char *type, json_t *old, json_t *obj)
{
	struct waker *wk = arg;
	json_t *md = json_object_get(obj, "metadata");
	const char *ns = json_string_value(json_object_get(md, "namespace"));
	const char *name = json_string_value(json_object_get(md, "name"));
	char h1[17] = "", h2[17] = "";
	size_t i;

	/* Only a changed template: not the watch's first list (its ADDED
	 * events), which would tick an idle canary for nothing, and end a
	 * headless run that has just initialized. */
	if (ns == NULL || name == NULL || old == NULL || strcmp(type, "MODIFIED") != 0)
		return;
	k8s_workload_template_hash(old, h1);
	k8s_workload_template_hash(obj, h2);
	if (strcmp(h1, h2) == 0)
		return;
	pthread_mutex_lock(&wk->mu);
	for (i = 0; wk->r != NULL && i < wk->n; i++)
		if (strcmp(wk->t[i].ns, ns) == 0 && strcmp(wk->t[i].target, name) == 0) {
			log_debug("run: deployment %s/%s changed (%s): waking %s", ns, name, type,
			    wk->t[i].key);
			runner_wake(wk->r, wk->t[i].key);
		}
	pthread_mutex_unlock(&wk->mu);
}

/* One watch of Deployments per namespace of the canaries (and of
 * DaemonSets where one is a target). */
static void
start_watches(struct run *rn)
{
	struct wake_target *t;
	size_t i;

	rn->wk.cap = rn->n_cfgs + 1;
	rn->wk.t = xcalloc(rn->wk.cap, sizeof *rn->wk.t);
	for (i = 0; i < rn->n_cfgs; i++) {
		t = &rn->wk.t[rn->wk.n++];
		snprintf(t->ns, sizeof t->ns, "%s", rn->cfgs[i]->ns);
		snprintf(t->target, sizeof t->target, "%s", rn->cfgs[i]->target);
		snprintf(t->key, sizeof t->key, "%s/%s", rn->cfgs[i]->ns, rn->cfgs[i]->name);
		if (k8s_cluster_watch_target(rn->cluster, rn->cfgs[i], on_deployment, &rn->wk) !=
		    ST_OK)
			log_warn("run: cannot watch the deployments of %s; reading them at each tick",
			    rn->cfgs[i]->ns);
	}
}

static void
log_watch_stats(struct run *rn)
{
	struct k8s_informer_stats st;

	k8s_cluster_watch_stats(rn->cluster, &st);
	log_info("run: deployment watches: %lu events, %lu lists, %lu drops; %lu reads from the "
	    "cache, %lu from the server", st.events, st.relists, st.drops, st.hits, st.misses);
}

static void
set_waker(struct waker *wk, struct runner *r)
{
	pthread_mutex_lock(&wk->mu);
	wk->r = r;
	pthread_mutex_unlock(&wk->mu);
}

/* A new, changed or deleted Canary object, handed to the engine thread. */
struct canary_change {
	struct run *rn;
	char key[200];
	json_t *obj;			/* the new object; NULL when deleted */
	bool deleting;			/* marked for deletion (deletionTimestamp) */
	bool finalizer;			/* and holding perch's finalizer */
	unsigned attempt;		/* a new one tried again: how many times */
	bool retry;			/* ... dropped when it was taken since */
};

#define ADOPT_BACKOFF_MS 1000		/* doubled at each try, up to ... */
#define ADOPT_BACKOFF_MAX_MS 60000

/* The configuration of a changed or new Canary (engine thread): its
 * namespace's MetricTemplates read again, validated as at the start; NULL
 * (logged) when it has errors: the running one stays, a new one is not
 * taken.  *api_st (may be NULL): the error of reading the cluster's
 * objects for it, ST_OK when none. */
static struct canary_cfg *
rebuild(struct run *rn, const char *key, json_t *obj, bool is_new, int *api_st)
{
	struct spec_set *set = spec_set_new();
	const struct spec_canary *sc;
	struct canary_cfg *cfg = NULL;
	struct diag_list dl;
	char err[ERRMSG_MAX + 200];

	const char *ns = json_string_value(json_object_get(json_object_get(obj, "metadata"),
	    "namespace"));

	int st;

	diag_list_init(&dl, false);
	if (ns == NULL)
		ns = rn->kc->ns;
	if ((st = load_cluster_objects(rn, ns, set, true, &dl, err, sizeof err)) == ST_OK) {
		cluster_spec_object(set, K8S_RES(CANARIES), ns, obj, &dl);
		spec_validate(set, &dl);
		spec_check_drivable(set, &dl);
		if (dl.n_errors > 0 || spec_set_n_canaries(set) != 1)
			snprintf(err, sizeof err, "%zu error%s (see perch validate)", dl.n_errors,
			    dl.n_errors == 1 ? "" : "s");
		else if (canary_load(set, (sc = spec_set_canary(set, 0)), AIM_CANARY, &cfg, err,
		    sizeof err) == ST_OK) {
			if (!spec_node_path(sc->meta.root, "metadata.namespace")) {
				free(cfg->ns);
				cfg->ns = xstrdup(rn->kc->ns);
			}
			canary_register_servers(set, sc, rn->metrics);
			if ((st = metric_creds_register(rn->client, set, sc, rn->metrics, err,
			    sizeof err)) == ST_OK) {
				set_routing(rn, sc, cfg);
				mark_driver(rn, cfg);
				sync_finalizer(rn, cfg);
			} else
				canary_cfg_free(cfg), cfg = NULL;
			if (cfg != NULL && is_new)	/* warnings go to the log */
				alert_providers_register(rn->client, set, cfg, rn->notify, NULL);
		}
	}
	if (cfg == NULL && is_new)
		log_warn("run: Canary %s is new, but its spec cannot be used: %s; not taken", key, err);
	else if (cfg == NULL)
		log_warn("run: %s changed, but the new spec cannot be used: %s; the running one stays",
		    key, err);
	diag_list_fini(&dl);
	spec_set_free(set);
	if (api_st != NULL)
		*api_st = st;
	return cfg;
}

/* Whether the waker knows the canary key (a canary of the runner). */
static bool
known(struct waker *wk, const char *key)
{
	bool found = false;
	size_t i;

	pthread_mutex_lock(&wk->mu);
	for (i = 0; i < wk->n && !found; i++)
		found = strcmp(wk->t[i].key, key) == 0;
	pthread_mutex_unlock(&wk->mu);
	return found;
}

static void apply_change(struct runner *r, void *arg);
static void later_retry(struct canary_change *ch, int st);

/* Hands ch to the engine, which applies it between ticks (dropped when
 * the engine is not running). */
static void
post_change(struct run *rn, struct canary_change *ch)
{
	pthread_mutex_lock(&rn->wk.mu);
	if (rn->wk.r != NULL)
		runner_post(rn->wk.r, apply_change, ch);
	else
		apply_change(NULL, ch);
	pthread_mutex_unlock(&rn->wk.mu);
}

/* A failure that may pass (the API server or the network): a new Canary
 * is tried again. */
static bool
passing(int st)
{
	return st == ST_HTTP || st == ST_NETWORK || st == ST_TIMEOUT || st == ST_AGAIN ||
	    st == ST_ERR || st == ST_IO;
}

/* The later thread: the Canary key read again from the server and handed
 * to the engine as a new one (apply_change drops it when it was taken
 * since); an error tries again later; gone: nothing to do. */
static void
retry_adopt(void *arg, bool cancelled)
{
	struct canary_change *ch = arg;
	struct run *rn = ch->rn;
	char ns[64] = "";
	const char *slash = strchr(ch->key, '/');
	struct k8s_err e;
	int st;

	if (cancelled || slash == NULL || (size_t)(slash - ch->key) >= sizeof ns) {
		free(ch);
		return;
	}
	memcpy(ns, ch->key, (size_t)(slash - ch->key));
	st = k8s_get(rn->client, K8S_RES(CANARIES), ns, slash + 1, &ch->obj, &e);
	if (st != ST_OK) {
		if (st != ST_NOTFOUND)
			log_warn("run: Canary %s: %s", ch->key, e.msg);
		later_retry(ch, st);
		return;
	}
	ch->retry = true;
	post_change(rn, ch);
}

/* Schedules the next try of a new Canary after a passing failure st,
 * with a backoff; anything else ends the tries.  Takes ch. */
static void
later_retry(struct canary_change *ch, int st)
{
	int64_t ms = ADOPT_BACKOFF_MS;
	unsigned i;

	json_decref(ch->obj);
	ch->obj = NULL;
	if (!passing(st)) {
		free(ch);
		return;
	}
	for (i = 0; i < ch->attempt && ms < ADOPT_BACKOFF_MAX_MS; i++)
		ms *= 2;
	ms = ms < ADOPT_BACKOFF_MAX_MS ? ms : ADOPT_BACKOFF_MAX_MS;
	log_info("run: Canary %s is tried again in %lld ms", ch->key, (long long)ms);
	ch->attempt++;
	later_at(ch->rn->later, ms, retry_adopt, ch);
}

/* A new Canary (from) that failed with st: tried again later when st may
 * pass. */
static void
retry_later(struct run *rn, const struct canary_change *from, int st)
{
	struct canary_change *again = xcalloc(1, sizeof *again);

	*again = (struct canary_change){ .rn = rn, .attempt = from->attempt };
	snprintf(again->key, sizeof again->key, "%s", from->key);
	later_retry(again, st);
}

/* A Canary created while perch run runs (engine thread): built as a
 * changed one is, then adopted by the runner, woken by its Deployment.
 * When the store fails on a passing error (a 5xx, a connection reset),
 * it is tried again with a backoff (later_retry) until it is taken. */
static void
adopt(struct run *rn, struct runner *r, const struct canary_change *from)
{
	const char *key = from->key;
	json_t *obj = from->obj;
	struct wake_target t = { .deleted = false };
	struct waker *wk = &rn->wk;
	struct canary_cfg *cfg;
	char who[200];
	int st;

	if (!from->deleting && k8s_flagger_may_claim(rn->client, obj, (long)time(NULL), who,
	    sizeof who)) {
		log_info("run: Canary %s is new and Flagger (%s) runs: waiting up to %d s for it to "
		    "take the Canary before perch does", key, who, K8S_FLAGGER_CLAIM_S);
		retry_later(rn, from, ST_AGAIN);
		return;
	}
	if ((cfg = rebuild(rn, key, obj, true, &st)) == NULL) {
		retry_later(rn, from, st);
		return;
	}
	snprintf(t.ns, sizeof t.ns, "%s", cfg->ns);
	snprintf(t.target, sizeof t.target, "%s", cfg->target);
	snprintf(t.key, sizeof t.key, "%s", key);
	if (k8s_cluster_watch_target(rn->cluster, cfg, on_deployment, wk) != ST_OK)
		log_warn("run: cannot watch the deployments of %s", cfg->ns);
	st = runner_adopt(r, cfg);	/* takes cfg */
	if (st != ST_OK && st != ST_CORRUPT) {
		log_warn("run: Canary %s is new, but cannot be taken: %s", key, status_text(st));
		retry_later(rn, from, st);
		return;
	}
	pthread_mutex_lock(&wk->mu);
	if (wk->n == wk->cap) {
		wk->cap = wk->cap ? 2 * wk->cap : 8;
		wk->t = xreallocarray(wk->t, wk->cap, sizeof *wk->t);
	}
	wk->t[wk->n++] = t;
	pthread_mutex_unlock(&wk->mu);
}

/* The canary key's object is gone (or going): not counted any more. */
static void
mark_deleted(struct waker *wk, const char *key)
{
	size_t i;

	pthread_mutex_lock(&wk->mu);
	for (i = 0; i < wk->n; i++)
		if (strcmp(wk->t[i].key, key) == 0)
			wk->t[i].deleted = true;
	pthread_mutex_unlock(&wk->mu);
}

static void
apply_change(struct runner *r, void *arg)
{
	struct canary_change *ch = arg;
	struct canary_cfg *cfg;

	struct waker *wk = r != NULL ? &ch->rn->wk : NULL;
	size_t i;

	if (r != NULL && ch->deleting) {
		if (!known(wk, ch->key))	/* marked before perch saw it: taken to be reverted */
			adopt(ch->rn, r, ch);
		mark_deleted(wk, ch->key);
		runner_delete(r, ch->key, ch->finalizer);
	} else if (r != NULL && !known(wk, ch->key)) {
		if (ch->obj != NULL)
			adopt(ch->rn, r, ch);
	} else if (ch->retry) {
		/* taken since, or the engine stopped: nothing to try */
	} else if (r != NULL && ch->obj == NULL) {
		mark_deleted(wk, ch->key);
		runner_replace(r, ch->key, NULL);
	} else if (r != NULL && (cfg = rebuild(ch->rn, ch->key, ch->obj, false, NULL)) != NULL) {
		pthread_mutex_lock(&wk->mu);	/* a new targetRef wakes it from now on */
		for (i = 0; i < wk->n; i++)
			if (strcmp(wk->t[i].key, ch->key) == 0)
				snprintf(wk->t[i].target, sizeof wk->t[i].target, "%s", cfg->target);
		pthread_mutex_unlock(&wk->mu);
		if (k8s_cluster_watch_target(ch->rn->cluster, cfg, on_deployment, wk) != ST_OK)
			log_warn("run: cannot watch the deployments of %s", cfg->ns);
		if (runner_replace(r, ch->key, cfg) == ST_OK) {
			pthread_mutex_lock(&wk->mu);	/* created again: counted again */
			for (i = 0; i < wk->n; i++)
				if (strcmp(wk->t[i].key, ch->key) == 0)
					wk->t[i].deleted = false;
			pthread_mutex_unlock(&wk->mu);
		}
	}
	json_decref(ch->obj);
	free(ch);
}

/* A Canary object is marked for deletion: the engine reverts it
 * (runner_delete) between ticks; one it does not know yet (marked while
 * perch was not running) is adopted first. */
static void
post_deletion(struct run *rn, const char *key, json_t *obj)
{
	struct canary_change *ch = xcalloc(1, sizeof *ch);

	ch->rn = rn;
	snprintf(ch->key, sizeof ch->key, "%s", key);
	ch->obj = json_deep_copy(obj);
	ch->deleting = true;
	ch->finalizer = k8s_canary_has_finalizer(obj);
	post_change(rn, ch);
}

/* The Canaries marked for deletion while perch was not running: reverted
 * once the engine runs (the watch's first list may come before it, when
 * its changes are dropped). */
static void
post_doomed(struct run *rn)
{
	void *it;

	for (it = json_object_iter(rn->doomed); it != NULL; it = json_object_iter_next(rn->doomed, it))
		post_deletion(rn, json_object_iter_key(it), json_object_iter_value(it));
	json_decref(rn->doomed);
	rn->doomed = NULL;
}

/* Whether obj's spec_part is before's (taken; NULL: not known). */
static bool
unchanged(json_t *before, json_t *obj)
{
	json_t *now = spec_part(obj);
	bool same = before != NULL && json_equal(before, now);

	json_decref(before);
	json_decref(now);
	return same;
}

/* A Canary object was created, changed (its spec, labels or annotations)
 * or deleted: the engine applies it between ticks (a new one is adopted).
 * Status-only writes, and the watch's first list of the Canaries loaded at
 * the start, are ignored. */
static void
on_canary(void *arg, const char *type, json_t *old, json_t *obj)
{
	struct run *rn = arg;
	json_t *md = json_object_get(obj, "metadata");
	const char *ns = json_string_value(json_object_get(md, "namespace"));
	const char *name = json_string_value(json_object_get(md, "name"));
	struct canary_change *ch;
	char key[200];

	if (ns == NULL || name == NULL)
		return;
	snprintf(key, sizeof key, "%s/%s", ns, name);
	if (strcmp(type, "ADDED") == 0 && !known(&rn->wk, key))
		log_info("run: Canary %s is new; taking it", key);
	if (k8s_canary_deleting(obj) && strcmp(type, "DELETED") != 0) {
		/* marked for deletion: reverted once; later writes (its status,
		 * the finalizer) never take it back */
		if (!k8s_canary_deleting(old))
			post_deletion(rn, key, obj);
		return;
	}
	if (strcmp(type, "DELETED") != 0 && unchanged(strcmp(type, "ADDED") == 0 ?
	    json_incref(json_object_get(rn->loaded, key)) : spec_part(old), obj))
		return;
	ch = xcalloc(1, sizeof *ch);
	ch->rn = rn;
	snprintf(ch->key, sizeof ch->key, "%s", key);
	ch->obj = strcmp(type, "DELETED") == 0 ? NULL : json_deep_copy(obj);
	post_change(rn, ch);
}

/* One watch of the Canary objects of ns (NULL: every namespace).  false
 * when it cannot start. */
static bool
watch_canaries_in(struct run *rn, const char *ns)
{
	struct k8s_informer_opts o = { .res = K8S_RES(CANARIES), .ns = ns,
		.on_change = on_canary, .arg = rn };
	struct k8s_informer *inf = k8s_informer_new(rn->client, &o);

	if (rn->later == NULL)
		rn->later = later_new();
	if (k8s_informer_start(inf) != ST_OK) {
		log_warn("%s: cannot watch the Canaries of %s", rn->o.cmd, ns ? ns : "every namespace");
		k8s_informer_free(inf);
		return false;
	}
	rn->canaries = xreallocarray(rn->canaries, rn->n_canaries + 1, sizeof *rn->canaries);
	rn->canaries[rn->n_canaries++] = inf;
	return true;
}

/* Without -f: the Canary objects of the namespace (perch run), or of the
 * controller's namespaces, or of all of them, are watched.  false when a
 * controller cannot watch one (a run goes on: changes apply at its next
 * start). */
static bool
watch_canaries(struct run *rn)
{
	size_t i;
	bool ok = true;

	if (rn->o.n_files > 0)
		return true;
	if (!rn->o.controller)
		return watch_canaries_in(rn, run_ns(rn)) || true;
	if (rn->o.all_ns)
		return watch_canaries_in(rn, NULL);
	if (rn->o.n_nss == 0)
		return watch_canaries_in(rn, rn->kc->ns);
	for (i = 0; i < rn->o.n_nss && ok; i++)
		ok = watch_canaries_in(rn, rn->o.nss[i]);
	return ok;
}

static void
unwatch_canaries(struct run *rn)
{
	size_t i;

	for (i = 0; i < rn->n_canaries; i++)
		k8s_informer_free(rn->canaries[i]);
	free(rn->canaries);
	rn->canaries = NULL;
	rn->n_canaries = 0;
}

/* ---- the world ------------------------------------------------------------- */

/* In-cluster credentials as client-go takes them: when no kubeconfig is
 * named (--kubeconfig, --context, $KUBECONFIG) and
 * KUBERNETES_SERVICE_HOST is set.  $PERCH_SERVICEACCOUNT_DIR stands for
 * /var/run/secrets/kubernetes.io/serviceaccount (tests). */
static bool
in_cluster(const struct run_opts *o)
{
	const char *env = getenv("KUBECONFIG");

	return o->kubeconfig == NULL && o->context == NULL && (env == NULL || *env == '\0') &&
	    getenv("KUBERNETES_SERVICE_HOST") != NULL;
}

static int
connect_cluster(struct run *rn)
{
	struct kubeconfig_opts ko = {
		.path = rn->o.kubeconfig, .env = getenv("KUBECONFIG"), .home = getenv("HOME"),
		.context = rn->o.context, .ns = rn->o.controller ? NULL : rn->o.ns,
	};
	struct buf err;
	int st;

	buf_init(&err, 1024);
	if (in_cluster(&rn->o))
		st = k8s_config_in_cluster(getenv("KUBERNETES_SERVICE_HOST"),
		    getenv("KUBERNETES_SERVICE_PORT"), getenv("PERCH_SERVICEACCOUNT_DIR"), ko.ns,
		    &rn->kc, &err);
	else
		st = k8s_config_load(&ko, &rn->kc, &err);
	if (st == ST_OK)
		st = k8s_client_new(rn->kc, NULL, &rn->client, &err);
	if (st == ST_OK)
		st = k8s_client_new(rn->kc, NULL, &rn->ev_client, &err);
	if (st != ST_OK) {
		cli_error(rn->o.cmd, "%s", buf_str(&err));
		buf_fini(&err);
		return st == ST_PARSE || st == ST_INVALID ? EXIT_USAGE : EXIT_INFRA;
	}
	buf_fini(&err);
	/* The first request may take a while (an exec plugin, a server that
	 * does not answer): say where perch is going first.  The TUI says it
	 * on its status line instead: a line on stderr would be left on the
	 * terminal after the screen ends, saying "connecting" after the quit. */
	if (rn->o.headless || rn->o.controller)
		cli_progress(rn->o.cmd, "connecting to %s (context %s)", rn->kc->server,
		    rn->kc->context);
	else
		log_info("perch %s: connecting to %s (context %s)", rn->o.cmd, rn->kc->server,
		    rn->kc->context);
	rn->cluster = k8s_cluster_new(rn->client);
	/* Events go out on the runner's notifier thread: on a connection of
	 * their own, so a slow event never queues the engine's requests. */
	k8s_cluster_set_event_client(rn->cluster, rn->ev_client);
	/* A Flagger canary's gates at URLs that are no cluster Service. */
	k8s_cluster_set_webhooks(rn->cluster, &http_webhook_ops, rn->hooks);
	return EXIT_OK;
}

/* The Leases' duration: STORE_K8S_LEASE_S, or $PERCH_LEASE_SECONDS (for
 * tests: 3 to 3600). */
static int
lease_seconds(void)
{
	const char *s = getenv("PERCH_LEASE_SECONDS");
	long n = s ? strtol(s, NULL, 10) : 0;

	return n >= 3 && n <= 3600 ? (int)n : 0;
}

/* One watch of the perch ConfigMaps of the run's namespace (of every
 * namespace with -A or several -n) serves the requests to the canaries
 * this run holds, the answers to its own, and the canaries other processes
 * hold (another replica's, a controller's), read from its cache rather
 * than one request each every OBSERVE_MS. */
static void
watch_perch_cms(struct run *rn)
{
	const char *ns = rn->o.all_ns || rn->o.n_nss > 1 ? NULL :
	    rn->o.n_nss == 1 ? rn->o.nss[0] : rn->kc->ns;

	if (store_k8s_watch_in(rn->sk8s, ns) != ST_OK)
		log_warn("cannot watch the perch ConfigMaps: requests from other perch processes are "
		    "not taken, and the canaries they hold are read from the server");
}

static int
open_store(struct run *rn, const struct store_ops **ops, void **ctx)
{
	char err[ERRMSG_MAX];

	if (rn->o.state_dir) {
		rn->sdir = store_dir_open(rn->o.state_dir, false, err, sizeof err);
		if (!rn->sdir) {
			cli_error(rn->o.cmd, "%s", err);
			return EXIT_INFRA;
		}
		*ops = &store_dir_ops;
		*ctx = rn->sdir;
	} else {
		rn->sk8s = store_k8s_open(rn->client, false, lease_seconds());
		watch_perch_cms(rn);
		*ops = &store_k8s_ops;
		*ctx = rn->sk8s;
	}
	return EXIT_OK;
}

/* After runner_start: the heartbeat its watchers follow
 * (app/heartbeat.h), written while this run controls a canary (a refused
 * second controller leaves the first one's heartbeat alone; an
 * interactive run that takes a canary back later beats from then on):
 * with --state-dir, DIR/clock.json with the clock's mapping (scaled under
 * PERCH_TIME_SCALE) every second; on the cluster, the namespace's
 * perch.heartbeat ConfigMap every two seconds. */
static void
start_beat(struct run *rn, struct runner *r)
{
	struct beat_target t = { store_k8s_beat, rn->sk8s };
	char who[160], actor[IDENTITY_MAX];

	/* As the lock and the Lease name their holder ("user@host pid N"). */
	snprintf(who, sizeof who, "%s pid %ld", identity_get(actor, sizeof actor), (long)getpid());
	if (rn->sdir != NULL) {
		rn->beat_dir = (struct beat_dir){ .dir = rn->o.state_dir, .clock = &perch_clock_ops,
			.clock_ctx = rn->clock, .speed = rn->speed };
		t = (struct beat_target){ beat_dir_write, &rn->beat_dir };
	}
	rn->beat = beat_start(r, &t, who, rn->kc->context, rn->sdir != NULL ? BEAT_DIR_MS :
	    BEAT_K8S_MS);
}

static bool
was_deleted(struct waker *wk, const char *ns, const char *name)
{
	char key[200];
	bool gone = false;
	size_t i;

	snprintf(key, sizeof key, "%s/%s", ns ? ns : "", name ? name : "");
	pthread_mutex_lock(&wk->mu);
	for (i = 0; i < wk->n; i++)
		gone = gone || (wk->t[i].deleted && strcmp(wk->t[i].key, key) == 0);
	pthread_mutex_unlock(&wk->mu);
	return gone;
}

/* Says who holds control when this process could only watch, which
 * canaries were let go because their Canary was deleted, and which cannot
 * be driven (and why). */
static void
report_holder(struct run *rn, struct runner *r)
{
	struct snapshot *snap = runner_snapshot(r);
	size_t i;

	for (i = 0; snap && i < snap->n_canaries; i++)
		if (snap->canaries[i].refused)
			cli_error(rn->o.cmd, "%s", snap->canaries[i].reason);
		else if (was_deleted(&rn->wk, snap->canaries[i].ns, snap->canaries[i].name))
			cli_error(rn->o.cmd, "%s/%s: the Canary was deleted; let go",
			    snap->canaries[i].ns ? snap->canaries[i].ns : "",
			    snap->canaries[i].name ? snap->canaries[i].name : "");
		else if (!snap->canaries[i].can_control)
			cli_error(rn->o.cmd, "%s/%s is controlled by %s; not changing it",
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

/* Who this process is for Leases, commands and the heartbeat:
 * --identity, else user@host. */
static const char *
actor_of(struct run *rn, char *buf, size_t sz)
{
	if (rn->o.identity != NULL) {
		snprintf(buf, sz, "%s", rn->o.identity);
		return buf;
	}
	return identity_get(buf, sz);
}

/* The fair share: ceil(n / live replicas). */
static size_t
replica_share(void *arg, size_t n)
{
	size_t live = replicas_live(arg);

	return (n + live - 1) / live;
}

/* perch controller: this replica's Lease in its own namespace, and the
 * share of the canaries it takes from the live ones. */
static void
share_replicas(struct run *rn, struct runner_config *rc, const char *actor)
{
	char id[IDENTITY_MAX + 40];

	if (rn->sk8s == NULL)
		return;		/* --state-dir: one controller */
	snprintf(id, sizeof id, "%s", actor);
	rn->replicas = replicas_start(rn->client, rn->kc->ns, id, lease_seconds());
	if (rn->replicas == NULL)
		return;
	rc->share = replica_share;
	rc->share_arg = rn->replicas;
}

/* The runner while it runs, or NULL. */
static struct runner *
current_runner(struct run *rn)
{
	struct runner *r;

	pthread_mutex_lock(&rn->wk.mu);
	r = rn->wk.r;
	pthread_mutex_unlock(&rn->wk.mu);
	return r != NULL && !runner_done(r) ? r : NULL;
}

/* GET /metrics, /healthz, /readyz (the server's thread). */
static int
page(void *arg, const char *path, struct buf *body, const char **ctype)
{
	struct run *rn = arg;
	struct runner *r = current_runner(rn);
	struct k8s_counters a, b;
	struct snapshot *snap;

	if (strcmp(path, "/metrics") == 0) {
		snap = r != NULL ? runner_snapshot(r) : NULL;
		k8s_client_counters(rn->client, &a);
		k8s_client_counters(rn->ev_client, &b);
		a.get += b.get, a.list += b.list, a.watch += b.watch, a.create += b.create;
		a.update += b.update, a.patch += b.patch, a.del += b.del, a.retries += b.retries;
		prom_expo_render(rn->expo, snap, &a, body);
		snapshot_unref(snap);
		*ctype = "text/plain; version=0.0.4; charset=utf-8";
		return 200;
	}
	if (strcmp(path, "/healthz") == 0 || strcmp(path, "/readyz") == 0) {
		bool ok = r != NULL && (path[1] == 'h' || atomic_load(&rn->ready));

		buf_puts(body, ok ? "ok\n" : "not ready\n");
		return ok ? 200 : 503;
	}
	return 404;
}

/* --metrics-addr: the server, before the engine starts (503 until then). */
static int
start_metrics(struct run *rn, struct runner_config *rc)
{
	char err[512];

	if (rn->o.metrics_addr == NULL || strcmp(rn->o.metrics_addr, "off") == 0)
		return EXIT_OK;
	rn->expo = prom_expo_new();
	rn->mh = metrics_http_start(rn->o.metrics_addr, page, rn, err, sizeof err);
	if (rn->mh == NULL) {
		cli_error(rn->o.cmd, "%s", err);
		return EXIT_INFRA;
	}
	rc->on_tick = prom_expo_tick;
	rc->tick_arg = rn->expo;
	return EXIT_OK;
}

/* The engine's world: the cluster, the metric backends, the webhooks, the
 * alerts, the clock; actor (IDENTITY_MAX) must outlive the runner. */
static void
engine_config(struct run *rn, struct runner_config *rc, char *actor)
{
	*rc = (struct runner_config){
		.cluster = &k8s_cluster_ops, .cluster_ctx = rn->cluster,
		.metrics = metric_backends_engine_ops(), .metrics_ctx = rn->metrics,
		.webhook = &http_webhook_ops, .webhook_ctx = rn->hooks,
		.alert = &http_alert_ops, .alert_ctx = rn->notify,
		.clock = &perch_clock_ops, .clock_ctx = rn->clock,
		.actor = actor_of(rn, actor, IDENTITY_MAX), .context = rn->kc->context,
		.ns = run_ns(rn), .confirm = rn->o.confirm,
		.stop_when_done = rn->o.headless && !rn->o.controller,
		.seed = random_seed(),
		.metrics_off = rn->o.prometheus == NULL && rn->o.prometheus_service == NULL ?
		    PROM_NONE_NOTE : NULL,
	};
}

/* The store, /metrics, the watches, the runner started over the canaries
 * (taking their Leases), the heartbeat.  NULL when it cannot start (said
 * on stderr, *rc_exit the status). */
static struct runner *
start_engine(struct run *rn, struct runner_config *rc, const char *actor, int *rc_exit)
{
	struct runner *r;
	char err[512];
	size_t i;

	if ((*rc_exit = open_store(rn, &rc->store, &rc->store_ctx)) != EXIT_OK ||
	    (*rc_exit = start_metrics(rn, rc)) != EXIT_OK)
		return NULL;
	start_watches(rn);
	if (!rn->o.controller)
		watch_canaries(rn);
	else
		share_replicas(rn, rc, actor);
	r = runner_new(rc);
	for (i = 0; i < rn->n_cfgs; i++) {
		runner_add(r, rn->cfgs[i]);
		rn->cfgs[i] = NULL;	/* the runner owns it */
	}
	set_waker(&rn->wk, r);
	if (runner_start(r, err, sizeof err) != ST_OK) {
		cli_error(rn->o.cmd, "%s", err);
		set_waker(&rn->wk, NULL);
		runner_free(r);
		*rc_exit = EXIT_INFRA;
		return NULL;
	}
	start_beat(rn, r);
	post_doomed(rn);
	return r;
}

/* After runner_stop: the heartbeat, the watches and the threads around
 * the runner end, then the runner. */
static void
stop_engine(struct run *rn, struct runner *r)
{
	beat_stop(rn->beat);	/* the last beat: this controller stopped */
	rn->beat = NULL;
	set_waker(&rn->wk, NULL);
	log_watch_stats(rn);
	k8s_cluster_unwatch(rn->cluster);
	unwatch_canaries(rn);
	later_free(rn->later);
	rn->later = NULL;
	replicas_stop(rn->replicas);
	rn->replicas = NULL;
	metrics_http_stop(rn->mh);	/* before the runner it reads goes */
	rn->mh = NULL;
	runner_free(r);
}

/* perch controller, perch run --headless. */
static int
execute(struct run *rn)
{
	char actor[IDENTITY_MAX];
	struct runner_config rc;
	struct runner *r;
	int rc_exit;

	engine_config(rn, &rc, actor);
	if (rn->o.headless) {
		rc.sink = headless_sink;
		rc.sink_arg = stdout;
	}
	if ((r = start_engine(rn, &rc, actor, &rc_exit)) == NULL)
		return rc_exit;
	interrupt_attach(r, NULL);
	/* A controller's watches list the Canaries once the engine runs:
	 * each is adopted then. */
	if (rn->o.controller && !watch_canaries(rn)) {
		cli_error(rn->o.cmd, "cannot watch canaries.flagger.app; is the CRD installed?");
		runner_cancel_wait(r);
		rc_exit = EXIT_INFRA;
	}
	atomic_store(&rn->ready, true);
	if (rn->o.controller) {
		runner_wait(r);		/* until a signal */
		runner_stop(r);		/* saves, releases the Leases */
	} else {
		runner_wait(r);
		report_holder(rn, r);	/* before the stop gives control back */
		runner_stop(r);
		rc_exit = runner_outcome(r);
	}
	interrupt_detach();
	stop_engine(rn, r);
	return rc_exit;
}

static void
run_fini(struct run *rn)
{
	size_t i;

	for (i = 0; rn->cfgs && i < rn->n_cfgs; i++)
		canary_cfg_free(rn->cfgs[i]);
	free(rn->cfgs);
	k8s_cluster_unwatch(rn->cluster);
	unwatch_canaries(rn);
	later_free(rn->later);
	replicas_stop(rn->replicas);
	metrics_http_stop(rn->mh);
	prom_expo_free(rn->expo);
	json_decref(rn->loaded);
	json_decref(rn->doomed);
	free(rn->wk.t);
	pthread_mutex_destroy(&rn->wk.mu);
	store_k8s_close(rn->sk8s);
	store_dir_close(rn->sdir);
	if (rn->clock)
		clock_free(rn->clock);
	if (rn->hooks)
		webhook_client_free(rn->hooks);
	notifier_free(rn->notify);
	metric_backends_free(rn->metrics);
	k8s_cluster_free(rn->cluster);
	k8s_client_free(rn->ev_client);
	k8s_client_free(rn->client);
	k8s_config_free(rn->kc);
	if (rn->set)
		spec_set_free(rn->set);
	free(rn->o.files);
	for (i = 0; i < rn->o.n_nss; i++)
		free(rn->o.nss[i]);
	free(rn->o.nss);
}

/* Real time; $PERCH_TIME_SCALE=N (tests, demos) runs the engine's clock N
 * times faster, starting now. */
static struct perch_clock *
make_clock(double *speed_out)
{
	const char *s = getenv("PERCH_TIME_SCALE");
	double speed = s ? strtod(s, NULL) : 0;

	*speed_out = 1;
	if (speed > 0 && speed != 1) {
		*speed_out = speed;
		return clock_new(CLOCK_KIND_SCALED, clock_realtime_ms(), speed);
	}
	return clock_new(CLOCK_KIND_REAL, 0, 1);
}

/* After the kubeconfig: the metric backends, the Canaries (from -f or
 * the cluster: the first requests to the API server), their configs, the
 * webhooks and the clock. */
static int
prepare(struct run *rn)
{
	const struct metric_backend_opts mo = { .kube = &rn->kube };
	struct metric_provider ps = { 0 };
	char err[ERRMSG_MAX];
	int rc = EXIT_OK;

	metric_kube_init(&rn->kube, rn->client);
	rn->set = spec_set_new();
	rn->metrics = metric_backends_new(&mo);
	rn->notify = notifier_new();
	if (rn->o.prometheus) {
		ps.address = rn->o.prometheus;
		metric_backends_add(rn->metrics, NULL, &ps, err, sizeof err);
	} else if (rn->o.prometheus_service != NULL &&
	    prom_service_use(rn->metrics, rn->kc, rn->o.prometheus_service, err, sizeof err) != ST_OK) {
		cli_error(rn->o.cmd, "%s", err);
		rc = EXIT_INFRA;
	}
	if (rc == EXIT_OK)
		rc = load_specs(rn);
	if (rc == EXIT_OK)
		rc = build_cfgs(rn);
	if (rc == EXIT_OK) {
		rn->hooks = webhook_client_new(NULL);
		rn->clock = make_clock(&rn->speed);
	}
	return rc;
}

/* The TUI's start (app/startup.h), on a thread of its own while the
 * screen is up: prepare, then the engine, unless the user quit first. */
struct boot {
	struct run *rn;
	struct tui *t;
	struct startup *st;
	struct runner *r;		/* started, or NULL */
	int rc;
	char actor[IDENTITY_MAX];
};

static void *
boot_main(void *arg)
{
	struct boot *b = arg;
	struct run *rn = b->rn;
	struct runner_config rc;

	startup_say(b->st, "connecting to %s (context %s)...", rn->kc->server, rn->kc->context);
	b->rc = prepare(rn);
	if (b->rc == EXIT_OK && startup_take(b->st, rn->n_cfgs)) {
		engine_config(rn, &rc, b->actor);
		rc.notify = tui_notify;
		rc.notify_arg = b->t;
		b->r = start_engine(rn, &rc, b->actor, &b->rc);
	}
	if (b->r != NULL) {
		atomic_store(&rn->ready, true);
		startup_ready(b->st, b->r);
	} else if (b->rc != EXIT_OK && !startup_fail(b->st)) {
		b->rc = EXIT_OK;	/* the user quit while it started: nothing taken */
	}
	return NULL;
}

/* The user quit before anything was taken: the requests of the start end
 * at once. */
static void
give_up(void *arg)
{
	struct run *rn = arg;

	k8s_client_cancel(rn->client);
	k8s_client_cancel(rn->ev_client);
}

/* After the UI: the engine stopped (saved, the Leases released). */
static int
boot_end(struct run *rn, struct boot *b, int status)
{
	if (b->r == NULL)
		return status == EXIT_OK ? b->rc : status;
	interrupt_attach(b->r, b->t);	/* a second signal drops the notifications */
	runner_stop(b->r);
	if (status == EXIT_OK)
		status = runner_outcome(b->r);
	interrupt_detach();
	stop_engine(rn, b->r);
	return status;
}

/* perch run with the TUI: the screen comes up before the first request. */
static int
run_tui(struct run *rn)
{
	struct tui_config tc = { .theme = rn->o.theme, .context = rn->kc->context,
		.released = rn->o.state_dir != NULL ? "lock" : "Lease" };
	struct boot b = { .rn = rn };
	char saved_in[300];
	pthread_t th;
	int status;

	snprintf(saved_in, sizeof saved_in, "in %s", rn->o.state_dir ? rn->o.state_dir : "the cluster");
	tc.saved_in = saved_in;
	if ((b.t = tui_new(&tc)) == NULL) {
		cli_error(rn->o.cmd, "cannot create the wake pipe");
		return EXIT_INFRA;
	}
	b.st = startup_new(b.t, rn->kc->context);
	startup_set_cancel(b.st, give_up, rn);
	interrupt_attach(NULL, b.t);
	if (pthread_create(&th, NULL, boot_main, &b) != 0) {
		b.rc = EXIT_INFRA;
		startup_say(b.st, "cannot start a thread");
		status = EXIT_INFRA;
	} else {
		status = startup_tui(b.st, b.t);
		pthread_join(th, NULL);
	}
	interrupt_detach();
	status = boot_end(rn, &b, status);
	startup_free(b.st);
	tui_free(b.t);
	return status;
}

int
run_with(struct run_opts *o)
{
	struct run rn;
	int rc;

	memset(&rn, 0, sizeof rn);
	pthread_mutex_init(&rn.wk.mu, NULL);
	rn.o = *o;
	rc = cli_apply_logging(rn.o.cmd);
	if (rc != EXIT_OK) {
		run_fini(&rn);
		return rc;
	}
	/* Before any thread: SIGINT, SIGTERM and SIGHUP end the run cleanly
	 * (app/interrupt.h), even while an exec credential plugin runs. */
	interrupt_begin();
	rc = connect_cluster(&rn);
	if (rc == EXIT_OK && !rn.o.headless && !rn.o.controller)
		rc = run_tui(&rn);
	else if (rc == EXIT_OK && (rc = prepare(&rn)) == EXIT_OK && interrupt_signal() == 0)
		rc = execute(&rn);
	run_fini(&rn);
	return interrupt_end(o->cmd, rc);
}

int
cmd_run(int argc, char **argv)
{
	struct run_opts o = { .cmd = "run" };
	int rc = parse_args(argc, argv, &o);

	if (rc == -1) {
		free(o.files);
		return cli_command_help("run");
	}
	if (rc != EXIT_OK) {
		free(o.files);
		return rc;
	}
	return run_with(&o);
}
