/*
 * skipper.c — the Skipper canary Ingress (reference: routers §2.6):
 * `<ingress>-canary`, a copy of spec.ingressRef whose paths to `<svc>` go
 * to `<svc>-primary`, each followed by the same path to `<svc>-canary`.
 * The weights live in two annotations: zalando.org/backend-weights (JSON,
 * keys sorted) and zalando.org/skipper-predicate, led by Weight(100) so
 * that the copy outranks the user's Ingress, or by False() while the canary
 * has no traffic (the copy is then off and the user's Ingress serves).
 * Weights only: Flagger ignores analysis.match here (perch refuses it).
 * A reconcile brings the spec back and leaves the annotations, so the live
 * weights are kept.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "k8s/routers/router.h"
#include "util/status.h"

#define SKIPPER_WEIGHTS   "zalando.org/backend-weights"
#define SKIPPER_PREDICATE "zalando.org/skipper-predicate"
#define SKIPPER_PRED_MAX  4096	/* a longer predicate loses its last terms */

static void
skipper_object_name(const struct route_ctx *x, char *out, size_t n)
{
	snprintf(out, n, "%s-canary", x->g && x->g->ingress && *x->g->ingress ? x->g->ingress :
	    x->cfg->service);
}

/* A term of a predicate, trimmed, into out: whether to keep it (not
 * Weight(100) or False(), which perch puts first itself). */
static bool
keep_term(const char *t, size_t len, char *out, size_t n)
{
	while (len > 0 && (*t == ' ' || *t == '\t'))
		t++, len--;
	while (len > 0 && (t[len - 1] == ' ' || t[len - 1] == '\t'))
		len--;
	snprintf(out, n, "%.*s", (int)(len < n ? len : n - 1), t);
	return *out != '\0' && strcmp(out, "Weight(100)") != 0 && strcmp(out, "False()") != 0;
}

/* The predicate with `lead` first and the user's own terms after it
 * (Weight(100) and False() dropped), joined with " && ". */
static json_t *
predicate(const char *old, const char *lead)
{
	char out[SKIPPER_PRED_MAX], term[SKIPPER_PRED_MAX];
	const char *p = old != NULL ? old : "", *end;
	size_t len;

	snprintf(out, sizeof out, "%s", lead);
	for (;;) {
		end = strstr(p, "&&");
		len = end != NULL ? (size_t)(end - p) : strlen(p);
		if (keep_term(p, len, term, sizeof term) &&
		    strlen(out) + 4 + strlen(term) < sizeof out) {
			len = strlen(out);
			memcpy(out + len, " && ", 4);
			memcpy(out + len + 4, term, strlen(term) + 1);
		}
		if (end == NULL)
			break;
		p = end + 2;
	}
	return json_string(out);
}

/* The two annotations for the weights w into ann. */
static void
set_weights(const struct route_ctx *x, json_t *ann, int primary, int canary)
{
	json_t *w = json_object();
	char *s;

	json_object_set_new(w, x->canary, json_integer(canary));
	json_object_set_new(w, x->primary, json_integer(primary));
	s = json_dumps(w, JSON_SORT_KEYS | JSON_COMPACT);
	json_object_set_new(ann, SKIPPER_WEIGHTS, json_string(s != NULL ? s : "{}"));
	free(s);
	json_decref(w);
	json_object_set_new(ann, SKIPPER_PREDICATE, predicate(json_string_value(
	    json_object_get(ann, SKIPPER_PREDICATE)), canary > 0 ? "Weight(100)" : "False()"));
}

/* The user's annotations without kubectl's copy of the applied object. */
static json_t *
canary_annotations(const struct route_ctx *x, json_t *ing)
{
	json_t *ann = json_object(), *v;
	const char *key;

	json_object_foreach(jpath(ing, "metadata.annotations"), key, v) {
		if (strcmp(key, "kubectl.kubernetes.io/last-applied-configuration"))
			json_object_set(ann, key, v);
	}
	set_weights(x, ann, 100, 0);
	json_object_set_new(ann, SKIPPER_PREDICATE, predicate(json_string_value(
	    json_object_get(ann, SKIPPER_PREDICATE)), "Weight(100)"));
	return ann;
}

/* Every path to the apex service goes to the primary, followed by a copy
 * going to the canary. */
static bool
split_paths(const struct route_ctx *x, json_t *spec)
{
	json_t *rule, *paths, *path, *copy;
	bool found = false;
	size_t i, j;

	json_array_foreach(json_object_get(spec, "rules"), i, rule) {
		paths = jpath(rule, "http.paths");
		for (j = 0; j < json_array_size(paths); j++) {
			path = json_array_get(paths, j);
			if (!jnamed(path, "backend.service.name", x->cfg->service))
				continue;
			json_object_set_new(jpath(path, "backend.service"), "name",
			    json_string(x->primary));
			copy = json_deep_copy(path);
			json_object_set_new(jpath(copy, "backend.service"), "name",
			    json_string(x->canary));
			json_array_insert_new(paths, ++j, copy);
			found = true;
		}
	}
	return found;
}

/* The live canary Ingress brought back to `want`: its spec, and its weight
 * annotations when they are gone (the live weights are kept). */
