/*
 * drive_plugin.c — a small test host: loads plugins through the runner's
 * loader (host/plugin_host.h) and emits one realistic synthetic run from
 * several worker threads, then shuts the plugins down. Used by the
 * end-to-end tests until (and besides) the real runner.
 *
 *   drive_plugin PLUGIN.so [--models N] [--threads T] [--fail-every K]
 *                [--skip-every K] [--deadline-ms D] [--bad-utf8]
 *                [--model-ms MS] [--exit-in-worker CODE]
 *                [--host-sigterm-handler] [--fork-after-init]
 *                [--fork-child-no-shutdown]
 *
 * Like the runner, it takes the caller's span from TRACEPARENT/TRACESTATE.
 * Prints one JSON object on stdout: ids of the run, what the process looked
 * like after init (threads in /proc/self/task, open sockets) and the
 * plugins' delivery report. Exit status 0 unless the host itself failed.
 *
 * Fault options (for the exit-path tests):
 *   --model-ms MS         each model "materializes" for MS ms (default: 1-3)
 *   --exit-in-worker CODE the worker that ends the last model emits RUN_END,
 *                         prints the JSON line (ids only, no report) and
 *                         calls exit(CODE) from that worker thread, with no
 *                         plugin shutdown: only the exit guard can flush.
 *   --host-sigterm-handler  install a SIGTERM handler of the host's own
 *                         BEFORE loading the plugins; it writes
 *                         "drive_plugin: host SIGTERM handler ran" to stderr
 *                         and makes the workers stop taking models; the run
 *                         then ends "interrupted", shuts the plugins down and
 *                         exits 143 (128 + SIGTERM) by returning from main.
 *   --fork-after-init     once every model ended (spans queued), fork(); the
 *                         child emits one model of its own ("child_model"),
 *                         shuts its plugins down, prints one JSON line
 *                         {"child":1,...} and exits 0; the parent waits for
 *                         it (at most 5 s x ROCKY_TEST_TIME_SCALE, then
 *                         SIGKILL) and adds child_exit / child_ms to its
 *                         summary.
 *   --fork-child-no-shutdown  with --fork-after-init: the child emits its
 *                         model and calls exit(0) without shutting down.
 * The extra summary fields appear only with these options.
 */
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "sha256.h"
#include "ids.h"
#include "plugin_host.h"

struct opts {
    int models, threads, fail_every, skip_every, bad_utf8;
    int64_t deadline_ms;
    int model_ms;       /* 0: the default 1-3 ms per model */
    int exit_in_worker; /* -1: off */
    int host_sigterm_handler, fork_after_init, fork_child_no_shutdown;
};

static struct rocky_plugin_set *set;
static struct rocky_run run;
static struct opts o = {24, 4, 7, 11, 0, 10000, 0, -1, 0, 0, 0};
static _Atomic int next_model;
static _Atomic int models_ended;
static _Atomic uint32_t succeeded, failed, skipped;
static char run_id[64];
static atomic_int host_signal; /* set by the host's own handler (lock-free) */

static void host_on_sigterm(int signo)
{
    static const char marker[] = "drive_plugin: host SIGTERM handler ran\n";
    ssize_t n = write(STDERR_FILENO, marker, sizeof marker - 1);
    (void)n;
    atomic_store(&host_signal, signo);
}

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

static void ids_hex(char *trace_hex, char *span_hex, char *parent_hex)
{
    rocky_hex_encode(run.trace_id, 16, trace_hex);
    rocky_hex_encode(run.span_id, 8, span_hex);
    rocky_hex_encode(run.parent_span_id, 8, parent_hex);
}

/* --exit-in-worker: called by the worker that ended the last model. */
/*
 * LeakSanitizer (ASan builds) calls this hook at exit if the program
 * defines it. Its check means nothing, or cannot run, on two of our exit
 * paths, which are about the exit guard and not about leaks:
 *   - a worker thread calling exit() while other threads still run: LSan's
 *     tracer cannot stop them and crashes ("Tracer caught signal 11");
 *   - a fork child: the parent's threads (gRPC's, the exporter's) are not
 *     there, so all they hold looks leaked (and the child leaks the
 *     exporter on purpose, see rocky_otel_exporter_free).
 * Every other exit of this host keeps the leak check.
 */
static volatile sig_atomic_t leak_check_off;
int __lsan_is_turned_off(void);
int __lsan_is_turned_off(void)
{
    return leak_check_off;
}

