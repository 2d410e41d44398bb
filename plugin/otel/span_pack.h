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
#include "model_strings.h"

/* Inlined into the queue's push even where the compiler would not: the
 * point of this file is that push is one function. */
#define ROCKY_OTEL_PACK_INLINE static inline __attribute__((always_inline))

/*
 * The packed form of a model or statement span, as the queue keeps it: only
 * as long as what it carries (a typical model span is ~87 bytes where the
 * struct above is ~900). Unpacking gives exactly the struct that
 * rocky_otel_span_from_event would have filled from the same event.
 *
 * Layout (this file and the readers in span_build.c and span_view.c): a
 * kind-and-flags byte; the run's part (trace id, for DEFINE the run's span
 * id, run_id, adapter) unless the record refers to the current run; status
 * and attempt in one byte when both are small; the numbers as a group
 * (below: status and attempt when not small, rows, then bytes or the
 * statement's max_attempts, kind and sequence, the duration, and a REF
 * record's start as its difference from the current run's base), or, for
 * most model REF records, as fixed numbers (ROCKY_OTEL_PACK_FIXED); the start
 * time itself unless REF; the span id and, unless it is the current run's
 * span, the parent; the strings, each as its length and its bytes: the
 * event's bytes as COPY would read them (up to the array's size, before any
 * NUL), sanitized when unpacked by the same call COPY makes, so the
 * runner's thread only measures and copies. A 64-char lowercase hex
 * sql_hash is kept as its 32 bytes.
 *
 * The current run. Every span of a run repeats the run's trace id, run_id
 * and adapter (and a model span's parent is the run's span): ~40 bytes a
 * span. So a record can instead refer to "the current run": the run that
 * the last DEFINE record before it in the queue carried. The queue decides
 * which records define and which refer (queue.c: the choice is made by the
 * same CAS that places the record); the consumer, reading in order, keeps
 * the last defined run in a struct rocky_otel_span_run.
 *
 * The common record. Nearly every span is a MODEL_END of the current run
 * with a small status, no error and a SHA-256 hash: the queue writes those
 * through pack_fast_* (straight-line, no general measuring), which write
 * exactly the bytes the general pack_* functions would.
 */
enum rocky_otel_pack_run {
    ROCKY_OTEL_PACK_RUN_INLINE = 0, /* the run's part in the record          */
    ROCKY_OTEL_PACK_RUN_DEFINE = 1, /* inline, and it is now the current run */
    ROCKY_OTEL_PACK_RUN_REF = 2     /* the current run's: not in the record  */
};

#define ROCKY_OTEL_PACK_STRINGS 5
#define ROCKY_OTEL_PACK_NUMS    8 /* the most numbers a record has */

/* The most bytes a record can take: the flags, the run's part with the
 * DEFINE span id, the small byte, 2 code bytes and 8 numbers of 8, the
 * start, two span ids, the binary hash and five strings with their 2-byte
 * lengths. */
#define ROCKY_OTEL_PACK_MAX                                                    \
    (1 + ROCKY_TRACE_ID_SIZE + ROCKY_SPAN_ID_SIZE + 1 + 2 +                    \
     8 * ROCKY_OTEL_PACK_NUMS + 8 + 2 * ROCKY_SPAN_ID_SIZE + 32 +              \
     2 * ROCKY_OTEL_PACK_STRINGS + 80 + 16 + 128 + 136 + 512)

/* The first byte: the kind in the low two bits, then these. */
enum {
    ROCKY_OTEL_PACK_KIND = 0x03,
    ROCKY_OTEL_PACK_HASH_BINARY = 0x04, /* sql_hash as 32 bytes, no text */
    ROCKY_OTEL_PACK_DEFINE = 0x08,
    ROCKY_OTEL_PACK_REF = 0x10,
    ROCKY_OTEL_PACK_NO_ERROR = 0x20, /* no error text, not even its length */
    ROCKY_OTEL_PACK_SMALL = 0x40,    /* status < 8 and attempt < 32: one byte */
    ROCKY_OTEL_PACK_FIXED = 0x80     /* fixed numbers, not a group (below) */
};

