/* main.c — perch: interactive canary rollouts in the terminal (see app/dispatch.c). */
#include "app/dispatch.h"

int
main(int argc, char **argv)
{
	return cli_main(argc, argv);
}
