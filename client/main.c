/* main.c - osdctl, the command-line client of osdetd. All logic is in osdctl_core (cli.c). */
#include <stdio.h>

#include "cli.h"

int main(int argc, char **argv)
{
    return cli_run(argc, argv, stdout, stderr);
}
