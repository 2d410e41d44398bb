/* store_write.c — recording runs and model executions (see lib/store.h).
 *
 * Every function here is one autocommit statement (or, inside a batch of
 * store_batch.h, part of one transaction), so each record is durable the
 * moment it returns and a killed runner loses nothing it had
 * recorded. Ids are stored as lowercase hex text (readable with the sqlite3
 * shell); dependencies as newline-separated names. */
#include "store.h"
#include "store_internal.h"

#include <stdlib.h>
#include <string.h>

#include "ids.h"
#include "rocky/error.h"

/* Bind hex of `bytes`, or NULL when all zero (absent). */
static void bind_id(sqlite3_stmt *st, int idx, const uint8_t *bytes, size_t len)
{
    if (rocky_id_is_zero(bytes, len)) {
        sqlite3_bind_null(st, idx);
        return;
    }
    char hex[2 * ROCKY_TRACE_ID_SIZE + 1];
    rocky_hex_encode(bytes, len, hex);
    sqlite3_bind_text(st, idx, hex, -1, SQLITE_TRANSIENT);
}

static void bind_text(sqlite3_stmt *st, int idx, const char *s)
{
    if (s == NULL)
        sqlite3_bind_null(st, idx);
    else
        sqlite3_bind_text(st, idx, s, -1, SQLITE_STATIC);
}

/* Run one prepared statement to completion. */
static int step_done(struct rocky_store *s, sqlite3_stmt *st, const char *what,
                     char *err, size_t err_size)
{
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        return rocky_store_fail(s, rc, what, err, err_size);
    return 0;
}

int rocky_store_run_begin(struct rocky_store *s, const struct rocky_run *run,
                          char *err, size_t err_size)
{
    int code = rocky_store_need_writable(s, err, err_size);
    if (code != 0)
        return code;
    if (run == NULL || run->run_id == NULL || run->project == NULL ||
        run->trigger == NULL) {
        rocky_store_errf(err, err_size, "run without id/project/trigger");
        return ROCKY_EINVAL;
    }
    struct rocky_store_owner owner;
    rocky_store_owner_self(&owner);
    static const char sql[] =
        "INSERT INTO runs(run_id, status, project, trigger, config_hash,"
        " hostname, rocky_version, started_wall_ns, finished_wall_ns,"
        " models_total, trace_id, span_id, parent_span_id, trace_flags,"
        " owner_pid, owner_host, owner_start_ticks, trace_state)"
        " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,0,?9,?10,?11,?12,?13,?14,?15,?16,"
        "?17)";
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rocky_store_fail(s, rc, "recording the run", err, err_size);
    sqlite3_bind_text(st, 1, run->run_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, ROCKY_RUN_RUNNING);
    bind_text(st, 3, run->project);
    bind_text(st, 4, run->trigger);
    bind_text(st, 5, run->config_hash);
    bind_text(st, 6, run->hostname);
    bind_text(st, 7, run->rocky_version);
    sqlite3_bind_int64(st, 8, run->started_wall_ns);
    sqlite3_bind_int64(st, 9, run->models_total);
    bind_id(st, 10, run->trace_id, ROCKY_TRACE_ID_SIZE);
    bind_id(st, 11, run->span_id, ROCKY_SPAN_ID_SIZE);
    bind_id(st, 12, run->parent_span_id, ROCKY_SPAN_ID_SIZE);
    sqlite3_bind_int(st, 13, run->trace_flags);
    sqlite3_bind_int(st, 14, owner.pid);
    sqlite3_bind_text(st, 15, owner.host, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 16, owner.start_ticks);
    bind_text(st, 17, run->trace_state);
    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        if ((rc & 0xff) == SQLITE_CONSTRAINT) {
            rocky_store_errf(err, err_size,
                             "state store %s already has a run %s", s->path,
                             run->run_id);
            sqlite3_finalize(st);
            return ROCKY_EEXIST;
        }
        code = rocky_store_fail(s, rc, "recording the run", err, err_size);
    }
    sqlite3_finalize(st);
    return code;
}

