/*
 * notify.h — alerts to chat services (reference §6): the AlertProviders a
 * run knows (type, channel, username, address, proxy, token) and the
 * alert_ops that POSTs Flagger's payload for each type (slack, msteams,
 * discord, rocket, gchat) with a 5 s timeout, through the provider's proxy
 * when it names one, with "Authorization: Bearer <token>" when its Secret
 * has a token.  A 2xx answer is success.  libcurl is loaded on the first
 * alert (net/curl_lazy.h); without it every send fails with ST_UNSUPPORTED
 * and a reason naming it.
 *
 * Secrets: an AlertProvider's address (a webhook URL whose path is the
 * secret) and its token are never printed or logged; the reasons given
 * for a failure name the provider type and the HTTP status or the
 * transfer error only, and an answer's body only when it holds neither.
 * notifier_free wipes them from memory.
 *
 * Ownership: notifier_new/_free; notifier_add copies what it is given.
 * Threads: providers are added before the engine starts; send (http_alert_ops,
 * ctx = a struct notifier) is then called from the engine thread only.
 */
#ifndef PERCH_METRICS_NOTIFY_H
#define PERCH_METRICS_NOTIFY_H

#include <stddef.h>

#include "engine/backend_types.h"
#include "engine/providers.h"

#define NOTIFY_TIMEOUT_MS 5000
#define NOTIFY_MAX_ANSWER 4096		/* bytes of an answer kept */

/* The AlertProvider types: X(ID, "spec.type", format), each with its
 * payload, `<format>_format` (metrics/alert_format.h); the registry's list
 * (engine/backend_types.h). */
#define NOTIFY_TYPE_LIST(X) ALERT_TYPE_LIST(X)

enum notify_type {
#define X(id, text, format) NOTIFY_##id,
	NOTIFY_TYPE_LIST(X)
#undef X
	NOTIFY__COUNT
};

struct alert_format;
#define X(id, text, format) extern const struct alert_format format##_format;
NOTIFY_TYPE_LIST(X)
#undef X

int notify_type_from_name(const char *s);	/* -1 when unknown */
const char *notify_type_name(enum notify_type t);

/* One AlertProvider, as resolved by the caller (spec + Secret). */
struct notify_provider {
	const char *ns, *name;		/* the AlertProvider object */
	enum notify_type type;
	const char *channel;		/* NULL or "": "general" */
	const char *username;		/* NULL or "": "flagger" */
	const char *address;		/* the webhook URL (a secret) */
	const char *proxy;		/* NULL: none */
	const char *token;		/* NULL: no Authorization header */
	/* Not usable (its Secret could not be read, ...): every alert to it
	 * fails with this reason (it must hold no secret).  NULL: usable. */
	const char *broken;
};

struct notifier;

struct notifier *notifier_new(void);
void notifier_free(struct notifier *n);
/* Adds (or replaces) the provider ns/name. */
void notifier_add(struct notifier *n, const struct notify_provider *p);
/* Whether ns/name was added. */
bool notifier_has(const struct notifier *n, const char *ns, const char *name);
/* For tests: the timeout of each POST (default NOTIFY_TIMEOUT_MS). */
void notifier_set_timeout_ms(struct notifier *n, int ms);

/* The JSON body for a provider type, byte for byte as Flagger's Go encoder
 * writes it (reference §6.2; the type's alert_format).  channel/username:
 * as for notify_provider.  A new string; free() it. */
char *notify_payload(enum notify_type type, const char *channel, const char *username,
    const struct alert_msg *m);

/* The URL a type POSTs to: discord gets "/slack" appended to the path
 * unless it ends so already.  A new string; free() it. */
char *notify_url(enum notify_type type, const char *address);

extern const struct alert_ops http_alert_ops;

#endif
