/*
 * theme.c — loading themes (see theme.h): the compiled-in default, the
 * search path, and the YAML reader (libyaml's document API, so every error
 * names the file, line and column of the offending node).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "tui/theme.h"
#include "util/buf.h"
#include "util/sanitize.h"
#include "util/status.h"

#define THEME_MAX_BYTES (64 * 1024)

const char *const theme_cycle[] = {
	"default", "light", "mono", "high-contrast", "dusk", NULL
};

static const struct {
	const char *name, *help;
	short fg, bg;
	unsigned attrs;
} roles[ROLE__COUNT] = {
#define X(id, name, fg, bg, attrs, desc) { name, desc, fg, bg, attrs },
	ROLE_LIST(X)
#undef X
};

const char *
theme_role_name(enum theme_role r)
{
	return r < ROLE__COUNT ? roles[r].name : "?";
}

const char *
theme_role_help(enum theme_role r)
{
	return r < ROLE__COUNT ? roles[r].help : "?";
}

void
theme_default(struct theme *out)
{
	int i;

	memset(out, 0, sizeof *out);
	snprintf(out->name, sizeof out->name, "default");
	for (i = 0; i < ROLE__COUNT; i++) {
		out->style[i].fg = roles[i].fg;
		out->style[i].bg = roles[i].bg;
		out->style[i].attrs = roles[i].attrs;
	}
}

/* ---- colour arithmetic ------------------------------------------------ */

static void
xterm_rgb(short c, int rgb[3])
{
	static const int base[16][3] = {
		{0, 0, 0}, {205, 0, 0}, {0, 205, 0}, {205, 205, 0},
		{0, 0, 238}, {205, 0, 205}, {0, 205, 205}, {229, 229, 229},
		{127, 127, 127}, {255, 0, 0}, {0, 255, 0}, {255, 255, 0},
		{92, 92, 255}, {255, 0, 255}, {0, 255, 255}, {255, 255, 255},
	};
	static const int level[6] = { 0, 95, 135, 175, 215, 255 };
	int i;

	if (c < 16) {
		for (i = 0; i < 3; i++)
			rgb[i] = base[c][i];
	} else if (c < 232) {
		c -= 16;
		rgb[0] = level[c / 36];
		rgb[1] = level[(c / 6) % 6];
		rgb[2] = level[c % 6];
	} else {
		rgb[0] = rgb[1] = rgb[2] = 8 + (c - 232) * 10;
	}
}

short
theme_nearest(short color, int n)
{
	int rgb[3], cand[3], i, best = 0;
	long bestd = -1;

	if (color < 0 || color < n)
		return color;
	xterm_rgb(color, rgb);
	for (i = 0; i < n && i < 16; i++) {
		long d = 0;
		int k;

		xterm_rgb((short)i, cand);
		for (k = 0; k < 3; k++)
			d += (long)(rgb[k] - cand[k]) * (rgb[k] - cand[k]);
		if (bestd < 0 || d < bestd) {
			bestd = d;
			best = i;
		}
	}
	return (short)best;
}

/* ---- YAML ------------------------------------------------------------- */

struct tp {
	yaml_document_t *doc;
	const char *file;
	char *err;
	size_t errsz;
};

static int
tp_error(struct tp *p, const yaml_node_t *n, const char *fmt, const char *what)
{
	char clean[96];

	sanitize(clean, sizeof clean, what, strlen(what));
	snprintf(p->err, p->errsz, "%s:%lu:%lu: ", p->file,
	    (unsigned long)n->start_mark.line + 1, (unsigned long)n->start_mark.column + 1);
	snprintf(p->err + strlen(p->err), p->errsz - strlen(p->err), fmt, clean);
	return ST_PARSE;
}

static const char *
scalar(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static int
parse_color(struct tp *p, const yaml_node_t *n, short *out)
{
	static const char *const names[8] = {
		"black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"
	};
	const char *s = scalar(n);
	char *end;
	long v;
	int i;

	if (s == NULL)
		return tp_error(p, n, "a colour must be a number 0-255 or a name%s", "");
	if (strcmp(s, "default") == 0) {
		*out = COLOR_DEFAULT;
		return ST_OK;
	}
	for (i = 0; i < 8; i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = (short)i;
			return ST_OK;
		}
		if (strncmp(s, "bright-", 7) == 0 && strcmp(s + 7, names[i]) == 0) {
			*out = (short)(i + 8);
			return ST_OK;
		}
	}
	errno = 0;
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < 0 || v > 255)
		return tp_error(p, n, "unknown colour '%s' (0-255, default, black, red, ..., bright-white)", s);
	*out = (short)v;
	return ST_OK;
}

