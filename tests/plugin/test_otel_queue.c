/* Unit tests: the bounded span queue. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "otel_test_events.h"
#include "queue.h"
#include "span_view.h"

/* Push one event, as the exporter does, without the queued count. */
static int push(struct rocky_otel_queue *q, const struct rocky_event *ev)
{
    size_t queued;
    return rocky_otel_queue_push(q, ev, &queued);
}

/* A view's string as a NUL-terminated copy in `buf` (tests compare text). */
static const char *text(struct rocky_otel_str str, char *buf, size_t size)
{
    size_t n = str.len < size - 1 ? str.len : size - 1;
    memcpy(buf, str.p, n);
    buf[n] = '\0';
    return buf;
}

static void test_spans_come_out_in_order_with_their_fields(void **state)
{
    struct rocky_otel_queue *q;
    assert_int_equal(rocky_otel_queue_new(8, &q), 0);
    struct test_run t;
    test_run_init(&t);
    /* What from_event makes of each: every field must come out so, by
     * whichever way push wrote it (the first installs the run, the others
     * take the straight path for the common span). */
    static struct rocky_otel_span want[3];
    static const char hash[] =
        "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    t.model.sql_hash = hash;
    for (int i = 0; i < 3; i++) {
        snprintf(t.name, sizeof t.name, "m%d", i);
        t.model.attempt = (uint32_t)i + 1;
        t.model.bytes_written = 1000 * i - 1;
        t.model.finished_wall_ns = t.model.started_wall_ns + 7 + i;
        t.model.span_id[0] = (uint8_t)(0x10 + i);
        const struct rocky_event *ev = test_event(&t, ROCKY_EVENT_MODEL_END);
        assert_int_equal(rocky_otel_span_from_event(ev, &want[i]), 0);
        assert_int_equal(push(q, ev), 0);
    }
    assert_int_equal(rocky_otel_queue_size(q), 3);
    for (int i = 0; i < 3; i++) {
        const struct rocky_otel_span_view *s =
            rocky_otel_queue_peek_view(q, (size_t)i);
        char buf[600];
        assert_non_null(s);
        const struct rocky_otel_span *w = &want[i];
        assert_string_equal(text(s->name, buf, sizeof buf), w->name);
        assert_string_equal(text(s->sql_hash, buf, sizeof buf), w->sql_hash);
        assert_int_equal(s->error.len, 0);
        assert_int_equal(s->kind, ROCKY_OTEL_SPAN_MODEL);
        assert_int_equal(s->status, w->status);
        assert_int_equal(s->attempt, w->attempt);
        assert_int_equal(s->rows_affected, 42);
        assert_int_equal(s->bytes_written, w->bytes_written);
        assert_int_equal(s->start_wall_ns, w->start_wall_ns);
        assert_int_equal(s->end_wall_ns, w->end_wall_ns);
        assert_memory_equal(s->span_id, w->span_id, 8);
        assert_memory_equal(s->trace_id, t.run.trace_id, 16);
        assert_memory_equal(s->parent_span_id, t.run.span_id, 8);
    }
    assert_null(rocky_otel_queue_peek_view(q, 3));
    rocky_otel_queue_release(q, 3);
    assert_int_equal(rocky_otel_queue_size(q), 0);
    rocky_otel_queue_free(q);
}

/* push's *queued is queue_size just after the push, whichever way the span
 * went in: the first of a run (installing it), one referring to it, a run
 * span, a span after some were released. */
