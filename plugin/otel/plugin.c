/*
 * plugin.c — rocky_otel.so's entry point and ABI 2.0 callbacks.
 *
 * Every create() makes one instance with its own configuration (its config
 * keys over the OTel environment, otel_config.h), its own exporter thread
 * and channels, and its own logger to the host (host_log.h). Inert unless
 * configured, per instance: without an endpoint (or with disabled=true)
 * create starts no thread, opens no socket and calls no gRPC function;
 * on_event then returns after one load and branch.
 *
 * Process-wide state, each piece because something we embed exists once
 * per process, never for an instance's own data:
 *   - the exit guard (guard.c) and the registry of exporters it drains
 *     (exit_registry.c): signal handlers and atexit hooks are per process.
 *     Armed only for instances whose host lacks ROCKY_HOST_CAP_OWNS_EXIT;
 *   - gRPC core's log hook (gpr_set_log_function: one per process) and the
 *     route that hands its lines to the oldest live instance's logger
 *     (host_log.c); the guard logs through the same route;
 *   - gRPC core's own initialisation count (grpc_init/grpc_shutdown);
 *   - the exporters' fork generation (a pthread_atfork child handler,
 *     exporter.c), so a fork child never joins a thread it does not have.
 *
 * Lifecycle (rocky/plugin.h section 3): stop is the old shutdown minus the
 * freeing, called exactly once; destroy frees and never blocks.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "exit_registry.h"
#include "exporter.h"
#include "grpc_transport.h"
#include "host_log.h"
#include "otel_config.h"
#include "rocky/plugin.h"

struct instance {
    /* The way to the host's logger; outlives the exporter thread. */
    struct rocky_otel_host_log log;
    struct rocky_otel_exporter *exp; /* NULL: inert */
    struct rocky_otel_exit_entry exit;
    int armed;               /* exp is registered with the exit guard */
    int stopped;             /* stop was called */
    int64_t exit_timeout_ms; /* bounds the host's stop deadline too */
};

