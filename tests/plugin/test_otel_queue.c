/* Unit tests: the bounded span queue. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "otel_test_events.h"
#include "queue.h"

static void test_spans_come_out_in_order_with_their_fields(void **state)
{
    struct rocky_otel_queue *q;
    assert_int_equal(rocky_otel_queue_new(8, &q), 0);
    struct test_run t;
    test_run_init(&t);
    for (int i = 0; i < 3; i++) {
        snprintf(t.name, sizeof t.name, "m%d", i);
        assert_int_equal(rocky_otel_queue_push_event(
                             q, test_event(&t, ROCKY_EVENT_MODEL_END)),
                         0);
    }
    assert_int_equal(rocky_otel_queue_size(q), 3);
    for (int i = 0; i < 3; i++) {
        const struct rocky_otel_span *s = rocky_otel_queue_peek(q, (size_t)i);
        assert_non_null(s);
        char want[8];
        snprintf(want, sizeof want, "m%d", i);
        assert_string_equal(s->name, want);
        assert_int_equal(s->kind, ROCKY_OTEL_SPAN_MODEL);
        assert_memory_equal(s->parent_span_id, t.run.span_id, 8);
        assert_int_equal(s->rows_affected, 42);
    }
    assert_null(rocky_otel_queue_peek(q, 3));
    rocky_otel_queue_release(q, 3);
    assert_int_equal(rocky_otel_queue_size(q), 0);
    rocky_otel_queue_free(q);
}

static void test_full_queue_refuses_and_counts_model_spans(void **state)
{
    struct rocky_otel_queue *q;
    assert_int_equal(rocky_otel_queue_new(2, &q), 0);
    struct test_run t;
    test_run_init(&t);
    const struct rocky_event *ev = test_event(&t, ROCKY_EVENT_MODEL_END);
    assert_int_equal(rocky_otel_queue_push_event(q, ev), 0);
    assert_int_equal(rocky_otel_queue_push_event(q, ev), 0);
    assert_int_equal(rocky_otel_queue_push_event(q, ev), ROCKY_EAGAIN);
    assert_int_equal(rocky_otel_queue_push_event(q, ev), ROCKY_EAGAIN);
    /* Refused: not taken, so not pushed. */
    assert_int_equal(rocky_otel_queue_refused(q), 2);
    assert_int_equal(rocky_otel_queue_pushed(q), 2);
    /* Freed slots are reused. */
    rocky_otel_queue_release(q, 1);
    assert_int_equal(rocky_otel_queue_push_event(q, ev), 0);
    assert_int_equal(rocky_otel_queue_pushed(q), 3);
    rocky_otel_queue_free(q);
}

static void test_run_span_is_kept_when_the_queue_is_full(void **state)
{
    struct rocky_otel_queue *q;
    assert_int_equal(rocky_otel_queue_new(1, &q), 0);
    struct test_run t;
    test_run_init(&t);
    assert_int_equal(
        rocky_otel_queue_push_event(q, test_event(&t, ROCKY_EVENT_MODEL_END)),
        0);
    assert_int_equal(
        rocky_otel_queue_push_event(q, test_event(&t, ROCKY_EVENT_RUN_END)), 0);
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
    assert_int_equal(
        rocky_otel_queue_push_event(q, test_event(&t, ROCKY_EVENT_MODEL_START)),
        ROCKY_EINVAL);
    assert_int_equal(rocky_otel_queue_size(q), 0);
    assert_int_equal(rocky_otel_queue_pushed(q), 0);
    assert_int_equal(rocky_otel_queue_refused(q), 0);
    rocky_otel_queue_free(q);
}

#define PRODUCERS    4
#define PER_PRODUCER 20000

struct prod {
    struct rocky_otel_queue *q;
    int id;
    _Atomic int ok, dropped;
};

static void *producer(void *arg)
{
    struct prod *p = arg;
    struct test_run t;
    test_run_init(&t);
    for (int i = 0; i < PER_PRODUCER; i++) {
        snprintf(t.name, sizeof t.name, "%d:%d", p->id, i);
        int rc = rocky_otel_queue_push_event(
            p->q, test_event(&t, ROCKY_EVENT_MODEL_END));
        if (rc == 0)
            p->ok++;
        else
            p->dropped++;
    }
    return NULL;
}

static void test_concurrent_producers_lose_nothing_uncounted(void **state)
{
    struct rocky_otel_queue *q;
    assert_int_equal(rocky_otel_queue_new(256, &q), 0);
    pthread_t th[PRODUCERS];
    struct prod p[PRODUCERS];
    for (int i = 0; i < PRODUCERS; i++) {
        p[i].q = q;
        p[i].id = i;
        atomic_init(&p[i].ok, 0);
        atomic_init(&p[i].dropped, 0);
        pthread_create(&th[i], NULL, producer, &p[i]);
    }
    /* Consume concurrently; per producer, sequence numbers must rise. */
    int last[PRODUCERS];
    for (int i = 0; i < PRODUCERS; i++)
        last[i] = -1;
    long consumed = 0;
    int done = 0;
    while (!done || rocky_otel_queue_peek(q, 0)) {
        const struct rocky_otel_span *s = rocky_otel_queue_peek(q, 0);
        if (!s) {
            int all = 1;
            for (int i = 0; i < PRODUCERS; i++)
                all &= (p[i].ok + p[i].dropped) == PER_PRODUCER ? 1 : 0;
            done = all; /* racy read is fine: re-checked via peek */
            continue;
        }
        int who, seq;
        assert_int_equal(sscanf(s->name, "%d:%d", &who, &seq), 2);
        assert_true(seq > last[who]);
        last[who] = seq;
        rocky_otel_queue_release(q, 1);
        consumed++;
    }
    long ok = 0, dropped = 0;
    for (int i = 0; i < PRODUCERS; i++) {
        pthread_join(th[i], NULL);
        ok += p[i].ok;
        dropped += p[i].dropped;
    }
    while (rocky_otel_queue_peek(q, 0)) {
        rocky_otel_queue_release(q, 1);
        consumed++;
    }
    assert_int_equal(ok + dropped, PRODUCERS * PER_PRODUCER);
    assert_int_equal(consumed, ok);
    assert_int_equal((long)rocky_otel_queue_refused(q), dropped);
    assert_int_equal((long)rocky_otel_queue_pushed(q), ok);
    rocky_otel_queue_free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spans_come_out_in_order_with_their_fields),
        cmocka_unit_test(test_full_queue_refuses_and_counts_model_spans),
        cmocka_unit_test(test_run_span_is_kept_when_the_queue_is_full),
        cmocka_unit_test(test_start_events_are_not_queued),
        cmocka_unit_test(test_concurrent_producers_lose_nothing_uncounted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