static void end_run_and_exit(void)
{
    run.models_succeeded = succeeded;
    run.models_failed = failed;
    run.models_skipped = skipped;
    run.status = failed ? ROCKY_RUN_PARTIAL_FAILURE : ROCKY_RUN_SUCCESS;
    run.finished_wall_ns = rocky_clock_wall_ns();
    run.finished_mono_ns = rocky_clock_mono_ns();
    emit(ROCKY_EVENT_RUN_END, NULL);
    char trace_hex[33], span_hex[17], parent_hex[17];
    ids_hex(trace_hex, span_hex, parent_hex);
    printf("{\"run_id\":\"%s\",\"trace_id\":\"%s\",\"run_span_id\":\"%s\","
           "\"models\":%d,\"succeeded\":%u,\"failed\":%u,\"skipped\":%u,"
           "\"exit_in_worker\":%d}\n",
           run_id, trace_hex, span_hex, o.models, (unsigned)succeeded,
           (unsigned)failed, (unsigned)skipped, o.exit_in_worker);
    fflush(stdout);
    leak_check_off = 1;
    exit(o.exit_in_worker);
}

static void *worker(void *arg)
{
    (void)arg;
    for (;;) {
        if (atomic_load(&host_signal))
            return NULL; /* the host's handler asked to stop */
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
            if (o.model_ms > 0)
                usleep((unsigned)o.model_ms * 1000);
            else
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
        if (atomic_fetch_add(&models_ended, 1) + 1 == o.models &&
            o.exit_in_worker >= 0)
            end_run_and_exit();
    }
}

/* --fork-after-init, in the child: the plugin must neither send our model
 * nor re-send what the parent queued, and shutdown must not hang. */
static void forked_child(void)
{
    char name[] = "child_model", hash[65];
    rocky_sha256_hex(name, strlen(name), hash);
    struct rocky_model_exec m = {.struct_size = sizeof m};
    m.model_name = name;
    m.sql_hash = hash;
    m.attempt = 1;
    m.rows_affected = 1;
    m.bytes_written = 1;
    rocky_random_id(m.span_id, sizeof m.span_id);
    m.status = ROCKY_MODEL_RUNNING;
    m.started_wall_ns = rocky_clock_wall_ns();
    m.started_mono_ns = rocky_clock_mono_ns();
    emit(ROCKY_EVENT_MODEL_START, &m);
    m.status = ROCKY_MODEL_SUCCESS;
    m.finished_wall_ns = rocky_clock_wall_ns();
    m.finished_mono_ns = rocky_clock_mono_ns();
    emit(ROCKY_EVENT_MODEL_END, &m);
    char span_hex[17];
    rocky_hex_encode(m.span_id, 8, span_hex);
    if (o.fork_child_no_shutdown) {
        printf("{\"child\":1,\"child_span_id\":\"%s\"}\n", span_hex);
        fflush(stdout);
        exit(0); /* atexit: the child's guard must be dead */
    }
    struct rocky_delivery_report rep = {.struct_size = sizeof rep};
    int64_t t0 = rocky_clock_mono_ns();
    int rc = rocky_plugin_set_stop(set, rocky_deadline_after_ms(2000), &rep);
    int64_t ms = (rocky_clock_mono_ns() - t0) / 1000000;
    printf("{\"child\":1,\"child_span_id\":\"%s\",\"shutdown_rc\":%d,"
           "\"shutdown_ms\":%lld,\"accepted\":%llu,\"delivered\":%llu,"
           "\"pending\":%llu}\n",
           span_hex, rc, (long long)ms, (unsigned long long)rep.accepted,
           (unsigned long long)rep.delivered, (unsigned long long)rep.pending);
    fflush(stdout);
#if !defined(__SANITIZE_THREAD__)
    /* Not under ThreadSanitizer: its runtime's own allocator lock can be
     * copied held into a fork child of a threaded process, and its dlclose
     * interceptor then spins on it forever (seen in gdb). Shutdown, the
     * part under test, ran above either way. */
    rocky_plugin_set_free(set);
#endif
    exit(0);
}

/* Wait for the child at most 5 s x ROCKY_TEST_TIME_SCALE (then kill it).
 * Returns its exit code, -signo when a signal ended it, -1000 when it had
 * to be killed. */
static int wait_child(pid_t pid, int64_t *ms)
{
    const char *scale_env = getenv("ROCKY_TEST_TIME_SCALE");
    double scale = scale_env ? strtod(scale_env, NULL) : 1.0;
    if (!(scale >= 1.0))
        scale = 1.0;
    int64_t limit_ms = (int64_t)(5000 * scale);
    int64_t t0 = rocky_clock_mono_ns();
    for (;;) {
        int status = 0;
        pid_t got = waitpid(pid, &status, WNOHANG);
        *ms = (rocky_clock_mono_ns() - t0) / 1000000;
        if (got == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
        if (got < 0)
            return -2000;
        if (*ms > limit_ms) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -1000;
        }
        usleep(5000);
    }
}

