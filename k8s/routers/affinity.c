/*
 * affinity.c — session affinity on the Gateway API and Istio routers
 * (reference §4.3, §4.4; spec.analysis.sessionAffinity).
 *
 * The engine keeps the cookies in the canary status and passes them with
 * the routes (struct routes: cookie, primary_cookie, previous_cookie, each
 * "name=value").  Here they become route rules, around the weighted rule
 * that perch builds first:
 *
 *   during a run (canary weight > 0, a canary cookie):
 *     - a sticky rule before the weighted one: the weighted rule's matches,
 *       each also matching header Cookie against the regular expression
 *       `.*<name>.*<value>.*`, sending everything to the canary (primary 0,
 *       canary 100);
 *     - with a primary cookie, a second sticky rule sending its holders to
 *       the primary (primary 100, canary 0);
 *     - on the weighted rule, the canary backend answers with
 *       `Set-Cookie: <name>=<value>; Max-Age=<maxAge>[; Domain=..]
 *       [; HttpOnly][; Partitioned][; Path=..][; SameSite=..][; Secure]`
 *       (the primary backend likewise with the primary cookie): Gateway API
 *       as a backendRef ResponseHeaderModifier filter, Istio as the route
 *       destination's headers.response.add;
 *   after a run (canary weight 0, a previous cookie):
 *     - a sticky rule matching the previous cookie, routed like the
 *       weighted rule (to the primary), that expires it with
 *       `Set-Cookie: <name>=<value>; Max-Age=-1` (a rule-level filter, or
 *       the Istio route's headers).
 *
 * Reading back (GetRoutes, and the reconcile of every tick, which rebuilds
 * the rules from what it reads so that edits are reverted and the cookies
 * kept): the weighted rule is the one whose backends carry filters (Istio:
 * headers), else the last rule holding both backends; the cookies are read
 * from the Set-Cookie values.  Pure functions over jansson values.
 */
#include <stdio.h>
#include <string.h>

#include "k8s/routers/router.h"
#include "util/xalloc.h"

struct rt_affinity_flavor {
	const char *matches;	/* the match list of a rule */
	const char *backends;	/* its backend list */
	const char *name;	/* a backend's service name (dot path) */
	const char *extra;	/* where a backend's response headers go */
};

const struct rt_affinity_flavor rt_affinity_gateway = { "matches", "backendRefs", "name",
	"filters" };
const struct rt_affinity_flavor rt_affinity_istio = { "match", "route", "destination.host",
	"headers" };

#define SET_COOKIE "Set-Cookie"

static bool
is_backend(json_t *b, const struct rt_affinity_flavor *f, const char *name)
{
	const char *s = jstr(b, f->name);

	return s != NULL && strcmp(s, name) == 0;
}

static json_t *
backend_of(json_t *entry, const struct rt_affinity_flavor *f, const char *name)
{
	json_t *b;
	size_t i;

	json_array_foreach(json_object_get(entry, f->backends), i, b)
		if (is_backend(b, f, name))
			return b;
	return NULL;
}

/* The Set-Cookie value of a cookie "name=value". */
static char *
set_cookie(const struct affinity_cfg *a, const char *cookie, bool expire)
{
	if (expire)
		return xasprintf("%s; Max-Age=-1", cookie);
	return xasprintf("%s; Max-Age=%d%s%s%s%s%s%s%s%s%s", cookie, a->max_age,
	    a->domain ? "; Domain=" : "", a->domain ? a->domain : "",
	    a->http_only ? "; HttpOnly" : "", a->partitioned ? "; Partitioned" : "",
	    a->path ? "; Path=" : "", a->path ? a->path : "",
	    a->same_site ? "; SameSite=" : "", a->same_site ? a->same_site : "",
	    a->secure ? "; Secure" : "");
}

/* `.*<name>.*<value>.*`, the name's regular expression characters escaped
 * (cookie names may hold . + * ^ $ |). */
static json_t *
cookie_regex(const char *cookie)
{
	const char *eq = strchr(cookie, '='), *p;
	char re[AFFINITY_COOKIE_MAX * 2 + 16];
	size_t n = 0;

	re[n++] = '.';
	re[n++] = '*';
	for (p = cookie; *p && n < sizeof re - 8; p++) {
		if (p == eq) {
			memcpy(re + n, ".*", 2);
			n += 2;
			continue;
		}
		if (strchr(".+*?^$|()[]{}\\", *p) != NULL)
			re[n++] = '\\';
		re[n++] = *p;
	}
	memcpy(re + n, ".*", 3);
	return json_string(re);
}

/* A copy of the weighted rule, without its filters and backend headers,
 * whose matches all also match the cookie. */
static json_t *
sticky_copy(json_t *weighted, const struct rt_affinity_flavor *f, const char *cookie)
{
	json_t *rule = json_deep_copy(weighted), *ms = json_object_get(rule, f->matches), *m, *h;
	size_t i;

	json_object_del(rule, "filters");
	json_array_foreach(json_object_get(rule, f->backends), i, m) {
		json_object_del(m, f->extra);
	}
	if (f == &rt_affinity_istio) {
		if (!json_is_array(ms) || json_array_size(ms) == 0) {
			ms = json_pack("[{}]");
			json_object_set_new(rule, f->matches, ms);
		}
		json_array_foreach(ms, i, m) {
			if (!json_is_object(h = json_object_get(m, "headers")))
				json_object_set_new(m, "headers", h = json_object());
			json_object_set_new(h, "Cookie", json_pack("{s:o}", "regex",
			    cookie_regex(cookie)));
		}
		return rule;
	}
	json_array_foreach(ms, i, m) {
		if (!json_is_array(h = json_object_get(m, "headers")))
			json_object_set_new(m, "headers", h = json_array());
		json_array_append_new(h, json_pack("{s:s, s:s, s:o}", "type", "RegularExpression",
		    "name", "Cookie", "value", cookie_regex(cookie)));
	}
	return rule;
}

