/*
 * trace_cli.h — `rocky trace` / `rocky-trace`: show one recorded run's
 * timeline as text, JSON, Chrome trace-event JSON or a self-contained HTML
 * page.
 *
 * The runner's `rocky trace ...` subcommand and the standalone rocky-trace
 * executable both call rocky_trace_cli_main(); it needs nothing but the state
 * store (lib/store.h), never the plugin host.
 */
#ifndef ROCKY_TRACE_CLI_H
#define ROCKY_TRACE_CLI_H

/*
 * Run the trace command. `argv[0]` is the command name ("trace" from the
 * runner, the program name from rocky-trace); the rest are its arguments:
 *
 *   trace <run_id|latest> [--model NAME] [--json | --format F]
 *         [--state PATH] [--width N] [--follow]
 *
 * Writes the rendering to stdout and errors (with a hint) to stderr.
 * Returns the process exit status: 0 on success, 1 when the run could not be
 * shown (no store, no such run, ...), 2 on a usage error.
 * Not thread-safe (reads the environment and the terminal); call it from the
 * main thread.
 */
int rocky_trace_cli_main(int argc, char **argv);

#endif
