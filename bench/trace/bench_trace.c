/*
 * bench_trace.c — how fast rocky-trace shows a big run.
 *
 * Writes a synthetic store (through lib/store.h, as the runner would) holding
 * one run of N models (default 100,000: a DAG scheduled on 8 workers), then
 * times the real rocky-trace binary rendering it: `latest --json` and the
 * text view, output to /dev/null, best and median of R runs each. The store
 * holds two such runs (every model's duration drawn anew), so `latest
 * --compare <older>` (JSON, text, HTML) is timed the same way: both runs
 * loaded, both timelines built, compared and rendered.
 * Target: under 1 s each. Prints one JSON object; never fails on slowness.
 *
 *   bench_trace [--models N] [--runs R] [--bin PATH/TO/rocky-trace]
 *               [--store PATH]   keep the store there (reused if present)
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_proc.h"
#include "clock.h"
#include "store.h"

#define WORKERS      8
#define BASELINE_RUN "20251125T060000.000Z-be9c"

static uint64_t rng = 88172645463325252ull;
static uint64_t next_rand(void)
{
    rng ^= rng << 13; /* xorshift64: deterministic, no libc state */
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* One run of `n` models named `run_id`, starting `offset_s` after the
 * base time. Each call draws new durations (the generator runs on). */
static int write_store(const char *path, size_t n, const char *run_id,
                       int64_t offset_s, double *seconds)
{
    int64_t t0 = rocky_clock_mono_ns();
    struct rocky_store *store = NULL;
    char err[512] = "";
    int rc =
        rocky_store_open(path, ROCKY_STORE_READWRITE, &store, err, sizeof err);
    int64_t base =
        INT64_C(1764050400000000000) + offset_s * INT64_C(1000000000);
    struct rocky_run run = {0};
    run.struct_size = sizeof run;
    run.status = ROCKY_RUN_RUNNING;
    run.run_id = run_id;
    run.project = "bench";
    run.trigger = "manual";
    run.started_wall_ns = base;
    run.started_mono_ns = 1;
    run.models_total = (uint32_t)n;
    run.trace_id[0] = 1;
    if (rc == 0)
        rc = rocky_store_run_begin(store, &run, err, sizeof err);
    int64_t worker_free[WORKERS] = {0};
    int64_t end = 0;
    char name[32], dep1[32], dep2[32];
    for (size_t i = 0; rc == 0 && i < n; i++) {
        int w = 0;
        for (int k = 1; k < WORKERS; k++)
            if (worker_free[k] < worker_free[w])
                w = k;
        int64_t start = worker_free[w];
        int64_t dur = (int64_t)(1 + next_rand() % 20) * 1000000; /* 1-20 ms */
        worker_free[w] = start + dur;
        if (worker_free[w] > end)
            end = worker_free[w];
        snprintf(name, sizeof name, "model_%06zu", i);
        const char *deps[2] = {dep1, dep2};
        uint32_t ndeps = i >= 16 ? 2 : 0;
        snprintf(dep1, sizeof dep1, "model_%06zu", i >= 16 ? i - 16 : 0);
        snprintf(dep2, sizeof dep2, "model_%06zu",
                 i >= 16 ? (size_t)(next_rand() % (i - 8)) : 0);
        struct rocky_model_exec m = {0};
        m.struct_size = sizeof m;
        m.status =
            next_rand() % 1000 == 0 ? ROCKY_MODEL_FAILED : ROCKY_MODEL_SUCCESS;
        m.model_name = name;
        m.sql_hash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15"
                     "b0f00a08";
        m.error = m.status == ROCKY_MODEL_FAILED ? "synthetic failure" : NULL;
        m.dependencies = deps;
        m.dependency_count = ndeps;
        m.started_wall_ns = base + start;
        m.finished_wall_ns = base + start + dur;
        m.rows_affected = (int64_t)(next_rand() % 100000);
        m.bytes_written = m.rows_affected * 64;
        m.attempt = 1;
        m.span_id[0] = 1;
        m.span_id[1] = (uint8_t)i;
        rc = rocky_store_model_record(store, run.run_id, &m, err, sizeof err);
    }
    run.status = ROCKY_RUN_SUCCESS;
    run.finished_wall_ns = base + end;
    run.finished_mono_ns = 2;
    if (rc == 0)
        rc = rocky_store_run_finish(store, &run, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "bench_trace: writing the store: %s\n", err);
    rocky_store_close(store);
    *seconds += (double)(rocky_clock_mono_ns() - t0) / 1e9;
    return rc;
}

/* Run the binary once with stdout to /dev/null; wall time in ms, or -1.
 * *cpu_ms gets the child's user+system CPU time: on a shared machine the
 * wall time includes waiting for a core, the CPU time does not. */
int main(int argc, char **argv)
{
    size_t n = 100000;
    int runs = 5;
    const char *bin = ROCKY_TRACE_BIN;
    const char *keep = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--models") == 0)
            n = strtoul(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--runs") == 0)
            runs = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--bin") == 0)
            bin = argv[i + 1];
        else if (strcmp(argv[i], "--store") == 0)
            keep = argv[i + 1];
    }
    if (runs < 1 || runs > 64)
        runs = 5;
    const char *tmp = getenv("TMPDIR");
    char dir[4096], store[4200];
    snprintf(dir, sizeof dir, "%s/rocky-bench-trace-XXXXXX",
             tmp && tmp[0] ? tmp : "/tmp");
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(store, sizeof store, "%s/state.db", dir);
    if (keep != NULL)
        snprintf(store, sizeof store, "%s", keep);
    double write_s = 0;
    /* Two runs of the same models with different durations: the older
     * is the baseline of the --compare measurements. */
    if ((keep == NULL || access(keep, F_OK) != 0) &&
        (write_store(store, n, BASELINE_RUN, 0, &write_s) != 0 ||
         write_store(store, n, "20251125T070000.000Z-be9d", 3600, &write_s) !=
             0)) {
        bench_remove_dir(dir);
        return 1;
    }
    char *json_argv[] = {(char *)bin, "latest", "--json",
                         "--state",   store,    NULL};
    char *text_argv[] = {(char *)bin, "latest", "--width", "120",
                         "--state",   store,    NULL};
    char *chrome_argv[] = {(char *)bin, "latest", "--format", "chrome",
                           "--state",   store,    NULL};
    char *compare_json_argv[] = {(char *)bin,  "latest", "--compare",
                                 BASELINE_RUN, "--json", "--state",
                                 store,        NULL};
    char *compare_text_argv[] = {(char *)bin,  "latest",  "--compare",
                                 BASELINE_RUN, "--width", "120",
                                 "--state",    store,     NULL};
    char *compare_html_argv[] = {(char *)bin,  "latest",   "--compare",
                                 BASELINE_RUN, "--format", "html",
                                 "--state",    store,      NULL};
    printf("{\"benchmark\":\"trace\",\"models\":%zu,\"runs\":%d,"
           "\"store_write_s\":%.2f,",
           n, runs, write_s);
    bench_measure("json", json_argv, runs, 0);
    bench_measure("text", text_argv, runs, 0);
    bench_measure("chrome", chrome_argv, runs, 0);
    /* --compare: load both runs, build both timelines, compare, render. */
    bench_measure("compare_json", compare_json_argv, runs, 0);
    bench_measure("compare_text", compare_text_argv, runs, 0);
    bench_measure("compare_html", compare_html_argv, runs, 1);
    printf("}\n");
    bench_remove_dir(dir);
    return 0;
}