/* Response header Set-Cookie on a backend (Gateway API filter, Istio
 * destination headers) or on a whole rule (the expiring cookie). */
static void
add_set_cookie(json_t *where, const struct rt_affinity_flavor *f, char *value)
{
	json_t *list;

	if (f == &rt_affinity_istio) {
		json_object_set_new(where, "headers", json_pack("{s:{s:{s:s}}}", "response", "add",
		    SET_COOKIE, value));
	} else {
		if (!json_is_array(list = json_object_get(where, "filters")))
			json_object_set_new(where, "filters", list = json_array());
		json_array_append_new(list, json_pack("{s:s, s:{s:[{s:s, s:s}]}}", "type",
		    "ResponseHeaderModifier", "responseHeaderModifier", "add", "name", SET_COOKIE,
		    "value", value));
	}
	free(value);
}

static void
set_weights(json_t *rule, const struct rt_affinity_flavor *f, const char *primary, const char *canary,
    int pw, int cw)
{
	json_t *b;
	size_t i;

	json_array_foreach(json_object_get(rule, f->backends), i, b) {
		if (is_backend(b, f, primary))
			json_object_set_new(b, "weight", json_integer(pw));
		else if (is_backend(b, f, canary))
			json_object_set_new(b, "weight", json_integer(cw));
	}
}

void
rt_affinity_apply(json_t *list, json_t *weighted, const struct rt_affinity_flavor *f,
    const struct affinity_cfg *a, const struct routes *w, const char *primary,
    const char *canary)
{
	json_t *sticky, *b;
	size_t at = 0;

	if (a == NULL || !json_is_array(list) || weighted == NULL)
		return;
	if (w->canary > 0 && w->cookie[0] != '\0') {
		sticky = sticky_copy(weighted, f, w->cookie);
		set_weights(sticky, f, primary, canary, 0, 100);
		json_array_insert_new(list, at++, sticky);
		if ((b = backend_of(weighted, f, canary)) != NULL)
			add_set_cookie(b, f, set_cookie(a, w->cookie, false));
		if (w->primary_cookie[0] != '\0') {
			sticky = sticky_copy(weighted, f, w->primary_cookie);
			set_weights(sticky, f, primary, canary, 100, 0);
			json_array_insert_new(list, at++, sticky);
			if ((b = backend_of(weighted, f, primary)) != NULL)
				add_set_cookie(b, f, set_cookie(a, w->primary_cookie, false));
		}
	} else if (w->canary == 0 && w->previous_cookie[0] != '\0') {
		sticky = sticky_copy(weighted, f, w->previous_cookie);
		add_set_cookie(sticky, f, set_cookie(a, w->previous_cookie, true));
		json_array_insert_new(list, at, sticky);
	}
}

/* Whether a backend of the entry carries response headers of ours. */
static bool
has_backend_extra(json_t *entry, const struct rt_affinity_flavor *f)
{
	json_t *b;
	size_t i;

	json_array_foreach(json_object_get(entry, f->backends), i, b)
		if (json_object_get(b, f->extra) != NULL)
			return true;
	return false;
}

json_t *
rt_affinity_weighted(json_t *list, const struct rt_affinity_flavor *f, const char *primary,
    const char *canary)
{
	json_t *entry, *last = NULL;
	size_t i;

	json_array_foreach(list, i, entry) {
		if (backend_of(entry, f, primary) == NULL || backend_of(entry, f, canary) == NULL)
			continue;
		if (has_backend_extra(entry, f))
			return entry;
		last = entry;
	}
	return last;
}

/* The Set-Cookie value in a Gateway API filter list or Istio headers. */
static const char *
set_cookie_of(json_t *where, const struct rt_affinity_flavor *f)
{
	json_t *flt, *h;
	size_t i, j;

	if (f == &rt_affinity_istio)
		return json_string_value(json_object_get(jpath(where, "headers.response.add"),
		    SET_COOKIE));
	json_array_foreach(json_object_get(where, "filters"), i, flt) {
		json_array_foreach(jpath(flt, "responseHeaderModifier.add"), j, h) {
			if (jstr(h, "name") && strcmp(jstr(h, "name"), SET_COOKIE) == 0 &&
			    jstr(h, "value"))
				return jstr(h, "value");
		}
	}
	return NULL;
}

/* "name=value" of a Set-Cookie value (up to the first ';'). */
static void
cookie_of(const char *set_cookie, char out[AFFINITY_COOKIE_MAX])
{
	size_t n = set_cookie ? strcspn(set_cookie, ";") : 0;

	if (n >= AFFINITY_COOKIE_MAX)
		n = 0;
	memcpy(out, set_cookie ? set_cookie : "", n);
	out[n] = '\0';
}

void
rt_affinity_read(json_t *list, json_t *weighted, const struct rt_affinity_flavor *f,
    const char *primary, const char *canary, struct routes *out)
{
	const char *v;
	json_t *entry;
	size_t i;

	cookie_of(set_cookie_of(backend_of(weighted, f, canary), f), out->cookie);
	cookie_of(set_cookie_of(backend_of(weighted, f, primary), f), out->primary_cookie);
	out->previous_cookie[0] = '\0';
	json_array_foreach(list, i, entry) {
		v = entry != weighted ? set_cookie_of(entry, f) : NULL;
		if (v != NULL && strstr(v, "; Max-Age=-1") != NULL) {
			cookie_of(v, out->previous_cookie);
			break;
		}
	}
}