/* Newline-joined dependency names; NULL on allocation failure or a name
 * that cannot be stored (contains a newline). */
static char *join_deps(const struct rocky_model_exec *m, int *bad)
{
    size_t len = 1;
    for (uint32_t i = 0; i < m->dependency_count; i++) {
        const char *d = m->dependencies[i];
        if (d == NULL || strchr(d, '\n') != NULL) {
            *bad = 1;
            return NULL;
        }
        len += strlen(d) + 1;
    }
    char *out = malloc(len);
    if (out == NULL)
        return NULL;
    char *p = out;
    for (uint32_t i = 0; i < m->dependency_count; i++) {
        if (i > 0)
            *p++ = '\n';
        size_t n = strlen(m->dependencies[i]);
        memcpy(p, m->dependencies[i], n);
        p += n;
    }
    *p = '\0';
    return out;
}

/* Check `m` and join its dependencies into *deps (owned by the caller). */
static int model_args(const char *run_id, const struct rocky_model_exec *m,
                      char **deps, char *err, size_t err_size)
{
    if (run_id == NULL || m == NULL || m->model_name == NULL) {
        rocky_store_errf(err, err_size, "model record without run/name");
        return ROCKY_EINVAL;
    }
    int bad = 0;
    *deps = join_deps(m, &bad);
    if (*deps != NULL)
        return 0;
    if (!bad)
        return ROCKY_ENOMEM;
    rocky_store_errf(err, err_size,
                     "model %s: a dependency name is missing or holds a "
                     "newline",
                     m->model_name);
    return ROCKY_EINVAL;
}

static int prepare_cached(struct rocky_store *s, sqlite3_stmt **st,
                          const char *sql, char *err, size_t err_size)
{
    if (*st != NULL)
        return 0;
    int rc =
        sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);
    if (rc != SQLITE_OK)
        return rocky_store_fail(s, rc, "recording a model", err, err_size);
    return 0;
}

/* Bind the columns both statements share: ?1 run, ?2 name, ?3 status,
 * ?4..?12 as in the INSERT below. */
static void bind_model(sqlite3_stmt *st, const char *run_id,
                       const struct rocky_model_exec *m, uint32_t status,
                       const char *deps)
{
    sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, m->model_name, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, (int)status);
    bind_text(st, 4, m->sql_hash);
    bind_text(st, 5, m->error);
    sqlite3_bind_int64(st, 6, m->started_wall_ns);
    sqlite3_bind_int64(st, 7,
                       status == ROCKY_MODEL_RUNNING ? 0 : m->finished_wall_ns);
    sqlite3_bind_int64(st, 8, m->rows_affected);
    sqlite3_bind_int64(st, 9, m->bytes_written);
    sqlite3_bind_int(st, 10, (int)(m->attempt ? m->attempt : 1));
    sqlite3_bind_text(st, 11, deps, -1, SQLITE_STATIC);
    bind_id(st, 12, m->span_id, ROCKY_SPAN_ID_SIZE);
}

static int run_cached(struct rocky_store *s, sqlite3_stmt *st, char *err,
                      size_t err_size)
{
    int code = step_done(s, st, "recording a model", err, err_size);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return code;
}

/* A new row for this execution, with `status`, numbered after the run's
 * last one in the same statement. The number is a scalar subquery of
 * VALUES, not `INSERT ... SELECT ... FROM model_execs`: a SELECT that reads
 * the table it inserts into is first copied into a temporary table, which
 * cost the recorder more than the rest of the insert (this is its hot
 * path, once or twice per model). */
