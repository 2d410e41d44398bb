/* store_runs.c — run history: listing runs, one model across runs, and
 * resolving what a user typed into a run id (see lib/store.h).
 *
 * Every query walks runs newest first through runs_by_start (schema 4), so
 * a listing of 20 rows reads about 20 rows whatever the store's size; a
 * model's history probes model_execs_by_model (run_id, model_name) once per
 * run it walks. Older read-only stores without the index still work, by a
 * full sort. */
#include "store.h"
#include "store_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rocky/error.h"

#define DEFAULT_LIMIT  20
#define MAX_CANDIDATES 5

static int fail(struct rocky_store *s, int rc, char *err, size_t err_size)
{
    rocky_store_errf(err, err_size, "state store %s: reading: %s", s->path,
                     sqlite3_errmsg(s->db));
    return rocky_store_map_rc(rc);
}

static char *dup_col(sqlite3_stmt *st, int i)
{
    const char *t = (const char *)sqlite3_column_text(st, i);
    return strdup(t != NULL ? t : "");
}

static size_t common_prefix(const char *a, const char *b)
{
    size_t n = 0;
    while (a[n] != '\0' && a[n] == b[n])
        n++;
    return n;
}

/* The shortest prefix of `id` that no other run shares (at least
 * ROCKY_STORE_SHORT_ID_MIN): one past the longest common prefix with its
 * neighbours in id order, two primary-key probes. */
static size_t short_len(struct rocky_store *s, sqlite3_stmt *below,
                        sqlite3_stmt *above, const char *id)
{
    size_t need = 0;
    sqlite3_stmt *sts[2] = {below, above};
    for (int k = 0; k < 2; k++) {
        sqlite3_reset(sts[k]);
        sqlite3_bind_text(sts[k], 1, id, -1, SQLITE_STATIC);
        if (sqlite3_step(sts[k]) == SQLITE_ROW) {
            const char *n = (const char *)sqlite3_column_text(sts[k], 0);
            size_t c = n != NULL ? common_prefix(id, n) + 1 : 0;
            if (c > need)
                need = c;
        }
    }
    (void)s;
    size_t len = strlen(id);
    if (need < ROCKY_STORE_SHORT_ID_MIN)
        need = ROCKY_STORE_SHORT_ID_MIN;
    return need < len ? need : len;
}

struct neighbours {
    sqlite3_stmt *below, *above;
};

