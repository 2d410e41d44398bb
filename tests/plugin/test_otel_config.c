/* Unit tests: config keys over OTel environment variables -> struct
 * rocky_otel_config. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "otel_config.h"
#include "rocky/error.h"

static const char *env_table[64][2];
static size_t env_count;
static struct rocky_config_entry config[32];
static size_t config_count;
static char warnings[16][512];
static size_t warn_count;

static const char *fake_get(const char *name)
{
    for (size_t i = 0; i < env_count; i++)
        if (strcmp(env_table[i][0], name) == 0)
            return env_table[i][1];
    return NULL;
}

static void fake_warn(void *ctx, const char *msg)
{
    (void)ctx;
    if (warn_count < 16)
        snprintf(warnings[warn_count], sizeof warnings[0], "%s", msg);
    warn_count++;
}

static void set(const char *k, const char *v)
{
    env_table[env_count][0] = k;
    env_table[env_count][1] = v;
    env_count++;
}

/* One entry of the instance's configuration. */
static void key(const char *k, const char *v)
{
    config[config_count].key = k;
    config[config_count].value = v;
    config_count++;
}

static int reset(void **state)
{
    (void)state;
    env_count = 0;
    config_count = 0;
    warn_count = 0;
    return 0;
}

static int load_rc(struct rocky_otel_config *c, char *err, size_t err_size)
{
    struct rocky_otel_config_source src = {.config = config,
                                           .config_count = config_count,
                                           .getenv = fake_get,
                                           .warn = fake_warn};
    return rocky_otel_config_load(c, &src, err, err_size);
}

static void load(struct rocky_otel_config *c)
{
    char err[512] = "";
    int rc = load_rc(c, err, sizeof err);
    if (rc != 0)
        fail_msg("load failed (%d): %s", rc, err);
}

static void test_defaults_without_endpoint_are_inert(void **state)
{
    struct rocky_otel_config c;
    load(&c);
    assert_true(c.inert);
    assert_string_equal(c.traces.target, ""); /* no default to fall back on */
    assert_false(c.traces.enabled);
    assert_int_equal(c.traces.timeout_ms, 10000);
    assert_string_equal(c.service_name, "rocky");
    assert_int_equal(c.bsp_max_queue_size, 2048);
    assert_int_equal(c.bsp_max_export_batch, 512);
    assert_int_equal(c.bsp_schedule_delay_ms, 5000);
    assert_int_equal(c.metric_export_interval_ms, 60000);
    assert_int_equal(c.temporality, ROCKY_OTEL_CUMULATIVE);
    assert_int_equal(c.attr_value_length_limit, -1);
    assert_int_equal(c.exit_timeout_ms, 10000);
    assert_int_equal(warn_count, 0);
    rocky_otel_config_free(&c);
}

static void test_endpoint_scheme_decides_tls(void **state)
{
    struct rocky_otel_config c;
    set("OTEL_EXPORTER_OTLP_ENDPOINT", "https://collector.example:4317/");
    set("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
        "http://metrics:9999/v1/metrics");
    load(&c);
    assert_false(c.inert);
    assert_string_equal(c.traces.target, "collector.example:4317");
    assert_true(c.traces.tls);
    assert_string_equal(c.metrics.target, "metrics:9999");
    assert_false(c.metrics.tls);
    rocky_otel_config_free(&c);
}

static void test_endpoint_without_scheme_is_tls_unless_insecure(void **state)
{
    struct rocky_otel_config c;
    set("OTEL_EXPORTER_OTLP_ENDPOINT", "collector");
    load(&c);
    assert_string_equal(c.traces.target, "collector:4317");
    assert_true(c.traces.tls);
    rocky_otel_config_free(&c);
    set("OTEL_EXPORTER_OTLP_TRACES_INSECURE", "TRUE");
    load(&c);
    assert_false(c.traces.tls);
    assert_true(c.metrics.tls);
    rocky_otel_config_free(&c);
}

