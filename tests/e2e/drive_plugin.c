/*
 * drive_plugin.c — a small test host: loads plugins through the runner's
 * loader (host/plugin_host.h) and emits one realistic synthetic run from
 * several worker threads, then shuts the plugins down. Used by the
 * end-to-end tests until (and besides) the real runner.
 *
 *   drive_plugin PLUGIN.so [--models N] [--threads T] [--fail-every K]
 *                [--skip-every K] [--deadline-ms D] [--bad-utf8]
 *
 * Like the runner, it takes the caller's span from TRACEPARENT/TRACESTATE.
 * Prints one JSON object on stdout: ids of the run, what the process looked
 * like after init (threads in /proc/self/task, open sockets) and the
 * plugins' delivery report. Exit status 0 unless the host itself failed.
 */
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "sha256.h"
#include "ids.h"
#include "plugin_host.h"

struct opts {
    int models, threads, fail_every, skip_every, bad_utf8;
    int64_t deadline_ms;
};

static struct rocky_plugin_set *set;
static struct rocky_run run;
static struct opts o = {24, 4, 7, 11, 0, 10000};
static _Atomic int next_model;
static _Atomic uint32_t succeeded, failed, skipped;
static char run_id[64];

static int count_dir(const char *path, const char *link_prefix)
{
    DIR *d = opendir(path);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (!link_prefix) {
            n++;
            continue;
        }
        char p[512], target[256];
        snprintf(p, sizeof p, "%s/%s", path, e->d_name);
        ssize_t len = readlink(p, target, sizeof target - 1);
        if (len > 0) {
            target[len] = '\0';
            if (strncmp(target, link_prefix, strlen(link_prefix)) == 0)
                n++;
        }
    }
    closedir(d);
    return n;
}

static void emit(uint32_t type, const struct rocky_model_exec *m)
{
    struct rocky_event ev = {.struct_size = sizeof ev, .type = type};
    ev.wall_ns = rocky_clock_wall_ns();
    ev.mono_ns = rocky_clock_mono_ns();
    ev.run = &run;
    ev.model = m;
    rocky_plugin_set_emit(set, &ev);
}

static void *worker(void *arg)
{
    (void)arg;
    for (;;) {
        int i = atomic_fetch_add(&next_model, 1);
        if (i >= o.models)
            return NULL;
        char name[64], hash[65], err[128];
        if (o.bad_utf8 && i == 0)
            snprintf(name, sizeof name, "bad_\xff\xfe_name_%03d", i);
        else
            snprintf(name, sizeof name, "model_%03d", i);
        rocky_sha256_hex(name, strlen(name), hash);
        const char *deps[2] = {"model_000", "model_001"};
        struct rocky_model_exec m = {.struct_size = sizeof m};
        m.model_name = name;
        m.sql_hash = hash;
        m.dependencies = i > 1 ? deps : NULL;
        m.dependency_count = i > 1 ? 2 : 0;
        m.attempt = 1;
        m.rows_affected = -1;
        m.bytes_written = -1;
        rocky_random_id(m.span_id, sizeof m.span_id);
        int skip = o.skip_every && i % o.skip_every == o.skip_every - 1;
        int fail =
            !skip && o.fail_every && i % o.fail_every == o.fail_every - 1;
        if (!skip) {
            m.status = ROCKY_MODEL_RUNNING;
            m.started_wall_ns = rocky_clock_wall_ns();
            m.started_mono_ns = rocky_clock_mono_ns();
            emit(ROCKY_EVENT_MODEL_START, &m);
            usleep(1000 + (unsigned)(i % 5) * 500); /* "materialize" */
            m.finished_wall_ns = rocky_clock_wall_ns();
            m.finished_mono_ns = rocky_clock_mono_ns();
        }
        if (skip) {
            m.status = ROCKY_MODEL_SKIPPED;
            atomic_fetch_add(&skipped, 1);
        } else if (fail) {
            m.status = ROCKY_MODEL_FAILED;
            snprintf(err, sizeof err, "no such table: upstream_%d", i);
            m.error = err;
            atomic_fetch_add(&failed, 1);
        } else {
            m.status = ROCKY_MODEL_SUCCESS;
            m.rows_affected = 100 + i;
            m.bytes_written = 4096 + i;
            atomic_fetch_add(&succeeded, 1);
        }
        emit(ROCKY_EVENT_MODEL_END, &m);
    }
}

