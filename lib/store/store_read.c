/* store_read.c — reading runs back (see lib/store.h). */
#include "store.h"
#include "store_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ids.h"
#include "rocky/error.h"

static int fail(struct rocky_store *s, int rc, char *err, size_t err_size)
{
    rocky_store_errf(err, err_size, "state store %s: reading: %s", s->path,
                     sqlite3_errmsg(s->db));
    return rocky_store_map_rc(rc);
}

static const char *col_text(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

/* A column the run model promises is never NULL (rocky/run_model.h): ""
 * when a damaged or hand-made store holds NULL there. */
static const char *col_text_nonnull(sqlite3_stmt *st, int i)
{
    const char *text = col_text(st, i);
    return text != NULL ? text : "";
}

static void col_id(sqlite3_stmt *st, int i, uint8_t *out, size_t len)
{
    const char *hex = col_text(st, i);
    if (hex == NULL || strlen(hex) != 2 * len ||
        rocky_hex_decode(hex, out, len) != 0)
        memset(out, 0, len);
}

/* Columns added in schema 2 read as their defaults from a version-1 file
 * opened read-only (a writer would have migrated it). */
static const char *run_columns(const struct rocky_store *s)
{
    return s->version >= 2
               ? "run_id, status, project, trigger, config_hash, hostname,"
                 " rocky_version, started_wall_ns, finished_wall_ns,"
                 " models_total, models_succeeded, models_failed,"
                 " models_skipped, trace_id, span_id, parent_span_id,"
                 " trace_flags, owner_pid, owner_host, owner_start_ticks,"
                 " trace_state, delivery_confirmed"
               : "run_id, status, project, trigger, config_hash, hostname,"
                 " rocky_version, started_wall_ns, finished_wall_ns,"
                 " models_total, models_succeeded, models_failed,"
                 " models_skipped, trace_id, span_id, parent_span_id,"
                 " trace_flags, owner_pid, owner_host, 0, NULL, -1";
}

static int fill_run(sqlite3_stmt *st, struct rocky_run_record *rec)
{
    struct rocky_run run;
    memset(&run, 0, sizeof run);
    run.struct_size = sizeof run;
    run.run_id = col_text_nonnull(st, 0);
    run.status = (uint32_t)sqlite3_column_int(st, 1);
    run.project = col_text_nonnull(st, 2);
    run.trigger = col_text_nonnull(st, 3);
    run.config_hash = col_text(st, 4);
    run.hostname = col_text(st, 5);
    run.rocky_version = col_text(st, 6);
    run.started_wall_ns = sqlite3_column_int64(st, 7);
    run.finished_wall_ns = sqlite3_column_int64(st, 8);
    run.models_total = (uint32_t)sqlite3_column_int64(st, 9);
    run.models_succeeded = (uint32_t)sqlite3_column_int64(st, 10);
    run.models_failed = (uint32_t)sqlite3_column_int64(st, 11);
    run.models_skipped = (uint32_t)sqlite3_column_int64(st, 12);
    col_id(st, 13, run.trace_id, ROCKY_TRACE_ID_SIZE);
    col_id(st, 14, run.span_id, ROCKY_SPAN_ID_SIZE);
    col_id(st, 15, run.parent_span_id, ROCKY_SPAN_ID_SIZE);
    run.trace_flags = (uint8_t)sqlite3_column_int(st, 16);
    int pid = sqlite3_column_int(st, 17);
    const char *host = col_text(st, 18);
    int64_t ticks = sqlite3_column_int64(st, 19);
    run.trace_state = col_text(st, 20);
    rec->delivery_confirmed = sqlite3_column_int(st, 21);
    rec->owner_pid = pid;
    if (run.status == ROCKY_RUN_RUNNING &&
        rocky_store_owner_gone(pid, ticks, host))
        run.status = ROCKY_RUN_CRASHED;
    return rocky_run_record_set_run(rec, &run);
}

/* Split newline-joined names into a heap array of pointers into `buf`. */
static const char **split_deps(char *buf, uint32_t *count)
{
    *count = 0;
    if (buf == NULL || buf[0] == '\0')
        return NULL;
    uint32_t n = 1;
    for (char *p = buf; *p; p++)
        n += *p == '\n';
    const char **out = calloc(n, sizeof *out);
    if (out == NULL)
        return NULL;
    char *p = buf;
    for (uint32_t i = 0; i < n; i++) {
        out[i] = p;
        char *nl = strchr(p, '\n');
        if (nl != NULL) {
            *nl = '\0';
            p = nl + 1;
        }
    }
    *count = n;
    return out;
}

static int load_models(struct rocky_store *s, struct rocky_run_record *rec,
                       char *err, size_t err_size)
{
    static const char sql[] =
        "SELECT model_name, status, sql_hash, error, started_wall_ns,"
        " finished_wall_ns, rows_affected, bytes_written, attempt,"
        " dependencies, span_id FROM model_execs WHERE run_id = ?1"
        " ORDER BY started_wall_ns = 0, started_wall_ns, seq";
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return fail(s, rc, err, err_size);
    sqlite3_bind_text(st, 1, rec->run.run_id, -1, SQLITE_STATIC);
    int code = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct rocky_model_exec m;
        memset(&m, 0, sizeof m);
        m.struct_size = sizeof m;
        m.model_name = col_text_nonnull(st, 0);
        m.status = (uint32_t)sqlite3_column_int(st, 1);
        m.sql_hash = col_text(st, 2);
        m.error = col_text(st, 3);
        m.started_wall_ns = sqlite3_column_int64(st, 4);
        m.finished_wall_ns = sqlite3_column_int64(st, 5);
        m.rows_affected = sqlite3_column_int64(st, 6);
        m.bytes_written = sqlite3_column_int64(st, 7);
        m.attempt = (uint32_t)sqlite3_column_int(st, 8);
        /* A start whose end is not on record (store.h,
         * rocky_store_model_start): in flight while the run runs; in a
         * crashed run, stopped by the runner's death at a time nobody
         * knows (no end: the bar reaches the run's last time on record);
         * in a run that ended, an end the store could not write — no
         * outcome, so not a record: the run reads as incomplete. */
        if (m.status == ROCKY_MODEL_RUNNING) {
            if (rec->run.status == ROCKY_RUN_CRASHED) {
                m.status = ROCKY_MODEL_INTERRUPTED;
                m.error = "the runner died while this model ran (the run "
                          "crashed)";
            } else if (rec->run.status != ROCKY_RUN_RUNNING) {
                continue;
            }
        }
        const char *deps_text = col_text(st, 9);
        char *deps_copy = deps_text ? strdup(deps_text) : NULL;
        if (deps_text != NULL && deps_copy == NULL) {
            code = ROCKY_ENOMEM;
            break;
        }
        uint32_t ndeps = 0;
        const char **deps = split_deps(deps_copy, &ndeps);
        if (ndeps > 0 && deps == NULL) {
            free(deps_copy);
            code = ROCKY_ENOMEM;
            break;
        }
        m.dependencies = deps;
        m.dependency_count = ndeps;
        col_id(st, 10, m.span_id, ROCKY_SPAN_ID_SIZE);
        code = rocky_run_record_add_model(rec, &m);
        free(deps);
        free(deps_copy);
        if (code != 0)
            break;
    }
    if (code == 0 && rc != SQLITE_DONE)
        code = fail(s, rc, err, err_size);
    sqlite3_finalize(st);
    return code;
}

