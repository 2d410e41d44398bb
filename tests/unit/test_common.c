/*
 * test_common.c — the dependency-free helpers in lib/: error names, ids and
 * traceparent parsing, SHA-256 against the FIPS 180-4 vectors, owned run
 * records.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ids.h"
#include "rocky/error.h"
#include "run_record.h"
#include "sha256.h"

static void test_every_error_code_has_a_distinct_name_and_message(void **s)
{
    int codes[] = {
#define CODE_(name, value, msg) value,
        ROCKY_ERRNO_MAP(CODE_)
#undef CODE_
    };
    size_t n = sizeof codes / sizeof codes[0];
    for (size_t i = 0; i < n; i++) {
        assert_true(codes[i] < 0);
        assert_string_not_equal(rocky_err_name(codes[i]), "UNKNOWN");
        assert_string_not_equal(rocky_strerror(codes[i]), "unknown error");
        for (size_t j = i + 1; j < n; j++) {
            assert_int_not_equal(codes[i], codes[j]);
            assert_string_not_equal(rocky_err_name(codes[i]),
                                    rocky_err_name(codes[j]));
        }
    }
    assert_string_equal(rocky_err_name(ROCKY_EVERSION), "EVERSION");
    assert_string_equal(rocky_strerror(-9999), "unknown error");
    assert_string_equal(rocky_strerror(0), "success");
}

static void test_sha256_matches_fips_vectors(void **s)
{
    char hex[65];
    rocky_sha256_hex("", 0, hex);
    assert_string_equal(
        hex,
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    rocky_sha256_hex("abc", 3, hex);
    assert_string_equal(
        hex,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two_blocks =
        "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    rocky_sha256_hex(two_blocks, strlen(two_blocks), hex);
    assert_string_equal(
        hex,
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    /* Where the padding's length field fits in the last block (55 bytes)
     * and where it needs a block of its own (63, 64); digests from
     * sha256sum. */
    static const struct {
        size_t n;
        const char *hex;
    } edges[] = {
        {55,
         "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
        {63,
         "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"},
        {64,
         "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
    };
    char as[64];
    memset(as, 'a', sizeof as);
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
        rocky_sha256_hex(as, edges[i].n, hex);
        assert_string_equal(hex, edges[i].hex);
    }
    /* One million 'a', fed in uneven pieces through the streaming API. */
    struct rocky_sha256 ctx;
    rocky_sha256_init(&ctx);
    char chunk[997];
    memset(chunk, 'a', sizeof chunk);
    size_t left = 1000000;
    while (left > 0) {
        size_t n = left < sizeof chunk ? left : sizeof chunk;
        rocky_sha256_update(&ctx, chunk, n);
        left -= n;
    }
    uint8_t digest[32];
    rocky_sha256_final(&ctx, digest);
    rocky_hex_encode(digest, 32, hex);
    assert_string_equal(
        hex,
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void test_hex_round_trips_and_rejects_non_hex(void **s)
{
    const uint8_t bytes[4] = {0x00, 0xab, 0x7f, 0xff};
    char hex[9];
    rocky_hex_encode(bytes, 4, hex);
    assert_string_equal(hex, "00ab7fff");
    uint8_t back[4];
    assert_int_equal(rocky_hex_decode("00AB7fff", back, 4), 0);
    assert_memory_equal(back, bytes, 4);
    assert_int_equal(rocky_hex_decode("00ab7fgg", back, 4), ROCKY_EINVAL);
    assert_int_equal(rocky_hex_decode("00ab", back, 4), ROCKY_EINVAL);
}

static void test_random_ids_are_nonzero_and_differ(void **s)
{
    uint8_t a[16], b[16];
    assert_int_equal(rocky_random_id(a, 16), 0);
    assert_int_equal(rocky_random_id(b, 16), 0);
    assert_false(rocky_id_is_zero(a, 16));
    assert_memory_not_equal(a, b, 16);
}

static void test_traceparent_valid_header_parses(void **s)
{
    struct rocky_traceparent tp;
    assert_int_equal(
        rocky_traceparent_parse(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", &tp),
        0);
    char hex[33];
    rocky_hex_encode(tp.trace_id, 16, hex);
    assert_string_equal(hex, "4bf92f3577b34da6a3ce929d0e0e4736");
    rocky_hex_encode(tp.parent_span_id, 8, hex);
    assert_string_equal(hex, "00f067aa0ba902b7");
    assert_int_equal(tp.trace_flags, 1);
    /* A future version may append fields. */
    assert_int_equal(
        rocky_traceparent_parse(
            "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            &tp),
        0);
}

static void test_traceparent_invalid_headers_are_rejected(void **s)
{
    const char *bad[] = {
        "",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e473x-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    };
    struct rocky_traceparent tp;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(rocky_traceparent_parse(bad[i], &tp), ROCKY_EINVAL);
    assert_int_equal(rocky_traceparent_parse(NULL, &tp), ROCKY_EINVAL);
}

static void test_run_record_owns_deep_copies(void **s)
{
    struct rocky_run_record *rec = rocky_run_record_new();
    assert_non_null(rec);
    char run_id[] = "run-1";
    struct rocky_run run = {.struct_size = sizeof run,
                            .run_id = run_id,
                            .project = "p",
                            .trigger = "manual"};
    assert_int_equal(rocky_run_record_set_run(rec, &run), 0);
    run_id[0] = 'X'; /* the caller's buffer changes; the record must not */
    assert_string_equal(rec->run.run_id, "run-1");
    assert_null(rec->run.hostname);

    char dep[] = "stg_orders";
    const char *deps[] = {dep};
    for (int i = 0; i < 100; i++) {
        char name[32];
        snprintf(name, sizeof name, "model_%d", i);
        struct rocky_model_exec m = {.struct_size = sizeof m,
                                     .model_name = name,
                                     .dependencies = deps,
                                     .dependency_count = 1,
                                     .rows_affected = i};
        assert_int_equal(rocky_run_record_add_model(rec, &m), 0);
    }
    dep[0] = 'X';
    assert_int_equal(rec->model_count, 100);
    assert_string_equal(rec->models[99].model_name, "model_99");
    assert_int_equal(rec->models[42].rows_affected, 42);
    assert_string_equal(rec->models[7].dependencies[0], "stg_orders");
    rocky_run_record_free(rec);
    rocky_run_record_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_error_code_has_a_distinct_name_and_message),
        cmocka_unit_test(test_sha256_matches_fips_vectors),
        cmocka_unit_test(test_hex_round_trips_and_rejects_non_hex),
        cmocka_unit_test(test_random_ids_are_nonzero_and_differ),
        cmocka_unit_test(test_traceparent_valid_header_parses),
        cmocka_unit_test(test_traceparent_invalid_headers_are_rejected),
        cmocka_unit_test(test_run_record_owns_deep_copies),
    };
    return cmocka_run_group_tests_name("common", tests, NULL, NULL);
}