static void test_push_says_how_many_are_queued(void **state)
{
    struct rocky_otel_queue *q;
    assert_int_equal(rocky_otel_queue_new(16, &q), 0);
    struct test_run t;
    test_run_init(&t);
    size_t queued = 99;
    for (size_t i = 1; i <= 3; i++) {
        assert_int_equal(rocky_otel_queue_push(
                             q, test_event(&t, ROCKY_EVENT_MODEL_END), &queued),
                         0);
        assert_int_equal(queued, i);
        assert_int_equal(queued, rocky_otel_queue_size(q));
    }
    assert_int_equal(
        rocky_otel_queue_push(q, test_event(&t, ROCKY_EVENT_RUN_END), &queued),
        0);
    assert_int_equal(queued, 4);
    assert_non_null(rocky_otel_queue_peek_view(q, 1));
    rocky_otel_queue_release(q, 2);
    /* The run ended: this span installs it again. */
    assert_int_equal(rocky_otel_queue_push(
                         q, test_event(&t, ROCKY_EVENT_MODEL_END), &queued),
                     0);
    assert_int_equal(queued, 3);
    assert_int_equal(rocky_otel_queue_push(
                         q, test_event(&t, ROCKY_EVENT_MODEL_END), &queued),
                     0);
    assert_int_equal(queued, 4);
    assert_int_equal(queued, rocky_otel_queue_size(q));
    rocky_otel_queue_free(q);
}

/* Views made in place point into the run each record belongs to, also when
 * the current run changes within one batch (a DEFINE record after REF
 * ones), and stay right until the release. */
static void test_views_keep_their_run_across_runs_in_one_batch(void **state)
{
    struct rocky_otel_queue *q;
    assert_int_equal(rocky_otel_queue_new(64, &q), 0);
    struct test_run a, b;
    test_run_init(&a);
    test_run_init(&b);
    a.run.run_id = "run-a";
    b.run.run_id = "run-b";
    memset(b.run.span_id, 0x44, sizeof b.run.span_id);
    memset(b.run.trace_id, 0xcd, sizeof b.run.trace_id);
    for (int i = 0; i < 12; i++) {
        struct test_run *t = i < 6 ? &a : &b;
        if (i == 6) /* run a ends: run b becomes current */
            assert_int_equal(push(q, test_event(&a, ROCKY_EVENT_RUN_END)), 0);
        snprintf(t->name, sizeof t->name, "m%d", i);
        assert_int_equal(push(q, test_event(t, ROCKY_EVENT_MODEL_END)), 0);
    }
    const struct rocky_otel_span_view *v[12];
    for (int i = 0; i < 12; i++)
        assert_non_null(v[i] = rocky_otel_queue_peek_view(q, (size_t)i));
    assert_null(rocky_otel_queue_peek_view(q, 12));
    for (int i = 0; i < 12; i++) {
        struct test_run *t = i < 6 ? &a : &b;
        char want[8];
        snprintf(want, sizeof want, "m%d", i);
        assert_int_equal(v[i]->name.len, strlen(want));
        assert_memory_equal(v[i]->name.p, want, strlen(want));
        assert_int_equal(v[i]->run_id.len, 5);
        assert_memory_equal(v[i]->run_id.p, t->run.run_id, 5);
        assert_memory_equal(v[i]->trace_id, t->run.trace_id, 16);
        assert_non_null(v[i]->parent_span_id);
        assert_memory_equal(v[i]->parent_span_id, t->run.span_id, 8);
        assert_int_equal(v[i]->sql_hash.len, 4);
        assert_int_equal(v[i]->rows_affected, 42);
    }
    rocky_otel_queue_release(q, 12);
    assert_int_equal(rocky_otel_queue_size(q), 1); /* the run span */
    rocky_otel_queue_free(q);
}

static void test_full_queue_refuses_and_counts_model_spans(void **state)
{
    struct rocky_otel_queue *q;
    assert_int_equal(rocky_otel_queue_new(2, &q), 0);
    struct test_run t;
    test_run_init(&t);
    const struct rocky_event *ev = test_event(&t, ROCKY_EVENT_MODEL_END);
    assert_int_equal(push(q, ev), 0);
    assert_int_equal(push(q, ev), 0);
    assert_int_equal(push(q, ev), ROCKY_EAGAIN);
    assert_int_equal(push(q, ev), ROCKY_EAGAIN);
    /* Refused: not taken, so not pushed. */
    assert_int_equal(rocky_otel_queue_refused(q), 2);
    assert_int_equal(rocky_otel_queue_pushed(q), 2);
    /* Freed slots are reused. */
    rocky_otel_queue_release(q, 1);
    assert_int_equal(push(q, ev), 0);
    assert_int_equal(rocky_otel_queue_pushed(q), 3);
    rocky_otel_queue_free(q);
}