static int neighbours_open(struct rocky_store *s, struct neighbours *n)
{
    int rc = sqlite3_prepare_v2(
        s->db,
        "SELECT run_id FROM runs WHERE run_id < ?1 ORDER BY run_id DESC "
        "LIMIT 1",
        -1, &n->below, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(s->db,
                                "SELECT run_id FROM runs WHERE run_id > ?1 "
                                "ORDER BY run_id LIMIT 1",
                                -1, &n->above, NULL);
    return rc;
}

static void neighbours_close(struct neighbours *n)
{
    sqlite3_finalize(n->below);
    sqlite3_finalize(n->above);
}

/* The status rocky_store_run_load reports: a running run whose owner is
 * gone is crashed; a finished one missing model rows is incomplete. */
static uint32_t effective_status(struct rocky_store *s, sqlite3_stmt *count,
                                 uint32_t status, int pid, int64_t ticks,
                                 const char *host, const char *run_id,
                                 uint32_t models_total)
{
    if (status == ROCKY_RUN_RUNNING)
        return rocky_store_owner_gone(pid, ticks, host) ? ROCKY_RUN_CRASHED
                                                        : status;
    if (status == ROCKY_RUN_CRASHED || count == NULL)
        return status;
    /* A model row still marked running in a run that ended is a start
     * whose end the store could not write: not a record (as
     * rocky_store_run_load reads it), so it does not count. */
    sqlite3_reset(count);
    sqlite3_bind_text(count, 1, run_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(count, 2, ROCKY_MODEL_RUNNING);
    if (sqlite3_step(count) == SQLITE_ROW &&
        (uint64_t)sqlite3_column_int64(count, 0) < models_total)
        return ROCKY_RUN_INCOMPLETE;
    (void)s;
    return status;
}

/* Stored statuses that can read back as `want` (effective_status). */
static const char *status_where(int want)
{
    switch (want) {
    case ROCKY_RUN_RUNNING: return " AND status = 0";
    case ROCKY_RUN_CRASHED: return " AND status IN (0, 5)";
    case ROCKY_RUN_INCOMPLETE: return " AND status NOT IN (0, 5)";
    case ROCKY_RUN_SUCCESS: return " AND status = 1";
    case ROCKY_RUN_PARTIAL_FAILURE: return " AND status = 2";
    case ROCKY_RUN_FAILURE: return " AND status = 3";
    case ROCKY_RUN_INTERRUPTED: return " AND status = 4";
    default: return "";
    }
}

/* The caller's filter, or the defaults (newest DEFAULT_LIMIT, any status). */
static struct rocky_store_run_filter
filter_or_default(const struct rocky_store_run_filter *filter)
{
    struct rocky_store_run_filter f = {.limit = DEFAULT_LIMIT, .status = -1};
    if (filter != NULL)
        f = *filter;
    if (f.limit == 0)
        f.limit = DEFAULT_LIMIT;
    return f;
}

static const char *owner_columns(const struct rocky_store *s)
{
    return s->version >= 2 ? "owner_pid, owner_start_ticks, owner_host, "
                             "delivery_confirmed"
                           : "owner_pid, 0, owner_host, -1";
}

int rocky_store_runs_list(struct rocky_store *s,
                          const struct rocky_store_run_filter *filter,
                          struct rocky_store_run_summary **out, size_t *count,
                          char *err, size_t err_size)
{
    *out = NULL;
    *count = 0;
    if (s == NULL)
        return ROCKY_EINVAL;
    struct rocky_store_run_filter f = filter_or_default(filter);
    if (s->version == 0)
        return 0;
    char sql[1024];
    snprintf(sql, sizeof sql,
             "SELECT run_id, status, trigger, started_wall_ns,"
             " finished_wall_ns, models_total, models_succeeded,"
             " models_failed, models_skipped, %s FROM runs"
             " WHERE started_wall_ns >= ?1%s"
             " ORDER BY started_wall_ns DESC, run_id DESC",
             owner_columns(s), status_where(f.status));
    sqlite3_stmt *st = NULL, *cnt = NULL;
    struct neighbours nb = {0};
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(
            s->db,
            "SELECT count(*) FROM model_execs WHERE run_id = ?1"
            " AND status != ?2",
            -1, &cnt, NULL);
    if (rc == SQLITE_OK)
        rc = neighbours_open(s, &nb);
    struct rocky_store_run_summary *runs = NULL;
    size_t n = 0, cap = 0;
    int code = 0;
    if (rc != SQLITE_OK) {
        code = fail(s, rc, err, err_size);
        goto done;
    }
    sqlite3_bind_int64(st, 1, f.since_wall_ns);
    while (n < f.limit && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        if (id == NULL)
            continue;
        uint32_t models_total = (uint32_t)sqlite3_column_int64(st, 5);
        uint32_t status = effective_status(
            s, cnt, (uint32_t)sqlite3_column_int(st, 1),
            sqlite3_column_int(st, 9), sqlite3_column_int64(st, 10),
            (const char *)sqlite3_column_text(st, 11), id, models_total);
        if (f.status >= 0 && status != (uint32_t)f.status)
            continue;
        if (n == cap) {
            size_t ncap = cap ? 2 * cap : 16;
            void *grown = realloc(runs, ncap * sizeof *runs);
            if (grown == NULL) {
                code = ROCKY_ENOMEM;
                goto done;
            }
            runs = grown;
            cap = ncap;
        }
        struct rocky_store_run_summary *r = &runs[n];
        memset(r, 0, sizeof *r);
        r->run_id = dup_col(st, 0);
        r->trigger = dup_col(st, 2);
        n++;
        if (r->run_id == NULL || r->trigger == NULL) {
            code = ROCKY_ENOMEM;
            goto done;
        }
        r->status = status;
        r->short_len = short_len(s, nb.below, nb.above, r->run_id);
        r->started_wall_ns = sqlite3_column_int64(st, 3);
        r->finished_wall_ns = sqlite3_column_int64(st, 4);
        r->models_total = models_total;
        r->models_succeeded = (uint32_t)sqlite3_column_int64(st, 6);
        r->models_failed = (uint32_t)sqlite3_column_int64(st, 7);
        r->models_skipped = (uint32_t)sqlite3_column_int64(st, 8);
        r->delivery_confirmed = sqlite3_column_int(st, 12);
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        code = fail(s, rc, err, err_size);
done:
    sqlite3_finalize(st);
    sqlite3_finalize(cnt);
    neighbours_close(&nb);
    if (code != 0) {
        rocky_store_runs_free(runs, n);
        return code;
    }
    *out = runs;
    *count = n;
    return 0;
}

void rocky_store_runs_free(struct rocky_store_run_summary *runs, size_t count)
{
    for (size_t i = 0; runs != NULL && i < count; i++) {
        free(runs[i].run_id);
        free(runs[i].trigger);
    }
    free(runs);
}

int rocky_store_model_history(struct rocky_store *s, const char *name,
                              const struct rocky_store_run_filter *filter,
                              struct rocky_store_model_history **out,
                              size_t *count, char *err, size_t err_size)
{
    *out = NULL;
    *count = 0;
    if (s == NULL || name == NULL)
        return ROCKY_EINVAL;
    struct rocky_store_run_filter f = filter_or_default(filter);
    if (s->version == 0)
        return 0;
    /* CROSS JOIN keeps runs the outer loop: newest first through
     * runs_by_start, one index probe into model_execs per run, stopping at
     * the limit. */
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT r.run_id, r.status, m.status, m.started_wall_ns,"
             " m.finished_wall_ns, m.rows_affected, r.%s"
             " FROM runs r CROSS JOIN model_execs m"
             " ON m.run_id = r.run_id AND m.model_name = ?1"
             " WHERE r.started_wall_ns >= ?2"
             " ORDER BY r.started_wall_ns DESC, r.run_id DESC, m.seq DESC",
             s->version >= 2 ? "owner_pid, r.owner_start_ticks, r.owner_host"
                             : "owner_pid, 0, r.owner_host");
    sqlite3_stmt *st = NULL;
    struct neighbours nb = {0};
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = neighbours_open(s, &nb);
    struct rocky_store_model_history *h = NULL;
    size_t n = 0, cap = 0;
    int code = 0;
    if (rc != SQLITE_OK) {
        code = fail(s, rc, err, err_size);
        goto done;
    }
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, f.since_wall_ns);
    while (n < f.limit && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        /* Statuses as rocky_store_run_load reads them: a run whose owner
         * is gone crashed, and a model it left running was interrupted by
         * that; a model left running in a run that ended has no outcome
         * on record (its end could not be written) and is no execution. */
        uint32_t run_status = effective_status(
            s, NULL, (uint32_t)sqlite3_column_int(st, 1),
            sqlite3_column_int(st, 6), sqlite3_column_int64(st, 7),
            (const char *)sqlite3_column_text(st, 8), NULL, 0);
        uint32_t status = (uint32_t)sqlite3_column_int(st, 2);
        if (status == ROCKY_MODEL_RUNNING) {
            if (run_status == ROCKY_RUN_CRASHED)
                status = ROCKY_MODEL_INTERRUPTED;
            else if (run_status != ROCKY_RUN_RUNNING)
                continue;
        }
        if (f.status >= 0 && status != (uint32_t)f.status)
            continue;
        if (n == cap) {
            size_t ncap = cap ? 2 * cap : 16;
            void *grown = realloc(h, ncap * sizeof *h);
            if (grown == NULL) {
                code = ROCKY_ENOMEM;
                goto done;
            }
            h = grown;
            cap = ncap;
        }
        struct rocky_store_model_history *e = &h[n++];
        memset(e, 0, sizeof *e);
        e->run_id = dup_col(st, 0);
        if (e->run_id == NULL) {
            code = ROCKY_ENOMEM;
            goto done;
        }
        e->short_len = short_len(s, nb.below, nb.above, e->run_id);
        e->run_status = run_status;
        e->status = status;
        e->started_wall_ns = sqlite3_column_int64(st, 3);
        e->finished_wall_ns = sqlite3_column_int64(st, 4);
        e->rows_affected = sqlite3_column_int64(st, 5);
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        code = fail(s, rc, err, err_size);
done:
    sqlite3_finalize(st);
    neighbours_close(&nb);
    if (code != 0) {
        rocky_store_model_history_free(h, n);
        return code;
    }
    *out = h;
    *count = n;
    return 0;
}

void rocky_store_model_history_free(struct rocky_store_model_history *h,
                                    size_t count)
{
    for (size_t i = 0; h != NULL && i < count; i++)
        free(h[i].run_id);
    free(h);
}

static int not_found(struct rocky_store *s, const char *ref, char *err,
                     size_t err_size)
{
    char hint[512];
    rocky_store_recent_hint(s, hint, sizeof hint);
    if (hint[0] == '\0')
        rocky_store_errf(err, err_size,
                         "state store %s has no runs yet (run `rocky run` "
                         "first)",
                         s->path);
    else
        rocky_store_errf(err, err_size, "no run '%s' in state store %s%s", ref,
                         s->path, hint);
    return ROCKY_ENOTFOUND;
}

/* Run the one-column query `sql` (?1 = text, ?2 = int) and take its first
 * row. 1 found, 0 not, negative on error. */
static int first_id(struct rocky_store *s, const char *sql, const char *text,
                    int64_t num, char **run_id, char *err, size_t err_size)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return fail(s, rc, err, err_size);
    if (text != NULL)
        sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, num);
    rc = sqlite3_step(st);
    int found = 0;
    if (rc == SQLITE_ROW) {
        *run_id = dup_col(st, 0);
        found = *run_id != NULL ? 1 : ROCKY_ENOMEM;
    } else if (rc != SQLITE_DONE) {
        found = fail(s, rc, err, err_size);
    }
    sqlite3_finalize(st);
    return found;
}

