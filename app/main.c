/* main.c — perch: interactive canary rollouts in the terminal (see app/cli.c). */
#include "app/cli.h"

int
main(int argc, char **argv)
{
	return cli_main(argc, argv);
}