static void logf_(struct instance *in, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void logf_(struct instance *in, int level, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    rocky_otel_host_log_write(&in->log, level, line);
}

static void warn_cb(void *ctx, const char *message)
{
    rocky_otel_host_log_write(ctx, ROCKY_LOG_WARN, message);
}

/* gRPC's lines (severity 0 debug, 1 info, 2 error) have no instance: they
 * go to the route. */
static void grpc_log_cb(void *ctx, int severity, const char *message)
{
    rocky_otel_log_route_write(
        ctx, severity >= 2 ? ROCKY_LOG_WARN : ROCKY_LOG_DEBUG, message);
}

static void zero_report(struct rocky_delivery_report *report)
{
    struct rocky_delivery_report zero = {.struct_size = sizeof zero};
    rocky_delivery_report_write(report, &zero);
}

static int otel_create(const struct rocky_host_api *host,
                       const struct rocky_instance_info *info, void **out,
                       char *errbuf, size_t errbuf_size)
{
    if (!host || !out) {
        snprintf(errbuf, errbuf_size, "no services table or instance slot");
        return ROCKY_EINVAL;
    }
    /* Every service we use is in ABI 2.0's table: a shorter one is not a
     * 2.x host. */
    if (!ROCKY_STRUCT_HAS(host, struct rocky_host_api, config_get)) {
        snprintf(errbuf, errbuf_size,
                 "the host's services table (%u bytes) is smaller than plugin "
                 "ABI 2.0's (%zu bytes); use a rocky built for ABI 2.x",
                 host->struct_size, sizeof(struct rocky_host_api));
        return ROCKY_EVERSION;
    }
    struct instance *in = calloc(1, sizeof *in);
    if (!in) {
        snprintf(errbuf, errbuf_size, "out of memory");
        return ROCKY_ENOMEM;
    }
    rocky_otel_host_log_init(&in->log, host);

    struct rocky_otel_config_source src = {.warn = warn_cb,
                                           .warn_ctx = &in->log};
    if (info && ROCKY_STRUCT_HAS(info, struct rocky_instance_info, config) &&
        info->config) {
        src.config = info->config;
        src.config_count = info->config_count;
    }
    struct rocky_otel_config cfg;
    int rc = rocky_otel_config_load(&cfg, &src, errbuf, errbuf_size);
    if (rc) {
        rocky_otel_host_log_detach(&in->log);
        rocky_otel_host_log_destroy(&in->log);
        free(in);
        return rc;
    }
    if (cfg.inert) {
        logf_(in, ROCKY_LOG_DEBUG, "inactive: %s", cfg.inert_reason);
        rocky_otel_config_free(&cfg);
        *out = in;
        return 0;
    }

    in->exit_timeout_ms = cfg.exit_timeout_ms;
    rocky_otel_log_route_join(&in->log);
    rocky_otel_grpc_set_log(grpc_log_cb, NULL);
    rc = rocky_otel_exporter_new(&cfg, host->host_version,
                                 rocky_otel_host_log_write, &in->log, &in->exp,
                                 errbuf, errbuf_size);
    if (rc) {
        rocky_otel_config_free(&cfg);
        rocky_otel_host_log_detach(&in->log);
        rocky_otel_host_log_destroy(&in->log);
        free(in);
        return rc;
    }
    /* A host that owns the exit stops us on every exit path itself; for
     * any other, the guard gives queued spans their one chance. */
    if (!(host->capabilities & ROCKY_HOST_CAP_OWNS_EXIT)) {
        int grc =
            rocky_otel_exit_register(&in->exit, in->exp, cfg.exit_timeout_ms);
        if (grc == 0)
            in->armed = 1;
        else
            logf_(in, ROCKY_LOG_WARN,
                  "exit guard not installed (%s): only the host's stop "
                  "flushes",
                  rocky_err_name(grc));
    }
    rocky_otel_config_free(&cfg);
    *out = in;
    return 0;
}

static int otel_on_event(void *instance, const struct rocky_event *ev)
{
    struct instance *in = instance;
    if (!in->exp)
        return 0;
    return rocky_otel_exporter_on_event(in->exp, ev);
}

static int otel_flush(void *instance, int64_t deadline,
                      struct rocky_delivery_report *report)
{
    struct instance *in = instance;
    if (!in->exp || in->stopped) {
        zero_report(report);
        return 0;
    }
    return rocky_otel_exporter_flush(in->exp, deadline, 0, report);
}

static int otel_stop(void *instance, int64_t deadline,
                     struct rocky_delivery_report *report)
{
    struct instance *in = instance;
    if (in->stopped) /* the ABI calls stop once: write nothing again */
        return ROCKY_ESHUTDOWN;
    in->stopped = 1;
    if (!in->exp) {
        zero_report(report);
        return 0;
    }
    /* A fork child's copy: the registry's locks and the thread are the
     * parent's; the exporter reports nothing and touches nothing. */
    if (rocky_otel_exporter_forked(in->exp))
        return rocky_otel_exporter_shutdown(in->exp, deadline, report);
    /* First, so that a guard drain never overlaps our own final flush and
     * the guard never touches the exporter again (it waits for a drain
     * running now); the last armed instance disarms the guard. */
    if (in->armed) {
        rocky_otel_exit_unregister(&in->exit);
        in->armed = 0;
    }
    /* One exit deadline on every path: a host that offers more time than
     * exit_timeout_ms (default: the OTLP timeout) does not make a dead
     * collector hold the exit. */
    int64_t own = rocky_deadline_after_ms(in->exit_timeout_ms);
    if (own < deadline)
        deadline = own;
    /* Joins the exporter thread (its in-flight call is cancelled at the
     * deadline), so no thread of ours is left when this returns. */
    return rocky_otel_exporter_shutdown(in->exp, deadline, report);
}

static void otel_destroy(void *instance)
{
    struct instance *in = instance;
    if (!in)
        return;
    if (in->exp && rocky_otel_exporter_forked(in->exp))
        return; /* a fork child: locks may be held by absent threads; leak */
    if (in->armed) { /* destroy without stop: a host error */
        rocky_otel_exit_unregister(&in->exit);
        in->armed = 0;
    }
    /* From here on no thread calls host->log for us or touches the host's
     * memory: the route no longer leads here, and a line being written
     * now is waited for. */
    rocky_otel_host_log_detach(&in->log);
    rocky_otel_exporter_free(in->exp);
    /* Never stopped (a host error): the exporter was left to its thread,
     * which still logs into `in->log` (detached, so silently): leak the
     * instance too rather than block. */
    if (in->exp && !in->stopped)
        return;
    rocky_otel_host_log_destroy(&in->log);
    free(in);
}

static const struct rocky_plugin plugin = {
    .struct_size = sizeof(struct rocky_plugin),
    .abi_version = ROCKY_PLUGIN_ABI_VERSION,
    .name = "rocky_otel",
    .version = ROCKY_OTEL_VERSION,
    .description = "spans and metrics of rocky runs over OTLP/gRPC",
    .create = otel_create,
    .on_event = otel_on_event,
    .flush = otel_flush,
    .stop = otel_stop,
    .destroy = otel_destroy,
};

ROCKY_PLUGIN_EXPORT const struct rocky_plugin *
rocky_plugin_entry(const struct rocky_host_api *host)
{
    /* The host compares the majors and refuses with both versions named;
     * nothing to check here (and only the version fields and log may be
     * used during this call). */
    (void)host;
    return &plugin;
}
