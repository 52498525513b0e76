/* fuzz_notify.c — alert payloads (metrics/notify.c) for any message, field
 * and channel text: never a crash or a leak, always JSON that parses back,
 * with the message intact when it is UTF-8 text; the discord URL always
 * ends its path with /slack. */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/notify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input split at NUL bytes: message, field name, field value, channel,
 * username, address. */
static const char *
part(char **p, char *end)
{
	char *s = *p;

	if (s >= end)
		return "";
	*p = s + strlen(s) + 1;
	return s;
}

static const char *
text_of(enum notify_type t, json_t *o)
{
	if (t == NOTIFY_MSTEAMS)
		return json_string_value(json_object_get(json_array_get(json_object_get(o, "sections"),
		    0), "activityTitle"));
	if (t == NOTIFY_GCHAT)
		return NULL;
	return json_string_value(json_object_get(json_array_get(json_object_get(o, "attachments"),
	    0), "text"));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *p = buf, *end = buf + size;
	struct canary_cfg c = { .ns = "test", .name = "podinfo" };
	struct alert_field f[1];
	struct alert_msg m = { .canary = &c, .fields = f, .n_fields = 1 };
	const char *channel, *user, *address;
	int t;

	memcpy(buf, data, size);
	buf[size] = '\0';
	m.message = part(&p, end);
	f[0].name = part(&p, end);
	f[0].value = part(&p, end);
	channel = part(&p, end);
	user = part(&p, end);
	address = part(&p, end);
	m.severity = size > 0 ? (enum alert_severity)(data[0] % ALERT__COUNT) : ALERT_INFO;
	for (t = 0; t < NOTIFY__COUNT; t++) {
		char *s = notify_payload((enum notify_type)t, channel, user, &m), *u;
		json_t *o = json_loads(s, 0, NULL);
		json_t *probe = json_string(m.message);
		const char *txt;

		if (o == NULL)
			abort();
		txt = text_of((enum notify_type)t, o);
		if (probe != NULL && txt != NULL && strcmp(txt, m.message) != 0)
			abort();
		json_decref(probe);
		json_decref(o);
		free(s);
		u = notify_url((enum notify_type)t, address);
		if (t == NOTIFY_DISCORD && strstr(u, "/slack") == NULL)
			abort();
		free(u);
	}
	free(buf);
	return 0;
}
