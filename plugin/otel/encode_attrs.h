/*
 * encode_attrs.h — OTLP KeyValue attributes on protobuf-c, and the
 * per-request memory they live in. Private to the plugin: protobuf-c types
 * never appear in include/rocky/.
 */
#ifndef ROCKY_OTEL_ENCODE_ATTRS_H
#define ROCKY_OTEL_ENCODE_ATTRS_H

#include <stddef.h>
#include <stdint.h>

#include "opentelemetry/proto/common/v1/common.pb-c.h"

typedef Opentelemetry__Proto__Common__V1__KeyValue rocky_otlp_kv;
typedef Opentelemetry__Proto__Common__V1__AnyValue rocky_otlp_any;

/*
 * A list of attributes being built: `kv`, `av` and `ptrs` are caller
 * storage for `cap` entries. Strings are referenced, not copied, unless the
 * value is longer than `limit` characters (OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT,
 * -1 = none): then a truncated copy is made in `scratch` (caller storage of
 * `scratch_cap` bytes; when it is exhausted the value is cut to fit, which
 * only happens with absurd limits). Adding beyond `cap` counts a dropped
 * attribute instead. Single-threaded.
 */
struct rocky_otel_attrs {
    rocky_otlp_kv *kv;
    rocky_otlp_any *av;
    rocky_otlp_kv **ptrs;
    size_t n, cap;
    uint32_t dropped;
    int64_t limit;
    char *scratch;
    size_t scratch_used, scratch_cap;
};

void rocky_otel_attrs_init(struct rocky_otel_attrs *a, rocky_otlp_kv *kv,
                           rocky_otlp_any *av, rocky_otlp_kv **ptrs, size_t cap,
                           int64_t limit, char *scratch, size_t scratch_cap);

/* Add a string attribute; NULL or "" values are left out. `key` and `value`
 * must outlive the packing of the message. */
void rocky_otel_attr_str(struct rocky_otel_attrs *a, const char *key,
                         const char *value);
void rocky_otel_attr_int(struct rocky_otel_attrs *a, const char *key,
                         int64_t value);

/* Initialise one KeyValue/AnyValue pair (no limit applied). */
void rocky_otel_kv_str(rocky_otlp_kv *kv, rocky_otlp_any *av, const char *key,
                       const char *value);
void rocky_otel_kv_int(rocky_otlp_kv *kv, rocky_otlp_any *av, const char *key,
                       int64_t value);

#endif
