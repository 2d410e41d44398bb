/*
 * fuzz_config_env.c — the exporter's configuration comes from whoever
 * starts the runner (the OTEL_* environment) and from rocky.json (an
 * instance's "config"): arbitrary text. Drives rocky_otel_config_load()
 * through its injectable getenv.
 *
 * Input: lines. "NAME=value" sets environment variable NAME, "@key=value"
 * adds an instance config entry; in a value "\n" and "\r" stand for LF and
 * CR (an environment value may hold them; a line cannot). The first line
 * setting a name wins, as in a real environment.
 *
 * Invariants: the load returns 0, or ROCKY_EINVAL only when a config key is
 * unknown; every warning is one line with no control byte; no warning
 * carries a header value (headers are secrets, otel_config.h); the loaded
 * configuration is within its documented bounds; free is idempotent.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "otel_config.h"
#include "rocky/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_VARS 64

static struct {
    char *names[MAX_VARS];
    char *values[MAX_VARS];
    size_t count;
    struct rocky_config_entry config[MAX_VARS];
    size_t config_count;
    char *warnings[64];
    size_t warning_count;
} in;

static const char *fake_getenv(const char *name)
{
    for (size_t i = 0; i < in.count; i++)
        if (strcmp(in.names[i], name) == 0)
            return in.values[i];
    return NULL;
}

static void on_warn(void *ctx, const char *message)
{
    (void)ctx;
    for (const unsigned char *p = (const unsigned char *)message; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            abort(); /* a control byte forges or splits log lines */
    /* Warnings show a value as NAME="value" ...: never a headers source's. */
    static const char *const headers[] = {
        "OTEL_EXPORTER_OTLP_HEADERS=\"", "OTEL_EXPORTER_OTLP_TRACES_HEADERS=\"",
        "OTEL_EXPORTER_OTLP_METRICS_HEADERS=\"", "config key headers=\""};
    for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++)
        if (strncmp(message, headers[i], strlen(headers[i])) == 0)
            abort();
    /* Keep the shown value alone (between =" and the last "), for
     * check_secret: the fixed words of a message are no leak. */
    const char *open = strstr(message, "=\"");
    const char *close = strrchr(message, '"');
    if (open != NULL && close > open + 1 &&
        in.warning_count < sizeof in.warnings / sizeof in.warnings[0])
        in.warnings[in.warning_count++] =
            strndup(open + 2, (size_t)(close - open - 2));
}

