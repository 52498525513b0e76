/*
 * render.h — Flagger's query templates (reference §1.2): the subset of Go
 * text/template that MetricTemplates and the built-in queries use.
 *
 * Supported: literal text; actions {{ f }} where f is one of namespace,
 * name, target, service, ingress, route, interval; {{ variables.KEY }}
 * (metrics[].templateVariables); {{ $NAME }} for locals the caller provides
 * (the built-in Skipper query); whitespace inside the braces; the trim
 * markers "{{- " and " -}}".  Anything else (an unknown function, a field
 * access like {{ .namespace }}, a pipeline) is an error naming it, and so is
 * a missing variable.
 *
 * Pure functions, safe from any thread.  Strings in struct render_ctx are
 * borrowed for the call.
 */
#ifndef PERCH_METRICS_RENDER_H
#define PERCH_METRICS_RENDER_H

#include <stddef.h>

#include "engine/canary.h"

/* The largest rendered query, in bytes. */
#define RENDER_MAX 65536

struct render_ctx {
	const char *name;	/* canary metadata.name */
	const char *ns;		/* canary namespace */
	const char *target;	/* spec.targetRef.name */
	const char *service;	/* spec.service.name or target */
	const char *ingress;	/* spec.ingressRef.name or target */
	const char *route;	/* spec.routeRef.name or target */
	const char *interval;	/* metrics[].interval as written */
	const struct kv *vars;	/* templateVariables */
	size_t n_vars;
	const struct kv *locals;	/* "$name" values (keys without the '$') */
	size_t n_locals;
};

/* Renders tmpl.  ST_OK with *out a new string (free() it), or ST_PARSE /
 * ST_NOTFOUND / ST_TOOBIG with *out NULL and a one-line reason in err
 * ("line L col C: unknown function \"foo\""). */
int render_template(const char *tmpl, const struct render_ctx *ctx, char **out,
    char *err, size_t errsz);

/* Replaces every run of white space (space, \t, \n, \f, \r: Go's \s) with one
 * space, in place, as Flagger does before sending a query.  Returns s. */
char *collapse_space(char *s);

#endif
