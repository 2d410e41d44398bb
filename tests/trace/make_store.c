/*
 * make_store.c — write a state store for the trace tests (node and C) through
 * lib/store.h, the path the runner writes with.
 *
 *   trace_make_store PATH sample   two runs; the latest is a DAG with a
 *                                  failure, a skip and names that need
 *                                  escaping (HTML, UTF-8)
 *   trace_make_store PATH empty    a valid store holding no runs
 *   trace_make_store PATH newer    `sample`, then a schema version from the
 *                                  future
 *   trace_make_store PATH running  `sample` plus a newer run left running by
 *                                  this (then exited) process: it reads back
 *                                  as crashed, with no finish time
 *   trace_make_store PATH incomplete  one run that ended, but with only 2
 *                                  of its 3 models on record (what a full
 *                                  disk leaves; status incomplete)
 *   trace_make_store PATH compare  two runs to compare (--compare): a
 *                                  model slower (moving the critical path),
 *                                  one faster, one now failing, a retry,
 *                                  one added, one removed
 *   trace_make_store PATH wide N   one successful run of N models, 2 ms
 *                                  each, distinct span ids, awaiting
 *                                  delivery (for replays through small
 *                                  queues)
 *   trace_make_store PATH many N   N runs an hour apart, the newest at
 *                                  FX_BASE_NS, ids as the runner makes
 *                                  them (many share long prefixes); run i
 *                                  (0 = oldest) is partial_failure when
 *                                  i % 5 == 3 (its "orders" failed), else
 *                                  success; telemetry pending when
 *                                  i % 4 == 1, delivered when i % 4 == 2,
 *                                  none otherwise. Models "stg" (50 ms)
 *                                  and "orders" (100 + 10 i ms).
 */
#include <stdlib.h>

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fixture.h"
#include "rocky/error.h"
#include "store.h"

#define OLD_RUN "20251125T055000.000Z-0ld0"
#define NEW_RUN "20251125T060000.000Z-5a3f"

static int sample(const char *path)
{
    struct rocky_run_record *old = fx_record(OLD_RUN, 300, ROCKY_RUN_SUCCESS);
    fx_model(old, "raw_orders", 0, 300, ROCKY_MODEL_SUCCESS, NULL);
    /* Older: started ten minutes before the new one. */
    old->run.started_wall_ns -= 600 * INT64_C(1000000000);
    old->run.finished_wall_ns -= 600 * INT64_C(1000000000);
    old->models[0].started_wall_ns -= 600 * INT64_C(1000000000);
    old->models[0].finished_wall_ns -= 600 * INT64_C(1000000000);

    static const char *const on_raw[] = {"raw_orders", NULL};
    static const char *const on_cust[] = {"raw_customers", NULL};
    static const char *const on_stg[] = {"stg_orders", "stg_customers", NULL};
    static const char *const on_fct[] = {"fct_orders", NULL};
    struct rocky_run_record *rec =
        fx_record(NEW_RUN, 2400, ROCKY_RUN_PARTIAL_FAILURE);
    fx_model(rec, "raw_orders", 0, 400, ROCKY_MODEL_SUCCESS, NULL);
    fx_model(rec, "raw_customers", 0, 700, ROCKY_MODEL_SUCCESS, NULL);
    fx_model(rec, "stg_orders", 400, 900, ROCKY_MODEL_SUCCESS, on_raw);
    fx_model(rec, "stg_customers", 700, 1000, ROCKY_MODEL_SUCCESS, on_cust);
    fx_model(rec, "<b>\"quoted\" & 'odd'</b>", 700, 720, ROCKY_MODEL_SUCCESS,
             on_cust);
    fx_model(rec, "fct_orders", 1000, 1800, ROCKY_MODEL_SUCCESS, on_stg);
    fx_model(rec, "données_clients_日本語_très_long_nom_de_modèle", 1000, 1300,
             ROCKY_MODEL_FAILED, on_stg);
    fx_model(rec, "rpt_revenue", 1800, 2400, ROCKY_MODEL_SUCCESS, on_fct);
    fx_model(rec, "rpt_churn", -1, -1, ROCKY_MODEL_SKIPPED, on_stg);
    int rc = fx_write_store(path, old);
    if (rc == 0)
        rc = fx_write_store(path, rec);
    rocky_run_record_free(old);
    rocky_run_record_free(rec);
    return rc;
}

/* Two runs to compare: the latest (AFTER) has a model that got slower and
 * moved the critical path, one faster, one that now fails, a retried one,
 * one added (with a name that needs escaping) and one removed. */
#define CMP_BEFORE "20251125T050000.000Z-bef0"
#define CMP_AFTER  "20251125T060000.000Z-aft0"