static int
parse_attr_word(struct tp *p, const yaml_node_t *n, const char *w, unsigned *attrs)
{
	static const struct { const char *name; unsigned bit; } words[] = {
		{ "bold", TA_BOLD }, { "dim", TA_DIM }, { "reverse", TA_REVERSE },
		{ "underline", TA_UNDERLINE }, { "italic", TA_ITALIC }, { "none", 0 },
	};
	size_t i;

	for (i = 0; i < sizeof words / sizeof words[0]; i++) {
		if (strcmp(w, words[i].name) == 0) {
			*attrs |= words[i].bit;
			return ST_OK;
		}
	}
	return tp_error(p, n, "unknown attribute '%s' (bold, dim, reverse, underline, italic, none)", w);
}

static int
parse_attrs(struct tp *p, const yaml_node_t *n, unsigned *attrs)
{
	yaml_node_item_t *it;

	*attrs = 0;
	if (n->type == YAML_SCALAR_NODE) {
		char word[32];
		const char *s = scalar(n);

		while (*s != '\0') {
			size_t len = strcspn(s, " ,");

			if (len > 0) {
				snprintf(word, sizeof word, "%.*s", (int)(len < 31 ? len : 31), s);
				if (parse_attr_word(p, n, word, attrs) != ST_OK)
					return ST_PARSE;
			}
			s += len;
			s += strspn(s, " ,");
		}
		return ST_OK;
	}
	if (n->type != YAML_SEQUENCE_NODE)
		return tp_error(p, n, "attrs must be a list of words%s", "");
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		yaml_node_t *w = yaml_document_get_node(p->doc, *it);

		if (w == NULL || scalar(w) == NULL)
			return tp_error(p, n, "attrs must be a list of words%s", "");
		if (parse_attr_word(p, w, scalar(w), attrs) != ST_OK)
			return ST_PARSE;
	}
	return ST_OK;
}

static int
parse_style(struct tp *p, const yaml_node_t *n, struct theme_style *st)
{
	yaml_node_pair_t *pair;

	if (n->type != YAML_MAPPING_NODE)
		return tp_error(p, n, "a role must be a mapping with fg, bg and attrs%s", "");
	for (pair = n->data.mapping.pairs.start; pair < n->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = yaml_document_get_node(p->doc, pair->key);
		yaml_node_t *v = yaml_document_get_node(p->doc, pair->value);
		const char *key = k ? scalar(k) : NULL;
		int st_ = ST_OK;

		if (key == NULL || v == NULL)
			return tp_error(p, n, "a role must be a mapping with fg, bg and attrs%s", "");
		if (strcmp(key, "fg") == 0)
			st_ = parse_color(p, v, &st->fg);
		else if (strcmp(key, "bg") == 0)
			st_ = parse_color(p, v, &st->bg);
		else if (strcmp(key, "attrs") == 0)
			st_ = parse_attrs(p, v, &st->attrs);
		else
			return tp_error(p, k, "unknown key '%s' (fg, bg, attrs)", key);
		if (st_ != ST_OK)
			return st_;
	}
	return ST_OK;
}

static int
parse_roles(struct tp *p, const yaml_node_t *n, struct theme *out)
{
	yaml_node_pair_t *pair;

	if (n->type != YAML_MAPPING_NODE)
		return tp_error(p, n, "roles must be a mapping of role names%s", "");
	for (pair = n->data.mapping.pairs.start; pair < n->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = yaml_document_get_node(p->doc, pair->key);
		yaml_node_t *v = yaml_document_get_node(p->doc, pair->value);
		const char *key = k ? scalar(k) : NULL;
		int r;

		if (key == NULL || v == NULL)
			return tp_error(p, n, "roles must be a mapping of role names%s", "");
		for (r = 0; r < ROLE__COUNT; r++)
			if (strcmp(key, roles[r].name) == 0)
				break;
		if (r == ROLE__COUNT)
			return tp_error(p, k, "unknown role '%s' (see perch-theme(5))", key);
		if (parse_style(p, v, &out->style[r]) != ST_OK)
			return ST_PARSE;
	}
	return ST_OK;
}

