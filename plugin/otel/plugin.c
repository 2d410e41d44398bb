/*
 * plugin.c — rocky_otel.so's entry point and ABI callbacks.
 *
 * Inert unless configured: without an endpoint (or with
 * OTEL_SDK_DISABLED=true) init starts no thread, opens no socket and calls
 * no gRPC function; on_event then returns after one load and branch.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "exporter.h"
#include "grpc_transport.h"
#include "otel_config.h"
#include "rocky/plugin.h"
#ifdef ROCKY_OTEL_HAVE_GUARD
#include "guard.h"
#endif

struct state {
    const struct rocky_host_api *host;
    struct rocky_otel_exporter *exp; /* NULL: inert */
    int shut;
    int guarded;
    int last_rc;
    int64_t exit_timeout_ms; /* bounds the host's shutdown deadline too */
    struct rocky_delivery_report last;
    struct state *next; /* all states stay reachable: see shutdown */
};

/* States are never freed: the ABI lets the host call shutdown again after
 * the first one, and it must repeat the report. They are tiny. */
static struct state *_Atomic all_states;

static void host_log(void *ctx, int level, const char *message)
{
    const struct rocky_host_api *host = ctx;
    if (host && host->log)
        host->log(host->host_ctx, level, message);
}

static void warn_cb(void *ctx, const char *message)
{
    host_log(ctx, ROCKY_LOG_WARN, message);
}

static void grpc_log_cb(void *ctx, int severity, const char *message)
{
    host_log(ctx, severity >= 2 ? ROCKY_LOG_WARN : ROCKY_LOG_DEBUG, message);
}

static int otel_init(const struct rocky_host_api *host, void **out,
                     char *errbuf, size_t errbuf_size)
{
    struct state *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(errbuf, errbuf_size, "out of memory");
        return ROCKY_ENOMEM;
    }
    s->host = host;
    struct rocky_otel_config cfg;
    int rc = rocky_otel_config_load(&cfg, NULL, warn_cb, (void *)host);
    if (rc) {
        snprintf(errbuf, errbuf_size, "out of memory reading the environment");
        free(s);
        return rc;
    }
    if (cfg.inert) {
        char line[160];
        snprintf(line, sizeof line, "inactive: %s", cfg.inert_reason);
        host_log((void *)host, ROCKY_LOG_DEBUG, line);
    } else {
        s->exit_timeout_ms = cfg.exit_timeout_ms;
        rocky_otel_grpc_set_log(grpc_log_cb, (void *)host);
        rc =
            rocky_otel_exporter_new(&cfg, host->host_version, host_log,
                                    (void *)host, &s->exp, errbuf, errbuf_size);
        if (rc) {
            rocky_otel_grpc_set_log(NULL, NULL);
            rocky_otel_config_free(&cfg);
            free(s);
            return rc;
        }
#ifdef ROCKY_OTEL_HAVE_GUARD
        struct rocky_guard_config g = {
            .drain = rocky_otel_exporter_drain,
            .ctx = s->exp,
            .timeout_ms = cfg.exit_timeout_ms,
            .log = host_log,
            .log_ctx = (void *)host,
            .after_fork_child = rocky_otel_exporter_after_fork_child};
        int grc = rocky_guard_install(&g);
        if (grc == 0) {
            s->guarded = 1;
        } else {
            char line[160];
            snprintf(line, sizeof line,
                     "exit guard not installed (%d): only the host's "
                     "shutdown flushes",
                     grc);
            host_log((void *)host, ROCKY_LOG_WARN, line);
        }
#endif
    }
    rocky_otel_config_free(&cfg);
    s->next = atomic_load(&all_states);
    while (!atomic_compare_exchange_weak(&all_states, &s->next, s)) {
    }
    *out = s;
    return 0;
}

static int otel_on_event(void *state, const struct rocky_event *ev)
{
    struct state *s = state;
    if (!s->exp)
        return 0;
    return rocky_otel_exporter_on_event(s->exp, ev);
}

static void zero_report(struct rocky_delivery_report *r)
{
    if (r) {
        uint32_t size = r->struct_size;
        memset(r, 0, sizeof *r);
        r->struct_size = size;
    }
}

static int otel_flush(void *state, int64_t deadline,
                      struct rocky_delivery_report *report)
{
    struct state *s = state;
    if (!s->exp || s->shut) {
        if (s->shut && report) {
            uint32_t size = report->struct_size;
            *report = s->last;
            report->struct_size = size;
        } else {
            zero_report(report);
        }
        return 0;
    }
    return rocky_otel_exporter_flush(s->exp, deadline, 0, report);
}

static int otel_shutdown(void *state, int64_t deadline,
                         struct rocky_delivery_report *report)
{
    struct state *s = state;
    if (!s->shut) {
        s->shut = 1;
        s->last.struct_size = sizeof s->last;
        if (s->exp) {
#ifdef ROCKY_OTEL_HAVE_GUARD
            /* First, so a guard drain never overlaps our own flush. */
            if (s->guarded)
                rocky_guard_disarm();
#endif
            /* One exit deadline on every path: a host that offers more
             * time than ROCKY_OTEL_EXIT_TIMEOUT_MS (default: the OTLP
             * timeout) does not make a dead collector hold the exit. */
            int64_t own = rocky_deadline_after_ms(s->exit_timeout_ms);
            if (own < deadline)
                deadline = own;
            s->last_rc =
                rocky_otel_exporter_shutdown(s->exp, deadline, &s->last);
            rocky_otel_exporter_free(s->exp);
            s->exp = NULL;
            rocky_otel_grpc_set_log(NULL, NULL);
        }
    }
    if (report) {
        uint32_t size = report->struct_size;
        *report = s->last;
        report->struct_size = size;
    }
    return s->last_rc;
}

static const struct rocky_plugin plugin = {
    .struct_size = sizeof(struct rocky_plugin),
    .abi_version = ROCKY_PLUGIN_ABI_VERSION,
    .name = "rocky_otel",
    .version = ROCKY_OTEL_VERSION,
    .description = "spans and metrics of rocky runs over OTLP/gRPC",
    .init = otel_init,
    .on_event = otel_on_event,
    .flush = otel_flush,
    .shutdown = otel_shutdown,
};

ROCKY_PLUGIN_EXPORT const struct rocky_plugin *
rocky_plugin_entry(const struct rocky_host_api *host);

ROCKY_PLUGIN_EXPORT const struct rocky_plugin *
rocky_plugin_entry(const struct rocky_host_api *host)
{
    if (!host ||
        ROCKY_PLUGIN_ABI_MAJOR_OF(host->abi_version) != ROCKY_PLUGIN_ABI_MAJOR)
        return &plugin; /* the host refuses on the major and says why */
    return &plugin;
}
