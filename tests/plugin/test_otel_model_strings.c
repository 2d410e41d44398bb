/* Unit tests: every way of measuring a model's strings (plain C, SSE2,
 * AVX2 where the CPU has it) gives the name's length, accepts exactly the
 * names under 128 bytes and the 64-digit lowercase hex hashes, gives the
 * hash's bytes, and never reads where it may not: strings end right before
 * a page that cannot be read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "model_strings.h"

static const char digits[] = "0123456789abcdef";

/* What a conversion must answer: 0, the name's length and the bytes, or
 * -1. */
static int reference(const char *name, const char *s, uint32_t *name_len,
                     uint8_t *out)
{
    *name_len = (uint32_t)strnlen(name, 128);
    size_t n = strlen(s);
    if (*name_len >= 128 || n != 64)
        return -1;
    for (size_t i = 0; i < 64; i++) {
        const char *d = memchr(digits, s[i], 16);
        if (!d || !s[i])
            return -1;
        int v = (int)(d - digits);
        out[i / 2] = (uint8_t)(i % 2 ? out[i / 2] | v : v << 4);
    }
    return 0;
}

/* Each available way gives the reference's answer for (name, s); the
 * name's length whenever it is under 128. */
static void check_both(const char *name, const char *s)
{
    uint8_t want[32], got[32];
    uint32_t want_len, got_len;
    int rc = reference(name, s, &want_len, want);
    for (int i = 0; i <= ROCKY_OTEL_MODEL_STRINGS_IMPLS; i++) {
        /* the last round: the one this CPU runs */
        rocky_otel_model_strings_fn fn =
            i < ROCKY_OTEL_MODEL_STRINGS_IMPLS
                ? rocky_otel_model_strings_impl_at(i)
                : rocky_otel_model_strings_impl;
        if (!fn)
            continue;
        memset(got, 0x5c, sizeof got);
        got_len = 999;
        if (fn(name, s, &got_len, got) != rc) {
            fprintf(stderr, "way %d on \"%s\", \"%s\": not %d\n", i, name, s,
                    rc);
            fail();
        }
        if (want_len < 128)
            assert_int_equal(got_len, want_len);
        if (rc == 0)
            assert_memory_equal(got, want, 32);
    }
}

static void check(const char *s)
{
    check_both("analytics.daily_orders", s);
}

static void random_hash(unsigned *seed, char *s)
{
    for (int i = 0; i < 64; i++)
        s[i] = digits[rand_r(seed) % 16];
    s[64] = '\0';
}

static void test_lowercase_sha256_converts(void **state)
{
    (void)state;
    assert_non_null(rocky_otel_model_strings_impl_at(0));
    check("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
    check("0000000000000000000000000000000000000000000000000000000000000000");
    check("ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff");
    unsigned seed = 7;
    char s[65];
    for (int k = 0; k < 2000; k++) {
        random_hash(&seed, s);
        check(s);
    }
}

/* Every byte value at every position: only the 16 digits pass. */
static void test_any_other_byte_anywhere_is_refused(void **state)
{
    (void)state;
    char s[65];
    unsigned seed = 11;
    random_hash(&seed, s);
    for (int pos = 0; pos < 64; pos++) {
        char keep = s[pos];
        for (int c = 1; c < 256; c++) {
            s[pos] = (char)c;
            check(s);
        }
        s[pos] = '\0'; /* a shorter string */
        check(s);
        s[pos] = keep;
    }
}

static void test_wrong_lengths_and_case_are_refused(void **state)
{
    (void)state;
    char s[80];
    unsigned seed = 3;
    random_hash(&seed, s);
    for (int n = 0; n <= 70; n++) {
        char t[80];
        for (int i = 0; i < n; i++)
            t[i] = digits[i % 16];
        t[n] = '\0';
        check(t);
    }
    memcpy(s, "ABCDEF", 6); /* uppercase is not what we write back */
    check(s);
}

/* Strings that end right before an unreadable page, at every offset:
 * whatever their length, no conversion reads past the page. */
static void test_strings_at_a_page_end_are_read_safely(void **state)
{
    (void)state;
    long page = sysconf(_SC_PAGESIZE);
    char *map = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(map != MAP_FAILED);
    assert_int_equal(mprotect(map + page, (size_t)page, PROT_NONE), 0);
    char *end = map + page; /* the first byte that cannot be read */
    for (int len = 0; len <= 70; len++) {
        char *s = end - len - 1;
        for (int i = 0; i < len; i++)
            s[i] = digits[(i * 7) % 16];
        s[len] = '\0';
        check(s);
    }
    static const char hash[] =
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    for (int len = 0; len <= 140; len++) {
        char *name = end - len - 1;
        memset(name, 'm', (size_t)len);
        name[len] = '\0';
        check_both(name, hash);
    }
    munmap(map, (size_t)page * 2);
}

/* Names of every length, a NUL anywhere in the first 32 bytes (where the
 * vector ways look at once) and past them, and names of 128 bytes or more,
 * which are refused. */
static void test_names_are_measured_and_long_ones_refused(void **state)
{
    (void)state;
    static const char hash[] =
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    char name[200];
    for (int len = 0; len < 200; len++) {
        memset(name, 'a' + len % 26, sizeof name);
        name[len] = '\0';
        check_both(name, hash);
        check_both(name, "not a hash");
    }
    check_both("", hash);
    check_both("\xC3\xA9", hash); /* bytes, not characters */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lowercase_sha256_converts),
        cmocka_unit_test(test_any_other_byte_anywhere_is_refused),
        cmocka_unit_test(test_wrong_lengths_and_case_are_refused),
        cmocka_unit_test(test_strings_at_a_page_end_are_read_safely),
        cmocka_unit_test(test_names_are_measured_and_long_ones_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