/* The fixed numbers of a model REF record that is SMALL and whose rows,
 * bytes (both zigzag) and duration are each below 2^32 (a model under
 * 4.29 s, nearly every one whose cost per span matters): those three in 4
 * bytes each and the start's delta in 8, little-endian, with no size
 * codes. Their size does not depend on the values, so the queue knows a
 * record's size before it reads the current run's base, and writes them
 * as two stores. */
#define ROCKY_OTEL_PACK_FIXED_BYTES 20
_Static_assert(ROCKY_OTEL_PACK_RUN_INLINE << 3 == 0 &&
                   ROCKY_OTEL_PACK_RUN_DEFINE << 3 == ROCKY_OTEL_PACK_DEFINE &&
                   ROCKY_OTEL_PACK_RUN_REF << 3 == ROCKY_OTEL_PACK_REF,
               "pack_write makes the mode's flag by a shift");

ROCKY_OTEL_PACK_INLINE uint64_t rocky_otel_zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

ROCKY_OTEL_PACK_INLINE int64_t rocky_otel_unzigzag(uint64_t v)
{
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* ---- numbers --------------------------------------------------------- */

/*
 * A record's numbers are written as a group: first their size codes, two
 * bits each, four to a byte (code c: the number takes 1 << c bytes, so 1,
 * 2, 4 or 8), then each number in that many little-endian bytes. They are
 * encoded while the record is measured (before its room is taken), each
 * as a store of 8 bytes and a step by its size, with no loop per byte, and
 * copied into the record as one block. Reading one is a load of 8 bytes
 * and a mask: every record has at least a span id after its numbers, so
 * the load stays inside it. (LEB128 took ~80 instructions a model span.)
 */
#define ROCKY_OTEL_CODE_BYTES(n) (((n) + 3) / 4)

ROCKY_OTEL_PACK_INLINE uint64_t rocky_otel_le64(uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return __builtin_bswap64(v);
#else
    return v;
#endif
}

/* A number's size by the index of its highest set bit. */
static const uint8_t rocky_otel_num_len[64] __attribute__((unused)) = {
    1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 4, 4, 4, 4, 4, 4,
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8,
    8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8};

/* A group encoded: its codes (number i's at bits 2i), the bytes of its
 * numbers (without the code bytes) and those bytes, with room for the last
 * number's 8-byte store. */
struct rocky_otel_nums {
    uint32_t codes, bytes;
    uint8_t enc[8 * ROCKY_OTEL_PACK_NUMS];
};

ROCKY_OTEL_PACK_INLINE void
rocky_otel_nums_encode(const uint64_t *v, uint32_t n, struct rocky_otel_nums *g)
{
    uint32_t codes = 0, off = 0;
#pragma GCC unroll 8
    for (uint32_t i = 0; i < n; i++) {
        uint32_t len = rocky_otel_num_len[63 ^ __builtin_clzll(v[i] | 1)];
        uint64_t w = rocky_otel_le64(v[i]);
        memcpy(g->enc + off, &w, 8);
        off += len;
        codes |= (uint32_t)__builtin_ctz(len) << (2 * i);
    }
    g->codes = codes;
    g->bytes = off;
}

/* Write the encoded group of n numbers at d; returns its end. */
ROCKY_OTEL_PACK_INLINE uint8_t *
rocky_otel_put_nums(uint8_t *d, const struct rocky_otel_nums *g, uint32_t n)
{
    d[0] = (uint8_t)g->codes;
    if (n > 4)
        d[1] = (uint8_t)(g->codes >> 8);
    d += ROCKY_OTEL_CODE_BYTES(n);
    memcpy(d, g->enc, g->bytes);
    return d + g->bytes;
}

/* Read a group of n numbers at *p into v and move *p past it: 0, or -1
 * when [*p, end) does not hold them and the 7 bytes after them that every
 * record has (so that each 8-byte load stays inside the record). */
ROCKY_OTEL_PACK_INLINE int rocky_otel_get_nums(const uint8_t **p,
                                               const uint8_t *end, uint64_t *v,
                                               uint32_t n)
{
    const uint8_t *q = *p;
    uint32_t code_bytes = ROCKY_OTEL_CODE_BYTES(n), bytes = 0;
    if ((size_t)(end - q) < code_bytes)
        return -1;
    uint32_t codes = q[0] | (n > 4 ? (uint32_t)q[1] << 8 : 0);
    q += code_bytes;
    for (uint32_t i = 0; i < n; i++)
        bytes += 1u << (codes >> (2 * i) & 3);
    if ((size_t)(end - q) < (size_t)bytes + 7)
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t k = codes >> (2 * i) & 3;
        uint64_t w;
        memcpy(&w, q, 8);
        v[i] = rocky_otel_le64(w) & (~0ull >> (64 - (8u << k)));
        q += 1u << k;
    }
    *p = q;
    return 0;
}

