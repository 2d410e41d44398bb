/*
 * test_otel_reqbuf.c — request buffers gRPC sends from without a copy
 * (reqbuf.h): reused from the pool, released from any thread, alive until
 * the last reference goes even after the pool is closed. (A real send from
 * one: test_otel_zero_copy.c.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "reqbuf.h"

static uint32_t refs(struct rocky_otel_reqbuf *b)
{
    return atomic_load(&b->refs);
}

/* Two buffers of `size` from the pool: one of them must be `kept` (the
 * pool handed back what it was given); both are returned. */
static void assert_pool_has(struct rocky_otel_bufpool *p,
                            struct rocky_otel_reqbuf *kept, size_t size)
{
    struct rocky_otel_reqbuf *x = rocky_otel_reqbuf_get(p, size);
    struct rocky_otel_reqbuf *y = rocky_otel_reqbuf_get(p, size);
    assert_true(x == kept || y == kept);
    rocky_otel_reqbuf_unref(x);
    rocky_otel_reqbuf_unref(y);
}

/* A request no larger than the last reuses its buffer: no malloc per
 * request; a larger one gets a larger buffer. */
static void test_pool_reuses_a_returned_buffer(void **state)
{
    (void)state;
    struct rocky_otel_bufpool *p = rocky_otel_bufpool_new(2);
    assert_non_null(p);
    struct rocky_otel_reqbuf *a = rocky_otel_reqbuf_get(p, 100000);
    assert_non_null(a);
    assert_true(a->cap >= 100000);
    memset(a->data, 1, a->cap); /* all of it is ours (ASan) */
    rocky_otel_reqbuf_unref(a);
    struct rocky_otel_reqbuf *b = rocky_otel_reqbuf_get(p, 5000);
    assert_ptr_equal(b, a);
    assert_int_equal(refs(b), 1);
    rocky_otel_reqbuf_unref(b);
    struct rocky_otel_reqbuf *c = rocky_otel_reqbuf_get(p, a->cap + 1);
    assert_non_null(c);
    assert_true(c->cap > 100000);
    memset(c->data, 2, c->cap);
    rocky_otel_reqbuf_unref(c);
    rocky_otel_bufpool_close(p); /* frees the idle one (LSan) */
}

/* More buffers back than the pool keeps: the extra ones are freed. */
static void test_pool_keeps_at_most_its_limit(void **state)
{
    (void)state;
    struct rocky_otel_bufpool *p = rocky_otel_bufpool_new(1);
    struct rocky_otel_reqbuf *a = rocky_otel_reqbuf_get(p, 10);
    struct rocky_otel_reqbuf *b = rocky_otel_reqbuf_get(p, 10);
    assert_ptr_not_equal(a, b);
    rocky_otel_reqbuf_unref(a); /* kept */
    rocky_otel_reqbuf_unref(b); /* freed */
    assert_pool_has(p, a, 10);
    rocky_otel_bufpool_close(p);
}

struct hammer {
    struct rocky_otel_reqbuf *b;
    int rounds;
};

static void *ref_unref(void *arg)
{
    struct hammer *h = arg;
    for (int i = 0; i < h->rounds; i++) {
        rocky_otel_reqbuf_ref(h->b);
        rocky_otel_reqbuf_unref(h->b);
    }
    rocky_otel_reqbuf_unref(h->b); /* the reference it was given */
    return NULL;
}

enum { THREADS = 4 };

/* THREADS threads hammering `h->b`, each given a reference of its own
 * that it drops when done (as gRPC's threads do). */
static void start_hammers(struct hammer *h, pthread_t th[THREADS])
{
    for (int i = 0; i < THREADS; i++)
        rocky_otel_reqbuf_ref(h->b);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, ref_unref, h), 0);
}

/* gRPC drops its references on its own threads, maybe after the exporter
 * closed the pool: the buffer (and the pool) live until the last one, which
 * frees both exactly once (ASan, LSan and TSan watch). */
static void test_last_reference_from_other_threads_after_close(void **state)
{
    (void)state;
    struct rocky_otel_bufpool *p = rocky_otel_bufpool_new(2);
    struct rocky_otel_reqbuf *b = rocky_otel_reqbuf_get(p, 4096);
    pthread_t th[THREADS];
    struct hammer h = {b, 20000};
    start_hammers(&h, th);
    rocky_otel_reqbuf_unref(b); /* the exporter's */
    rocky_otel_bufpool_close(p);
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
}

/* While the buffer is out, the pool gives another; once every reference is
 * back (threads included), the pool hands the same buffer again. */
static void test_buffer_returns_to_the_pool_after_threads(void **state)
{
    (void)state;
    struct rocky_otel_bufpool *p = rocky_otel_bufpool_new(2);
    struct rocky_otel_reqbuf *b = rocky_otel_reqbuf_get(p, 4096);
    struct rocky_otel_reqbuf *other = rocky_otel_reqbuf_get(p, 4096);
    assert_ptr_not_equal(other, b);
    rocky_otel_reqbuf_unref(other);
    pthread_t th[THREADS];
    struct hammer h = {b, 20000};
    start_hammers(&h, th);
    rocky_otel_reqbuf_unref(b);
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    assert_pool_has(p, b, 4096);
    rocky_otel_bufpool_close(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pool_reuses_a_returned_buffer),
        cmocka_unit_test(test_pool_keeps_at_most_its_limit),
        cmocka_unit_test(test_last_reference_from_other_threads_after_close),
        cmocka_unit_test(test_buffer_returns_to_the_pool_after_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
