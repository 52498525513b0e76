/*
 * spec_json.c — parts of a Canary passed through as YAML nodes (analysis.match,
 * service.match, ...) turned into the JSON the Kubernetes API objects carry.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "app/spec_json.h"

json_t *
spec_node_json(const struct spec_node *n)
{
	json_t *o;
	const char *v;
	char *end;
	long long ll;
	size_t i;

	if (!n)
		return json_null();
	if (n->kind == SPEC_MAP || n->kind == SPEC_SEQ) {
		o = n->kind == SPEC_MAP ? json_object() : json_array();
		for (i = 0; i < n->n; i++) {
			if (n->kind == SPEC_SEQ)
				json_array_append_new(o, spec_node_json(n->items[i]));
			else if (n->keys[i]->value)
				json_object_set_new(o, n->keys[i]->value, spec_node_json(n->items[i]));
		}
		return o;
	}
	v = n->value ? n->value : "";
	if (n->quoted)
		return json_string(v);
	if (!spec_node_str(n))
		return json_null();
	if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0)
		return json_boolean(v[0] == 't');
	errno = 0;
	ll = strtoll(v, &end, 10);
	if (errno == 0 && *v && *end == '\0')
		return json_integer(ll);
	return json_string(v);
}

