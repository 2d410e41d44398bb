/*
 * otel_config.h — the exporter's configuration, read from the standard
 * OpenTelemetry SDK environment variables.
 *
 * Rules (OTel SDK specification, "Environment Variable Specification"):
 * an empty value means unset; booleans are only case-insensitive
 * "true"/"false"; enum values are case-insensitive; a malformed
 * OTEL_RESOURCE_ATTRIBUTES is discarded whole. Every invalid value produces
 * exactly one warning that names the variable and the default used
 * instead. Header values are secrets: they never appear in any message.
 */
#ifndef ROCKY_OTEL_CONFIG_H
#define ROCKY_OTEL_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define ROCKY_OTEL_MAX_HEADERS      32
#define ROCKY_OTEL_MAX_RES_ATTRS    64
#define ROCKY_OTEL_DEFAULT_ENDPOINT "http://localhost:4317"

/* One signal's (traces or metrics) transport settings. */
struct rocky_otel_signal_config {
    int enabled;         /* OTEL_{TRACES,METRICS}_EXPORTER != none          */
    char target[512];    /* gRPC target "host:port" (scheme stripped)       */
    int tls;             /* 1: TLS (https or insecure=false), 0: plaintext  */
    char ca_file[512];   /* _CERTIFICATE, or "" for the system roots        */
    int64_t timeout_ms;  /* per-call deadline                               */
    int gzip;            /* _COMPRESSION=gzip                               */
    size_t header_count; /* _HEADERS, percent-decoded, keys lowercased      */
    char *header_keys[ROCKY_OTEL_MAX_HEADERS];
    char *header_values[ROCKY_OTEL_MAX_HEADERS];
};

/* OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE. */
enum rocky_otel_temporality {
    ROCKY_OTEL_CUMULATIVE = 0, /* default                                 */
    ROCKY_OTEL_DELTA = 1,      /* every instrument delta                   */
    ROCKY_OTEL_LOWMEMORY = 2   /* counters/histograms delta, up-down cum.  */
};

/* TRACEPARENT/TRACESTATE are not read here: the runner puts the caller's
 * span into the run model (run->parent_span_id, run->trace_state), so a
 * replayed run keeps the parent it had. */
struct rocky_otel_config {
    /* 1 when the SDK is disabled or no endpoint is configured: the plugin
     * then starts nothing. `inert_reason` says which (for a debug line). */
    int inert;
    const char *inert_reason;
    struct rocky_otel_signal_config traces;
    struct rocky_otel_signal_config metrics;
    char service_name[256];
    int service_name_set; /* OTEL_SERVICE_NAME given: it beats service.name
                             in OTEL_RESOURCE_ATTRIBUTES (spec) */
    size_t resource_attr_count; /* OTEL_RESOURCE_ATTRIBUTES, decoded       */
    char *resource_keys[ROCKY_OTEL_MAX_RES_ATTRS];
    char *resource_values[ROCKY_OTEL_MAX_RES_ATTRS];
    uint32_t bsp_max_queue_size;       /* default 2048                      */
    uint32_t bsp_max_export_batch;     /* default 512, <= queue size        */
    int64_t bsp_schedule_delay_ms;     /* default 5000                      */
    int64_t bsp_export_timeout_ms;     /* default 30000                     */
    int64_t metric_export_interval_ms; /* default 60000                    */
    int64_t metric_export_timeout_ms;  /* default 30000                    */
    int temporality;                   /* enum rocky_otel_temporality      */
    int64_t attr_value_length_limit;   /* -1 = unlimited (default)         */
    int64_t exit_timeout_ms; /* ROCKY_OTEL_EXIT_TIMEOUT_MS: the guard's one
                                deadline; default the traces timeout   */
};

/* Where warnings go: one line, no trailing newline. */
typedef void (*rocky_otel_warn_fn)(void *ctx, const char *message);

/*
 * Fill `cfg` from the environment through `get` (getenv-shaped, so tests
 * can pass their own table; NULL means getenv). Each invalid value is
 * reported once through `warn` and replaced by its default. Never fails on
 * bad input; returns 0, or ROCKY_ENOMEM (cfg then needs no free).
 * Call rocky_otel_config_free() afterwards.
 */
int rocky_otel_config_load(struct rocky_otel_config *cfg,
                           const char *(*get)(const char *name),
                           rocky_otel_warn_fn warn, void *warn_ctx);

/* Free what load allocated (headers, resource attributes). Idempotent. */
void rocky_otel_config_free(struct rocky_otel_config *cfg);

#endif
