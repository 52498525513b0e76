/*
 * route.c — what the routers share about a route object (router.h): its
 * creation at 100/0 and its reconcile (every tick the live object's spec is
 * brought back to perch's, its weights kept), and the weighted route list
 * of the list routers (SMI backends, Gateway API rules, Istio http routes):
 * the route holding both backends, its weights, rebuilt whole on a write as
 * Flagger does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "k8s/routers/router.h"
#include "util/status.h"

void
route_ctx_init(struct route_ctx *x, const struct router_ops *ops, struct k8s_client *c,
    const struct canary_cfg *cfg, const struct routing *g, json_t *owner,
    const struct routes *w, char *err)
{
	*x = (struct route_ctx){ .c = c, .ops = ops, .cfg = cfg, .g = g, .owner = owner, .w = w,
		.err = err };
	snprintf(x->primary, sizeof x->primary, "%s-primary", cfg->service);
	snprintf(x->canary, sizeof x->canary, "%s-canary", cfg->service);
}

void
route_object_name(const struct route_ctx *x, char *out, size_t n)
{
	if (x->ops->object_name != NULL)
		x->ops->object_name(x, out, n);
	else
		snprintf(out, n, "%s", x->cfg->service);
}

json_t *
route_object(const struct route_ctx *x, const struct k8s_res *res, const char *kind,
    const char *name, json_t *spec)
{
	json_t *o = json_pack("{s:s++, s:s, s:{s:s, s:s}, s:o}", "apiVersion", res->group, "/",
	    res->version, "kind", kind, "metadata", "name", name, "namespace", x->cfg->ns, "spec",
	    spec);

	own(o, x->owner);
	return o;
}

void
route_apex_meta(const struct route_ctx *x, json_t *obj)
{
	json_t *meta = json_object_get(obj, "metadata"), *apex = x->g ? x->g->apex : NULL;
	json_t *labels = json_object_get(apex, "labels"), *ann = json_object_get(apex, "annotations");
	json_t *a = json_is_object(ann) ? json_deep_copy(ann) : json_object();

	if (json_is_object(labels) && json_object_size(labels) > 0)
		json_object_set_new(meta, "labels", json_deep_copy(labels));
	json_object_set_new(a, "kustomize.toolkit.fluxcd.io/reconcile", json_string("disabled"));
	json_object_set_new(a, "helm.toolkit.fluxcd.io/driftDetection", json_string("disabled"));
	json_object_set_new(meta, "annotations", a);
}

/* ---- reconcile ------------------------------------------------------------ */

struct ensure_arg {
	struct route_ctx *x;
	json_t *want;		/* the desired object */
	bool keep;
};

static int
reconcile_fn(json_t *obj, void *arg)
{
	struct ensure_arg *a = arg;
	json_t *spec = json_deep_copy(json_object_get(a->want, "spec"));
	int st = ST_AGAIN;

	if (a->keep && a->x->ops->keep != NULL)
		a->x->ops->keep(a->x, obj, spec);
	if (!json_subset(spec, json_object_get(obj, "spec"))) {
		json_object_set(obj, "spec", spec);
		st = ST_OK;
	}
	json_decref(spec);
	return st;
}

int
route_ensure(struct route_ctx *x, const struct k8s_res *res, json_t *obj, bool keep, char *err)
{
	struct ensure_arg a = { .x = x, .want = obj, .keep = keep };
	struct k8s_err e;
	const char *name = jstr(obj, "metadata.name");
	int st = k8s_modify(x->c, res, x->cfg->ns, name, reconcile_fn, &a, NULL, &e);

	if (st == ST_OK || st == ST_AGAIN)
		return ST_OK;
	if (st == ST_NOTFOUND && (st = k8s_create(x->c, res, x->cfg->ns, obj, NULL, &e)) == ST_OK)
		return ST_OK;
	return errf(err, st, "%s %s.%s: %s", res->plural, name, x->cfg->ns, e.msg);
}

int
route_reconcile(struct route_ctx *x, char *err)
{
	json_t *spec = x->ops->initial_spec(x, err), *o;
	int st;

	if (spec == NULL)
		return ST_INVALID;
	o = route_object(x, x->ops->res, x->ops->kind, x->cfg->service, spec);
	st = route_ensure(x, x->ops->res, o, true, err);
	json_decref(o);
	return st;
}

/* ---- reverts on deletion ---------------------------------------------------- */

