/* main.c — the standalone rocky-trace executable. */
#include "trace_cli.h"

int main(int argc, char **argv)
{
    return rocky_trace_cli_main(argc, argv);
}
