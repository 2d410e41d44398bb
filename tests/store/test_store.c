/* test_store.c — the state store keeps every run, survives old and odd files,
 * and reports crashed runners (lib/store.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fault_vfs.h"
#include "ids.h"
#include "rocky/error.h"
#include "store.h"

struct fx {
    char dir[64];
    char path[128];
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/rocky-store-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(f->path, sizeof f->path, "%s/.rocky/state.db", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

static void make_run(struct rocky_run *run, const char *id, int64_t start)
{
    memset(run, 0, sizeof *run);
    run->struct_size = sizeof *run;
    run->run_id = id;
    run->project = "proj";
    run->trigger = "ci";
    run->config_hash = "cfg";
    run->hostname = "h";
    run->rocky_version = "0.1.0";
    run->trace_state = "k=v";
    run->started_wall_ns = start;
    run->models_total = 3;
    rocky_random_id(run->trace_id, sizeof run->trace_id);
    rocky_random_id(run->span_id, sizeof run->span_id);
    run->trace_flags = 1;
}

static void make_model(struct rocky_model_exec *m, const char *name,
                       uint32_t status, int64_t start, const char *const *deps,
                       uint32_t ndeps)
{
    memset(m, 0, sizeof *m);
    m->struct_size = sizeof *m;
    m->model_name = name;
    m->status = status;
    m->sql_hash = "deadbeef";
    m->error = status == ROCKY_MODEL_FAILED ? "no such table: x" : NULL;
    m->started_wall_ns = start;
    m->finished_wall_ns = start ? start + 1000 : 0;
    m->rows_affected = 42;
    m->bytes_written = 8192;
    m->attempt = 1;
    m->dependencies = deps;
    m->dependency_count = ndeps;
    rocky_random_id(m->span_id, sizeof m->span_id);
}

static struct rocky_store *open_rw(const char *path)
{
    struct rocky_store *s = NULL;
    char err[512] = "";
    int rc = rocky_store_open(path, ROCKY_STORE_READWRITE, &s, err, sizeof err);
    if (rc != 0)
        fail_msg("open %s: %s", path, err);
    return s;
}

static void test_empty_store_reports_no_runs(void **state)
{
    struct fx *f = *state;
    struct rocky_store *s = open_rw(f->path);
    struct rocky_run_record *rec = NULL;
    char err[512] = "";
    assert_int_equal(rocky_store_run_load(s, "latest", &rec, err, sizeof err),
                     ROCKY_ENOTFOUND);
    assert_null(rec);
    assert_non_null(strstr(err, "no runs"));
    char *ids[4];
    size_t n = 9;
    assert_int_equal(rocky_store_recent_run_ids(s, ids, 4, &n), 0);
    assert_int_equal(n, 0);
    rocky_store_close(s);
}

static void test_readonly_missing_file_is_not_found(void **state)
{
    struct fx *f = *state;
    struct rocky_store *s = NULL;
    char err[512] = "";
    assert_int_equal(
        rocky_store_open(f->path, ROCKY_STORE_READONLY, &s, err, sizeof err),
        ROCKY_ENOTFOUND);
    assert_null(s);
    assert_non_null(strstr(err, f->path));
}

static void test_run_round_trips_with_models_in_start_order(void **state)
{
    struct fx *f = *state;
    struct rocky_store *s = open_rw(f->path);
    struct rocky_run run;
    make_run(&run, "20261125T060000.000Z-aaaaaa", 1000);
    char err[512] = "";
    assert_int_equal(rocky_store_run_begin(s, &run, err, sizeof err), 0);

    const char *deps[] = {"a", "b"};
    struct rocky_model_exec m1, m2, m3;
    make_model(&m1, "c", ROCKY_MODEL_FAILED, 3000, deps, 2);
    make_model(&m2, "a", ROCKY_MODEL_SUCCESS, 2000, NULL, 0);
    make_model(&m3, "d", ROCKY_MODEL_SKIPPED, 0, deps + 1, 1);
    assert_int_equal(
        rocky_store_model_record(s, run.run_id, &m1, err, sizeof err), 0);
    assert_int_equal(
        rocky_store_model_record(s, run.run_id, &m3, err, sizeof err), 0);
    assert_int_equal(
        rocky_store_model_record(s, run.run_id, &m2, err, sizeof err), 0);
    run.status = ROCKY_RUN_PARTIAL_FAILURE;
    run.finished_wall_ns = 9000;
    run.models_succeeded = 1;
    run.models_failed = 1;
    run.models_skipped = 1;
    assert_int_equal(rocky_store_run_finish(s, &run, err, sizeof err), 0);

    struct rocky_run_record *rec = NULL;
    assert_int_equal(rocky_store_run_load(s, run.run_id, &rec, err, sizeof err),
                     0);
    assert_string_equal(rec->run.run_id, run.run_id);
    assert_int_equal(rec->run.status, ROCKY_RUN_PARTIAL_FAILURE);
    assert_string_equal(rec->run.trigger, "ci");
    assert_string_equal(rec->run.trace_state, "k=v");
    assert_int_equal(rec->run.finished_wall_ns, 9000);
    assert_int_equal(rec->run.models_failed, 1);
    assert_memory_equal(rec->run.trace_id, run.trace_id, 16);
    assert_memory_equal(rec->run.span_id, run.span_id, 8);
    assert_true(rocky_id_is_zero(rec->run.parent_span_id, 8));
    assert_int_equal(rec->delivery_confirmed, -1);
    assert_int_equal(rec->owner_pid, (int)getpid());
    assert_int_equal(rec->model_count, 3);
    /* start order, never-started last */
    assert_string_equal(rec->models[0].model_name, "a");
    assert_string_equal(rec->models[1].model_name, "c");
    assert_string_equal(rec->models[2].model_name, "d");
    assert_int_equal(rec->models[1].status, ROCKY_MODEL_FAILED);
    assert_string_equal(rec->models[1].error, "no such table: x");
    assert_int_equal(rec->models[1].dependency_count, 2);
    assert_string_equal(rec->models[1].dependencies[0], "a");
    assert_string_equal(rec->models[1].dependencies[1], "b");
    assert_int_equal(rec->models[0].dependency_count, 0);
    assert_memory_equal(rec->models[1].span_id, m1.span_id, 8);
    assert_int_equal(rec->models[0].rows_affected, 42);
    assert_int_equal(rec->models[0].started_mono_ns, 0);
    rocky_run_record_free(rec);

    /* ids are stored as readable hex */
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT trace_id FROM runs", -1, &st, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    char hex[33];
    rocky_hex_encode(run.trace_id, 16, hex);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), hex);
    sqlite3_finalize(st);
    sqlite3_close(db);
    rocky_store_close(s);
}

