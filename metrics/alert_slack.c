/*
 * alert_slack.c — Slack's payload (Flagger's SlackPayload, reference §6.2):
 * a message with one attachment holding the text and the metadata fields,
 * coloured by severity.  Discord and Rocket.Chat take the same payload:
 * Discord's webhook at the path .../slack, Rocket.Chat with colours of its
 * own.
 */
#include <stdbool.h>
#include <string.h>

#include "metrics/alert_format.h"
#include "metrics/notify.h"
#include "util/buf.h"
#include "util/xalloc.h"

static json_t *
slack_payload(const struct alert_format *f, const char *channel, const char *username,
    const struct alert_msg *m)
{
	bool error = m->severity == ALERT_ERROR;
	json_t *o = json_object(), *a = json_object(), *fields = json_array();
	size_t i;

	json_object_set_new(o, "channel", alert_str(channel != NULL && *channel ? channel : "general"));
	json_object_set_new(o, "username", alert_str(username != NULL && *username ? username :
	    "flagger"));
	json_object_set_new(o, "icon_url", json_string(""));
	json_object_set_new(o, "icon_emoji", json_string(":rocket:"));
	json_object_set_new(a, "color", json_string(error ? f->color_error : f->color));
	json_object_set_new(a, "author_name", alert_who(m));
	json_object_set_new(a, "text", alert_str(m->message));
	json_object_set_new(a, "mrkdwn_in", json_pack("[s]", "text"));
	for (i = 0; i < m->n_fields; i++)
		json_array_append_new(fields, json_pack("{s:o,s:o,s:b}", "title",
		    alert_str(m->fields[i].name), "value", alert_str(m->fields[i].value), "short", 0));
	json_object_set_new(a, "fields", fields);
	json_object_set_new(o, "attachments", json_pack("[o]", a));
	return o;
}

/* Discord's Slack-compatible webhook: "/slack" appended to the path unless
 * it ends so already. */
static char *
discord_url(const char *address)
{
	size_t path_end, end;
	struct buf b;

	/* The path ends at the query or the fragment. */
	path_end = strcspn(address, "?#");
	end = path_end;
	while (end > 0 && address[end - 1] == '/')
		end--;
	if (end >= 6 && strncmp(address + end - 6, "/slack", 6) == 0 && end == path_end)
		return xstrdup(address);
	buf_init(&b, 0);
	buf_append(&b, address, end);
	buf_puts(&b, "/slack");
	buf_puts(&b, address + path_end);
	return buf_take(&b);
}

const struct alert_format slack_format = {
	.payload = slack_payload,
	.color_error = "danger",
	.color = "good",
};

const struct alert_format discord_format = {
	.payload = slack_payload,
	.url = discord_url,
	.color_error = "danger",
	.color = "good",
};

const struct alert_format rocket_format = {
	.payload = slack_payload,
	.color_error = "#FF0000",
	.color = "#0076D7",
};
