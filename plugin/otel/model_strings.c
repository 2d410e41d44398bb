/*
 * model_strings.c — a model span's name length and its SQL hash as 32
 * bytes, three ways.
 *
 * The vector ways do not look for a string's end first. They load a
 * vector's worth of the name at a time, and 64 bytes of the hash at once,
 * only where those bytes lie in the page that holds the first one loaded,
 * which is a byte of the string or its NUL: so a shorter string is read
 * past its NUL, but never into a page that may not be there. The name's
 * length is where its first NUL is; a NUL is not a hex digit, so a short
 * hash fails, and hash[64] is read only once 64 digits have proved it that
 * long. Where a load would cross a page, the plain C way does it all
 * (strnlen first). Those reads past a short string's end are why
 * sanitizers do not instrument the vector functions.
 */
#include "model_strings.h"

#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HAVE_X86 1
#endif

#if defined(__clang__)
#define NO_SANITIZE_READS __attribute__((no_sanitize("address", "thread")))
#else
#define NO_SANITIZE_READS                                                      \
    __attribute__((no_sanitize_address, no_sanitize_thread))
#endif

/* Whether `n` bytes from s lie in the page of s[0] (see the top). */
#define IN_PAGE(s, n) (((uintptr_t)(s)&4095) <= 4096 - (n))

static int model_c(const char *name, const char *s, uint32_t *name_len,
                   uint8_t *out)
{
    *name_len = (uint32_t)strnlen(name, 128);
    if (*name_len >= 128)
        return -1;
    for (int i = 0; i < 64; i++) { /* stops at the first non-digit: a NUL */
        unsigned char c = (unsigned char)s[i];
        int v = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                       : -1;
        if (v < 0)
            return -1;
        out[i / 2] = (uint8_t)(i % 2 ? out[i / 2] | v : v << 4);
    }
    return s[64] == '\0' ? 0 : -1;
}

/* The name's length and whether the hash's 64 bytes may be loaded, the
 * long way: for a name past the first vector, or loads that would cross a
 * page (returns -1 from the caller when the answer is no). */
#define MEASURE_REST(name, s, name_len)                                        \
    do {                                                                       \
        *(name_len) = (uint32_t)strnlen(name, 128);                            \
        if (*(name_len) >= 128 || (!IN_PAGE(s, 64) && strnlen(s, 65) != 64))   \
            return -1;                                                         \
    } while (0)

#if defined(HAVE_X86) && defined(__SSE2__)
/* A range check is one add and one signed compare: adding 0x80 - lo maps
 * lo..lo+n-1, and only those bytes, onto -128..-128+n-1. A letter's
 * nibble is its low four bits + 9. */
static inline __attribute__((always_inline)) int hash_sse2(const char *s,
                                                           uint8_t *out)
{
    const __m128i to_digit = _mm_set1_epi8((char)(0x80 - '0'));
    const __m128i digits = _mm_set1_epi8((char)(0x80 + 10));
    const __m128i to_alpha = _mm_set1_epi8((char)(0x80 - 'a'));
    const __m128i alphas = _mm_set1_epi8((char)(0x80 + 6));
    const __m128i low = _mm_set1_epi8(0x0F), nine = _mm_set1_epi8(9);
    /* Per 16-bit lane (first char's nibble n0 in the low byte, n1 in the
     * high one), n0 + n1 << 8 times 0x1001 has n0 << 4 | n1 as its high
     * byte: the bits never overlap, so nothing carries. */
    const __m128i join = _mm_set1_epi16(0x1001);
    __m128i good = _mm_set1_epi8(-1), pair[4];
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++) {
        __m128i x =
            _mm_loadu_si128((const __m128i *)(const void *)(s + 16 * i));
        __m128i digit = _mm_cmplt_epi8(_mm_add_epi8(x, to_digit), digits);
        __m128i alpha = _mm_cmplt_epi8(_mm_add_epi8(x, to_alpha), alphas);
        good = _mm_and_si128(good, _mm_or_si128(digit, alpha));
        __m128i nib =
            _mm_add_epi8(_mm_and_si128(x, low), _mm_and_si128(alpha, nine));
        pair[i] = _mm_srli_epi16(_mm_mullo_epi16(nib, join), 8);
    }
    _mm_storeu_si128((__m128i *)(void *)out,
                     _mm_packus_epi16(pair[0], pair[1]));
    _mm_storeu_si128((__m128i *)(void *)(out + 16),
                     _mm_packus_epi16(pair[2], pair[3]));
    if (_mm_movemask_epi8(good) != 0xFFFF)
        return -1;
    return s[64] == '\0' ? 0 : -1;
}

static __attribute__((noinline)) NO_SANITIZE_READS int
model_sse2_rest(const char *name, const char *s, uint32_t *name_len,
                uint8_t *out)
{
    MEASURE_REST(name, s, name_len);
    return hash_sse2(s, out);
}

/* The common case straight: a name shorter than a vector (16 bytes), both
 * loads in their pages; anything else by a tail call (no frame here for
 * what is rare). */
static NO_SANITIZE_READS int model_sse2(const char *name, const char *s,
                                        uint32_t *name_len, uint8_t *out)
{
    if (!IN_PAGE(name, 16) || !IN_PAGE(s, 64))
        return model_sse2_rest(name, s, name_len, out);
    unsigned m = (unsigned)_mm_movemask_epi8(
        _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)name),
                       _mm_setzero_si128()));
    if (!m)
        return model_sse2_rest(name, s, name_len, out);
    *name_len = (uint32_t)__builtin_ctz(m);
    return hash_sse2(s, out);
}
#define HAVE_SSE2 1
#endif