static int
parse_top(struct tp *p, const yaml_node_t *root, struct theme *out)
{
	yaml_node_pair_t *pair;

	if (root->type != YAML_MAPPING_NODE)
		return tp_error(p, root, "a theme must be a mapping (name, description, roles)%s", "");
	for (pair = root->data.mapping.pairs.start; pair < root->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = yaml_document_get_node(p->doc, pair->key);
		yaml_node_t *v = yaml_document_get_node(p->doc, pair->value);
		const char *key = k ? scalar(k) : NULL;

		if (key == NULL || v == NULL)
			return tp_error(p, root, "a theme must be a mapping (name, description, roles)%s", "");
		if (strcmp(key, "name") == 0) {
			if (scalar(v) == NULL)
				return tp_error(p, v, "name must be a string%s", "");
			sanitize(out->name, sizeof out->name, scalar(v), strlen(scalar(v)));
		} else if (strcmp(key, "description") == 0) {
			if (scalar(v) == NULL)
				return tp_error(p, v, "description must be a string%s", "");
		} else if (strcmp(key, "roles") == 0) {
			if (parse_roles(p, v, out) != ST_OK)
				return ST_PARSE;
		} else {
			return tp_error(p, k, "unknown key '%s' (name, description, roles)", key);
		}
	}
	return ST_OK;
}

int
theme_parse(const char *text, size_t len, const char *file, struct theme *out,
    char *err, size_t errsz)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	struct tp p = { &doc, file, err, errsz };
	int st;

	theme_default(out);
	if (!yaml_parser_initialize(&parser)) {
		snprintf(err, errsz, "%s: cannot start the YAML parser", file);
		return ST_PARSE;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(err, errsz, "%s:%lu:%lu: %s", file,
		    (unsigned long)parser.problem_mark.line + 1,
		    (unsigned long)parser.problem_mark.column + 1,
		    parser.problem ? parser.problem : "YAML syntax error");
		yaml_parser_delete(&parser);
		return ST_PARSE;
	}
	root = yaml_document_get_root_node(&doc);
	if (root == NULL) {
		snprintf(err, errsz, "%s:1:1: the theme is empty", file);
		st = ST_PARSE;
	} else {
		st = parse_top(&p, root, out);
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return st;
}

/* ---- files ------------------------------------------------------------ */

static int
read_file(const char *path, struct buf *b)
{
	FILE *f = fopen(path, "rb");
	char chunk[4096];
	size_t n;
	int st = ST_OK;

	if (f == NULL)
		return errno == ENOENT ? ST_NOTFOUND : ST_IO;
	while (st == ST_OK && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
		st = buf_append(b, chunk, n);
	if (st == ST_OK && ferror(f))
		st = ST_IO;
	fclose(f);
	return st;
}

static int
load_path(const char *path, struct theme *out, char *err, size_t errsz)
{
	struct buf b;
	int st;

	buf_init(&b, THEME_MAX_BYTES);
	st = read_file(path, &b);
	if (st == ST_OK)
		st = theme_parse(buf_str(&b), b.len, path, out, err, errsz);
	else if (st == ST_TOOBIG)
		snprintf(err, errsz, "%s: theme file larger than %d bytes", path, THEME_MAX_BYTES);
	else if (st != ST_NOTFOUND)
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
	buf_fini(&b);
	return st;
}

static bool
name_is_plain(const char *name)
{
	size_t i;

	if (name[0] == '\0' || name[0] == '.')
		return false;
	for (i = 0; name[i] != '\0'; i++)
		if (!(name[i] == '-' || name[i] == '_' || name[i] == '.' ||
		    (name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
		    (name[i] >= '0' && name[i] <= '9')))
			return false;
	return true;
}

int
theme_load(const char *name, struct theme *out, char *err, size_t errsz)
{
	char dirs[3][400], path[700];
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	size_t len = strlen(name);
	int i, st;

	if (strchr(name, '/') != NULL || (len > 5 && strcmp(name + len - 5, ".yaml") == 0)) {
		st = load_path(name, out, err, errsz);
		if (st == ST_NOTFOUND)
			snprintf(err, errsz, "%s: no such theme file", name);
		return st;
	}
	if (!name_is_plain(name) || len > 200) {
		snprintf(err, errsz, "theme name '%.60s' is not a plain name or a path", name);
		return ST_NOTFOUND;
	}
	if (xdg != NULL && xdg[0] == '/')
		snprintf(dirs[0], sizeof dirs[0], "%s/perch/themes", xdg);
	else
		snprintf(dirs[0], sizeof dirs[0], "%s/.config/perch/themes", home ? home : "");
	snprintf(dirs[1], sizeof dirs[1], "%s/themes", PERCH_DATADIR);
	snprintf(dirs[2], sizeof dirs[2], "./themes");
	for (i = 0; i < 3; i++) {
		if (snprintf(path, sizeof path, "%.400s/%.200s.yaml", dirs[i], name) >= (int)sizeof path)
			continue;
		st = load_path(path, out, err, errsz);
		if (st != ST_NOTFOUND)
			return st;
	}
	if (strcmp(name, "default") == 0) {
		theme_default(out);
		return ST_OK;
	}
	snprintf(err, errsz, "theme %s not found in %s, %s or %s", name, dirs[0], dirs[1], dirs[2]);
	return ST_NOTFOUND;
}