static void test_run_span_is_kept_when_the_queue_is_full(void **state)
{
    struct rocky_otel_queue *q;
    assert_int_equal(rocky_otel_queue_new(1, &q), 0);
    struct test_run t;
    test_run_init(&t);
    assert_int_equal(push(q, test_event(&t, ROCKY_EVENT_MODEL_END)), 0);
    assert_int_equal(push(q, test_event(&t, ROCKY_EVENT_RUN_END)), 0);
    assert_int_equal(rocky_otel_queue_refused(q), 0);
    assert_int_equal(rocky_otel_queue_pushed(q), 2);
    struct rocky_otel_span runs[4];
    assert_int_equal(rocky_otel_queue_take_runs(q, runs, 4), 1);
    assert_int_equal(runs[0].kind, ROCKY_OTEL_SPAN_RUN);
    assert_string_equal(runs[0].project, "proj");
    rocky_otel_queue_free(q);
}

static void test_start_events_are_not_queued(void **state)
{
    struct rocky_otel_queue *q;
    assert_int_equal(rocky_otel_queue_new(4, &q), 0);
    struct test_run t;
    test_run_init(&t);
    assert_int_equal(push(q, test_event(&t, ROCKY_EVENT_MODEL_START)),
                     ROCKY_EINVAL);
    assert_int_equal(rocky_otel_queue_size(q), 0);
    assert_int_equal(rocky_otel_queue_pushed(q), 0);
    assert_int_equal(rocky_otel_queue_refused(q), 0);
    rocky_otel_queue_free(q);
}

#define PRODUCERS    4
#define PER_PRODUCER 20000

/* An error text of n bytes ('e'...), n < 600. */
static const char *error_of(char *buf, size_t n)
{
    memset(buf, 'e', n);
    buf[n] = '\0';
    return n ? buf : NULL;
}

#define RUN_LENGTH 1000 /* spans of each producer's runs */

struct prod {
    struct rocky_otel_queue *q;
    int id;
    _Atomic int ok, refused, runs;
    unsigned char accepted[PER_PRODUCER]; /* written by the producer only */
};

/* Producer `who`'s run number `k`: ids and run_id say whose it is. */
static void set_run(struct test_run *t, char *run_id, int who, int k)
{
    sprintf(run_id, "run-%d-%d", who, k);
    t->run.run_id = run_id;
    t->run.trace_id[0] = (uint8_t)who;
    t->run.trace_id[1] = (uint8_t)k;
    t->run.span_id[0] = (uint8_t)who;
    t->run.span_id[1] = (uint8_t)k;
}

static void *producer(void *arg)
{
    struct prod *p = arg;
    struct test_run t;
    test_run_init(&t);
    char err[600], run_id[32];
    unsigned seed = (unsigned)p->id + 1;
    for (int i = 0; i < PER_PRODUCER; i++) {
        /* Each producer runs its own runs, one after another, overlapping
         * the others': the current run changes hands all the time, and
         * spans of the other runs carry theirs inline. */
        if (i % RUN_LENGTH == 0) {
            if (i > 0 && push(p->q, test_event(&t, ROCKY_EVENT_RUN_END)) == 0)
                p->runs++;
            set_run(&t, run_id, p->id, i / RUN_LENGTH);
        }
        snprintf(t.name, sizeof t.name, "%d:%d", p->id, i);
        /* Sizes from ~70 bytes to ~600: records of every length, padding
         * at the ring's end, and refusals for bytes as well as count. */
        t.model.error = error_of(
            err, (size_t)(rand_r(&seed) % 4 == 0 ? rand_r(&seed) % 512 : 0));
        int rc = push(p->q, test_event(&t, ROCKY_EVENT_MODEL_END));
        if (rc == 0) {
            p->accepted[i] = 1;
            p->ok++;
        } else {
            assert_int_equal(rc, ROCKY_EAGAIN);
            p->refused++;
        }
    }
    return NULL;
}

/* Takes one span: checks it is whole, of its own run, in order for its
 * producer, and never seen before. */