/* The newest run that did not end well, as the listing reads statuses. */
static int latest_failed(struct rocky_store *s, char **run_id, char *err,
                         size_t err_size)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT run_id, status, %s FROM runs WHERE status <> 1"
             " ORDER BY started_wall_ns DESC, run_id DESC",
             owner_columns(s));
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return fail(s, rc, err, err_size);
    int found = 0;
    while (!found && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        uint32_t status = (uint32_t)sqlite3_column_int(st, 1);
        if (status == ROCKY_RUN_RUNNING &&
            !rocky_store_owner_gone(sqlite3_column_int(st, 2),
                                    sqlite3_column_int64(st, 3),
                                    (const char *)sqlite3_column_text(st, 4)))
            continue; /* still running: not failed (yet) */
        *run_id = dup_col(st, 0);
        found = *run_id != NULL ? 1 : ROCKY_ENOMEM;
    }
    if (!found && rc != SQLITE_DONE && rc != SQLITE_ROW)
        found = fail(s, rc, err, err_size);
    sqlite3_finalize(st);
    return found;
}

/* "latest~N": N >= 0, digits only. -1 when `ref` is not of that form. */
static int64_t latest_offset(const char *ref)
{
    if (strncmp(ref, "latest~", 7) != 0 || ref[7] == '\0')
        return -1;
    int64_t n = 0;
    for (const char *p = ref + 7; *p; p++) {
        if (*p < '0' || *p > '9' || n > INT64_C(100000000000))
            return -1;
        n = n * 10 + (*p - '0');
    }
    return n;
}