void rocky_store_recent_hint(struct rocky_store *s, char *out, size_t size)
{
    char *ids[5];
    size_t n = 0;
    out[0] = '\0';
    if (rocky_store_recent_run_ids(s, ids, 5, &n) != 0 || n == 0)
        return;
    size_t used = (size_t)snprintf(out, size, "; recent runs:");
    for (size_t i = 0; i < n; i++) {
        if (used < size)
            used += (size_t)snprintf(out + used, size - used, "%s %s",
                                     i ? "," : "", ids[i]);
        free(ids[i]);
    }
}

int rocky_store_run_load(struct rocky_store *s, const char *run_id,
                         struct rocky_run_record **out, char *err,
                         size_t err_size)
{
    *out = NULL;
    if (s == NULL || run_id == NULL)
        return ROCKY_EINVAL;
    int latest = strcmp(run_id, "latest") == 0;
    char sql[768];
    snprintf(sql, sizeof sql, "SELECT %s FROM runs %s", run_columns(s),
             latest ? "ORDER BY started_wall_ns DESC, run_id DESC LIMIT 1"
                    : "WHERE run_id = ?1");
    if (s->version == 0) {
        rocky_store_errf(err, err_size,
                         "state store %s has no runs yet (run `rocky run` "
                         "first)",
                         s->path);
        return ROCKY_ENOTFOUND;
    }
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return fail(s, rc, err, err_size);
    if (!latest)
        sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        int code =
            rc == SQLITE_DONE ? ROCKY_ENOTFOUND : fail(s, rc, err, err_size);
        sqlite3_finalize(st);
        if (code == ROCKY_ENOTFOUND) {
            char hint[512];
            rocky_store_recent_hint(s, hint, sizeof hint);
            if (hint[0] == '\0')
                rocky_store_errf(err, err_size,
                                 "state store %s has no runs yet (run "
                                 "`rocky run` first)",
                                 s->path);
            else
                rocky_store_errf(err, err_size,
                                 "no run '%s' in state store %s%s", run_id,
                                 s->path, hint);
        }
        return code;
    }
    struct rocky_run_record *rec = rocky_run_record_new();
    int code = rec ? fill_run(st, rec) : ROCKY_ENOMEM;
    sqlite3_finalize(st);
    if (code == 0)
        code = load_models(s, rec, err, err_size);
    /* A finished run whose rows are not all there says so, whatever its
     * row claims: a runner that could not write them (disk full) records
     * INCOMPLETE itself, but an older one recorded "success" over a gap. */
    uint32_t status = code == 0 ? rec->run.status : ROCKY_RUN_RUNNING;
    if (status != ROCKY_RUN_RUNNING && status != ROCKY_RUN_CRASHED &&
        rec->model_count < rec->run.models_total)
        rec->run.status = ROCKY_RUN_INCOMPLETE;
    if (code != 0) {
        rocky_run_record_free(rec);
        return code;
    }
    *out = rec;
    return 0;
}

