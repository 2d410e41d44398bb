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
 *   - A run's row never claims more than its model rows hold: a run whose
 *     model records could not all be written (disk full, I/O error) is
 *     recorded, and reads back, as ROCKY_RUN_INCOMPLETE.
 *   - Nothing is written to a file that is not ours: a SQLite database
 *     with another application_id, or without the tables of its
 *     user_version, is refused (ROCKY_ECORRUPT) before any write, lock or
 *     WAL switch. An empty (0-byte) file is a new store.
 *   - A writer refuses, before SQLite creates anything, a store that this
 *     user cannot write (file or directory), and makes a -wal/-shm of its
 *     own that a read-only run left behind writable again. A reader reads
 *     a store in a read-only directory or a read-only file (opened
 *     immutable when no -shm can be made and no -wal holds data).
 *   - Errors say what to do: "the disk is full: free space ...".
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

#include "rocky/plugin.h"
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

/* Record that a model execution started: a new row, status RUNNING, with
 * its start time and span id (finished 0). The runner writes it when the
 * model starts, so a reader sees what is in flight and a killed runner
 * leaves it on record (read back as interrupted in a crashed run). Returns
 * 0 or a ROCKY_E* code with a message. */
int rocky_store_model_start(struct rocky_store *store, const char *run_id,
                            const struct rocky_model_exec *model, char *err,
                            size_t err_size);

/* Record one finished (or skipped/interrupted) model execution of run
 * `run_id`: it updates the row of its start (same run, model name and
 * attempt, still RUNNING) — never a second row — or inserts one when its
 * start is not on record (a skipped model, a start that could not be
 * written). Committed before return (durable in WAL once this returns),
 * or with the batch it is in (store_batch.h). */
int rocky_store_model_record(struct rocky_store *store, const char *run_id,
                             const struct rocky_model_exec *model, char *err,
                             size_t err_size);

/* Record the run's final status, finish time and counters. */
int rocky_store_run_finish(struct rocky_store *store,
                           const struct rocky_run *run, char *err,
                           size_t err_size);

/*
 * Delivery of a run's telemetry, per plugin instance (schema 3).
 *
 * The runner records, when the run begins, every plugin instance it loaded:
 * enough to create that instance again for a re-send (library path, name,
 * project directory, configuration from rocky.json) — never its
 * environment. Each instance row starts unconfirmed and is confirmed when
 * that instance reports full delivery. A run is confirmed (listed no more
 * by rocky_store_pending_run_ids) exactly when every instance row of it is;
 * a run recorded without instance rows carries the run-level flag alone.
 *
 * The configuration is stored as given (a JSON object of strings) except
 * credentials: the value of a key whose name says credential ("headers",
 * or containing "secret", "token", "passw", "credential", "auth", "apikey",
 * "api_key" or "private", in any case) is never written — the key is kept,
 * its value withheld, so a re-send can say what it lacks. The environment
 * is never stored either: a re-send takes both from its own environment.
 */
struct rocky_store_plugin {
    const char *instance;    /* instance name, unique within the run       */
    const char *path;        /* the library, absolute where it could be     */
    const char *project_dir; /* the project it ran for; may be NULL         */
    const struct rocky_config_entry *config; /* config_count entries        */
    size_t config_count;
    int confirmed;    /* 1: the instance confirmed full delivery           */
    uint64_t pending; /* its last report: items still queued at its stop   */
    uint64_t dropped; /* ... and items it gave up on                       */
    /* Reading: the config keys whose values were withheld (credentials),
     * comma-separated, or NULL. Ignored when writing. */
    const char *withheld;
};

/* Record the plugin instances of run `run_id` (all unconfirmed, `confirmed`
 * and the counts ignored) and mark the run unconfirmed, in one transaction.
 * Strings are copied. ROCKY_EEXIST when an instance name repeats. */
int rocky_store_plugins_record(struct rocky_store *store, const char *run_id,
                               const struct rocky_store_plugin *plugins,
                               size_t count, char *err, size_t err_size);

/* Record what became of instance `instance` of run `run_id` (its
 * `confirmed`, `pending` and `dropped`), then derive the run's flag from
 * all its instances, in one transaction. ROCKY_ENOTFOUND when the run has
 * no such instance. */
int rocky_store_plugin_delivery(struct rocky_store *store, const char *run_id,
                                const char *instance, int confirmed,
                                uint64_t pending, uint64_t dropped, char *err,
                                size_t err_size);

/* Record delivery of the whole run at once (1 yes, 0 no): the run's flag
 * and, with 1, every instance row of it (a re-send through plugins named
 * by hand delivered everything). */
int rocky_store_set_delivery(struct rocky_store *store, const char *run_id,
                             int confirmed, char *err, size_t err_size);

/* The plugin instances run `run_id` was recorded with, in load order: on
 * success *out is a heap array of *count entries whose strings it owns
 * (free with rocky_store_plugins_free; NULL and 0 when none were recorded,
 * or the store predates schema 3). */
int rocky_store_run_plugins(struct rocky_store *store, const char *run_id,
                            struct rocky_store_plugin **out, size_t *count,
                            char *err, size_t err_size);

/* Free what rocky_store_run_plugins returned. NULL is a no-op. */
void rocky_store_plugins_free(struct rocky_store_plugin *plugins, size_t count);

