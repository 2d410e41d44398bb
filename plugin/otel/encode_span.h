/*
 * encode_span.h — one span written as OTLP protobuf bytes straight from its
 * view (span_view.h), with no message tree and no protobuf-c call.
 *
 * What is written (span name, attributes in their order, events, status)
 * is listed in encode_trace.h; the bytes are exactly what protobuf-c's
 * packing of the same Opentelemetry__Proto__Trace__V1__Span would be (field
 * order by number, proto3 defaults left out, oneof values always written):
 * tests/plugin/test_otel_encode_identity.c proves it for every field
 * combination against a protobuf-c reference.
 *
 * Two passes of one description of the span, so a caller knows the exact
 * size before it writes a byte: rocky_otel_span_plan() sizes every field
 * (attribute order and cap, the OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT cut,
 * events, status) and keeps the nested lengths the writer needs;
 * rocky_otel_span_write() writes the same fields into memory the caller has
 * checked holds plan->size bytes. Nothing is allocated; a plan lives on the
 * caller's stack and points to the view (valid while the view is). Both
 * functions are pure and reentrant.
 */
#ifndef ROCKY_OTEL_ENCODE_SPAN_H
#define ROCKY_OTEL_ENCODE_SPAN_H

#include <stddef.h>
#include <stdint.h>

#include "span_view.h"

#define ROCKY_OTEL_ATTRS_PER_SPAN  16
#define ROCKY_OTEL_EVENTS_PER_SPAN 2
#define ROCKY_OTEL_ATTRS_PER_EVENT 5

/* What the sizing pass keeps for the writing pass. */
struct rocky_otel_span_plan {
    const struct rocky_otel_span_view *v;
    int64_t limit;
    size_t size; /* Span message bytes (without its own field header) */
    size_t event_len[ROCKY_OTEL_EVENTS_PER_SPAN]; /* Event message bytes */
};

/*
 * Plan the span of view `v` with attribute value limit `limit` (-1: none)
 * into `p`; returns p->size, the Span message's exact byte count. `v` must
 * stay valid and unchanged until rocky_otel_span_write() is done.
 */
size_t rocky_otel_span_plan(const struct rocky_otel_span_view *v, int64_t limit,
                            struct rocky_otel_span_plan *p);

/*
 * Write the Span message of plan `p` (its fields, not the field header of
 * the enclosing ScopeSpans.spans) at `w`, which must have p->size bytes of
 * room. Returns the end: always w + p->size.
 */
uint8_t *rocky_otel_span_write(const struct rocky_otel_span_plan *p,
                               uint8_t *w);

/* Bytes of `v` as a protobuf varint (1..10). */
static inline __attribute__((always_inline)) size_t
rocky_otel_varint_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

/* Write `v` as a varint at `w`; returns the end. */
static inline __attribute__((always_inline)) uint8_t *
rocky_otel_put_varint(uint8_t *w, uint64_t v)
{
    while (v >= 0x80) {
        *w++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *w++ = (uint8_t)v;
    return w;
}

#endif