/* A span measured for packing. Filled by prepare; the calling thread's
 * (the stack is the place for it). */
struct rocky_otel_span_pack {
    uint32_t kind, flags;
    uint32_t small; /* status | attempt << 3, when flagged SMALL */
    int64_t start;
    uint32_t span_size; /* the span's part, without its start, parent or
                           numbers */
    uint32_t run_size;  /* the run's part inline; 0 until measured */
    uint32_t nums;      /* numbers prepare measured (REF adds the delta) */
    /* As the last pack_size left them: ROCKY_OTEL_PACK_FIXED and the
     * delta, or how many numbers and their group. */
    uint32_t fixed;
    uint64_t delta;
    uint32_t n;
    uint64_t num[ROCKY_OTEL_PACK_NUMS];
    struct rocky_otel_nums group;
    const struct rocky_run *run;
    const uint8_t *span_id, *parent;
    /* run_id, adapter, name, sql_hash or target, error: not yet sanitized */
    const char *str[ROCKY_OTEL_PACK_STRINGS];
    uint32_t len[ROCKY_OTEL_PACK_STRINGS];
    uint8_t hash[32]; /* sql_hash in binary, when flagged */
};

/* Whether a model's rows, bytes and duration (num[0..2]) may be fixed. */
ROCKY_OTEL_PACK_INLINE int rocky_otel_pack_fits_fixed(const uint64_t *num)
{
    return ((num[0] | num[1] | num[2]) >> 32) == 0;
}

ROCKY_OTEL_PACK_INLINE uint32_t rocky_otel_le32(uint32_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return __builtin_bswap32(v);
#else
    return v;
#endif
}

/* The fixed numbers at d (ROCKY_OTEL_PACK_FIXED_BYTES); returns their end. */
ROCKY_OTEL_PACK_INLINE uint8_t *
rocky_otel_put_fixed(uint8_t *d, const uint64_t *num, uint64_t delta)
{
    for (int i = 0; i < 3; i++) {
        uint32_t v = rocky_otel_le32((uint32_t)num[i]);
        memcpy(d + 4 * i, &v, 4);
    }
    delta = rocky_otel_le64(delta);
    memcpy(d + 12, &delta, 8);
    return d + ROCKY_OTEL_PACK_FIXED_BYTES;
}

/* Read them at *p into num[0..2] and *delta: 0, or -1 when too short. */
ROCKY_OTEL_PACK_INLINE int rocky_otel_get_fixed(const uint8_t **p,
                                                const uint8_t *end,
                                                uint64_t *num, uint64_t *delta)
{
    if ((size_t)(end - *p) < ROCKY_OTEL_PACK_FIXED_BYTES)
        return -1;
    for (int i = 0; i < 3; i++) {
        uint32_t v;
        memcpy(&v, *p + 4 * i, 4);
        num[i] = rocky_otel_le32(v);
    }
    memcpy(delta, *p + 12, 8);
    *delta = rocky_otel_le64(*delta);
    *p += ROCKY_OTEL_PACK_FIXED_BYTES;
    return 0;
}

