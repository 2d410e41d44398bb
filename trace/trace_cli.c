/* trace_cli.c — argument parsing and dispatch for `rocky trace`. */
#include "trace_cli.h"

#include <stdio.h>

int rocky_trace_cli_main(int argc, char **argv)
{
    (void)argv;
    fprintf(stderr, "usage: rocky trace <run_id|latest> [--model NAME] "
                    "[--json | --format text|json|chrome|html] "
                    "[--state PATH] [--width N] [--follow]\n");
    return argc > 1 ? 1 : 2;
}