static int
ensure_fn(json_t *obj, void *arg)
{
	json_t *want = arg, *meta = json_object_get(obj, "metadata"), *ann, *mine;
	int st = ST_AGAIN;

	if (!json_is_object(meta))
		return ST_CORRUPT;
	if (!json_subset(json_object_get(want, "spec"), json_object_get(obj, "spec"))) {
		json_object_set(obj, "spec", json_object_get(want, "spec"));
		st = ST_OK;
	}
	if (!json_is_object(ann = json_object_get(meta, "annotations")))
		json_object_set_new(meta, "annotations", ann = json_object());
	mine = jpath(want, "metadata.annotations");
	if (!json_is_string(json_object_get(ann, SKIPPER_WEIGHTS))) {
		json_object_set(ann, SKIPPER_WEIGHTS, json_object_get(mine, SKIPPER_WEIGHTS));
		json_object_set(ann, SKIPPER_PREDICATE, json_object_get(mine, SKIPPER_PREDICATE));
		st = ST_OK;
	}
	return st;
}

static int
ensure(struct route_ctx *x, json_t *want, char *err)
{
	const char *name = jstr(want, "metadata.name");
	struct k8s_err e;
	int st = k8s_modify(x->c, K8S_RES(INGRESSES), x->cfg->ns, name, ensure_fn, want, NULL, &e);

	if (st == ST_OK || st == ST_AGAIN)
		return ST_OK;
	if (st == ST_NOTFOUND &&
	    (st = k8s_create(x->c, K8S_RES(INGRESSES), x->cfg->ns, want, NULL, &e)) == ST_OK)
		return ST_OK;
	return errf(err, st, "ingresses %s.%s: %s", name, x->cfg->ns, e.msg);
}

/* The Ingress the copy is made of: ingressRef, else the service's name. */
static const char *
ingress_name(const struct route_ctx *x)
{
	return x->g && x->g->ingress && *x->g->ingress ? x->g->ingress : x->cfg->service;
}

static int
skipper_reconcile(struct route_ctx *x, char *err)
{
	const char *src = ingress_name(x);
	json_t *ing, *canary, *spec;
	char name[300];
	struct k8s_err e;
	int st;

	if ((st = k8s_get(x->c, K8S_RES(INGRESSES), x->cfg->ns, src, &ing, &e)) != ST_OK)
		return errf(err, st, "ingress %s.%s: %s", src, x->cfg->ns, e.msg);
	skipper_object_name(x, name, sizeof name);
	spec = json_deep_copy(json_object_get(ing, "spec"));
	st = split_paths(x, spec);
	canary = json_pack("{s:s, s:s, s:{s:s, s:s, s:o}, s:o}", "apiVersion",
	    "networking.k8s.io/v1", "kind", "Ingress", "metadata", "name", name, "namespace",
	    x->cfg->ns, "annotations", canary_annotations(x, ing), "spec", spec);
	own(canary, x->owner);
	st = st ? ensure(x, canary, err) :
	    errf(err, ST_INVALID, "backend %s not found in ingress %s", x->cfg->service, src);
	json_decref(canary);
	json_decref(ing);
	return st;
}

/* SetRoutes: both annotations rewritten. */
static int
skipper_write(struct route_ctx *x, json_t *obj)
{
	json_t *meta = json_object_get(obj, "metadata"), *ann, *old;
	bool same;

	if (!json_is_object(meta))
		return ST_CORRUPT;
	if (!json_is_object(ann = json_object_get(meta, "annotations")))
		json_object_set_new(meta, "annotations", ann = json_object());
	old = json_deep_copy(ann);
	set_weights(x, ann, x->w->primary, x->w->canary);
	same = json_equal(old, ann);
	json_decref(old);
	return same ? ST_AGAIN : ST_OK;
}

static int
weight_of(json_t *weights, const char *svc, int *out, char *err)
{
	json_t *v = json_object_get(weights, svc);

	if (!json_is_integer(v))
		return errf(err, ST_CORRUPT, "annotation %s: could not get weights[%s]",
		    SKIPPER_WEIGHTS, svc);
	*out = (int)json_integer_value(v);
	return ST_OK;
}

/* GetRoutes: the JSON annotation's values as they are. */
static int
skipper_read(const struct route_ctx *x, json_t *obj, struct routes *out, char *err)
{
	const char *s = json_string_value(json_object_get(jpath(obj, "metadata.annotations"),
	    SKIPPER_WEIGHTS));
	json_t *w;
	int st;

	if (s == NULL)
		return errf(err, ST_CORRUPT, "annotation %s not found", SKIPPER_WEIGHTS);
	if (!(w = json_loads(s, 0, NULL)))
		return errf(err, ST_CORRUPT, "annotation %s is not JSON", SKIPPER_WEIGHTS);
	st = weight_of(w, x->primary, &out->primary, err);
	if (st == ST_OK)
		st = weight_of(w, x->canary, &out->canary, err);
	json_decref(w);
	return st;
}

const struct router_ops skipper_router = {
	.name = "Skipper canary Ingress",
	.caps = 0,
	.kind = "Ingress",
	.res = K8S_RES(INGRESSES),
	.object_name = skipper_object_name,
	.reconcile = skipper_reconcile,
	.write = skipper_write,
	.read = skipper_read,
	/* Flagger's Finalize deletes the canary Ingress; so does perch. */
	.revert = route_revert_delete,
};
