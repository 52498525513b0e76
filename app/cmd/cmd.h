/*
 * cmd.h — the commands, one file each under app/cmd/: cmd_NAME() in
 * app/cmd/NAME.c for every CMD(NAME, ...) of app/commands.def, called by
 * the dispatcher (app/dispatch.c) with argv[0] = NAME; each returns an
 * exit status (app/cli_msg.h).  What they share is app/cli.h.
 * Main thread.
 */
#ifndef PERCH_APP_CMD_CMD_H
#define PERCH_APP_CMD_CMD_H

#define CMD(name, synopsis, summary, help) int cmd_##name(int argc, char **argv);
#include "app/commands.def"
#undef CMD

#endif
