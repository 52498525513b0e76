/* keymap.c — the key table of keymap.h and the codes bound to each key. */
#include <stddef.h>

#include "tui/keymap.h"
#include "tui/nc.h"

const struct keymap_entry keymap[KA__COUNT] = {
#define X(id, label, foot, help, flags) { KA_##id, label, foot, help, flags },
	KEYMAP_LIST(X)
#undef X
};

#define CTRL(c) ((c) & 0x1f)

/* The codes of each action; a code appears once.  Ctrl-D and Ctrl-K are
 * deliberately absent. */
static const struct {
	int code;
	enum key_action action;
} codes[] = {
	{ KEY_UP, KA_UP }, { 'k', KA_UP },
	{ KEY_DOWN, KA_DOWN }, { 'j', KA_DOWN },
	{ 'K', KA_EV_LINE }, { 'J', KA_EV_LINE },
	{ KEY_PPAGE, KA_EV_PAGE }, { KEY_NPAGE, KA_EV_PAGE },
	{ '\n', KA_DETAIL }, { '\r', KA_DETAIL }, { KEY_ENTER, KA_DETAIL }, { 'l', KA_DETAIL },
	{ 'e', KA_EVENT },
	{ 27, KA_BACK }, { 'h', KA_BACK },
	{ 'p', KA_STEP },
	{ 'P', KA_PROMOTE },
	{ ' ', KA_PAUSE },
	{ 'r', KA_ROLLBACK },
	{ 'R', KA_RETRY },
	{ 's', KA_SKIP },
	{ 'a', KA_APPROVE },
	{ '/', KA_FILTER },
	{ 't', KA_THEME },
	{ '?', KA_HELP },
	{ CTRL('l'), KA_REDRAW },
	{ 'q', KA_QUIT },
};

enum key_action
keymap_lookup(int code)
{
	size_t i;

	for (i = 0; i < sizeof codes / sizeof codes[0]; i++)
		if (codes[i].code == code)
			return codes[i].action;
	return KA_NONE;
}

const char *
keymap_footer_key(enum key_action a, bool utf8)
{
	switch (a) {
	case KA_DETAIL:
		return utf8 ? "↵" : "Enter";
	case KA_BACK:
		return "Esc";
	case KA_PAUSE:
		return utf8 ? "␣" : "Space";
	default:
		return a >= 0 && a < KA__COUNT ? keymap[a].label : "";
	}
}