static int compare(const char *path)
{
    static const char *const on_raw[] = {"raw", NULL};
    static const char *const on_fct[] = {"stg", "slow_one", NULL};
    struct rocky_run_record *b = fx_record(CMP_BEFORE, 900, ROCKY_RUN_SUCCESS);
    fx_model(b, "raw", 0, 300, ROCKY_MODEL_SUCCESS, NULL);
    fx_model(b, "slow_one", 0, 200, ROCKY_MODEL_SUCCESS, NULL);
    fx_model(b, "gone", 0, 100, ROCKY_MODEL_SUCCESS, NULL);
    fx_model(b, "flaky", 0, 100, ROCKY_MODEL_SUCCESS, NULL);
    fx_model(b, "breaks", 0, 200, ROCKY_MODEL_SUCCESS, NULL);
    fx_model(b, "stg", 300, 600, ROCKY_MODEL_SUCCESS, on_raw);
    fx_model(b, "fct", 600, 900, ROCKY_MODEL_SUCCESS, on_fct);
    int64_t hour = 3600 * INT64_C(1000000000);
    b->run.started_wall_ns -= hour;
    b->run.finished_wall_ns -= hour;
    for (size_t i = 0; i < b->model_count; i++) {
        b->models[i].started_wall_ns -= hour;
        b->models[i].finished_wall_ns -= hour;
    }

    struct rocky_run_record *a =
        fx_record(CMP_AFTER, 1300, ROCKY_RUN_PARTIAL_FAILURE);
    fx_model(a, "raw", 0, 300, ROCKY_MODEL_SUCCESS, NULL);
    fx_model(a, "slow_one", 0, 1000, ROCKY_MODEL_SUCCESS, NULL);
    fx_model(a, "flaky", 0, 100, ROCKY_MODEL_FAILED, NULL);
    fx_model(a, "breaks", 0, 50, ROCKY_MODEL_FAILED, NULL);
    fx_model(a, "<i>new</i> & co", 0, 10, ROCKY_MODEL_SUCCESS, NULL);
    fx_model(a, "flaky", 100, 250, ROCKY_MODEL_SUCCESS, NULL);
    fx_model(a, "stg", 300, 500, ROCKY_MODEL_SUCCESS, on_raw);
    fx_model(a, "fct", 1000, 1300, ROCKY_MODEL_SUCCESS, on_fct);
    a->models[5].attempt = 2;
    a->models[0].rows_affected = 25;
    int rc = fx_write_store(path, b);
    if (rc == 0)
        rc = fx_write_store(path, a);
    rocky_run_record_free(b);
    rocky_run_record_free(a);
    return rc;
}

static int empty(const char *path)
{
    struct rocky_store *store = NULL;
    char err[512] = "";
    int rc =
        rocky_store_open(path, ROCKY_STORE_READWRITE, &store, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "trace_make_store: %s\n", err);
    rocky_store_close(store);
    return rc;
}

static int newer(const char *path)
{
    int rc = sample(path);
    if (rc != 0)
        return rc;
    sqlite3 *db = NULL;
    if (sqlite3_open(path, &db) != SQLITE_OK ||
        sqlite3_exec(db, "PRAGMA user_version = 999", NULL, NULL, NULL) !=
            SQLITE_OK) {
        fprintf(stderr, "trace_make_store: %s\n", sqlite3_errmsg(db));
        rc = ROCKY_EIO;
    }
    sqlite3_close(db);
    return rc;
}

static int running(const char *path)
{
    int rc = sample(path);
    struct rocky_run_record *rec =
        fx_record("20251125T061000.000Z-1ive", -1, ROCKY_RUN_RUNNING);
    rec->run.started_wall_ns += 600 * INT64_C(1000000000);
    fx_model(rec, "raw_orders", 600000, 600200, ROCKY_MODEL_SUCCESS, NULL);
    if (rc == 0)
        rc = fx_write_store(path, rec);
    rocky_run_record_free(rec);
    return rc;
}

static int incomplete(const char *path)
{
    struct rocky_run_record *rec =
        fx_record("20251125T062000.000Z-1nc0", 400, ROCKY_RUN_INCOMPLETE);
    fx_model(rec, "raw_orders", 0, 200, ROCKY_MODEL_SUCCESS, NULL);
    fx_model(rec, "stg_orders", 200, 400, ROCKY_MODEL_SUCCESS, NULL);
    struct rocky_run *run = (struct rocky_run *)&rec->run;
    run->models_total = 3; /* the third was never recorded */
    run->models_succeeded = 3;
    int rc = fx_write_store(path, rec);
    rocky_run_record_free(rec);
    return rc;
}