static void *idle(void *arg)
{
    return arg;
}

static int is_flag(const char *a)
{
    return !strcmp(a, "--bad-utf8") || !strcmp(a, "--host-sigterm-handler") ||
           !strcmp(a, "--fork-after-init") ||
           !strcmp(a, "--fork-child-no-shutdown");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: drive_plugin PLUGIN.so [options]\n");
        return 2;
    }
    for (int i = 2; i + 1 < argc || (i < argc && is_flag(argv[i])); i++) {
        if (!strcmp(argv[i], "--bad-utf8")) {
            o.bad_utf8 = 1;
            continue;
        }
        if (!strcmp(argv[i], "--host-sigterm-handler")) {
            o.host_sigterm_handler = 1;
            continue;
        }
        if (!strcmp(argv[i], "--fork-after-init")) {
            o.fork_after_init = 1;
            continue;
        }
        if (!strcmp(argv[i], "--fork-child-no-shutdown")) {
            o.fork_child_no_shutdown = 1;
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
        else if (!strcmp(argv[i], "--model-ms"))
            o.model_ms = (int)v;
        else if (!strcmp(argv[i], "--exit-in-worker"))
            o.exit_in_worker = (int)v;
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
    if (o.host_sigterm_handler) {
        /* The host's own handler, before the plugin: it must still run. */
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = host_on_sigterm;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESTART;
        if (sigaction(SIGTERM, &sa, NULL) != 0)
            return 1;
    }
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

    char extra[256] = "";
    if (o.fork_after_init) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            leak_check_off = 1;
            forked_child();
        }
        int64_t child_ms = 0;
        int child_exit = pid < 0 ? -3000 : wait_child(pid, &child_ms);
        snprintf(extra, sizeof extra, ",\"child_exit\":%d,\"child_ms\":%lld",
                 child_exit, (long long)child_ms);
    }

    run.models_succeeded = succeeded;
    run.models_failed = failed;
    run.models_skipped = skipped;
    run.status = failed ? ROCKY_RUN_PARTIAL_FAILURE : ROCKY_RUN_SUCCESS;
    int signo = atomic_load(&host_signal);
    if (signo) {
        run.status = ROCKY_RUN_INTERRUPTED;
        size_t len = strlen(extra);
        snprintf(extra + len, sizeof extra - len, ",\"host_signal\":%d", signo);
    }
    run.finished_wall_ns = rocky_clock_wall_ns();
    run.finished_mono_ns = rocky_clock_mono_ns();
    emit(ROCKY_EVENT_RUN_END, NULL);

    struct rocky_delivery_report rep = {.struct_size = sizeof rep};
    int64_t t0 = rocky_clock_mono_ns();
    int rc = rocky_plugin_set_stop(set, rocky_deadline_after_ms(o.deadline_ms),
                                   &rep);
    int64_t shutdown_ms = (rocky_clock_mono_ns() - t0) / 1000000;
    char trace_hex[33], span_hex[17], parent_hex[17];
    ids_hex(trace_hex, span_hex, parent_hex);
    printf(
        "{\"run_id\":\"%s\",\"trace_id\":\"%s\",\"run_span_id\":\"%s\","
        "\"parent_span_id\":\"%s\",\"models\":%d,\"succeeded\":%u,"
        "\"failed\":%u,\"skipped\":%u,\"threads_before\":%d,"
        "\"threads_after_init\":%d,\"threads_during\":%d,\"sockets_before\":%d,"
        "\"sockets_after_init\":%d,\"sockets_during\":%d,"
        "\"shutdown_rc\":%d,\"shutdown_ms\":%lld,\"accepted\":%llu,"
        "\"delivered\":%llu,\"dropped\":%llu,\"pending\":%llu%s}\n",
        run_id, trace_hex, span_hex, parent_hex, o.models, (unsigned)succeeded,
        (unsigned)failed, (unsigned)skipped, threads_before, threads_after_init,
        threads_during, sockets_before, sockets_after_init, sockets_during, rc,
        (long long)shutdown_ms, (unsigned long long)rep.accepted,
        (unsigned long long)rep.delivered, (unsigned long long)rep.dropped,
        (unsigned long long)rep.pending, extra);
    fflush(stdout);
    rocky_plugin_set_free(set);
    return signo ? 128 + signo : 0;
}
