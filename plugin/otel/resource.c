/*
 * resource.c — resource attributes and instrumentation scope.
 */
#include "resource.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rocky/error.h"
#include "utf8.h"

/* A sanitized heap copy, remembered for free. */
static char *own(struct rocky_otel_resource *r, const char *s)
{
    size_t len = strlen(s);
    /* U+FFFD is 3 bytes for each bad byte. */
    char *c = malloc(3 * len + 1);
    if (!c)
        return NULL;
    rocky_otel_utf8_sanitize(s, len, c, 3 * len + 1);
    r->owned[r->owned_count++] = c;
    return c;
}

static rocky_otlp_kv *find(struct rocky_otel_resource *r, const char *key)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->kv[i].key, key) == 0)
            return &r->kv[i];
    return NULL;
}

static int set_str(struct rocky_otel_resource *r, const char *key,
                   const char *value)
{
    char *k = own(r, key), *v = own(r, value);
    if (!k || !v)
        return ROCKY_ENOMEM;
    rocky_otlp_kv *kv = find(r, k);
    if (kv) { /* later sources override earlier ones */
        rocky_otel_kv_str(kv, kv->value, k, v);
        return 0;
    }
    rocky_otel_kv_str(&r->kv[r->n], &r->av[r->n], k, v);
    r->n++;
    return 0;
}

int rocky_otel_resource_init(struct rocky_otel_resource *r,
                             const struct rocky_otel_config *cfg,
                             const char *service_version)
{
    memset(r, 0, sizeof *r);
    char host[256] = "";
    if (gethostname(host, sizeof host - 1) != 0)
        host[0] = '\0';
    int rc = set_str(r, "service.name", cfg->service_name);
    if (!rc && service_version && *service_version)
        rc = set_str(r, "service.version", service_version);
    if (!rc && host[0])
        rc = set_str(r, "host.name", host);
    if (!rc)
        rc = set_str(r, "telemetry.sdk.name", "rocky-otel");
    if (!rc)
        rc = set_str(r, "telemetry.sdk.language", "c");
    if (!rc)
        rc = set_str(r, "telemetry.sdk.version", ROCKY_OTEL_VERSION);
    for (size_t i = 0; !rc && i < cfg->resource_attr_count; i++) {
        if (cfg->service_name_set &&
            strcmp(cfg->resource_keys[i], "service.name") == 0)
            continue;
        rc = set_str(r, cfg->resource_keys[i], cfg->resource_values[i]);
    }
    if (rc) {
        rocky_otel_resource_free(r);
        return rc;
    }
    /* process.pid is ours alone: an int, not overridable. */
    rocky_otlp_kv *pid = find(r, "process.pid");
    if (pid)
        rocky_otel_kv_int(pid, pid->value, "process.pid", (int64_t)getpid());
    else {
        rocky_otel_kv_int(&r->kv[r->n], &r->av[r->n], "process.pid",
                          (int64_t)getpid());
        r->n++;
    }
    for (size_t i = 0; i < r->n; i++)
        r->ptrs[i] = &r->kv[i];
    opentelemetry__proto__resource__v1__resource__init(&r->resource);
    r->resource.n_attributes = r->n;
    r->resource.attributes = r->ptrs;
    opentelemetry__proto__common__v1__instrumentation_scope__init(&r->scope);
    r->scope.name = ROCKY_OTEL_SCOPE_NAME;
    r->scope.version = ROCKY_OTEL_VERSION;
    return 0;
}

void rocky_otel_resource_free(struct rocky_otel_resource *r)
{
    for (size_t i = 0; i < r->owned_count; i++)
        free(r->owned[i]);
    r->owned_count = 0;
    r->n = 0;
}
