/*
 * kubeconfig.c — kubeconfig files (libyaml) to one resolved context.
 *
 * Each file is loaded as a libyaml document, so every node keeps its line and
 * column for messages.  The merge keeps pointers to the first node of each
 * name (kubectl's rules, see kubeconfig.h); the resolve step copies the
 * chosen context's fields into a struct k8s_config and drops the documents.
 * Credentials are fetched per request by k8s_config_auth(): token files are
 * re-read, exec plugins run (k8s/kubeconfig_exec.c) and cached until expiry.
 */
#include "k8s/kubeconfig.h"
#include "k8s/kubeconfig_exec.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "util/status.h"
#include "util/xalloc.h"

#define MAX_FILES 32

struct kc_doc {
	char *name;		/* for messages */
	char *dir;		/* for relative paths; NULL = keep relative */
	yaml_document_t doc;
};

struct kc_ref {
	const char *name;
	yaml_node_t *node;	/* the inner cluster/user/context mapping */
	struct kc_doc *doc;
	yaml_node_t *at;	/* the list item, for messages */
};

struct kc_set {
	struct kc_doc docs[MAX_FILES];
	size_t ndocs;
	struct kc_ref *clusters, *users, *contexts;
	size_t nclusters, nusers, ncontexts;
	const char *current;
	struct kc_doc *current_doc;
};

/* ---- messages ---------------------------------------------------------- */

static int __attribute__((format(printf, 5, 6)))
fail_at(struct buf *err, int st, const struct kc_doc *d, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return st;
	buf_reset(err);
	if (n)
		buf_printf(err, "%s:%zu:%zu: ", d->name, n->start_mark.line + 1,
		    n->start_mark.column + 1);
	else
		buf_printf(err, "%s: ", d->name);
	va_start(ap, fmt);
	buf_vprintf(err, fmt, ap);
	va_end(ap);
	return st;
}

/* ---- YAML helpers -------------------------------------------------------- */

static yaml_node_t *
node(struct kc_doc *d, int idx)
{
	return yaml_document_get_node(&d->doc, idx);
}

static yaml_node_t *
map_get(struct kc_doc *d, yaml_node_t *m, const char *key)
{
	yaml_node_pair_t *p;
	yaml_node_t *k;

	if (!m || m->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		k = node(d, p->key);
		if (k && k->type == YAML_SCALAR_NODE && strcmp((char *)k->data.scalar.value, key) == 0)
			return node(d, p->value);
	}
	return NULL;
}

