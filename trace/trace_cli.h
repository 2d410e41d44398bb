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

#include <stddef.h>

/*
 * Run the trace command. `argv[0]` is the command name ("trace" from the
 * runner, the program name from rocky-trace); the rest are its arguments:
 *
 *   trace <run_id|latest> [--model NAME] [--compare RUN]
 *         [-o|--output json|table | --json | --format F]
 *         [--state PATH] [--width N] [--follow]
 *
 * Writes the rendering to stdout and errors (with a hint) to stderr.
 * Returns the process exit status: 0 on success, 1 when the run could not be
 * shown (no store, no such run, ...), 2 on a usage error.
 * Not thread-safe (reads the environment and the terminal); call it from the
 * main thread.
 */
int rocky_trace_cli_main(int argc, char **argv);

/*
 * What the runner's options before the subcommand (upstream rocky's global
 * flags: `rocky -o json --state-path P -c DIR/rocky.json trace latest`)
 * say to `rocky trace`. Borrowed for the call; NULL members are unset.
 */
struct rocky_trace_cli_globals {
    /* -o/--output before the subcommand: "json" or "table" (already
     * checked by the runner). A format option after the subcommand
     * (--json, --format, -o) overrides it: the last word wins. */
    const char *output;
    /* --state-path before the subcommand: the store, like --state. Both
     * given with different values is a usage error. */
    const char *state_path;
    /* The store of the project named by -c/--config (its rocky.json
     * "state", else DIR/.rocky/state.db, as `rocky run` resolves it);
     * used when neither --state/--state-path nor ROCKY_STATE is set. */
    const char *config_state_path;
};

/* rocky_trace_cli_main with the runner's global options (`g` may be
 * NULL). Same arguments, output and exit statuses. */
int rocky_trace_cli_run(int argc, char **argv,
                        const struct rocky_trace_cli_globals *g);

/* The text width `rocky trace` draws to: `requested` when > 0 (--width),
 * else the terminal's, else $COLUMNS, else 100. Shared by `rocky runs`. */
size_t rocky_trace_cli_width(long requested);

#endif
