/*
 * check_cluster.c — MetricTemplates and their secretRef credentials from the
 * cluster for `perch check` (see check_cluster.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/check_cluster.h"
#include "app/metric_creds.h"
#include "app/metric_kube.h"
#include "util/buf.h"
#include "util/status.h"
#include "util/xalloc.h"

static const struct k8s_res templates = { "flagger.app", "v1beta1", "metrictemplates", true };

int
check_cluster_open(struct check_cluster *cc, const char *path, const char *context,
    const char *ns, char *err, size_t errsz)
{
	struct kubeconfig_opts ko = {
		.path = path, .env = getenv("KUBECONFIG"), .home = getenv("HOME"),
		.context = context, .ns = ns,
	};
	struct buf b;
	int st;

	memset(cc, 0, sizeof *cc);
	buf_init(&b, 1024);
	st = k8s_config_load(&ko, &cc->kc, &b);
	if (st == ST_OK)
		st = k8s_client_new(cc->kc, NULL, &cc->client, &b);
	if (st == ST_OK)
		metric_kube_init(&cc->kube, cc->client);
	if (st != ST_OK) {
		snprintf(err, errsz, "%s", buf_str(&b));
		check_cluster_close(cc);
	}
	buf_fini(&b);
	return st;
}

void
check_cluster_close(struct check_cluster *cc)
{
	size_t i;

	for (i = 0; i < cc->n_moved; i++) {
		free(cc->moved[i].as);
		free(cc->moved[i].name);
		free(cc->moved[i].from);
	}
	free(cc->moved);
	k8s_client_free(cc->client);
	k8s_config_free(cc->kc);
	memset(cc, 0, sizeof *cc);
}

/* Fetches MetricTemplate name from namespace from, loads it into set as if
 * it lived in namespace as (where the Canary looks for it). */
static int
fetch(struct check_cluster *cc, struct spec_set *set, const char *from, const char *as,
    const char *name, struct diag_list *dl, char *err, size_t errsz)
{
	struct k8s_err e;
	char label[600], *text;
	json_t *obj;
	int st = k8s_get(cc->client, &templates, from, name, &obj, &e);

	if (st == ST_NOTFOUND)
		return ST_OK;
	if (st != ST_OK) {
		snprintf(err, errsz, "MetricTemplate %s/%s: %s", from, name, e.msg);
		return st;
	}
	json_object_del(obj, "status");
	if (strcmp(from, as) != 0) {
		cc->moved = xreallocarray(cc->moved, cc->n_moved + 1, sizeof *cc->moved);
		cc->moved[cc->n_moved].as = xstrdup(as);
		cc->moved[cc->n_moved].name = xstrdup(name);
		cc->moved[cc->n_moved++].from = xstrdup(from);
	}
	json_object_set_new(json_object_get(obj, "metadata"), "namespace", json_string(as));
	snprintf(label, sizeof label, "metrictemplates %s/%s", from, name);
	if ((text = json_dumps(obj, JSON_INDENT(1))))
		spec_load_buffer(set, label, text, strlen(text), dl);
	free(text);
	json_decref(obj);
	return ST_OK;
}

int
check_cluster_templates(struct check_cluster *cc, struct spec_set *set, struct diag_list *dl,
    char *err, size_t errsz)
{
	size_t i, j, n = spec_set_n_canaries(set);
	int st;

	for (i = 0; i < n; i++) {
		const struct spec_canary *c = spec_set_canary(set, i);
		bool written = spec_node_path(c->meta.root, "metadata.namespace") != NULL;

		for (j = 0; j < c->analysis.n_metrics; j++) {
			const struct spec_metric *m = &c->analysis.metrics[j];
			const char *as = m->template_ref.ns ? m->template_ref.ns : c->meta.ns;
			const char *from = m->template_ref.ns ? m->template_ref.ns :
			    written ? c->meta.ns : cc->kc->ns;

			if (!m->template_ref.set || !m->template_ref.name ||
			    spec_find_template(set, c, m))
				continue;
			st = fetch(cc, set, from, as, m->template_ref.name, dl, err, errsz);
			if (st != ST_OK)
				return st;
		}
	}
	return ST_OK;
}

/* The namespace a template was fetched from, NULL when it is its own. */
static const char *
home_of(const struct check_cluster *cc, const struct spec_metric_template *t)
{
	size_t i;

	for (i = 0; i < cc->n_moved; i++)
		if (strcmp(cc->moved[i].as, t->meta.ns) == 0 && strcmp(cc->moved[i].name,
		    t->meta.name) == 0)
			return cc->moved[i].from;
	return NULL;
}

int
check_cluster_creds(struct check_cluster *cc, const struct spec_set *set,
    struct metric_backends *b, const struct metric_provider *server, char *err, size_t errsz)
{
	const struct spec_metric_template *t;
	bool prom_done = false;
	size_t i, j;
	int st;

	for (i = 0; i < spec_set_n_canaries(set); i++) {
		const struct spec_canary *c = spec_set_canary(set, i);

		for (j = 0; j < c->analysis.n_metrics; j++) {
			t = spec_find_template(set, c, &c->analysis.metrics[j]);
			if (t == NULL || t->secret_ref == NULL)
				continue;
			/* The default backend's queries all go to --prometheus:
			 * the first secretRef signs in.  Another type's template
			 * keeps its own server and credentials. */
			if (metric_type_find(t->provider_type) == MT_DEFAULT) {
				st = prom_done || server == NULL ? ST_OK : metric_creds_set(cc->client, t,
				    home_of(cc, t), b, server, err, errsz);
				prom_done = true;
			} else {
				st = metric_creds_template(cc->client, t, home_of(cc, t), b, err, errsz);
			}
			if (st != ST_OK)
				return st;
		}
	}
	return ST_OK;
}
