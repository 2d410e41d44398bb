/* materialize.c — compute in TEMP, publish atomically (see materialize.h). */
#include "materialize.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
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

uint32_t rocky_statement_classify(const char *sql)
{
    const char *p = sql;
    for (;;) { /* blanks, -- and block comments before the keyword */
        while (*p && isspace((unsigned char)*p))
            p++;
        if (p[0] == '-' && p[1] == '-') {
            p = strchr(p, '\n');
            if (p == NULL)
                return ROCKY_STATEMENT_OTHER;
        } else if (p[0] == '/' && p[1] == '*') {
            p = strstr(p + 2, "*/");
            if (p == NULL)
                return ROCKY_STATEMENT_OTHER;
            p += 2;
        } else {
            break;
        }
    }
    char word[12];
    size_t n = 0;
    while (n + 1 < sizeof word && isalpha((unsigned char)p[n])) {
        word[n] = (char)toupper((unsigned char)p[n]);
        n++;
    }
    word[n] = '\0';
    static const struct {
        const char *word;
        uint32_t kind;
    } words[] = {
        {"SELECT", ROCKY_STATEMENT_QUERY},  {"WITH", ROCKY_STATEMENT_QUERY},
        {"SHOW", ROCKY_STATEMENT_QUERY},    {"DESCRIBE", ROCKY_STATEMENT_QUERY},
        {"EXPLAIN", ROCKY_STATEMENT_QUERY}, {"INSERT", ROCKY_STATEMENT_DML},
        {"UPDATE", ROCKY_STATEMENT_DML},    {"DELETE", ROCKY_STATEMENT_DML},
        {"MERGE", ROCKY_STATEMENT_DML},     {"COPY", ROCKY_STATEMENT_DML},
        {"TRUNCATE", ROCKY_STATEMENT_DML},  {"CREATE", ROCKY_STATEMENT_DDL},
        {"ALTER", ROCKY_STATEMENT_DDL},     {"DROP", ROCKY_STATEMENT_DDL},
        {"GRANT", ROCKY_STATEMENT_DDL},     {"REVOKE", ROCKY_STATEMENT_DDL},
    };
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strcmp(word, words[i].word) == 0)
            return words[i].kind;
    return ROCKY_STATEMENT_OTHER;
}

/* One model execution's statements, as they are reported. */
struct stmts {
    sqlite3 *db;
    const struct rocky_statement_observer *obs;
    uint32_t sequence;
};

/* Tell the observer about a statement that started at (wall, mono). */
static void report(struct stmts *x, const char *sql, const char *target, int rc,
                   int attempts, int max_attempts, int64_t wall, int64_t mono)
{
    if (x->obs == NULL || x->obs->on_statement == NULL)
        return;
    struct rocky_statement st;
    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    st.kind = rocky_statement_classify(sql);
    st.started_wall_ns = wall;
    st.started_mono_ns = mono;
    st.finished_wall_ns = rocky_clock_wall_ns();
    st.finished_mono_ns = rocky_clock_mono_ns();
    st.rows = st.kind == ROCKY_STATEMENT_DML && rc == SQLITE_OK
                  ? (int64_t)sqlite3_changes64(x->db)
                  : -1;
    st.target = target;
    int failed = rc != SQLITE_OK && rc != SQLITE_ROW && rc != SQLITE_DONE;
    st.error = failed ? sqlite3_errmsg(x->db) : NULL;
    st.status = !failed                           ? ROCKY_MODEL_SUCCESS
                : (rc & 0xff) == SQLITE_INTERRUPT ? ROCKY_MODEL_INTERRUPTED
                                                  : ROCKY_MODEL_FAILED;
    st.attempt = (uint32_t)attempts;
    st.max_attempts = (uint32_t)max_attempts;
    st.sequence = x->sequence++;
    x->obs->on_statement(x->obs->ctx, &st);
}

/* Execute `sql`, retrying on SQLITE_SCHEMA, and report it. */
static int exec_retrying(struct stmts *x, const char *sql, const char *target)
{
    int64_t wall = rocky_clock_wall_ns(), mono = rocky_clock_mono_ns();
    int rc = SQLITE_OK;
    int attempts = 0;
    for (int i = 0; i < SCHEMA_RETRIES; i++) {
        attempts++;
        rc = sqlite3_exec(x->db, sql, NULL, NULL, NULL);
        if ((rc & 0xff) != SQLITE_SCHEMA)
            break;
        struct timespec pause = {0, SCHEMA_PAUSE_NS};
        nanosleep(&pause, NULL);
    }
    report(x, sql, target, rc, attempts, SCHEMA_RETRIES, wall, mono);
    return rc;
}

