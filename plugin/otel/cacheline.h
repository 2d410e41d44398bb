/*
 * cacheline.h — keeping counters that different threads write on different
 * cache lines (false sharing between the runner's worker threads and the
 * exporter thread costs the hot path).
 */
#ifndef ROCKY_OTEL_CACHELINE_H
#define ROCKY_OTEL_CACHELINE_H

#include <stdlib.h>
#include <string.h>

#define ROCKY_OTEL_CACHE_LINE 64

/* Put a struct member at the start of its own cache line. */
#define ROCKY_OTEL_OWN_LINE _Alignas(ROCKY_OTEL_CACHE_LINE)

/* A zeroed block aligned to a cache line, for structs with ROCKY_OTEL_OWN_LINE
 * members (calloc only promises 16 bytes). free() it. NULL when out of
 * memory. */
static inline void *rocky_otel_zalloc_lines(size_t size)
{
    size_t rounded = (size + ROCKY_OTEL_CACHE_LINE - 1) /
                     ROCKY_OTEL_CACHE_LINE * ROCKY_OTEL_CACHE_LINE;
    void *p = aligned_alloc(ROCKY_OTEL_CACHE_LINE, rounded);
    if (p != NULL)
        memset(p, 0, size);
    return p;
}

#endif
