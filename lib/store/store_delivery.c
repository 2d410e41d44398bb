/* store_delivery.c — which plugin instances a run was recorded with and
 * what became of each one's delivery (see lib/store.h, "Delivery").
 *
 * Invariant kept by every writer here: runs.delivery_confirmed of a run
 * with instance rows is 1 exactly when all of them are confirmed. Each
 * write and the derivation of the run's flag share one transaction, so a
 * reader never sees them disagree. */
#include "store.h"
#include "store_batch.h"
#include "store_internal.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rocky/error.h"

/* The run's flag from its instance rows; a run without rows keeps its own
 * (recorded by rocky_store_set_delivery). */
static const char derive_sql[] =
    "UPDATE runs SET delivery_confirmed = NOT EXISTS("
    " SELECT 1 FROM run_plugins p WHERE p.run_id = ?1"
    " AND p.delivery_confirmed = 0)"
    " WHERE run_id = ?1 AND EXISTS("
    " SELECT 1 FROM run_plugins p WHERE p.run_id = ?1)";

static int need_schema3(struct rocky_store *s, char *err, size_t err_size)
{
    int code = rocky_store_need_writable(s, err, err_size);
    if (code == 0 && s->version < 3) { /* a writer always migrated */
        rocky_store_errf(err, err_size,
                         "state store %s predates per-plugin delivery",
                         s->path);
        code = ROCKY_EVERSION;
    }
    return code;
}

/* Run `sql` with run_id as its only parameter (?1), inside the caller's
 * transaction. */
static int exec_bound(struct rocky_store *s, const char *sql,
                      const char *run_id, const char *what, char *err,
                      size_t err_size)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE && rc != SQLITE_OK)
        return rocky_store_fail(s, rc, what, err, err_size);
    return 0;
}

/* Finish a transaction begun with rocky_store_batch_begin: commit when
 * `code` is 0, else roll back and keep `code`. */
static int finish(struct rocky_store *s, int code, char *err, size_t err_size)
{
    if (code == 0)
        return rocky_store_batch_commit(s, err, err_size);
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return code;
}

/* runs.delivery_confirmed of one run, set by hand (inside the caller's
 * transaction); ROCKY_ENOTFOUND when there is no such run. */
static int set_run_flag(struct rocky_store *s, const char *run_id,
                        int confirmed, char *err, size_t err_size)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(
        s->db, "UPDATE runs SET delivery_confirmed = ?2 WHERE run_id = ?1", -1,
        &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, confirmed ? 1 : 0);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return rocky_store_fail(s, rc, "recording delivery", err, err_size);
    if (sqlite3_changes(s->db) != 1) {
        rocky_store_errf(err, err_size, "state store %s has no run %s", s->path,
                         run_id);
        return ROCKY_ENOTFOUND;
    }
    return 0;
}

/* Config keys whose values are never written to the store (lib/store.h):
 * names that say credential. A false positive costs a re-send that needs
 * the environment; a false negative copies a secret to a second file. */
static int key_is_secret(const char *key)
{
    static const char *const words[] = {"header", "secret",     "token",
                                        "passw",  "credential", "auth",
                                        "apikey", "api_key",    "private"};
    char lower[128];
    size_t n = 0;
    for (; key[n] != '\0' && n + 1 < sizeof lower; n++)
        lower[n] = (char)tolower((unsigned char)key[n]);
    lower[n] = '\0';
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        if (strstr(lower, words[i]) != NULL)
            return 1;
    return key[n] != '\0'; /* longer than any real key: not worth the risk */
}

/* The configuration as a JSON object of strings, a secret's value as null
 * (withheld: see key_is_secret). NULL when out of memory. */
static char *config_json(const struct rocky_store_plugin *p)
{
    cJSON *obj = cJSON_CreateObject();
    for (size_t i = 0; obj != NULL && i < p->config_count; i++) {
        const char *k = p->config[i].key;
        cJSON *added =
            key_is_secret(k)
                ? cJSON_AddNullToObject(obj, k)
                : cJSON_AddStringToObject(obj, k, p->config[i].value);
        if (added == NULL) {
            cJSON_Delete(obj);
            obj = NULL;
        }
    }
    char *text = obj ? cJSON_PrintUnformatted(obj) : NULL;
    cJSON_Delete(obj);
    return text;
}

