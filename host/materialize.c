/* materialize.c — compute in TEMP, publish atomically (see materialize.h). */
#include "materialize.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rocky/error.h"

/* How long a publish waits for another worker's publish. Publishes are
 * short copies, so this only trips on a stuck foreign writer. */
#define PUBLISH_BUSY_TIMEOUT_MS 60000

int rocky_target_open(const char *path, sqlite3 **out, char *err,
                      size_t err_size)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(
        path, &db,
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(db, PUBLISH_BUSY_TIMEOUT_MS);
        rc = sqlite3_exec(db,
                          "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                          " PRAGMA temp_store=MEMORY;",
                          NULL, NULL, NULL);
    }
    if (rc != SQLITE_OK) {
        snprintf(err, err_size, "cannot open the target database %s: %s", path,
                 db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close_v2(db);
        return ROCKY_EIO;
    }
    *out = db;
    return 0;
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    char *out = NULL;
    if (vasprintf(&out, f, ap) < 0)
        out = NULL;
    va_end(ap);
    return out;
}

/* Text of the model's single statement without the trailing ';', or NULL
 * with res->error set. */
static char *check_statement(sqlite3 *db, const struct rocky_model_def *m,
                             struct rocky_materialize_result *res)
{
    sqlite3_stmt *st = NULL;
    const char *tail = NULL;
    int rc = sqlite3_prepare_v2(db, m->sql, -1, &st, &tail);
    if (rc != SQLITE_OK) {
        res->error = fmt("%s", sqlite3_errmsg(db));
        res->interrupted = rc == SQLITE_INTERRUPT;
        return NULL;
    }
    if (st == NULL) {
        res->error =
            fmt("%s holds no SQL statement; a model is one SELECT", m->file);
        return NULL;
    }
    int readonly = sqlite3_stmt_readonly(st);
    int columns = sqlite3_column_count(st);
    sqlite3_finalize(st);
    /* Anything after the first statement other than ';', blanks or
     * comments would be silently ignored by the wrapper: refuse it. */
    sqlite3_stmt *extra = NULL;
    const char *rest = tail;
    while (rest && *rest) {
        rc = sqlite3_prepare_v2(db, rest, -1, &extra, &rest);
        if (rc != SQLITE_OK || extra != NULL) {
            sqlite3_finalize(extra);
            res->error = fmt("%s holds more than one statement; a model is "
                             "exactly one SELECT",
                             m->file);
            return NULL;
        }
    }
    if (!readonly || columns == 0) {
        res->error = fmt("%s is not a SELECT; a model is one SELECT (or "
                         "WITH ... SELECT) whose result becomes table %s",
                         m->file, m->name);
        return NULL;
    }
    size_t len = (size_t)(tail - m->sql);
    while (len > 0 &&
           (isspace((unsigned char)m->sql[len - 1]) || m->sql[len - 1] == ';'))
        len--;
    char *text = strndup(m->sql, len);
    if (text == NULL)
        res->error = fmt("out of memory");
    return text;
}

/* SQLite re-prepares a statement whose schema changed up to 50 times, then
 * gives up with SQLITE_SCHEMA. Every publish by another worker changes the
 * schema, and re-reading a schema of hundreds of tables takes long enough
 * that other workers can publish in between each time (seen with 600
 * models on 2 threads under ThreadSanitizer): try again a bounded number of
 * times, with a short pause so the others get ahead. */
#define SCHEMA_RETRIES  200
#define SCHEMA_PAUSE_NS 2000000

static int exec_retrying(sqlite3 *db, const char *sql)
{
    int rc = SQLITE_OK;
    for (int i = 0; i < SCHEMA_RETRIES; i++) {
        rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
        if ((rc & 0xff) != SQLITE_SCHEMA)
            break;
        struct timespec pause = {0, SCHEMA_PAUSE_NS};
        nanosleep(&pause, NULL);
    }
    return rc;
}

