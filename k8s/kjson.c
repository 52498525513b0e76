/* kjson.c — helpers over Kubernetes objects and error buffers (kjson.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "engine/providers.h"
#include "k8s/kjson.h"
#include "util/sanitize.h"

json_t *
jpath(json_t *o, const char *path)
{
	char key[128];
	const char *dot;
	size_t n;

	while (o && *path) {
		dot = strchr(path, '.');
		n = dot ? (size_t)(dot - path) : strlen(path);
		if (n >= sizeof key)
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		o = json_object_get(o, key);
		path += n + (dot ? 1 : 0);
	}
	return o;
}

const char *
jstr(json_t *o, const char *path)
{
	return json_string_value(jpath(o, path));
}

bool
jnamed(json_t *o, const char *path, const char *name)
{
	const char *s = jstr(o, path);

	return s && strcmp(s, name) == 0;
}

bool
json_subset(json_t *want, json_t *have)
{
	const char *key;
	json_t *v;
	size_t i;

	if (json_is_object(want)) {
		if (!json_is_object(have))
			return false;
		json_object_foreach(want, key, v)
			if (!json_subset(v, json_object_get(have, key)))
				return false;
		return true;
	}
	if (json_is_array(want)) {
		if (!json_is_array(have) || json_array_size(want) != json_array_size(have))
			return false;
		json_array_foreach(want, i, v)
			if (!json_subset(v, json_array_get(have, i)))
				return false;
		return true;
	}
	return json_equal(want, have);
}

void
own(json_t *obj, json_t *refs)
{
	json_t *meta = json_object_get(obj, "metadata");

	if (refs && json_is_object(meta))
		json_object_set_new(meta, "ownerReferences", json_deep_copy(refs));
}

int
errf(char *err, int st, const char *fmt, ...)
{
	char raw[ERRMSG_MAX * 2];
	va_list ap;

	if (!err)
		return st;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof raw, fmt, ap);
	va_end(ap);
	sanitize(err, ERRMSG_MAX, raw, strlen(raw));
	return st;
}

int
kerr(char *err, int st, const struct k8s_err *e)
{
	return errf(err, st, "%s", e->msg);
}
