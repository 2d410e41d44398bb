/*
 * bench_runs.c — how fast `rocky runs` (rocky-trace --list) answers on a
 * store of many runs.
 *
 * Makes a store through lib/store.h (so schema and indexes are the
 * runner's), then fills it with N runs (default 100,000) of 3 models each
 * in one transaction of plain INSERTs — the runner's per-run commits would
 * take minutes and measure nothing of interest here. Model "orders" is in
 * every run, "rare" in one run of 100; one run of 50 failed, one of 4
 * awaits delivery. Then times the real rocky-trace binary, output to
 * /dev/null, best and median of R runs each: the listing (text, json), a
 * rare status, --model for the common and the rare model, resolving
 * latest~N and a prefix, a --prune --dry-run, and finally one real prune
 * (keep half) with the bytes it freed. Prints one JSON object; never fails
 * on slowness.
 *
 *   bench_runs [--runs-in-store N] [--runs R] [--bin PATH/TO/rocky-trace]
 */
#include <dirent.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_proc.h"
#include "clock.h"
#include "store.h"

#define BASE_NS INT64_C(1764050400000000000) /* 2025-11-25T06:00:00Z */

static void run_id(size_t n, size_t i, char *buf, size_t size)
{
    /* run i (0 = oldest) started (n - 1 - i) minutes before BASE_NS */
    time_t t = (time_t)(BASE_NS / 1000000000) - (time_t)(n - 1 - i) * 60;
    struct tm tm;
    gmtime_r(&t, &tm);
    char stamp[24];
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%S", &tm);
    snprintf(buf, size, "%s.%03zuZ-%06zx", stamp, i % 1000,
             (i * 2654435761u) & 0xffffff);
}

