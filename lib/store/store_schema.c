/* store_schema.c — the on-disk schema and its forward migrations.
 *
 * PRAGMA user_version holds the schema version. Step N takes a version N-1
 * file to version N inside the same IMMEDIATE transaction that bumps
 * user_version, so a migration is all-or-nothing and two runners opening an
 * old file at once migrate it exactly once (the second sees the new
 * version after taking the write lock).
 *
 * Version history:
 *   1  runs + model_execs; ids as lowercase hex text.
 *   2  runs.delivery_confirmed, runs.trace_state, runs.owner_start_ticks;
 *      index on model_execs(run_id).
 *   3  run_plugins: the plugin instances each run was recorded with (how to
 *      create them again) and each one's delivery; runs.delivery_confirmed
 *      is then 1 exactly when every instance row of the run is.
 *   4  index runs_by_start on runs(started_wall_ns, run_id), for listing
 *      runs newest first (`rocky runs`) and resolving latest~N on 100,000
 *      runs. New stores are also created with PRAGMA auto_vacuum =
 *      INCREMENTAL (a file property, not a step: it can only be chosen
 *      before the first table), so a prune can give pages back; stores
 *      created before have it off and need one full VACUUM, which
 *      `rocky runs --prune` runs (rocky_store_prune's `compact`).
 *
 * Every migration also sets PRAGMA application_id to ours (not a schema
 * change: stores of any version may still have 0), and nothing is migrated
 * before identify() has recognised the file as ours.
 */
#include "store_internal.h"

#include <stdio.h>
#include <string.h>

#include "rocky/error.h"

static const char *const steps[ROCKY_STORE_SCHEMA_VERSION] = {
    /* 0 -> 1 */
    "CREATE TABLE runs("
    " run_id TEXT PRIMARY KEY,"
    " status INTEGER NOT NULL,"
    " project TEXT NOT NULL,"
    " trigger TEXT NOT NULL,"
    " config_hash TEXT, hostname TEXT, rocky_version TEXT,"
    " started_wall_ns INTEGER NOT NULL,"
    " finished_wall_ns INTEGER NOT NULL DEFAULT 0,"
    " models_total INTEGER NOT NULL DEFAULT 0,"
    " models_succeeded INTEGER NOT NULL DEFAULT 0,"
    " models_failed INTEGER NOT NULL DEFAULT 0,"
    " models_skipped INTEGER NOT NULL DEFAULT 0,"
    " trace_id TEXT, span_id TEXT, parent_span_id TEXT,"
    " trace_flags INTEGER NOT NULL DEFAULT 0,"
    " owner_pid INTEGER NOT NULL DEFAULT 0, owner_host TEXT);"
    "CREATE TABLE model_execs("
    " run_id TEXT NOT NULL REFERENCES runs(run_id),"
    " seq INTEGER NOT NULL,"
    " model_name TEXT NOT NULL,"
    " status INTEGER NOT NULL,"
    " sql_hash TEXT, error TEXT,"
    " started_wall_ns INTEGER NOT NULL DEFAULT 0,"
    " finished_wall_ns INTEGER NOT NULL DEFAULT 0,"
    " rows_affected INTEGER NOT NULL DEFAULT -1,"
    " bytes_written INTEGER NOT NULL DEFAULT -1,"
    " attempt INTEGER NOT NULL DEFAULT 1,"
    " dependencies TEXT NOT NULL DEFAULT '',"
    " span_id TEXT,"
    " PRIMARY KEY(run_id, seq));",
    /* 1 -> 2 */
    "ALTER TABLE runs ADD COLUMN delivery_confirmed INTEGER NOT NULL "
    "DEFAULT -1;"
    "ALTER TABLE runs ADD COLUMN trace_state TEXT;"
    "ALTER TABLE runs ADD COLUMN owner_start_ticks INTEGER NOT NULL "
    "DEFAULT 0;"
    "CREATE INDEX model_execs_by_model ON model_execs(run_id, model_name);",
    /* 2 -> 3 */
    "CREATE TABLE run_plugins("
    " run_id TEXT NOT NULL REFERENCES runs(run_id),"
    " seq INTEGER NOT NULL,"
    " instance TEXT NOT NULL,"
    " plugin_path TEXT NOT NULL,"
    " project_dir TEXT,"
    " config TEXT NOT NULL DEFAULT '{}',"
    " delivery_confirmed INTEGER NOT NULL DEFAULT 0,"
    " pending INTEGER NOT NULL DEFAULT 0,"
    " dropped INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY(run_id, instance));",
    /* 3 -> 4 */
    "CREATE INDEX runs_by_start ON runs(started_wall_ns, run_id);",
};