static void test_headers_are_percent_decoded_and_keys_lowercased(void **state)
{
    struct rocky_otel_config c;
    set("OTEL_EXPORTER_OTLP_ENDPOINT", "http://h:1");
    set("OTEL_EXPORTER_OTLP_HEADERS", " Api-Key = a%2Cb%3D ,x=y,");
    set("OTEL_EXPORTER_OTLP_METRICS_HEADERS", "only=metrics");
    load(&c);
    assert_int_equal(c.traces.header_count, 2);
    assert_string_equal(c.traces.header_keys[0], "api-key");
    assert_string_equal(c.traces.header_values[0], "a,b=");
    assert_string_equal(c.traces.header_keys[1], "x");
    assert_int_equal(c.metrics.header_count, 1);
    assert_string_equal(c.metrics.header_keys[0], "only");
    assert_int_equal(warn_count, 0);
    rocky_otel_config_free(&c);
}

static void test_malformed_headers_warn_once_without_the_value(void **state)
{
    struct rocky_otel_config c;
    set("OTEL_EXPORTER_OTLP_ENDPOINT", "http://h:1");
    set("OTEL_EXPORTER_OTLP_HEADERS", "token=hunter2,nonsense");
    load(&c);
    assert_int_equal(c.traces.header_count, 0);
    assert_int_equal(c.metrics.header_count, 0);
    assert_int_equal(warn_count, 1);
    assert_non_null(strstr(warnings[0], "OTEL_EXPORTER_OTLP_HEADERS"));
    assert_null(strstr(warnings[0], "hunter2"));
    /* refused, not sent without them */
    assert_false(c.traces.enabled);
    assert_false(c.metrics.enabled);
    assert_non_null(strstr(warnings[0], "traces and metrics are not exported"));
    rocky_otel_config_free(&c);
}

static void test_malformed_resource_attributes_are_discarded_whole(void **state)
{
    struct rocky_otel_config c;
    set("OTEL_RESOURCE_ATTRIBUTES", "a=1,b=%4,c=3");
    load(&c);
    assert_int_equal(c.resource_attr_count, 0);
    assert_int_equal(warn_count, 1);
    assert_non_null(strstr(warnings[0], "discarded whole"));
    rocky_otel_config_free(&c);
    reset(NULL);
    set("OTEL_RESOURCE_ATTRIBUTES", "a=1,b=x%20y");
    load(&c);
    assert_int_equal(c.resource_attr_count, 2);
    assert_string_equal(c.resource_values[1], "x y");
    rocky_otel_config_free(&c);
}

static void test_generic_bad_value_warns_once_for_both_signals(void **state)
{
    struct rocky_otel_config c;
    set("OTEL_EXPORTER_OTLP_ENDPOINT", "http://h:1");
    set("OTEL_EXPORTER_OTLP_TIMEOUT", "abc");
    set("OTEL_EXPORTER_OTLP_INSECURE", "maybe");
    load(&c);
    assert_int_equal(warn_count, 2);
    assert_int_equal(c.traces.timeout_ms, 10000);
    assert_int_equal(c.metrics.timeout_ms, 10000);
    assert_non_null(strstr(warnings[0], "using the default 10000")
                        ? warnings[0]
                        : warnings[1]);
    rocky_otel_config_free(&c);
}

static void test_empty_values_mean_unset(void **state)
{
    struct rocky_otel_config c;
    set("OTEL_EXPORTER_OTLP_ENDPOINT", "");
    set("OTEL_SDK_DISABLED", "");
    set("OTEL_BSP_MAX_QUEUE_SIZE", "");
    load(&c);
    assert_true(c.inert);
    assert_int_equal(c.bsp_max_queue_size, 2048);
    assert_int_equal(warn_count, 0);
    rocky_otel_config_free(&c);
}

