/*
 * match.c — the request matches of the routers (reference §4.3-§4.5):
 * spec.service.match and, for A/B testing, spec.analysis.match, both in
 * Istio's HTTPMatchRequest form as written in the Canary.  The A/B match of
 * the first route is the product analysis.match × service.match: each
 * service match with the analysis match's fields laid over it (its headers
 * and queryParams added to the service match's, other fields replacing
 * them).  Gateway API gets them converted to HTTPRouteMatch.  Pure
 * functions over jansson values.
 */
#include <stdio.h>
#include <string.h>

#include "k8s/routers/router.h"
#include "util/status.h"

bool
rt_ab(const struct routing *g)
{
	return g && json_array_size(g->match) > 0;
}

static json_t *
merge_one(json_t *svc, json_t *ab)
{
	json_t *m = json_deep_copy(svc), *v, *cur;
	const char *key;

	json_object_foreach(ab, key, v) {
		cur = json_object_get(m, key);
		if ((strcmp(key, "headers") == 0 || strcmp(key, "queryParams") == 0) &&
		    json_is_object(cur) && json_is_object(v))
			json_object_update(cur, v);
		else
			json_object_set(m, key, v);
	}
	return m;
}

json_t *
rt_matches(const struct routing *g, bool ab, json_t *dflt)
{
	json_t *svc = g && json_array_size(g->service_match) ? g->service_match : dflt, *out, *a,
	    *s;
	size_t i, j;

	if (!ab || !rt_ab(g))
		return svc ? json_deep_copy(svc) : NULL;
	if (!svc)
		return json_deep_copy(g->match);
	out = json_array();
	json_array_foreach(g->match, i, a) {
		json_array_foreach(svc, j, s) {
			json_array_append_new(out, merge_one(s, a));
		}
	}
	return out;
}

/* An Istio StringMatch as a Gateway API match type and value. */
static int
string_match(json_t *sm, bool path, const char **type, const char **value)
{
	static const struct { const char *istio, *gw, *gw_path; } kinds[] = {
		{ "exact", "Exact", "Exact" },
		{ "prefix", NULL, "PathPrefix" },
		{ "regex", "RegularExpression", "RegularExpression" },
	};
	size_t i;

	for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		const char *t = path ? kinds[i].gw_path : kinds[i].gw;
		json_t *v = json_object_get(sm, kinds[i].istio);

		if (!v)
			continue;
		if (!t || !json_is_string(v) || json_object_size(sm) != 1)
			return ST_UNSUPPORTED;
		*type = t;
		*value = json_string_value(v);
		return ST_OK;
	}
	return ST_UNSUPPORTED;
}

static int
gw_list(json_t *from, json_t **out)
{
	const char *name, *type, *value;
	json_t *sm;

	*out = json_array();
	json_object_foreach(from, name, sm) {
		if (string_match(sm, false, &type, &value) != ST_OK)
			return ST_UNSUPPORTED;
		json_array_append_new(*out, json_pack("{s:s, s:s, s:s}", "type", type, "name", name,
		    "value", value));
	}
	return ST_OK;
}

static int
gw_match(json_t *m, json_t **out, char *err)
{
	const char *key, *type, *value;
	json_t *v, *list = NULL;
	int st = ST_OK;

	*out = json_object();
	json_object_foreach(m, key, v) {
		if (strcmp(key, "uri") == 0 && string_match(v, true, &type, &value) == ST_OK)
			json_object_set_new(*out, "path", json_pack("{s:s, s:s}", "type", type, "value",
			    value));
		else if (strcmp(key, "method") == 0 && string_match(v, false, &type, &value) == ST_OK &&
		    strcmp(type, "Exact") == 0)
			json_object_set_new(*out, "method", json_string(value));
		else if ((strcmp(key, "headers") == 0 || strcmp(key, "queryParams") == 0) &&
		    (st = gw_list(v, &list)) == ST_OK)
			json_object_set_new(*out, key, list);
		else {
			if (st == ST_UNSUPPORTED)
				json_decref(list);
			json_decref(*out);
			*out = NULL;
			return errf(err, ST_UNSUPPORTED, "Gateway API doesn't support the specified %s "
			    "selector", key);
		}
	}
	return ST_OK;
}

int
rt_gateway_matches(json_t *istio, json_t **out, char *err)
{
	json_t *m, *g;
	size_t i;
	int st;

	*out = json_array();
	json_array_foreach(istio, i, m) {
		if ((st = gw_match(m, &g, err)) != ST_OK) {
			json_decref(*out);
			*out = NULL;
			return st;
		}
		json_array_append_new(*out, g);
	}
	return ST_OK;
}