static void test_latest_is_newest_and_unknown_id_lists_recent(void **state)
{
    struct fx *f = *state;
    struct rocky_store *s = open_rw(f->path);
    char err[512] = "";
    const char *ids[] = {"20261125T060000.000Z-000001",
                         "20261125T060001.000Z-000002",
                         "20261125T060002.000Z-000003"};
    for (int i = 0; i < 3; i++) {
        struct rocky_run run;
        make_run(&run, ids[i], 1000 + i);
        assert_int_equal(rocky_store_run_begin(s, &run, err, sizeof err), 0);
    }
    struct rocky_run dup;
    make_run(&dup, ids[0], 5);
    assert_int_equal(rocky_store_run_begin(s, &dup, err, sizeof err),
                     ROCKY_EEXIST);

    struct rocky_run_record *rec = NULL;
    assert_int_equal(rocky_store_run_load(s, "latest", &rec, err, sizeof err),
                     0);
    assert_string_equal(rec->run.run_id, ids[2]);
    rocky_run_record_free(rec);

    rec = NULL;
    assert_int_equal(rocky_store_run_load(s, "nope", &rec, err, sizeof err),
                     ROCKY_ENOTFOUND);
    assert_non_null(strstr(err, "nope"));
    assert_non_null(strstr(err, ids[2]));
    assert_non_null(strstr(err, ids[0]));

    char *out[2];
    size_t n = 0;
    assert_int_equal(rocky_store_recent_run_ids(s, out, 2, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(out[0], ids[2]);
    assert_string_equal(out[1], ids[1]);
    free(out[0]);
    free(out[1]);

    /* delivery: unconfirmed runs are pending, oldest first */
    assert_int_equal(rocky_store_set_delivery(s, ids[1], 0, err, sizeof err),
                     0);
    assert_int_equal(rocky_store_set_delivery(s, ids[0], 0, err, sizeof err),
                     0);
    assert_int_equal(rocky_store_set_delivery(s, ids[2], 1, err, sizeof err),
                     0);
    assert_int_equal(rocky_store_pending_run_ids(s, out, 2, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(out[0], ids[0]);
    assert_string_equal(out[1], ids[1]);
    free(out[0]);
    free(out[1]);
    assert_int_equal(rocky_store_set_delivery(s, "missing", 1, err, sizeof err),
                     ROCKY_ENOTFOUND);
    rocky_store_close(s);
}

static int is_pending(struct rocky_store *s, const char *run_id)
{
    char *out[8];
    size_t n = 0;
    assert_int_equal(rocky_store_pending_run_ids(s, out, 8, &n), 0);
    int found = 0;
    for (size_t i = 0; i < n; i++) {
        found |= strcmp(out[i], run_id) == 0;
        free(out[i]);
    }
    return found;
}

/* Each instance is recorded with what it takes to create it again, and
 * confirmed on its own; the run is delivered exactly when all are. */
static void test_delivery_is_recorded_per_plugin_instance(void **state)
{
    struct fx *f = *state;
    struct rocky_store *s = open_rw(f->path);
    char err[512] = "";
    struct rocky_run run;
    make_run(&run, "20261206T000000.000Z-inst01", 1000);
    assert_int_equal(rocky_store_run_begin(s, &run, err, sizeof err), 0);
    const struct rocky_config_entry cfg[] = {
        {"endpoint", "http://127.0.0.1:4317"},
        {"Headers", "authorization=Bearer%20CANARY-store"},
        {"quote", "a \"b\"\n\\ \xc3\xa9"},
    };
    const struct rocky_store_plugin plugins[] = {
        {.instance = "otel_prod",
         .path = "/p/rocky_otel.so",
         .project_dir = "/proj",
         .config = cfg,
         .config_count = 3},
        {.instance = "audit", .path = "/p/events_jsonl.so"},
    };
    assert_int_equal(
        rocky_store_plugins_record(s, run.run_id, plugins, 2, err, sizeof err),
        0);
    assert_true(is_pending(s, run.run_id));

    /* Read back in load order, configuration byte for byte. */
    struct rocky_store_plugin *got = NULL;
    size_t n = 0;
    assert_int_equal(
        rocky_store_run_plugins(s, run.run_id, &got, &n, err, sizeof err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(got[0].instance, "otel_prod");
    assert_string_equal(got[0].path, "/p/rocky_otel.so");
    assert_string_equal(got[0].project_dir, "/proj");
    /* A credential's value is withheld, never written; its key is kept. */
    assert_int_equal(got[0].config_count, 2);
    assert_string_equal(got[0].config[1].key, "quote");
    assert_string_equal(got[0].config[1].value, cfg[2].value);
    assert_string_equal(got[0].withheld, "Headers");
    assert_null(got[1].withheld);
    assert_int_equal(got[0].confirmed, 0);
    assert_string_equal(got[1].instance, "audit");
    assert_null(got[1].project_dir);
    assert_int_equal(got[1].config_count, 0);
    rocky_store_plugins_free(got, n);
    FILE *db = fopen(f->path, "rb");
    assert_non_null(db);
    char buf[65536];
    size_t len = fread(buf, 1, sizeof buf, db);
    fclose(db);
    assert_null(memmem(buf, len, "CANARY-store", 12));

    /* One confirms: still pending. The other reports what it holds. */
    assert_int_equal(rocky_store_plugin_delivery(s, run.run_id, "audit", 1, 0,
                                                 0, err, sizeof err),
                     0);
    assert_int_equal(rocky_store_plugin_delivery(s, run.run_id, "otel_prod", 0,
                                                 7, 2, err, sizeof err),
                     0);
    assert_true(is_pending(s, run.run_id));
    assert_int_equal(
        rocky_store_run_plugins(s, run.run_id, &got, &n, err, sizeof err), 0);
    assert_int_equal(got[0].pending, 7);
    assert_int_equal(got[0].dropped, 2);
    assert_int_equal(got[1].confirmed, 1);
    rocky_store_plugins_free(got, n);
    struct rocky_run_record *rec = NULL;
    assert_int_equal(rocky_store_run_load(s, run.run_id, &rec, err, sizeof err),
                     0);
    assert_int_equal(rec->delivery_confirmed, 0);
    rocky_run_record_free(rec);

    /* The last one confirms: the run is delivered. */
    assert_int_equal(rocky_store_plugin_delivery(s, run.run_id, "otel_prod", 1,
                                                 0, 0, err, sizeof err),
                     0);
    assert_false(is_pending(s, run.run_id));
    assert_int_equal(rocky_store_run_load(s, run.run_id, &rec, err, sizeof err),
                     0);
    assert_int_equal(rec->delivery_confirmed, 1);
    rocky_run_record_free(rec);

    /* Unknown instance or run: named in the error, nothing changed. */
    assert_int_equal(rocky_store_plugin_delivery(s, run.run_id, "nope", 0, 0, 0,
                                                 err, sizeof err),
                     ROCKY_ENOTFOUND);
    assert_non_null(strstr(err, "'nope'"));
    assert_false(is_pending(s, run.run_id));
    assert_int_equal(
        rocky_store_plugins_record(s, "missing", plugins, 1, err, sizeof err),
        ROCKY_ENOTFOUND);
    /* A name twice is refused whole: no row of it is kept. */
    struct rocky_run run2;
    make_run(&run2, "20261206T000001.000Z-inst02", 2000);
    assert_int_equal(rocky_store_run_begin(s, &run2, err, sizeof err), 0);
    const struct rocky_store_plugin twice[] = {plugins[1], plugins[1]};
    assert_int_equal(
        rocky_store_plugins_record(s, run2.run_id, twice, 2, err, sizeof err),
        ROCKY_EEXIST);
    assert_non_null(strstr(err, "'audit'"));
    assert_int_equal(
        rocky_store_run_plugins(s, run2.run_id, &got, &n, err, sizeof err), 0);
    assert_int_equal(n, 0);
    assert_null(got);

    /* A re-send through plugins named by hand confirms every instance. */
    assert_int_equal(
        rocky_store_plugins_record(s, run2.run_id, plugins, 2, err, sizeof err),
        0);
    assert_true(is_pending(s, run2.run_id));
    assert_int_equal(
        rocky_store_set_delivery(s, run2.run_id, 1, err, sizeof err), 0);
    assert_false(is_pending(s, run2.run_id));
    assert_int_equal(
        rocky_store_run_plugins(s, run2.run_id, &got, &n, err, sizeof err), 0);
    assert_int_equal(got[0].confirmed + got[1].confirmed, 2);
    rocky_store_plugins_free(got, n);
    rocky_store_close(s);
}

static void test_writing_a_run_leaves_other_runs_untouched(void **state)
{
    struct fx *f = *state;
    struct rocky_store *s = open_rw(f->path);
    char err[512] = "";
    struct rocky_run a, b;
    make_run(&a, "A", 1);
    make_run(&b, "B", 2);
    a.models_total = b.models_total = 1; /* as many as each records */
    assert_int_equal(rocky_store_run_begin(s, &a, err, sizeof err), 0);
    struct rocky_model_exec m;
    make_model(&m, "x", ROCKY_MODEL_SUCCESS, 10, NULL, 0);
    assert_int_equal(rocky_store_model_record(s, "A", &m, err, sizeof err), 0);
    a.status = ROCKY_RUN_SUCCESS;
    assert_int_equal(rocky_store_run_finish(s, &a, err, sizeof err), 0);

    assert_int_equal(rocky_store_run_begin(s, &b, err, sizeof err), 0);
    make_model(&m, "x", ROCKY_MODEL_FAILED, 20, NULL, 0);
    assert_int_equal(rocky_store_model_record(s, "B", &m, err, sizeof err), 0);
    b.status = ROCKY_RUN_FAILURE;
    assert_int_equal(rocky_store_run_finish(s, &b, err, sizeof err), 0);

    struct rocky_run_record *rec = NULL;
    assert_int_equal(rocky_store_run_load(s, "A", &rec, err, sizeof err), 0);
    assert_int_equal(rec->run.status, ROCKY_RUN_SUCCESS);
    assert_int_equal(rec->model_count, 1);
    assert_int_equal(rec->models[0].status, ROCKY_MODEL_SUCCESS);
    rocky_run_record_free(rec);
    rocky_store_close(s);
}

static void exec_sql_file(const char *db_path, const char *sql_path)
{
    FILE *fp = fopen(sql_path, "r");
    assert_non_null(fp);
    char *buf = calloc(1, 1 << 16);
    size_t n = fread(buf, 1, (1 << 16) - 1, fp);
    fclose(fp);
    assert_true(n > 0);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, buf, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    free(buf);
}

static int user_version(const char *path)
{
    sqlite3 *db = NULL;
    sqlite3_open(path, &db);
    sqlite3_stmt *st = NULL;
    sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
    int v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static void test_v1_fixture_migrates_forward_keeping_old_runs(void **state)
{
    struct fx *f = *state;
    char path[160];
    snprintf(path, sizeof path, "%s/old.db", f->dir);
    exec_sql_file(path, ROCKY_STORE_FIXTURES "/schema_v1.sql");
    assert_int_equal(user_version(path), 1);

    /* Read-only readers cope with the old schema without migrating it. */
    struct rocky_store *s = NULL;
    char err[512] = "";
    assert_int_equal(
        rocky_store_open(path, ROCKY_STORE_READONLY, &s, err, sizeof err), 0);
    struct rocky_run_record *rec = NULL;
    assert_int_equal(rocky_store_run_load(s, "latest", &rec, err, sizeof err),
                     0);
    assert_string_equal(rec->run.project, "legacy");
    assert_int_equal(rec->delivery_confirmed, -1);
    rocky_run_record_free(rec);
    rocky_store_close(s);
    assert_int_equal(user_version(path), 1);

    s = open_rw(path);
    assert_int_equal(user_version(path), 4);
    rec = NULL;
    assert_int_equal(rocky_store_run_load(s, "20250101T000000.000Z-old001",
                                          &rec, err, sizeof err),
                     0);
    assert_int_equal(rec->run.status, ROCKY_RUN_SUCCESS);
    assert_int_equal(rec->model_count, 2);
    assert_string_equal(rec->models[1].model_name, "mart_b");
    assert_int_equal(rec->models[1].dependency_count, 1);
    assert_string_equal(rec->models[1].dependencies[0], "stg_a");
    uint8_t want[16];
    rocky_hex_decode("0af7651916cd43dd8448eb211c80319c", want, 16);
    assert_memory_equal(rec->run.trace_id, want, 16);
    assert_int_equal(rec->delivery_confirmed, -1);
    rocky_run_record_free(rec);

    /* and new runs go in next to it */
    struct rocky_run run;
    make_run(&run, "20261125T060000.000Z-new001", 2000000000000000000LL);
    assert_int_equal(rocky_store_run_begin(s, &run, err, sizeof err), 0);
    assert_int_equal(
        rocky_store_set_delivery(s, run.run_id, 1, err, sizeof err), 0);
    rocky_store_close(s);

    /* reopening a current store is a no-op */
    s = open_rw(path);
    assert_int_equal(user_version(path), 4);
    rocky_store_close(s);
}

static void test_newer_schema_is_refused_naming_both_versions(void **state)
{
    struct fx *f = *state;
    char path[160];
    snprintf(path, sizeof path, "%s/new.db", f->dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TABLE runs(x); PRAGMA "
                                  "user_version=99;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    for (int flags = 0; flags < 2; flags++) {
        struct rocky_store *s = NULL;
        char err[512] = "";
        assert_int_equal(rocky_store_open(path, flags, &s, err, sizeof err),
                         ROCKY_EVERSION);
        assert_null(s);
        assert_non_null(strstr(err, "99"));
        assert_non_null(strstr(err, "version 4"));
    }
    assert_int_equal(user_version(path), 99);
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    fclose(fp);
}

static void test_garbage_file_is_corrupt_and_left_alone(void **state)
{
    struct fx *f = *state;
    char path[160];
    snprintf(path, sizeof path, "%s/garbage.db", f->dir);
    char junk[8192];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (char)(i * 7 + 3);
    memcpy(junk, "this is not a database\n", 23);
    write_file(path, junk, sizeof junk);
    for (int flags = 0; flags < 2; flags++) {
        struct rocky_store *s = NULL;
        char err[512] = "";
        assert_int_equal(rocky_store_open(path, flags, &s, err, sizeof err),
                         ROCKY_ECORRUPT);
        assert_null(s);
        assert_non_null(strstr(err, path));
    }
    FILE *fp = fopen(path, "r");
    char back[sizeof junk];
    assert_int_equal(fread(back, 1, sizeof back, fp), sizeof back);
    fclose(fp);
    assert_memory_equal(back, junk, sizeof junk);
}

static void test_corrupt_store_is_an_error_not_a_crash(void **state)
{
    struct fx *f = *state;
    struct rocky_store *s = open_rw(f->path);
    char err[512] = "";
    for (int i = 0; i < 50; i++) {
        char id[32];
        snprintf(id, sizeof id, "run-%03d", i);
        struct rocky_run run;
        make_run(&run, id, i);
        assert_int_equal(rocky_store_run_begin(s, &run, err, sizeof err), 0);
    }
    rocky_store_close(s); /* checkpoints the WAL into the main file */

    /* Smash every page after the first: the schema still parses, the tables
     * do not. */
    FILE *fp = fopen(f->path, "r+");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long size = ftell(fp);
    assert_true(size > 4096);
    char junk[4096];
    memset(junk, 0xA5, sizeof junk);
    for (long off = 4096; off < size; off += 4096) {
        fseek(fp, off, SEEK_SET);
        fwrite(junk, 1, sizeof junk, fp);
    }
    fclose(fp);

    for (int flags = 0; flags < 2; flags++) {
        s = NULL;
        int rc = rocky_store_open(f->path, flags, &s, err, sizeof err);
        if (rc == 0) {
            struct rocky_run_record *rec = NULL;
            rc = rocky_store_run_load(s, "latest", &rec, err, sizeof err);
            assert_null(rec);
            rocky_store_close(s);
        }
        assert_int_equal(rc, ROCKY_ECORRUPT);
        assert_non_null(strstr(err, f->path));
    }
}

static void test_foreign_sqlite_file_is_refused(void **state)
{
    struct fx *f = *state;
    char path[160];
    snprintf(path, sizeof path, "%s/app.db", f->dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db, "CREATE TABLE users(id);", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    struct rocky_store *s = NULL;
    char err[512] = "";
    assert_int_equal(
        rocky_store_open(path, ROCKY_STORE_READWRITE, &s, err, sizeof err),
        ROCKY_ECORRUPT);
    assert_non_null(strstr(err, "not a rocky state store"));
}

static int same_bytes(const char *a, const char *b)
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s'", a, b);
    return system(cmd) == 0;
}

static int file_exists(const char *path)
{
    return access(path, F_OK) == 0;
}

/* A SQLite file of another application is refused, whatever its
 * user_version, and never written: not migrated, not switched to WAL (it
 * got "no such table: runs" and WAL with user_version 1 or 2). */
static void
test_foreign_file_of_any_user_version_is_refused_untouched(void **state)
{
    struct fx *f = *state;
    static const char *const setups[] = {
        "CREATE TABLE users(id); PRAGMA user_version=1;",
        "CREATE TABLE users(id); PRAGMA user_version=2;",
        "CREATE TABLE users(id); PRAGMA user_version=3;",
        "CREATE TABLE runs(id); PRAGMA user_version=1;",
        "PRAGMA application_id=42;", /* empty, but another app's */
    };
    for (size_t i = 0; i < sizeof setups / sizeof setups[0]; i++) {
        char path[160], copy[160], wal[170];
        snprintf(path, sizeof path, "%s/app%zu.db", f->dir, i);
        snprintf(copy, sizeof copy, "%s/app%zu.copy", f->dir, i);
        snprintf(wal, sizeof wal, "%s-wal", path);
        sqlite3 *db = NULL;
        assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
        assert_int_equal(sqlite3_exec(db, setups[i], NULL, NULL, NULL),
                         SQLITE_OK);
        sqlite3_close(db);
        char cmd[400];
        snprintf(cmd, sizeof cmd, "cp '%s' '%s'", path, copy);
        assert_int_equal(system(cmd), 0);
        for (int mode = 0; mode < 2; mode++) {
            struct rocky_store *s = NULL;
            char err[512] = "";
            int rc = rocky_store_open(
                path, mode ? ROCKY_STORE_READWRITE : ROCKY_STORE_READONLY, &s,
                err, sizeof err);
            if (rc != ROCKY_ECORRUPT || !strstr(err, "not a rocky state store"))
                fail_msg("%s (%s): rc %d: %s", setups[i],
                         mode ? "read-write" : "read-only", rc, err);
            assert_null(s);
        }
        if (!same_bytes(path, copy))
            fail_msg("%s: the foreign file was written to", setups[i]);
        assert_false(file_exists(wal));
    }
}

/* A 0-byte store is a new one: read, it has no runs (and the message says
 * so, with a hint, not an empty one); written, it becomes a store. */
static void test_zero_byte_store_is_a_new_store(void **state)
{
    struct fx *f = *state;
    char path[160];
    snprintf(path, sizeof path, "%s/empty.db", f->dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fclose(fp);
    struct rocky_store *s = NULL;
    char err[512] = "";
    assert_int_equal(
        rocky_store_open(path, ROCKY_STORE_READONLY, &s, err, sizeof err), 0);
    struct rocky_run_record *rec = NULL;
    assert_int_equal(rocky_store_run_load(s, "latest", &rec, err, sizeof err),
                     ROCKY_ENOTFOUND);
    assert_non_null(strstr(err, "has no runs yet"));
    rocky_store_close(s);
    s = open_rw(path);
    struct rocky_run run;
    make_run(&run, "R", 1);
    assert_int_equal(rocky_store_run_begin(s, &run, err, sizeof err), 0);
    rocky_store_close(s);
}

/* A full disk says so, and what to do (it said "disk I/O error" before). In
 * a child: the fault VFS becomes the process's default. */
static void test_full_disk_says_the_disk_is_full(void **state)
{
    struct fx *f = *state;
    rocky_store_close(open_rw(f->path));
    int pipefd[2];
    assert_int_equal(pipe(pipefd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(pipefd[0]);
        char err[512] = "";
        struct rocky_store *s = NULL;
        if (fault_vfs_install(f->path, 1, 0, SQLITE_FULL, NULL) != SQLITE_OK ||
            rocky_store_open(f->path, ROCKY_STORE_READWRITE, &s, err,
                             sizeof err) != 0)
            _exit(2);
        struct rocky_run run;
        make_run(&run, "R", 1);
        int rc = rocky_store_run_begin(s, &run, err, sizeof err);
        if (write(pipefd[1], err, strlen(err)) < 0)
            _exit(3);
        _exit(rc == ROCKY_EIO ? 0 : 1);
    }
    close(pipefd[1]);
    char msg[600] = "";
    size_t got = 0;
    ssize_t n;
    while ((n = read(pipefd[0], msg + got, sizeof msg - 1 - got)) > 0)
        got += (size_t)n;
    close(pipefd[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) != 0 ||
        !strstr(msg, "the disk is full: free space"))
        fail_msg("exit %d: %s", WEXITSTATUS(status), msg);
}

static void test_run_of_dead_owner_reads_back_crashed(void **state)
{
    struct fx *f = *state;
    /* Our own running run is alive. */
    struct rocky_store *s = open_rw(f->path);
    char err[512] = "";
    struct rocky_run mine;
    make_run(&mine, "mine", 1);
    assert_int_equal(rocky_store_run_begin(s, &mine, err, sizeof err), 0);

    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        struct rocky_store *cs = NULL;
        if (rocky_store_open(f->path, ROCKY_STORE_READWRITE, &cs, NULL, 0))
            _exit(2);
        struct rocky_run run;
        make_run(&run, "theirs", 2);
        struct rocky_model_exec m;
        make_model(&m, "done_before_kill", ROCKY_MODEL_SUCCESS, 5, NULL, 0);
        if (rocky_store_run_begin(cs, &run, NULL, 0) ||
            rocky_store_model_record(cs, "theirs", &m, NULL, 0))
            _exit(3);
        raise(SIGKILL); /* no finish, no close */
        _exit(4);
    }
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);

    struct rocky_run_record *rec = NULL;
    assert_int_equal(rocky_store_run_load(s, "theirs", &rec, err, sizeof err),
                     0);
    assert_int_equal(rec->run.status, ROCKY_RUN_CRASHED);
    assert_int_equal(rec->owner_pid, child);
    assert_int_equal(rec->model_count, 1);
    assert_string_equal(rec->models[0].model_name, "done_before_kill");
    rocky_run_record_free(rec);

    rec = NULL;
    assert_int_equal(rocky_store_run_load(s, "mine", &rec, err, sizeof err), 0);
    assert_int_equal(rec->run.status, ROCKY_RUN_RUNNING);
    rocky_run_record_free(rec);

    /* A dead pid on another host cannot be judged from here. */
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "UPDATE runs SET owner_host='elsewhere' "
                                  "WHERE run_id='theirs'",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    rec = NULL;
    assert_int_equal(rocky_store_run_load(s, "theirs", &rec, err, sizeof err),
                     0);
    assert_int_equal(rec->run.status, ROCKY_RUN_RUNNING);
    rocky_run_record_free(rec);
    rocky_store_close(s);
}

struct writer_arg {
    const char *path;
    int models;
    int failed;
};

static void *writer_main(void *p)
{
    struct writer_arg *a = p;
    struct rocky_store *s = NULL;
    if (rocky_store_open(a->path, ROCKY_STORE_READWRITE, &s, NULL, 0)) {
        a->failed = 1;
        return NULL;
    }
    for (int i = 0; i < a->models; i++) {
        char name[32];
        snprintf(name, sizeof name, "m%04d", i);
        struct rocky_model_exec m;
        make_model(&m, name, ROCKY_MODEL_SUCCESS, 100 + i, NULL, 0);
        if (rocky_store_model_record(s, "conc", &m, NULL, 0) != 0)
            a->failed = 1;
    }
    rocky_store_close(s);
    return NULL;
}

static void test_reader_sees_growing_run_while_writer_writes(void **state)
{
    struct fx *f = *state;
    struct rocky_store *w = open_rw(f->path);
    char err[512] = "";
    struct rocky_run run;
    make_run(&run, "conc", 1);
    assert_int_equal(rocky_store_run_begin(w, &run, err, sizeof err), 0);
    rocky_store_close(w);

    struct rocky_store *r = NULL;
    assert_int_equal(
        rocky_store_open(f->path, ROCKY_STORE_READONLY, &r, err, sizeof err),
        0);
    struct writer_arg arg = {f->path, 400, 0};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, writer_main, &arg), 0);
    size_t last = 0;
    int reads = 0;
    for (;;) {
        struct rocky_run_record *rec = NULL;
        int rc = rocky_store_run_load(r, "conc", &rec, err, sizeof err);
        if (rc != 0)
            fail_msg("reader failed while writer wrote: %s", err);
        assert_true(rec->model_count >= last); /* never goes back */
        last = rec->model_count;
        rocky_run_record_free(rec);
        reads++;
        if (last == 400)
            break;
    }
    pthread_join(t, NULL);
    assert_int_equal(arg.failed, 0);
    assert_true(reads >= 1);
    rocky_store_close(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(test_empty_store_reports_no_runs),
        T(test_readonly_missing_file_is_not_found),
        T(test_run_round_trips_with_models_in_start_order),
        T(test_latest_is_newest_and_unknown_id_lists_recent),
        T(test_writing_a_run_leaves_other_runs_untouched),
        T(test_delivery_is_recorded_per_plugin_instance),
        T(test_v1_fixture_migrates_forward_keeping_old_runs),
        T(test_newer_schema_is_refused_naming_both_versions),
        T(test_garbage_file_is_corrupt_and_left_alone),
        T(test_corrupt_store_is_an_error_not_a_crash),
        T(test_foreign_sqlite_file_is_refused),
        T(test_foreign_file_of_any_user_version_is_refused_untouched),
        T(test_zero_byte_store_is_a_new_store),
        T(test_full_disk_says_the_disk_is_full),
        T(test_run_of_dead_owner_reads_back_crashed),
        T(test_reader_sees_growing_run_while_writer_writes),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
