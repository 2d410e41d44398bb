/* Unit tests: OTel environment variables -> struct rocky_otel_config. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "otel_config.h"

static const char *env_table[64][2];
static size_t env_count;
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

static int reset(void **state)
{
    (void)state;
    env_count = 0;
    warn_count = 0;
    return 0;
}

static void load(struct rocky_otel_config *c)
{
    assert_int_equal(rocky_otel_config_load(c, fake_get, fake_warn, NULL), 0);
}

static void test_defaults_without_endpoint_are_inert(void **state)
{
    struct rocky_otel_config c;
    load(&c);
    assert_true(c.inert);
    assert_string_equal(c.traces.target, "localhost:4317");
    assert_false(c.traces.tls);
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
