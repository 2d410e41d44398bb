/*
 * materialize.h — build one model's table in the target SQLite database.
 *
 * Why this shape: SQLite has one writer per database file, so computing a
 * model directly into the target would serialize every model. Instead each
 * worker has its own connection and computes the SELECT into a table of its
 * connection-private TEMP database (no lock on the target beyond a WAL read
 * snapshot), then publishes it in a short BEGIN IMMEDIATE transaction that
 * drops the old table and copies the new one in. Computation overlaps
 * across workers; only the copy is serialized. A failure or interrupt at
 * any step rolls the publish back, so the previous table stays intact.
 *
 * Threading: one connection per thread; rocky_target_interrupt may be
 * called from any thread while the connection is open.
 */
#ifndef ROCKY_HOST_MATERIALIZE_H
#define ROCKY_HOST_MATERIALIZE_H

#include <sqlite3.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "project.h"
#include "rocky/plugin.h"

/* Open a worker connection to the target database `path` (created if
 * missing, WAL mode). Returns 0 or ROCKY_EIO with a message. */
int rocky_target_open(const char *path, sqlite3 **out, char *err,
                      size_t err_size);

/* Outcome of one materialization. */
struct rocky_materialize_result {
    int64_t rows;  /* rows in the published table, -1 unknown */
    int64_t bytes; /* bytes of its b-tree pages (dbstat), -1 unknown */
    char *error;   /* heap; set when the model failed or was interrupted */
    int interrupted;
};

/*
 * Told of every SQL statement rocky_materialize executes — the model's own
 * work and the bookkeeping around it (BEGIN, DROP, CREATE, the row count,
 * COMMIT, a ROLLBACK or cleanup after a failure) — on the calling thread,
 * right after the statement ended. `st` and its strings are valid only
 * during the call; its span_id is zero, for the observer to choose. Must
 * not block (it runs between two statements of a live model).
 */
struct rocky_statement_observer {
    void (*on_statement)(void *ctx, struct rocky_statement *st);
    void *ctx;
};

/* Build `m` on `db`. `stop` is checked between steps so an interrupt that
 * lands between statements is not lost. `observer` (may be NULL) hears of
 * each statement. Returns 0 on success, ROCKY_EIO when the model failed
 * (SQLite's message in res->error), ROCKY_EINTERRUPTED when stopped (the
 * previous table is intact). */
int rocky_materialize(sqlite3 *db, const struct rocky_model_def *m,
                      const atomic_int *stop,
                      const struct rocky_statement_observer *observer,
                      struct rocky_materialize_result *res);

/* Upstream rocky's statement classification (enum rocky_statement_kind) by
 * the first keyword of `sql`, after blanks and SQL comments. */
uint32_t rocky_statement_classify(const char *sql);

#endif
