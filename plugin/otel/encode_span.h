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
 * Two steps, so a caller knows the exact size before it writes a byte:
 * rocky_otel_span_plan() decides every field (attribute order and cap, the
 * OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT cut, events, status) and every nested
 * length; rocky_otel_span_write() copies the plan into memory the caller
 * has checked holds plan->size bytes. Nothing is allocated; a plan lives on
 * the caller's stack and points into the view (valid while the view is).
 * Both functions are pure and reentrant.
 */
#ifndef ROCKY_OTEL_ENCODE_SPAN_H
#define ROCKY_OTEL_ENCODE_SPAN_H

#include <stddef.h>
#include <stdint.h>

#include "span_view.h"

#define ROCKY_OTEL_ATTRS_PER_SPAN  16
#define ROCKY_OTEL_EVENTS_PER_SPAN 2
#define ROCKY_OTEL_ATTRS_PER_EVENT 5

/* One KeyValue: a key (a static string) and an int or a string value. A
 * string value is two pieces written back to back, so "main.<name>" needs
 * no copy; both are already cut to the length limit. */
struct rocky_otel_attr_plan {
    const char *key;
    uint32_t key_len;
    uint32_t is_int;
    uint64_t int_value; /* int64 as its two's complement varint */
    const char *a, *b;
    uint32_t a_len, b_len;
    uint32_t any_len; /* AnyValue message bytes */
    uint32_t kv_len;  /* KeyValue message bytes */
};

struct rocky_otel_event_plan {
    const char *name;
    uint32_t name_len;
    uint32_t n_attrs, dropped;
    uint64_t time_ns;
    uint32_t len; /* Event message bytes */
    struct rocky_otel_attr_plan attrs[ROCKY_OTEL_ATTRS_PER_EVENT];
};

struct rocky_otel_span_plan {
    const struct rocky_otel_span_view *v;
    const char *name;
    uint32_t name_len;
    uint32_t n_attrs, dropped, n_events;
    uint64_t start_ns, end_ns;
    struct rocky_otel_str trace_state; /* runs only */
    struct rocky_otel_str status_message;
    uint32_t status_code; /* 0 unset, 2 error */
    uint32_t status_len;  /* Status message bytes */
    size_t size;          /* Span message bytes (without its own header) */
    struct rocky_otel_attr_plan attrs[ROCKY_OTEL_ATTRS_PER_SPAN];
    struct rocky_otel_event_plan events[ROCKY_OTEL_EVENTS_PER_SPAN];
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