static int wide(const char *path, long n)
{
    struct rocky_run_record *rec =
        fx_record("20251125T060000.000Z-w1de", 2 * n + 1, ROCKY_RUN_SUCCESS);
    char name[32];
    for (long i = 0; i < n; i++) {
        snprintf(name, sizeof name, "m%05ld", i);
        fx_model(rec, name, 2 * i, 2 * i + 2, ROCKY_MODEL_SUCCESS, NULL);
        /* fx_model's ids repeat after 255 models; these do not. */
        uint8_t *id = (uint8_t *)rec->models[i].span_id;
        id[0] = (uint8_t)(i >> 8);
        id[1] = (uint8_t)i;
        id[2] = 0x77;
    }
    struct rocky_run *run = (struct rocky_run *)&rec->run;
    run->models_total = run->models_succeeded = (uint32_t)n;
    int rc = fx_write_store(path, rec);
    struct rocky_store *store = NULL;
    char err[512] = "";
    if (rc == 0)
        rc = rocky_store_open(path, ROCKY_STORE_READWRITE, &store, err,
                              sizeof err);
    if (rc == 0)
        rc = rocky_store_set_delivery(store, rec->run.run_id, 0, err,
                                      sizeof err);
    if (rc != 0 && err[0])
        fprintf(stderr, "trace_make_store: %s: %s\n", path, err);
    rocky_store_close(store);
    rocky_run_record_free(rec);
    return rc;
}

static int many(const char *path, long n)
{
    int rc = 0;
    for (long i = 0; rc == 0 && i < n; i++) {
        int64_t shift_ns = (int64_t)(n - 1 - i) * 3600 * INT64_C(1000000000);
        time_t t = (time_t)((FX_BASE_NS - shift_ns) / INT64_C(1000000000));
        struct tm tm;
        gmtime_r(&t, &tm);
        char id[64], stamp[24];
        strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%S", &tm);
        snprintf(id, sizeof id, "%s.000Z-%06lx", stamp,
                 (unsigned long)(0xa00000 + i * 7919));
        int failed = i % 5 == 3;
        int64_t orders_ms = 100 + 10 * i;
        struct rocky_run_record *rec =
            fx_record(id, 50 + orders_ms,
                      failed ? ROCKY_RUN_PARTIAL_FAILURE : ROCKY_RUN_SUCCESS);
        static const char *const on_stg[] = {"stg", NULL};
        fx_model(rec, "stg", 0, 50, ROCKY_MODEL_SUCCESS, NULL);
        fx_model(rec, "orders", 50, 50 + orders_ms,
                 failed ? ROCKY_MODEL_FAILED : ROCKY_MODEL_SUCCESS, on_stg);
        struct rocky_run *run = (struct rocky_run *)&rec->run;
        run->started_wall_ns -= shift_ns;
        run->finished_wall_ns -= shift_ns;
        for (size_t k = 0; k < rec->model_count; k++) {
            rec->models[k].started_wall_ns -= shift_ns;
            rec->models[k].finished_wall_ns -= shift_ns;
        }
        run->models_total = 2;
        run->models_succeeded = failed ? 1 : 2;
        run->models_failed = failed ? 1 : 0;
        rc = fx_write_store(path, rec);
        if (rc == 0 && (i % 4 == 1 || i % 4 == 2)) {
            struct rocky_store *store = NULL;
            char err[512] = "";
            rc = rocky_store_open(path, ROCKY_STORE_READWRITE, &store, err,
                                  sizeof err);
            if (rc == 0)
                rc = rocky_store_set_delivery(store, id, i % 4 == 2, err,
                                              sizeof err);
            if (rc != 0)
                fprintf(stderr, "trace_make_store: %s\n", err);
            rocky_store_close(store);
        }
        rocky_run_record_free(rec);
    }
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[2], "many") == 0)
        return many(argv[1], strtol(argv[3], NULL, 10)) == 0 ? 0 : 1;
    if (argc == 4 && strcmp(argv[2], "wide") == 0)
        return wide(argv[1], strtol(argv[3], NULL, 10)) == 0 ? 0 : 1;
    if (argc != 3) {
        fprintf(stderr,
                "usage: %s PATH sample|empty|newer|running|incomplete|compare|"
                "wide N|many N\n",
                argv[0]);
        return 2;
    }
    int rc;
    if (strcmp(argv[2], "sample") == 0)
        rc = sample(argv[1]);
    else if (strcmp(argv[2], "empty") == 0)
        rc = empty(argv[1]);
    else if (strcmp(argv[2], "newer") == 0)
        rc = newer(argv[1]);
    else if (strcmp(argv[2], "running") == 0)
        rc = running(argv[1]);
    else if (strcmp(argv[2], "incomplete") == 0)
        rc = incomplete(argv[1]);
    else if (strcmp(argv[2], "compare") == 0)
        rc = compare(argv[1]);
    else {
        fprintf(stderr, "trace_make_store: unknown scenario '%s'\n", argv[2]);
        return 2;
    }
    return rc == 0 ? 0 : 1;
}
