/*
 * otel_config.h — the exporter's configuration: one instance's config keys
 * (rocky/plugin.h section 4) over the standard OpenTelemetry SDK
 * environment variables.
 *
 * Rules (OTel SDK specification, "Environment Variable Specification"):
 * an empty value means unset; booleans are only case-insensitive
 * "true"/"false"; enum values are case-insensitive; a malformed
 * OTEL_RESOURCE_ATTRIBUTES is discarded whole. Every invalid value produces
 * exactly one warning that names where it came from (the config key, or
 * the variable) and the default used instead -- except the two below.
 * Header values are secrets: they never appear in any message.
 *
 * Refused, never replaced (an endpoint or headers that cannot be used as
 * given): the signals they feed are turned off (enabled = 0) with ONE
 * warning naming the source, what is wrong, what to do, and which signals
 * are not exported. A replacement would be worse than nothing: the old
 * fallback to plaintext localhost:4317 handed the authorization header to
 * any local user listening there, and sending without a header that could
 * not be sent means sending unauthenticated (or into another tenant).
 *   - Endpoint (rocky_otel_endpoint_parse): "http://" (plaintext),
 *     "https://" (TLS) or no scheme (TLS unless _INSECURE=true); a host name
 *     (letters, digits, '-', '.', '_'), an IPv4 address or a [bracketed]
 *     IPv6 address; an optional port 1..65535 (default 4317); a path is
 *     ignored (gRPC has none). Refused: another scheme, no host, a bad port
 *     (99999, "x", ""), a query or fragment, and credentials in the URL.
 *   - Credentials in the URL ("https://user:pw@host") are refused, never
 *     turned into a header: a URL is printed, logged and put in process
 *     listings, and guessing "Basic" could send them somewhere unintended
 *     in plaintext. Put them in OTEL_EXPORTER_OTLP_HEADERS (config key
 *     "headers"), e.g. authorization=Basic%20<base64 of user:password>.
 *     The warning shows the URL redacted, the userinfo as "***" and
 *     whatever follows the authority as "/..." (rocky_otel_endpoint_redact).
 *   - Headers (rocky_otel_header_is_legal, gRPC's metadata rules as in
 *     grpc_header_key_is_legal / grpc_header_nonbin_value_is_legal): keys
 *     of a-z 0-9 '-' '_' '.' (lower-cased first), not "grpc-*"; values of
 *     printable ASCII 0x20-0x7E after percent-decoding (no tab, CR, LF or
 *     non-ASCII byte), any byte but NUL for a "-bin" key. A malformed list
 *     (an entry without '=', a bad %-escape, %00, more than
 *     ROCKY_OTEL_MAX_HEADERS) or one illegal header refuses the whole
 *     list; the warning names the key, never the value.
 *   - A CA file (_CERTIFICATE) that cannot be read refuses its TLS
 *     signals: the system's root certificates instead would trust servers
 *     the user did not mean to.
 * No endpoint is never the spec's default localhost:4317 either: with no
 * endpoint at all the plugin is inert; a signal left without one while the
 * other has one (only OTEL_EXPORTER_OTLP_TRACES_ENDPOINT set) is not
 * exported, said in one warning — the default would send the headers
 * meant for the collector to whoever listens on localhost:4317.
 *
 * Keys. Each key mirrors one variable: the variable's name without its
 * OTEL_EXPORTER_OTLP_ / OTEL_ / ROCKY_OTEL_ prefix, in lower case
 * ("timeout" for OTEL_EXPORTER_OTLP_TIMEOUT, "bsp_max_queue_size" for
 * OTEL_BSP_MAX_QUEUE_SIZE, "exit_timeout_ms" for
 * ROCKY_OTEL_EXIT_TIMEOUT_MS), except "disabled" for OTEL_SDK_DISABLED.
 * Values are read with the variable's rules (JSON numbers and booleans
 * arrive as their text). rocky_otel_config_key() lists them; any other key
 * makes the load fail.
 *
 * Precedence, for every setting: the instance's config beats the
 * environment. For a per-signal setting of signal S (TRACES or METRICS),
 * the first of these that is set decides:
 *
 *   1. config "S_endpoint"            (only the endpoint has per-signal keys)
 *   2. config "endpoint" (generic key: "timeout", "headers", ...)
 *   3. OTEL_EXPORTER_OTLP_S_ENDPOINT  (the signal's variable)
 *   4. OTEL_EXPORTER_OTLP_ENDPOINT    (the generic variable)
 *
 * so an instance with "endpoint" in its config sends both signals there
 * whatever OTEL_EXPORTER_OTLP_TRACES_ENDPOINT says; the environment only
 * fills the settings the config leaves unset. The source that decides is
 * the only one read: when its value is invalid, the warning names it and
 * the default is used (a less specific source is not consulted).
 */