/* A record's numbers at *p (after its run part), as its flags say they
 * are kept: into v status, attempt, rows, then bytes or the statement's
 * max_attempts, kind and sequence, the duration and, for a REF record,
 * the start's delta (always last). Returns how many, or 0 when the bytes
 * do not parse. v holds ROCKY_OTEL_PACK_NUMS. */
ROCKY_OTEL_PACK_INLINE uint32_t rocky_otel_get_record_nums(const uint8_t **p,
                                                           const uint8_t *end,
                                                           int flags,
                                                           uint32_t kind,
                                                           uint64_t *v)
{
    uint32_t i = 0, n = (kind == ROCKY_OTEL_SPAN_STATEMENT ? 5 : 3) +
                        !!(flags & ROCKY_OTEL_PACK_REF);
    if (flags & ROCKY_OTEL_PACK_SMALL) { /* status and attempt in one byte */
        if (*p >= end)
            return 0;
        v[0] = **p & 7;
        v[1] = *(*p)++ >> 3;
        i = 2;
    } else {
        n += 2;
    }
    if (flags & ROCKY_OTEL_PACK_FIXED) {
        /* Only a model REF record's, after its small byte: v[2..5]. */
        if (n != 4 || i != 2 || kind != ROCKY_OTEL_SPAN_MODEL ||
            rocky_otel_get_fixed(p, end, v + 2, &v[5]))
            return 0;
    } else if (rocky_otel_get_nums(p, end, v + i, n)) {
        return 0;
    }
    return i + n;
}

/* ---- strings --------------------------------------------------------- */

/* A string's length: one byte below 128, else two (LEB128; len <= 512). */
ROCKY_OTEL_PACK_INLINE uint8_t *rocky_otel_put_len(uint8_t *d, uint32_t len)
{
    if (len < 0x80) {
        *d = (uint8_t)len;
        return d + 1;
    }
    d[0] = (uint8_t)(len | 0x80);
    d[1] = (uint8_t)(len >> 7);
    return d + 2;
}

/* Read a length put_len wrote at *p: 0, or -1 when it does not parse. */
ROCKY_OTEL_PACK_INLINE int rocky_otel_get_len(const uint8_t **p,
                                              const uint8_t *end, uint64_t *len)
{
    const uint8_t *q = *p;
    if (q < end && *q < 0x80) {
        *len = *q;
        *p = q + 1;
        return 0;
    }
    if (end - q < 2 || q[1] >= 0x80)
        return -1;
    *len = (uint64_t)(q[0] & 0x7F) | (uint64_t)q[1] << 7;
    *p = q + 2;
    return 0;
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
    d = rocky_otel_put_len(d, len);
    /* Short strings (names, ids) as two overlapping copies, not a call. */
    if (len >= 16 && len <= 32) {
        memcpy(d, s, 16);
        memcpy(d + len - 16, s + len - 16, 16);
    } else if (len >= 8 && len < 16) {
        memcpy(d, s, 8);
        memcpy(d + len - 8, s + len - 8, 8);
    } else if (len >= 4 && len < 8) {
        memcpy(d, s, 4);
        memcpy(d + len - 4, s + len - 4, 4);
    } else {
        memcpy(d, s, len);
    }
    return d + len;
}

/* ---- the general record ---------------------------------------------- */

/* Status and attempt: one byte when both are small (nearly always), else
 * the first two numbers. */
