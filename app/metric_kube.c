/*
 * metric_kube.c — metrics/kube.h's requests over a k8s client (see
 * metric_kube.h).
 */
#include <stdio.h>

#include "app/metric_kube.h"
#include "util/status.h"

static struct k8s_res
res_of(const struct metric_kube_res *r)
{
	return (struct k8s_res){ r->group, r->version, r->plural, true };
}

static int
done(int st, const struct k8s_err *e, char *err, size_t errsz)
{
	if (st != ST_OK)
		snprintf(err, errsz, "%s", e->msg);
	return st;
}

static int
kube_get(void *ctx, const struct metric_kube_res *r, const char *ns, const char *name,
    json_t **out, char *err, size_t errsz)
{
	struct k8s_res res = res_of(r);
	struct k8s_err e = { 0 };

	return done(k8s_get(ctx, &res, ns, name, out, &e), &e, err, errsz);
}

static int
kube_list(void *ctx, const struct metric_kube_res *r, const char *ns, const char *label_selector,
    json_t **out, char *err, size_t errsz)
{
	struct k8s_res res = res_of(r);
	struct k8s_err e = { 0 };

	return done(k8s_list(ctx, &res, ns, label_selector, out, &e), &e, err, errsz);
}

static int
kube_create(void *ctx, const struct metric_kube_res *r, const char *ns, json_t *obj, char *err,
    size_t errsz)
{
	struct k8s_res res = res_of(r);
	struct k8s_err e = { 0 };
	json_t *out = NULL;
	int st = k8s_create(ctx, &res, ns, obj, &out, &e);

	json_decref(out);
	return done(st, &e, err, errsz);
}

static int
kube_del(void *ctx, const struct metric_kube_res *r, const char *ns, const char *name, char *err,
    size_t errsz)
{
	struct k8s_res res = res_of(r);
	struct k8s_err e = { 0 };

	return done(k8s_delete(ctx, &res, ns, name, &e), &e, err, errsz);
}

void
metric_kube_init(struct metric_kube *mk, struct k8s_client *c)
{
	*mk = (struct metric_kube){
		.ctx = c, .get = kube_get, .list = kube_list, .create = kube_create, .del = kube_del,
	};
}
