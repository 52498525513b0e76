/*
 * nc.h — includes ncurses with its wide-character API.  Only tui/ includes
 * this, and only the UI thread calls ncurses.
 */
#ifndef PERCH_TUI_NC_H
#define PERCH_TUI_NC_H

#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#include <curses.h>

#endif
