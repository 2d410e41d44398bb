/*
 * test_otel_encode_identity.c — the hand-written span encoder
 * (encode_span.h) and the request it frames (encode_trace.h) are byte for
 * byte what protobuf-c packs for the same messages.
 *
 * The reference is the encoder as it was before it was written by hand:
 * a protobuf-c Span message tree built from the span's view with
 * NUL-terminated copies of its strings (reference_build() below, the old
 * build() with the view's names), packed by protobuf_c_message_pack. Every
 * field combination is covered: each kind (and an unknown one), each
 * status, attempt 1 and more, rows/bytes known and -1, every string empty,
 * short, multi-byte, and long enough for two- and three-byte length
 * varints, the value length limit off, 0, tiny, cutting inside multi-byte
 * characters and inside the "transformation:" prefix, parent and
 * trace_state present or not, start/end zero, negative and end < start.
 * (The 16-attribute cap cannot be reached: a span has at most 12.) Whole
 * requests of many spans are compared against a protobuf-c pack of the
 * whole ExportTraceServiceRequest, and decoded back with protobuf-c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encode_attrs.h"
#include "encode_span.h"
#include "encode_trace.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"
#include "otel_test_events.h"
#include "span_view.h"

typedef Opentelemetry__Proto__Trace__V1__Span pb_span;
typedef Opentelemetry__Proto__Trace__V1__Status pb_status;
typedef Opentelemetry__Proto__Trace__V1__Span__Event pb_event;
typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest
    treq;

/* ---- the reference: protobuf-c message tree, as the encoder used to ---- */

#define REF_ATTRS  16
#define REF_EVENTS 2
#define REF_EATTRS 5

struct ref_event {
    pb_event event;
    rocky_otlp_kv kv[REF_EATTRS];
    rocky_otlp_any av[REF_EATTRS];
    rocky_otlp_kv *ptrs[REF_EATTRS];
};

struct ref_span {
    pb_span span;
    pb_status status;
    rocky_otlp_kv kv[REF_ATTRS];
    rocky_otlp_any av[REF_ATTRS];
    rocky_otlp_kv *ptrs[REF_ATTRS];
    struct ref_event events[REF_EVENTS];
    pb_event *event_ptrs[REF_EVENTS];
    /* NUL-terminated copies of the view's strings */
    char *run_id, *adapter, *name, *sql_hash, *error, *target, *project,
        *trigger, *version, *trace_state, *fqn, *table_ref;
    char *scratch; /* values cut by the limit */
    size_t scratch_cap, scratch_used;
};

static char *dup_str(struct rocky_otel_str s)
{
    char *d = malloc(s.len + 1);
    assert_non_null(d);
    if (s.len)
        memcpy(d, s.p, s.len);
    d[s.len] = '\0';
    return d;
}

static char *concat(const char *a, const char *b)
{
    char *d = malloc(strlen(a) + strlen(b) + 1);
    assert_non_null(d);
    strcpy(d, a);
    strcat(d, b);
    return d;
}

static pb_event *ref_event_begin(struct ref_span *p,
                                 struct rocky_otel_attrs *ea, const char *name,
                                 int64_t time_ns, int64_t limit)
{
    pb_span *sp = &p->span;
    struct ref_event *pe = &p->events[sp->n_events];
    opentelemetry__proto__trace__v1__span__event__init(&pe->event);
    pe->event.name = (char *)name;
    pe->event.time_unix_nano = (uint64_t)(time_ns > 0 ? time_ns : 0);
    rocky_otel_attrs_init(ea, pe->kv, pe->av, pe->ptrs, REF_EATTRS, limit,
                          p->scratch + p->scratch_used,
                          p->scratch_cap - p->scratch_used);
    p->event_ptrs[sp->n_events++] = &pe->event;
    sp->events = p->event_ptrs;
    return &pe->event;
}

static void ref_event_end(struct ref_span *p, pb_event *e,
                          struct rocky_otel_attrs *ea)
{
    p->scratch_used += ea->scratch_used;
    e->n_attributes = ea->n;
    e->attributes = ea->ptrs;
    e->dropped_attributes_count = ea->dropped;
}

static int ref_failed(uint32_t status)
{
    return status == ROCKY_MODEL_FAILED || status == ROCKY_MODEL_INTERRUPTED;
}