int
route_write_fn(json_t *obj, void *arg)
{
	struct route_write_arg *a = arg;

	return a->st = a->x->ops->write(a->x, obj);
}

int
route_revert(struct route_ctx *x, char *err)
{
	struct route_write_arg a = { .x = x, .st = ST_OK };
	struct k8s_err e;
	char name[300];
	int st;

	if (x->ops->kind == NULL)
		return x->ops->set(x, err);
	route_object_name(x, name, sizeof name);
	st = k8s_modify(x->c, x->ops->res, x->cfg->ns, name, route_write_fn, &a, NULL, &e);
	if (st == ST_OK || st == ST_AGAIN || st == ST_NOTFOUND)
		return ST_OK;
	if (st == a.st && st == ST_INVALID)
		return st;	/* err says why */
	return errf(err, st, "giving %s %s.%s back to %s: %s", x->ops->res->plural, name,
	    x->cfg->ns, x->canary, a.st == st ? "no route holds both backends" : e.msg);
}

int
route_revert_delete(struct route_ctx *x, char *err)
{
	struct k8s_err e;
	char name[300];
	int st;

	route_object_name(x, name, sizeof name);
	st = k8s_delete(x->c, x->ops->res, x->cfg->ns, name, &e);
	return st == ST_OK || st == ST_NOTFOUND ? ST_OK : errf(err, st, "deleting %s %s.%s: %s",
	    x->ops->res->plural, name, x->cfg->ns, e.msg);
}

int
route_revert_none(struct route_ctx *x, char *err)
{
	(void)x;
	(void)err;
	return ST_OK;
}

/* ---- the weighted route list ---------------------------------------------- */

json_t *
route_weight(const struct route_ctx *x, int w)
{
	return x->ops->weight != NULL ? x->ops->weight(w) : json_integer(w);
}

int
route_weight_of(json_t *v)
{
	if (json_is_integer(v))
		return (int)json_integer_value(v);
	if (json_is_string(v))
		return atoi(json_string_value(v));
	return 0;
}

json_t *
route_find_pair(const struct route_ctx *x, json_t *list)
{
	const struct route_shape *s = &x->ops->shape;
	json_t *item, *b;
	size_t i, j;
	bool p, c;

	json_array_foreach(list, i, item) {
		p = c = false;
		json_array_foreach(json_object_get(item, s->field), j, b) {
			p = p || jnamed(b, s->path, x->primary);
			c = c || jnamed(b, s->path, x->canary);
		}
		if (p && c)
			return item;
	}
	return NULL;
}

json_t *
route_find_weighted(const struct route_ctx *x, json_t *list)
{
	if (x->cfg->affinity != NULL && x->ops->affinity != NULL)
		return rt_affinity_weighted(list, x->ops->affinity, x->primary, x->canary);
	return route_find_pair(x, list);
}

void
route_affinity(const struct route_ctx *x, json_t *spec, json_t *route)
{
	if (x->cfg->affinity != NULL && x->ops->affinity != NULL)
		rt_affinity_apply(json_object_get(spec, x->ops->shape.list), route,
		    x->ops->affinity, x->cfg->affinity, x->w, x->primary, x->canary);
}

void
route_set_pair(const struct route_ctx *x, json_t *route)
{
	const struct route_shape *s = &x->ops->shape;
	json_t *b;
	size_t j;

	json_array_foreach(json_object_get(route, s->field), j, b) {
		if (jnamed(b, s->path, x->primary))
			json_object_set_new(b, "weight", route_weight(x, x->w->primary));
		else if (jnamed(b, s->path, x->canary))
			json_object_set_new(b, "weight", route_weight(x, x->w->canary));
	}
}

void
route_read_pair(const struct route_ctx *x, json_t *route, struct routes *out)
{
	const struct route_shape *s = &x->ops->shape;
	json_t *b;
	size_t j;

	json_array_foreach(json_object_get(route, s->field), j, b) {
		if (jnamed(b, s->path, x->primary))
			out->primary = route_weight_of(json_object_get(b, "weight"));
		else if (jnamed(b, s->path, x->canary))
			out->canary = route_weight_of(json_object_get(b, "weight"));
	}
}

/* SetRoutes: the routes rebuilt as perch wants them, with the new weights
 * (Flagger replaces them whole). */
