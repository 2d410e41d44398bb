/* Unit tests: UTF-8 repair and character-counted truncation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"
#include "utf8_decode.h"

/* The byte-at-a-time implementation sanitize had before its ASCII fast
 * path, kept as the reference the fast one must match byte for byte. */
static size_t reference_sanitize(const char *in, size_t in_len, char *out,
                                 size_t out_size)
{
    static const char repl[] = "\xEF\xBF\xBD";
    size_t o = 0;
    if (out_size == 0)
        return 0;
    if (!in) {
        out[0] = '\0';
        return 0;
    }
    const unsigned char *s = (const unsigned char *)in;
    size_t i = 0;
    while (i < in_len && s[i]) {
        if (s[i] < 0x80) {
            if (o + 1 >= out_size)
                break;
            out[o++] = (char)s[i++];
            continue;
        }
        size_t avail = in_len - i;
        const unsigned char *nul = memchr(s + i, 0, avail < 4 ? avail : 4);
        if (nul)
            avail = (size_t)(nul - (s + i));
        uint32_t cp;
        size_t n = rocky_utf8_decode((const char *)s + i, avail, &cp);
        if (n == 0) {
            if (o + 3 >= out_size)
                break;
            memcpy(out + o, repl, 3);
            o += 3;
            i++;
        } else {
            if (o + n >= out_size)
                break;
            memcpy(out + o, s + i, n);
            o += n;
            i += n;
        }
    }
    out[o] = '\0';
    return o;
}

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

/* Both implementations on `in` (exactly `in_len` readable bytes: a heap
 * copy, so ASan sees any read past them) for every out_size up to `max`. */
static void compare_all_sizes(const unsigned char *in, size_t in_len,
                              size_t max)
{
    char *copy = malloc(in_len ? in_len : 1);
    assert_non_null(copy);
    memcpy(copy, in, in_len);
    for (size_t size = 0; size <= max; size++) {
        char want[600], got[600];
        memset(want, 'W', sizeof want);
        memset(got, 'W', sizeof got);
        size_t nw = reference_sanitize(copy, in_len, want, size);
        size_t ng = rocky_otel_utf8_sanitize(copy, in_len, got, size);
        if (nw != ng || memcmp(want, got, size) != 0) {
            fprintf(stderr, "mismatch: in_len %zu out_size %zu: %zu vs %zu\n",
                    in_len, size, nw, ng);
            fail();
        }
    }
    free(copy);
}

/* Bytes chosen to hit every branch: ASCII, NUL, continuation bytes, every
 * lead byte class, the overlong/surrogate/too-large edges. */
static const unsigned char interesting[] = {
    'a',  'Z',  '0',  0x00, 0x7F, 0x80, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF,
    0xE0, 0xA0, 0xED, 0x9F, 0xEF, 0xF0, 0x90, 0xF4, 0x8F, 0xF5, 0xFF};

static void test_fast_path_matches_reference_on_random_input(void **state)
{
    unsigned seed = 12345;
    unsigned char buf[300];
    for (int round = 0; round < 3000; round++) {
        size_t len = (size_t)(rand_r(&seed) % sizeof buf);
        int mode = round % 4;
        for (size_t i = 0; i < len; i++) {
            unsigned r = (unsigned)rand_r(&seed);
            if (mode == 0) /* any byte */
                buf[i] = (unsigned char)r;
            else if (mode == 1) /* mostly ASCII, now and then a hard byte */
                buf[i] = r % 16 ? (unsigned char)('a' + r % 26)
                                : interesting[r % sizeof interesting];
            else if (mode == 2) /* only the hard bytes */
                buf[i] = interesting[r % sizeof interesting];
            else /* valid multi-byte text mixed with ASCII */
                buf[i] = (unsigned char)"ab\xC3\xA9\xE2\x82\xAC"
                                        "\xF0\x9F\x98\x80"[r % 11];
        }
        /* Every output size near the interesting edges, and a few large. */
        compare_all_sizes(buf, len, round % 50 ? 40 : 520);
    }
}

static void test_fast_path_matches_reference_at_word_boundaries(void **state)
{
    /* A single non-ASCII byte or NUL at every position of 0..24 ASCII
     * bytes: the 8-byte scan's edges. */
    for (size_t len = 0; len <= 24; len++) {
        for (size_t at = 0; at <= len; at++) {
            for (size_t k = 0; k < sizeof interesting; k++) {
                unsigned char buf[32];
                memset(buf, 'x', sizeof buf);
                if (at < len)
                    buf[at] = interesting[k];
                compare_all_sizes(buf, len, 30);
            }
        }
    }
    /* A 4-byte character across every truncation point. */
    unsigned char emoji[20];
    memset(emoji, 'y', sizeof emoji);
    for (size_t at = 0; at + 4 <= sizeof emoji; at++) {
        unsigned char b[20];
        memcpy(b, emoji, sizeof b);
        memcpy(b + at, "\xF0\x9F\x98\x80", 4);
        for (size_t len = 0; len <= sizeof b; len++)
            compare_all_sizes(b, len, 24);
    }
}

static void test_ascii_len_stops_at_the_first_high_byte(void **state)
{
    char s[40];
    memset(s, 'a', sizeof s);
    assert_int_equal(rocky_otel_utf8_ascii_len(s, sizeof s), sizeof s);
    for (size_t at = 0; at < sizeof s; at++) {
        s[at] = (char)0x80;
        assert_int_equal(rocky_otel_utf8_ascii_len(s, sizeof s), at);
        assert_int_equal(rocky_otel_utf8_ascii_len(s, at), at);
        s[at] = 'a';
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_text_passes_unchanged),
        cmocka_unit_test(test_invalid_bytes_become_replacement_characters),
        cmocka_unit_test(test_small_output_never_splits_a_character),
        cmocka_unit_test(test_input_length_bounds_reading),
        cmocka_unit_test(test_prefix_counts_characters_not_bytes),
        cmocka_unit_test(test_fast_path_matches_reference_on_random_input),
        cmocka_unit_test(test_fast_path_matches_reference_at_word_boundaries),
        cmocka_unit_test(test_ascii_len_stops_at_the_first_high_byte),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