static int read_version(sqlite3 *db, int *version)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *version = sqlite3_column_int(st, 0);
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

/* A version-0 file that already has tables belongs to something else. */
static int count_tables(sqlite3 *db, int *count)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(
        db, "SELECT count(*) FROM sqlite_master WHERE type='table'", -1, &st,
        NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *count = sqlite3_column_int(st, 0);
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

static int sqlite_failure(struct rocky_store *s, int rc, const char *what,
                          char *err, size_t err_size)
{
    int code = rocky_store_map_rc(rc);
    if (code == ROCKY_ECORRUPT)
        rocky_store_errf(err, err_size,
                         "state store %s is not a rocky state store or is "
                         "corrupt (%s); move it aside and rerun to start a "
                         "fresh store",
                         s->path, sqlite3_errstr(rc));
    else
        code = rocky_store_fail(s, rc, what, err, err_size);
    return code;
}

static int check_version(struct rocky_store *s, int version, char *err,
                         size_t err_size)
{
    if (version > ROCKY_STORE_SCHEMA_VERSION) {
        rocky_store_errf(err, err_size,
                         "state store %s has schema version %d, newer than "
                         "the version %d this rocky understands; upgrade "
                         "rocky or use another --state file",
                         s->path, version, ROCKY_STORE_SCHEMA_VERSION);
        return ROCKY_EVERSION;
    }
    if (version < 0) {
        rocky_store_errf(err, err_size,
                         "state store %s has invalid schema version %d",
                         s->path, version);
        return ROCKY_ECORRUPT;
    }
    return 0;
}

static int foreign_file(struct rocky_store *s, const char *why, char *err,
                        size_t err_size)
{
    rocky_store_errf(err, err_size,
                     "%s is a SQLite database but not a rocky state store "
                     "(%s); rocky leaves it untouched: pass another --state "
                     "path",
                     s->path, why);
    return ROCKY_ECORRUPT;
}

static int read_int_pragma(sqlite3 *db, const char *sql, int *out)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *out = sqlite3_column_int(st, 0);
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

/* Per schema version, a query that compiles only against our tables of that
 * version (the columns that version added included). */
static const char *const shape[ROCKY_STORE_SCHEMA_VERSION] = {
    "SELECT run_id, status, project, models_total, owner_pid FROM runs;"
    "SELECT run_id, seq, model_name, status, span_id FROM model_execs",
    "SELECT delivery_confirmed, trace_state, owner_start_ticks FROM runs",
    "SELECT run_id, instance, plugin_path, config, delivery_confirmed FROM "
    "run_plugins",
    "SELECT run_id FROM runs INDEXED BY runs_by_start",
};

/* 1 when every statement of `sql` compiles. */
static int compiles(sqlite3 *db, const char *sql)
{
    while (sql != NULL && *sql != '\0') {
        sqlite3_stmt *st = NULL;
        const char *tail = NULL;
        int rc = sqlite3_prepare_v2(db, sql, -1, &st, &tail);
        sqlite3_finalize(st);
        if (rc != SQLITE_OK)
            return 0;
        sql = tail;
    }
    return 1;
}

/*
 * Is this file ours? Read-only: it runs before anything is written, so a
 * file that is not a rocky state store is never migrated, never switched to
 * WAL. Ours is: application_id ROCKY_STORE_APPLICATION_ID (set since it
 * exists) or 0 (stores created before it was), and either an empty
 * database (version 0, no table: a new store, a 0-byte file included) or
 * the tables of its user_version. A foreign file that happens to have
 * user_version 1..3 ("no such table: runs" before) is refused here.
 */
static int identify(struct rocky_store *s, int version, char *err,
                    size_t err_size)
{
    int app_id = 0;
    int rc = read_int_pragma(s->db, "PRAGMA application_id", &app_id);
    if (rc != SQLITE_OK)
        return sqlite_failure(s, rc, "reading the schema", err, err_size);
    if (app_id != 0 && app_id != ROCKY_STORE_APPLICATION_ID) {
        char why[96];
        snprintf(why, sizeof why,
                 "its application_id 0x%08x names another application",
                 (unsigned)app_id);
        return foreign_file(s, why, err, err_size);
    }
    if (version == 0) {
        int tables = 0;
        rc = count_tables(s->db, &tables);
        if (rc != SQLITE_OK)
            return sqlite_failure(s, rc, "reading the schema", err, err_size);
        if (tables > 0)
            return foreign_file(s, "it has tables and no rocky schema version",
                                err, err_size);
        return 0;
    }
    for (int v = 0; v < version; v++) {
        if (compiles(s->db, shape[v]))
            continue;
        char why[128];
        snprintf(why, sizeof why,
                 "its user_version is %d but it lacks the tables of rocky "
                 "schema %d",
                 version, v + 1);
        return foreign_file(s, why, err, err_size);
    }
    return 0;
}

static int migrate(struct rocky_store *s, char *err, size_t err_size)
{
    /* A new store: incremental vacuum, chosen before the first table (it
     * only takes effect then, and must precede the transaction). Writes
     * nothing by itself; on a store that has tables it changes nothing. */
    int tables = -1;
    if (count_tables(s->db, &tables) == SQLITE_OK && tables == 0)
        sqlite3_exec(s->db, "PRAGMA auto_vacuum=INCREMENTAL", NULL, NULL, NULL);
    int rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return sqlite_failure(s, rc, "locking for migration", err, err_size);
    int version = 0;
    rc = read_version(s->db, &version);
    if (rc != SQLITE_OK)
        goto fail_sqlite;
    int code = check_version(s, version, err, err_size);
    if (code != 0)
        goto fail_code;
    code = identify(s, version, err, err_size);
    if (code != 0)
        goto fail_code;
    for (int v = version; v < ROCKY_STORE_SCHEMA_VERSION; v++) {
        rc = sqlite3_exec(s->db, steps[v], NULL, NULL, NULL);
        if (rc != SQLITE_OK)
            goto fail_sqlite;
    }
    if (version < ROCKY_STORE_SCHEMA_VERSION) {
        char sql[96];
        snprintf(sql, sizeof sql,
                 "PRAGMA user_version=%d; PRAGMA application_id=%d",
                 ROCKY_STORE_SCHEMA_VERSION, ROCKY_STORE_APPLICATION_ID);
        rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
        if (rc != SQLITE_OK)
            goto fail_sqlite;
    }
    rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        goto fail_sqlite;
    s->version = ROCKY_STORE_SCHEMA_VERSION;
    return 0;

fail_sqlite:
    code = sqlite_failure(s, rc, "migrating the schema", err, err_size);
fail_code:
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return code;
}

int rocky_store_schema_prepare(struct rocky_store *s, char *err,
                               size_t err_size)
{
    int version = 0;
    int rc = read_version(s->db, &version);
    if (rc != SQLITE_OK)
        return sqlite_failure(s, rc, "reading the schema version", err,
                              err_size);
    int code = check_version(s, version, err, err_size);
    if (code != 0)
        return code;
    /* Before the migration's write lock: a foreign file is refused without
     * a lock taken or a journal created. */
    code = identify(s, version, err, err_size);
    if (code != 0)
        return code;
    if (s->writable)
        return migrate(s, err, err_size);
    /* Read-only on an older schema: readers adapt their queries to it. */
    s->version = version;
    return 0;
}
