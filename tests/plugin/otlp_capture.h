/*
 * otlp_capture.h — an in-process OTLP/gRPC receiver for the plugin tests:
 * a gRPC C core server on 127.0.0.1 that answers every export OK and keeps
 * the request bodies, decoded on demand with the same protobuf-c messages
 * the exporter encodes with.
 *
 * Threads: the receiver runs on its own thread; every function below may be
 * called from any other thread.
 */
#ifndef ROCKY_TEST_OTLP_CAPTURE_H
#define ROCKY_TEST_OTLP_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

struct otlp_capture; /* opaque */

/* Start listening on an ephemeral port. 0, or -1 (says why on stderr). */
int otlp_capture_start(struct otlp_capture **out);
/* "http://127.0.0.1:<port>" for an endpoint config key. */
const char *otlp_capture_endpoint(const struct otlp_capture *c);
void otlp_capture_stop(struct otlp_capture *c);

/* Spans received so far, all requests together. */
size_t otlp_capture_span_count(struct otlp_capture *c);
/* How many received spans are named `name` and, when `model` is not NULL,
 * carry rocky.model.name == model. */
size_t otlp_capture_spans_named(struct otlp_capture *c, const char *name,
                                const char *model);

/*
 * The value of sum metric `metric` in the latest metrics request that has
 * it, at the point whose attribute `attr_key` equals `attr_value` (both
 * NULL: the point without attributes). Returns 0 and sets *out, or -1 when
 * there is no such point.
 */
int otlp_capture_sum(struct otlp_capture *c, const char *metric,
                     const char *attr_key, const char *attr_value,
                     int64_t *out);
/* The value of gauge metric `metric` (one point, no attributes; an int
 * gauge as a double) in the latest request with it. Returns 0 or -1. */
int otlp_capture_gauge(struct otlp_capture *c, const char *metric, double *out);
/* The count of histogram metric `metric` in the latest request with it;
 * -1 when none. */
int64_t otlp_capture_histogram_count(struct otlp_capture *c,
                                     const char *metric);

/* A TCP port on 127.0.0.1 that nothing listens on (bound, then closed):
 * an endpoint for a collector that is down. */
int otlp_dead_port(void);

#endif
