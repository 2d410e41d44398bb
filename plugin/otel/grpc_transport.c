/*
 * grpc_transport.c — OTLP export calls on gRPC C core 1.51.
 *
 * A call is one batch of six ops (send metadata, message, close; receive
 * metadata, message, status) plucked from a private completion queue.
 */
#include "grpc_transport.h"

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/compression.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/alloc.h>
#include <grpc/support/log.h>
#include <grpc/support/time.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "grpc_log_filter.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"
#include "file_read.h"
#include "rocky/error.h"
#include "utf8.h"

struct rocky_otel_transport {
    grpc_channel *channel;
    grpc_completion_queue *cq;
    const char *method;
    int64_t timeout_ms;
    size_t md_count;
    grpc_metadata md[ROCKY_OTEL_MAX_HEADERS];
};

static void (*_Atomic log_fn)(void *, int, const char *);
static void *_Atomic log_ctx;

/* gRPC's lines pass the filter (grpc_log_filter.h): no header value, no
 * metadata dump, no per-attempt TLS handshake line reaches the host. */
static void grpc_log(gpr_log_func_args *args)
{
    void (*fn)(void *, int, const char *) = atomic_load(&log_fn);
    if (!fn)
        return;
    char line[ROCKY_OTEL_GRPC_LINE_MAX + 16];
    if (!rocky_otel_grpc_log_filter(args->file, args->line, args->message, line,
                                    sizeof line))
        return;
    int sev = args->severity == GPR_LOG_SEVERITY_ERROR  ? 2
              : args->severity == GPR_LOG_SEVERITY_INFO ? 1
                                                        : 0;
    fn(atomic_load(&log_ctx), sev, line);
}

void rocky_otel_grpc_set_log(void (*fn)(void *, int, const char *), void *ctx)
{
    atomic_store(&log_ctx, ctx);
    atomic_store(&log_fn, fn);
    /* Route before gRPC logs anything, and keep its chatter to errors. */
    /* Keep our hook installed even when fn is NULL: gRPC threads may log
     * after the host's logger is gone, and then we drop the line. */
    gpr_set_log_function(grpc_log);
    gpr_set_log_verbosity(GPR_LOG_SEVERITY_ERROR);
}

void rocky_otel_grpc_acquire(void)
{
    grpc_init();
}

void rocky_otel_grpc_release(void)
{
    grpc_shutdown();
}

/* A CA bundle (OTEL_EXPORTER_OTLP_CERTIFICATE) is a few hundred KiB; the
 * cap only keeps a wrong path (/dev/zero, a FIFO) from hanging or eating
 * memory. */
#define CA_FILE_MAX_BYTES (8u << 20)

