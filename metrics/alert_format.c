/* alert_format.c — what the alert payloads share (alert_format.h). */
#include <stdio.h>

#include "metrics/alert_format.h"

json_t *
alert_who(const struct alert_msg *m)
{
	char s[300];

	snprintf(s, sizeof s, "%s.%s", m->canary->name ? m->canary->name : "",
	    m->canary->ns ? m->canary->ns : "");
	return json_string(s);
}

json_t *
alert_str(const char *s)
{
	json_t *j = json_string(s != NULL ? s : "");

	return j != NULL ? j : json_string("");
}