static void *idle(void *arg)
{
    return arg;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: drive_plugin PLUGIN.so [options]\n");
        return 2;
    }
    for (int i = 2;
         i + 1 < argc || (i < argc && !strcmp(argv[i], "--bad-utf8")); i++) {
        if (!strcmp(argv[i], "--bad-utf8")) {
            o.bad_utf8 = 1;
            continue;
        }
        if (i + 1 >= argc)
            break;
        long v = strtol(argv[i + 1], NULL, 10);
        if (!strcmp(argv[i], "--models"))
            o.models = (int)v;
        else if (!strcmp(argv[i], "--threads"))
            o.threads = (int)v;
        else if (!strcmp(argv[i], "--fail-every"))
            o.fail_every = (int)v;
        else if (!strcmp(argv[i], "--skip-every"))
            o.skip_every = (int)v;
        else if (!strcmp(argv[i], "--deadline-ms"))
            o.deadline_ms = v;
        else {
            fprintf(stderr, "drive_plugin: unknown option %s\n", argv[i]);
            return 2;
        }
        i++;
    }
    /* ThreadSanitizer starts a helper thread of its own at the first
     * pthread_create: have that happen before the baseline, so a count of
     * threads sees the plugin's alone. */
    pthread_t warm;
    if (pthread_create(&warm, NULL, idle, NULL) == 0)
        pthread_join(warm, NULL);
    int threads_before = count_dir("/proc/self/task", NULL);
    /* Our stdio may itself be sockets (node's spawn uses socketpairs). */
    int sockets_before = count_dir("/proc/self/fd", "socket:");
    if (rocky_plugin_set_new("0.1.0-test", &set) != 0)
        return 1;
    if (rocky_plugin_set_load(set, argv[1]) != 0)
        return 1;
    int threads_after_init = count_dir("/proc/self/task", NULL);
    int sockets_after_init = count_dir("/proc/self/fd", "socket:");

    run.struct_size = sizeof run;
    run.status = ROCKY_RUN_RUNNING;
    snprintf(run_id, sizeof run_id, "drive-%lld",
             (long long)rocky_clock_wall_ns());
    run.run_id = run_id;
    run.project = "drive_project";
    run.trigger = "manual";
    run.rocky_version = "0.1.0-test";
    run.hostname = "drive-host";
    run.models_total = (uint32_t)o.models;
    struct rocky_traceparent tp;
    const char *tpv = getenv("TRACEPARENT");
    if (tpv && rocky_traceparent_parse(tpv, &tp) == 0) {
        memcpy(run.trace_id, tp.trace_id, sizeof run.trace_id);
        memcpy(run.parent_span_id, tp.parent_span_id,
               sizeof run.parent_span_id);
        run.trace_flags = tp.trace_flags;
        run.trace_state = getenv("TRACESTATE");
    } else {
        rocky_random_id(run.trace_id, sizeof run.trace_id);
        run.trace_flags = 1;
    }
    rocky_random_id(run.span_id, sizeof run.span_id);
    run.started_wall_ns = rocky_clock_wall_ns();
    run.started_mono_ns = rocky_clock_mono_ns();
    emit(ROCKY_EVENT_RUN_START, NULL);

    pthread_t th[64];
    int nt = o.threads < 1 ? 1 : o.threads > 64 ? 64 : o.threads;
    for (int i = 0; i < nt; i++)
        pthread_create(&th[i], NULL, worker, NULL);
    for (int i = 0; i < nt; i++)
        pthread_join(th[i], NULL);
    int threads_during = count_dir("/proc/self/task", NULL);
    int sockets_during = count_dir("/proc/self/fd", "socket:");

    run.models_succeeded = succeeded;
    run.models_failed = failed;
    run.models_skipped = skipped;
    run.status = failed ? ROCKY_RUN_PARTIAL_FAILURE : ROCKY_RUN_SUCCESS;
    run.finished_wall_ns = rocky_clock_wall_ns();
    run.finished_mono_ns = rocky_clock_mono_ns();
    emit(ROCKY_EVENT_RUN_END, NULL);

    struct rocky_delivery_report rep = {.struct_size = sizeof rep};
    int64_t t0 = rocky_clock_mono_ns();
    int rc = rocky_plugin_set_shutdown(
        set, rocky_deadline_after_ms(o.deadline_ms), &rep);
    int64_t shutdown_ms = (rocky_clock_mono_ns() - t0) / 1000000;
    char trace_hex[33], span_hex[17], parent_hex[17];
    rocky_hex_encode(run.trace_id, 16, trace_hex);
    rocky_hex_encode(run.span_id, 8, span_hex);
    rocky_hex_encode(run.parent_span_id, 8, parent_hex);
    printf(
        "{\"run_id\":\"%s\",\"trace_id\":\"%s\",\"run_span_id\":\"%s\","
        "\"parent_span_id\":\"%s\",\"models\":%d,\"succeeded\":%u,"
        "\"failed\":%u,\"skipped\":%u,\"threads_before\":%d,"
        "\"threads_after_init\":%d,\"threads_during\":%d,\"sockets_before\":%d,"
        "\"sockets_after_init\":%d,\"sockets_during\":%d,"
        "\"shutdown_rc\":%d,\"shutdown_ms\":%lld,\"accepted\":%llu,"
        "\"delivered\":%llu,\"dropped\":%llu,\"pending\":%llu}\n",
        run_id, trace_hex, span_hex, parent_hex, o.models, (unsigned)succeeded,
        (unsigned)failed, (unsigned)skipped, threads_before, threads_after_init,
        threads_during, sockets_before, sockets_after_init, sockets_during, rc,
        (long long)shutdown_ms, (unsigned long long)rep.accepted,
        (unsigned long long)rep.delivered, (unsigned long long)rep.dropped,
        (unsigned long long)rep.pending);
    fflush(stdout);
    rocky_plugin_set_free(set);
    return 0;
}
