/*
 * test_otel_zero_copy.c — a trace request goes to gRPC from the encoder's
 * own buffer: the transport's slice calls are wrapped (-Wl,--wrap) to see
 * that it makes its slice on that buffer and copies nothing, the receiver
 * gets every span, and gRPC gives its reference back.
 *
 * Not run under TSan: the in-process receiver (otlp_capture.c) and this
 * thread's calls share gRPC's poller, and TSan cannot see gRPC's handoff of
 * the receiver's call records between them. The buffer's references from
 * other threads are test_otel_reqbuf's (TSan), and the exporter's sends
 * from its own thread are test_otel_plugin's and the e2e tests'.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <grpc/slice.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "encode_trace.h"
#include "grpc_transport.h"
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
        cmocka_unit_test(test_send_from_the_buffer_and_get_it_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