ROCKY_OTEL_PACK_INLINE uint32_t rocky_otel_pack_status(
    struct rocky_otel_span_pack *p, uint32_t status, uint32_t attempt)
{
    if (status < 8 && attempt < 32) {
        p->flags |= ROCKY_OTEL_PACK_SMALL;
        p->small = status | attempt << 3;
        return 0;
    }
    p->num[0] = status;
    p->num[1] = attempt;
    return 2;
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
    uint32_t size, n;
    p->flags = 0;
    if (ev->type == ROCKY_EVENT_MODEL_END) {
        p->kind = ROCKY_OTEL_SPAN_MODEL;
        /* As from_event: the event's time when the host left it unset, a
         * zero-length span when the model has no start time. */
        end = m->finished_wall_ns ? m->finished_wall_ns : ev->wall_ns;
        p->start = m->started_wall_ns ? m->started_wall_ns : end;
        n = rocky_otel_pack_status(p, m->status, m->attempt);
        p->num[n++] = rocky_otel_zigzag(m->rows_affected);
        p->num[n++] = rocky_otel_zigzag(m->bytes_written);
        p->span_id = m->span_id;
        p->parent = run->span_id;
        size = rocky_otel_pack_take(p, 2, m->model_name, 128) +
               rocky_otel_pack_error(p, m->error);
        /* The SQL hash is nearly always a SHA-256 in lowercase hex: kept as
         * its 32 bytes (half the room), and written back as hex when
         * unpacked. Anything else is kept as text. (The call measures a
         * name too, for the fast record: given "", only the hash counts.) */
        uint32_t no_name;
        if (m->sql_hash &&
            rocky_otel_model_strings("", m->sql_hash, &no_name, p->hash) == 0) {
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
        n = rocky_otel_pack_status(p, st->status, st->attempt);
        p->num[n++] = rocky_otel_zigzag(st->rows);
        p->num[n++] = st->max_attempts;
        p->num[n++] = (uint32_t)st->kind;
        p->num[n++] = st->sequence;
        p->span_id = st->span_id;
        p->parent = m->span_id;
        size = rocky_otel_pack_take(p, 2, m->model_name, 128) +
               rocky_otel_pack_take(p, 3, st->target, 136) +
               rocky_otel_pack_error(p, st->error);
    } else {
        return ROCKY_EINVAL;
    }
    /* The duration is small; modular, so any pair of times round-trips. */
    p->num[n++] = (uint64_t)end - (uint64_t)p->start;
    p->nums = n;
    p->run = run;
    p->run_size = 0;
    p->span_size =
        size + 1 + !!(p->flags & ROCKY_OTEL_PACK_SMALL) + ROCKY_SPAN_ID_SIZE;
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
ROCKY_OTEL_PACK_INLINE uint64_t rocky_otel_pack_delta(int64_t start,
                                                      int64_t base)
{
    return rocky_otel_zigzag((int64_t)((uint64_t)start - (uint64_t)base));
}

/* Bytes the record takes packed as `mode`, when the current run's base
 * start time is `base` (REF only). Measures the run's strings the first
 * time they are needed. */
ROCKY_OTEL_PACK_INLINE uint32_t rocky_otel_span_pack_size(
    struct rocky_otel_span_pack *p, int mode, int64_t base)
{
    uint32_t size = p->span_size;
    p->n = p->nums;
    p->fixed = 0;
    if (mode == ROCKY_OTEL_PACK_RUN_REF) {
        uint64_t delta = rocky_otel_pack_delta(p->start, base);
        if (p->kind == ROCKY_OTEL_SPAN_MODEL &&
            (p->flags & ROCKY_OTEL_PACK_SMALL) &&
            rocky_otel_pack_fits_fixed(p->num)) {
            /* Its parent is implied (a model of the current run). */
            p->fixed = ROCKY_OTEL_PACK_FIXED;
            p->delta = delta;
            return size + ROCKY_OTEL_PACK_FIXED_BYTES;
        }
        p->num[p->n++] = delta;
    } else {
        if (!p->run_size)
            p->run_size = ROCKY_TRACE_ID_SIZE +
                          rocky_otel_pack_take(p, 0, p->run->run_id, 80) +
                          rocky_otel_pack_take(p, 1, p->run->adapter, 16);
        size += p->run_size + 8;
        if (mode == ROCKY_OTEL_PACK_RUN_DEFINE)
            size += ROCKY_SPAN_ID_SIZE;
    }
    rocky_otel_nums_encode(p->num, p->n, &p->group);
    size += ROCKY_OTEL_CODE_BYTES(p->n) + p->group.bytes;
    if (!rocky_otel_pack_parent_implied(p, mode))
        size += ROCKY_SPAN_ID_SIZE;
    return size;
}

/* Write the record at `d`: `size` is what the last pack_size(p, mode,
 * base) said (with this mode and base: a REF record's start is the one it
 * measured), and exactly that many bytes are written. */
ROCKY_OTEL_PACK_INLINE void
rocky_otel_span_pack_write(const struct rocky_otel_span_pack *p, int mode,
                           int64_t base, uint32_t size, uint8_t *d)
{
    (void)base; /* already in p->num, by pack_size */
    (void)size;
    /* The mode's flag is the mode shifted (asserted below the enums). */
    *d++ = (uint8_t)(p->kind | p->flags | p->fixed | (uint32_t)mode << 3);
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
    if (p->flags & ROCKY_OTEL_PACK_SMALL)
        *d++ = (uint8_t)p->small;
    if (p->fixed)
        d = rocky_otel_put_fixed(d, p->num, p->delta);
    else
        d = rocky_otel_put_nums(d, &p->group, p->n);
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

/* ---- the common record, straight ------------------------------------- */

/* A MODEL_END measured for the fast record (see the top): a model REF
 * record with fixed numbers, always. */
struct rocky_otel_pack_fast {
    uint64_t num[3]; /* rows and bytes (zigzag), the duration */
    int64_t start;
    const uint8_t *span_id;
    const char *name;
    uint32_t name_len, small;
    uint8_t hash[32];
};

#define ROCKY_OTEL_PACK_FAST_FLAGS                                             \
    (ROCKY_OTEL_SPAN_MODEL | ROCKY_OTEL_PACK_HASH_BINARY |                     \
     ROCKY_OTEL_PACK_REF | ROCKY_OTEL_PACK_NO_ERROR | ROCKY_OTEL_PACK_SMALL |  \
     ROCKY_OTEL_PACK_FIXED)

/* Measure the MODEL_END `ev` for the fast record: returns its size as a
 * REF record (whatever the current run's base), or 0 when it is not one
 * (the general pack_* take it). Same rules as pack_prepare + pack_size. */
ROCKY_OTEL_PACK_INLINE uint32_t rocky_otel_pack_fast_prepare(
    const struct rocky_event *ev, struct rocky_otel_pack_fast *f)
{
    const struct rocky_model_exec *m = ev->model;
    if (!ev->run || !m || (m->error && m->error[0]) ||
        ((m->status >> 3) | (m->attempt >> 5)) != 0 || !m->model_name ||
        !m->sql_hash)
        return 0;
    int64_t end = m->finished_wall_ns ? m->finished_wall_ns : ev->wall_ns;
    f->start = m->started_wall_ns ? m->started_wall_ns : end;
    f->num[0] = rocky_otel_zigzag(m->rows_affected);
    f->num[1] = rocky_otel_zigzag(m->bytes_written);
    f->num[2] = (uint64_t)end - (uint64_t)f->start;
    if (!rocky_otel_pack_fits_fixed(f->num) ||
        rocky_otel_model_strings(m->model_name, m->sql_hash, &f->name_len,
                                 f->hash) != 0)
        return 0;
    f->small = m->status | m->attempt << 3;
    f->span_id = m->span_id;
    f->name = m->model_name;
    return 2 + ROCKY_OTEL_PACK_FIXED_BYTES + ROCKY_SPAN_ID_SIZE + 1 +
           f->name_len + 32;
}

/* Write it at `d` against the current run's base: the bytes
 * pack_write(REF) would write. */
ROCKY_OTEL_PACK_INLINE void
rocky_otel_pack_fast_write(const struct rocky_otel_pack_fast *f, int64_t base,
                           uint8_t *d)
{
    d[0] = ROCKY_OTEL_PACK_FAST_FLAGS;
    d[1] = (uint8_t)f->small;
    d = rocky_otel_put_fixed(d + 2, f->num,
                             rocky_otel_pack_delta(f->start, base));
    memcpy(d, f->span_id, ROCKY_SPAN_ID_SIZE);
    d = rocky_otel_pack_put_str(d + ROCKY_SPAN_ID_SIZE, f->name, f->name_len);
    memcpy(d, f->hash, 32);
}

#endif
