/*
 * dispatch.h — the entry of the command line: parses perch's global
 * options and runs the command named (app/commands.def, app/cmd/).
 * Returns the exit status (app/cli_msg.h).  Main thread.
 */
#ifndef PERCH_APP_DISPATCH_H
#define PERCH_APP_DISPATCH_H

int cli_main(int argc, char **argv);

#endif
