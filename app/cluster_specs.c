/*
 * cluster_specs.c — cluster objects into a spec set (cluster_specs.h).
 */
#include "app/cluster_specs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/status.h"

const struct k8s_res cluster_spec_templates = { "flagger.app", "v1beta1", "metrictemplates", true };

void
cluster_spec_object(struct spec_set *set, const struct k8s_res *res, const char *ns, json_t *item,
    struct diag_list *dl)
{
	json_t *copy = json_deep_copy(item);
	char name[300], *text;

	json_object_del(copy, "status");
	if (ns == NULL)		/* -A: the object's own */
		ns = json_string_value(json_object_get(json_object_get(copy, "metadata"), "namespace"));
	snprintf(name, sizeof name, "%s %s/%s", res->plural, ns ? ns : "",
	    json_string_value(json_object_get(json_object_get(copy, "metadata"), "name")));
	text = json_dumps(copy, JSON_INDENT(1));
	if (text)
		spec_load_buffer(set, name, text, strlen(text), dl);
	free(text);
	json_decref(copy);
}

int
cluster_specs_load(struct k8s_client *c, const char *ns, struct spec_set *set,
    bool only_templates, struct diag_list *dl, const struct cluster_specs_each *each,
    char *err, size_t errsz)
{
	const struct k8s_res *res[2] = { &cluster_spec_templates, K8S_RES(CANARIES) };
	json_t *list, *item;
	struct k8s_err e;
	size_t i;
	int k, st;

	for (k = 0; k < (only_templates ? 1 : 2); k++) {
		st = k8s_list(c, res[k], ns, NULL, &list, &e);
		if (st == ST_NOTFOUND && k == 0)
			continue;
		if (st != ST_OK) {
			snprintf(err, errsz, "listing %s in %s: %s", res[k]->plural,
			    ns ? ns : "every namespace", e.msg);
			return st;
		}
		json_array_foreach(json_object_get(list, "items"), i, item) {
			cluster_spec_object(set, res[k], ns, item, dl);
			if (k == 1 && each != NULL)
				each->fn(each->arg, item);
		}
		json_decref(list);
	}
	return ST_OK;
}
