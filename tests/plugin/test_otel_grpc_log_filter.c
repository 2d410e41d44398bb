/* Unit tests: what of gRPC core's log lines reaches the host
 * (plugin/otel/grpc_log_filter.h). The lines are the ones gRPC 1.51
 * printed before the filter existed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "grpc_log_filter.h"

#define CANARY "Bearer CANARY-7f3a91c2"

static char out[512];

static int filter(const char *file, int line, const char *message)
{
    return rocky_otel_grpc_log_filter(file, line, message, out, sizeof out);
}

static int setup(void **state)
{
    (void)state;
    rocky_otel_grpc_log_filter_reset();
    return rocky_otel_secret_add(CANARY);
}

static int teardown(void **state)
{
    (void)state;
    rocky_otel_secret_remove(CANARY);
    return 0;
}

static void test_a_line_holding_a_header_value_is_withheld_once(void **s)
{
    assert_true(filter("chttp2_transport.cc", 10,
                       "stream closed: auth " CANARY " rejected"));
    assert_null(strstr(out, "CANARY"));
    assert_non_null(strstr(out, "withheld"));
    /* the second such line: nothing at all */
    assert_false(filter("chttp2_transport.cc", 11, "again " CANARY));
    assert_false(filter("chttp2_transport.cc", 12, "again " CANARY));
}

static void test_hex_dumps_and_pieces_of_a_value_are_withheld(void **s)
{
    static const char *const lines[] = {
        /* gRPC's raw_bytes form, as printed for a value with a tab */
        "x {raw_bytes:\"42 65 61 72 65 72 20 43 41 4e 41 52 59 2d\"}",
        "x 4265617265722043414E4152592D3766 y", /* contiguous, upper case */
        "cut quote: 'CANARY-7f3a9...'",         /* an 8-byte piece      */
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        assert_true(rocky_otel_secret_in(lines[i]));
        rocky_otel_grpc_log_filter_reset();
        int fwd = filter("x.cc", (int)i, lines[i]);
        if (fwd && strstr(out, "CANARY"))
            fail_msg("line %zu forwarded: %s", i, out);
        if (fwd)
            assert_non_null(strstr(out, "withheld"));
    }
    assert_false(rocky_otel_secret_in("a line without it: Bearer xyz"));
}

static void
test_metadata_lines_are_withheld_even_without_a_known_value(void **s)
{
    /* gRPC 1.51, validate_metadata.cc, for a header the config let through */
    const char *line = "validate_metadata: UNKNOWN:Illegal header value "
                       "{raw_bytes:\"41 42 09 43\", offset:2}";
    assert_true(
        filter("./src/core/lib/surface/validate_metadata.cc", 46, line));
    assert_null(strstr(out, "41 42"));
    assert_non_null(strstr(out, "metadata was withheld"));
    assert_false(filter("validate_metadata.cc", 46, line));
    assert_false(filter("x.cc", 1, "Invalid header"));
}

static void test_tls_handshake_lines_are_left_to_the_exporter(void **s)
{
    /* one per connection attempt: eight in a 1.5 s export before */
    for (int i = 0; i < 8; i++)
        assert_false(filter("ssl_transport_security.cc", 1501,
                            "Handshake failed with fatal error SSL_ERROR_SSL: "
                            "error:0A00010B:SSL routines::wrong version "
                            "number."));
    assert_false(filter("security_handshaker.cc", 1,
                        "Security handshake "
                        "failed: x"));
}

static void test_a_site_is_said_once_cleaned_and_cut(void **s)
{
    char longline[1000];
    memset(longline, 'a', sizeof longline - 1);
    longline[sizeof longline - 1] = '\0';
    longline[3] = '\n';
    longline[4] = '\x1b';
    longline[5] = (char)0xc2;
    assert_true(filter("a.cc", 1, longline));
    assert_int_equal(strncmp(out, "grpc: aaa???aa", 14), 0);
    assert_true(strlen(out) <= ROCKY_OTEL_GRPC_LINE_MAX + 6);
    assert_non_null(strstr(out, "..."));
    assert_false(filter("./other/dir/a.cc", 1, "the same site again"));
    assert_true(filter("a.cc", 2, "another site"));
    assert_string_equal(out, "grpc: another site");
}

static void test_at_most_a_few_lines_then_one_saying_so(void **s)
{
    int forwarded = 0;
    char last[sizeof out] = "";
    for (int i = 0; i < 100; i++)
        if (filter("many.cc", i, "a distinct complaint")) {
            forwarded++;
            memcpy(last, out, sizeof last);
        }
    assert_int_equal(forwarded, ROCKY_OTEL_GRPC_LINES_MAX + 1);
    assert_non_null(strstr(last, "suppressed"));
}

static void test_short_values_are_not_secrets_and_removal_counts(void **s)
{
    assert_int_equal(rocky_otel_secret_add("abc"), 0);
    assert_false(rocky_otel_secret_in("abc"));
    assert_int_equal(rocky_otel_secret_add("tenant-acme"), 0);
    assert_int_equal(rocky_otel_secret_add("tenant-acme"), 0);
    rocky_otel_secret_remove("tenant-acme");
    assert_true(rocky_otel_secret_in("x tenant-acme"));
    rocky_otel_secret_remove("tenant-acme");
    assert_false(rocky_otel_secret_in("x tenant-acme"));
}

/* Last: a full registry withholds every line for the rest of the process. */
static void test_a_full_registry_withholds_everything(void **s)
{
    char v[32];
    int rc = 0;
    for (int i = 0; i < ROCKY_OTEL_SECRETS_MAX + 1 && rc == 0; i++) {
        snprintf(v, sizeof v, "secret-%03d", i);
        rc = rocky_otel_secret_add(v);
    }
    assert_int_not_equal(rc, 0);
    assert_true(filter("z.cc", 1, "harmless"));
    assert_non_null(strstr(out, "withheld"));
    assert_false(filter("z.cc", 2, "harmless too"));
    for (int i = 0; i < ROCKY_OTEL_SECRETS_MAX; i++) {
        snprintf(v, sizeof v, "secret-%03d", i);
        rocky_otel_secret_remove(v);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_a_line_holding_a_header_value_is_withheld_once, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_hex_dumps_and_pieces_of_a_value_are_withheld, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_metadata_lines_are_withheld_even_without_a_known_value, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_tls_handshake_lines_are_left_to_the_exporter, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_a_site_is_said_once_cleaned_and_cut, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_at_most_a_few_lines_then_one_saying_so, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_short_values_are_not_secrets_and_removal_counts, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_a_full_registry_withholds_everything, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
