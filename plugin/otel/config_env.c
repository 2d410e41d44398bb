/*
 * config_env.c — the OTel SDK environment variables, parsed per the spec.
 */
#include "otel_config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "rocky/error.h"

struct env {
    const char *(*get)(const char *name);
    rocky_otel_warn_fn warn;
    void *warn_ctx;
    /* Variables already warned about: the generic variables are read once
     * per signal, but each bad one is reported once. */
    char warned[48][64];
    size_t warned_count;
};

/* Empty means unset (spec). */
static const char *value(const struct env *e, const char *name)
{
    const char *v = e->get ? e->get(name) : getenv(name);
    return (v && *v) ? v : NULL;
}

/* A value shown in a warning: bounded, control bytes replaced, so a hostile
 * environment cannot forge log lines. */
static void shown(const char *v, char *out, size_t size)
{
    size_t i = 0;
    for (; v[i] && i + 4 < size; i++) {
        unsigned char c = (unsigned char)v[i];
        out[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    if (v[i]) {
        memcpy(out + i, "...", 3);
        i += 3;
    }
    out[i] = '\0';
}

static void warn(struct env *e, const char *name, const char *val,
                 const char *what, const char *dflt)
{
    char msg[512], sv[80];
    for (size_t i = 0; i < e->warned_count; i++)
        if (strcmp(e->warned[i], name) == 0)
            return;
    if (e->warned_count < sizeof e->warned / sizeof e->warned[0])
        snprintf(e->warned[e->warned_count++], sizeof e->warned[0], "%s", name);
    if (val) {
        shown(val, sv, sizeof sv);
        snprintf(msg, sizeof msg, "%s=\"%s\" %s; using %s", name, sv, what,
                 dflt);
    } else {
        snprintf(msg, sizeof msg, "%s %s; using %s", name, what, dflt);
    }
    if (e->warn)
        e->warn(e->warn_ctx, msg);
}

/* Returns 1 true, 0 false, -1 unset; warns once on anything else. */
static int get_bool(struct env *e, const char *name)
{
    const char *v = value(e, name);
    if (!v)
        return -1;
    if (strcasecmp(v, "true") == 0)
        return 1;
    if (strcasecmp(v, "false") == 0)
        return 0;
    warn(e, name, v, "is not a boolean (true or false)", "the default false");
    return -1;
}

/* A non-negative integer; `min` is the smallest accepted value. Leaves
 * *out unchanged (the default) when unset or invalid. Returns 1 when set. */
static int get_int(struct env *e, const char *name, int64_t min, int64_t max,
                   int64_t *out)
{
    const char *v = value(e, name);
    if (!v)
        return 0;
    char *end = NULL;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    while (end && isspace((unsigned char)*end))
        end++;
    if (errno == 0 && end != v && *end == '\0' && n >= min && n <= max &&
        isdigit((unsigned char)v[strspn(v, " \t")])) {
        *out = n;
        return 1;
    }
    char what[96], dflt[64];
    snprintf(what, sizeof what, "is not an integer in [%lld, %lld]",
             (long long)min, (long long)max);
    snprintf(dflt, sizeof dflt, "the default %lld", (long long)*out);
    warn(e, name, v, what, dflt);
    return 0;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Percent-decode [s, s+n) into a new trimmed string; NULL on a bad escape
 * (sets *bad) or out of memory. */
static char *decode(const char *s, size_t n, int *bad)
{
    while (n && isspace((unsigned char)*s)) {
        s++;
        n--;
    }
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            int hi = (i + 1 < n) ? hexval((unsigned char)s[i + 1]) : -1;
            int lo = (i + 2 < n) ? hexval((unsigned char)s[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                free(out);
                *bad = 1;
                return NULL;
            }
            out[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    return out;
}

/* Parse "k=v,k=v" into key/value arrays. Returns the count, or -1 when
 * malformed (an entry without '=', an empty key, a bad %-escape, too many),
 * -2 when out of memory. Nothing is kept on failure. */
static int parse_pairs(const char *v, char **keys, char **vals, size_t max,
                       int lower_keys)
{
    size_t count = 0;
    const char *p = v;
    int rc = 0;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        int bad = 0;
        if (len == 0 || strspn(p, " \t") >= len) {
            /* an empty entry ("a=b,,c=d" or a trailing comma) is skipped */
        } else if (!eq || count == max) {
            rc = -1;
            break;
        } else {
            char *k = decode(p, (size_t)(eq - p), &bad);
            char *val =
                k ? decode(eq + 1, len - (size_t)(eq - p) - 1, &bad) : NULL;
            if (!k || !val || !*k) {
                rc = bad || (k && !*k) ? -1 : -2;
                free(k);
                free(val);
                break;
            }
            if (lower_keys)
                for (char *c = k; *c; c++)
                    *c = (char)tolower((unsigned char)*c);
            keys[count] = k;
            vals[count] = val;
            count++;
        }
        p += len;
        if (*p == ',')
            p++;
    }
    if (rc < 0) {
        for (size_t i = 0; i < count; i++) {
            free(keys[i]);
            free(vals[i]);
            keys[i] = vals[i] = NULL;
        }
        return rc;
    }
    return (int)count;
}

/* Endpoint: "http://h:p" plaintext, "https://h:p" TLS, "h:p" decided by
 * _INSECURE (default TLS). A path is ignored (gRPC has none). Returns 0, or
 * -1 when unusable. */
static int parse_endpoint(const char *v, int insecure, char *target,
                          size_t size, int *tls)
{
    const char *rest = v;
    if (strncasecmp(v, "http://", 7) == 0) {
        *tls = 0;
        rest = v + 7;
    } else if (strncasecmp(v, "https://", 8) == 0) {
        *tls = 1;
        rest = v + 8;
    } else if (strstr(v, "://")) {
        return -1; /* another scheme */
    } else {
        *tls = insecure == 1 ? 0 : 1;
    }
    size_t hostlen = strcspn(rest, "/?#");
    if (hostlen == 0 || hostlen + 7 >= size)
        return -1;
    for (size_t i = 0; i < hostlen; i++) {
        unsigned char c = (unsigned char)rest[i];
        if (c <= ' ' || c == '@' || c >= 0x7f)
            return -1;
    }
    memcpy(target, rest, hostlen);
    target[hostlen] = '\0';
    /* No port: the OTLP/gRPC default. An IPv6 literal "[::1]" has colons
     * inside the brackets. */
    const char *colon = strrchr(target, ':');
    const char *bracket = strrchr(target, ']');
    if (!colon || (bracket && bracket > colon))
        strcat(target, ":4317");
    else if (colon[1] == '\0' ||
             strspn(colon + 1, "0123456789") != strlen(colon + 1))
        return -1;
    return 0;
}

static int load_signal(struct env *e, struct rocky_otel_signal_config *s,
                       const char *sig, int64_t dflt_timeout, int *any_endpoint)
{
    char name[96];
    const char *v;

    snprintf(name, sizeof name, "OTEL_%s_EXPORTER", sig);
    s->enabled = 1;
    if ((v = value(e, name))) {
        if (strcasecmp(v, "none") == 0)
            s->enabled = 0;
        else if (strcasecmp(v, "otlp") != 0)
            warn(e, name, v, "is not supported (otlp or none)",
                 "the default otlp");
    }

    /* Protocol: the generic and the signal's variable. */
    snprintf(name, sizeof name, "OTEL_EXPORTER_OTLP_%s_PROTOCOL", sig);
    const char *pname = value(e, name) ? name : "OTEL_EXPORTER_OTLP_PROTOCOL";
    if ((v = value(e, pname)) && strcasecmp(v, "grpc") != 0)
        warn(e, pname, v, "is not supported: this exporter speaks gRPC only",
             "grpc");

    /* Insecure: the signal's variable wins over the generic one. */
    snprintf(name, sizeof name, "OTEL_EXPORTER_OTLP_%s_INSECURE", sig);
    int insecure = get_bool(e, name);
    if (insecure < 0)
        insecure = get_bool(e, "OTEL_EXPORTER_OTLP_INSECURE");

    snprintf(name, sizeof name, "OTEL_EXPORTER_OTLP_%s_ENDPOINT", sig);
    const char *ename = name;
    v = value(e, name);
    if (!v) {
        ename = "OTEL_EXPORTER_OTLP_ENDPOINT";
        v = value(e, ename);
    }
    if (v)
        *any_endpoint = 1;
    if (!v || parse_endpoint(v, insecure, s->target, sizeof s->target,
                             &s->tls) != 0) {
        if (v)
            warn(e, ename, v, "is not a valid http(s)://host:port endpoint",
                 "the default " ROCKY_OTEL_DEFAULT_ENDPOINT);
        parse_endpoint(ROCKY_OTEL_DEFAULT_ENDPOINT, insecure, s->target,
                       sizeof s->target, &s->tls);
    }

    snprintf(name, sizeof name, "OTEL_EXPORTER_OTLP_%s_TIMEOUT", sig);
    s->timeout_ms = dflt_timeout;
    if (!get_int(e, name, 1, 3600000, &s->timeout_ms))
        get_int(e, "OTEL_EXPORTER_OTLP_TIMEOUT", 1, 3600000, &s->timeout_ms);

    snprintf(name, sizeof name, "OTEL_EXPORTER_OTLP_%s_COMPRESSION", sig);
    const char *cname =
        value(e, name) ? name : "OTEL_EXPORTER_OTLP_COMPRESSION";
    if ((v = value(e, cname))) {
        if (strcasecmp(v, "gzip") == 0)
            s->gzip = 1;
        else if (strcasecmp(v, "none") != 0)
            warn(e, cname, v, "is not supported (gzip or none)",
                 "the default none");
    }

    snprintf(name, sizeof name, "OTEL_EXPORTER_OTLP_%s_CERTIFICATE", sig);
    const char *caname =
        value(e, name) ? name : "OTEL_EXPORTER_OTLP_CERTIFICATE";
    if ((v = value(e, caname))) {
        if (strlen(v) < sizeof s->ca_file && access(v, R_OK) == 0)
            strcpy(s->ca_file, v);
        else
            warn(e, caname, v, "is not a readable file",
                 "the system's root certificates");
    }

    snprintf(name, sizeof name, "OTEL_EXPORTER_OTLP_%s_HEADERS", sig);
    const char *hname = value(e, name) ? name : "OTEL_EXPORTER_OTLP_HEADERS";
    if ((v = value(e, hname))) {
        int n = parse_pairs(v, s->header_keys, s->header_values,
                            ROCKY_OTEL_MAX_HEADERS, 1);
        if (n == -2)
            return ROCKY_ENOMEM;
        if (n < 0) /* value never shown: headers carry credentials */
            warn(e, hname, NULL,
                 "is malformed (want key=value pairs separated by commas, "
                 "values percent-encoded)",
                 "no headers");
        else
            s->header_count = (size_t)n;
    }
    return 0;
}

int rocky_otel_config_load(struct rocky_otel_config *cfg,
                           const char *(*get)(const char *name),
                           rocky_otel_warn_fn warnfn, void *warn_ctx)
{
    struct env e;
    memset(&e, 0, sizeof e);
    e.get = get;
    e.warn = warnfn;
    e.warn_ctx = warn_ctx;
    memset(cfg, 0, sizeof *cfg);
    cfg->bsp_max_queue_size = 2048;
    cfg->bsp_max_export_batch = 512;
    cfg->bsp_schedule_delay_ms = 5000;
    cfg->bsp_export_timeout_ms = 30000;
    cfg->metric_export_interval_ms = 60000;
    cfg->metric_export_timeout_ms = 30000;
    cfg->attr_value_length_limit = -1;
    strcpy(cfg->service_name, "rocky");

    int any_endpoint = 0;
    int rc = load_signal(&e, &cfg->traces, "TRACES", 10000, &any_endpoint);
    if (rc == 0)
        rc = load_signal(&e, &cfg->metrics, "METRICS", 10000, &any_endpoint);
    if (rc != 0) {
        rocky_otel_config_free(cfg);
        return rc;
    }

    const char *v;
    if ((v = value(&e, "OTEL_SERVICE_NAME"))) {
        if (strlen(v) < sizeof cfg->service_name) {
            strcpy(cfg->service_name, v);
            cfg->service_name_set = 1;
        } else
            warn(&e, "OTEL_SERVICE_NAME", v, "is too long",
                 "the default rocky");
    }
    if ((v = value(&e, "OTEL_RESOURCE_ATTRIBUTES"))) {
        int n = parse_pairs(v, cfg->resource_keys, cfg->resource_values,
                            ROCKY_OTEL_MAX_RES_ATTRS, 0);
        if (n == -2) {
            rocky_otel_config_free(cfg);
            return ROCKY_ENOMEM;
        }
        if (n < 0)
            warn(&e, "OTEL_RESOURCE_ATTRIBUTES", v,
                 "is malformed (want key=value pairs separated by commas, "
                 "values percent-encoded) and is discarded whole",
                 "no extra resource attributes");
        else
            cfg->resource_attr_count = (size_t)n;
    }

    int64_t n = cfg->bsp_max_queue_size;
    get_int(&e, "OTEL_BSP_MAX_QUEUE_SIZE", 1, 1 << 20, &n);
    cfg->bsp_max_queue_size = (uint32_t)n;
    n = cfg->bsp_max_export_batch;
    if (get_int(&e, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", 1, 1 << 20, &n) &&
        n > cfg->bsp_max_queue_size) {
        char d[64];
        snprintf(d, sizeof d, "the queue size %u", cfg->bsp_max_queue_size);
        warn(&e, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
             value(&e, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE"),
             "exceeds OTEL_BSP_MAX_QUEUE_SIZE", d);
        n = cfg->bsp_max_queue_size;
    }
    if (n > cfg->bsp_max_queue_size) /* the default 512 vs a small queue */
        n = cfg->bsp_max_queue_size;
    cfg->bsp_max_export_batch = (uint32_t)n;
    get_int(&e, "OTEL_BSP_SCHEDULE_DELAY", 0, 3600000,
            &cfg->bsp_schedule_delay_ms);
    get_int(&e, "OTEL_BSP_EXPORT_TIMEOUT", 1, 3600000,
            &cfg->bsp_export_timeout_ms);
    get_int(&e, "OTEL_METRIC_EXPORT_INTERVAL", 1, 86400000,
            &cfg->metric_export_interval_ms);
    get_int(&e, "OTEL_METRIC_EXPORT_TIMEOUT", 1, 3600000,
            &cfg->metric_export_timeout_ms);
    get_int(&e, "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", 0, INT32_MAX,
            &cfg->attr_value_length_limit);

    cfg->exit_timeout_ms = cfg->traces.timeout_ms;
    get_int(&e, "ROCKY_OTEL_EXIT_TIMEOUT_MS", 0, 3600000,
            &cfg->exit_timeout_ms);

    if ((v = value(&e, "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE"))) {
        if (strcasecmp(v, "delta") == 0)
            cfg->temporality = ROCKY_OTEL_DELTA;
        else if (strcasecmp(v, "lowmemory") == 0)
            cfg->temporality = ROCKY_OTEL_LOWMEMORY;
        else if (strcasecmp(v, "cumulative") != 0)
            warn(&e, "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", v,
                 "is not supported (cumulative, delta or lowmemory)",
                 "the default cumulative");
    }

    if (get_bool(&e, "OTEL_SDK_DISABLED") == 1) {
        cfg->inert = 1;
        cfg->inert_reason = "OTEL_SDK_DISABLED=true";
    } else if (!any_endpoint) {
        cfg->inert = 1;
        cfg->inert_reason = "no OTEL_EXPORTER_OTLP_ENDPOINT set";
    } else if (!cfg->traces.enabled && !cfg->metrics.enabled) {
        cfg->inert = 1;
        cfg->inert_reason = "OTEL_TRACES_EXPORTER and OTEL_METRICS_EXPORTER "
                            "are none";
    }
    return 0;
}

static void free_signal(struct rocky_otel_signal_config *s)
{
    for (size_t i = 0; i < s->header_count; i++) {
        free(s->header_keys[i]);
        free(s->header_values[i]);
        s->header_keys[i] = s->header_values[i] = NULL;
    }
    s->header_count = 0;
}

void rocky_otel_config_free(struct rocky_otel_config *cfg)
{
    if (!cfg)
        return;
    free_signal(&cfg->traces);
    free_signal(&cfg->metrics);
    for (size_t i = 0; i < cfg->resource_attr_count; i++) {
        free(cfg->resource_keys[i]);
        free(cfg->resource_values[i]);
        cfg->resource_keys[i] = cfg->resource_values[i] = NULL;
    }
    cfg->resource_attr_count = 0;
}
