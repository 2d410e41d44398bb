/*
 * resource.h — the OTLP Resource (who sends) and InstrumentationScope
 * (what instrumented), built once at init and shared by every request.
 *
 * Attributes: service.name, service.version, host.name, process.pid,
 * telemetry.sdk.{name,language,version}, then OTEL_RESOURCE_ATTRIBUTES
 * (which override the defaults, except that OTEL_SERVICE_NAME beats its
 * service.name). Every string is sanitized to UTF-8.
 */
#ifndef ROCKY_OTEL_RESOURCE_H
#define ROCKY_OTEL_RESOURCE_H

#include "encode_attrs.h"
#include "otel_config.h"
#include "opentelemetry/proto/resource/v1/resource.pb-c.h"

#define ROCKY_OTEL_SCOPE_NAME "rocky_otel"

struct rocky_otel_resource {
    Opentelemetry__Proto__Resource__V1__Resource resource;
    Opentelemetry__Proto__Common__V1__InstrumentationScope scope;
    size_t n;
    rocky_otlp_kv kv[ROCKY_OTEL_MAX_RES_ATTRS + 8];
    rocky_otlp_any av[ROCKY_OTEL_MAX_RES_ATTRS + 8];
    rocky_otlp_kv *ptrs[ROCKY_OTEL_MAX_RES_ATTRS + 8];
    char *owned[2 * (ROCKY_OTEL_MAX_RES_ATTRS + 8)]; /* sanitized copies */
    size_t owned_count;
};

/* Build from `cfg`; `service_version` is the runner's version (may be
 * NULL). Returns 0 or ROCKY_ENOMEM. Free with rocky_otel_resource_free. */
int rocky_otel_resource_init(struct rocky_otel_resource *r,
                             const struct rocky_otel_config *cfg,
                             const char *service_version);
void rocky_otel_resource_free(struct rocky_otel_resource *r);

#endif