static int by_prefix(struct rocky_store *s, const char *ref, char **run_id,
                     char *err, size_t err_size)
{
    /* Ids are ASCII: [ref, ref with its last byte + 1) is the prefix range,
     * a primary-key range scan. */
    size_t len = strlen(ref);
    char *upper = strdup(ref);
    if (upper == NULL)
        return ROCKY_ENOMEM;
    upper[len - 1] = (char)(upper[len - 1] + 1);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db,
                                "SELECT run_id FROM runs WHERE run_id >= ?1"
                                " AND run_id < ?2 ORDER BY run_id LIMIT ?3",
                                -1, &st, NULL);
    if (rc != SQLITE_OK) {
        free(upper);
        return fail(s, rc, err, err_size);
    }
    sqlite3_bind_text(st, 1, ref, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, upper, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, MAX_CANDIDATES + 1);
    char list[1024] = "";
    size_t used = 0, n = 0;
    int code = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        if (n == 0 && id != NULL && (*run_id = strdup(id)) == NULL)
            code = ROCKY_ENOMEM;
        if (n < MAX_CANDIDATES && used < sizeof list)
            used += (size_t)snprintf(list + used, sizeof list - used, "%s%s",
                                     n ? ", " : "", id ? id : "");
        n++;
    }
    if (code == 0 && rc != SQLITE_DONE)
        code = fail(s, rc, err, err_size);
    sqlite3_finalize(st);
    free(upper);
    if (code == 0 && n == 0)
        code = not_found(s, ref, err, err_size);
    else if (code == 0 && n > 1) {
        rocky_store_errf(err, err_size,
                         "run id prefix '%s' is ambiguous: it matches %s%s; "
                         "give more characters",
                         ref, list, n > MAX_CANDIDATES ? ", ..." : "");
        code = ROCKY_EEXIST;
    }
    if (code != 0) {
        free(*run_id);
        *run_id = NULL;
    }
    return code;
}

