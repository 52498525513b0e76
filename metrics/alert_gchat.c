/* alert_gchat.c — Google Chat's payload (reference §6.2): one card headed
 * "Flagger" with the canary as subtitle, a text section for the message
 * and one per field. */
#include "metrics/alert_format.h"
#include "metrics/notify.h"
#include "util/buf.h"

static json_t *
gchat_section(const char *text)
{
	return json_pack("{s:[{s:{s:o}}]}", "widgets", "textParagraph", "text", alert_str(text));
}

static json_t *
gchat_payload(const struct alert_format *f, const char *channel, const char *username,
    const struct alert_msg *m)
{
	json_t *card = json_object(), *sections = json_array();
	struct buf t;
	size_t i;

	(void)f;
	(void)channel;
	(void)username;
	buf_init(&t, 0);
	json_object_set_new(card, "header", json_pack("{s:s,s:o,s:s}", "title", "Flagger",
	    "subtitle", alert_who(m), "imageUrl", "https://flagger.app/favicon.png"));
	buf_printf(&t, "<font color=#848484><strong>%s</strong></font>", m->message ? m->message : "");
	json_array_append_new(sections, gchat_section(buf_str(&t)));
	for (i = 0; i < m->n_fields; i++) {
		buf_reset(&t);
		buf_printf(&t, "%s<br><font color=#848484><strong>%s</strong></font>",
		    m->fields[i].name ? m->fields[i].name : "",
		    m->fields[i].value ? m->fields[i].value : "");
		json_array_append_new(sections, gchat_section(buf_str(&t)));
	}
	buf_fini(&t);
	json_object_set_new(card, "sections", sections);
	return json_pack("{s:[o]}", "cards", card);
}

const struct alert_format gchat_format = {
	.payload = gchat_payload,
};
