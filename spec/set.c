/*
 * set.c — the set of loaded documents and what every pass over it reads
 * (spec.h): the set's accessors, the template a metric refers to, where a
 * field was written (spec_field_pos) and Flagger's durations.  load.c
 * fills the set, validate.c and lint.c judge it; all three build on this
 * file and it calls none of them.
 */
#include <stdlib.h>
#include <string.h>

#include "spec/internal.h"
#include "util/status.h"
#include "util/xalloc.h"

/* ---- durations ------------------------------------------------------------- */

/* Go's time.ParseDuration for the units Flagger's users write. */
static int
parse_go_duration(const char *s, long long *ms)
{
	static const struct { const char *unit; double ms; } units[] = {
		{ "ns", 1e-6 }, { "us", 1e-3 }, { "\xc2\xb5s", 1e-3 }, { "ms", 1 },
		{ "s", 1e3 }, { "m", 60e3 }, { "h", 3600e3 },
	};
	double total = 0, v;
	const char *p = s;
	char *end;
	size_t i, len;

	if (*p == '\0')
		return ST_INVALID;
	while (*p != '\0') {
		if (!((*p >= '0' && *p <= '9') || *p == '.'))
			return ST_INVALID;
		v = strtod(p, &end);
		if (end == p)
			return ST_INVALID;
		p = end;
		for (i = 0; i < sizeof units / sizeof units[0]; i++) {
			len = strlen(units[i].unit);
			/* "m" must not swallow the "m" of "ms" */
			if (strncmp(p, units[i].unit, len) == 0 &&
			    !(len == 1 && p[0] == 'm' && p[1] == 's'))
				break;
		}
		if (i == sizeof units / sizeof units[0])
			return ST_INVALID;
		total += v * units[i].ms;
		p += strlen(units[i].unit);
	}
	if (total > 1e15)
		return ST_INVALID;
	*ms = (long long)total;
	return ST_OK;
}

int
spec_parse_duration_ms(const char *s, long long *ms)
{
	size_t digits;

	if (s == NULL)
		return ST_INVALID;
	digits = strspn(s, "0123456789");	/* the CRD pattern ^[0-9]+(m|s) */
	if (digits == 0 || (s[digits] != 'm' && s[digits] != 's'))
		return ST_INVALID;
	return parse_go_duration(s, ms);
}

/* ---- the set --------------------------------------------------------------- */

size_t spec_set_n_canaries(const struct spec_set *s) { return s->n_canaries; }
size_t spec_set_n_templates(const struct spec_set *s) { return s->n_templates; }
size_t spec_set_n_alert_providers(const struct spec_set *s) { return s->n_providers; }

struct spec_set *
spec_set_new(void)
{
	return xcalloc(1, sizeof(struct spec_set));
}

void
spec_set_free(struct spec_set *set)
{
	if (set == NULL)
		return;
	free(set->canaries);
	free(set->templates);
	free(set->providers);
	pool_fini(&set->pool);
	free(set);
}

const struct spec_canary *
spec_set_canary(const struct spec_set *s, size_t i)
{
	return i < s->n_canaries ? s->canaries[i] : NULL;
}

const struct spec_metric_template *
spec_set_template(const struct spec_set *s, size_t i)
{
	return i < s->n_templates ? s->templates[i] : NULL;
}

const struct spec_alert_provider *
spec_set_alert_provider(const struct spec_set *s, size_t i)
{
	return i < s->n_providers ? s->providers[i] : NULL;
}

struct spec_pos
spec_field_pos(const struct spec_meta *meta, const char *path)
{
	const struct spec_node *n = meta->root;
	struct spec_pos pos = meta->pos;
	const char *p = path;
	char key[128];
	size_t len, i;

	while (n != NULL && *p != '\0') {
		len = strcspn(p, ".[");
		if (len >= sizeof key)
			return pos;
		if (len > 0) {
			memcpy(key, p, len);
			key[len] = '\0';
			if (n->kind != SPEC_MAP)
				return pos;
			for (i = 0; i < n->n && strcmp(n->keys[i]->value, key) != 0; i++)
				;
			if (i == n->n)
				return pos;
			pos = n->keys[i]->pos;
			n = n->items[i];
		}
		p += len;
		while (*p == '[') {
			char *end;
			unsigned long idx = strtoul(p + 1, &end, 10);

			if (*end != ']' || n->kind != SPEC_SEQ || idx >= n->n)
				return pos;
			n = n->items[idx];
			pos = n->pos;
			p = end + 1;
		}
		if (*p == '.')
			p++;
	}
	return pos;
}

const struct spec_metric_template *
spec_find_template(const struct spec_set *set, const struct spec_canary *c,
    const struct spec_metric *m)
{
	const char *ns, *name = m->template_ref.name;
	size_t i;

	if (!m->template_ref.set || name == NULL)
		return NULL;
	ns = m->template_ref.ns != NULL ? m->template_ref.ns : c->meta.ns;
	for (i = 0; i < set->n_templates; i++)
		if (set->templates[i]->meta.name != NULL &&
		    strcmp(set->templates[i]->meta.name, name) == 0 &&
		    strcmp(set->templates[i]->meta.ns, ns) == 0)
			return set->templates[i];
	return NULL;
}
