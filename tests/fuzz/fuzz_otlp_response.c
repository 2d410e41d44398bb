/*
 * fuzz_otlp_response.c — what a collector sends back is network input: the
 * body of an OTLP export response (trace or metrics, with partial_success)
 * and the grpc-status-details-bin trailer that may carry a RetryInfo. Every
 * input is fed to both decoders, since a hostile server picks which one it
 * reaches.
 *
 * Invariants: the partial_success message is NUL-terminated valid UTF-8;
 * the metrics response (decoded here with the metrics message type) reports
 * the same rejected count as the trace-typed decoder the transport uses for
 * both; a RetryInfo delay is -1 or non-negative.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "grpc_transport.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Strict UTF-8 (no overlongs, surrogates or code points past U+10FFFF). */
static int valid_utf8(const unsigned char *s)
{
    while (*s) {
        unsigned c = *s;
        size_t n = c < 0x80                 ? 1
                   : c >= 0xc2 && c <= 0xdf ? 2
                   : c >= 0xe0 && c <= 0xef ? 3
                   : c >= 0xf0 && c <= 0xf4 ? 4
                                            : 0;
        if (n == 0)
            return 0;
        unsigned cp = n == 1 ? c : c & (0x7f >> n);
        for (size_t i = 1; i < n; i++) {
            if ((s[i] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i] & 0x3f);
        }
        if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
            (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
            return 0;
        s += n;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rocky_otel_call_result res;
    memset(&res, 0, sizeof res);
    res.retry_delay_ms = -1;
    rocky_otel_decode_export_response(data, size, &res);
    if (memchr(res.partial_message, '\0', sizeof res.partial_message) == NULL ||
        !valid_utf8((const unsigned char *)res.partial_message))
        abort();

    Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceResponse *m =
        opentelemetry__proto__collector__metrics__v1__export_metrics_service_response__unpack(
            NULL, size, data);
    if (m != NULL) {
        int64_t want =
            m->partial_success ? m->partial_success->rejected_data_points : 0;
        if (want != res.rejected)
            abort(); /* the shared decoder misreads metrics responses */
        opentelemetry__proto__collector__metrics__v1__export_metrics_service_response__free_unpacked(
            m, NULL);
    }

    int64_t delay = -2;
    if (rocky_otel_decode_retry_delay(data, size, &delay) == 0) {
        /* The collector picks the numbers: the delay saturates, never
         * wraps (issue 15). */
        if (delay < -1 || delay > ROCKY_OTEL_RETRY_DELAY_MAX_MS)
            abort();
        res.status = ROCKY_GRPC_RESOURCE_EXHAUSTED;
        res.retry_delay_ms = delay;
        if (rocky_otel_status_retryable(&res) != (delay >= 0 ? 1 : 0))
            abort();
    } else if (delay != -2) {
        abort(); /* a failed decode must leave the out value alone */
    }
    return 0;
}