static int insert_plugin(struct rocky_store *s, sqlite3_stmt *st,
                         const char *run_id, size_t seq,
                         const struct rocky_store_plugin *p, char *err,
                         size_t err_size)
{
    if (p->instance == NULL || p->path == NULL ||
        (p->config_count > 0 && p->config == NULL)) {
        rocky_store_errf(err, err_size, "plugin instance without name/path");
        return ROCKY_EINVAL;
    }
    char *config = config_json(p);
    if (config == NULL)
        return ROCKY_ENOMEM;
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)seq);
    sqlite3_bind_text(st, 3, p->instance, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, p->path, -1, SQLITE_STATIC);
    if (p->project_dir != NULL)
        sqlite3_bind_text(st, 5, p->project_dir, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 5);
    sqlite3_bind_text(st, 6, config, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    int code = 0;
    if ((rc & 0xff) == SQLITE_CONSTRAINT) {
        rocky_store_errf(err, err_size,
                         "run %s: plugin instance '%s' is recorded twice",
                         run_id, p->instance);
        code = ROCKY_EEXIST;
    } else if (rc != SQLITE_DONE) {
        code = rocky_store_fail(s, rc, "recording the run's plugins", err,
                                err_size);
    }
    free(config);
    return code;
}

int rocky_store_plugins_record(struct rocky_store *s, const char *run_id,
                               const struct rocky_store_plugin *plugins,
                               size_t count, char *err, size_t err_size)
{
    int code = need_schema3(s, err, err_size);
    if (code != 0)
        return code;
    if (run_id == NULL || (count > 0 && plugins == NULL))
        return ROCKY_EINVAL;
    code = rocky_store_batch_begin(s, err, err_size);
    if (code != 0)
        return code;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(
        s->db,
        "INSERT INTO run_plugins(run_id, seq, instance, plugin_path,"
        " project_dir, config) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
        -1, &st, NULL);
    if (rc != SQLITE_OK)
        code = rocky_store_fail(s, rc, "recording the run's plugins", err,
                                err_size);
    for (size_t i = 0; code == 0 && i < count; i++)
        code = insert_plugin(s, st, run_id, i, &plugins[i], err, err_size);
    sqlite3_finalize(st);
    if (code == 0)
        code = set_run_flag(s, run_id, 0, err, err_size);
    return finish(s, code, err, err_size);
}

int rocky_store_plugin_delivery(struct rocky_store *s, const char *run_id,
                                const char *instance, int confirmed,
                                uint64_t pending, uint64_t dropped, char *err,
                                size_t err_size)
{
    int code = need_schema3(s, err, err_size);
    if (code != 0)
        return code;
    if (run_id == NULL || instance == NULL)
        return ROCKY_EINVAL;
    code = rocky_store_batch_begin(s, err, err_size);
    if (code != 0)
        return code;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(
        s->db,
        "UPDATE run_plugins SET delivery_confirmed = ?3, pending = ?4,"
        " dropped = ?5 WHERE run_id = ?1 AND instance = ?2",
        -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, instance, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, confirmed ? 1 : 0);
        /* Counts above INT64_MAX cannot happen; saturate rather than wrap. */
        sqlite3_bind_int64(st, 4,
                           pending > INT64_MAX ? INT64_MAX : (int64_t)pending);
        sqlite3_bind_int64(st, 5,
                           dropped > INT64_MAX ? INT64_MAX : (int64_t)dropped);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        code = rocky_store_fail(s, rc, "recording delivery", err, err_size);
    else if (sqlite3_changes(s->db) != 1) {
        rocky_store_errf(err, err_size,
                         "state store %s: run %s has no plugin instance '%s'",
                         s->path, run_id, instance);
        code = ROCKY_ENOTFOUND;
    }
    if (code == 0)
        code = exec_bound(s, derive_sql, run_id, "recording delivery", err,
                          err_size);
    return finish(s, code, err, err_size);
}

int rocky_store_set_delivery(struct rocky_store *s, const char *run_id,
                             int confirmed, char *err, size_t err_size)
{
    int code = rocky_store_need_writable(s, err, err_size);
    if (code != 0)
        return code;
    if (run_id == NULL)
        return ROCKY_EINVAL;
    code = rocky_store_batch_begin(s, err, err_size);
    if (code != 0)
        return code;
    code = set_run_flag(s, run_id, confirmed, err, err_size);
    if (code == 0 && confirmed && s->version >= 3)
        code = exec_bound(s,
                          "UPDATE run_plugins SET delivery_confirmed = 1,"
                          " pending = 0, dropped = 0 WHERE run_id = ?1",
                          run_id, "recording delivery", err, err_size);
    return finish(s, code, err, err_size);
}

/* Parse a stored configuration back into owned entries; withheld keys
 * (null) are listed in p->withheld instead. */
