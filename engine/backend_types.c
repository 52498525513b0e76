/* backend_types.c — the registry of metric and alert types (see backend_types.h). */
#include <stddef.h>
#include <string.h>

#include "engine/backend_types.h"

const char *const metric_type_schema_names[] = {
#define X(id, name, caps) name,
	METRIC_TYPE_LIST(X)
#undef X
	NULL
};

static const unsigned metric_type_flags[MT__COUNT] = {
#define X(id, name, caps) [MT_##id] = caps,
	METRIC_TYPE_LIST(X)
#undef X
};

const char *const alert_type_schema_names[] = {
#define X(id, name, format) name,
	ALERT_TYPE_LIST(X)
#undef X
	NULL
};

const char *
metric_type_name(enum metric_type t)
{
	return (unsigned)t < MT__COUNT ? metric_type_schema_names[t] : "";
}

int
metric_type_find(const char *name)
{
	int i;

	if (name == NULL)
		return MT_DEFAULT;
	for (i = 0; i < MT__COUNT; i++)
		if (strcmp(metric_type_schema_names[i], name) == 0)
			return i;
	return -1;
}

unsigned
metric_type_caps(const char *name)
{
	int i = metric_type_find(name);

	return name != NULL && i >= 0 ? metric_type_flags[i] : 0;
}
