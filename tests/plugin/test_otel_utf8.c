/* Unit tests: UTF-8 repair and character-counted truncation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "utf8.h"

static void check(const char *in, const char *want)
{
    char out[64];
    size_t n = rocky_otel_utf8_sanitize(in, strlen(in), out, sizeof out);
    assert_string_equal(out, want);
    assert_int_equal(n, strlen(want));
}

static void test_valid_text_passes_unchanged(void **state)
{
    check("model_001", "model_001");
    check("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80",
          "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
}

static void test_invalid_bytes_become_replacement_characters(void **state)
{
    check("a\xFF"
          "b",
          "a\xEF\xBF\xBD"
          "b");
    check("\xC0\xAF", "\xEF\xBF\xBD\xEF\xBF\xBD"); /* overlong */
    check("\xED\xA0\x80",
          "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"); /* surrogate */
    check("\xF4\x90\x80\x80x",
          "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBDx");
    check("end\xE2\x82", "end\xEF\xBF\xBD\xEF\xBF\xBD"); /* truncated */
}

static void test_small_output_never_splits_a_character(void **state)
{
    char out[5];
    rocky_otel_utf8_sanitize("ab\xE2\x82\xAC", 5, out, sizeof out);
    assert_string_equal(out, "ab"); /* the euro sign needs 3 more bytes + NUL */
    rocky_otel_utf8_sanitize(NULL, 0, out, sizeof out);
    assert_string_equal(out, "");
}

static void test_input_length_bounds_reading(void **state)
{
    char out[16];
    rocky_otel_utf8_sanitize("abcdef", 3, out, sizeof out);
    assert_string_equal(out, "abc");
}

static void test_prefix_counts_characters_not_bytes(void **state)
{
    const char *s = "\xC3\xA9\xC3\xA9x";
    assert_int_equal(rocky_otel_utf8_prefix(s, strlen(s), 1), 2);
    assert_int_equal(rocky_otel_utf8_prefix(s, strlen(s), 2), 4);
    assert_int_equal(rocky_otel_utf8_prefix(s, strlen(s), 10), 5);
    assert_int_equal(rocky_otel_utf8_prefix(s, strlen(s), 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_text_passes_unchanged),
        cmocka_unit_test(test_invalid_bytes_become_replacement_characters),
        cmocka_unit_test(test_small_output_never_splits_a_character),
        cmocka_unit_test(test_input_length_bounds_reading),
        cmocka_unit_test(test_prefix_counts_characters_not_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
