/* bench_common.c — see bench_common.h. */
#include "bench_common.h"

#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void quiet_log(void *ctx, int level, const char *message)
{
    (void)ctx;
    if (level >= ROCKY_LOG_WARN)
        fprintf(stderr, "bench: plugin: %s\n", message);
}

static int64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t mono_ns(void)
{
    return clock_ns(CLOCK_MONOTONIC);
}

static int64_t wall_ns(void)
{
    return clock_ns(CLOCK_REALTIME);
}

static const char *no_config(void *ctx, const char *key)
{
    (void)ctx;
    (void)key;
    return NULL;
}

/* One table for every instance: the bench's services need no context. */
static const struct rocky_host_api host = {
    .struct_size = sizeof(struct rocky_host_api),
    .abi_version = ROCKY_PLUGIN_ABI_VERSION,
    .capabilities = ROCKY_HOST_CAP_OWNS_EXIT,
    .host_name = "bench",
    .host_version = "0.1.0-bench",
    .log = quiet_log,
    .strerror = rocky_strerror,
    .err_name = rocky_err_name,
    .mono_ns = mono_ns,
    .wall_ns = wall_ns,
    .config_get = no_config,
};

static const struct rocky_instance_info info = {
    .struct_size = sizeof(struct rocky_instance_info),
    .instance_name = "rocky_otel",
    .path = ROCKY_OTEL_PLUGIN_PATH,
};

static int sink_start(struct bench_sink *s, const char *mode)
{
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        if (mode)
            execl(ROCKY_OTEL_SINK_PATH, "otel_sink", mode, "0", (char *)NULL);
        else
            execl(ROCKY_OTEL_SINK_PATH, "otel_sink", "0", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    FILE *f = fdopen(fds[0], "r");
    s->pid = pid;
    s->port = 0;
    if (!f || fscanf(f, "listening %d", &s->port) != 1) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return -1;
    }
    fclose(f);
    return 0;
}

int bench_sink_start(struct bench_sink *s)
{
    return sink_start(s, NULL);
}

int bench_sink_start_hung(struct bench_sink *s)
{
    return sink_start(s, "--never-answer");
}

int bench_sink_export_to(struct bench_sink *s)
{
    if (bench_sink_start(s) != 0) {
        fprintf(stderr, "bench: cannot start otel_sink\n");
        return -1;
    }
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%d", s->port);
    setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint, 1);
    return 0;
}

void bench_sink_stop(struct bench_sink *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        waitpid(s->pid, NULL, 0);
        s->pid = 0;
    }
}

const struct rocky_plugin *bench_plugin_load(void **instance)
{
    void *h = dlopen(ROCKY_OTEL_PLUGIN_PATH, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "bench: %s\n", dlerror());
        exit(1);
    }
    rocky_plugin_entry_fn entry =
        (rocky_plugin_entry_fn)dlsym(h, ROCKY_PLUGIN_ENTRY_SYMBOL);
    const struct rocky_plugin *p = entry ? entry(&host) : NULL;
    char err[512] = "";
    if (!p || p->create(&host, &info, instance, err, sizeof err) != 0) {
        fprintf(stderr, "bench: plugin create failed: %s\n", err);
        exit(1);
    }
    return p;
}

int bench_plugin_stop(const struct rocky_plugin *p, void *instance,
                      int64_t deadline_mono_ns,
                      struct rocky_delivery_report *report)
{
    int rc = p->stop ? p->stop(instance, deadline_mono_ns, report) : 0;
    p->destroy(instance);
    return rc;
}

void bench_events_init(struct bench_events *e)
{
    memset(e, 0, sizeof *e);
    e->run.struct_size = sizeof e->run;
    e->run.run_id = "bench-run";
    e->run.project = "bench";
    e->run.trigger = "manual";
    e->run.rocky_version = "0.1.0";
    e->run.status = ROCKY_RUN_SUCCESS;
    memset(e->run.trace_id, 0x5a, 16);
    memset(e->run.span_id, 0x11, 8);
    e->run.started_wall_ns = 1;
    e->model.struct_size = sizeof e->model;
    e->model.model_name = "analytics.daily_orders";
    e->model.sql_hash =
        "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    e->model.status = ROCKY_MODEL_SUCCESS;
    e->model.attempt = 1;
    e->model.rows_affected = 1234;
    e->model.bytes_written = 56789;
    e->start.struct_size = e->end.struct_size = e->run_end.struct_size =
        sizeof e->start;
    e->start.type = ROCKY_EVENT_MODEL_START;
    e->end.type = ROCKY_EVENT_MODEL_END;
    e->run_end.type = ROCKY_EVENT_RUN_END;
    e->start.run = e->end.run = e->run_end.run = &e->run;
    e->start.model = e->end.model = &e->model;
}

void bench_events_next(struct bench_events *e, uint64_t i)
{
    memcpy(e->model.span_id, &i, sizeof i);
    e->model.span_id[7] |= 0x80; /* never all-zero */
    e->model.started_wall_ns = 1700000000000000000LL + (int64_t)i * 1000;
    e->model.finished_wall_ns = e->model.started_wall_ns + 500;
    e->model.started_mono_ns = (int64_t)i * 1000 + 1;
    e->model.finished_mono_ns = e->model.started_mono_ns + 500;
    e->start.wall_ns = e->model.started_wall_ns;
    e->end.wall_ns = e->model.finished_wall_ns;
}
