/*
 * store_internal.h — what the files of lib/store/ share: the connection
 * struct, the schema version, and small helpers. Not for use outside
 * lib/store/.
 */
#ifndef ROCKY_STORE_INTERNAL_H
#define ROCKY_STORE_INTERNAL_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

/* The schema this build writes. Bump it and append a step to the migration
 * list in store_schema.c; never edit an existing step. */
#define ROCKY_STORE_SCHEMA_VERSION 4

/* PRAGMA application_id of a rocky state store ("rcky"), so that `file`
 * and we can tell one from any other SQLite database. */
#define ROCKY_STORE_APPLICATION_ID 0x72636b79

/* How long a writer waits for another connection's lock before failing. */
#define ROCKY_STORE_BUSY_TIMEOUT_MS 10000

struct rocky_store {
    sqlite3 *db;
    char *path;
    int writable;
    int version;             /* schema version of the file (<= ours)   */
    sqlite3_stmt *ins_model; /* cached: model records are the hot path */
    sqlite3_stmt *upd_model; /* cached: a model's end updates its start */
};

/* Format a one-line error into err (may be NULL). */
void rocky_store_errf(char *err, size_t err_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Map a SQLite result code to a ROCKY_E* code. */
int rocky_store_map_rc(int sqlite_rc);

/* ROCKY_EINVAL with a message unless `store` is open for writing. */
int rocky_store_need_writable(struct rocky_store *store, char *err,
                              size_t err_size);

/* "state store PATH: WHAT: sqlite's message" into err; returns the ROCKY_E*
 * code of `sqlite_rc`. */
int rocky_store_fail(struct rocky_store *store, int sqlite_rc, const char *what,
                     char *err, size_t err_size);

/* "; recent runs: a, b, c" (or "") into `out`, for a not-found message
 * (store_read.c). */
void rocky_store_recent_hint(struct rocky_store *store, char *out, size_t size);

/* Read user_version and migrate forward (writable stores) or check it
 * (read-only). Sets store->version. */
int rocky_store_schema_prepare(struct rocky_store *store, char *err,
                               size_t err_size);

/* Identity of this process, for ownership of running runs. */
struct rocky_store_owner {
    int pid;
    int64_t start_ticks; /* /proc/<pid>/stat field 22, 0 if unknown */
    char host[256];
};

/* Fill `owner` for the calling process. */
void rocky_store_owner_self(struct rocky_store_owner *owner);

/* 1 when the owner recorded by a running run is certainly gone (same host,
 * pid dead or reused by another process), 0 when alive or unknowable (other
 * host). */
int rocky_store_owner_gone(int pid, int64_t start_ticks, const char *host);

#endif
