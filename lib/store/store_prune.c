/* store_prune.c — retention: deleting old runs and giving the space back
 * (see lib/store.h, rocky_store_prune).
 *
 * Order: choose and delete inside one IMMEDIATE transaction (the choice
 * cannot race a runner recording a run), then — outside it, as SQLite
 * requires — return free pages to the file system, then checkpoint the WAL
 * so the main file's truncation reaches the disk. */
#include "store.h"
#include "store_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "rocky/error.h"

#define NS_PER_DAY (INT64_C(86400) * INT64_C(1000000000))

static int64_t bytes_on_disk(const char *path)
{
    char wal[4096];
    struct stat sb;
    int64_t total = 0;
    if (stat(path, &sb) == 0)
        total += (int64_t)sb.st_size;
    snprintf(wal, sizeof wal, "%s-wal", path);
    if (stat(wal, &sb) == 0)
        total += (int64_t)sb.st_size;
    return total;
}

struct victims {
    char **ids;
    size_t n, cap;
};

static int victims_add(struct victims *v, const char *id)
{
    if (v->n == v->cap) {
        size_t ncap = v->cap ? 2 * v->cap : 64;
        char **grown = realloc(v->ids, ncap * sizeof *grown);
        if (grown == NULL)
            return ROCKY_ENOMEM;
        v->ids = grown;
        v->cap = ncap;
    }
    if ((v->ids[v->n] = strdup(id)) == NULL)
        return ROCKY_ENOMEM;
    v->n++;
    return 0;
}

static void victims_free(struct victims *v)
{
    for (size_t i = 0; i < v->n; i++)
        free(v->ids[i]);
    free(v->ids);
}

/* Walk runs newest first and pick those no rule keeps. */
static int choose(struct rocky_store *s, const struct rocky_store_prune_opts *o,
                  struct victims *v, struct rocky_store_prune_report *r)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT run_id, status, started_wall_ns, %s FROM runs"
             " ORDER BY started_wall_ns DESC, run_id DESC",
             s->version >= 2 ? "owner_pid, owner_start_ticks, owner_host,"
                               " delivery_confirmed"
                             : "owner_pid, 0, owner_host, -1");
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    int64_t cutoff = o->keep_days
                         ? o->now_wall_ns - (int64_t)o->keep_days * NS_PER_DAY
                         : INT64_MAX;
    uint64_t rank = 0;
    size_t total = 0;
    int code = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        total++;
        const char *id = (const char *)sqlite3_column_text(st, 0);
        int kept_by_rule = (o->keep_runs && rank < o->keep_runs) ||
                           sqlite3_column_int64(st, 2) >= cutoff;
        rank++;
        if (kept_by_rule || id == NULL ||
            (o->except_run_id && strcmp(id, o->except_run_id) == 0))
            continue;
        if (sqlite3_column_int(st, 1) == ROCKY_RUN_RUNNING &&
            !rocky_store_owner_gone(sqlite3_column_int(st, 3),
                                    sqlite3_column_int64(st, 4),
                                    (const char *)sqlite3_column_text(st, 5))) {
            r->kept_running++;
            continue;
        }
        if (sqlite3_column_int(st, 6) == 0 && !o->force) {
            r->kept_pending++;
            continue;
        }
        if ((code = victims_add(v, id)) != 0)
            break;
    }
    sqlite3_finalize(st);
    r->runs_pruned = v->n;
    r->runs_left = total - v->n;
    if (code != 0)
        return code;
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int delete_runs(struct rocky_store *s, const struct victims *v,
                       struct rocky_store_prune_report *r)
{
    static const char *const sql[] = {
        "DELETE FROM model_execs WHERE run_id = ?1",
        "DELETE FROM run_plugins WHERE run_id = ?1",
        "DELETE FROM runs WHERE run_id = ?1",
    };
    sqlite3_stmt *st[3] = {NULL, NULL, NULL};
    int rc = SQLITE_OK;
    for (int k = 0; k < 3 && rc == SQLITE_OK; k++) {
        if (k == 1 && s->version < 3)
            continue; /* no run_plugins before schema 3 */
        rc = sqlite3_prepare_v2(s->db, sql[k], -1, &st[k], NULL);
    }
    for (size_t i = 0; rc == SQLITE_OK && i < v->n; i++) {
        for (int k = 0; k < 3 && rc == SQLITE_OK; k++) {
            if (st[k] == NULL)
                continue;
            sqlite3_reset(st[k]);
            sqlite3_bind_text(st[k], 1, v->ids[i], -1, SQLITE_STATIC);
            rc = sqlite3_step(st[k]);
            if (rc == SQLITE_DONE) {
                rc = SQLITE_OK;
                if (k == 0)
                    r->models_pruned += (size_t)sqlite3_changes(s->db);
            }
        }
    }
    for (int k = 0; k < 3; k++)
        sqlite3_finalize(st[k]);
    return rc;
}

