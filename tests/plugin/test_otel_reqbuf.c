/*
 * test_otel_reqbuf.c — request buffers gRPC sends from without a copy
 * (reqbuf.h): reused from the pool, released from any thread, alive until
 * the last reference goes even after the pool is closed; and a real send
 * hands the buffer to gRPC, which gives its reference back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <grpc/slice.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "encode_trace.h"
#include "grpc_transport.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"
#include "otel_test_events.h"
#include "otlp_capture.h"
#include "reqbuf.h"

/* The transport's slice calls, wrapped (-Wl,--wrap): a zero-copy send makes
 * its slice on our buffer and copies nothing. */
static _Atomic int copied, wrapped;
static _Atomic(const void *) wrapped_at;
grpc_slice __real_grpc_slice_from_copied_buffer(const char *s, size_t len);
grpc_slice __wrap_grpc_slice_from_copied_buffer(const char *s, size_t len);
grpc_slice __wrap_grpc_slice_from_copied_buffer(const char *s, size_t len)
{
    copied++;
    return __real_grpc_slice_from_copied_buffer(s, len);
}
grpc_slice __real_grpc_slice_new_with_user_data(void *p, size_t len,
                                                void (*destroy)(void *),
                                                void *user_data);
grpc_slice __wrap_grpc_slice_new_with_user_data(void *p, size_t len,
                                                void (*destroy)(void *),
                                                void *user_data);
grpc_slice __wrap_grpc_slice_new_with_user_data(void *p, size_t len,
                                                void (*destroy)(void *),
                                                void *user_data)
{
    wrapped++;
    wrapped_at = p;
    return __real_grpc_slice_new_with_user_data(p, len, destroy, user_data);
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint32_t refs(struct rocky_otel_reqbuf *b)
{
    return atomic_load(&b->refs);
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
    struct rocky_otel_reqbuf *c = rocky_otel_reqbuf_get(p, 10);
    struct rocky_otel_reqbuf *d = rocky_otel_reqbuf_get(p, 10);
    assert_true(c == a || d == a);
    rocky_otel_reqbuf_unref(c);
    rocky_otel_reqbuf_unref(d);
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

/* gRPC drops its references on its own threads, maybe after the exporter
 * closed the pool: the buffer (and the pool) live until the last one, which
 * frees both exactly once (ASan, LSan and TSan watch). */
static void test_last_reference_from_other_threads_after_close(void **state)
{
    (void)state;
    enum { THREADS = 4 };
    struct rocky_otel_bufpool *p = rocky_otel_bufpool_new(2);
    struct rocky_otel_reqbuf *b = rocky_otel_reqbuf_get(p, 4096);
    pthread_t th[THREADS];
    struct hammer h = {b, 20000};
    for (int i = 0; i < THREADS; i++)
        rocky_otel_reqbuf_ref(b);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, ref_unref, &h), 0);
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
    enum { THREADS = 4 };
    struct rocky_otel_bufpool *p = rocky_otel_bufpool_new(2);
    struct rocky_otel_reqbuf *b = rocky_otel_reqbuf_get(p, 4096);
    struct rocky_otel_reqbuf *other = rocky_otel_reqbuf_get(p, 4096);
    assert_ptr_not_equal(other, b);
    rocky_otel_reqbuf_unref(other);
    pthread_t th[THREADS];
    struct hammer h = {b, 20000};
    for (int i = 0; i < THREADS; i++)
        rocky_otel_reqbuf_ref(b);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, ref_unref, &h), 0);
    rocky_otel_reqbuf_unref(b);
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    struct rocky_otel_reqbuf *x = rocky_otel_reqbuf_get(p, 4096);
    struct rocky_otel_reqbuf *y = rocky_otel_reqbuf_get(p, 4096);
    assert_true(x == b || y == b);
    rocky_otel_reqbuf_unref(x);
    rocky_otel_reqbuf_unref(y);
    rocky_otel_bufpool_close(p);
}

/* A real call from an encoded request: the receiver gets its spans, gRPC
 * held a reference while it sent (the slice owns the buffer), and gives it
 * back: once the channel and gRPC are shut down, ours is the only one. */
static void test_send_from_the_buffer_and_get_it_back(void **state)
{
    (void)state;
    struct otlp_capture *cap;
    assert_int_equal(otlp_capture_start(&cap), 0);
    struct rocky_otel_config cfg;
    memset(&cfg, 0, sizeof cfg);
    strcpy(cfg.service_name, "svc");
    struct rocky_otel_resource res;
    assert_int_equal(rocky_otel_resource_init(&res, &cfg, "1.2.3"), 0);
    struct test_run t;
    test_run_init(&t);
    enum { N = 300 };
    static struct rocky_otel_span spans[N];
    static const struct rocky_otel_span *ptrs[N];
    for (int i = 0; i < N; i++) {
        t.model.span_id[7] = (uint8_t)i;
        assert_int_equal(rocky_otel_span_from_event(
                             test_event(&t, ROCKY_EVENT_MODEL_END), &spans[i]),
                         0);
        ptrs[i] = &spans[i];
    }
    struct rocky_otel_encode_scratch scratch = {0};
    uint8_t *buf;
    size_t len;
    assert_int_equal(
        rocky_otel_encode_traces(&res, ptrs, N, -1, &scratch, &buf, &len, NULL),
        0);
    struct rocky_otel_reqbuf *rb = scratch.req;
    rocky_otel_reqbuf_ref(rb); /* ours, past the scratch's */
    rocky_otel_encode_scratch_free(&scratch);
    assert_int_equal(refs(rb), 1);

    rocky_otel_grpc_acquire();
    struct rocky_otel_signal_config sig;
    memset(&sig, 0, sizeof sig);
    /* "http://127.0.0.1:<port>" -> the gRPC target */
    strcpy(sig.target, otlp_capture_endpoint(cap) + strlen("http://"));
    sig.timeout_ms = 10000;
    struct rocky_otel_transport *tr;
    char err[256];
    assert_int_equal(rocky_otel_transport_new(&sig, ROCKY_OTEL_TRACE_METHOD,
                                              &tr, err, sizeof err),
                     0);
    struct rocky_otel_call_result r;
    copied = wrapped = 0;
    assert_int_equal(rocky_otel_transport_send(
                         tr, buf, len, rb, mono_ns() + 10000000000LL, NULL, &r),
                     0);
    assert_int_equal(r.status, ROCKY_GRPC_OK);
    assert_int_equal(otlp_capture_span_count(cap), N);
    assert_int_equal(copied, 0); /* no copy of the request */
    assert_int_equal(wrapped, 1);
    assert_ptr_equal(wrapped_at, buf);
    rocky_otel_transport_free(tr);
    rocky_otel_grpc_release();
    /* gRPC gives its reference back when its last use ends, on a thread of
     * its own if it likes: wait for that (bounded), never past it. */
    const char *scale = getenv("ROCKY_TEST_TIME_SCALE");
    int64_t until =
        mono_ns() + 5000000000LL * (scale && atoi(scale) > 0 ? atoi(scale) : 1);
    while (refs(rb) != 1 && mono_ns() < until) {
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    assert_int_equal(refs(rb), 1);
    rocky_otel_reqbuf_unref(rb);
    rocky_otel_resource_free(&res);
    otlp_capture_stop(cap);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pool_reuses_a_returned_buffer),
        cmocka_unit_test(test_pool_keeps_at_most_its_limit),
        cmocka_unit_test(test_last_reference_from_other_threads_after_close),
        cmocka_unit_test(test_buffer_returns_to_the_pool_after_threads),
        cmocka_unit_test(test_send_from_the_buffer_and_get_it_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