static int fill(const char *path, size_t n, double *seconds)
{
    int64_t t0 = rocky_clock_mono_ns();
    struct rocky_store *store = NULL;
    char err[512] = "";
    if (rocky_store_open(path, ROCKY_STORE_READWRITE, &store, err,
                         sizeof err) != 0) {
        fprintf(stderr, "bench_runs: %s\n", err);
        return 1;
    }
    rocky_store_close(store);
    sqlite3 *db = NULL;
    sqlite3_stmt *run = NULL, *model = NULL;
    int rc = sqlite3_open(path, &db);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(
            db,
            "INSERT INTO runs(run_id, status, project, trigger,"
            " started_wall_ns, finished_wall_ns, models_total,"
            " models_succeeded, models_failed, models_skipped,"
            " delivery_confirmed) VALUES(?1, ?2, 'bench', 'schedule', ?3,"
            " ?4, 3, ?5, ?6, 0, ?7)",
            -1, &run, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(
            db,
            "INSERT INTO model_execs(run_id, seq, model_name, status,"
            " started_wall_ns, finished_wall_ns, rows_affected)"
            " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            -1, &model, NULL);
    char id[64];
    for (size_t i = 0; rc == SQLITE_OK && i < n; i++) {
        run_id(n, i, id, sizeof id);
        int64_t start =
            BASE_NS - (int64_t)(n - 1 - i) * 60 * INT64_C(1000000000);
        int failed = i % 50 == 7;
        int64_t dur_ms = 200 + (int64_t)(i % 37) * 10;
        sqlite3_reset(run);
        sqlite3_bind_text(run, 1, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(run, 2, failed ? 2 : 1);
        sqlite3_bind_int64(run, 3, start);
        sqlite3_bind_int64(run, 4, start + dur_ms * 1000000);
        sqlite3_bind_int(run, 5, failed ? 2 : 3);
        sqlite3_bind_int(run, 6, failed ? 1 : 0);
        sqlite3_bind_int(run, 7, i % 4 == 1 ? 0 : 1);
        rc = sqlite3_step(run) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
        const char *names[3] = {"stg", "orders",
                                i % 100 == 3 ? "rare" : "mart"};
        for (int k = 0; rc == SQLITE_OK && k < 3; k++) {
            sqlite3_reset(model);
            sqlite3_bind_text(model, 1, id, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int(model, 2, k);
            sqlite3_bind_text(model, 3, names[k], -1, SQLITE_STATIC);
            sqlite3_bind_int(model, 4, failed && k == 1 ? 3 : 2);
            sqlite3_bind_int64(model, 5, start + k * 50000000);
            sqlite3_bind_int64(model, 6,
                               start + k * 50000000 + dur_ms * 300000);
            sqlite3_bind_int64(model, 7, (int64_t)(i % 1000) * 10);
            rc = sqlite3_step(model) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
        }
    }
    sqlite3_finalize(run);
    sqlite3_finalize(model);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, "COMMIT; PRAGMA wal_checkpoint(TRUNCATE)", NULL,
                          NULL, NULL);
    if (rc != SQLITE_OK)
        fprintf(stderr, "bench_runs: filling the store: %s\n",
                sqlite3_errmsg(db));
    sqlite3_close(db);
    *seconds = (double)(rocky_clock_mono_ns() - t0) / 1e9;
    return rc == SQLITE_OK ? 0 : 1;
}

/* Wall ms of one run with stdout to /dev/null (or to `out`), or -1;
 * *cpu_ms its user+system CPU time. */
static long long size_of(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (long long)sb.st_size : -1;
}

int main(int argc, char **argv)
{
    size_t n = 100000;
    int runs = 5;
    const char *bin = ROCKY_TRACE_BIN;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--runs-in-store") == 0)
            n = strtoul(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--runs") == 0)
            runs = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--bin") == 0)
            bin = argv[i + 1];
    }
    if (runs < 1 || runs > 64)
        runs = 5;
    if (n < 100)
        n = 100;
    const char *tmp = getenv("TMPDIR");
    char dir[4096], store[4200], out[4200];
    snprintf(dir, sizeof dir, "%s/rocky-bench-runs-XXXXXX",
             tmp && tmp[0] ? tmp : "/tmp");
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(store, sizeof store, "%s/state.db", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    double fill_s = 0;
    if (fill(store, n, &fill_s) != 0) {
        bench_remove_dir(dir);
        return 1;
    }
    char back[32], prefix[32], id[64];
    snprintf(back, sizeof back, "latest~%zu", n / 2);
    run_id(n, n / 3, id, sizeof id);
    snprintf(prefix, sizeof prefix, "%.17s", id);
    char *S = store, *B = (char *)bin;
    char *list[] = {B, "--list", "--width", "120", "--state", S, NULL};
    char *json[] = {B,     "--list",  "--json", "--limit",
                    "100", "--state", S,        NULL};
    char *status[] = {B,         "--list", "--status", "partial_failure",
                      "--state", S,        NULL};
    char *orders[] = {B, "--list", "--model", "orders", "--state", S, NULL};
    char *rare[] = {B, "--list", "--model", "rare", "--state", S, NULL};
    char *latest_n[] = {B, back, "--json", "--state", S, NULL};
    char *by_prefix[] = {B, prefix, "--json", "--state", S, NULL};
    char *dry[] = {B,           "--list",  "--prune", "--keep-runs", "1000",
                   "--dry-run", "--state", S,         NULL};
    printf("{\"benchmark\":\"runs\",\"runs_in_store\":%zu,"
           "\"model_rows\":%zu,\"repeats\":%d,\"store_fill_s\":%.2f,"
           "\"store_bytes\":%lld,",
           n, 3 * n, runs, fill_s, size_of(store));
    bench_measure("list_text_20", list, runs, 0);
    bench_measure("list_json_100", json, runs, 0);
    bench_measure("list_status_partial_failure_20", status, runs, 0);
    bench_measure("model_history_common_20", orders, runs, 0);
    bench_measure("model_history_rare_20", rare, runs, 0);
    bench_measure("resolve_latest_n", latest_n, runs, 0);
    bench_measure("resolve_prefix", by_prefix, runs, 0);
    bench_measure("prune_dry_run", dry, runs, 0);
    /* One real prune: half the runs (those awaiting delivery kept). */
    char half[32];
    snprintf(half, sizeof half, "%zu", n / 2);
    char *prune[] = {B,    "--list",  "--prune", "--keep-runs",
                     half, "--state", S,         NULL};
    double cpu = 0;
    long long before = size_of(store);
    double ms = bench_time_run(prune, &cpu, out);
    long long after = size_of(store);
    printf("\"prune_half\":{\"ok\":%s,\"ms\":%.1f,\"cpu_ms\":%.1f,"
           "\"bytes_before\":%lld,\"bytes_after\":%lld}}\n",
           ms >= 0 ? "true" : "false", ms, cpu, before, after);
    bench_remove_dir(dir);
    return 0;
}