int rocky_otel_transport_new(const struct rocky_otel_signal_config *sig,
                             const char *method,
                             struct rocky_otel_transport **out, char *err,
                             size_t err_size)
{
    struct rocky_otel_transport *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(err, err_size, "out of memory");
        return ROCKY_ENOMEM;
    }
    t->method = method;
    t->timeout_ms = sig->timeout_ms;

    grpc_channel_credentials *creds;
    if (sig->tls) {
        char *pem = NULL;
        if (sig->ca_file[0]) {
            size_t pem_len = 0;
            char why[256] = "";
            int rc = rocky_file_read(sig->ca_file, CA_FILE_MAX_BYTES, &pem,
                                     &pem_len, why, sizeof why);
            if (rc != 0) {
                snprintf(err, err_size, "cannot read CA file %s: %s",
                         sig->ca_file, why);
                free(t);
                return rc == ROCKY_ENOMEM ? rc : ROCKY_EIO;
            }
        }
        creds = grpc_ssl_credentials_create(pem, NULL, NULL, NULL);
        free(pem);
    } else {
        creds = grpc_insecure_credentials_create();
    }
    if (!creds) {
        snprintf(err, err_size, "cannot create gRPC credentials");
        free(t);
        return ROCKY_EIO;
    }

    grpc_arg args[7];
    int n = 0;
    /* We retry ourselves: gRPC's policy ignores RetryInfo and skips
     * requests larger than its 256 KiB retry buffer. */
    args[n++] =
        (grpc_arg){GRPC_ARG_INTEGER, GRPC_ARG_ENABLE_RETRIES, {.integer = 0}};
    args[n++] = (grpc_arg){GRPC_ARG_INTEGER,
                           GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS,
                           {.integer = 100}};
    args[n++] = (grpc_arg){
        GRPC_ARG_INTEGER, GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, {.integer = 100}};
    args[n++] = (grpc_arg){
        GRPC_ARG_INTEGER, GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, {.integer = 2000}};
    args[n++] = (grpc_arg){GRPC_ARG_STRING,
                           GRPC_ARG_PRIMARY_USER_AGENT_STRING,
                           {.string = "rocky-otel/" ROCKY_OTEL_VERSION}};
    if (sig->gzip)
        args[n++] = (grpc_arg){GRPC_ARG_INTEGER,
                               GRPC_COMPRESSION_CHANNEL_DEFAULT_ALGORITHM,
                               {.integer = GRPC_COMPRESS_GZIP}};
    grpc_channel_args chargs = {(size_t)n, args};
    t->channel = grpc_channel_create(sig->target, creds, &chargs);
    grpc_channel_credentials_release(creds);
    t->cq = grpc_completion_queue_create_for_pluck(NULL);
    if (!t->channel || !t->cq) {
        snprintf(err, err_size, "cannot create a gRPC channel to %s",
                 sig->target);
        rocky_otel_transport_free(t);
        return ROCKY_EIO;
    }
    for (size_t i = 0; i < sig->header_count; i++) {
        /* The config refused what gRPC would refuse (otel_config.h); ask
         * gRPC too, so that a header it would log in full never reaches a
         * call. The error names the key, never the value. */
        grpc_slice key = grpc_slice_from_copied_string(sig->header_keys[i]);
        grpc_slice value = grpc_slice_from_copied_string(sig->header_values[i]);
        if (!grpc_header_key_is_legal(key) ||
            (!grpc_is_binary_header(key) &&
             !grpc_header_nonbin_value_is_legal(value))) {
            grpc_slice_unref(key);
            grpc_slice_unref(value);
            char shown[48];
            rocky_otel_utf8_sanitize(sig->header_keys[i], SIZE_MAX, shown,
                                     sizeof shown);
            snprintf(err, err_size,
                     "header \"%s\" is not legal gRPC metadata (its value is "
                     "not shown)",
                     shown);
            rocky_otel_transport_free(t);
            return ROCKY_EINVAL;
        }
        t->md[t->md_count].key = key;
        t->md[t->md_count].value = value;
        t->md_count++;
        /* Before any call: no gRPC line may carry it from now on. */
        rocky_otel_secret_add(sig->header_values[i]);
    }
    *out = t;
    return 0;
}

int rocky_otel_transport_wait_ready(struct rocky_otel_transport *t,
                                    int64_t until_mono_ns)
{
    grpc_connectivity_state st =
        grpc_channel_check_connectivity_state(t->channel, 1);
    int64_t remaining = until_mono_ns - rocky_clock_mono_ns();
    if (st == GRPC_CHANNEL_READY || remaining <= 0)
        return st == GRPC_CHANNEL_READY;
    /* As in send: gRPC's clock has its own epoch, so go by a duration. */
    gpr_timespec deadline =
        gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                     gpr_time_from_nanos(remaining, GPR_TIMESPAN));
    static char watch_tag; /* the address is the tag */
    grpc_channel_watch_connectivity_state(t->channel, st, deadline, t->cq,
                                          &watch_tag);
    /* The watch completes on a state change or at its deadline; plucking
     * it is what polls the channel. Never hang past a second more. */
    grpc_event ev = grpc_completion_queue_pluck(
        t->cq, &watch_tag,
        gpr_time_add(deadline, gpr_time_from_millis(1000, GPR_TIMESPAN)), NULL);
    (void)ev;
    return grpc_channel_check_connectivity_state(t->channel, 0) ==
           GRPC_CHANNEL_READY;
}

