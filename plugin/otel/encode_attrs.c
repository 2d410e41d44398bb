/*
 * encode_attrs.c — KeyValue building with the attribute value limit.
 */
#include "encode_attrs.h"

#include <string.h>

#include "utf8.h"

void rocky_otel_kv_str(rocky_otlp_kv *kv, rocky_otlp_any *av, const char *key,
                       const char *value)
{
    opentelemetry__proto__common__v1__key_value__init(kv);
    opentelemetry__proto__common__v1__any_value__init(av);
    av->value_case =
        OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
    av->string_value = (char *)value;
    kv->key = (char *)key;
    kv->value = av;
}

void rocky_otel_kv_int(rocky_otlp_kv *kv, rocky_otlp_any *av, const char *key,
                       int64_t value)
{
    opentelemetry__proto__common__v1__key_value__init(kv);
    opentelemetry__proto__common__v1__any_value__init(av);
    av->value_case =
        OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE;
    av->int_value = value;
    kv->key = (char *)key;
    kv->value = av;
}

void rocky_otel_attrs_init(struct rocky_otel_attrs *a, rocky_otlp_kv *kv,
                           rocky_otlp_any *av, rocky_otlp_kv **ptrs, size_t cap,
                           int64_t limit, char *scratch, size_t scratch_cap)
{
    a->kv = kv;
    a->av = av;
    a->ptrs = ptrs;
    a->n = 0;
    a->cap = cap;
    a->dropped = 0;
    a->limit = limit;
    a->scratch = scratch;
    a->scratch_used = 0;
    a->scratch_cap = scratch_cap;
}

/* The value as sent: itself, or a truncated copy when over the limit. */
static const char *limited(struct rocky_otel_attrs *a, const char *v)
{
    if (a->limit < 0)
        return v;
    size_t len = strlen(v);
    if (len <= (size_t)a->limit) /* bytes >= chars: surely within */
        return v;
    size_t cut = rocky_otel_utf8_prefix(v, len, (size_t)a->limit);
    if (cut == len)
        return v;
    size_t room = a->scratch_cap - a->scratch_used;
    if (room == 0)
        return "";
    if (cut + 1 > room)
        cut = rocky_otel_utf8_prefix(v, room - 1, (size_t)a->limit);
    char *dst = a->scratch + a->scratch_used;
    memcpy(dst, v, cut);
    dst[cut] = '\0';
    a->scratch_used += cut + 1;
    return dst;
}

void rocky_otel_attr_str(struct rocky_otel_attrs *a, const char *key,
                         const char *value)
{
    if (!value || !*value)
        return;
    if (a->n == a->cap) {
        a->dropped++;
        return;
    }
    rocky_otel_kv_str(&a->kv[a->n], &a->av[a->n], key, limited(a, value));
    a->ptrs[a->n] = &a->kv[a->n];
    a->n++;
}

void rocky_otel_attr_int(struct rocky_otel_attrs *a, const char *key,
                         int64_t value)
{
    if (a->n == a->cap) {
        a->dropped++;
        return;
    }
    rocky_otel_kv_int(&a->kv[a->n], &a->av[a->n], key, value);
    a->ptrs[a->n] = &a->kv[a->n];
    a->n++;
}