static int config_parse(const char *text, struct rocky_store_plugin *p)
{
    cJSON *obj = cJSON_Parse(text ? text : "{}");
    if (obj == NULL || !cJSON_IsObject(obj)) {
        cJSON_Delete(obj);
        return ROCKY_ECORRUPT;
    }
    int n = cJSON_GetArraySize(obj);
    struct rocky_config_entry *entries =
        n > 0 ? calloc((size_t)n, sizeof *entries) : NULL;
    int code = n > 0 && entries == NULL ? ROCKY_ENOMEM : 0;
    size_t count = 0;
    char *withheld = NULL;
    size_t wlen = 0;
    FILE *wf = code == 0 ? open_memstream(&withheld, &wlen) : NULL;
    if (code == 0 && wf == NULL)
        code = ROCKY_ENOMEM;
    for (cJSON *it = obj->child; code == 0 && it != NULL; it = it->next) {
        if (it->string != NULL && cJSON_IsNull(it)) {
            fprintf(wf, "%s%s", ftell(wf) > 0 ? ", " : "", it->string);
            continue;
        }
        if (!cJSON_IsString(it) || it->string == NULL) {
            code = ROCKY_ECORRUPT;
            break;
        }
        char *k = strdup(it->string), *v = strdup(it->valuestring);
        entries[count].key = k;
        entries[count].value = v;
        count++;
        if (k == NULL || v == NULL)
            code = ROCKY_ENOMEM;
    }
    cJSON_Delete(obj);
    if (wf != NULL && fclose(wf) != 0 && code == 0)
        code = ROCKY_ENOMEM;
    if (withheld != NULL && withheld[0] == '\0') {
        free(withheld);
        withheld = NULL;
    }
    p->config = entries;
    p->config_count = count;
    p->withheld = withheld;
    return code;
}

static void plugin_free(struct rocky_store_plugin *p)
{
    free((char *)p->instance);
    free((char *)p->path);
    free((char *)p->project_dir);
    for (size_t i = 0; i < p->config_count; i++) {
        free((char *)p->config[i].key);
        free((char *)p->config[i].value);
    }
    free((struct rocky_config_entry *)p->config);
    free((char *)p->withheld);
}

void rocky_store_plugins_free(struct rocky_store_plugin *plugins, size_t count)
{
    for (size_t i = 0; plugins != NULL && i < count; i++)
        plugin_free(&plugins[i]);
    free(plugins);
}

static char *dup_col(sqlite3_stmt *st, int i, int *oom)
{
    const char *t = (const char *)sqlite3_column_text(st, i);
    char *copy = t ? strdup(t) : NULL;
    *oom |= t != NULL && copy == NULL;
    return copy;
}

int rocky_store_run_plugins(struct rocky_store *s, const char *run_id,
                            struct rocky_store_plugin **out, size_t *count,
                            char *err, size_t err_size)
{
    *out = NULL;
    *count = 0;
    if (s == NULL || run_id == NULL)
        return ROCKY_EINVAL;
    if (s->version < 3)
        return 0; /* read-only on an older file: nothing was recorded */
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(
        s->db,
        "SELECT instance, plugin_path, project_dir, config,"
        " delivery_confirmed, pending, dropped FROM run_plugins"
        " WHERE run_id = ?1 ORDER BY seq",
        -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rocky_store_fail(s, rc, "reading the run's plugins", err,
                                err_size);
    sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
    struct rocky_store_plugin *list = NULL;
    size_t n = 0, cap = 0;
    int code = 0;
    while (code == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            size_t ncap = cap ? 2 * cap : 4;
            struct rocky_store_plugin *grown =
                realloc(list, ncap * sizeof *grown);
            if (grown == NULL) {
                code = ROCKY_ENOMEM;
                break;
            }
            list = grown;
            cap = ncap;
        }
        struct rocky_store_plugin *p = &list[n++];
        memset(p, 0, sizeof *p);
        int oom = 0;
        p->instance = dup_col(st, 0, &oom);
        p->path = dup_col(st, 1, &oom);
        p->project_dir = dup_col(st, 2, &oom);
        p->confirmed = sqlite3_column_int(st, 4) != 0;
        p->pending = (uint64_t)sqlite3_column_int64(st, 5);
        p->dropped = (uint64_t)sqlite3_column_int64(st, 6);
        code = oom ? ROCKY_ENOMEM
                   : config_parse((const char *)sqlite3_column_text(st, 3), p);
        if (code == 0 && (p->instance == NULL || p->path == NULL))
            code = ROCKY_ECORRUPT;
    }
    if (code == 0 && rc != SQLITE_DONE)
        code =
            rocky_store_fail(s, rc, "reading the run's plugins", err, err_size);
    else if (code == ROCKY_ECORRUPT)
        rocky_store_errf(err, err_size,
                         "state store %s: run %s: a plugin instance record "
                         "is damaged (no name, path or a configuration that "
                         "is not an object of strings); re-send it with "
                         "--plugin PATH",
                         s->path, run_id);
    sqlite3_finalize(st);
    if (code != 0) {
        rocky_store_plugins_free(list, n);
        return code;
    }
    *out = list;
    *count = n;
    return 0;
}