static int exec(struct stmts *x, const char *sql, const char *target,
                struct rocky_materialize_result *res)
{
    int rc = exec_retrying(x, sql, target);
    if (rc != SQLITE_OK && res->error == NULL) {
        res->error = fmt("%s", sqlite3_errmsg(x->db));
        res->interrupted = (rc & 0xff) == SQLITE_INTERRUPT;
    }
    return rc;
}

/* Cleanup that must run whatever happened (no retry, no error kept). */
static void exec_once(struct stmts *x, const char *sql, const char *target)
{
    int64_t wall = rocky_clock_wall_ns(), mono = rocky_clock_mono_ns();
    int rc = sqlite3_exec(x->db, sql, NULL, NULL, NULL);
    report(x, sql, target, rc, 1, 1, wall, mono);
}

static int64_t query_int(struct stmts *x, const char *sql, const char *arg,
                         const char *target)
{
    int64_t wall = rocky_clock_wall_ns(), mono = rocky_clock_mono_ns();
    sqlite3_stmt *st = NULL;
    int64_t v = -1;
    int rc = sqlite3_prepare_v2(x->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        if (arg != NULL)
            sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
            v = sqlite3_column_int64(st, 0);
    }
    report(x, sql, target, rc, 1, 1, wall, mono);
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
                      const struct rocky_statement_observer *observer,
                      struct rocky_materialize_result *res)
{
    struct stmts x = {db, observer, 0};
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
    /* Two statements, executed (and reported) one by one in the publish
     * transaction. */
    char *drop_old = fmt("DROP TABLE IF EXISTS main.\"%s\"", m->name);
    char *publish = fmt("CREATE TABLE main.\"%s\" AS SELECT * FROM"
                        " temp.\"rocky_tmp_%s\"",
                        m->name, m->name);
    char *tmp_name = fmt("temp.rocky_tmp_%s", m->name);
    char *main_name = fmt("main.%s", m->name);
    free(select);
    int code = ROCKY_EIO;
    if (drop_tmp == NULL || compute == NULL || count == NULL ||
        drop_old == NULL || publish == NULL || tmp_name == NULL ||
        main_name == NULL) {
        res->error = fmt("out of memory");
        goto out;
    }
    if (exec(&x, drop_tmp, tmp_name, res) != SQLITE_OK ||
        exec(&x, compute, tmp_name, res) != SQLITE_OK)
        goto out;
    res->rows = query_int(&x, count, NULL, tmp_name);
    if (stopped(stop, res))
        goto out;
    if (exec(&x, "BEGIN IMMEDIATE", NULL, res) != SQLITE_OK)
        goto out;
    if (exec(&x, drop_old, main_name, res) != SQLITE_OK ||
        exec(&x, publish, main_name, res) != SQLITE_OK || stopped(stop, res)) {
        exec_once(&x, "ROLLBACK", NULL);
        goto out;
    }
    /* Size as stored: the table's b-tree pages, before commit so no other
     * publish can interleave. */
    res->bytes = query_int(&x,
                           "SELECT pgsize FROM dbstat WHERE name = ?1 AND"
                           " aggregate = 1",
                           m->name, main_name);
    if (exec(&x, "COMMIT", NULL, res) != SQLITE_OK) {
        exec_once(&x, "ROLLBACK", NULL);
        goto out;
    }
    code = 0;
out:
    /* Cleanup must run to its end even when stopping. */
    sqlite3_progress_handler(db, 0, NULL, NULL);
    if (drop_tmp != NULL && tmp_name != NULL)
        exec_once(&x, drop_tmp, tmp_name);
    if (code != 0 && (res->interrupted || stopped(stop, res)))
        code = ROCKY_EINTERRUPTED;
    free(drop_tmp);
    free(compute);
    free(count);
    free(drop_old);
    free(publish);
    free(tmp_name);
    free(main_name);
    return code;
}