static int insert_model(struct rocky_store *s, const char *run_id,
                        const struct rocky_model_exec *m, uint32_t status,
                        const char *deps, char *err, size_t err_size)
{
    static const char sql[] =
        "INSERT INTO model_execs(run_id, seq, model_name, status,"
        " sql_hash, error, started_wall_ns, finished_wall_ns,"
        " rows_affected, bytes_written, attempt, dependencies, span_id)"
        " VALUES(?1, (SELECT coalesce(max(seq), 0) + 1 FROM model_execs"
        " WHERE run_id = ?1), ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,"
        " ?12)";
    int code = prepare_cached(s, &s->ins_model, sql, err, err_size);
    if (code != 0)
        return code;
    bind_model(s->ins_model, run_id, m, status, deps);
    return run_cached(s, s->ins_model, err, err_size);
}

/* The end of an execution whose start is on record: its row, still
 * RUNNING, takes the outcome. *updated says whether there was such a row
 * (the same run, model and attempt). */
static int update_model(struct rocky_store *s, const char *run_id,
                        const struct rocky_model_exec *m, const char *deps,
                        int *updated, char *err, size_t err_size)
{
    static const char sql[] =
        "UPDATE model_execs SET status=?3, sql_hash=?4, error=?5,"
        " started_wall_ns=?6, finished_wall_ns=?7, rows_affected=?8,"
        " bytes_written=?9, dependencies=?11, span_id=?12"
        " WHERE run_id=?1 AND model_name=?2 AND attempt=?10 AND status=1";
    *updated = 0;
    int code = prepare_cached(s, &s->upd_model, sql, err, err_size);
    if (code != 0)
        return code;
    bind_model(s->upd_model, run_id, m, m->status, deps);
    code = run_cached(s, s->upd_model, err, err_size);
    if (code == 0)
        *updated = sqlite3_changes(s->db) > 0;
    return code;
}

int rocky_store_model_start(struct rocky_store *s, const char *run_id,
                            const struct rocky_model_exec *m, char *err,
                            size_t err_size)
{
    int code = rocky_store_need_writable(s, err, err_size);
    char *deps = NULL;
    if (code == 0)
        code = model_args(run_id, m, &deps, err, err_size);
    if (code == 0)
        code = insert_model(s, run_id, m, ROCKY_MODEL_RUNNING, deps, err,
                            err_size);
    free(deps);
    return code;
}

int rocky_store_model_record(struct rocky_store *s, const char *run_id,
                             const struct rocky_model_exec *m, char *err,
                             size_t err_size)
{
    int code = rocky_store_need_writable(s, err, err_size);
    char *deps = NULL;
    if (code == 0)
        code = model_args(run_id, m, &deps, err, err_size);
    int updated = 0;
    if (code == 0 && m->status != ROCKY_MODEL_RUNNING)
        code = update_model(s, run_id, m, deps, &updated, err, err_size);
    if (code == 0 && !updated)
        code = insert_model(s, run_id, m, m->status, deps, err, err_size);
    free(deps);
    return code;
}

int rocky_store_run_finish(struct rocky_store *s, const struct rocky_run *run,
                           char *err, size_t err_size)
{
    int code = rocky_store_need_writable(s, err, err_size);
    if (code != 0)
        return code;
    if (run == NULL || run->run_id == NULL)
        return ROCKY_EINVAL;
    static const char sql[] =
        "UPDATE runs SET status=?2, finished_wall_ns=?3, models_total=?4,"
        " models_succeeded=?5, models_failed=?6, models_skipped=?7"
        " WHERE run_id=?1";
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rocky_store_fail(s, rc, "updating the run", err, err_size);
    sqlite3_bind_text(st, 1, run->run_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, (int)run->status);
    sqlite3_bind_int64(st, 3, run->finished_wall_ns);
    sqlite3_bind_int64(st, 4, run->models_total);
    sqlite3_bind_int64(st, 5, run->models_succeeded);
    sqlite3_bind_int64(st, 6, run->models_failed);
    sqlite3_bind_int64(st, 7, run->models_skipped);
    code = step_done(s, st, "updating the run", err, err_size);
    sqlite3_finalize(st);
    if (code == 0 && sqlite3_changes(s->db) != 1) {
        rocky_store_errf(err, err_size, "state store %s has no run %s", s->path,
                         run->run_id);
        code = ROCKY_ENOTFOUND;
    }
    return code;
}