#if defined(HAVE_X86) && defined(__GNUC__)
/* The constants as memory, so that each is an operand, not two or three
 * instructions that build it. */
static const uint8_t avx2_consts[6][32] __attribute__((aligned(32))) = {
#define ROW(b)                                                                 \
    {                                                                          \
        b, b, b, b, b, b, b, b, b, b, b, b, b, b, b, b, b, b, b, b, b, b, b,   \
            b, b, b, b, b, b, b, b, b                                          \
    }
    ROW(0x80 - '0'), ROW(0x80 + 10), ROW(0x80 - 'a'),
    ROW(0x80 + 6),   ROW(0x0F),      ROW(9),
#undef ROW
};
static const uint16_t avx2_join[16] __attribute__((aligned(32))) = {
    0x0110, 0x0110, 0x0110, 0x0110, 0x0110, 0x0110, 0x0110, 0x0110,
    0x0110, 0x0110, 0x0110, 0x0110, 0x0110, 0x0110, 0x0110, 0x0110};

/* As hash_sse2, in 32-byte halves; the nibbles are joined by one
 * multiply-add (n0 * 16 + n1 per 16-bit lane). */
static inline __attribute__((always_inline, target("avx2"))) int
hash_avx2(const char *s, uint8_t *out)
{
    /* Hidden from the optimizer, which would otherwise build each
     * constant again from its value (two or three instructions each). */
    const uint8_t(*k)[32] = avx2_consts;
    const uint16_t *j = avx2_join;
    __asm__("" : "+r"(k), "+r"(j));
#define CONST(i) _mm256_load_si256((const __m256i *)(const void *)k[i])
    const __m256i to_digit = CONST(0), digits = CONST(1), to_alpha = CONST(2);
    const __m256i alphas = CONST(3), low = CONST(4), nine = CONST(5);
#undef CONST
    /* bytes 16, 1 */
    const __m256i join = _mm256_load_si256((const __m256i *)(const void *)j);
    __m256i x0 = _mm256_loadu_si256((const __m256i *)(const void *)s);
    __m256i x1 = _mm256_loadu_si256((const __m256i *)(const void *)(s + 32));
    __m256i a0 = _mm256_cmpgt_epi8(alphas, _mm256_add_epi8(x0, to_alpha));
    __m256i a1 = _mm256_cmpgt_epi8(alphas, _mm256_add_epi8(x1, to_alpha));
    __m256i good = _mm256_and_si256(
        _mm256_or_si256(
            _mm256_cmpgt_epi8(digits, _mm256_add_epi8(x0, to_digit)), a0),
        _mm256_or_si256(
            _mm256_cmpgt_epi8(digits, _mm256_add_epi8(x1, to_digit)), a1));
    __m256i n0 =
        _mm256_add_epi8(_mm256_and_si256(x0, low), _mm256_and_si256(a0, nine));
    __m256i n1 =
        _mm256_add_epi8(_mm256_and_si256(x1, low), _mm256_and_si256(a1, nine));
    /* packus works within 128-bit lanes: lanes come out as x0.lo, x1.lo,
     * x0.hi, x1.hi, put back in order by the permute. */
    __m256i bytes = _mm256_packus_epi16(_mm256_maddubs_epi16(n0, join),
                                        _mm256_maddubs_epi16(n1, join));
    _mm256_storeu_si256((__m256i *)(void *)out,
                        _mm256_permute4x64_epi64(bytes, 0xD8));
    if ((uint32_t)_mm256_movemask_epi8(good) != 0xFFFFFFFFu)
        return -1;
    return s[64] == '\0' ? 0 : -1;
}

static __attribute__((noinline, target("avx2"))) NO_SANITIZE_READS int
model_avx2_rest(const char *name, const char *s, uint32_t *name_len,
                uint8_t *out)
{
    MEASURE_REST(name, s, name_len);
    return hash_avx2(s, out);
}

/* As model_sse2, with the name's first 32 bytes. */
static __attribute__((target("avx2"))) NO_SANITIZE_READS int
model_avx2(const char *name, const char *s, uint32_t *name_len, uint8_t *out)
{
    if (!IN_PAGE(name, 32) || !IN_PAGE(s, 64))
        return model_avx2_rest(name, s, name_len, out);
    uint32_t m = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(
        _mm256_loadu_si256((const __m256i *)(const void *)name),
        _mm256_setzero_si256()));
    if (!m)
        return model_avx2_rest(name, s, name_len, out);
    *name_len = (uint32_t)__builtin_ctz(m);
    return hash_avx2(s, out);
}
#define HAVE_AVX2 1
#endif

#if defined(HAVE_SSE2)
rocky_otel_model_strings_fn rocky_otel_model_strings_impl = model_sse2;
#else
rocky_otel_model_strings_fn rocky_otel_model_strings_impl = model_c;
#endif

#if defined(HAVE_AVX2)
static int cpu_has_avx2(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2");
}

/* At load, before any thread can call it: no race on the pointer. */
static __attribute__((constructor)) void pick_impl(void)
{
    if (cpu_has_avx2())
        rocky_otel_model_strings_impl = model_avx2;
}
#endif

rocky_otel_model_strings_fn rocky_otel_model_strings_impl_at(int i)
{
    switch (i) {
    case 0: return model_c;
#if defined(HAVE_SSE2)
    case 1: return model_sse2;
#endif
#if defined(HAVE_AVX2)
    case 2: return cpu_has_avx2() ? model_avx2 : NULL;
#endif
    default: return NULL;
    }
}
