/*
 * bench_runner_overhead — what `rocky run` costs per model on top of the
 * SQL it runs.
 *
 * Generates a project of N trivial models (default 10,000: a tenth are
 * roots, the rest read one earlier model, so planning, dependency release
 * and skipping logic are all exercised), runs the real `rocky` binary on it
 * with one worker thread, then reads the run back from the state store.
 *
 *   sql_ns      = sum over models of (finished - started): the time spent
 *                 inside the model's materialization (prepare, compute into
 *                 TEMP, publish, size it) — "the SQL itself"
 *   overhead_ns = process wall time - sql_ns: everything else (start-up,
 *                 loading and planning the project, scheduling, one state
 *                 store commit per model, events, terminal output, exit)
 *
 * With one thread the two add up to the wall time, so overhead per model is
 * overhead_ns / N. Prints one JSON object; never fails on slowness.
 *
 * usage: bench_runner_overhead [N] [threads]
 */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store.h"

extern char **environ;

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int make_project(const char *dir, int n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/models", dir);
    if (mkdir(path, 0777) != 0)
        return -1;
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/models/m%05d.sql", dir, i);
        FILE *f = fopen(path, "w");
        if (f == NULL)
            return -1;
        if (i < n / 10 || i == 0)
            fprintf(f, "SELECT %d AS x\n", i);
        else
            fprintf(f, "SELECT x + 1 AS x FROM m%05d\n", (i * 7) % i);
        fclose(f);
    }
    return 0;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 10000;
    const char *threads = argc > 2 ? argv[2] : "1";
    if (n < 1)
        n = 1;
    char dir[] = "/tmp/rocky-bench-XXXXXX";
    if (mkdtemp(dir) == NULL || make_project(dir, n) != 0) {
        printf("{\"error\": \"cannot create the project\"}\n");
        return 1;
    }
    char *args[] = {"rocky",         "run",    dir, "--threads",
                    (char *)threads, "--json", NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    long long t0 = now_ns();
    pid_t pid = 0;
    int status = 0;
    int rc = posix_spawn(&pid, ROCKY_BIN, &fa, NULL, args, environ);
    if (rc == 0)
        waitpid(pid, &status, 0);
    long long wall = now_ns() - t0;
    posix_spawn_file_actions_destroy(&fa);

    char state[256];
    snprintf(state, sizeof state, "%s/.rocky/state.db", dir);
    struct rocky_store *s = NULL;
    struct rocky_run_record *rec = NULL;
    char err[512] = "";
    long long sql_ns = 0;
    size_t models = 0;
    const char *run_status = "unknown";
    if (rc == 0 &&
        rocky_store_open(state, ROCKY_STORE_READONLY, &s, err, sizeof err) ==
            0 &&
        rocky_store_run_load(s, "latest", &rec, err, sizeof err) == 0) {
        for (size_t i = 0; i < rec->model_count; i++)
            sql_ns += rec->models[i].finished_wall_ns -
                      rec->models[i].started_wall_ns;
        models = rec->model_count;
        run_status = rocky_run_status_name(rec->run.status);
    }
    int threads_n = atoi(threads);
    /* With T threads the SQL of different models overlaps: divide by T. */
    long long sql_wall = threads_n > 1 ? sql_ns / threads_n : sql_ns;
    long long overhead = wall - sql_wall;
    printf("{\"benchmark\": \"runner_overhead\", \"models\": %d, "
           "\"threads\": %d, \"models_recorded\": %zu, \"run_status\": "
           "\"%s\", \"exit_status\": %d, \"wall_ms\": %.1f, "
           "\"sql_ms\": %.1f, \"overhead_ms\": %.1f, "
           "\"overhead_us_per_model\": %.2f, \"sql_us_per_model\": %.2f, "
           "\"target_us_per_model\": 50}\n",
           n, threads_n, models, run_status,
           WIFEXITED(status) ? WEXITSTATUS(status) : -1, wall / 1e6,
           sql_ns / 1e6, overhead / 1e6, overhead / 1e3 / n, sql_ns / 1e3 / n);
    rocky_run_record_free(rec);
    rocky_store_close(s);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        return 1;
    return 0;
}