/* The encoder's build() before it was written by hand, reading the view. */
static void reference_build(struct ref_span *p,
                            const struct rocky_otel_span_view *v, int64_t limit)
{
    memset(p, 0, sizeof *p);
    p->run_id = dup_str(v->run_id);
    p->adapter = dup_str(v->adapter);
    p->name = dup_str(v->name);
    p->sql_hash = dup_str(v->sql_hash);
    p->error = dup_str(v->error);
    p->target = dup_str(v->target);
    p->project = dup_str(v->project);
    p->trigger = dup_str(v->trigger);
    p->version = dup_str(v->version);
    p->trace_state = dup_str(v->trace_state);
    p->fqn = concat("transformation:", p->name);
    p->table_ref = concat("main.", p->name);
    p->scratch_cap =
        64 + 4 * (strlen(p->fqn) + v->run_id.len + v->adapter.len +
                  v->sql_hash.len + v->error.len + v->target.len +
                  v->project.len + v->trigger.len + v->version.len);
    p->scratch = malloc(p->scratch_cap);
    assert_non_null(p->scratch);

    pb_span *sp = &p->span;
    opentelemetry__proto__trace__v1__span__init(sp);
    sp->trace_id.data = (uint8_t *)v->trace_id;
    sp->trace_id.len = ROCKY_TRACE_ID_SIZE;
    sp->span_id.data = (uint8_t *)v->span_id;
    sp->span_id.len = ROCKY_SPAN_ID_SIZE;
    if (v->parent_span_id) {
        sp->parent_span_id.data = (uint8_t *)v->parent_span_id;
        sp->parent_span_id.len = ROCKY_SPAN_ID_SIZE;
    }
    sp->kind =
        OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_INTERNAL;
    sp->start_time_unix_nano =
        (uint64_t)(v->start_wall_ns > 0 ? v->start_wall_ns : 0);
    sp->end_time_unix_nano =
        (uint64_t)(v->end_wall_ns > 0 ? v->end_wall_ns : 0);
    if (sp->end_time_unix_nano < sp->start_time_unix_nano)
        sp->end_time_unix_nano = sp->start_time_unix_nano;

    struct rocky_otel_attrs a;
    rocky_otel_attrs_init(&a, p->kv, p->av, p->ptrs, REF_ATTRS, limit,
                          p->scratch, p->scratch_cap);
    const char *err_text;
    int error;
    if (v->kind == ROCKY_OTEL_SPAN_RUN) {
        sp->name = "run";
        sp->trace_state = p->trace_state;
        rocky_otel_attr_str(&a, "run_id", p->run_id);
        rocky_otel_attr_str(&a, "rocky.run.id", p->run_id);
        rocky_otel_attr_str(&a, "rocky.project", p->project);
        rocky_otel_attr_str(&a, "rocky.run.trigger", p->trigger);
        rocky_otel_attr_str(&a, "rocky.run.status",
                            rocky_run_status_name(v->status));
        rocky_otel_attr_int(&a, "rocky.run.models_total", v->models_total);
        rocky_otel_attr_int(&a, "rocky.run.models_succeeded",
                            v->models_succeeded);
        rocky_otel_attr_int(&a, "rocky.run.models_failed", v->models_failed);
        rocky_otel_attr_int(&a, "rocky.run.models_skipped", v->models_skipped);
        rocky_otel_attr_str(&a, "rocky.version", p->version);
        err_text = rocky_run_status_name(v->status);
        error = v->status != ROCKY_RUN_SUCCESS;
    } else if (v->kind == ROCKY_OTEL_SPAN_STATEMENT) {
        sp->name = "statement.execute";
        rocky_otel_attr_str(&a, "rocky.adapter.name", p->adapter);
        rocky_otel_attr_str(&a, "rocky.statement.kind",
                            rocky_statement_kind_name(v->stmt_kind));
        rocky_otel_attr_int(&a, "rocky.retry.attempt", v->attempt);
        if (p->target[0])
            rocky_otel_attr_str(&a, "rocky.warehouse.table_ref", p->target);
        rocky_otel_attr_str(&a, "db.system.name", p->adapter);
        rocky_otel_attr_str(&a, "rocky.model.name", p->name);
        rocky_otel_attr_int(&a, "rocky.statement.sequence", v->sequence);
        rocky_otel_attr_str(&a, "rocky.statement.status",
                            rocky_model_status_name(v->status));
        if (v->rows_affected >= 0)
            rocky_otel_attr_int(&a, "rocky.statement.rows_affected",
                                v->rows_affected);
        rocky_otel_attr_str(&a, "rocky.run.id", p->run_id);
        err_text = p->error[0] ? p->error : rocky_model_status_name(v->status);
        error = ref_failed(v->status);
    } else {
        sp->name = "materialize.table";
        rocky_otel_attr_str(&a, "rocky.model.fqn", p->fqn);
        rocky_otel_attr_str(&a, "rocky.model.kind", "transformation");
        rocky_otel_attr_str(&a, "rocky.warehouse.table_ref", p->table_ref);
        rocky_otel_attr_str(&a, "rocky.model.name", p->name);
        rocky_otel_attr_str(&a, "rocky.model.materialization", "table");
        rocky_otel_attr_str(&a, "rocky.model.status",
                            rocky_model_status_name(v->status));
        if (v->rows_affected >= 0)
            rocky_otel_attr_int(&a, "rocky.model.rows_affected",
                                v->rows_affected);
        if (v->bytes_written >= 0)
            rocky_otel_attr_int(&a, "rocky.model.bytes_written",
                                v->bytes_written);
        rocky_otel_attr_str(&a, "rocky.model.sql_hash", p->sql_hash);
        rocky_otel_attr_int(&a, "rocky.model.attempt", v->attempt);
        if (p->adapter[0])
            rocky_otel_attr_str(&a, "rocky.adapter.name", p->adapter);
        rocky_otel_attr_str(&a, "rocky.run.id", p->run_id);
        err_text = p->error[0] ? p->error : rocky_model_status_name(v->status);
        error = ref_failed(v->status);
    }
    p->scratch_used += a.scratch_used;
    sp->n_attributes = a.n;
    sp->attributes = a.ptrs;
    sp->dropped_attributes_count = a.dropped;
    struct rocky_otel_attrs ea;
    pb_event *e;
    if (v->kind == ROCKY_OTEL_SPAN_RUN) {
    } else if (v->kind == ROCKY_OTEL_SPAN_STATEMENT) {
        if (v->attempt > 1) {
            e = ref_event_begin(p, &ea, "statement_retry", v->end_wall_ns,
                                limit);
            if (p->target[0])
                rocky_otel_attr_str(&ea, "rocky.event.target", p->target);
            rocky_otel_attr_int(&ea, "rocky.event.attempt", v->attempt);
            rocky_otel_attr_int(&ea, "rocky.event.max_attempts",
                                v->max_attempts);
            rocky_otel_attr_str(&ea, "rocky.event.error_class", "transient");
            ref_event_end(p, e, &ea);
        }
    } else if (v->status == ROCKY_MODEL_FAILED) {
        e = ref_event_begin(p, &ea, "materialize_error", v->end_wall_ns, limit);
        rocky_otel_attr_str(&ea, "rocky.event.target", p->name);
        rocky_otel_attr_str(&ea, "rocky.event.error", p->error);
        rocky_otel_attr_str(&ea, "rocky.event.error_class", "permanent");
        ref_event_end(p, e, &ea);
        e = ref_event_begin(p, &ea, "exception", v->end_wall_ns, limit);
        rocky_otel_attr_str(&ea, "exception.type", "rocky.ModelFailed");
        rocky_otel_attr_str(&ea, "exception.message",
                            p->error[0] ? p->error : "failed");
        ref_event_end(p, e, &ea);
    } else if (v->attempt > 1) {
        e = ref_event_begin(p, &ea, "materialize_retry", v->start_wall_ns,
                            limit);
        rocky_otel_attr_str(&ea, "rocky.event.target", p->name);
        rocky_otel_attr_int(&ea, "rocky.event.attempt", v->attempt);
        ref_event_end(p, e, &ea);
    }
    opentelemetry__proto__trace__v1__status__init(&p->status);
    if (error) {
        p->status.code =
            OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR;
        p->status.message = (char *)err_text;
    }
    sp->status = &p->status;
}