/* Load one run with all its model executions. `run_id` may be "latest".
 * A finished run whose model records are not all in the store (fewer than
 * its models_total: the runner could not write them) reads back as
 * ROCKY_RUN_INCOMPLETE, its counters as the runner recorded them, and
 * `model_count` says how many are on record.
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

/*
 * History (schema 4 indexes make these fast on 100,000 runs).
 */

/* The shortest prefix that names a run is at least this long. */
#define ROCKY_STORE_SHORT_ID_MIN 8

/* Resolve what a user typed for a run into its full id: an exact id, a
 * unique prefix of one, "latest", "latest~N" (N runs before the latest,
 * "latest~0" is "latest") or "latest-failed" (the newest run that did not
 * end well: partial_failure, failure, interrupted, crashed, incomplete).
 * On success *run_id is a heap string (caller frees). Errors, each with a
 * message: ROCKY_ENOTFOUND (no such run; the message lists the most recent
 * ids, or says the store has no runs), ROCKY_EEXIST (a prefix that several
 * runs share; the message lists up to five of them). */
int rocky_store_resolve_run_id(struct rocky_store *store, const char *ref,
                               char **run_id, char *err, size_t err_size);

/* One run of a listing. Strings are owned by the list. */
struct rocky_store_run_summary {
    char *run_id;
    size_t short_len; /* shortest unique prefix, >= ROCKY_STORE_SHORT_ID_MIN
                         (or the whole id when shorter) */
    uint32_t status;  /* as rocky_store_run_load reads it (crashed,
                         incomplete derived) */
    char *trigger;
    int64_t started_wall_ns;
    int64_t finished_wall_ns; /* 0 while running */
    uint32_t models_total, models_succeeded, models_failed, models_skipped;
    int delivery_confirmed; /* 1 delivered, 0 pending, -1 no plugin */
};

/* Which runs a listing returns. Zero-initialised means: 20 newest, any
 * status, any age. */
struct rocky_store_run_filter {
    size_t limit;          /* at most this many (0: 20)               */
    int status;            /* a ROCKY_RUN_* status, or -1 for any     */
    int64_t since_wall_ns; /* started at or after (0: any)            */
};

/* Runs newest first (by start, then id) that pass `filter`. *out is a heap
 * array of *count entries (free with rocky_store_runs_free). */
int rocky_store_runs_list(struct rocky_store *store,
                          const struct rocky_store_run_filter *filter,
                          struct rocky_store_run_summary **out, size_t *count,
                          char *err, size_t err_size);

void rocky_store_runs_free(struct rocky_store_run_summary *runs, size_t count);

/* One execution of a model in its history. */
struct rocky_store_model_history {
    char *run_id;
    size_t short_len;
    uint32_t run_status;      /* stored status of its run                */
    uint32_t status;          /* ROCKY_MODEL_*                           */
    int64_t started_wall_ns;  /* 0 when it never started                 */
    int64_t finished_wall_ns; /* 0 while running / never started         */
    int64_t rows_affected;    /* -1 unknown                              */
};

/* Executions of model `name` across runs, newest run first, `filter`
 * applied to the run's start (since, limit) and to the execution's status
 * (`status` is then a ROCKY_MODEL_* value, or -1). Free *out with
 * rocky_store_model_history_free. An empty result is not an error. */
int rocky_store_model_history(struct rocky_store *store, const char *name,
                              const struct rocky_store_run_filter *filter,
                              struct rocky_store_model_history **out,
                              size_t *count, char *err, size_t err_size);

void rocky_store_model_history_free(struct rocky_store_model_history *h,
                                    size_t count);

/*
 * Retention. A run is kept when any rule keeps it: it is one of the
 * `keep_runs` newest, or it started less than `keep_days` days before
 * `now_wall_ns` (a rule of 0 is unset; at least one must be set). Never
 * pruned whatever the rules: `except_run_id`, a run still running (its
 * runner alive), and without `force` a run whose telemetry awaits delivery
 * (delivery_confirmed 0). A pruned run goes with its model and plugin rows,
 * all in one transaction; then the freed pages are returned to the file
 * system (PRAGMA incremental_vacuum, and a WAL checkpoint).
 *
 * Stores created before schema 4 have auto_vacuum off: their free pages
 * cannot be returned incrementally, so the first prune with `compact` set
 * runs a full VACUUM once (switching the store to incremental vacuum);
 * without `compact` the pages stay free inside the file for reuse.
 */
struct rocky_store_prune_opts {
    uint32_t keep_runs;
    uint32_t keep_days;
    int64_t now_wall_ns;
    const char *except_run_id; /* may be NULL */
    int force;                 /* prune runs awaiting delivery too */
    int dry_run;               /* count only; change nothing */
    int compact;               /* allow the one-time full VACUUM */
};

struct rocky_store_prune_report {
    size_t runs_pruned; /* (dry run: would be) */
    size_t models_pruned;
    size_t kept_pending; /* would have gone, kept awaiting delivery */
    size_t kept_running; /* would have gone, kept running */
    size_t runs_left;
    int64_t bytes_before; /* store file + WAL, on disk */
    int64_t bytes_after;
    int full_vacuum; /* 1: the one-time VACUUM ran */
};

int rocky_store_prune(struct rocky_store *store,
                      const struct rocky_store_prune_opts *opts,
                      struct rocky_store_prune_report *report, char *err,
                      size_t err_size);

#endif
