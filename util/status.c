/* status.c — names and descriptions of the status codes (see status.h). */
#include "util/status.h"

static const char *const names[] = {
#define X(name, text) #name,
	STATUS_LIST(X)
#undef X
};

static const char *const texts[] = {
#define X(name, text) text,
	STATUS_LIST(X)
#undef X
};

const char *
status_name(int st)
{
	if (st < 0 || st >= ST__COUNT)
		return "UNKNOWN";
	return names[st];
}

const char *
status_text(int st)
{
	if (st < 0 || st >= ST__COUNT)
		return "unknown status";
	return texts[st];
}
