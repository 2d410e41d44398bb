/*
 * store.h — the state store: every run and model execution, in SQLite.
 *
 * The runner writes runs through this API and `rocky trace` (and the
 * standalone rocky-trace) reads them back through the same API, so the
 * on-disk schema is known to this module alone.
 *
 * Properties the implementation guarantees:
 *   - WAL mode and a busy timeout, so a reader (`rocky trace --follow`)
 *     never blocks the runner and the runner never fails because a reader
 *     holds the file.
 *   - Schema versioned with PRAGMA user_version and migrated forward on
 *     open for writing; a store written by a newer rocky is refused with
 *     ROCKY_EVERSION and a message naming both schema versions.
 *   - A file that is not a SQLite database, or a corrupt one, gives
 *     ROCKY_ECORRUPT with a message, never a crash.
 *   - Each model execution is committed the moment it is recorded, so a
 *     runner killed by SIGKILL leaves every finished model on record. A run
 *     still marked running whose owner process is gone reads back as
 *     ROCKY_RUN_CRASHED.
 *   - Writing a run never touches other runs' rows.
 *
 * Threading: a `struct rocky_store` is one SQLite connection; use it from one
 * thread at a time (the runner funnels writes through one thread or a lock).
 * Several processes may open the same file.
 *
 * Errors: every function returns 0 or a negative ROCKY_E* code. Functions
 * taking `err`/`err_size` write a one-line, user-facing explanation there
 * (what was wrong, which file, what to do) when they fail.
 */
#ifndef ROCKY_LIB_STORE_H
#define ROCKY_LIB_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "rocky/run_model.h"
#include "run_record.h"

struct rocky_store; /* opaque */

/* Open flags. */
enum rocky_store_open_flags {
    ROCKY_STORE_READONLY = 0,  /* read; the file must exist                */
    ROCKY_STORE_READWRITE = 1, /* read and write; create if missing,
                                  migrate forward                          */
};

/* The default store path relative to a project directory. */
#define ROCKY_STORE_DEFAULT_FILE ".rocky/state.db"

/* Open (and for READWRITE create/migrate) the store at `path`. On success
 * *out owns a connection; close it with rocky_store_close. Errors:
 * ROCKY_ENOTFOUND (READONLY and no file), ROCKY_EVERSION (newer schema),
 * ROCKY_ECORRUPT (not a store / corrupt), ROCKY_EIO. */
int rocky_store_open(const char *path, int flags, struct rocky_store **out,
                     char *err, size_t err_size);

/* Close the connection. NULL is a no-op. */
void rocky_store_close(struct rocky_store *store);

/* Record that `run` started (status RUNNING) and is owned by this process.
 * `run->run_id` must be new. Committed before return. */
int rocky_store_run_begin(struct rocky_store *store,
                          const struct rocky_run *run, char *err,
                          size_t err_size);

/* Record one finished (or skipped/interrupted) model execution of run
 * `run_id`. Committed before return (durable in WAL once this returns). */
int rocky_store_model_record(struct rocky_store *store, const char *run_id,
                             const struct rocky_model_exec *model, char *err,
                             size_t err_size);

/* Record the run's final status, finish time and counters. */
int rocky_store_run_finish(struct rocky_store *store,
                           const struct rocky_run *run, char *err,
                           size_t err_size);

/* Record whether the plugins confirmed full delivery of the run's telemetry
 * (1 yes, 0 no). */
int rocky_store_set_delivery(struct rocky_store *store, const char *run_id,
                             int confirmed, char *err, size_t err_size);

/* Load one run with all its model executions. `run_id` may be "latest".
 * On success *out is a new record (free with rocky_run_record_free).
 * ROCKY_ENOTFOUND when the store has no runs (message says so) or no run
 * with that id (message lists the most recent ids). */
int rocky_store_run_load(struct rocky_store *store, const char *run_id,
                         struct rocky_run_record **out, char *err,
                         size_t err_size);

/* Up to `max` most recent run ids, newest first, written into `ids` as
 * heap strings (caller frees each). *count receives how many. */
int rocky_store_recent_run_ids(struct rocky_store *store, char **ids,
                               size_t max, size_t *count);

/* Ids of runs whose delivery is not confirmed (delivery_confirmed == 0),
 * oldest first, at most `max`; same ownership as above. */
int rocky_store_pending_run_ids(struct rocky_store *store, char **ids,
                                size_t max, size_t *count);

#endif