static void reference_free(struct ref_span *p)
{
    char **strs[] = {&p->run_id,  &p->adapter, &p->name,        &p->sql_hash,
                     &p->error,   &p->target,  &p->project,     &p->trigger,
                     &p->version, &p->fqn,     &p->trace_state, &p->table_ref,
                     &p->scratch};
    for (size_t i = 0; i < sizeof strs / sizeof *strs; i++)
        free(*strs[i]);
}

/* ---- views of every shape --------------------------------------------- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint32_t rnd(uint32_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state % n);
}

/* Strings a field may hold: empty, short, multi-byte (2, 3 and 4-byte
 * characters, so a limit cuts inside them), and long enough for two- and
 * three-byte length varints. */
static char long_ascii[600], long_utf8[1200], huge_utf8[20000];
static const char *samples[] = {
    "",
    "a",
    "orders",
    "\xC3\xA9t\xC3\xA9",                         /* été */
    "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E",      /* 日本語 */
    "x\xF0\x9F\x98\x80y\xF0\x9F\x98\x80z",       /* emoji */
    "failed: no such table: main.missing_table", /* an error text */
    long_ascii,
    long_utf8,
    huge_utf8,
};
#define N_SAMPLES (sizeof samples / sizeof *samples)

static void init_samples(void)
{
    memset(long_ascii, 'q', 511); /* the record's error field: 511 bytes */
    long_ascii[511] = '\0';
    size_t w = 0;
    while (w + 3 < sizeof long_utf8 - 1) { /* "é" then "日", repeated */
        memcpy(long_utf8 + w, w % 5 ? "\xC3\xA9" : "\xE6\x97\xA5",
               w % 5 ? 2 : 3);
        w += w % 5 ? 2 : 3;
    }
    long_utf8[w] = '\0';
    w = 0;
    while (w + 4 < sizeof huge_utf8 - 1) {
        memcpy(huge_utf8 + w, "\xF0\x9F\x98\x80", 4);
        w += 4;
    }
    huge_utf8[w] = '\0';
}

