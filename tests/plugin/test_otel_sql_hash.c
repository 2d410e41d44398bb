/* Unit tests: every conversion of a SQL hash (plain C, SSE2, AVX2 where
 * the CPU has it) accepts exactly the 64-digit lowercase hex strings, gives
 * their bytes, and never reads where it may not: strings end right before
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

#include "sql_hash.h"

static const char digits[] = "0123456789abcdef";

/* What a conversion must answer: 0 and the bytes, or -1. */
static int reference(const char *s, uint8_t *out)
{
    size_t n = strlen(s);
    if (n != 64)
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

/* Each available conversion gives the reference's answer for s. */
static void check(const char *s)
{
    uint8_t want[32], got[32];
    int rc = reference(s, want);
    for (int i = 0; i < ROCKY_OTEL_SQL_HASH_IMPLS; i++) {
        rocky_otel_sql_hash_fn fn = rocky_otel_sql_hash_impl_at(i);
        if (!fn)
            continue;
        memset(got, 0x5c, sizeof got);
        if (fn(s, got) != rc) {
            fprintf(stderr, "conversion %d on \"%s\": not %d\n", i, s, rc);
            fail();
        }
        if (rc == 0)
            assert_memory_equal(got, want, 32);
    }
    memset(got, 0x5c, sizeof got);
    assert_int_equal(rocky_otel_sql_hash_to_binary(s, got), rc);
    if (rc == 0)
        assert_memory_equal(got, want, 32);
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
    assert_non_null(rocky_otel_sql_hash_impl_at(0));
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
    munmap(map, (size_t)page * 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lowercase_sha256_converts),
        cmocka_unit_test(test_any_other_byte_anywhere_is_refused),
        cmocka_unit_test(test_wrong_lengths_and_case_are_refused),
        cmocka_unit_test(test_strings_at_a_page_end_are_read_safely),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