static int exec(sqlite3 *db, const char *sql,
                struct rocky_materialize_result *res)
{
    int rc = exec_retrying(db, sql);
    if (rc != SQLITE_OK && res->error == NULL) {
        res->error = fmt("%s", sqlite3_errmsg(db));
        res->interrupted = (rc & 0xff) == SQLITE_INTERRUPT;
    }
    return rc;
}

static int64_t query_int(sqlite3 *db, const char *sql, const char *arg)
{
    sqlite3_stmt *st = NULL;
    int64_t v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
        if (arg != NULL)
            sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW &&
            sqlite3_column_type(st, 0) != SQLITE_NULL)
            v = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return v;
}

static int stopped(const atomic_int *stop, struct rocky_materialize_result *res)
{
    if (stop == NULL || atomic_load(stop) == 0)
        return 0;
    if (res->error == NULL)
        res->error = fmt("interrupted");
    res->interrupted = 1;
    return 1;
}

/* SQLite's progress callback: a nonzero answer interrupts the running
 * statement (SQLITE_INTERRUPT). */
static int check_stop(void *stop)
{
    return atomic_load((const atomic_int *)stop) != 0;
}

int rocky_materialize(sqlite3 *db, const struct rocky_model_def *m,
                      const atomic_int *stop,
                      struct rocky_materialize_result *res)
{
    memset(res, 0, sizeof *res);
    res->rows = -1;
    res->bytes = -1;
    if (stopped(stop, res))
        return ROCKY_EINTERRUPTED;
    /* The statement polls the stop flag itself. sqlite3_interrupt from the
     * signal watcher alone races: one issued after the check above but
     * before the statement starts is lost (it only affects statements
     * already running), and the model then runs to its end. */
    if (stop != NULL)
        sqlite3_progress_handler(db, 1000, check_stop, (void *)stop);
    char *select = check_statement(db, m, res);
    if (select == NULL) {
        sqlite3_progress_handler(db, 0, NULL, NULL);
        return res->interrupted ? ROCKY_EINTERRUPTED : ROCKY_EIO;
    }

    /* Model names are validated identifiers, safe to quote. */
    char *drop_tmp = fmt("DROP TABLE IF EXISTS temp.\"rocky_tmp_%s\"", m->name);
    char *compute =
        fmt("CREATE TEMP TABLE \"rocky_tmp_%s\" AS %s\n", m->name, select);
    char *count = fmt("SELECT count(*) FROM temp.\"rocky_tmp_%s\"", m->name);
    char *publish = fmt("DROP TABLE IF EXISTS main.\"%s\";"
                        " CREATE TABLE main.\"%s\" AS SELECT * FROM"
                        " temp.\"rocky_tmp_%s\"",
                        m->name, m->name, m->name);
    free(select);
    int code = ROCKY_EIO;
    if (drop_tmp == NULL || compute == NULL || count == NULL ||
        publish == NULL) {
        res->error = fmt("out of memory");
        goto out;
    }
    if (exec(db, drop_tmp, res) != SQLITE_OK ||
        exec(db, compute, res) != SQLITE_OK)
        goto out;
    res->rows = query_int(db, count, NULL);
    if (stopped(stop, res))
        goto out;
    if (exec(db, "BEGIN IMMEDIATE", res) != SQLITE_OK)
        goto out;
    if (exec(db, publish, res) != SQLITE_OK || stopped(stop, res)) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        goto out;
    }
    /* Size as stored: the table's b-tree pages, before commit so no other
     * publish can interleave. */
    res->bytes = query_int(db,
                           "SELECT pgsize FROM dbstat WHERE name = ?1 AND"
                           " aggregate = 1",
                           m->name);
    if (exec(db, "COMMIT", res) != SQLITE_OK) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        goto out;
    }
    code = 0;
out:
    /* Cleanup must run to its end even when stopping. */
    sqlite3_progress_handler(db, 0, NULL, NULL);
    if (drop_tmp != NULL)
        sqlite3_exec(db, drop_tmp, NULL, NULL, NULL);
    if (code != 0 && (res->interrupted || stopped(stop, res)))
        code = ROCKY_EINTERRUPTED;
    free(drop_tmp);
    free(compute);
    free(count);
    free(publish);
    return code;
}