static void consume(const struct rocky_otel_span_view *s, int last[PRODUCERS],
                    unsigned char seen[PRODUCERS][PER_PRODUCER])
{
    int who, seq;
    char buf[80];
    assert_int_equal(
        sscanf(text(s->name, buf, sizeof buf), "%d:%d", &who, &seq), 2);
    assert_true(who >= 0 && who < PRODUCERS && seq >= 0 && seq < PER_PRODUCER);
    assert_true(seq > last[who]);
    assert_false(seen[who][seq]);
    seen[who][seq] = 1;
    last[who] = seq;
    for (size_t i = 0; i < s->error.len; i++)
        assert_int_equal(s->error.p[i], 'e');
    char want[32];
    sprintf(want, "run-%d-%d", who, seq / RUN_LENGTH);
    assert_string_equal(text(s->run_id, buf, sizeof buf), want);
    assert_int_equal(s->trace_id[0], who);
    assert_int_equal(s->trace_id[1], seq / RUN_LENGTH);
    assert_int_equal(s->parent_span_id[0], who);
    assert_int_equal(s->parent_span_id[1], seq / RUN_LENGTH);
    assert_int_equal(s->rows_affected, 42);
}

static void test_concurrent_producers_lose_nothing_uncounted(void **state)
{
    struct rocky_otel_queue *q;
    assert_int_equal(rocky_otel_queue_new(256, &q), 0);
    pthread_t th[PRODUCERS];
    static struct prod p[PRODUCERS];
    static unsigned char seen[PRODUCERS][PER_PRODUCER];
    memset(seen, 0, sizeof seen);
    for (int i = 0; i < PRODUCERS; i++) {
        p[i].q = q;
        p[i].id = i;
        atomic_init(&p[i].ok, 0);
        atomic_init(&p[i].refused, 0);
        atomic_init(&p[i].runs, 0);
        memset(p[i].accepted, 0, sizeof p[i].accepted);
        pthread_create(&th[i], NULL, producer, &p[i]);
    }
    /* Consume concurrently, in batches of 1..8 as the exporter does:
     * per producer, sequence numbers must rise and none repeat. */
    int last[PRODUCERS];
    for (int i = 0; i < PRODUCERS; i++)
        last[i] = -1;
    long consumed = 0;
    int done = 0;
    unsigned seed = 99;
    while (!done || rocky_otel_queue_peek_view(q, 0)) {
        size_t want = 1 + (size_t)rand_r(&seed) % 8, n = 0;
        const struct rocky_otel_span_view *s;
        while (n < want && (s = rocky_otel_queue_peek_view(q, n))) {
            consume(s, last, seen);
            n++;
        }
        if (n == 0) {
            int all = 1;
            for (int i = 0; i < PRODUCERS; i++)
                all &= (p[i].ok + p[i].refused) == PER_PRODUCER ? 1 : 0;
            done = all; /* racy read is fine: re-checked via peek */
            continue;
        }
        rocky_otel_queue_release(q, n);
        consumed += (long)n;
    }
    long ok = 0, refused = 0, runs = 0;
    for (int i = 0; i < PRODUCERS; i++) {
        pthread_join(th[i], NULL);
        ok += p[i].ok;
        refused += p[i].refused;
        runs += p[i].runs;
    }
    const struct rocky_otel_span_view *s;
    while ((s = rocky_otel_queue_peek_view(q, 0))) {
        consume(s, last, seen);
        rocky_otel_queue_release(q, 1);
        consumed++;
    }
    assert_int_equal(ok + refused, PRODUCERS * PER_PRODUCER);
    assert_true(refused > 0); /* the bounds were exercised */
    assert_int_equal(consumed, ok);
    /* Exactly the accepted spans came out: none lost, none made up. */
    for (int i = 0; i < PRODUCERS; i++)
        assert_memory_equal(seen[i], p[i].accepted, PER_PRODUCER);
    assert_int_equal((long)rocky_otel_queue_refused(q), refused);
    assert_int_equal((long)rocky_otel_queue_pushed(q), ok + runs);
    static struct rocky_otel_span
        run_spans[PRODUCERS * PER_PRODUCER / RUN_LENGTH];
    assert_int_equal((long)rocky_otel_queue_take_runs(
                         q, run_spans, sizeof run_spans / sizeof *run_spans),
                     runs);
    assert_int_equal(rocky_otel_queue_size(q), 0);
    rocky_otel_queue_free(q);
}

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb;
}