static void test_batch_larger_than_queue_is_clamped(void **state)
{
    struct rocky_otel_config c;
    set("OTEL_BSP_MAX_QUEUE_SIZE", "100");
    set("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "500");
    load(&c);
    assert_int_equal(c.bsp_max_export_batch, 100);
    assert_int_equal(warn_count, 1);
    rocky_otel_config_free(&c);
    reset(NULL);
    set("OTEL_BSP_MAX_QUEUE_SIZE", "10"); /* default batch 512 > 10 */
    load(&c);
    assert_int_equal(c.bsp_max_export_batch, 10);
    assert_int_equal(warn_count, 0);
    rocky_otel_config_free(&c);
}

static void test_sdk_disabled_and_exporters_none_are_inert(void **state)
{
    struct rocky_otel_config c;
    set("OTEL_EXPORTER_OTLP_ENDPOINT", "http://h:1");
    set("OTEL_SDK_DISABLED", "True");
    load(&c);
    assert_true(c.inert);
    rocky_otel_config_free(&c);
    reset(NULL);
    set("OTEL_EXPORTER_OTLP_ENDPOINT", "http://h:1");
    set("OTEL_TRACES_EXPORTER", "none");
    load(&c);
    assert_false(c.inert);
    assert_false(c.traces.enabled);
    assert_true(c.metrics.enabled);
    rocky_otel_config_free(&c);
}

static void test_temporality_enum_is_case_insensitive(void **state)
{
    struct rocky_otel_config c;
    set("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "LowMemory");
    load(&c);
    assert_int_equal(c.temporality, ROCKY_OTEL_LOWMEMORY);
    assert_int_equal(warn_count, 0);
    rocky_otel_config_free(&c);
}

static void test_control_bytes_in_a_bad_value_are_not_echoed(void **state)
{
    struct rocky_otel_config c;
    set("OTEL_BSP_SCHEDULE_DELAY", "5\nrocky: error: forged");
    load(&c);
    assert_int_equal(warn_count, 1);
    assert_null(strchr(warnings[0], '\n'));
    rocky_otel_config_free(&c);
}

/* ---- per-instance config keys over the environment ------------------- */

static void test_config_key_beats_its_variable_for_both_signals(void **state)
{
    struct rocky_otel_config c;
    set("OTEL_EXPORTER_OTLP_ENDPOINT", "http://env:1");
    set("OTEL_EXPORTER_OTLP_TIMEOUT", "5000");
    set("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "6000");
    set("OTEL_BSP_MAX_QUEUE_SIZE", "100");
    key("timeout", "2000");
    key("bsp_max_queue_size", "64");
    key("exit_timeout_ms", "750");
    load(&c);
    assert_int_equal(c.traces.timeout_ms, 2000);
    assert_int_equal(c.metrics.timeout_ms, 2000);
    assert_int_equal(c.bsp_max_queue_size, 64);
    assert_int_equal(c.exit_timeout_ms, 750);
    assert_int_equal(warn_count, 0);
    rocky_otel_config_free(&c);
}

static void test_environment_fills_what_the_config_leaves_unset(void **state)
{
    struct rocky_otel_config c;
    set("OTEL_SERVICE_NAME", "from-env");
    set("OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", "7000");
    set("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip");
    key("endpoint", "http://cfg:4317");
    key("service_name", ""); /* empty: unset, as for a variable */
    load(&c);
    assert_false(c.inert);
    assert_string_equal(c.traces.target, "cfg:4317");
    assert_string_equal(c.service_name, "from-env");
    assert_int_equal(c.traces.timeout_ms, 10000);
    assert_int_equal(c.metrics.timeout_ms, 7000);
    assert_true(c.traces.gzip);
    assert_true(c.metrics.gzip);
    /* The exit deadline follows the traces timeout, wherever it came from. */
    assert_int_equal(c.exit_timeout_ms, 10000);
    rocky_otel_config_free(&c);
}

static void test_config_endpoint_beats_per_signal_env_endpoints(void **state)
{
    struct rocky_otel_config c;
    set("OTEL_EXPORTER_OTLP_ENDPOINT", "http://env-generic:1");
    set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://env-traces:2");
    set("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "https://env-metrics:3");
    key("endpoint", "http://cfg:9");
    load(&c);
    assert_string_equal(c.traces.target, "cfg:9");
    assert_string_equal(c.metrics.target, "cfg:9");
    assert_false(c.metrics.tls);
    rocky_otel_config_free(&c);
    /* A per-signal key beats the generic key for its signal only. */
    key("metrics_endpoint", "https://cfg-metrics:10");
    load(&c);
    assert_string_equal(c.traces.target, "cfg:9");
    assert_string_equal(c.metrics.target, "cfg-metrics:10");
    assert_true(c.metrics.tls);
    rocky_otel_config_free(&c);
}

static void test_config_insecure_and_headers_apply_to_both_signals(void **s)
{
    struct rocky_otel_config c;
    set("OTEL_EXPORTER_OTLP_TRACES_INSECURE", "false");
    set("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "from=env");
    key("endpoint", "collector:4317");
    key("insecure", "true");
    key("headers", "api-key=k%2C1");
    load(&c);
    assert_false(c.traces.tls);
    assert_false(c.metrics.tls);
    assert_int_equal(c.traces.header_count, 1);
    assert_string_equal(c.traces.header_keys[0], "api-key");
    assert_string_equal(c.traces.header_values[0], "k,1");
    assert_int_equal(c.metrics.header_count, 1);
    rocky_otel_config_free(&c);
}

static void test_config_disabled_overrides_the_environment_both_ways(void **s)
{
    struct rocky_otel_config c;
    set("OTEL_EXPORTER_OTLP_ENDPOINT", "http://h:1");
    set("OTEL_SDK_DISABLED", "true");
    key("disabled", "false");
    load(&c);
    assert_false(c.inert);
    rocky_otel_config_free(&c);
    reset(NULL);
    set("OTEL_EXPORTER_OTLP_ENDPOINT", "http://h:1");
    key("disabled", "true");
    load(&c);
    assert_true(c.inert);
    assert_non_null(strstr(c.inert_reason, "config key disabled"));
    rocky_otel_config_free(&c);
}

static void test_unknown_config_key_is_refused_naming_it(void **state)
{
    struct rocky_otel_config c;
    key("endpoint", "http://h:1");
    key("bsp_queue_size", "10");
    char err[512] = "";
    assert_int_equal(load_rc(&c, err, sizeof err), ROCKY_EINVAL);
    assert_non_null(strstr(err, "\"bsp_queue_size\""));
    for (size_t i = 0; rocky_otel_config_key(i); i++)
        assert_non_null(strstr(err, rocky_otel_config_key(i)));
    /* A key names its variable's setting exactly: case matters. */
    reset(NULL);
    key("Endpoint", "http://h:1");
    assert_int_equal(load_rc(&c, err, sizeof err), ROCKY_EINVAL);
    assert_non_null(strstr(err, "\"Endpoint\""));
    /* Control bytes in a bad key are not echoed. */
    reset(NULL);
    key("x\nrocky: error: forged", "1");
    assert_int_equal(load_rc(&c, err, sizeof err), ROCKY_EINVAL);
    assert_null(strchr(err, '\n'));
}

static void test_every_key_is_accepted(void **state)
{
    struct rocky_otel_config c;
    size_t n = 0;
    for (; rocky_otel_config_key(n); n++)
        key(rocky_otel_config_key(n), "");
    assert_true(n >= 23);
    load(&c);
    assert_int_equal(warn_count, 0);
    rocky_otel_config_free(&c);
}

static void test_invalid_config_value_warns_naming_the_key(void **state)
{
    struct rocky_otel_config c;
    set("OTEL_EXPORTER_OTLP_ENDPOINT", "http://h:1");
    set("OTEL_EXPORTER_OTLP_TIMEOUT", "abc"); /* shadowed: never read */
    key("timeout", "soon");
    key("headers", "token=hunter2,nonsense");
    key("insecure", "1");
    load(&c);
    assert_int_equal(warn_count, 3); /* once each, not once per signal */
    int timeout = -1, headers = -1, insecure = -1;
    for (size_t i = 0; i < warn_count; i++) {
        assert_null(strstr(warnings[i], "OTEL_"));
        assert_null(strstr(warnings[i], "hunter2"));
        if (strstr(warnings[i], "config key timeout=\"soon\""))
            timeout = (int)i;
        if (strstr(warnings[i], "config key headers"))
            headers = (int)i;
        if (strstr(warnings[i], "config key insecure"))
            insecure = (int)i;
    }
    assert_true(timeout >= 0 && headers >= 0 && insecure >= 0);
    assert_non_null(strstr(warnings[timeout], "using the default 10000"));
    assert_int_equal(c.traces.timeout_ms, 10000);
    assert_int_equal(c.traces.header_count, 0);
    rocky_otel_config_free(&c);
}

static void test_invalid_env_value_still_names_the_variable(void **state)
{
    struct rocky_otel_config c;
    key("endpoint", "http://h:1");
    set("OTEL_BSP_SCHEDULE_DELAY", "soon");
    load(&c);
    assert_int_equal(warn_count, 1);
    assert_non_null(strstr(warnings[0], "OTEL_BSP_SCHEDULE_DELAY=\"soon\""));
    assert_null(strstr(warnings[0], "config key"));
    rocky_otel_config_free(&c);
}

/* ---- refused, never replaced: endpoints and headers ------------------ */

#define CANARY_TOKEN "CANARY-7f3a91c2"
#define CANARY_PW    "CANARYPW"

/* No warning shows a secret, and nothing points at the old fallback. */
static void assert_no_secret_and_no_fallback(const struct rocky_otel_config *c)
{
    for (size_t i = 0; i < warn_count && i < 16; i++) {
        assert_null(strstr(warnings[i], "CANARY"));
        assert_null(strstr(warnings[i], "localhost"));
    }
    assert_null(strstr(c->traces.target, "localhost"));
    assert_null(strstr(c->metrics.target, "localhost"));
}

static void test_endpoint_with_credentials_is_refused_and_redacted(void **s)
{
    struct rocky_otel_config c;
    set("OTEL_EXPORTER_OTLP_ENDPOINT",
        "https://user:" CANARY_PW
        "@collector.example.com:4317/v1?k=" CANARY_PW);
    set("OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer%20" CANARY_TOKEN);
    load(&c);
    assert_false(c.traces.enabled);
    assert_false(c.metrics.enabled);
    assert_true(c.inert); /* nothing left to export: no gRPC at all */
    assert_int_equal(warn_count, 1);
    assert_non_null(strstr(warnings[0],
                           "OTEL_EXPORTER_OTLP_ENDPOINT=\"https://"
                           "***@collector.example.com:4317/...\""));
    assert_non_null(strstr(warnings[0], "credentials"));
    assert_non_null(
        strstr(warnings[0], "put them in OTEL_EXPORTER_OTLP_HEADERS"));
    assert_non_null(strstr(warnings[0], "traces and metrics are not exported"));
    assert_null(strstr(warnings[0], "//user"));
    assert_no_secret_and_no_fallback(&c);
    rocky_otel_config_free(&c);
}

static void test_config_endpoint_with_credentials_names_the_key(void **s)
{
    struct rocky_otel_config c;
    key("endpoint", "http://u:" CANARY_PW "@h:1");
    load(&c);
    assert_true(c.inert);
    assert_int_equal(warn_count, 1);
    assert_non_null(
        strstr(warnings[0], "config key endpoint=\"http://***@h:1\""));
    assert_non_null(strstr(warnings[0], "put them in config key headers"));
    assert_null(strstr(warnings[0], "OTEL_"));
    assert_no_secret_and_no_fallback(&c);
    rocky_otel_config_free(&c);
}

static void test_unusable_endpoints_are_refused_never_defaulted(void **s)
{
    static const char *const bad[] = {
        "http://127.0.0.1:99999",
        "http://h:0",
        "http://h:65536",
        "http://h:",
        "http://h:x",
        "http://h:+1",
        "http://h:-1",
        "http://h:000004317",
        "https://:4317",
        "https://",
        "ftp://h:21",
        "grpc://h:4317",
        "dns:///h:4317",
        "http://h:4317?x=1",
        "http://h:4317#f",
        "http://a b:1",
        "http://h%41:1",
        "http://[::1:4317",
        "http://[]:4317",
        "http://[::1]x",
        "::1:4317",
        "http://h:1:2",
        "http://\xc3\xa9:1",
        "user@h:1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct rocky_otel_config c;
        reset(NULL);
        set("OTEL_EXPORTER_OTLP_ENDPOINT", bad[i]);
        load(&c);
        if (c.traces.enabled || c.metrics.enabled || !c.inert ||
            warn_count != 1)
            fail_msg("\"%s\" was not refused (traces %d, metrics %d, "
                     "target %s, %zu warnings)",
                     bad[i], c.traces.enabled, c.metrics.enabled,
                     c.traces.target, warn_count);
        assert_non_null(strstr(warnings[0], "OTEL_EXPORTER_OTLP_ENDPOINT="));
        assert_non_null(strstr(warnings[0], "is refused: it "));
        assert_non_null(strstr(warnings[0], "not exported"));
        assert_no_secret_and_no_fallback(&c);
        rocky_otel_config_free(&c);
    }
}

static void test_usable_endpoints_parse_to_host_and_port(void **s)
{
    static const char *const good[][3] = {
        /* value, target, tls */
        {"http://[::1]:4318", "[::1]:4318", "0"},
        {"https://h", "h:4317", "1"},
        {"HTTP://Host.Example:65535/v1/traces", "Host.Example:65535", "0"},
        {"h_1.example-x:1", "h_1.example-x:1", "1"},
        {"https://10.0.0.1:1/", "10.0.0.1:1", "1"},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char target[64];
        int tls = -1;
        const char *why = "unset";
        int rc = rocky_otel_endpoint_parse(good[i][0], -1, target,
                                           sizeof target, &tls, &why);
        if (rc != 0)
            fail_msg("\"%s\" refused: %s", good[i][0], why);
        assert_null(why);
        assert_string_equal(target, good[i][1]);
        assert_int_equal(tls, good[i][2][0] - '0');
    }
    char tiny[8];
    int tls;
    assert_int_equal(rocky_otel_endpoint_parse("http://longhost:1", -1, tiny,
                                               sizeof tiny, &tls, NULL),
                     ROCKY_EINVAL);
}

static void test_redaction_hides_userinfo_and_what_follows_the_host(void **s)
{
    char out[128];
    rocky_otel_endpoint_redact("https://u:p@h:1/x?t=" CANARY_PW, out,
                               sizeof out);
    assert_string_equal(out, "https://***@h:1/...");
    rocky_otel_endpoint_redact("u:" CANARY_PW "@h", out, sizeof out);
    assert_string_equal(out, "***@h");
    /* a password with '/', '?', '@' or '#' in it: all up to the last '@' */
    rocky_otel_endpoint_redact("http://u:" CANARY_PW "/?#@x@h:2", out,
                               sizeof out);
    assert_string_equal(out, "http://***@h:2");
    rocky_otel_endpoint_redact("http://h\n:1\xc3\xa9", out, sizeof out);
    assert_string_equal(out, "http://h?:1??");
    rocky_otel_endpoint_redact("http://h:4317", out, 8);
    assert_int_equal(strlen(out), 7);
}

static void test_a_bad_per_signal_endpoint_turns_off_only_its_signal(void **s)
{
    struct rocky_otel_config c;
    set("OTEL_EXPORTER_OTLP_ENDPOINT", "http://good:1");
    set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://bad:99999");
    load(&c);
    assert_false(c.inert);
    assert_false(c.traces.enabled);
    assert_true(c.metrics.enabled);
    assert_string_equal(c.metrics.target, "good:1");
    assert_int_equal(warn_count, 1);
    assert_non_null(strstr(warnings[0], "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"));
    assert_non_null(strstr(warnings[0], "; traces are not exported"));
    rocky_otel_config_free(&c);
}

/* The spec's default localhost:4317 would hand the headers meant for the
 * traces collector to whoever listens there: a signal nobody pointed
 * anywhere is not exported, said once. */
static void test_a_signal_without_an_endpoint_is_off_not_localhost(void **s)
{
    struct rocky_otel_config c;
    set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://traces:1");
    set("OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer%20" CANARY_TOKEN);
    load(&c);
    assert_false(c.inert);
    assert_true(c.traces.enabled);
    assert_string_equal(c.traces.target, "traces:1");
    assert_false(c.metrics.enabled);
    assert_string_equal(c.metrics.target, "");
    assert_int_equal(warn_count, 1);
    assert_non_null(strstr(warnings[0], "metrics are not exported"));
    assert_non_null(strstr(warnings[0], "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"));
    assert_null(strstr(warnings[0], CANARY_TOKEN));
    rocky_otel_config_free(&c);
}

/* Over TLS an unreadable CA file refuses the signal (the system's roots
 * would trust servers the user did not); over plaintext it is unused. */
static void test_unreadable_ca_file_refuses_tls_only(void **s)
{
    struct rocky_otel_config c;
    set("OTEL_EXPORTER_OTLP_ENDPOINT", "https://collector:4317");
    set("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "http://metrics:4317");
    set("OTEL_EXPORTER_OTLP_CERTIFICATE", "/nonexistent/ca.pem");
    load(&c);
    assert_false(c.traces.enabled);
    assert_true(c.metrics.enabled);
    assert_int_equal(warn_count, 2);
    /* Plaintext metrics warn as they load; the refusal is said after. */
    assert_non_null(strstr(warnings[0], "no CA file"));
    assert_non_null(strstr(warnings[1], "is not a readable file"));
    assert_non_null(strstr(warnings[1], "; traces are not exported"));
    rocky_otel_config_free(&c);
}

static void test_illegal_header_values_refuse_naming_only_the_key(void **s)
{
    static const char *const bad[] = {
        "Bearer%09" CANARY_TOKEN,        "Bearer%0D%0A" CANARY_TOKEN,
        "Bearer%0A" CANARY_TOKEN,        "Bearer%C3%A9" CANARY_TOKEN,
        "Bearer%7F" CANARY_TOKEN,        "Bearer\t" CANARY_TOKEN,
        "Bearer%1B]0;x%07" CANARY_TOKEN,
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct rocky_otel_config c;
        char headers[128];
        reset(NULL);
        snprintf(headers, sizeof headers, "x-ok=1,Authorization=%s", bad[i]);
        set("OTEL_EXPORTER_OTLP_ENDPOINT", "http://h:1");
        set("OTEL_EXPORTER_OTLP_HEADERS", headers);
        load(&c);
        if (c.traces.enabled || c.metrics.enabled || warn_count != 1)
            fail_msg("header value #%zu was not refused", i);
        assert_true(c.inert);
        assert_non_null(strstr(warnings[0], "OTEL_EXPORTER_OTLP_HEADERS: "
                                            "header \"authorization\""));
        assert_non_null(strstr(warnings[0], "printable ASCII"));
        assert_non_null(
            strstr(warnings[0], "traces and metrics are not exported"));
        assert_null(strstr(warnings[0], "Bearer"));
        assert_no_secret_and_no_fallback(&c);
        rocky_otel_config_free(&c);
    }
}

static void test_illegal_header_keys_and_encoded_nul_are_refused(void **s)
{
    static const char *const bad[] = {
        "bad key=" CANARY_TOKEN, "grpc-timeout=" CANARY_TOKEN,
        "k%01=" CANARY_TOKEN,    "k%C3%A9=" CANARY_TOKEN,
        "k:x=" CANARY_TOKEN,     "token=" CANARY_TOKEN "%00rest",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct rocky_otel_config c;
        reset(NULL);
        key("endpoint", "http://h:1");
        key("headers", bad[i]);
        load(&c);
        if (c.traces.enabled || c.metrics.enabled || warn_count != 1)
            fail_msg("header list #%zu was not refused", i);
        assert_non_null(strstr(warnings[0], "config key headers"));
        assert_null(strchr(warnings[0], '\x01'));
        assert_no_secret_and_no_fallback(&c);
        rocky_otel_config_free(&c);
    }
}

static void test_legal_headers_pass_as_grpc_would_take_them(void **s)
{
    const char *why = "unset";
    assert_true(rocky_otel_header_is_legal("authorization",
                                           "Bearer abc ~!\"#$%&'()*", &why));
    assert_null(why);
    assert_true(rocky_otel_header_is_legal("x-key_1.v", "", NULL));
    /* "-bin" values are bytes: gRPC base64-encodes them */
    assert_true(rocky_otel_header_is_legal("trace-bin", "\x01\xff\t", NULL));
    assert_false(rocky_otel_header_is_legal("Upper", "v", NULL));
    assert_false(rocky_otel_header_is_legal("", "v", NULL));
    assert_false(rocky_otel_header_is_legal("k", "\x7f", &why));
    assert_non_null(why);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_defaults_without_endpoint_are_inert, reset),
        cmocka_unit_test_setup(test_endpoint_scheme_decides_tls, reset),
        cmocka_unit_test_setup(
            test_endpoint_without_scheme_is_tls_unless_insecure, reset),
        cmocka_unit_test_setup(
            test_headers_are_percent_decoded_and_keys_lowercased, reset),
        cmocka_unit_test_setup(
            test_malformed_headers_warn_once_without_the_value, reset),
        cmocka_unit_test_setup(
            test_malformed_resource_attributes_are_discarded_whole, reset),
        cmocka_unit_test_setup(
            test_generic_bad_value_warns_once_for_both_signals, reset),
        cmocka_unit_test_setup(test_empty_values_mean_unset, reset),
        cmocka_unit_test_setup(test_batch_larger_than_queue_is_clamped, reset),
        cmocka_unit_test_setup(test_sdk_disabled_and_exporters_none_are_inert,
                               reset),
        cmocka_unit_test_setup(test_temporality_enum_is_case_insensitive,
                               reset),
        cmocka_unit_test_setup(test_control_bytes_in_a_bad_value_are_not_echoed,
                               reset),
        cmocka_unit_test_setup(
            test_config_key_beats_its_variable_for_both_signals, reset),
        cmocka_unit_test_setup(
            test_environment_fills_what_the_config_leaves_unset, reset),
        cmocka_unit_test_setup(
            test_config_endpoint_beats_per_signal_env_endpoints, reset),
        cmocka_unit_test_setup(
            test_config_insecure_and_headers_apply_to_both_signals, reset),
        cmocka_unit_test_setup(
            test_config_disabled_overrides_the_environment_both_ways, reset),
        cmocka_unit_test_setup(test_unknown_config_key_is_refused_naming_it,
                               reset),
        cmocka_unit_test_setup(test_every_key_is_accepted, reset),
        cmocka_unit_test_setup(test_invalid_config_value_warns_naming_the_key,
                               reset),
        cmocka_unit_test_setup(test_invalid_env_value_still_names_the_variable,
                               reset),
        cmocka_unit_test_setup(
            test_endpoint_with_credentials_is_refused_and_redacted, reset),
        cmocka_unit_test_setup(
            test_config_endpoint_with_credentials_names_the_key, reset),
        cmocka_unit_test_setup(
            test_unusable_endpoints_are_refused_never_defaulted, reset),
        cmocka_unit_test_setup(test_usable_endpoints_parse_to_host_and_port,
                               reset),
        cmocka_unit_test_setup(
            test_redaction_hides_userinfo_and_what_follows_the_host, reset),
        cmocka_unit_test_setup(
            test_a_bad_per_signal_endpoint_turns_off_only_its_signal, reset),
        cmocka_unit_test_setup(
            test_a_signal_without_an_endpoint_is_off_not_localhost, reset),
        cmocka_unit_test_setup(test_unreadable_ca_file_refuses_tls_only, reset),
        cmocka_unit_test_setup(
            test_illegal_header_values_refuse_naming_only_the_key, reset),
        cmocka_unit_test_setup(
            test_illegal_header_keys_and_encoded_nul_are_refused, reset),
        cmocka_unit_test_setup(test_legal_headers_pass_as_grpc_would_take_them,
                               reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
