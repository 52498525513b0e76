/*
 * alert_format.h — the payload of each AlertProvider type (reference §6.2),
 * one struct alert_format per type, listed with the types in
 * NOTIFY_TYPE_LIST (notify.h): Flagger's JSON body, byte for byte as its Go
 * encoder writes it (webhook_go_json), and the URL it is posted to.
 *
 *   alert_slack.c    slack, discord, rocket (Slack's payload; discord's
 *                    webhook takes it at .../slack; rocket's colours)
 *   alert_msteams.c  msteams (a MessageCard)
 *   alert_gchat.c    gchat (a card)
 *
 * The schema's list of AlertProvider types (spec/load.c) names the same
 * five, Flagger's.  Pure functions over the message; any thread.
 */
#ifndef PERCH_METRICS_ALERT_FORMAT_H
#define PERCH_METRICS_ALERT_FORMAT_H

#include <jansson.h>

#include "engine/providers.h"

struct alert_format {
	/* The JSON body for m (a new reference); channel and username as
	 * the AlertProvider gives them, NULL or "" for Flagger's defaults
	 * ("general", "flagger"). */
	json_t *(*payload)(const struct alert_format *f, const char *channel,
	    const char *username, const struct alert_msg *m);
	/* The URL for the provider's address (a new string); NULL: the
	 * address as it is. */
	char *(*url)(const char *address);
	/* The colour of an error alert and of any other, for the payloads
	 * that have one. */
	const char *color_error, *color;
};

/* "<canary>.<ns>", the author / subtitle of every payload. */
json_t *alert_who(const struct alert_msg *m);
/* A JSON string of s (NULL: ""); text that is not UTF-8 becomes "", as
 * Go would not fail either. */
json_t *alert_str(const char *s);

#endif
