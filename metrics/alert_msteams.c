/* alert_msteams.c — Microsoft Teams' payload (reference §6.2): a
 * MessageCard whose one section holds the message and the fields as
 * facts, its theme colour by severity. */
#include "metrics/alert_format.h"
#include "metrics/notify.h"

static json_t *
teams_payload(const struct alert_format *f, const char *channel, const char *username,
    const struct alert_msg *m)
{
	json_t *o = json_object(), *sec = json_object(), *facts = json_array();
	size_t i;

	(void)channel;
	(void)username;
	json_object_set_new(o, "@type", json_string("MessageCard"));
	json_object_set_new(o, "@context", json_string("http://schema.org/extensions"));
	json_object_set_new(o, "themeColor", json_string(m->severity == ALERT_ERROR ?
	    f->color_error : f->color));
	json_object_set_new(o, "summary", alert_who(m));
	json_object_set_new(sec, "activityTitle", alert_str(m->message));
	json_object_set_new(sec, "activitySubtitle", alert_who(m));
	for (i = 0; i < m->n_fields; i++)
		json_array_append_new(facts, json_pack("{s:o,s:o}", "name",
		    alert_str(m->fields[i].name), "value", alert_str(m->fields[i].value)));
	json_object_set_new(sec, "facts", facts);
	json_object_set_new(o, "sections", json_pack("[o]", sec));
	return o;
}

const struct alert_format msteams_format = {
	.payload = teams_payload,
	.color_error = "FF0000",
	.color = "0076D7",
};