void rocky_otel_transport_free(struct rocky_otel_transport *t)
{
    if (!t)
        return;
    if (t->channel)
        grpc_channel_destroy(t->channel);
    if (t->cq) {
        grpc_completion_queue_shutdown(t->cq);
        for (;;) {
            grpc_event ev = grpc_completion_queue_pluck(
                t->cq, NULL, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
            if (ev.type == GRPC_QUEUE_SHUTDOWN)
                break;
        }
        grpc_completion_queue_destroy(t->cq);
    }
    /* Last: a line gRPC logs while the channel goes down is still
     * filtered. (A secret of another live transport with the same value
     * stays registered: the registry counts.) */
    for (size_t i = 0; i < t->md_count; i++) {
        char *v = grpc_slice_to_c_string(t->md[i].value);
        rocky_otel_secret_remove(v);
        gpr_free(v);
        grpc_slice_unref(t->md[i].key);
        grpc_slice_unref(t->md[i].value);
    }
    free(t);
}

static void slice_text(grpc_slice s, char *out, size_t size)
{
    rocky_otel_utf8_sanitize((const char *)GRPC_SLICE_START_PTR(s),
                             GRPC_SLICE_LENGTH(s), out, size);
}

/* partial_success of a trace or metrics response: both messages have the
 * same shape (int64 count = 1, string message = 2), so one decoder does. */
void rocky_otel_decode_export_response(const uint8_t *buf, size_t len,
                                       struct rocky_otel_call_result *res)
{
    Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceResponse *resp =
        opentelemetry__proto__collector__trace__v1__export_trace_service_response__unpack(
            NULL, len, buf);
    if (resp) {
        if (resp->partial_success) {
            res->rejected = resp->partial_success->rejected_spans;
            if (resp->partial_success->error_message)
                rocky_otel_utf8_sanitize(resp->partial_success->error_message,
                                         SIZE_MAX, res->partial_message,
                                         sizeof res->partial_message);
        }
        opentelemetry__proto__collector__trace__v1__export_trace_service_response__free_unpacked(
            resp, NULL);
    }
}

static void read_response(grpc_byte_buffer *bb,
                          struct rocky_otel_call_result *res)
{
    grpc_byte_buffer_reader r;
    if (!bb || !grpc_byte_buffer_reader_init(&r, bb))
        return;
    grpc_slice all = grpc_byte_buffer_reader_readall(&r);
    grpc_byte_buffer_reader_destroy(&r);
    rocky_otel_decode_export_response(GRPC_SLICE_START_PTR(all),
                                      GRPC_SLICE_LENGTH(all), res);
    grpc_slice_unref(all);
}

static int read_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; *p < end && shift < 64; shift += 7) {
        uint8_t b = *(*p)++;
        *v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return 0;
    }
    return -1;
}

/* Walk a protobuf message; call `fn` for each length-delimited field. */
static int walk(const uint8_t *p, const uint8_t *end,
                int (*fn)(void *, uint32_t, const uint8_t *, size_t, uint64_t),
                void *ctx)
{
    while (p < end) {
        uint64_t key, v = 0;
        if (read_varint(&p, end, &key))
            return -1;
        uint32_t field = (uint32_t)(key >> 3), type = key & 7;
        if (type == 0) {
            if (read_varint(&p, end, &v))
                return -1;
            if (fn(ctx, field, NULL, 0, v))
                return -1;
        } else if (type == 2) {
            if (read_varint(&p, end, &v) || v > (uint64_t)(end - p))
                return -1;
            if (fn(ctx, field, p, (size_t)v, 0))
                return -1;
            p += v;
        } else if (type == 1 || type == 5) {
            size_t n = type == 1 ? 8 : 4;
            if ((size_t)(end - p) < n)
                return -1;
            p += n;
        } else {
            return -1;
        }
    }
    return 0;
}

struct retry_scan {
    int is_retry_info;
    const uint8_t *value;
    size_t value_len;
    int64_t secs, nanos;
    int64_t delay_ms;
};

static int on_duration(void *c, uint32_t f, const uint8_t *d, size_t n,
                       uint64_t v)
{
    struct retry_scan *s = c;
    if (!d && f == 1)
        s->secs = (int64_t)v;
    if (!d && f == 2)
        s->nanos = (int64_t)v;
    return 0;
}

static int on_retry_info(void *c, uint32_t f, const uint8_t *d, size_t n,
                         uint64_t v)
{
    if (d && f == 1) /* retry_delay: google.protobuf.Duration */
        return walk(d, d + n, on_duration, c);
    return 0;
}

static int on_any(void *c, uint32_t f, const uint8_t *d, size_t n, uint64_t v)
{
    struct retry_scan *s = c;
    static const char type[] = "type.googleapis.com/google.rpc.RetryInfo";
    if (d && f == 1)
        s->is_retry_info = n == sizeof type - 1 && memcmp(d, type, n) == 0;
    if (d && f == 2) {
        s->value = d;
        s->value_len = n;
    }
    return 0;
}

/* A Duration the collector chose, in ms: saturated at
 * ROCKY_OTEL_RETRY_DELAY_MAX_MS (any deadline is shorter, so "wait that
 * long" means "give up"), -1 for a negative one (invalid: our own backoff
 * applies). Every value is the collector's, so no step may overflow. */