static int read_int(sqlite3 *db, const char *sql, int *out)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        *out = sqlite3_column_int(st, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

/* Give free pages back: incrementally when the store allows it, else (once,
 * when allowed) by a full VACUUM that also turns incremental vacuum on. */
static int give_back(struct rocky_store *s, int compact,
                     struct rocky_store_prune_report *r)
{
    int mode = 0;
    int rc = read_int(s->db, "PRAGMA auto_vacuum", &mode);
    if (rc != SQLITE_OK)
        return rc;
    if (mode == 2) {
        /* incremental_vacuum returns a row per step: run it to the end. */
        sqlite3_stmt *st = NULL;
        rc = sqlite3_prepare_v2(s->db, "PRAGMA incremental_vacuum", -1, &st,
                                NULL);
        while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
            rc = SQLITE_OK;
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE)
            return rc;
    } else if (compact) {
        rc = sqlite3_exec(s->db, "PRAGMA auto_vacuum=INCREMENTAL; VACUUM", NULL,
                          NULL, NULL);
        if (rc != SQLITE_OK)
            return rc;
        r->full_vacuum = 1;
    }
    /* Best effort: a reader holding an old snapshot only delays the
     * shrink to a later checkpoint. */
    sqlite3_exec(s->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    return SQLITE_OK;
}

int rocky_store_prune(struct rocky_store *s,
                      const struct rocky_store_prune_opts *o,
                      struct rocky_store_prune_report *r, char *err,
                      size_t err_size)
{
    memset(r, 0, sizeof *r);
    if (s == NULL || o == NULL)
        return ROCKY_EINVAL;
    if (o->keep_runs == 0 && o->keep_days == 0) {
        rocky_store_errf(err, err_size,
                         "no retention rule: give keep_runs or keep_days "
                         "(--keep-runs N, --keep-days D, or \"retention\" in "
                         "rocky.json)");
        return ROCKY_EINVAL;
    }
    if (!o->dry_run) {
        int code = rocky_store_need_writable(s, err, err_size);
        if (code != 0)
            return code;
    }
    r->bytes_before = r->bytes_after = bytes_on_disk(s->path);
    if (s->version == 0)
        return 0;
    struct victims v = {0};
    int rc = sqlite3_exec(s->db, o->dry_run ? "BEGIN" : "BEGIN IMMEDIATE", NULL,
                          NULL, NULL);
    const char *what = "locking for a prune";
    if (rc == SQLITE_OK) {
        what = "choosing runs to prune";
        rc = choose(s, o, &v, r);
    }
    if (rc == SQLITE_OK && !o->dry_run && v.n > 0) {
        what = "deleting pruned runs";
        rc = delete_runs(s, &v, r);
    }
    if (rc == SQLITE_OK) {
        what = "committing a prune";
        rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    }
    victims_free(&v);
    if (rc == ROCKY_ENOMEM) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return ROCKY_ENOMEM;
    }
    if (rc != SQLITE_OK) {
        int code = rocky_store_fail(s, rc, what, err, err_size);
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        memset(r, 0, sizeof *r);
        return code;
    }
    if (!o->dry_run) {
        rc = give_back(s, o->compact, r);
        if (rc != SQLITE_OK)
            return rocky_store_fail(s, rc, "returning free space", err,
                                    err_size);
        r->bytes_after = bytes_on_disk(s->path);
    }
    return 0;
}
