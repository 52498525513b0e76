/*
 * cluster_refs.c — what the cluster backend keeps per canary: the routing
 * the routers need beyond struct canary_cfg (k8s_cluster_set_routing), and
 * the Canary object's ownerReferences for the objects perch creates
 * (reference §4: garbage-collected with the Canary).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "k8s/cluster.h"
#include "k8s/cluster_int.h"
#include "util/status.h"
#include "util/xalloc.h"

static json_t *
str_array(const char *const *v, size_t n)
{
	json_t *a;
	size_t i;

	if (n == 0)
		return NULL;
	a = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

void
k8s_cluster_set_routing(struct k8s_cluster *k, const char *ns, const char *name,
    const struct k8s_routing *r)
{
	struct routing *g;

	k->routing = xreallocarray(k->routing, k->n_routing + 1, sizeof *k->routing);
	g = &k->routing[k->n_routing++];
	memset(g, 0, sizeof *g);
	snprintf(g->key, sizeof g->key, "%s/%s", ns, name);
	g->parent_refs = r->parent_refs ? json_deep_copy(r->parent_refs) : NULL;
	g->hosts = str_array(r->hosts, r->n_hosts);
	g->gateways = str_array(r->gateways, r->n_gateways);
	g->ingress = r->ingress ? xstrdup(r->ingress) : NULL;
	g->match = json_is_array(r->match) ? json_deep_copy(r->match) : NULL;
	g->service_match = json_is_array(r->service_match) ? json_deep_copy(r->service_match) :
	    NULL;
	g->route = r->route ? xstrdup(r->route) : NULL;
	g->upstream = r->upstream ? xstrdup(r->upstream) : NULL;
	g->upstream_ns = r->upstream_ns ? xstrdup(r->upstream_ns) : NULL;
	g->annotations = json_is_object(r->annotations) ? json_deep_copy(r->annotations) : NULL;
	g->apex = json_is_object(r->apex) ? json_deep_copy(r->apex) : NULL;
	g->port_name = r->port_name ? xstrdup(r->port_name) : NULL;
	g->mesh_name = r->mesh_name ? xstrdup(r->mesh_name) : NULL;
	g->backends = json_is_array(r->backends) ? json_deep_copy(r->backends) : NULL;
	g->timeout = r->timeout && *r->timeout ? xstrdup(r->timeout) : NULL;
	g->timeout_ms = r->timeout_ms;
	g->retries = json_is_object(r->retries) ? json_deep_copy(r->retries) : NULL;
	g->per_try_ms = r->per_try_ms;
	if (r->target_port && *r->target_port)
		g->target_port = strspn(r->target_port, "0123456789") == strlen(r->target_port) ?
		    json_integer(atoi(r->target_port)) : json_string(r->target_port);
}

const struct routing *
routing_of(const struct k8s_cluster *k, const struct canary_cfg *cfg)
{
	char key[200];
	size_t i;

	snprintf(key, sizeof key, "%s/%s", cfg->ns, cfg->name);
	for (i = k->n_routing; i-- > 0;)
		if (strcmp(k->routing[i].key, key) == 0)
			return &k->routing[i];
	return NULL;
}

/* The owner entry of a canary, once find_owner looked it up; else NULL. */
static struct owner *
owner_entry(const struct k8s_cluster *k, const struct canary_cfg *cfg)
{
	char key[200];
	size_t i;

	snprintf(key, sizeof key, "%s/%s", cfg->ns, cfg->name);
	for (i = 0; i < k->n_owners; i++)
		if (strcmp(k->owners[i].key, key) == 0)
			return &k->owners[i];
	return NULL;
}

bool
owner_known(const struct k8s_cluster *k, const struct canary_cfg *cfg)
{
	return owner_entry(k, cfg) != NULL;
}

json_t *
owner_of(const struct k8s_cluster *k, const struct canary_cfg *cfg)
{
	const struct owner *o = owner_entry(k, cfg);

	return o != NULL ? o->refs : NULL;
}

/* Reference §4: generated objects are owned by the Canary object when it
 * exists in the cluster (garbage-collected with it).  Looked up on
 * initialization; a Canary that is gone (or never was) owns nothing. */
void
find_owner(struct k8s_cluster *k, const struct canary_cfg *cfg)
{
	struct owner *o = owner_entry(k, cfg);
	struct k8s_err e;
	json_t *obj;

	if (!o) {
		k->owners = xreallocarray(k->owners, k->n_owners + 1, sizeof *k->owners);
		o = &k->owners[k->n_owners++];
		memset(o, 0, sizeof *o);
		snprintf(o->key, sizeof o->key, "%s/%s", cfg->ns, cfg->name);
	}
	json_decref(o->refs);
	o->refs = NULL;
	if (k8s_get(k->c, K8S_RES(CANARIES), cfg->ns, cfg->name, &obj, &e) != ST_OK)
		return;
	if (jstr(obj, "metadata.uid") && *jstr(obj, "metadata.uid"))
		o->refs = json_pack("[{s:s, s:s, s:s, s:s, s:b, s:b}]", "apiVersion",
		    "flagger.app/v1beta1", "kind", "Canary", "name", cfg->name, "uid",
		    jstr(obj, "metadata.uid"), "controller", 1, "blockOwnerDeletion", 1);
	json_decref(obj);
}

void
cluster_refs_free(struct k8s_cluster *k)
{
	size_t i;

	for (i = 0; i < k->n_owners; i++)
		json_decref(k->owners[i].refs);
	free(k->owners);
	for (i = 0; i < k->n_routing; i++) {
		json_decref(k->routing[i].parent_refs);
		json_decref(k->routing[i].hosts);
		json_decref(k->routing[i].gateways);
		free(k->routing[i].ingress);
		free(k->routing[i].route);
		free(k->routing[i].upstream);
		free(k->routing[i].upstream_ns);
		json_decref(k->routing[i].annotations);
		json_decref(k->routing[i].apex);
		json_decref(k->routing[i].target_port);
		json_decref(k->routing[i].match);
		json_decref(k->routing[i].service_match);
		free(k->routing[i].port_name);
		free(k->routing[i].mesh_name);
		json_decref(k->routing[i].backends);
		free(k->routing[i].timeout);
		json_decref(k->routing[i].retries);
	}
	free(k->routing);
}
