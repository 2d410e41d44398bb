/* Unit tests: a span packed for the queue unpacks to exactly the span
 * rocky_otel_span_from_event builds from the same event. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otel_test_events.h"
#include "span_pack.h"
#include "span_view.h"

static void assert_str_same(struct rocky_otel_str a, struct rocky_otel_str b)
{
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.p, b.p, a.len);
}

/* Every field the encoder can see. */
static void assert_same_view(const struct rocky_otel_span_view *pa,
                             const struct rocky_otel_span_view *pb)
{
    const struct rocky_otel_span_view va = *pa, vb = *pb;
    assert_int_equal(va.kind, vb.kind);
    assert_int_equal(va.status, vb.status);
    assert_int_equal(va.attempt, vb.attempt);
    assert_int_equal(va.max_attempts, vb.max_attempts);
    assert_int_equal(va.stmt_kind, vb.stmt_kind);
    assert_int_equal(va.sequence, vb.sequence);
    assert_int_equal(va.models_total, vb.models_total);
    assert_int_equal(va.models_failed, vb.models_failed);
    assert_int_equal(va.models_succeeded, vb.models_succeeded);
    assert_int_equal(va.models_skipped, vb.models_skipped);
    assert_int_equal(va.start_wall_ns, vb.start_wall_ns);
    assert_int_equal(va.end_wall_ns, vb.end_wall_ns);
    assert_int_equal(va.rows_affected, vb.rows_affected);
    assert_int_equal(va.bytes_written, vb.bytes_written);
    assert_memory_equal(va.trace_id, vb.trace_id, ROCKY_TRACE_ID_SIZE);
    assert_memory_equal(va.span_id, vb.span_id, ROCKY_SPAN_ID_SIZE);
    assert_true((va.parent_span_id == NULL) == (vb.parent_span_id == NULL));
    if (va.parent_span_id)
        assert_memory_equal(va.parent_span_id, vb.parent_span_id,
                            ROCKY_SPAN_ID_SIZE);
    assert_str_same(va.run_id, vb.run_id);
    assert_str_same(va.adapter, vb.adapter);
    assert_str_same(va.name, vb.name);
    assert_str_same(va.sql_hash, vb.sql_hash);
    assert_str_same(va.error, vb.error);
    assert_str_same(va.target, vb.target);
    assert_str_same(va.project, vb.project);
    assert_str_same(va.trigger, vb.trigger);
    assert_str_same(va.version, vb.version);
    assert_str_same(va.trace_state, vb.trace_state);
}

/* Every field the encoder can see, through span_view. */
static void assert_same_span(const struct rocky_otel_span *a,
                             const struct rocky_otel_span *b)
{
    struct rocky_otel_span_view va, vb;
    rocky_otel_span_view_of(a, &va);
    rocky_otel_span_view_of(b, &vb);
    assert_same_view(&va, &vb);
}

/* REF records viewed straight from their bytes: how many were (0) and how
 * many were left to unpack (1). */
static int direct_views, unpacked_views;

/* MODEL_END records of the current run the queue writes the fast way, byte
 * for byte as the general way (and how many the fast way took). */
static int fast_records;

static void check_fast_write(const struct rocky_event *ev, int64_t base,
                             const uint8_t *rec, uint32_t size)
{
    struct rocky_otel_pack_fast f;
    uint32_t fast_size;
    if (ev->type != ROCKY_EVENT_MODEL_END ||
        (fast_size = rocky_otel_pack_fast_prepare(ev, &f)) == 0)
        return;
    assert_int_equal(fast_size, size);
    uint8_t *fast = malloc(size); /* exactly: ASan sees a write past it */
    assert_non_null(fast);
    rocky_otel_pack_fast_write(&f, base, fast);
    assert_memory_equal(fast, rec, size);
    free(fast);
    fast_records++;
}

/* The consumer's current run, as the queue's consumer keeps it. */
static struct rocky_otel_span_run current;

/* Pack as `mode`, unpack and compare with from_event; returns the packed
 * size. */
