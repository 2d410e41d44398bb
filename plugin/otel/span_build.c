/*
 * span_build.c — event -> fixed-size span record (the hot path's copy).
 */
#include "span_build.h"

#include <string.h>

#include "utf8.h"

#define COPY(dst, src)                                                         \
    rocky_otel_utf8_sanitize((src), sizeof(dst), (dst), sizeof(dst))

/* Wall time of an end event: the struct's own field when the host set it,
 * else the event's time. */
static int64_t pick(int64_t a, int64_t b)
{
    return a ? a : b;
}

int rocky_otel_span_from_event(const struct rocky_event *ev,
                               struct rocky_otel_span *s)
{
    const struct rocky_run *run = ev->run;
    if (!run)
        return ROCKY_EINVAL;
    s->kind = 0;
    memcpy(s->trace_id, run->trace_id, sizeof s->trace_id);
    COPY(s->run_id, run->run_id);
    COPY(s->adapter, run->adapter);
    s->max_attempts = s->stmt_kind = s->sequence = 0;
    if (ev->type == ROCKY_EVENT_RUN_END) {
        s->kind = ROCKY_OTEL_SPAN_RUN;
        s->start_wall_ns = run->started_wall_ns;
        s->end_wall_ns = pick(run->finished_wall_ns, ev->wall_ns);
        s->status = run->status;
        s->models_total = run->models_total;
        s->models_failed = run->models_failed;
        s->models_succeeded = run->models_succeeded;
        s->models_skipped = run->models_skipped;
        s->rows_affected = s->bytes_written = -1;
        s->attempt = 0;
        memcpy(s->span_id, run->span_id, sizeof s->span_id);
        memcpy(s->parent_span_id, run->parent_span_id,
               sizeof s->parent_span_id);
        COPY(s->project, run->project);
        COPY(s->trigger, run->trigger);
        COPY(s->version, run->rocky_version);
        COPY(s->trace_state, run->trace_state);
        return 0;
    }
    if (ev->type == ROCKY_EVENT_STATEMENT_END) {
        const struct rocky_statement *st =
            ROCKY_STRUCT_HAS(ev, struct rocky_event, statement) ? ev->statement
                                                                : NULL;
        if (!st || !ev->model)
            return ROCKY_EINVAL;
        s->kind = ROCKY_OTEL_SPAN_STATEMENT;
        s->end_wall_ns = pick(st->finished_wall_ns, ev->wall_ns);
        s->start_wall_ns =
            st->started_wall_ns ? st->started_wall_ns : s->end_wall_ns;
        s->status = st->status;
        s->rows_affected = st->rows;
        s->bytes_written = -1;
        s->attempt = st->attempt;
        s->max_attempts = st->max_attempts;
        s->stmt_kind = st->kind;
        s->sequence = st->sequence;
        s->models_total = s->models_failed = 0;
        s->models_succeeded = s->models_skipped = 0;
        memcpy(s->span_id, st->span_id, sizeof s->span_id);
        memcpy(s->parent_span_id, ev->model->span_id, sizeof s->parent_span_id);
        COPY(s->stmt_model, ev->model->model_name);
        COPY(s->target, st->target);
        COPY(s->stmt_error, st->error);
        return 0;
    }
    if (ev->type != ROCKY_EVENT_MODEL_END || !ev->model)
        return ROCKY_EINVAL;
    const struct rocky_model_exec *m = ev->model;
    s->kind = ROCKY_OTEL_SPAN_MODEL;
    /* A model end without a start time gets a zero-length span at its end
     * time, so backends do not draw it from 1970. (Skipped models, which
     * never started, get no span at all: the exporter does not queue
     * them.) */
    s->end_wall_ns = pick(m->finished_wall_ns, ev->wall_ns);
    s->start_wall_ns = m->started_wall_ns ? m->started_wall_ns : s->end_wall_ns;
    s->status = m->status;
    s->rows_affected = m->rows_affected;
    s->bytes_written = m->bytes_written;
    s->attempt = m->attempt;
    s->models_total = s->models_failed = 0;
    s->models_succeeded = s->models_skipped = 0;
    memcpy(s->span_id, m->span_id, sizeof s->span_id);
    memcpy(s->parent_span_id, run->span_id, sizeof s->parent_span_id);
    COPY(s->name, m->model_name);
    COPY(s->sql_hash, m->sql_hash);
    COPY(s->error, m->error);
    return 0;
}

/* ---- packed form ----------------------------------------------------- */

