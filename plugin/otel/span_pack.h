/*
 * span_pack.h — the packed span record the queue keeps, written on the
 * runner's thread: inline, so that the queue's push compiles into one
 * function with no calls but strnlen and memcpy. Reading records back
 * (rocky_otel_span_unpack) is in span_build.c.
 */
#ifndef ROCKY_OTEL_SPAN_PACK_H
#define ROCKY_OTEL_SPAN_PACK_H

#include <stdint.h>
#include <string.h>

#include "rocky/error.h"
#include "span_build.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* Inlined into the queue's push even where the compiler would not: the
 * point of this file is that push is one function. */
#define ROCKY_OTEL_PACK_INLINE static inline __attribute__((always_inline))

/*
 * The packed form of a model or statement span, as the queue keeps it: only
 * as long as what it carries (a typical model span is ~80 bytes where the
 * struct above is ~900). Unpacking gives exactly the struct that
 * rocky_otel_span_from_event would have filled from the same event.
 *
 * Layout (this file and rocky_otel_span_unpack only): a kind-and-flags
 * byte; the run's part (trace id, for DEFINE the run's span id, run_id,
 * adapter) unless the record refers to the current run; LEB128 numbers
 * (status, attempt, zigzag rows, then bytes or the statement's fields, the
 * duration); the start time (raw, or as the zigzag difference from the
 * current run's base); the span id and, unless it is the current run's
 * span, the parent; the strings, each as its length and its
 * bytes: the event's bytes as COPY would read them (up to the array's
 * size, before any NUL), sanitized when unpacked by the same call COPY
 * makes, so the runner's thread only measures and copies. A 64-char
 * lowercase hex sql_hash is kept as its 32 bytes.
 *
 * The current run. Every span of a run repeats the run's trace id, run_id
 * and adapter (and a model span's parent is the run's span): ~40 bytes a
 * span. So a record can instead refer to "the current run": the run that
 * the last DEFINE record before it in the queue carried. The queue decides
 * which records define and which refer (queue.c: the choice is made by the
 * same CAS that places the record); the consumer, reading in order, keeps
 * the last defined run in a struct rocky_otel_span_run.
 */
enum rocky_otel_pack_run {
    ROCKY_OTEL_PACK_RUN_INLINE = 0, /* the run's part in the record          */
    ROCKY_OTEL_PACK_RUN_DEFINE = 1, /* inline, and it is now the current run */
    ROCKY_OTEL_PACK_RUN_REF = 2     /* the current run's: not in the record  */
};

#define ROCKY_OTEL_PACK_STRINGS 5

/* A span measured for packing. Filled by prepare; the calling thread's
 * (the stack is the place for it). */
struct rocky_otel_span_pack {
    uint32_t kind, flags;
    int64_t start;
    uint32_t span_size; /* the span's part, without its start or parent */
    uint32_t run_size;  /* the run's part inline; 0 until measured */
    uint32_t nums_len;
    uint32_t delta_len; /* a REF record's start, after the numbers */
    /* The numbers, already LEB128 (<= 2 * 5 + 10 + 3 * 5 + 10), then a REF
     * record's start (<= 10): written with them in one copy. */
    uint8_t nums[56];
    const struct rocky_run *run;
    const uint8_t *span_id, *parent;
    /* run_id, adapter, name, sql_hash or target, error: not yet sanitized */
    const char *str[ROCKY_OTEL_PACK_STRINGS];
    uint32_t len[ROCKY_OTEL_PACK_STRINGS];
    uint8_t hash[32]; /* sql_hash in binary, when flagged */
};

/* The most bytes a record can take: the flags, the run's part with the
 * DEFINE span id, 7 varints of at most 10, the start, two span ids, the
 * binary hash and five strings with their 2-byte lengths. */
#define ROCKY_OTEL_PACK_MAX                                                    \
    (1 + ROCKY_TRACE_ID_SIZE + ROCKY_SPAN_ID_SIZE + 7 * 10 + 8 +               \
     2 * ROCKY_SPAN_ID_SIZE + 32 + 2 * ROCKY_OTEL_PACK_STRINGS + 80 + 16 +     \
     128 + 136 + 512)

/* The first byte: the kind in the low two bits, then these. */
enum {
    ROCKY_OTEL_PACK_KIND = 0x03,
    ROCKY_OTEL_PACK_HASH_BINARY = 0x04, /* sql_hash as 32 bytes, no text */
    ROCKY_OTEL_PACK_DEFINE = 0x08,
    ROCKY_OTEL_PACK_REF = 0x10,
    ROCKY_OTEL_PACK_NO_ERROR = 0x20, /* no error text, not even its length */
    ROCKY_OTEL_PACK_SMALL = 0x40     /* status < 8 and attempt < 32: one byte */
};
_Static_assert(ROCKY_OTEL_PACK_RUN_INLINE << 3 == 0 &&
                   ROCKY_OTEL_PACK_RUN_DEFINE << 3 == ROCKY_OTEL_PACK_DEFINE &&
                   ROCKY_OTEL_PACK_RUN_REF << 3 == ROCKY_OTEL_PACK_REF,
               "pack_write makes the mode's flag by a shift");