static int list_ids(struct rocky_store *s, const char *sql, char **ids,
                    size_t max, size_t *count)
{
    *count = 0;
    if (s == NULL || (max > 0 && ids == NULL))
        return ROCKY_EINVAL;
    if (s->version == 0 || max == 0)
        return 0;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rocky_store_map_rc(rc);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)max);
    int code = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && *count < max) {
        const char *id = col_text(st, 0);
        ids[*count] = strdup(id ? id : "");
        if (ids[*count] == NULL) {
            code = ROCKY_ENOMEM;
            break;
        }
        (*count)++;
    }
    if (code == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
        code = rocky_store_map_rc(rc);
    sqlite3_finalize(st);
    if (code != 0) {
        for (size_t i = 0; i < *count; i++)
            free(ids[i]);
        *count = 0;
    }
    return code;
}

int rocky_store_recent_run_ids(struct rocky_store *s, char **ids, size_t max,
                               size_t *count)
{
    return list_ids(s,
                    "SELECT run_id FROM runs ORDER BY started_wall_ns DESC,"
                    " run_id DESC LIMIT ?1",
                    ids, max, count);
}

int rocky_store_pending_run_ids(struct rocky_store *s, char **ids, size_t max,
                                size_t *count)
{
    if (s != NULL && s->version < 2) {
        *count = 0;
        return 0; /* schema 1 had no delivery tracking */
    }
    return list_ids(s,
                    "SELECT run_id FROM runs WHERE delivery_confirmed = 0"
                    " ORDER BY started_wall_ns, run_id LIMIT ?1",
                    ids, max, count);
}