/* The first byte: the kind in the low two bits, then these. */
enum {
    PACK_KIND = 0x03,
    PACK_HASH_BINARY = 0x04, /* sql_hash as 32 bytes, no text form */
    PACK_RUN_DEFINE = 0x08,
    PACK_RUN_REF = 0x10
};

/* Bytes of v as LEB128. */
static inline uint32_t varint_size(uint64_t v)
{
    return 1 + (uint32_t)(63 - __builtin_clzll(v | 1)) / 7;
}

static uint8_t *put_varint(uint8_t *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

static uint64_t zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static int64_t unzigzag(uint64_t v)
{
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* Reads one varint from [*p, end); 0 on success. */
static int get_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    uint64_t r = 0;
    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        r |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80)) {
            *v = r;
            return 0;
        }
    }
    return -1;
}

/* String k of the pack: the first bytes of `src` that COPY into an array of
 * `cap` bytes would read (up to `cap`, before any NUL), as they are. They
 * are sanitized when unpacked, by the same call COPY makes on the same
 * bytes, so the result is the same and the runner's thread does not pay
 * for it. Returns the bytes it takes packed (its length first). */
static inline uint32_t take(struct rocky_otel_span_pack *p, int k,
                            const char *src, size_t cap)
{
    p->str[k] = src ? src : "";
    p->len[k] = src ? (uint32_t)strnlen(src, cap) : 0;
    return p->len[k] + (p->len[k] < 0x80 ? 1 : 2); /* len <= 512 */
}

static inline uint8_t *put_str(uint8_t *d, const char *s, uint32_t len)
{
    d = put_varint(d, len);
    memcpy(d, s, len);
    return d + len;
}

/* A 64-char string (64 readable bytes) that is lowercase hex, as 32 bytes;
 * 0 when it is one. */
#if defined(__SSE2__)
#include <emmintrin.h>
static int hex_to_binary(const char *s, uint8_t *out)
{
    /* Signed compares: a byte >= 0x80 is negative, so neither a digit nor
     * a letter. */
    const __m128i c0 = _mm_set1_epi8('0' - 1), c9 = _mm_set1_epi8('9' + 1);
    const __m128i ca = _mm_set1_epi8('a' - 1), cf = _mm_set1_epi8('f' + 1);
    const __m128i low = _mm_set1_epi8(0x0F), nine = _mm_set1_epi8(9);
    const __m128i byte0 = _mm_set1_epi16(0x00FF);
    for (int i = 0; i < 4; i++) {
        __m128i x =
            _mm_loadu_si128((const __m128i *)(const void *)(s + 16 * i));
        __m128i digit =
            _mm_and_si128(_mm_cmpgt_epi8(x, c0), _mm_cmplt_epi8(x, c9));
        __m128i alpha =
            _mm_and_si128(_mm_cmpgt_epi8(x, ca), _mm_cmplt_epi8(x, cf));
        if (_mm_movemask_epi8(_mm_or_si128(digit, alpha)) != 0xFFFF)
            return -1;
        /* A nibble per byte (a letter's low bits + 9), then per 16-bit lane
         * (first char in the low byte) first << 4 | second, then the lanes'
         * low bytes side by side. */
        __m128i nib =
            _mm_add_epi8(_mm_and_si128(x, low), _mm_and_si128(alpha, nine));
        __m128i pair =
            _mm_or_si128(_mm_slli_epi16(_mm_and_si128(nib, byte0), 4),
                         _mm_srli_epi16(nib, 8));
        _mm_storel_epi64((__m128i *)(void *)(out + 8 * i),
                         _mm_packus_epi16(pair, pair));
    }
    return 0;
}
#else
static int hex_to_binary(const char *s, uint8_t *out)
{
    for (int i = 0; i < 64; i++) {
        unsigned char c = (unsigned char)s[i];
        int v = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                       : -1;
        if (v < 0)
            return -1;
        if (i % 2)
            out[i / 2] = (uint8_t)(out[i / 2] | v);
        else
            out[i / 2] = (uint8_t)(v << 4);
    }
    return 0;
}
#endif