/* Unescape \n and \r in place. */
static void unescape(char *s)
{
    char *o = s;
    for (char *p = s; *p; p++) {
        if (p[0] == '\\' && (p[1] == 'n' || p[1] == 'r')) {
            *o++ = p[1] == 'n' ? '\n' : '\r';
            p++;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
}

static int is_header_source(const char *name, int config)
{
    return config
               ? strcmp(name, "headers") == 0
               : strcmp(name, "OTEL_EXPORTER_OTLP_HEADERS") == 0 ||
                     strcmp(name, "OTEL_EXPORTER_OTLP_TRACES_HEADERS") == 0 ||
                     strcmp(name, "OTEL_EXPORTER_OTLP_METRICS_HEADERS") == 0;
}

/* 1 when `secret` also appears in a value that may legitimately be shown
 * (then a warning showing that other value is no leak). */
static int shown_elsewhere(const char *secret)
{
    for (size_t i = 0; i < in.count; i++)
        if (!is_header_source(in.names[i], 0) && strstr(in.values[i], secret))
            return 1;
    for (size_t i = 0; i < in.config_count; i++)
        if (!is_header_source(in.config[i].key, 1) &&
            (strstr(in.config[i].value, secret) ||
             strstr(in.config[i].key, secret)))
            return 1;
    return 0;
}

static void check_secret(const char *secret)
{
    if (strlen(secret) < 6 || shown_elsewhere(secret))
        return;
    for (size_t w = 0; w < in.warning_count; w++)
        if (strstr(in.warnings[w], secret))
            abort(); /* a header value reached a warning */
}

static void check_signal(const struct rocky_otel_signal_config *s)
{
    size_t len = strnlen(s->target, sizeof s->target);
    if (len == sizeof s->target)
        abort();
    /* A refused endpoint turns its signal off; it is never replaced by a
     * default (issue 15): an enabled signal has a target of its own. */
    if (s->enabled && len == 0)
        abort();
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s->target[i] <= ' ')
            abort();
    if (strnlen(s->ca_file, sizeof s->ca_file) == sizeof s->ca_file)
        abort();
    if (s->timeout_ms < 1 || s->header_count > ROCKY_OTEL_MAX_HEADERS)
        abort();
    for (size_t i = 0; i < s->header_count; i++) {
        if (s->header_keys[i][0] == '\0')
            abort();
        for (const char *c = s->header_keys[i]; *c; c++)
            if (isupper((unsigned char)*c))
                abort(); /* gRPC metadata keys are lowercase */
        check_secret(s->header_values[i]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 8192)
        return 0;
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    memset(&in, 0, sizeof in);
    for (char *line = text, *next; line != NULL; line = next) {
        next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        char *eq = strchr(line, '=');
        if (eq == NULL)
            continue;
        *eq = '\0';
        unescape(eq + 1);
        if (line[0] == '@' && in.config_count < MAX_VARS) {
            in.config[in.config_count].key = line + 1;
            in.config[in.config_count].value = eq + 1;
            in.config_count++;
        } else if (line[0] != '@' && in.count < MAX_VARS) {
            in.names[in.count] = line;
            in.values[in.count] = eq + 1;
            in.count++;
        }
    }

    struct rocky_otel_config_source src = {
        .config = in.config_count ? in.config : NULL,
        .config_count = in.config_count,
        .getenv = fake_getenv,
        .warn = on_warn,
    };
    struct rocky_otel_config cfg;
    char err[2048];
    err[0] = '\0';
    int rc = rocky_otel_config_load(&cfg, &src, err, sizeof err);
    if (rc == ROCKY_EINVAL) {
        /* only an unknown config key fails the load, and says so */
        if (strncmp(err, "unknown config key", 18) != 0)
            abort();
        for (const unsigned char *p = (const unsigned char *)err; *p; p++)
            if (*p < 0x20 || *p == 0x7f)
                abort();
    } else if (rc != 0 && rc != ROCKY_ENOMEM) {
        abort();
    }
    if (rc == 0) {
        check_signal(&cfg.traces);
        check_signal(&cfg.metrics);
        if (cfg.resource_attr_count > ROCKY_OTEL_MAX_RES_ATTRS ||
            cfg.bsp_max_export_batch > cfg.bsp_max_queue_size ||
            cfg.bsp_max_export_batch < 1 || cfg.metric_export_interval_ms < 1 ||
            cfg.exit_timeout_ms < 0 ||
            strnlen(cfg.service_name, sizeof cfg.service_name) ==
                sizeof cfg.service_name ||
            strnlen(cfg.inert_reason, sizeof cfg.inert_reason) ==
                sizeof cfg.inert_reason)
            abort();
        for (size_t i = 0; i < cfg.resource_attr_count; i++)
            if (cfg.resource_keys[i] == NULL ||
                cfg.resource_keys[i][0] == '\0' ||
                cfg.resource_values[i] == NULL)
                abort();
        /* the raw header strings themselves, however they parsed */
        for (size_t i = 0; i < in.count; i++)
            if (is_header_source(in.names[i], 0))
                check_secret(in.values[i]);
        for (size_t i = 0; i < in.config_count; i++)
            if (is_header_source(in.config[i].key, 1))
                check_secret(in.config[i].value);
        rocky_otel_config_free(&cfg);
        rocky_otel_config_free(&cfg); /* idempotent */
    }
    for (size_t w = 0; w < in.warning_count; w++)
        free(in.warnings[w]);
    free(text);
    return 0;
}