static void test_an_unused_queue_costs_no_memory(void **state)
{
    long before = rss_kb();
    struct rocky_otel_queue *q;
    assert_int_equal(rocky_otel_queue_new(100000, &q), 0);
    assert_true(rss_kb() - before < 256); /* nothing touched yet */
    struct test_run t;
    test_run_init(&t);
    for (int i = 0; i < 100; i++)
        assert_int_equal(push(q, test_event(&t, ROCKY_EVENT_MODEL_END)), 0);
    /* 100 spans in a queue for 100,000 (a 16 MiB ring): a few pages, not
     * the ring (huge pages come only from populate_ahead). */
    assert_true(rss_kb() - before < 1024);
    assert_int_equal(rocky_otel_queue_size(q), 100);
    rocky_otel_queue_free(q);
}

/* Whether this kernel can populate pages without writing them (5.14+). */
static int kernel_populates(void)
{
#if defined(MADV_POPULATE_WRITE)
    void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return 0;
    int ok = madvise(p, 4096, MADV_POPULATE_WRITE) == 0;
    munmap(p, 4096);
    return ok;
#else
    return 0;
#endif
}

static void test_pages_are_made_resident_just_ahead_of_the_spans(void **state)
{
    if (!kernel_populates())
        skip();
    struct rocky_otel_queue *q;
    /* A 2 MiB ring: 4 KiB pages (a larger one takes huge pages). */
    assert_int_equal(rocky_otel_queue_new(12000, &q), 0);
    long before = rss_kb();
    rocky_otel_queue_populate_ahead(q);
    /* No span yet: nothing made resident. */
    assert_true(rss_kb() - before < 64);
    struct test_run t;
    test_run_init(&t);
    assert_int_equal(push(q, test_event(&t, ROCKY_EVENT_MODEL_END)), 0);
    rocky_otel_queue_populate_ahead(q);
    long first = rss_kb() - before;
    /* The first 256 KiB, not the ring. */
    assert_true(first >= 200 && first < 1024);
    for (int i = 0; i < 10000; i++) /* ~1 MiB of records */
        assert_int_equal(push(q, test_event(&t, ROCKY_EVENT_MODEL_END)), 0);
    long pushed = rss_kb() - before;
    rocky_otel_queue_populate_ahead(q);
    long ahead = rss_kb() - before - pushed;
    /* Again about 256 KiB past the spans, and no more. */
    assert_true(ahead >= 150 && ahead < 1024);
    rocky_otel_queue_populate_ahead(q); /* nothing new: no more memory */
    assert_true(rss_kb() - before - pushed - ahead < 64);
    rocky_otel_queue_free(q);
}

/* A ring of huge pages: 4 MiB ahead once spans come, and nothing before. */
static void
test_a_large_ring_is_made_resident_two_huge_pages_ahead(void **state)
{
    if (!kernel_populates())
        skip();
    struct rocky_otel_queue *q;
    assert_int_equal(rocky_otel_queue_new(100000, &q), 0); /* 16 MiB */
    long before = rss_kb();
    rocky_otel_queue_populate_ahead(q);
    assert_true(rss_kb() - before < 64);
    struct test_run t;
    test_run_init(&t);
    assert_int_equal(push(q, test_event(&t, ROCKY_EVENT_MODEL_END)), 0);
    rocky_otel_queue_populate_ahead(q);
    long ahead = rss_kb() - before;
    /* 4 MiB (whether the kernel gave huge pages or small ones), and the
     * huge page the span is on: never the ring. */
    assert_true(ahead >= 4000 && ahead < 6144 + 512);
    rocky_otel_queue_free(q);
}