int rocky_otel_span_pack_prepare(const struct rocky_event *ev,
                                 struct rocky_otel_span_pack *p)
{
    const struct rocky_run *run = ev->run;
    const struct rocky_model_exec *m = ev->model;
    if (!run || !m)
        return ROCKY_EINVAL;
    int64_t end;
    uint32_t size;
    if (ev->type == ROCKY_EVENT_MODEL_END) {
        p->kind = ROCKY_OTEL_SPAN_MODEL;
        end = pick(m->finished_wall_ns, ev->wall_ns);
        p->start = m->started_wall_ns ? m->started_wall_ns : end;
        p->status = m->status;
        p->attempt = m->attempt;
        p->rows = zigzag(m->rows_affected);
        p->bytes = zigzag(m->bytes_written);
        p->span_id = m->span_id;
        p->parent = run->span_id;
        size = varint_size(p->bytes) + take(p, 2, m->model_name, 128) +
               take(p, 4, m->error, 512);
        /* The SQL hash is nearly always a SHA-256 in lowercase hex: kept as
         * its 32 bytes (half the room), and written back as hex when
         * unpacked. Anything else is kept as text. */
        p->flags = 0;
        if (m->sql_hash && strnlen(m->sql_hash, 65) == 64 &&
            hex_to_binary(m->sql_hash, p->hash) == 0) {
            p->flags = PACK_HASH_BINARY;
            size += 32;
        } else {
            size += take(p, 3, m->sql_hash, 72);
        }
    } else if (ev->type == ROCKY_EVENT_STATEMENT_END) {
        const struct rocky_statement *st =
            ROCKY_STRUCT_HAS(ev, struct rocky_event, statement) ? ev->statement
                                                                : NULL;
        if (!st)
            return ROCKY_EINVAL;
        p->kind = ROCKY_OTEL_SPAN_STATEMENT;
        end = pick(st->finished_wall_ns, ev->wall_ns);
        p->start = st->started_wall_ns ? st->started_wall_ns : end;
        p->status = st->status;
        p->attempt = st->attempt;
        p->rows = zigzag(st->rows);
        p->max_attempts = st->max_attempts;
        p->stmt_kind = st->kind;
        p->sequence = st->sequence;
        p->span_id = st->span_id;
        p->parent = m->span_id;
        p->flags = 0;
        size = varint_size(p->max_attempts) + varint_size(p->stmt_kind) +
               varint_size(p->sequence) + take(p, 2, m->model_name, 128) +
               take(p, 3, st->target, 136) + take(p, 4, st->error, 512);
    } else {
        return ROCKY_EINVAL;
    }
    p->run = run;
    p->run_size = 0;
    /* The duration is small; modular, so any pair of times round-trips. */
    p->duration = (uint64_t)end - (uint64_t)p->start;
    p->span_size = size + 1 + varint_size(p->status) + varint_size(p->attempt) +
                   varint_size(p->rows) + varint_size(p->duration) +
                   ROCKY_SPAN_ID_SIZE;
    return 0;
}

/* Whether the parent is left out: a model span's parent is its run's span,
 * which a REF record's current run carries. */
static int parent_implied(const struct rocky_otel_span_pack *p, int mode)
{
    return mode == ROCKY_OTEL_PACK_RUN_REF && p->kind == ROCKY_OTEL_SPAN_MODEL;
}

uint32_t rocky_otel_span_pack_size(struct rocky_otel_span_pack *p, int mode,
                                   int64_t base)
{
    uint32_t size = p->span_size;
    if (mode == ROCKY_OTEL_PACK_RUN_REF) {
        size +=
            varint_size(zigzag((int64_t)((uint64_t)p->start - (uint64_t)base)));
    } else {
        if (!p->run_size)
            p->run_size = ROCKY_TRACE_ID_SIZE + take(p, 0, p->run->run_id, 80) +
                          take(p, 1, p->run->adapter, 16);
        size += p->run_size + 8;
        if (mode == ROCKY_OTEL_PACK_RUN_DEFINE)
            size += ROCKY_SPAN_ID_SIZE;
    }
    if (!parent_implied(p, mode))
        size += ROCKY_SPAN_ID_SIZE;
    return size;
}

