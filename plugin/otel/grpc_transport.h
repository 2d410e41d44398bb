/*
 * grpc_transport.h — one OTLP/gRPC unary call at a time over gRPC C core.
 *
 * A transport owns one channel (plaintext or TLS, gzip or not, metadata
 * headers) and a pluck completion queue. gRPC's own retries are off (the
 * exporter retries itself, honouring RetryInfo and the shutdown deadline);
 * its reconnect backoff is capped at 2 s so a collector that starts late is
 * reached soon.
 *
 * Threads: a transport is used by one thread at a time (the exporter's).
 * rocky_otel_grpc_acquire/release wrap grpc_init/grpc_shutdown.
 */
#ifndef ROCKY_OTEL_GRPC_TRANSPORT_H
#define ROCKY_OTEL_GRPC_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "otel_config.h"
#include "reqbuf.h"

#define ROCKY_OTEL_TRACE_METHOD                                                \
    "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
#define ROCKY_OTEL_METRICS_METHOD                                              \
    "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export"

/* gRPC status codes we act on (same values as grpc_status_code). */
enum {
    ROCKY_GRPC_OK = 0,
    ROCKY_GRPC_CANCELLED = 1,
    ROCKY_GRPC_DEADLINE_EXCEEDED = 4,
    ROCKY_GRPC_RESOURCE_EXHAUSTED = 8,
    ROCKY_GRPC_ABORTED = 10,
    ROCKY_GRPC_OUT_OF_RANGE = 11,
    ROCKY_GRPC_UNAVAILABLE = 14,
    ROCKY_GRPC_DATA_LOSS = 15
};

/* The longest RetryInfo delay we represent (one day): a collector may
 * send any Duration; longer ones saturate here, and any exporter deadline
 * is shorter, so they mean "do not retry". */
#define ROCKY_OTEL_RETRY_DELAY_MAX_MS (24LL * 3600 * 1000)

/* The outcome of one call. Every field comes from the server: bounded
 * (retry_delay_ms in -1..ROCKY_OTEL_RETRY_DELAY_MAX_MS) but not trusted. */
struct rocky_otel_call_result {
    int status;             /* gRPC status code; 0 = OK                  */
    char message[256];      /* status details, sanitized                 */
    int64_t retry_delay_ms; /* server's google.rpc.RetryInfo, or -1      */
    int64_t rejected;       /* partial_success: rejected items, as sent (may be
                               negative or more than were sent: clamp it) */
    char partial_message[256];
};

struct rocky_otel_transport; /* opaque */

/* Route gRPC's log lines to `fn` (severity: 0 debug, 1 info, 2 error).
 * Process-global (gRPC has one log hook); pass NULL to restore stderr. */
void rocky_otel_grpc_set_log(void (*fn)(void *ctx, int severity,
                                        const char *message),
                             void *ctx);

/* grpc_init / grpc_shutdown, counted. */
void rocky_otel_grpc_acquire(void);
void rocky_otel_grpc_release(void);

/*
 * Create a channel to `sig->target` for `method` (a static string, e.g.
 * ROCKY_OTEL_TRACE_METHOD). On failure writes one line into `err` and
 * returns ROCKY_EINVAL / ROCKY_ENOMEM / ROCKY_EIO. Needs acquire() first.
 */
int rocky_otel_transport_new(const struct rocky_otel_signal_config *sig,
                             const char *method,
                             struct rocky_otel_transport **out, char *err,
                             size_t err_size);

/*
 * Send one serialized request (`len` bytes at `buf`) and wait for the
 * answer, at most until
 * `deadline_mono_ns` (CLOCK_MONOTONIC; also capped by the signal's
 * timeout). `abort_at_mono_ns` (may be NULL) is watched while waiting: when
 * another thread sets it to a non-zero time that passes, the call is
 * cancelled (a shutdown deadline arriving mid-call). Fills `res`. Returns 0
 * when the call completed (look at res->status) or ROCKY_EINTERNAL when gRPC
 * refused to start it.
 *
 * `owner` (may be NULL) is the buffer `buf` lies in: gRPC then sends from
 * that memory without a copy, holding a reference of its own (taken here)
 * that it drops when done — on any thread, possibly after this returns; a
 * retry sends the same buffer again by reference. With `owner` NULL the
 * bytes are copied into gRPC's own slice and `buf` is free after return.
 */
int rocky_otel_transport_send(struct rocky_otel_transport *t,
                              const uint8_t *buf, size_t len,
                              struct rocky_otel_reqbuf *owner,
                              int64_t deadline_mono_ns,
                              const _Atomic int64_t *abort_at_mono_ns,
                              struct rocky_otel_call_result *res);

/*
 * Drive the channel's connection attempts until it is READY or until
 * `until_mono_ns`, whichever comes first; returns 1 when READY. gRPC core
 * makes connection progress only while some thread polls (otherwise on its
 * 5 s backup poller), so the exporter waits here between retries instead of
 * sleeping: a collector that comes back is connected within the reconnect
 * backoff. Returns at once when the channel is already READY. Same thread
 * as rocky_otel_transport_send (it uses the transport's completion queue).
 */
int rocky_otel_transport_wait_ready(struct rocky_otel_transport *t,
                                    int64_t until_mono_ns);

/* True for the codes the OTLP spec calls retryable (RESOURCE_EXHAUSTED
 * only with RetryInfo). */
int rocky_otel_status_retryable(const struct rocky_otel_call_result *res);

/*
 * The decoders of what a collector sends back, pure (no gRPC, no I/O) so
 * they can be fuzzed (tests/fuzz/fuzz_otlp_response.c).
 *
 * rocky_otel_decode_export_response: an ExportTraceServiceResponse or
 * ExportMetricsServiceResponse body (`len` bytes, any content). Sets
 * res->rejected and res->partial_message (valid UTF-8) from its
 * partial_success; leaves `res` as it was when the body does not decode.
 *
 * rocky_otel_decode_retry_delay: a grpc-status-details-bin value (a
 * google.rpc.Status). Returns 0 and sets *delay_ms to the delay of its
 * google.rpc.RetryInfo detail (-1 when it has none), or -1 (leaving
 * *delay_ms alone) when the bytes are not a well-formed message.
 */
void rocky_otel_decode_export_response(const uint8_t *buf, size_t len,
                                       struct rocky_otel_call_result *res);
int rocky_otel_decode_retry_delay(const uint8_t *details, size_t len,
                                  int64_t *delay_ms);

/* Close the channel and free. NULL ok. */
void rocky_otel_transport_free(struct rocky_otel_transport *t);

#endif