static int64_t retry_delay_ms(int64_t secs, int64_t nanos)
{
    if (secs < 0 || nanos < 0)
        return -1;
    if (nanos > 999999999) /* out of range: at most one more second */
        nanos = 999999999;
    if (secs >= ROCKY_OTEL_RETRY_DELAY_MAX_MS / 1000)
        return ROCKY_OTEL_RETRY_DELAY_MAX_MS;
    int64_t ms = secs * 1000 + nanos / 1000000;
    return ms < ROCKY_OTEL_RETRY_DELAY_MAX_MS ? ms
                                              : ROCKY_OTEL_RETRY_DELAY_MAX_MS;
}

static int on_status(void *c, uint32_t f, const uint8_t *d, size_t n,
                     uint64_t v)
{
    struct retry_scan *s = c;
    if (!d || f != 3) /* details: repeated google.protobuf.Any */
        return 0;
    s->is_retry_info = 0;
    s->value = NULL;
    if (walk(d, d + n, on_any, s))
        return -1;
    if (s->is_retry_info && s->value) {
        s->secs = s->nanos = 0;
        if (walk(s->value, s->value + s->value_len, on_retry_info, s))
            return -1;
        s->delay_ms = retry_delay_ms(s->secs, s->nanos);
    }
    return 0;
}

/* google.rpc.RetryInfo inside grpc-status-details-bin (a google.rpc.Status). */
int rocky_otel_decode_retry_delay(const uint8_t *p, size_t len,
                                  int64_t *delay_ms)
{
    struct retry_scan s = {0};
    s.delay_ms = -1;
    if (walk(p, p + len, on_status, &s) != 0)
        return -1;
    *delay_ms = s.delay_ms;
    return 0;
}

static int64_t retry_delay(const grpc_metadata_array *trailers)
{
    for (size_t i = 0; i < trailers->count; i++) {
        if (!grpc_slice_str_cmp(trailers->metadata[i].key,
                                "grpc-status-details-bin")) {
            grpc_slice v = trailers->metadata[i].value;
            int64_t delay_ms;
            if (rocky_otel_decode_retry_delay(GRPC_SLICE_START_PTR(v),
                                              GRPC_SLICE_LENGTH(v),
                                              &delay_ms) == 0)
                return delay_ms;
        }
    }
    return -1;
}

/* gRPC's destroy callback of a slice made on a request buffer: may run on
 * any thread, after the call (reqbuf.h). */
static void release_owner(void *owner)
{
    rocky_otel_reqbuf_unref(owner);
}

