/*
 * span_view.c — the encoder's view of a queued span record.
 */
#include "span_view.h"

#include <string.h>

#include "span_pack.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define HOT static inline __attribute__((always_inline))

static struct rocky_otel_str str_of(const char *s)
{
    struct rocky_otel_str r = {s, (uint32_t)strlen(s)};
    return r;
}

static int all_zero(const uint8_t *b, size_t n)
{
    uint8_t any = 0;
    for (size_t i = 0; i < n; i++)
        any |= b[i];
    return any == 0;
}

void rocky_otel_span_view_of(const struct rocky_otel_span *s,
                             struct rocky_otel_span_view *v)
{
    static const struct rocky_otel_str none = {"", 0};
    v->kind = s->kind;
    v->status = s->status;
    v->attempt = s->attempt;
    v->max_attempts = s->max_attempts;
    v->stmt_kind = s->stmt_kind;
    v->sequence = s->sequence;
    v->models_total = s->models_total;
    v->models_failed = s->models_failed;
    v->models_succeeded = s->models_succeeded;
    v->models_skipped = s->models_skipped;
    v->start_wall_ns = s->start_wall_ns;
    v->end_wall_ns = s->end_wall_ns;
    v->rows_affected = s->rows_affected;
    v->bytes_written = s->bytes_written;
    v->trace_id = s->trace_id;
    v->span_id = s->span_id;
    v->parent_span_id = all_zero(s->parent_span_id, sizeof s->parent_span_id)
                            ? NULL
                            : s->parent_span_id;
    v->run_id = str_of(s->run_id);
    v->adapter = str_of(s->adapter);
    v->name = v->sql_hash = v->error = v->target = none;
    v->project = v->trigger = v->version = v->trace_state = none;
    switch (s->kind) {
    case ROCKY_OTEL_SPAN_RUN:
        v->project = str_of(s->project);
        v->trigger = str_of(s->trigger);
        v->version = str_of(s->version);
        v->trace_state = str_of(s->trace_state);
        break;
    case ROCKY_OTEL_SPAN_STATEMENT:
        v->name = str_of(s->stmt_model);
        v->target = str_of(s->target);
        v->error = str_of(s->stmt_error);
        break;
    default:
        v->name = str_of(s->name);
        v->sql_hash = str_of(s->sql_hash);
        v->error = str_of(s->error);
        break;
    }
}

/* ---- straight from a packed record ----------------------------------- */

void rocky_otel_span_view_run_of(const struct rocky_otel_span_run *run,
                                 struct rocky_otel_span_view_run *r)
{
    r->run = *run;
    r->run_id = str_of(r->run.run_id);
    r->adapter = str_of(r->run.adapter);
    r->parent =
        all_zero(r->run.span_id, sizeof r->run.span_id) ? NULL : r->run.span_id;
}

/* Bytes that sanitizing leaves as they are: no byte >= 0x80 and no NUL
 * (COPY stops there), eight at a time; the last word overlaps the one
 * before rather than going byte by byte. */
HOT int plain(const uint8_t *s, uint32_t len)
{
    const uint64_t ones = 0x0101010101010101ULL, high = ones << 7;
    uint64_t bad = 0, w;
    if (len < 8) {
        for (uint32_t i = 0; i < len; i++)
            bad |= (uint64_t)(s[i] - 1u) | s[i]; /* 0 wraps: high bit set */
        return !(bad & high);
    }
    for (uint32_t i = 0; i + 8 < len; i += 8) {
        memcpy(&w, s + i, 8);
        bad |= w | ((w - ones) & ~w); /* high bit: >= 0x80, or a zero */
    }
    memcpy(&w, s + len - 8, 8);
    bad |= w | ((w - ones) & ~w);
    return !(bad & high);
}

/* 32 bytes as 64 lowercase hex digits, as unpack writes a binary hash. */
HOT void to_hex(const uint8_t *b, char *out)
{
#if defined(__SSE2__)
    const __m128i low = _mm_set1_epi8(0x0F), nine = _mm_set1_epi8(9);
    const __m128i zero = _mm_set1_epi8('0'),
                  gap = _mm_set1_epi8('a' - '0' - 10);
    for (int i = 0; i < 2; i++) {
        __m128i x =
            _mm_loadu_si128((const __m128i *)(const void *)(b + 16 * i));
        __m128i hi = _mm_and_si128(_mm_srli_epi16(x, 4), low);
        __m128i lo = _mm_and_si128(x, low);
        /* The high nibble first: as the string reads. */
        __m128i n[2] = {_mm_unpacklo_epi8(hi, lo), _mm_unpackhi_epi8(hi, lo)};
        for (int k = 0; k < 2; k++) {
            __m128i letter = _mm_and_si128(_mm_cmpgt_epi8(n[k], nine), gap);
            __m128i c = _mm_add_epi8(_mm_add_epi8(n[k], zero), letter);
            _mm_storeu_si128((__m128i *)(void *)(out + 32 * i + 16 * k), c);
        }
    }
#else
    static const char hexd[] = "0123456789abcdef";
    for (int k = 0; k < 32; k++) {
        out[2 * k] = hexd[b[k] >> 4];
        out[2 * k + 1] = hexd[b[k] & 15];
    }
#endif
}