ROCKY_OTEL_PACK_INLINE uint64_t rocky_otel_zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

/* LEB128. (Spelling out the 1..3-byte cases, or writing a word at once,
 * measured more instructions in the queue's push, not fewer.) */
ROCKY_OTEL_PACK_INLINE uint8_t *rocky_otel_put_varint(uint8_t *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

ROCKY_OTEL_PACK_INLINE uint32_t rocky_otel_varint_size(uint64_t v)
{
    if (v < (1u << 28))
        return 1 + (v >= (1u << 7)) + (v >= (1u << 14)) + (v >= (1u << 21));
    uint32_t n = 5;
    for (v >>= 35; v; v >>= 7)
        n++;
    return n;
}

/* String k: the first bytes of `src` that COPY into an array of `cap`
 * bytes would read (up to `cap`, before any NUL), as they are. They are
 * sanitized when unpacked, by the same call COPY makes on the same bytes,
 * so the result is the same and the runner's thread does not pay for it.
 * Returns the bytes it takes packed (its length first; len <= 512). */
ROCKY_OTEL_PACK_INLINE uint32_t rocky_otel_pack_take(
    struct rocky_otel_span_pack *p, int k, const char *src, size_t cap)
{
    p->str[k] = src ? src : "";
    p->len[k] = src ? (uint32_t)strnlen(src, cap) : 0;
    return p->len[k] + (p->len[k] < 0x80 ? 1 : 2);
}

ROCKY_OTEL_PACK_INLINE uint8_t *
rocky_otel_pack_put_str(uint8_t *d, const char *s, uint32_t len)
{
    d = rocky_otel_put_varint(d, len);
    /* Short strings (names, ids) as two overlapping copies, not a call. */
    if (len >= 16 && len <= 32) {
        memcpy(d, s, 16);
        memcpy(d + len - 16, s + len - 16, 16);
    } else if (len >= 8 && len < 16) {
        memcpy(d, s, 8);
        memcpy(d + len - 8, s + len - 8, 8);
    } else {
        memcpy(d, s, len);
    }
    return d + len;
}

/* A 64-char string (64 readable bytes) that is lowercase hex, as 32 bytes;
 * 0 when it is one. Not inlined: inlined where a caller passes a shorter
 * literal, gcc warns about the 16-byte loads it cannot see are guarded by
 * the caller's strnlen. */
static __attribute__((noinline, unused)) int
rocky_otel_hex_to_binary(const char *s, uint8_t *out)
{
#if defined(__SSE2__)
    /* A range check is one add and one signed compare: adding 0x80 - lo
     * maps lo..lo+n-1, and only those bytes, onto -128..-128+n-1. */
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
        /* Checked once, after all four. */
        good = _mm_and_si128(good, _mm_or_si128(digit, alpha));
        /* A nibble per byte: a letter's low bits + 9. */
        __m128i nib =
            _mm_add_epi8(_mm_and_si128(x, low), _mm_and_si128(alpha, nine));
        pair[i] = _mm_srli_epi16(_mm_mullo_epi16(nib, join), 8);
    }
    _mm_storeu_si128((__m128i *)(void *)out,
                     _mm_packus_epi16(pair[0], pair[1]));
    _mm_storeu_si128((__m128i *)(void *)(out + 16),
                     _mm_packus_epi16(pair[2], pair[3]));
    return _mm_movemask_epi8(good) == 0xFFFF ? 0 : -1;
#else
    for (int i = 0; i < 64; i++) {
        unsigned char c = (unsigned char)s[i];
        int v = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                       : -1;
        if (v < 0)
            return -1;
        out[i / 2] = (uint8_t)(i % 2 ? out[i / 2] | v : v << 4);
    }
    return 0;
#endif
}

/* Status and attempt: one byte when both are small (nearly always). */
ROCKY_OTEL_PACK_INLINE uint8_t *
rocky_otel_pack_status(struct rocky_otel_span_pack *p, uint8_t *n,
                       uint32_t status, uint32_t attempt)
{
    if (status < 8 && attempt < 32) {
        p->flags |= ROCKY_OTEL_PACK_SMALL;
        *n = (uint8_t)(status | attempt << 3);
        return n + 1;
    }
    n = rocky_otel_put_varint(n, status);
    return rocky_otel_put_varint(n, attempt);
}