static struct rocky_otel_str pick(int allow_huge)
{
    const char *s = samples[rnd(allow_huge ? N_SAMPLES : N_SAMPLES - 1)];
    struct rocky_otel_str r = {s, (uint32_t)strlen(s)};
    return r;
}

static const uint8_t ids[3][16] = {
    {0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
     0xab, 0xab, 0xab, 0xab},
    {0, 0, 0, 0, 0, 0, 0, 1},
    {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};

static const int64_t limits[] = {-1, 0, 1, 2, 3, 5, 14, 15, 16, 17, 40, 600};
static const int64_t times[] = {
    0, -5, 1, 1000000000, 1700000000000000000LL, INT64_MAX};
static const int64_t counts[] = {-1, 0, 42, 300, INT64_MAX};
static const uint32_t attempts[] = {0, 1, 2, UINT32_MAX};
static const uint32_t numbers[] = {0, 1, 127, 128, 300, UINT32_MAX};

#define PICK(a) (a)[rnd(sizeof(a) / sizeof *(a))]

static void random_view(struct rocky_otel_span_view *v, uint32_t kind,
                        uint32_t status)
{
    memset(v, 0, sizeof *v);
    v->kind = kind;
    v->status = status;
    v->attempt = PICK(attempts);
    v->max_attempts = PICK(numbers);
    v->stmt_kind = rnd(6);
    v->sequence = PICK(numbers);
    v->models_total = PICK(numbers);
    v->models_failed = PICK(numbers);
    v->models_succeeded = PICK(numbers);
    v->models_skipped = PICK(numbers);
    v->start_wall_ns = PICK(times);
    v->end_wall_ns = PICK(times);
    v->rows_affected = PICK(counts);
    v->bytes_written = PICK(counts);
    v->trace_id = ids[0];
    v->span_id = ids[1 + rnd(2)];
    v->parent_span_id = rnd(2) ? ids[1 + rnd(2)] : NULL;
    int huge = rnd(50) == 0; /* now and then a 20 KB string */
    v->run_id = pick(huge);
    v->adapter = pick(0);
    v->name = pick(huge);
    v->sql_hash = pick(0);
    v->error = pick(huge);
    v->target = pick(0);
    v->project = pick(0);
    v->trigger = pick(0);
    v->version = pick(0);
    v->trace_state = pick(huge);
}

/* Our bytes for one span vs protobuf-c's; returns the size. */
static size_t compare_one(const struct rocky_otel_span_view *v, int64_t limit)
{
    struct ref_span ref;
    reference_build(&ref, v, limit);
    size_t want = protobuf_c_message_get_packed_size(&ref.span.base);
    uint8_t *expect = malloc(want + 1), *got = malloc(want + 64);
    assert_non_null(expect);
    assert_non_null(got);
    protobuf_c_message_pack(&ref.span.base, expect);
    struct rocky_otel_span_plan plan;
    size_t size = rocky_otel_span_plan(v, limit, &plan);
    if (size != want && size < want + 64) {
        /* Say where they part, for the one debugging it. */
        uint8_t *end = rocky_otel_span_write(&plan, got);
        size_t n = (size_t)(end - got) < want ? (size_t)(end - got) : want, i;
        for (i = 0; i < n && got[i] == expect[i]; i++)
            ;
        print_message("first difference at byte %zu of %zu\n", i, want);
        for (size_t j = i > 24 ? i - 24 : 0; j < i + 24 && j < n; j++)
            print_message("%zu: %02x %02x %c\n", j, got[j], expect[j],
                          expect[j] >= 32 && expect[j] < 127 ? expect[j] : '.');
    }
    if (size != want)
        fail_msg("kind %u status %u limit %lld: planned %zu bytes, protobuf-c "
                 "packs %zu",
                 v->kind, v->status, (long long)limit, size, want);
    memset(got, 0xEE, want + 64);
    uint8_t *end = rocky_otel_span_write(&plan, got);
    assert_int_equal((size_t)(end - got), want);
    for (size_t i = 0; i < want; i++)
        if (got[i] != expect[i])
            fail_msg("kind %u status %u limit %lld: byte %zu of %zu is "
                     "0x%02x, protobuf-c writes 0x%02x",
                     v->kind, v->status, (long long)limit, i, want, got[i],
                     expect[i]);
    assert_int_equal(got[want], 0xEE); /* nothing past the planned size */
    free(expect);
    free(got);
    reference_free(&ref);
    return want;
}

/* Every kind (and an unknown one, encoded as a model) x every status (and
 * an unknown one) x every limit, with random strings, numbers and times:
 * 4 x 9 x 12 x 40 = 17,280 spans. */
static void test_every_field_combination_packs_like_protobuf_c(void **state)
{
    (void)state;
    const uint32_t kinds[] = {ROCKY_OTEL_SPAN_RUN, ROCKY_OTEL_SPAN_MODEL,
                              ROCKY_OTEL_SPAN_STATEMENT, 9};
    size_t spans = 0, three_byte = 0;
    for (size_t k = 0; k < 4; k++)
        for (uint32_t status = 0; status < 9; status++)
            for (size_t l = 0; l < sizeof limits / sizeof *limits; l++)
                for (int r = 0; r < 40; r++) {
                    struct rocky_otel_span_view v;
                    random_view(&v, kinds[k], status == 8 ? 99 : status);
                    size_t n = compare_one(&v, limits[l]);
                    spans++;
                    three_byte += n >= 16384;
                }
    assert_int_equal(spans, 4 * 9 * 12 * 40);
    assert_true(three_byte > 0); /* the three-byte lengths were exercised */
}

/* The extremes no random draw is sure to hit: every string at its longest,
 * every number at its widest, failed with a retry; and every string empty
 * with zero times. */
static void test_extreme_spans_pack_like_protobuf_c(void **state)
{
    (void)state;
    for (uint32_t kind = 1; kind <= 3; kind++) {
        for (int empty = 0; empty < 2; empty++) {
            struct rocky_otel_span_view v;
            memset(&v, 0, sizeof v);
            v.kind = kind;
            v.status = kind == ROCKY_OTEL_SPAN_RUN ? ROCKY_RUN_PARTIAL_FAILURE
                                                   : ROCKY_MODEL_FAILED;
            v.trace_id = ids[2];
            v.span_id = ids[2];
            struct rocky_otel_str s = {long_utf8, (uint32_t)strlen(long_utf8)};
            if (empty) {
                s.p = "";
                s.len = 0;
                v.attempt = 1;
            } else {
                v.parent_span_id = ids[2];
                v.start_wall_ns = v.end_wall_ns = INT64_MAX;
                v.rows_affected = v.bytes_written = INT64_MAX;
                v.attempt = v.max_attempts = v.sequence = UINT32_MAX;
                v.models_total = v.models_failed = UINT32_MAX;
                v.models_succeeded = v.models_skipped = UINT32_MAX;
            }
            v.run_id = v.adapter = v.name = v.sql_hash = v.error = v.target =
                v.project = v.trigger = v.version = v.trace_state = s;
            for (size_t l = 0; l < sizeof limits / sizeof *limits; l++)
                compare_one(&v, limits[l]);
        }
    }
}

/* ---- whole requests ----------------------------------------------------- */

static struct rocky_otel_config cfg;
static struct rocky_otel_resource res;

static int setup(void **state)
{
    (void)state;
    init_samples();
    memset(&cfg, 0, sizeof cfg);
    strcpy(cfg.service_name, "svc");
    return rocky_otel_resource_init(&res, &cfg, "1.2.3");
}

static int teardown(void **state)
{
    (void)state;
    rocky_otel_resource_free(&res);
    return 0;
}

/* Spans of every kind from events, as the exporter gets them. */
static void make_spans(struct rocky_otel_span *out, size_t n)
{
    struct test_run t;
    test_run_init(&t);
    static char err[700];
    memset(err, 'e', sizeof err - 1);
    for (size_t i = 0; i < n; i++) {
        t.model.status = (uint32_t)(i % 6);
        t.model.attempt = (uint32_t)(1 + i % 3);
        t.model.rows_affected = i % 4 ? (int64_t)i : -1;
        t.model.bytes_written = i % 5 ? (int64_t)(i * 1000) : -1;
        t.model.error = i % 7 == 0 ? "" : i % 7 == 1 ? err : "boom \xC3\xA9";
        snprintf(t.name, sizeof t.name, "model_%zu_\xE6\x97\xA5", i);
        t.model.span_id[7] = (uint8_t)i;
        t.stmt.attempt = (uint32_t)(1 + i % 2);
        t.stmt.rows = i % 3 ? (int64_t)i : -1;
        t.stmt.target = i % 2 ? "main.orders" : "";
        t.stmt.status = t.model.status;
        t.run.status = (uint32_t)(i % 7);
        uint32_t type = i % 3 == 0   ? ROCKY_EVENT_RUN_END
                        : i % 3 == 1 ? ROCKY_EVENT_MODEL_END
                                     : ROCKY_EVENT_STATEMENT_END;
        assert_int_equal(
            rocky_otel_span_from_event(test_event(&t, type), &out[i]), 0);
    }
}

/* protobuf-c's pack of the whole request of `n` spans. */
static uint8_t *reference_request(const struct rocky_otel_span *const *spans,
                                  size_t n, int64_t limit, size_t *len)
{
    struct ref_span *refs = calloc(n + 1, sizeof *refs);
    pb_span **ptrs = calloc(n + 1, sizeof *ptrs);
    struct rocky_otel_span_view *views = calloc(n + 1, sizeof *views);
    assert_true(refs && ptrs && views);
    for (size_t i = 0; i < n; i++) {
        rocky_otel_span_view_of(spans[i], &views[i]);
        reference_build(&refs[i], &views[i], limit);
        ptrs[i] = &refs[i].span;
    }
    Opentelemetry__Proto__Trace__V1__ScopeSpans ss;
    opentelemetry__proto__trace__v1__scope_spans__init(&ss);
    ss.scope = &res.scope;
    ss.n_spans = n;
    ss.spans = ptrs;
    Opentelemetry__Proto__Trace__V1__ScopeSpans *ssp = &ss;
    Opentelemetry__Proto__Trace__V1__ResourceSpans rs;
    opentelemetry__proto__trace__v1__resource_spans__init(&rs);
    rs.resource = &res.resource;
    rs.n_scope_spans = 1;
    rs.scope_spans = &ssp;
    Opentelemetry__Proto__Trace__V1__ResourceSpans *rsp = &rs;
    treq req;
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__init(
        &req);
    req.n_resource_spans = 1;
    req.resource_spans = &rsp;
    *len = protobuf_c_message_get_packed_size(&req.base);
    uint8_t *buf = malloc(*len + 1);
    assert_non_null(buf);
    protobuf_c_message_pack(&req.base, buf);
    for (size_t i = 0; i < n; i++)
        reference_free(&refs[i]);
    free(refs);
    free(ptrs);
    free(views);
    return buf;
}

/* 0, 1, 2, 700 and 3,000 spans (multi-byte lengths at every level), with
 * and without a limit, fresh and through a reused scratch: the request is
 * protobuf-c's bytes, and protobuf-c decodes it to the same spans. */
static void test_whole_requests_pack_like_protobuf_c(void **state)
{
    (void)state;
    enum { MANY = 3000 };
    static struct rocky_otel_span spans[MANY];
    static const struct rocky_otel_span *ptrs[MANY];
    make_spans(spans, MANY);
    for (size_t i = 0; i < MANY; i++)
        ptrs[i] = &spans[i];
    const size_t sizes[] = {0, 1, 2, 3, 700, MANY};
    const int64_t lims[] = {-1, 4, 20};
    struct rocky_otel_encode_scratch scratch = {0};
    for (size_t l = 0; l < 3; l++) {
        for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
            size_t want_len;
            uint8_t *want =
                reference_request(ptrs, sizes[k], lims[l], &want_len);
            for (int reuse = 0; reuse < 2; reuse++) {
                uint8_t *got;
                size_t got_len, left_out = 9;
                assert_int_equal(
                    rocky_otel_encode_traces(&res, ptrs, sizes[k], lims[l],
                                             reuse ? &scratch : NULL, &got,
                                             &got_len, &left_out),
                    0);
                assert_int_equal(left_out, 0);
                assert_int_equal(got_len, want_len);
                assert_memory_equal(got, want, want_len);
                treq *r =
                    opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
                        NULL, got_len, got);
                assert_non_null(r);
                assert_int_equal(r->resource_spans[0]->scope_spans[0]->n_spans,
                                 sizes[k]);
                opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(
                    r, NULL);
                if (!reuse)
                    free(got);
            }
            free(want);
        }
    }
    rocky_otel_encode_scratch_free(&scratch);
}