static uint32_t pack_as(const struct rocky_event *ev, int mode)
{
    struct rocky_otel_span want, got;
    struct rocky_otel_span_pack pk;
    assert_int_equal(rocky_otel_span_from_event(ev, &want), 0);
    assert_int_equal(rocky_otel_span_pack_prepare(ev, &pk), 0);
    int64_t base = current.base;
    uint32_t size = rocky_otel_span_pack_size(&pk, mode, base);
    assert_true(size <= ROCKY_OTEL_PACK_MAX);
    /* Exactly `size` bytes: ASan sees a write or read past them. */
    uint8_t *rec = malloc(size);
    assert_non_null(rec);
    rocky_otel_span_pack_write(&pk, mode, base, size, rec);
    if (mode == ROCKY_OTEL_PACK_RUN_REF)
        check_fast_write(ev, base, rec, size);
    memset(&got, 0x5c, sizeof got);
    /* The record viewed in place, against the current run as it was
     * before the record (a DEFINE record changes it): the same view as
     * from_event's span, or left to unpack. */
    struct rocky_otel_span_view_run vrun;
    struct rocky_otel_span_view direct, expect;
    int have_run = current.valid;
    if (have_run)
        rocky_otel_span_view_run_of(&current, &vrun);
    assert_int_equal(rocky_otel_span_unpack(rec, size, &current, &got), 0);
    assert_same_span(&want, &got);
    if (have_run) {
        memset(&direct, 0x5c, sizeof direct);
        int rc = rocky_otel_span_view_of_record(rec, size, &vrun, &direct);
        if (mode != ROCKY_OTEL_PACK_RUN_REF) {
            assert_int_equal(rc, 1);
        } else {
            assert_true(rc == 0 || rc == 1);
            if (rc == 0) {
                rocky_otel_span_view_of(&want, &expect);
                assert_same_view(&direct, &expect);
                direct_views++;
            } else {
                unpacked_views++;
            }
        }
    }
    free(rec);
    return size;
}

/* Inline, then defining the current run, then referring to it. Returns
 * the size as a REF record. */
static uint32_t round_trip(const struct rocky_event *ev)
{
    pack_as(ev, ROCKY_OTEL_PACK_RUN_INLINE);
    pack_as(ev, ROCKY_OTEL_PACK_RUN_DEFINE);
    return pack_as(ev, ROCKY_OTEL_PACK_RUN_REF);
}

static const char hex64[] =
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

static void test_typical_model_span_round_trips_small(void **state)
{
    struct test_run t;
    test_run_init(&t);
    strcpy(t.name, "analytics.daily_orders");
    t.model.sql_hash = hex64;
    t.run.run_id = "bench-run";
    t.run.adapter = "sqlite";
    const struct rocky_event *ev = test_event(&t, ROCKY_EVENT_MODEL_END);
    uint32_t inline_size = pack_as(ev, ROCKY_OTEL_PACK_RUN_INLINE);
    pack_as(ev, ROCKY_OTEL_PACK_RUN_DEFINE);
    t.model.started_wall_ns += 123456789; /* the next model, 0.12 s on */
    t.model.finished_wall_ns += 123456789;
    t.model.span_id[0] ^= 1;
    fast_records = 0;
    uint32_t size = pack_as(ev, ROCKY_OTEL_PACK_RUN_REF);
    assert_int_equal(fast_records, 1);
    /* Span id 8, hash 32 in binary, name 22, fixed numbers 20: 85 bytes
     * with the flags; the run's part (trace id, parent, run_id, adapter)
     * is not repeated, and the start is a difference from the run's first
     * span. */
    assert_int_equal(size, 85);
    /* The run's part (41 bytes here) is not repeated; the fixed numbers
     * take 4 bytes more than this span's group and start. */
    assert_true(inline_size - size >= 16 + 8 + 10 + 7 - 4);
    round_trip(ev);
    t.model.error = "no such table: main.src";
    t.model.status = ROCKY_MODEL_FAILED;
    t.model.rows_affected = -1;
    t.model.bytes_written = -1;
    round_trip(test_event(&t, ROCKY_EVENT_MODEL_END));
}

static void test_statement_span_round_trips(void **state)
{
    struct test_run t;
    test_run_init(&t);
    t.stmt.sequence = 300;
    t.stmt.error = "locked";
    round_trip(test_event(&t, ROCKY_EVENT_STATEMENT_END));
    t.stmt.target = NULL;
    t.stmt.rows = INT64_MAX;
    round_trip(test_event(&t, ROCKY_EVENT_STATEMENT_END));
}

static void test_hashes_that_are_not_lowercase_sha256_stay_text(void **state)
{
    struct test_run t;
    test_run_init(&t);
    char h[80];
    const char *cases[] = {hex64, "", "00ff", NULL};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        t.model.sql_hash = cases[i];
        round_trip(test_event(&t, ROCKY_EVENT_MODEL_END));
    }
    /* One wrong character at every place, of every awkward kind. */
    const char bad[] = {'A', 'F', 'g', '/', ':', '`', '@', (char)0xC3, '\x7f'};
    t.model.sql_hash = h;
    for (int at = 0; at < 64; at++)
        for (size_t k = 0; k < sizeof bad; k++) {
            memcpy(h, hex64, 65);
            h[at] = bad[k];
            round_trip(test_event(&t, ROCKY_EVENT_MODEL_END));
        }
    /* 63, 65 and 71+ characters. */
    for (int n = 60; n < 80; n++) {
        memset(h, 'a', (size_t)n);
        h[n] = '\0';
        round_trip(test_event(&t, ROCKY_EVENT_MODEL_END));
    }
}