/* The error text (string 4): nothing at all when there is none. */
ROCKY_OTEL_PACK_INLINE uint32_t
rocky_otel_pack_error(struct rocky_otel_span_pack *p, const char *error)
{
    /* Usually NULL or "": no strnlen call for those. */
    if (!error || !*error) {
        p->flags |= ROCKY_OTEL_PACK_NO_ERROR;
        p->str[4] = "";
        p->len[4] = 0;
        return 0;
    }
    uint32_t size = rocky_otel_pack_take(p, 4, error, 512);
    if (p->len[4])
        return size;
    p->flags |= ROCKY_OTEL_PACK_NO_ERROR;
    return 0;
}

/*
 * Measure `ev` (MODEL_END or STATEMENT_END) into `p`. Returns 0, or
 * ROCKY_EINVAL for what rocky_otel_span_from_event refuses or a RUN_END
 * (run spans are not packed). No allocation; thread-safe. The event's
 * strings must stay valid until pack_write (they do during on_event).
 */
ROCKY_OTEL_PACK_INLINE int
rocky_otel_span_pack_prepare(const struct rocky_event *ev,
                             struct rocky_otel_span_pack *p)
{
    const struct rocky_run *run = ev->run;
    const struct rocky_model_exec *m = ev->model;
    if (!run || !m)
        return ROCKY_EINVAL;
    int64_t end;
    uint32_t size;
    uint8_t *n = p->nums;
    p->flags = 0;
    if (ev->type == ROCKY_EVENT_MODEL_END) {
        p->kind = ROCKY_OTEL_SPAN_MODEL;
        /* As from_event: the event's time when the host left it unset, a
         * zero-length span when the model has no start time. */
        end = m->finished_wall_ns ? m->finished_wall_ns : ev->wall_ns;
        p->start = m->started_wall_ns ? m->started_wall_ns : end;
        n = rocky_otel_pack_status(p, n, m->status, m->attempt);
        n = rocky_otel_put_varint(n, rocky_otel_zigzag(m->rows_affected));
        n = rocky_otel_put_varint(n, rocky_otel_zigzag(m->bytes_written));
        p->span_id = m->span_id;
        p->parent = run->span_id;
        size = rocky_otel_pack_take(p, 2, m->model_name, 128) +
               rocky_otel_pack_error(p, m->error);
        /* The SQL hash is nearly always a SHA-256 in lowercase hex: kept as
         * its 32 bytes (half the room), and written back as hex when
         * unpacked. Anything else is kept as text. */
        if (m->sql_hash && strnlen(m->sql_hash, 65) == 64 &&
            rocky_otel_hex_to_binary(m->sql_hash, p->hash) == 0) {
            p->flags |= ROCKY_OTEL_PACK_HASH_BINARY;
            size += 32;
        } else {
            size += rocky_otel_pack_take(p, 3, m->sql_hash, 72);
        }
    } else if (ev->type == ROCKY_EVENT_STATEMENT_END) {
        const struct rocky_statement *st =
            ROCKY_STRUCT_HAS(ev, struct rocky_event, statement) ? ev->statement
                                                                : NULL;
        if (!st)
            return ROCKY_EINVAL;
        p->kind = ROCKY_OTEL_SPAN_STATEMENT;
        end = st->finished_wall_ns ? st->finished_wall_ns : ev->wall_ns;
        p->start = st->started_wall_ns ? st->started_wall_ns : end;
        n = rocky_otel_pack_status(p, n, st->status, st->attempt);
        n = rocky_otel_put_varint(n, rocky_otel_zigzag(st->rows));
        n = rocky_otel_put_varint(n, st->max_attempts);
        n = rocky_otel_put_varint(n, (uint32_t)st->kind);
        n = rocky_otel_put_varint(n, st->sequence);
        p->span_id = st->span_id;
        p->parent = m->span_id;
        size = rocky_otel_pack_take(p, 2, m->model_name, 128) +
               rocky_otel_pack_take(p, 3, st->target, 136) +
               rocky_otel_pack_error(p, st->error);
    } else {
        return ROCKY_EINVAL;
    }
    /* The duration is small; modular, so any pair of times round-trips. */
    n = rocky_otel_put_varint(n, (uint64_t)end - (uint64_t)p->start);
    p->nums_len = (uint32_t)(n - p->nums);
    p->run = run;
    p->run_size = 0;
    p->span_size = size + 1 + p->nums_len + ROCKY_SPAN_ID_SIZE;
    return 0;
}

/* Whether the parent is left out: a model span's parent is its run's span,
 * which a REF record's current run carries. */