int rocky_otel_transport_send(struct rocky_otel_transport *t,
                              const uint8_t *buf, size_t len,
                              struct rocky_otel_reqbuf *owner,
                              int64_t deadline_mono_ns,
                              const _Atomic int64_t *abort_at,
                              struct rocky_otel_call_result *res)
{
    memset(res, 0, sizeof *res);
    res->retry_delay_ms = -1;
    int64_t now = rocky_clock_mono_ns();
    int64_t ab = abort_at ? atomic_load(abort_at) : 0;
    if (ab && now >= ab) {
        /* The process is ending (exporter.h, abort_at): no new call. */
        res->status = ROCKY_GRPC_CANCELLED;
        snprintf(res->message, sizeof res->message,
                 "not sent: the exit deadline passed");
        return 0;
    }
    int64_t cap = now + t->timeout_ms * 1000000;
    if (deadline_mono_ns > cap)
        deadline_mono_ns = cap;
    int64_t remaining = deadline_mono_ns - now;
    if (remaining < 1000000)
        remaining = 1000000; /* a call needs some time to fail cleanly */
    /* gRPC's monotonic clock has its own epoch: build the deadline from a
     * duration, not from our absolute time. */
    gpr_timespec deadline =
        gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                     gpr_time_from_nanos(remaining, GPR_TIMESPAN));

    grpc_slice method = grpc_slice_from_static_string(t->method);
    grpc_call *call =
        grpc_channel_create_call(t->channel, NULL, GRPC_PROPAGATE_DEFAULTS,
                                 t->cq, method, NULL, deadline, NULL);
    if (!call) {
        res->status = ROCKY_GRPC_UNAVAILABLE;
        snprintf(res->message, sizeof res->message, "cannot create call");
        return ROCKY_EINTERNAL;
    }
    grpc_slice payload;
    if (owner) {
        /* No copy: the slice owns a reference to the request buffer, which
         * gRPC releases through release_owner when its last use of the
         * bytes is done (the byte buffer below, a queued write). */
        rocky_otel_reqbuf_ref(owner);
        payload = grpc_slice_new_with_user_data((void *)buf, len, release_owner,
                                                owner);
    } else {
        payload = grpc_slice_from_copied_buffer((const char *)buf, len);
    }
    grpc_byte_buffer *send = grpc_raw_byte_buffer_create(&payload, 1);
    grpc_slice_unref(payload);

    grpc_metadata_array initial, trailing;
    grpc_metadata_array_init(&initial);
    grpc_metadata_array_init(&trailing);
    grpc_byte_buffer *recv = NULL;
    grpc_status_code status = GRPC_STATUS_UNKNOWN;
    grpc_slice details = grpc_empty_slice();

    grpc_op ops[6];
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[0].data.send_initial_metadata.count = t->md_count;
    ops[0].data.send_initial_metadata.metadata = t->md;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = send;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &initial;
    ops[4].op = GRPC_OP_RECV_MESSAGE;
    ops[4].data.recv_message.recv_message = &recv;
    ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[5].data.recv_status_on_client.trailing_metadata = &trailing;
    ops[5].data.recv_status_on_client.status = &status;
    ops[5].data.recv_status_on_client.status_details = &details;

    int rc = 0;
    void *tag = (void *)t;
    if (grpc_call_start_batch(call, ops, 6, tag, NULL) != GRPC_CALL_OK) {
        res->status = ROCKY_GRPC_UNAVAILABLE;
        snprintf(res->message, sizeof res->message, "cannot start call");
        rc = ROCKY_EINTERNAL;
    } else {
        /* The call's own deadline ends it. Wait in short slices so that a
         * shutdown deadline set meanwhile (abort_at) can cancel it, and
         * cancel as a last resort a second after the deadline: never hang. */
        gpr_timespec limit =
            gpr_time_add(deadline, gpr_time_from_millis(1000, GPR_TIMESPAN));
        for (;;) {
            gpr_timespec slice =
                gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                             gpr_time_from_millis(20, GPR_TIMESPAN));
            if (gpr_time_cmp(slice, limit) > 0)
                slice = limit;
            grpc_event ev =
                grpc_completion_queue_pluck(t->cq, tag, slice, NULL);
            if (ev.type == GRPC_OP_COMPLETE)
                break;
            ab = abort_at ? atomic_load(abort_at) : 0;
            int past_limit =
                gpr_time_cmp(gpr_now(GPR_CLOCK_MONOTONIC), limit) >= 0;
            if (past_limit || (ab && rocky_clock_mono_ns() >= ab)) {
                grpc_call_cancel(call, NULL);
                grpc_completion_queue_pluck(
                    t->cq, tag, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
                break;
            }
        }
        res->status = (int)status;
        slice_text(details, res->message, sizeof res->message);
        if (status == GRPC_STATUS_OK)
            read_response(recv, res);
        /* Text the server chose: it may echo a header back. */
        if (rocky_otel_secret_in(res->message))
            snprintf(res->message, sizeof res->message,
                     "(status message withheld: it held a configured header "
                     "value)");
        if (rocky_otel_secret_in(res->partial_message))
            snprintf(res->partial_message, sizeof res->partial_message,
                     "(message withheld: it held a configured header value)");
        else
            res->retry_delay_ms = retry_delay(&trailing);
    }
    if (recv)
        grpc_byte_buffer_destroy(recv);
    grpc_byte_buffer_destroy(send);
    grpc_slice_unref(details);
    grpc_metadata_array_destroy(&initial);
    grpc_metadata_array_destroy(&trailing);
    grpc_call_unref(call);
    return rc;
}

int rocky_otel_status_retryable(const struct rocky_otel_call_result *res)
{
    switch (res->status) {
    case ROCKY_GRPC_CANCELLED:
    case ROCKY_GRPC_DEADLINE_EXCEEDED:
    case ROCKY_GRPC_ABORTED:
    case ROCKY_GRPC_OUT_OF_RANGE:
    case ROCKY_GRPC_UNAVAILABLE:
    case ROCKY_GRPC_DATA_LOSS: return 1;
    case ROCKY_GRPC_RESOURCE_EXHAUSTED: return res->retry_delay_ms >= 0;
    default: return 0;
    }
}