static void test_long_spans_are_refused_when_the_bytes_run_out(void **state)
{
    struct rocky_otel_queue *q;
    assert_int_equal(rocky_otel_queue_new(64, &q), 0);
    struct test_run t;
    test_run_init(&t);
    char err[600];
    t.model.error = error_of(err, 511);
    int ok = 0, refused = 0;
    for (int i = 0; i < 64; i++) {
        snprintf(t.name, sizeof t.name, "%d", i);
        int rc = push(q, test_event(&t, ROCKY_EVENT_MODEL_END));
        if (rc == 0)
            ok++;
        else
            refused++;
        assert_true(rc == 0 || rc == ROCKY_EAGAIN);
    }
    /* 64 spans of ~600 bytes do not fit in the 16 KiB a 64-span queue
     * has: refused, counted as such, never as pushed. */
    assert_true(refused > 0 && ok > 8);
    assert_int_equal(rocky_otel_queue_refused(q), refused);
    assert_int_equal(rocky_otel_queue_pushed(q), ok);
    for (int i = 0; i < ok; i++) {
        const struct rocky_otel_span_view *s =
            rocky_otel_queue_peek_view(q, (size_t)i);
        char buf[600];
        assert_non_null(s);
        char want[16];
        snprintf(want, sizeof want, "%d", i);
        assert_string_equal(text(s->name, buf, sizeof buf), want);
        assert_int_equal(s->error.len, 511);
    }
    assert_null(rocky_otel_queue_peek_view(q, (size_t)ok));
    rocky_otel_queue_release(q, (size_t)ok);
    /* The room is back. */
    assert_int_equal(push(q, test_event(&t, ROCKY_EVENT_MODEL_END)), 0);
    rocky_otel_queue_free(q);
}

static void test_records_of_every_size_wrap_around_intact(void **state)
{
    struct rocky_otel_queue *q;
    assert_int_equal(rocky_otel_queue_new(16, &q), 0);
    struct test_run t;
    test_run_init(&t);
    char err[600];
    int next_out = 0, in = 0;
    /* Many laps of an 8 KiB ring, records of 60..600 bytes, released in
     * uneven groups: every record lands at every kind of offset, and the
     * end of the ring is padded over again and again. */
    for (int round = 0; round < 4000; round++) {
        snprintf(t.name, sizeof t.name, "%d", in);
        t.model.error = error_of(err, (size_t)(in * 37 % 512));
        if (push(q, test_event(&t, ROCKY_EVENT_MODEL_END)) == 0)
            in++;
        if (round % 3 == 2) {
            size_t n = 0;
            const struct rocky_otel_span_view *s;
            while (n < (size_t)(round % 5) &&
                   (s = rocky_otel_queue_peek_view(q, n))) {
                char want[16], buf[16];
                snprintf(want, sizeof want, "%d", next_out);
                assert_string_equal(text(s->name, buf, sizeof buf), want);
                assert_int_equal(s->error.len, (size_t)(next_out * 37 % 512));
                next_out++;
                n++;
            }
            rocky_otel_queue_release(q, n);
        }
    }
    assert_true(in > 1000);
    assert_int_equal(rocky_otel_queue_pushed(q), (uint64_t)in);
    assert_int_equal(rocky_otel_queue_size(q), (size_t)(in - next_out));
    rocky_otel_queue_free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spans_come_out_in_order_with_their_fields),
        cmocka_unit_test(test_push_says_how_many_are_queued),
        cmocka_unit_test(test_views_keep_their_run_across_runs_in_one_batch),
        cmocka_unit_test(test_full_queue_refuses_and_counts_model_spans),
        cmocka_unit_test(test_run_span_is_kept_when_the_queue_is_full),
        cmocka_unit_test(test_start_events_are_not_queued),
        cmocka_unit_test(test_concurrent_producers_lose_nothing_uncounted),
        cmocka_unit_test(test_an_unused_queue_costs_no_memory),
        cmocka_unit_test(test_pages_are_made_resident_just_ahead_of_the_spans),
        cmocka_unit_test(
            test_a_large_ring_is_made_resident_two_huge_pages_ahead),
        cmocka_unit_test(test_long_spans_are_refused_when_the_bytes_run_out),
        cmocka_unit_test(test_records_of_every_size_wrap_around_intact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