void rocky_otel_span_pack_write(const struct rocky_otel_span_pack *p, int mode,
                                int64_t base, uint8_t *d)
{
    static const uint8_t run_flag[] = {0, PACK_RUN_DEFINE, PACK_RUN_REF};
    *d++ = (uint8_t)(p->kind | p->flags | run_flag[mode]);
    if (mode != ROCKY_OTEL_PACK_RUN_REF) {
        memcpy(d, p->run->trace_id, ROCKY_TRACE_ID_SIZE);
        d += ROCKY_TRACE_ID_SIZE;
        if (mode == ROCKY_OTEL_PACK_RUN_DEFINE) {
            memcpy(d, p->run->span_id, ROCKY_SPAN_ID_SIZE);
            d += ROCKY_SPAN_ID_SIZE;
        }
        d = put_str(d, p->str[0], p->len[0]);
        d = put_str(d, p->str[1], p->len[1]);
    }
    d = put_varint(d, p->status);
    d = put_varint(d, p->attempt);
    d = put_varint(d, p->rows);
    if (p->kind == ROCKY_OTEL_SPAN_MODEL) {
        d = put_varint(d, p->bytes);
    } else {
        d = put_varint(d, p->max_attempts);
        d = put_varint(d, p->stmt_kind);
        d = put_varint(d, p->sequence);
    }
    if (mode == ROCKY_OTEL_PACK_RUN_REF) {
        d = put_varint(d,
                       zigzag((int64_t)((uint64_t)p->start - (uint64_t)base)));
    } else {
        memcpy(d, &p->start, 8);
        d += 8;
    }
    d = put_varint(d, p->duration);
    memcpy(d, p->span_id, ROCKY_SPAN_ID_SIZE);
    d += ROCKY_SPAN_ID_SIZE;
    if (!parent_implied(p, mode)) {
        memcpy(d, p->parent, ROCKY_SPAN_ID_SIZE);
        d += ROCKY_SPAN_ID_SIZE;
    }
    d = put_str(d, p->str[2], p->len[2]);
    if (p->flags & PACK_HASH_BINARY) {
        memcpy(d, p->hash, 32);
        d += 32;
    } else {
        d = put_str(d, p->str[3], p->len[3]);
    }
    put_str(d, p->str[4], p->len[4]);
}

/* A packed string into an array of `cap` bytes: sanitized exactly as
 * COPY would have (the same call on the same bytes). */
static int get_str(const uint8_t **p, const uint8_t *end, char *dst, size_t cap)
{
    uint64_t len;
    if (get_varint(p, end, &len) || len > cap || len > (size_t)(end - *p))
        return -1;
    rocky_otel_utf8_sanitize((const char *)*p, len, dst, cap);
    *p += len;
    return 0;
}

/* The run part of a record at *p (flags already read) into `run` when it
 * defines one, else into a scratch copy; `own` says where the record's run
 * part went. */
static int get_run(const uint8_t **p, const uint8_t *end, int flags,
                   struct rocky_otel_span_run *run,
                   struct rocky_otel_span_run *own)
{
    if (flags & PACK_RUN_REF)
        return run && run->valid ? 0 : -1;
    struct rocky_otel_span_run *r = flags & PACK_RUN_DEFINE ? run : own;
    if (!r || end - *p < ROCKY_TRACE_ID_SIZE)
        return -1;
    memcpy(r->trace_id, *p, ROCKY_TRACE_ID_SIZE);
    *p += ROCKY_TRACE_ID_SIZE;
    if (flags & PACK_RUN_DEFINE) {
        if (end - *p < ROCKY_SPAN_ID_SIZE)
            return -1;
        memcpy(r->span_id, *p, ROCKY_SPAN_ID_SIZE);
        *p += ROCKY_SPAN_ID_SIZE;
    }
    if (get_str(p, end, r->run_id, sizeof r->run_id) ||
        get_str(p, end, r->adapter, sizeof r->adapter))
        return -1;
    r->valid = 1;
    return 0;
}

void rocky_otel_span_unpack_run(const uint8_t *rec, uint32_t size,
                                struct rocky_otel_span_run *run)
{
    /* Rare (a DEFINE record released without being peeked): the full
     * unpack, which updates `run` only when the record parses whole. */
    if (size >= 1 && (rec[0] & PACK_RUN_DEFINE)) {
        struct rocky_otel_span span;
        (void)rocky_otel_span_unpack(rec, size, run, &span);
    }
}