/* Random bytes (invalid UTF-8 included) of random lengths, past every
 * array's size: unpacked strings are sanitized and cut exactly as
 * from_event's. */
static void fill(unsigned *seed, char *buf, size_t max)
{
    size_t n = (size_t)rand_r(seed) % max;
    for (size_t i = 0; i < n; i++) {
        unsigned r = (unsigned)rand_r(seed);
        buf[i] = r % 4 ? (char)('a' + r % 26) : (char)(0x80 | (r % 128));
        if (r % 7 == 0)
            buf[i] = "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"[r % 9];
        if (buf[i] == 0)
            buf[i] = 'z';
    }
    buf[n] = '\0';
}

static void test_random_strings_and_numbers_round_trip(void **state)
{
    struct test_run t;
    test_run_init(&t);
    static char run_id[200], adapter[40], hash[100], err[700], target[300];
    unsigned seed = 7;
    for (int i = 0; i < 4000; i++) {
        /* A new run now and then: its first span defines it, the rest
         * refer to it (and are packed inline too). */
        int new_run = i % 10 == 0;
        if (new_run) {
            fill(&seed, run_id, sizeof run_id);
            fill(&seed, adapter, sizeof adapter);
            t.run.run_id = i % 5 ? run_id : NULL;
            t.run.adapter = i % 3 ? adapter : NULL;
            t.run.trace_id[i % 16] ^= (uint8_t)i;
            t.run.span_id[i % 8] ^= (uint8_t)(i >> 3);
        }
        fill(&seed, t.name, sizeof t.name);
        fill(&seed, hash, sizeof hash);
        fill(&seed, err, sizeof err);
        fill(&seed, target, sizeof target);
        t.model.sql_hash = i % 11 ? hash : NULL;
        t.model.error = i % 2 ? err : NULL;
        t.stmt.error = i % 3 ? err : NULL;
        t.stmt.target = target;
        int64_t big = (int64_t)(((uint64_t)rand_r(&seed) << 40) ^
                                (uint64_t)rand_r(&seed));
        t.model.rows_affected = i % 4 == 0 ? -1 : big;
        t.model.bytes_written = i % 4 == 1 ? INT64_MIN : big / 3;
        t.model.started_wall_ns = i % 6 == 0 ? 0 : big;
        t.model.finished_wall_ns = i % 7 == 0 ? 0 : big - i % 3;
        t.model.status = (uint32_t)rand_r(&seed);
        t.model.attempt = (uint32_t)rand_r(&seed) % 300;
        t.stmt.rows = big ^ 5;
        t.stmt.started_wall_ns = i % 5 == 0 ? 0 : big;
        t.stmt.finished_wall_ns = i % 9 == 0 ? 0 : big + 12345;
        t.stmt.max_attempts = (uint32_t)i * 977;
        t.stmt.sequence = (uint32_t)rand_r(&seed);
        t.stmt.kind = (uint32_t)i % 4;
        t.model.span_id[i % 8] = (uint8_t)i;
        const struct rocky_event *m = test_event(&t, ROCKY_EVENT_MODEL_END);
        if (new_run)
            pack_as(m, ROCKY_OTEL_PACK_RUN_DEFINE);
        pack_as(m, ROCKY_OTEL_PACK_RUN_REF);
        pack_as(m, ROCKY_OTEL_PACK_RUN_INLINE);
        const struct rocky_event *st =
            test_event(&t, ROCKY_EVENT_STATEMENT_END);
        pack_as(st, ROCKY_OTEL_PACK_RUN_REF);
        pack_as(st, ROCKY_OTEL_PACK_RUN_INLINE);
    }
}

/* Strings for the direct-view test: plain ASCII of any length up to past
 * the field's size (the ones at or over it are cut by COPY: left to
 * unpack), now and then a byte sanitizing changes. */
static void fill_mostly_ascii(unsigned *seed, char *buf, size_t max)
{
    size_t n = (size_t)rand_r(seed) % max;
    for (size_t i = 0; i < n; i++)
        buf[i] = (char)(' ' + rand_r(seed) % 95);
    if (n && rand_r(seed) % 8 == 0)
        buf[(size_t)rand_r(seed) % n] =
            "\xC3\xA9\xFF\x80\xED\xA0\x80\xF4"[rand_r(seed) % 8];
    buf[n] = '\0';
}

