/*
 * informer.h — a local cache of one kind of object (in one namespace, with
 * an optional label selector), fed by a watch, so that reads between events
 * never reach the API server.
 *
 * A thread of the informer runs k8s_watch (k8s/rest.h): a list first, then
 * the stream, resumed from the last resourceVersion after a server timeout
 * or a dropped connection, and relisted on 410 Gone (objects that vanished
 * meanwhile are reported DELETED).  The cache answers reads only while it
 * is in step with the server: from the first complete list until a stream
 * ends in an error, and again from the next stream's 200 (the events missed
 * meanwhile follow at once) or the next relist.  While it is not,
 * reads answer ST_AGAIN and the caller asks the API server itself, so a
 * dropped watch costs freshness nothing.  A drop is logged once (warning)
 * until the cache is in step again (info).  If the watch itself is refused
 * (403: the identity may get but not watch), the informer stays out of step
 * for good and every read goes to the server, as without an informer.
 *
 * Ownership: k8s_informer_new borrows the client (it must outlive the
 * informer) and copies the strings of opts.  Reads return new objects that
 * the caller json_decref()s.  Threads: reads from any thread; on_change is
 * called on the informer's thread with no lock of the informer held, with
 * objects borrowed for the call; start/free on the controlling thread
 * (free cuts the stream and joins the thread; a request in flight, a list,
 * is waited for).
 */
#ifndef PERCH_K8S_INFORMER_H
#define PERCH_K8S_INFORMER_H

#include <jansson.h>
#include <stdbool.h>

#include "k8s/rest.h"

/* type "ADDED", "MODIFIED" or "DELETED"; old: the cached object before
 * (NULL for ADDED), obj: the new one (for DELETED the last known). */
typedef void (*k8s_informer_fn)(void *arg, const char *type, json_t *old, json_t *obj);

struct k8s_informer_opts {
	const struct k8s_res *res;
	const char *ns;			/* NULL: every namespace (cluster-scoped) */
	const char *selector;		/* label selector, or NULL */
	k8s_informer_fn on_change;	/* may be NULL */
	void *arg;
};

struct k8s_informer_stats {
	unsigned long events;		/* ADDED/MODIFIED/DELETED applied */
	unsigned long relists;		/* complete lists, the first one included */
	unsigned long drops;		/* streams that ended in an error */
	unsigned long hits, misses;	/* reads answered from the cache / not */
};

struct k8s_informer;

struct k8s_informer *k8s_informer_new(struct k8s_client *c, const struct k8s_informer_opts *o);
/* Starts the watch thread.  ST_OK or ST_ERR (no thread). */
int  k8s_informer_start(struct k8s_informer *inf);
/* Stops the thread and frees everything; NULL is fine. */
void k8s_informer_free(struct k8s_informer *inf);

/* The cached object ns/name (ns NULL for cluster-scoped): ST_OK with *out a
 * copy, ST_NOTFOUND (in step, no such object), or ST_AGAIN (out of step:
 * ask the server). */
int  k8s_informer_get(struct k8s_informer *inf, const char *ns, const char *name, json_t **out);
/* Every cached object, as a new array of copies: ST_OK or ST_AGAIN. */
int  k8s_informer_list(struct k8s_informer *inf, json_t **out);
bool k8s_informer_synced(struct k8s_informer *inf);
void k8s_informer_stats(struct k8s_informer *inf, struct k8s_informer_stats *out);

/* Applies one event of k8s_watch as the thread does (type and obj as
 * k8s_watch_fn gets them).  For tests over fixtures: an informer that was
 * never started is fed by hand. */
void k8s_informer_feed(struct k8s_informer *inf, const char *type, json_t *obj);

#endif