#ifndef ROCKY_OTEL_CONFIG_H
#define ROCKY_OTEL_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "rocky/plugin.h" /* struct rocky_config_entry */

#define ROCKY_OTEL_MAX_HEADERS   32
#define ROCKY_OTEL_MAX_RES_ATTRS 64

/* One signal's (traces or metrics) transport settings. */
struct rocky_otel_signal_config {
    int enabled;         /* exporter != none, endpoint and headers usable   */
    char target[512];    /* gRPC target "host:port" (scheme stripped); ""
                            when the endpoint was refused                   */
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
    char inert_reason[128];
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

/* What a configuration is read from. */
struct rocky_otel_config_source {
    /* The instance's configuration (info->config), `config_count`
     * entries; NULL when there is none. Read during the load only. */
    const struct rocky_config_entry *config;
    size_t config_count;
    /* The environment, getenv-shaped so tests can pass their own table;
     * NULL means getenv(3). */
    const char *(*getenv)(const char *name);
    /* Where each invalid value is reported, once. May be NULL. */
    rocky_otel_warn_fn warn;
    void *warn_ctx;
};

/* The i-th config key (0-based, in the order the README lists them), or
 * NULL past the last one. */
const char *rocky_otel_config_key(size_t i);

/*
 * Fill `cfg` from `src` (precedence above). Each invalid value is reported
 * once through src->warn and replaced by its default, or refused (endpoint,
 * headers: the signal is turned off; cfg->inert when no signal is left):
 * bad values never make the load fail. Returns 0; ROCKY_EINVAL when the config
 * has a key that is not among rocky_otel_config_key() (then `err` names it and
 * lists the known keys); ROCKY_ENOMEM. On failure cfg needs no free. Otherwise
 * call rocky_otel_config_free() afterwards.
 */
int rocky_otel_config_load(struct rocky_otel_config *cfg,
                           const struct rocky_otel_config_source *src,
                           char *err, size_t err_size);

/* Free what load allocated (headers, resource attributes). Idempotent. */
void rocky_otel_config_free(struct rocky_otel_config *cfg);

/*
 * Parse one endpoint value (rules above) into the gRPC target "host:port"
 * (`target`, `size` bytes) and *tls. `insecure` is _INSECURE (1 true, 0
 * false, -1 unset) and decides only for an endpoint without a scheme.
 * Returns 0, or ROCKY_EINVAL and sets *why (may be NULL) to a static
 * phrase ("has no host", ...) that never quotes the value. Pure: no
 * allocation, no environment, any thread; meant for fuzzing too.
 */
int rocky_otel_endpoint_parse(const char *value, int insecure, char *target,
                              size_t size, int *tls, const char **why);

/* `value` as a warning may show it: userinfo replaced by "***", nothing
 * after the authority (path, query) shown but "/...", control and
 * non-ASCII bytes as '?', at most `size` - 1 bytes (cut with "..."). */
void rocky_otel_endpoint_redact(const char *value, char *out, size_t size);

/* 1 when gRPC accepts `key` (already lower-cased) with `value` as request
 * metadata (rules above); else 0 and *why (may be NULL) is a static phrase
 * that never quotes the value. */
int rocky_otel_header_is_legal(const char *key, const char *value,
                               const char **why);

#endif