static void test_ref_records_view_in_place_as_from_event(void **state)
{
    struct test_run t;
    test_run_init(&t);
    static char run_id[100], adapter[24], hash[80], err[530], target[150];
    unsigned seed = 11;
    direct_views = unpacked_views = fast_records = 0;
    memset(&current, 0, sizeof current);
    for (int i = 0; i < 6000; i++) {
        if (i % 20 == 0) {
            fill_mostly_ascii(&seed, run_id, sizeof run_id);
            fill_mostly_ascii(&seed, adapter, sizeof adapter);
            t.run.run_id = i % 60 ? run_id : NULL;
            t.run.adapter = adapter;
            /* now and then a run span id of zeros: no parent */
            memset(t.run.span_id, i % 80 ? 0x11 + i : 0, 8);
            pack_as(test_event(&t, ROCKY_EVENT_MODEL_END),
                    ROCKY_OTEL_PACK_RUN_DEFINE);
        }
        fill_mostly_ascii(&seed, t.name, sizeof t.name);
        fill_mostly_ascii(&seed, hash, sizeof hash);
        fill_mostly_ascii(&seed, err, sizeof err);
        fill_mostly_ascii(&seed, target, sizeof target);
        /* a SHA-256 in hex (kept binary) or text */
        t.model.sql_hash = i % 3 == 0 ? hex64 : i % 3 == 1 ? hash : NULL;
        t.model.error = i % 4 ? NULL : err;
        t.stmt.error = i % 5 ? NULL : err;
        t.stmt.target = i % 7 ? target : NULL;
        int64_t big = (int64_t)(((uint64_t)rand_r(&seed) << 33) ^
                                (uint64_t)rand_r(&seed));
        t.model.rows_affected = i % 4 == 0 ? -1 : big;
        t.model.bytes_written = i % 4 == 1 ? INT64_MIN : big / 7;
        t.model.started_wall_ns = i % 9 == 0 ? 0 : 1000000000 + big % 999;
        t.model.finished_wall_ns = i % 7 == 0 ? 0 : big;
        t.model.status = (uint32_t)rand_r(&seed) % (i % 2 ? 6 : 1000);
        t.model.attempt = (uint32_t)rand_r(&seed) % (i % 2 ? 4 : 300);
        t.stmt.rows = big ^ 5;
        t.stmt.started_wall_ns = big;
        t.stmt.finished_wall_ns = big + 12345;
        t.stmt.max_attempts = (uint32_t)i * 977;
        t.stmt.sequence = (uint32_t)rand_r(&seed);
        t.stmt.kind = (uint32_t)i % 4;
        t.stmt.status = (uint32_t)i % 5;
        t.stmt.attempt = (uint32_t)i % 3;
        t.model.span_id[i % 8] = (uint8_t)i;
        t.stmt.span_id[i % 8] = (uint8_t)(i * 3);
        /* now and then numbers at the edge of the fixed ones (below 2^32
         * zigzagged, a duration below 2^32 ns), or just past it */
        if (i % 6 == 5) {
            int64_t edge = i % 12 == 5 ? 0 : 1; /* 1: just past */
            t.model.sql_hash = hex64;
            t.model.rows_affected = i % 4 == 1 ? -1 : 0x7FFFFFFF + edge;
            t.model.bytes_written = -0x80000000LL - edge;
            t.model.started_wall_ns = 1000000000 + big % 999;
            t.model.finished_wall_ns =
                t.model.started_wall_ns + 0xFFFFFFFFLL + (i % 24 == 5) - edge;
        }
        /* a statement's model span id of zeros: no parent */
        if (i % 50 == 0)
            memset(t.model.span_id, 0, 8);
        pack_as(test_event(&t, ROCKY_EVENT_MODEL_END), ROCKY_OTEL_PACK_RUN_REF);
        pack_as(test_event(&t, ROCKY_EVENT_STATEMENT_END),
                ROCKY_OTEL_PACK_RUN_REF);
        pack_as(test_event(&t, ROCKY_EVENT_MODEL_END),
                ROCKY_OTEL_PACK_RUN_INLINE);
    }
    /* Both ways were taken, the direct one for most; and the fast writer
     * for the MODEL_END records it is for (a binary hash, no error, small
     * numbers: about one in nine here). */
    assert_true(direct_views > 4000);
    assert_true(unpacked_views > 1000);
    assert_true(fast_records > 50);
}