int rocky_store_resolve_run_id(struct rocky_store *s, const char *ref,
                               char **run_id, char *err, size_t err_size)
{
    *run_id = NULL;
    if (s == NULL || ref == NULL)
        return ROCKY_EINVAL;
    if (ref[0] == '\0') {
        rocky_store_errf(err, err_size, "empty run id");
        return ROCKY_EINVAL;
    }
    if (s->version == 0)
        return not_found(s, ref, err, err_size);
    int found;
    int64_t back = strcmp(ref, "latest") == 0 ? 0 : latest_offset(ref);
    if (back >= 0)
        found = first_id(s,
                         "SELECT run_id FROM runs ORDER BY started_wall_ns "
                         "DESC, run_id DESC LIMIT 1 OFFSET ?2",
                         NULL, back, run_id, err, err_size);
    else if (strcmp(ref, "latest-failed") == 0)
        found = latest_failed(s, run_id, err, err_size);
    else {
        found = first_id(s, "SELECT run_id FROM runs WHERE run_id = ?1", ref, 0,
                         run_id, err, err_size);
        if (found == 0)
            return by_prefix(s, ref, run_id, err, err_size);
    }
    if (found < 0)
        return found;
    if (found == 1)
        return 0;
    if (back > 0) {
        rocky_store_errf(err, err_size,
                         "'%s': the state store %s holds fewer than %lld "
                         "runs",
                         ref, s->path, (long long)back + 1);
        return ROCKY_ENOTFOUND;
    }
    if (back < 0) {
        rocky_store_errf(err, err_size,
                         "no failed run in state store %s (latest-failed "
                         "names the newest run that did not succeed)",
                         s->path);
        return ROCKY_ENOTFOUND;
    }
    return not_found(s, ref, err, err_size);
}