ROCKY_OTEL_PACK_INLINE int
rocky_otel_pack_parent_implied(const struct rocky_otel_span_pack *p, int mode)
{
    return mode == ROCKY_OTEL_PACK_RUN_REF && p->kind == ROCKY_OTEL_SPAN_MODEL;
}

/* The start as a REF record keeps it: the difference from the run's base. */
ROCKY_OTEL_PACK_INLINE uint64_t
rocky_otel_pack_delta(const struct rocky_otel_span_pack *p, int64_t base)
{
    return rocky_otel_zigzag((int64_t)((uint64_t)p->start - (uint64_t)base));
}

/* Bytes the record takes packed as `mode`, when the current run's base
 * start time is `base` (REF only). Measures the run's strings the first
 * time they are needed. */
ROCKY_OTEL_PACK_INLINE uint32_t rocky_otel_span_pack_size(
    struct rocky_otel_span_pack *p, int mode, int64_t base)
{
    uint32_t size = p->span_size;
    if (mode == ROCKY_OTEL_PACK_RUN_REF) {
        /* Encoded here, once, where write copies it with the numbers. */
        uint8_t *n = p->nums + p->nums_len;
        p->delta_len = (uint32_t)(rocky_otel_put_varint(
                                      n, rocky_otel_pack_delta(p, base)) -
                                  n);
        size += p->delta_len;
    } else {
        p->delta_len = 0;
        if (!p->run_size)
            p->run_size = ROCKY_TRACE_ID_SIZE +
                          rocky_otel_pack_take(p, 0, p->run->run_id, 80) +
                          rocky_otel_pack_take(p, 1, p->run->adapter, 16);
        size += p->run_size + 8;
        if (mode == ROCKY_OTEL_PACK_RUN_DEFINE)
            size += ROCKY_SPAN_ID_SIZE;
    }
    if (!rocky_otel_pack_parent_implied(p, mode))
        size += ROCKY_SPAN_ID_SIZE;
    return size;
}

/* Write the record at `d`: `size` is what the last pack_size(p, mode,
 * base) said (with this mode and base: a REF record's start is the one it
 * encoded), and exactly that many bytes are written. */
ROCKY_OTEL_PACK_INLINE void
rocky_otel_span_pack_write(const struct rocky_otel_span_pack *p, int mode,
                           int64_t base, uint32_t size, uint8_t *d)
{
    (void)base; /* already in p->nums, by pack_size */
    const uint8_t *start = d;
    /* The mode's flag is the mode shifted (asserted below the enums). */
    *d++ = (uint8_t)(p->kind | p->flags | (uint32_t)mode << 3);
    if (mode != ROCKY_OTEL_PACK_RUN_REF) {
        memcpy(d, p->run->trace_id, ROCKY_TRACE_ID_SIZE);
        d += ROCKY_TRACE_ID_SIZE;
        if (mode == ROCKY_OTEL_PACK_RUN_DEFINE) {
            memcpy(d, p->run->span_id, ROCKY_SPAN_ID_SIZE);
            d += ROCKY_SPAN_ID_SIZE;
        }
        d = rocky_otel_pack_put_str(d, p->str[0], p->len[0]);
        d = rocky_otel_pack_put_str(d, p->str[1], p->len[1]);
    }
    /* 16 bytes at once when the record has them (the excess is written
     * over next, and stays inside this record); else exactly. */
    uint32_t nums_len = p->nums_len + p->delta_len;
    if (nums_len <= 16 && (uint32_t)(d - start) + 16 <= size)
        memcpy(d, p->nums, 16);
    else
        memcpy(d, p->nums, nums_len);
    d += nums_len;
    if (mode != ROCKY_OTEL_PACK_RUN_REF) {
        memcpy(d, &p->start, 8);
        d += 8;
    }
    memcpy(d, p->span_id, ROCKY_SPAN_ID_SIZE);
    d += ROCKY_SPAN_ID_SIZE;
    if (!rocky_otel_pack_parent_implied(p, mode)) {
        memcpy(d, p->parent, ROCKY_SPAN_ID_SIZE);
        d += ROCKY_SPAN_ID_SIZE;
    }
    d = rocky_otel_pack_put_str(d, p->str[2], p->len[2]);
    if (p->flags & ROCKY_OTEL_PACK_HASH_BINARY) {
        memcpy(d, p->hash, 32);
        d += 32;
    } else {
        d = rocky_otel_pack_put_str(d, p->str[3], p->len[3]);
    }
    if (!(p->flags & ROCKY_OTEL_PACK_NO_ERROR))
        rocky_otel_pack_put_str(d, p->str[4], p->len[4]);
}

#endif