static bool
is_null(const yaml_node_t *n)
{
	const char *v;

	if (!n || n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return n == NULL;
	v = (const char *)n->data.scalar.value;
	return !*v || strcmp(v, "null") == 0 || strcmp(v, "~") == 0;
}

/* A string field: absent or null leaves *out NULL. */
static int
get_str(struct kc_doc *d, yaml_node_t *m, const char *key, const char *path, char **out,
    struct buf *err)
{
	yaml_node_t *n = map_get(d, m, key);

	*out = NULL;
	if (is_null(n))
		return ST_OK;
	if (n->type != YAML_SCALAR_NODE)
		return fail_at(err, ST_INVALID, d, n, "%s.%s: expected a string", path, key);
	if (strlen((char *)n->data.scalar.value) != n->data.scalar.length)
		return fail_at(err, ST_INVALID, d, n, "%s.%s: contains a NUL byte", path, key);
	*out = xstrdup((char *)n->data.scalar.value);
	return ST_OK;
}

static int
get_bool(struct kc_doc *d, yaml_node_t *m, const char *key, const char *path, bool *out,
    struct buf *err)
{
	yaml_node_t *n = map_get(d, m, key);
	const char *v;

	*out = false;
	if (is_null(n))
		return ST_OK;
	v = n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : "";
	if (strcmp(v, "true") == 0 || strcmp(v, "True") == 0)
		*out = true;
	else if (strcmp(v, "false") != 0 && strcmp(v, "False") != 0)
		return fail_at(err, ST_INVALID, d, n, "%s.%s: expected true or false", path, key);
	return ST_OK;
}

/* ---- base64 -------------------------------------------------------------- */

static int
b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

char *
k8s_b64_decode(const char *s, size_t *outlen)
{
	size_t n = strlen(s), o = 0;
	char *out = xmalloc(n / 4 * 3 + 4);
	unsigned int acc = 0;
	int bits = 0, v, pad = 0;

	for (; *s; s++) {
		if (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t')
			continue;
		if (*s == '=') {
			pad++;
			continue;
		}
		v = b64val((unsigned char)*s);
		if (v < 0 || pad) {
			free(out);
			return NULL;
		}
		acc = (acc << 6) | (unsigned int)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)((acc >> bits) & 0xFF);
		}
	}
	if (pad > 2 || bits >= 6) {
		free(out);
		return NULL;
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}

static int
get_b64(struct kc_doc *d, yaml_node_t *m, const char *key, const char *path, char **out,
    size_t *len, struct buf *err)
{
	char *raw;
	int st;

	*out = NULL;
	*len = 0;
	if ((st = get_str(d, m, key, path, &raw, err)) != ST_OK || !raw)
		return st;
	*out = k8s_b64_decode(raw, len);
	free(raw);
	if (!*out)
		return fail_at(err, ST_INVALID, d, map_get(d, m, key), "%s.%s: not valid base64",
		    path, key);
	return ST_OK;
}

/* A path field, made absolute against the file's directory. */
static int
get_path(struct kc_doc *d, yaml_node_t *m, const char *key, const char *path, char **out,
    struct buf *err)
{
	char *p;
	int st;

	if ((st = get_str(d, m, key, path, out, err)) != ST_OK || !*out)
		return st;
	if ((*out)[0] == '~' && (*out)[1] == '/' && getenv("HOME")) {
		p = xasprintf("%s%s", getenv("HOME"), *out + 1);
		free(*out);
		*out = p;
	} else if ((*out)[0] != '/' && d->dir) {
		p = xasprintf("%s/%s", d->dir, *out);
		free(*out);
		*out = p;
	}
	return ST_OK;
}

/* ---- loading and merging ------------------------------------------------- */

static int
doc_parse(struct kc_doc *d, const char *data, size_t len, struct buf *err)
{
	yaml_parser_t p;
	yaml_node_t *root;
	int st = ST_OK;

	if (!yaml_parser_initialize(&p))
		xalloc_fatal(sizeof p);
	yaml_parser_set_input_string(&p, (const unsigned char *)data, len);
	if (!yaml_parser_load(&p, &d->doc)) {
		if (err) {
			buf_reset(err);
			buf_printf(err, "%s:%zu:%zu: %s", d->name, p.problem_mark.line + 1,
			    p.problem_mark.column + 1, p.problem ? p.problem : "YAML syntax error");
		}
		yaml_parser_delete(&p);
		memset(&d->doc, 0, sizeof d->doc);
		return ST_PARSE;
	}
	yaml_parser_delete(&p);
	root = yaml_document_get_root_node(&d->doc);
	if (root && root->type != YAML_MAPPING_NODE && !is_null(root))
		st = fail_at(err, ST_INVALID, d, root, "expected a mapping (a kubeconfig) at the top");
	return st;
}

static int
add_refs(struct kc_set *s, struct kc_doc *d, const char *list, const char *inner,
    struct kc_ref **refs, size_t *n, struct buf *err)
{
	yaml_node_t *seq = map_get(d, yaml_document_get_root_node(&d->doc), list), *item, *nm, *in;
	yaml_node_item_t *it;
	const char *name;
	size_t i;

	(void)s;
	if (is_null(seq))
		return ST_OK;
	if (seq->type != YAML_SEQUENCE_NODE)
		return fail_at(err, ST_INVALID, d, seq, "%s: expected a list", list);
	for (it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++) {
		item = node(d, *it);
		nm = map_get(d, item, "name");
		if (!item || item->type != YAML_MAPPING_NODE)
			return fail_at(err, ST_INVALID, d, item, "%s[%td]: expected a mapping", list,
			    it - seq->data.sequence.items.start);
		if (!nm || nm->type != YAML_SCALAR_NODE || !*(char *)nm->data.scalar.value)
			return fail_at(err, ST_INVALID, d, item, "%s[%td].name: required", list,
			    it - seq->data.sequence.items.start);
		in = map_get(d, item, inner);
		if (in && !is_null(in) && in->type != YAML_MAPPING_NODE)
			return fail_at(err, ST_INVALID, d, in, "%s[%td].%s: expected a mapping", list,
			    it - seq->data.sequence.items.start, inner);
		name = (const char *)nm->data.scalar.value;
		for (i = 0; i < *n; i++)
			if (strcmp((*refs)[i].name, name) == 0)
				break;
		if (i < *n)
			continue;	/* the first file naming it wins */
		*refs = xreallocarray(*refs, *n + 1, sizeof **refs);
		(*refs)[(*n)++] = (struct kc_ref){ .name = name, .node = in, .doc = d, .at = item };
	}
	return ST_OK;
}

static int
set_add_doc(struct kc_set *s, const char *name, const char *data, size_t len, bool with_dir,
    struct buf *err)
{
	struct kc_doc *d;
	yaml_node_t *cc;
	const char *slash;
	int st;

	if (s->ndocs == MAX_FILES) {
		buf_reset(err);
		buf_printf(err, "%s: too many kubeconfig files (at most %d)", name, MAX_FILES);
		return ST_INVALID;
	}
	d = &s->docs[s->ndocs++];
	d->name = xstrdup(name);
	slash = strrchr(name, '/');
	d->dir = !with_dir ? NULL : slash ? xstrndup(name, (size_t)(slash - name)) : xstrdup(".");
	if ((st = doc_parse(d, data, len, err)) != ST_OK)
		return st;
	if (!yaml_document_get_root_node(&d->doc))
		return ST_OK;
	if ((st = add_refs(s, d, "clusters", "cluster", &s->clusters, &s->nclusters, err)) ||
	    (st = add_refs(s, d, "users", "user", &s->users, &s->nusers, err)) ||
	    (st = add_refs(s, d, "contexts", "context", &s->contexts, &s->ncontexts, err)))
		return st;
	cc = map_get(d, yaml_document_get_root_node(&d->doc), "current-context");
	if (!s->current && cc && cc->type == YAML_SCALAR_NODE && *(char *)cc->data.scalar.value) {
		s->current = (const char *)cc->data.scalar.value;
		s->current_doc = d;
	}
	return ST_OK;
}

static void
set_fini(struct kc_set *s)
{
	size_t i;

	for (i = 0; i < s->ndocs; i++) {
		yaml_document_delete(&s->docs[i].doc);
		free(s->docs[i].name);
		free(s->docs[i].dir);
	}
	free(s->clusters);
	free(s->users);
	free(s->contexts);
}

/* Reads a whole file, capped.  ST_NOTFOUND when it does not exist. */
static int
read_file(const char *path, size_t cap, char **out, size_t *len, struct buf *err)
{
	FILE *f = fopen(path, "rb");
	struct buf b;
	char chunk[4096];
	size_t n;
	int st = ST_OK;

	if (!f) {
		if (err) {
			buf_reset(err);
			buf_printf(err, "%s: %s", path, strerror(errno));
		}
		return errno == ENOENT ? ST_NOTFOUND : ST_IO;
	}
	buf_init(&b, cap);
	while (st == ST_OK && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
		st = buf_append(&b, chunk, n);
	if (st == ST_OK && ferror(f))
		st = ST_IO;
	fclose(f);
	if (st != ST_OK) {
		if (err) {
			buf_reset(err);
			buf_printf(err, "%s: %s", path, st == ST_TOOBIG ? "file too large" : "read error");
		}
		buf_fini(&b);
		return st;
	}
	*len = b.len;
	*out = b.data ? buf_take(&b) : xstrdup("");
	buf_fini(&b);
	return ST_OK;
}

static int
set_add_file(struct kc_set *s, const char *path, bool must_exist, struct buf *err)
{
	char *data;
	size_t len;
	int st = read_file(path, KUBECONFIG_MAX_BYTES, &data, &len, err);

	if (st == ST_NOTFOUND && !must_exist)
		return ST_OK;
	if (st != ST_OK)
		return st;
	st = set_add_doc(s, path, data, len, true, err);
	free(data);
	return st;
}

static int
set_load(struct kc_set *s, const struct kubeconfig_opts *o, struct buf *err)
{
	char *list, *p, *next, *home;
	int st = ST_OK;

	if (o->path && *o->path)
		return set_add_file(s, o->path, true, err);
	if (o->env && *o->env) {
		list = xstrdup(o->env);
		for (p = list; st == ST_OK && p; p = next) {
			next = strchr(p, ':');
			if (next)
				*next++ = '\0';
			if (*p)
				st = set_add_file(s, p, false, err);
		}
		free(list);
		if (st == ST_OK && s->ndocs == 0) {
			buf_reset(err);
			buf_printf(err, "none of the files in $KUBECONFIG exists");
			st = ST_NOTFOUND;
		}
		return st;
	}
	if (!o->home || !*o->home) {
		buf_reset(err);
		buf_puts(err, "no kubeconfig: give --kubeconfig, set $KUBECONFIG or $HOME");
		return ST_NOTFOUND;
	}
	home = xasprintf("%s/.kube/config", o->home);
	st = set_add_file(s, home, true, err);
	free(home);
	return st;
}

/* ---- resolving ----------------------------------------------------------- */

static struct kc_ref *
find_ref(struct kc_ref *refs, size_t n, const char *name)
{
	size_t i;

	for (i = 0; name && i < n; i++)
		if (strcmp(refs[i].name, name) == 0)
			return &refs[i];
	return NULL;
}

static int
fill_cluster(struct k8s_config *c, struct kc_ref *r, struct buf *err)
{
	char path[160];
	size_t len;
	int st;

	snprintf(path, sizeof path, "clusters[%.100s].cluster", r->name);
	if ((st = get_str(r->doc, r->node, "server", path, &c->server, err)) ||
	    (st = get_path(r->doc, r->node, "certificate-authority", path, &c->ca_file, err)) ||
	    (st = get_b64(r->doc, r->node, "certificate-authority-data", path, &c->ca_data,
		&c->ca_len, err)) ||
	    (st = get_str(r->doc, r->node, "tls-server-name", path, &c->tls_server_name, err)) ||
	    (st = get_bool(r->doc, r->node, "insecure-skip-tls-verify", path, &c->insecure, err)))
		return st;
	if (!c->server || !*c->server)
		return fail_at(err, ST_INVALID, r->doc, r->node ? r->node : r->at,
		    "%s.server: required", path);
	if (strncmp(c->server, "https://", 8) != 0 && strncmp(c->server, "http://", 7) != 0)
		return fail_at(err, ST_INVALID, r->doc, map_get(r->doc, r->node, "server"),
		    "%s.server: must start with https:// or http://", path);
	len = strlen(c->server);
	while (len > 0 && c->server[len - 1] == '/')
		c->server[--len] = '\0';
	return ST_OK;
}

static int
fill_exec(struct k8s_config *c, struct kc_doc *d, yaml_node_t *ex, const char *path,
    struct buf *err)
{
	yaml_node_t *args = map_get(d, ex, "args"), *env = map_get(d, ex, "env"), *it;
	yaml_node_item_t *i;
	char *cmd, *name, *value;
	size_t n = 1;
	int st;

	if (ex->type != YAML_MAPPING_NODE)
		return fail_at(err, ST_INVALID, d, ex, "%s.exec: expected a mapping", path);
	c->exec = xcalloc(1, sizeof *c->exec);
	if ((st = get_str(d, ex, "apiVersion", path, &c->exec->api_version, err)) ||
	    (st = get_str(d, ex, "command", path, &cmd, err)))
		return st;
	if (!cmd || !*cmd) {
		free(cmd);
		return fail_at(err, ST_INVALID, d, ex, "%s.exec.command: required", path);
	}
	if (!c->exec->api_version ||
	    (strcmp(c->exec->api_version, "client.authentication.k8s.io/v1") != 0 &&
	    strcmp(c->exec->api_version, "client.authentication.k8s.io/v1beta1") != 0)) {
		free(cmd);
		return fail_at(err, ST_UNSUPPORTED, d, ex, "%s.exec.apiVersion: must be "
		    "client.authentication.k8s.io/v1 or v1beta1", path);
	}
	if (strchr(cmd, '/') && cmd[0] != '/' && d->dir) {
		name = xasprintf("%s/%s", d->dir, cmd);
		free(cmd);
		cmd = name;
	}
	c->exec->argv = xcalloc(2, sizeof(char *));
	c->exec->argv[0] = cmd;
	if (!is_null(args) && args->type != YAML_SEQUENCE_NODE)
		return fail_at(err, ST_INVALID, d, args, "%s.exec.args: expected a list", path);
	for (i = is_null(args) ? NULL : args->data.sequence.items.start;
	    i && i < args->data.sequence.items.top; i++) {
		it = node(d, *i);
		if (!it || it->type != YAML_SCALAR_NODE)
			return fail_at(err, ST_INVALID, d, it, "%s.exec.args: expected strings", path);
		c->exec->argv = xreallocarray(c->exec->argv, n + 2, sizeof(char *));
		c->exec->argv[n++] = xstrdup((char *)it->data.scalar.value);
		c->exec->argv[n] = NULL;
	}
	c->exec->env = xcalloc(1, sizeof(char *));
	if (!is_null(env) && env->type != YAML_SEQUENCE_NODE)
		return fail_at(err, ST_INVALID, d, env, "%s.exec.env: expected a list", path);
	for (n = 0, i = is_null(env) ? NULL : env->data.sequence.items.start;
	    i && i < env->data.sequence.items.top; i++) {
		it = node(d, *i);
		if ((st = get_str(d, it, "name", path, &name, err)))
			return st;
		if (!name || !*name || strchr(name, '=')) {
			free(name);
			return fail_at(err, ST_INVALID, d, it, "%s.exec.env[].name: required", path);
		}
		if ((st = get_str(d, it, "value", path, &value, err))) {
			free(name);
			return st;
		}
		c->exec->env = xreallocarray(c->exec->env, n + 2, sizeof(char *));
		c->exec->env[n++] = xasprintf("%s=%s", name, value ? value : "");
		c->exec->env[n] = NULL;
		free(name);
		free(value);
	}
	return ST_OK;
}

static int
fill_user(struct k8s_config *c, struct kc_ref *r, struct buf *err)
{
	char path[160];
	yaml_node_t *ex;
	int st;

	snprintf(path, sizeof path, "users[%.100s].user", r->name);
	if ((st = get_str(r->doc, r->node, "token", path, &c->token, err)) ||
	    (st = get_path(r->doc, r->node, "tokenFile", path, &c->token_file, err)) ||
	    (st = get_path(r->doc, r->node, "client-certificate", path, &c->cert_file, err)) ||
	    (st = get_path(r->doc, r->node, "client-key", path, &c->key_file, err)) ||
	    (st = get_b64(r->doc, r->node, "client-certificate-data", path, &c->cert_data,
		&c->cert_len, err)) ||
	    (st = get_b64(r->doc, r->node, "client-key-data", path, &c->key_data, &c->key_len, err)))
		return st;
	if ((c->cert_file || c->cert_data) != (c->key_file || c->key_data))
		return fail_at(err, ST_INVALID, r->doc, r->node ? r->node : r->at,
		    "%s: a client certificate needs its key, and a key its certificate", path);
	if (map_get(r->doc, r->node, "auth-provider"))
		return fail_at(err, ST_UNSUPPORTED, r->doc, map_get(r->doc, r->node, "auth-provider"),
		    "%s.auth-provider: not supported (use an exec plugin)", path);
	ex = map_get(r->doc, r->node, "exec");
	if (!is_null(ex))
		return fill_exec(c, r->doc, ex, path, err);
	return ST_OK;
}

static int
resolve(struct kc_set *s, const char *want, const char *ns, struct k8s_config **out,
    struct buf *err)
{
	struct k8s_config *c;
	struct kc_ref *ctx, *cl, *us;
	struct kc_doc *d;
	char path[160];
	int st;

	d = s->ndocs ? &s->docs[0] : NULL;
	if (!want && !s->current)
		return fail_at(err, ST_NOTFOUND, d, NULL, "no current-context; give --context");
	ctx = find_ref(s->contexts, s->ncontexts, want ? want : s->current);
	if (!ctx)
		return fail_at(err, ST_NOTFOUND, want ? d : s->current_doc, NULL,
		    "context \"%.100s\" not found", want ? want : s->current);
	c = xcalloc(1, sizeof *c);
	pthread_mutex_init(&c->lock, NULL);
	*out = c;
	c->file = xstrdup(ctx->doc->name);
	c->context = xstrdup(ctx->name);
	snprintf(path, sizeof path, "contexts[%.100s].context", ctx->name);
	if ((st = get_str(ctx->doc, ctx->node, "cluster", path, &c->cluster, err)) ||
	    (st = get_str(ctx->doc, ctx->node, "user", path, &c->user, err)) ||
	    (st = get_str(ctx->doc, ctx->node, "namespace", path, &c->ns, err)))
		return st;
	if (!(cl = find_ref(s->clusters, s->nclusters, c->cluster)))
		return fail_at(err, ST_NOTFOUND, ctx->doc, map_get(ctx->doc, ctx->node, "cluster") ?
		    map_get(ctx->doc, ctx->node, "cluster") : ctx->at,
		    "%s.cluster: cluster \"%.100s\" not found", path, c->cluster ? c->cluster : "");
	if ((st = fill_cluster(c, cl, err)))
		return st;
	if (c->user && (us = find_ref(s->users, s->nusers, c->user))) {
		if ((st = fill_user(c, us, err)))
			return st;
	} else if (c->user && *c->user) {
		return fail_at(err, ST_NOTFOUND, ctx->doc, map_get(ctx->doc, ctx->node, "user"),
		    "%s.user: user \"%.100s\" not found", path, c->user);
	}
	if (ns && *ns) {
		free(c->ns);
		c->ns = xstrdup(ns);
	} else if (!c->ns || !*c->ns) {
		free(c->ns);
		c->ns = xstrdup("default");
	}
	return ST_OK;
}

int
k8s_config_load(const struct kubeconfig_opts *o, struct k8s_config **out, struct buf *err)
{
	struct kc_set s;
	int st;

	memset(&s, 0, sizeof s);
	*out = NULL;
	st = set_load(&s, o, err);
	if (st == ST_OK)
		st = resolve(&s, o->context, o->ns, out, err);
	set_fini(&s);
	if (st != ST_OK) {
		k8s_config_free(*out);
		*out = NULL;
	}
	return st;
}

static void free_secret(char *p, size_t n);

/* The namespace file of the service account, trimmed; NULL when absent. */
static char *
sa_namespace(const char *dir)
{
	char *path = xasprintf("%s/namespace", dir), *data = NULL;
	size_t len = 0;

	if (read_file(path, 4096, &data, &len, NULL) != ST_OK)
		data = NULL;
	free(path);
	while (data && len > 0 && strchr("\r\n\t ", data[len - 1]))
		data[--len] = '\0';
	if (data && len == 0) {
		free(data);
		data = NULL;
	}
	return data;
}

int
k8s_config_in_cluster(const char *host, const char *port, const char *sa_dir, const char *ns,
    struct k8s_config **out, struct buf *err)
{
	const char *dir = sa_dir && *sa_dir ? sa_dir : KUBE_SERVICEACCOUNT_DIR;
	struct k8s_config *c;
	char *tok = NULL, *ca;
	size_t len;

	*out = NULL;
	buf_reset(err);
	if (!host || !*host || !port || !*port) {
		buf_puts(err, "not in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT "
		    "must both be set");
		return ST_NOTFOUND;
	}
	c = xcalloc(1, sizeof *c);
	pthread_mutex_init(&c->lock, NULL);
	c->token_file = xasprintf("%s/token", dir);
	if (read_file(c->token_file, 64 * 1024, &tok, &len, err) != ST_OK) {
		k8s_config_free(c);
		return ST_NOTFOUND;
	}
	free_secret(tok, len);
	c->file = xstrdup(dir);
	c->context = xstrdup("in-cluster");
	c->cluster = xstrdup("in-cluster");
	c->user = xstrdup("serviceaccount");
	c->server = xasprintf(strchr(host, ':') ? "https://[%s]:%s" : "https://%s:%s", host, port);
	ca = xasprintf("%s/ca.crt", dir);
	if (access(ca, R_OK) == 0)
		c->ca_file = ca;
	else
		free(ca);
	c->ns = ns && *ns ? xstrdup(ns) : sa_namespace(dir);
	if (c->ns == NULL)
		c->ns = xstrdup("default");
	*out = c;
	return ST_OK;
}

int
k8s_config_parse(const char *name, const char *data, size_t len, const char *context,
    struct k8s_config **out, struct buf *err)
{
	struct kc_set s;
	int st;

	memset(&s, 0, sizeof s);
	*out = NULL;
	st = set_add_doc(&s, name, data, len, false, err);
	if (st == ST_OK)
		st = resolve(&s, context, NULL, out, err);
	set_fini(&s);
	if (st != ST_OK) {
		k8s_config_free(*out);
		*out = NULL;
	}
	return st;
}

static void
free_secret(char *p, size_t n)
{
	if (!p)
		return;
	memset(p, 0, n ? n : strlen(p));
	free(p);
}

static void
strv_free(char **v)
{
	size_t i;

	for (i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

void
k8s_config_forget(struct k8s_config *c)
{
	pthread_mutex_lock(&c->lock);
	free_secret(c->x_token, 0);
	free_secret(c->x_cert, c->x_cert_len);
	free_secret(c->x_key, c->x_key_len);
	c->x_token = c->x_cert = c->x_key = NULL;
	c->x_cert_len = c->x_key_len = 0;
	c->cached = false;
	c->expiry = 0;
	free(c->x_failed_msg);
	c->x_failed_msg = NULL;
	c->x_failed_at = 0;
	pthread_mutex_unlock(&c->lock);
}

void
k8s_config_free(struct k8s_config *c)
{
	if (!c)
		return;
	k8s_config_forget(c);
	pthread_mutex_destroy(&c->lock);
	free(c->file);
	free(c->context);
	free(c->cluster);
	free(c->user);
	free(c->server);
	free(c->ns);
	free(c->ca_file);
	free(c->ca_data);
	free(c->tls_server_name);
	free_secret(c->token, 0);
	free(c->token_file);
	free(c->cert_file);
	free(c->key_file);
	free(c->cert_data);
	free_secret(c->key_data, c->key_len);
	if (c->exec) {
		free(c->exec->api_version);
		strv_free(c->exec->argv);
		strv_free(c->exec->env);
		free(c->exec);
	}
	free(c);
}

void
k8s_auth_fini(struct k8s_auth *a)
{
	free_secret(a->bearer, 0);
	free(a->cert_pem);
	free_secret(a->key_pem, a->key_len);
	free(a->cert_file);
	free(a->key_file);
	memset(a, 0, sizeof *a);
}

static char *
dup_mem(const char *p, size_t n)
{
	char *q = xmalloc(n + 1);

	memcpy(q, p, n);
	q[n] = '\0';
	return q;
}

static int
auth_exec(struct k8s_config *c, time_t now, struct k8s_auth *a, struct buf *err)
{
	int st = ST_OK;

	pthread_mutex_lock(&c->lock);
	if (c->cached && c->expiry && now >= c->expiry - 10)
		c->cached = false;	/* refetch a little before expiry */
	if (!c->cached && c->x_failed_msg != NULL && now >= c->x_failed_at &&
	    now - c->x_failed_at < EXEC_FAIL_HOLD_S) {
		st = c->x_failed_st;	/* it failed a moment ago: the same answer */
		if (err != NULL) {
			buf_reset(err);
			buf_puts(err, c->x_failed_msg);
		}
	} else if (!c->cached) {
		free_secret(c->x_token, 0);
		free_secret(c->x_cert, c->x_cert_len);
		free_secret(c->x_key, c->x_key_len);
		c->x_token = c->x_cert = c->x_key = NULL;
		st = k8s_exec_credential(c->exec, now, &c->x_token, &c->x_cert, &c->x_cert_len,
		    &c->x_key, &c->x_key_len, &c->expiry, err);
		c->cached = st == ST_OK;
		free(c->x_failed_msg);
		c->x_failed_msg = st == ST_OK ? NULL : xstrdup(err != NULL ? buf_str(err) : "failed");
		c->x_failed_st = st;
		c->x_failed_at = now;
	}
	if (st == ST_OK) {
		if (c->x_token)
			a->bearer = xstrdup(c->x_token);
		if (c->x_cert) {
			a->cert_pem = dup_mem(c->x_cert, c->x_cert_len);
			a->cert_len = c->x_cert_len;
			a->key_pem = dup_mem(c->x_key, c->x_key_len);
			a->key_len = c->x_key_len;
		}
	}
	pthread_mutex_unlock(&c->lock);
	return st;
}

int
k8s_auth_read_files(struct k8s_auth *a, struct buf *err)
{
	char *cert, *key;
	size_t cert_len, key_len;

	if (a->cert_pem != NULL || a->cert_file == NULL || a->key_file == NULL)
		return ST_OK;
	if (read_file(a->cert_file, 256 * 1024, &cert, &cert_len, err) != ST_OK)
		return ST_AUTH;
	if (read_file(a->key_file, 256 * 1024, &key, &key_len, err) != ST_OK) {
		free(cert);
		return ST_AUTH;
	}
	a->cert_pem = cert;
	a->cert_len = cert_len;
	a->key_pem = key;
	a->key_len = key_len;
	return ST_OK;
}

int
k8s_config_auth(struct k8s_config *c, time_t now, struct k8s_auth *a, struct buf *err)
{
	char *data;
	size_t len;
	int st;

	memset(a, 0, sizeof *a);
	if (c->cert_data) {
		a->cert_pem = dup_mem(c->cert_data, c->cert_len);
		a->cert_len = c->cert_len;
	}
	if (c->key_data) {
		a->key_pem = dup_mem(c->key_data, c->key_len);
		a->key_len = c->key_len;
	}
	a->cert_file = c->cert_file ? xstrdup(c->cert_file) : NULL;
	a->key_file = c->key_file ? xstrdup(c->key_file) : NULL;
	if (c->token && *c->token) {
		a->bearer = xstrdup(c->token);
	} else if (c->token_file) {
		if ((st = read_file(c->token_file, 64 * 1024, &data, &len, err)) != ST_OK) {
			k8s_auth_fini(a);
			return ST_AUTH;
		}
		while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r' ||
		    data[len - 1] == ' '))
			data[--len] = '\0';
		a->bearer = data;
	}
	if (c->exec && !a->bearer && !a->cert_pem && !a->cert_file) {
		if ((st = auth_exec(c, now, a, err)) != ST_OK) {
			k8s_auth_fini(a);
			return st;
		}
	}
	return ST_OK;
}