/* A decoded span has the fields the view had, cut where the limit says:
 * protobuf-c's decoder as a check independent of the reference. */
static void test_decoded_span_has_the_views_fields(void **state)
{
    (void)state;
    struct test_run t;
    test_run_init(&t);
    snprintf(t.name, sizeof t.name, "%s", "\xC3\xA9t\xC3\xA9_orders");
    t.model.status = ROCKY_MODEL_FAILED;
    t.model.error = "boom";
    t.model.attempt = 3;
    t.model.rows_affected = -1;
    struct rocky_otel_span s;
    assert_int_equal(
        rocky_otel_span_from_event(test_event(&t, ROCKY_EVENT_MODEL_END), &s),
        0);
    const struct rocky_otel_span *one[] = {&s};
    uint8_t *buf;
    size_t len;
    assert_int_equal(
        rocky_otel_encode_traces(&res, one, 1, 17, NULL, &buf, &len, NULL), 0);
    treq *r =
        opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
            NULL, len, buf);
    assert_non_null(r);
    pb_span *sp = r->resource_spans[0]->scope_spans[0]->spans[0];
    assert_string_equal(sp->name, "materialize.table");
    assert_int_equal(sp->kind, 1);
    assert_int_equal(sp->status->code, 2);
    assert_string_equal(sp->status->message, "boom");
    assert_int_equal(sp->n_events, 2);
    assert_int_equal(sp->parent_span_id.len, 8);
    /* "transformation:" is 15 characters: 2 more of the name fit in 17. */
    assert_string_equal(sp->attributes[0]->key, "rocky.model.fqn");
    assert_string_equal(sp->attributes[0]->value->string_value,
                        "transformation:\xC3\xA9t");
    for (size_t i = 0; i < sp->n_attributes; i++)
        assert_string_not_equal(sp->attributes[i]->key,
                                "rocky.model.rows_affected");
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(
        r, NULL);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_field_combination_packs_like_protobuf_c),
        cmocka_unit_test(test_extreme_spans_pack_like_protobuf_c),
        cmocka_unit_test(test_whole_requests_pack_like_protobuf_c),
        cmocka_unit_test(test_decoded_span_has_the_views_fields),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
