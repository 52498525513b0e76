/*
 * route_words.c — the route object of each provider (see route_words.h),
 * one row per registry id (engine/routers.h).
 */
#include "engine/route_words.h"

#include <stdio.h>

#include "engine/routers.h"

enum name_form {
	SVC,		/* <svc> */
	SVC_CANARY,	/* <ingressRef>-canary: the configuration keeps no ref */
	APISIX_FORM,	/* <routeRef>-<svc>-canary */
	BLUEGREEN,	/* no route object: the Services */
};

struct route_row {
	const char *kind;
	enum name_form form;
};

static const struct route_row rows[PROV__COUNT] = {
	[PROV_APISIX]             = { "ApisixRoute", APISIX_FORM },
	[PROV_APPMESH]            = { "VirtualService", SVC },
	[PROV_APPMESH_V1BETA2]    = { "VirtualRouter", SVC },
	[PROV_CONTOUR]            = { "HTTPProxy", SVC },
	[PROV_GATEWAYAPI]         = { "HTTPRoute", SVC },
	[PROV_GATEWAYAPI_V1]      = { "HTTPRoute", SVC },
	[PROV_GATEWAYAPI_V1BETA1] = { "HTTPRoute", SVC },
	[PROV_GLOO]               = { "RouteTable", SVC },
	[PROV_ISTIO]              = { "VirtualService", SVC },
	[PROV_KNATIVE]            = { "Service (Knative)", SVC },
	[PROV_KUBERNETES]         = { "Services", BLUEGREEN },
	[PROV_KUMA]               = { "TrafficRoute", SVC },
	[PROV_LINKERD]            = { "TrafficSplit", SVC },
	[PROV_NGINX]              = { "Ingress", SVC_CANARY },
	[PROV_OSM]                = { "TrafficSplit", SVC },
	[PROV_SKIPPER]            = { "Ingress", SVC_CANARY },
	[PROV_SMI_V1ALPHA1]       = { "TrafficSplit", SVC },
	[PROV_SMI_V1ALPHA2]       = { "TrafficSplit", SVC },
	[PROV_SMI_V1ALPHA3]       = { "TrafficSplit", SVC },
	[PROV_TRAEFIK]            = { "TraefikService", SVC },
};

void
route_words(const struct canary_cfg *c, char *out, size_t n)
{
	const struct router_info *r = router_find(c->provider);
	const char *svc = c->service != NULL ? c->service : c->target != NULL ? c->target : "";
	const struct route_row *row = r != NULL ? &rows[r->id] : NULL;

	if (row == NULL || row->kind == NULL) {
		snprintf(out, n, "%s", "");
		return;
	}
	switch (row->form) {
	case SVC_CANARY:
		snprintf(out, n, "%s (ingressRef)-canary", row->kind);
		break;
	case APISIX_FORM:
		snprintf(out, n, "%s (routeRef)-%s-canary", row->kind, svc);
		break;
	case BLUEGREEN:
		snprintf(out, n, "%s %s-primary, %s-canary (no route object)", row->kind, svc, svc);
		break;
	default:
		snprintf(out, n, "%s %s", row->kind, svc);
		break;
	}
}