static void test_typical_ref_record_is_viewed_in_place(void **state)
{
    struct test_run t;
    test_run_init(&t);
    t.model.sql_hash = hex64;
    memset(&current, 0, sizeof current);
    pack_as(test_event(&t, ROCKY_EVENT_MODEL_END), ROCKY_OTEL_PACK_RUN_DEFINE);
    direct_views = unpacked_views = 0;
    pack_as(test_event(&t, ROCKY_EVENT_MODEL_END), ROCKY_OTEL_PACK_RUN_REF);
    pack_as(test_event(&t, ROCKY_EVENT_STATEMENT_END), ROCKY_OTEL_PACK_RUN_REF);
    assert_int_equal(direct_views, 2);
    assert_int_equal(unpacked_views, 0);
}

static void test_events_that_are_not_packed_are_refused(void **state)
{
    struct test_run t;
    test_run_init(&t);
    struct rocky_otel_span_pack pk;
    assert_int_equal(
        rocky_otel_span_pack_prepare(test_event(&t, ROCKY_EVENT_RUN_END), &pk),
        ROCKY_EINVAL);
    assert_int_equal(rocky_otel_span_pack_prepare(
                         test_event(&t, ROCKY_EVENT_MODEL_START), &pk),
                     ROCKY_EINVAL);
    const struct rocky_event *ev = test_event(&t, ROCKY_EVENT_STATEMENT_END);
    t.ev.statement = NULL;
    assert_int_equal(rocky_otel_span_pack_prepare(ev, &pk), ROCKY_EINVAL);
}

static void test_unpack_refuses_bytes_that_do_not_parse(void **state)
{
    struct test_run t;
    test_run_init(&t);
    struct rocky_otel_span_pack pk;
    struct rocky_otel_span s;
    struct rocky_otel_span_run run = {0};
    uint8_t rec[ROCKY_OTEL_PACK_MAX];
    assert_int_equal(rocky_otel_span_pack_prepare(
                         test_event(&t, ROCKY_EVENT_MODEL_END), &pk),
                     0);
    uint32_t size = rocky_otel_span_pack_size(&pk, ROCKY_OTEL_PACK_RUN_REF, 0);
    rocky_otel_span_pack_write(&pk, ROCKY_OTEL_PACK_RUN_REF, 0, size, rec);
    /* A REF record with no current run. */
    assert_int_equal(rocky_otel_span_unpack(rec, size, &run, &s), ROCKY_EINVAL);
    size = rocky_otel_span_pack_size(&pk, ROCKY_OTEL_PACK_RUN_DEFINE, 0);
    rocky_otel_span_pack_write(&pk, ROCKY_OTEL_PACK_RUN_DEFINE, 0, size, rec);
    for (uint32_t n = 0; n < size; n++) { /* every truncation */
        assert_int_equal(rocky_otel_span_unpack(rec, n, &run, &s),
                         ROCKY_EINVAL);
        assert_false(run.valid); /* a broken DEFINE defines nothing */
    }
    assert_int_equal(rocky_otel_span_unpack(rec, size, &run, &s), 0);
    assert_true(run.valid);
    /* The in-place view of every truncated REF record: refused, never a
     * read past its bytes (each copy is exactly n bytes: ASan). */
    struct rocky_otel_span_view_run vrun;
    struct rocky_otel_span_view v;
    rocky_otel_span_view_run_of(&run, &vrun);
    size = rocky_otel_span_pack_size(&pk, ROCKY_OTEL_PACK_RUN_REF, 0);
    rocky_otel_span_pack_write(&pk, ROCKY_OTEL_PACK_RUN_REF, 0, size, rec);
    for (uint32_t n = 0; n <= size; n++) {
        uint8_t *cut = malloc(n ? n : 1);
        assert_non_null(cut);
        memcpy(cut, rec, n);
        assert_int_equal(rocky_otel_span_view_of_record(cut, n, &vrun, &v),
                         n == size ? 0 : ROCKY_EINVAL);
        free(cut);
    }
    rec[0] = 9; /* no such kind */
    assert_int_equal(rocky_otel_span_unpack(rec, size, &run, &s), ROCKY_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_typical_model_span_round_trips_small),
        cmocka_unit_test(test_statement_span_round_trips),
        cmocka_unit_test(test_hashes_that_are_not_lowercase_sha256_stay_text),
        cmocka_unit_test(test_random_strings_and_numbers_round_trip),
        cmocka_unit_test(test_typical_ref_record_is_viewed_in_place),
        cmocka_unit_test(test_ref_records_view_in_place_as_from_event),
        cmocka_unit_test(test_events_that_are_not_packed_are_refused),
        cmocka_unit_test(test_unpack_refuses_bytes_that_do_not_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