int rocky_otel_span_unpack(const uint8_t *rec, uint32_t size,
                           struct rocky_otel_span_run *run,
                           struct rocky_otel_span *s)
{
    static const char hexd[] = "0123456789abcdef";
    const uint8_t *p = rec, *end = rec + size;
    uint64_t v[6] = {0};
    struct rocky_otel_span_run own;
    if (size < 1)
        return ROCKY_EINVAL;
    int flags = *p++;
    uint32_t kind = (uint32_t)(flags & PACK_KIND);
    int nums = kind == ROCKY_OTEL_SPAN_STATEMENT ? 6 : 4;
    if (kind != ROCKY_OTEL_SPAN_MODEL && kind != ROCKY_OTEL_SPAN_STATEMENT)
        return ROCKY_EINVAL;
    if ((flags & PACK_RUN_DEFINE) && (flags & PACK_RUN_REF))
        return ROCKY_EINVAL;
    /* A DEFINE record's run becomes current only once it parsed whole. */
    struct rocky_otel_span_run next;
    if (flags & PACK_RUN_DEFINE) {
        if (!run)
            return ROCKY_EINVAL;
        next = *run;
    }
    struct rocky_otel_span_run *use = flags & PACK_RUN_DEFINE ? &next : run;
    if (get_run(&p, end, flags, use, &own) != 0)
        return ROCKY_EINVAL;
    const struct rocky_otel_span_run *r =
        flags & (PACK_RUN_DEFINE | PACK_RUN_REF) ? use : &own;
    for (int i = 0; i < nums; i++)
        if (get_varint(&p, end, &v[i]))
            return ROCKY_EINVAL;
    uint64_t dur;
    if (flags & PACK_RUN_REF) {
        uint64_t delta;
        if (get_varint(&p, end, &delta))
            return ROCKY_EINVAL;
        s->start_wall_ns =
            (int64_t)((uint64_t)r->base + (uint64_t)unzigzag(delta));
    } else {
        if (end - p < 8)
            return ROCKY_EINVAL;
        memcpy(&s->start_wall_ns, p, 8);
        p += 8;
        if (flags & PACK_RUN_DEFINE)
            next.base = s->start_wall_ns;
    }
    int implied = (flags & PACK_RUN_REF) && kind == ROCKY_OTEL_SPAN_MODEL;
    if (get_varint(&p, end, &dur) ||
        end - p < ROCKY_SPAN_ID_SIZE * (implied ? 1 : 2))
        return ROCKY_EINVAL;
    s->end_wall_ns = (int64_t)((uint64_t)s->start_wall_ns + dur);
    memcpy(s->span_id, p, ROCKY_SPAN_ID_SIZE);
    p += ROCKY_SPAN_ID_SIZE;
    if (implied) {
        memcpy(s->parent_span_id, r->span_id, ROCKY_SPAN_ID_SIZE);
    } else {
        memcpy(s->parent_span_id, p, ROCKY_SPAN_ID_SIZE);
        p += ROCKY_SPAN_ID_SIZE;
    }
    memcpy(s->trace_id, r->trace_id, ROCKY_TRACE_ID_SIZE);
    memcpy(s->run_id, r->run_id, sizeof s->run_id);
    memcpy(s->adapter, r->adapter, sizeof s->adapter);
    s->kind = kind;
    s->status = (uint32_t)v[0];
    s->attempt = (uint32_t)v[1];
    s->rows_affected = unzigzag(v[2]);
    s->models_total = s->models_failed = 0;
    s->models_succeeded = s->models_skipped = 0;
    if (kind == ROCKY_OTEL_SPAN_STATEMENT) {
        s->bytes_written = -1;
        s->max_attempts = (uint32_t)v[3];
        s->stmt_kind = (uint32_t)v[4];
        s->sequence = (uint32_t)v[5];
        if (get_str(&p, end, s->stmt_model, sizeof s->stmt_model) ||
            get_str(&p, end, s->target, sizeof s->target) ||
            get_str(&p, end, s->stmt_error, sizeof s->stmt_error))
            return ROCKY_EINVAL;
    } else {
        s->bytes_written = unzigzag(v[3]);
        s->max_attempts = s->stmt_kind = s->sequence = 0;
        if (get_str(&p, end, s->name, sizeof s->name))
            return ROCKY_EINVAL;
        if (flags & PACK_HASH_BINARY) {
            if (end - p < 32)
                return ROCKY_EINVAL;
            for (int i = 0; i < 32; i++) {
                s->sql_hash[2 * i] = hexd[p[i] >> 4];
                s->sql_hash[2 * i + 1] = hexd[p[i] & 15];
            }
            s->sql_hash[64] = '\0';
            p += 32;
        } else if (get_str(&p, end, s->sql_hash, sizeof s->sql_hash)) {
            return ROCKY_EINVAL;
        }
        if (get_str(&p, end, s->error, sizeof s->error))
            return ROCKY_EINVAL;
    }
    if (p != end)
        return ROCKY_EINVAL;
    if (flags & PACK_RUN_DEFINE)
        *run = next;
    return 0;
}