int
route_write(struct route_ctx *x, json_t *obj,
    void (*mirror)(const struct route_ctx *x, json_t *route))
{
	const struct route_shape *s = &x->ops->shape;
	const char *list = s->list != NULL ? s->list : s->field;
	json_t *spec = json_object_get(obj, "spec"), *route, *fresh;

	if (!json_is_object(spec))
		return ST_CORRUPT;
	if (!(fresh = x->ops->initial_spec(x, x->err)))
		return ST_INVALID;
	json_object_set(spec, list, json_object_get(fresh, list));
	json_decref(fresh);
	if (s->list == NULL) {
		route_set_pair(x, spec);
		return ST_OK;
	}
	if (!(route = route_find_pair(x, json_object_get(spec, s->list))))
		return ST_CORRUPT;
	route_set_pair(x, route);
	if (mirror != NULL)
		mirror(x, route);
	route_affinity(x, spec, route);
	return ST_OK;
}

/* The live weights (and mirror, and session affinity cookies) carried into
 * a desired spec, so that a reconcile reverts everything but them
 * (reference §4.7). */
void
route_keep(struct route_ctx *x, json_t *have, json_t *want,
    void (*keep_mirror)(const struct route_ctx *x, json_t *live, json_t *mine))
{
	const struct route_shape *s = &x->ops->shape;
	const struct routes *saved = x->w;
	struct routes w = { .primary = 100 };
	json_t *live = json_object_get(have, "spec"), *mine = want;

	if (s->list != NULL) {
		live = route_find_weighted(x, json_object_get(live, s->list));
		mine = route_find_pair(x, json_object_get(want, s->list));
	}
	if (!live || !mine)
		return;
	route_read_pair(x, live, &w);
	if (w.primary == 0 && w.canary == 0)
		return;
	if (x->cfg->affinity != NULL && x->ops->affinity != NULL)
		rt_affinity_read(json_object_get(json_object_get(have, "spec"), s->list), live,
		    x->ops->affinity, x->primary, x->canary, &w);
	x->w = &w;
	route_set_pair(x, mine);
	if (keep_mirror != NULL)
		keep_mirror(x, live, mine);
	route_affinity(x, want, mine);
	x->w = saved;
}

int
route_read(const struct route_ctx *x, json_t *obj, struct routes *out,
    bool (*mirrored)(const struct route_ctx *x, json_t *route))
{
	const struct route_shape *s = &x->ops->shape;
	json_t *spec = json_object_get(obj, "spec"), *route = spec;

	if (s->list != NULL)
		route = route_find_weighted(x, json_object_get(spec, s->list));
	if (route == NULL)
		return ST_CORRUPT;
	route_read_pair(x, route, out);
	if (s->list == NULL)
		return ST_OK;
	out->mirrored = mirrored != NULL && mirrored(x, route);
	if (x->cfg->affinity != NULL && x->ops->affinity != NULL)
		rt_affinity_read(json_object_get(spec, s->list), route, x->ops->affinity,
		    x->primary, x->canary, out);
	return ST_OK;
}

/* ---- routers whose spec is built from the weights ------------------------- */

int
route_write_built(struct route_ctx *x, json_t *obj, route_build_fn *build)
{
	json_t *spec;
	bool same;

	if (!json_is_object(json_object_get(obj, "spec")))
		return ST_CORRUPT;
	if (!(spec = build(x, x->w->primary, x->w->canary, x->err)))
		return ST_INVALID;
	same = json_equal(spec, json_object_get(obj, "spec"));
	json_object_set_new(obj, "spec", spec);
	return same ? ST_AGAIN : ST_OK;
}

void
route_keep_built(struct route_ctx *x, json_t *have, json_t *want, route_build_fn *build)
{
	struct routes w = { 0 };
	char err[ERRMSG_MAX];
	json_t *spec;

	if (x->ops->read(x, have, &w, err) != ST_OK || (w.primary == 0 && w.canary == 0))
		return;
	if (!(spec = build(x, w.primary, w.canary, err)))
		return;
	json_object_clear(want);
	json_object_update(want, spec);
	json_decref(spec);
}

json_t *
route_split(const char *s)
{
	json_t *out = json_array();
	const char *end;

	while (s != NULL && *s != '\0') {
		end = strchr(s, ',');
		if (end == NULL)
			end = s + strlen(s);
		if (end > s)
			json_array_append_new(out, json_stringn(s, (size_t)(end - s)));
		s = *end == ',' ? end + 1 : end;
	}
	return out;
}
