/* routers.c — the provider registry (see routers.h). */
#include <stdio.h>
#include <string.h>

#include "engine/routers.h"

enum match { EXACT, PREFIX, ALIAS };

struct row {
	struct router_info info;
	enum match match;
};

#define NONE_ROUTER "none"

static const struct row rows[PROV__COUNT] = {
#define X(id, name, match, caps, obs, router) \
	[PROV_##id] = { { PROV_##id, name, caps, OBS_##obs, #router }, match },
	PROVIDER_LIST(X)
#undef X
};

#define SCHEMA_EXACT(name)  name,
#define SCHEMA_PREFIX(name) name,
#define SCHEMA_ALIAS(name)

const char *const router_schema_names[] = {
#define X(id, name, match, caps, obs, router) SCHEMA_##match(name)
	PROVIDER_LIST(X)
#undef X
	NULL
};

static const char *const observer_names[OBS__COUNT] = {
#define X(id, text) [OBS_##id] = text,
	OBSERVER_LIST(X)
#undef X
};

static bool
has_prefix(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

static bool
driven(const struct row *r)
{
	return strcmp(r->info.router, NONE_ROUTER) != 0;
}

unsigned
router_caps(const struct router_info *r)
{
	return r->caps | (driven(&rows[r->id]) ? RT_DRIVEN : 0);
}

static const char *
or_default(const char *provider)
{
	return provider == NULL || provider[0] == '\0' ? rows[PROV_ISTIO].info.name : provider;
}

const struct router_info *
router_find(const char *provider)
{
	size_t i;

	provider = or_default(provider);
	for (i = 0; i < PROV__COUNT; i++) {
		const char *n = rows[i].info.name;

		if (strcmp(provider, n) == 0 || (rows[i].match == PREFIX && has_prefix(provider, n)))
			return &rows[i].info;
	}
	return NULL;
}

const struct router_info *
router_find_prefix(const char *provider)
{
	const struct row *best = NULL;
	size_t i;

	provider = or_default(provider);
	for (i = 0; i < PROV__COUNT; i++)
		if (has_prefix(provider, rows[i].info.name) &&
		    (best == NULL || strlen(rows[i].info.name) > strlen(best->info.name)))
			best = &rows[i];
	return best != NULL ? &best->info : NULL;
}

const struct router_info *
router_by_id(enum provider id)
{
	return (int)id >= 0 && id < PROV__COUNT ? &rows[id].info : NULL;
}

const char *
provider_name(enum provider id)
{
	return (int)id >= 0 && id < PROV__COUNT ? rows[id].info.name : "?";
}

int
router_can(const char *provider, unsigned caps)
{
	const struct router_info *r = router_find(provider);

	return r != NULL && (router_caps(r) & caps) == caps;
}

void
router_driven_names(char *out, size_t n)
{
	router_names_can(RT_DRIVEN, out, n);
}

void
router_names_can(unsigned caps, char *out, size_t n)
{
	size_t i, len = 0;

	if (n == 0)
		return;
	out[0] = '\0';
	for (i = 0; i < PROV__COUNT; i++) {
		if ((router_caps(&rows[i].info) & caps) != caps)
			continue;
		len += (size_t)snprintf(out + len, len < n ? n - len : 0, "%s%s",
		    len > 0 ? ", " : "", rows[i].info.name);
		if (len >= n)
			return;
	}
}

/* ---- observers (reference §3.1) ------------------------------------------ */

const char *
observer_name(enum observer o)
{
	return (int)o >= 0 && o < OBS__COUNT ? observer_names[o] : "?";
}

enum observer
provider_observer(const char *provider, const char *target_kind)
{
	const struct router_info *r;
	char p[96];
	size_t i;

	snprintf(p, sizeof p, "%s", or_default(provider));
	/* A Service target (not Knative) gets ":service" appended, which only
	 * the prefix matches below survive (§3.1). */
	r = router_find(p);
	if (target_kind != NULL && strcmp(target_kind, "Service") == 0 &&
	    !(r != NULL && strcmp(r->name, p) == 0 && (r->caps & RT_KNATIVE)) &&
	    strlen(p) + 8 < sizeof p)
		strcat(p, ":service");
	for (i = 0; i < PROV__COUNT; i++)
		if ((rows[i].info.caps & RT_OBS_PREFIX) && has_prefix(p, rows[i].info.name))
			return rows[i].info.observer;
	for (i = 0; i < PROV__COUNT; i++)
		if (rows[i].match != PREFIX && strcmp(p, rows[i].info.name) == 0)
			return rows[i].info.observer;
	return OBS_ISTIO;
}