/* A string of a field of `cap` bytes: 0 when it is as COPY would leave it,
 * 1 when sanitizing would change it, -1 when it does not parse. */
HOT int string(const uint8_t **p, const uint8_t *end, uint32_t cap,
               struct rocky_otel_str *out)
{
    uint64_t len;
    if (rocky_otel_get_len(p, end, &len) || len > cap ||
        len > (uint64_t)(end - *p))
        return -1;
    if (len >= cap || !plain(*p, (uint32_t)len))
        return 1;
    out->p = (const char *)*p;
    out->len = (uint32_t)len;
    *p += len;
    return 0;
}

int rocky_otel_span_view_of_record(const uint8_t *rec, uint32_t size,
                                   const struct rocky_otel_span_view_run *r,
                                   struct rocky_otel_span_view *v)
{
    static const struct rocky_otel_str none = {"", 0};
    const uint8_t *p = rec, *end = rec + size;
    if (size < 1)
        return ROCKY_EINVAL;
    int flags = *p++;
    uint32_t kind = (uint32_t)(flags & ROCKY_OTEL_PACK_KIND);
    if (!(flags & ROCKY_OTEL_PACK_REF) || (flags & ROCKY_OTEL_PACK_DEFINE))
        return 1;
    if (kind != ROCKY_OTEL_SPAN_MODEL && kind != ROCKY_OTEL_SPAN_STATEMENT)
        return ROCKY_EINVAL;
    /* The numbers in their order (span_pack.h): [status, attempt,] rows,
     * then bytes or the statement's three, the duration and the start's
     * offset from the run's. */
    uint64_t num[ROCKY_OTEL_PACK_NUMS] = {0};
    uint32_t count = rocky_otel_get_record_nums(&p, end, flags, kind, num);
    if (count == 0)
        return ROCKY_EINVAL;
    uint64_t status = num[0], attempt = num[1], rows = num[2], x = num[3];
    uint64_t y = num[4], z = num[5], dur = num[count - 2],
             delta = num[count - 1];
    int implied = kind == ROCKY_OTEL_SPAN_MODEL;
    if (end - p < ROCKY_SPAN_ID_SIZE * (implied ? 1 : 2))
        return ROCKY_EINVAL;
    v->kind = kind;
    v->status = (uint32_t)status;
    v->attempt = (uint32_t)attempt;
    v->rows_affected = rocky_otel_unzigzag(rows);
    v->models_total = v->models_failed = 0;
    v->models_succeeded = v->models_skipped = 0;
    v->start_wall_ns =
        (int64_t)((uint64_t)r->run.base + (uint64_t)rocky_otel_unzigzag(delta));
    v->end_wall_ns = (int64_t)((uint64_t)v->start_wall_ns + dur);
    v->trace_id = r->run.trace_id;
    v->span_id = p;
    p += ROCKY_SPAN_ID_SIZE;
    if (implied) {
        v->parent_span_id = r->parent;
    } else {
        v->parent_span_id =
            all_zero(p, ROCKY_SPAN_ID_SIZE) ? NULL : (const uint8_t *)p;
        p += ROCKY_SPAN_ID_SIZE;
    }
    v->run_id = r->run_id;
    v->adapter = r->adapter;
    v->project = v->trigger = v->version = v->trace_state = none;
    v->error = none;
    int rc;
    if (kind == ROCKY_OTEL_SPAN_STATEMENT) {
        v->bytes_written = -1;
        v->max_attempts = (uint32_t)x;
        v->stmt_kind = (uint32_t)y;
        v->sequence = (uint32_t)z;
        v->sql_hash = none;
        if ((rc = string(&p, end, 128, &v->name)) != 0 ||
            (rc = string(&p, end, 136, &v->target)) != 0)
            return rc < 0 ? ROCKY_EINVAL : 1;
    } else {
        v->bytes_written = rocky_otel_unzigzag(x);
        v->max_attempts = v->stmt_kind = v->sequence = 0;
        v->target = none;
        if ((rc = string(&p, end, 128, &v->name)) != 0)
            return rc < 0 ? ROCKY_EINVAL : 1;
        if (flags & ROCKY_OTEL_PACK_HASH_BINARY) {
            if (end - p < 32)
                return ROCKY_EINVAL;
            to_hex(p, v->hex);
            v->sql_hash.p = v->hex;
            v->sql_hash.len = 64;
            p += 32;
        } else if ((rc = string(&p, end, 72, &v->sql_hash)) != 0) {
            return rc < 0 ? ROCKY_EINVAL : 1;
        }
    }
    if (!(flags & ROCKY_OTEL_PACK_NO_ERROR) &&
        (rc = string(&p, end, 512, &v->error)) != 0)
        return rc < 0 ? ROCKY_EINVAL : 1;
    return p == end ? 0 : ROCKY_EINVAL;
}
