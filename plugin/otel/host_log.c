/*
 * host_log.c — the per-instance host logger and the process-wide route
 * (contract in host_log.h).
 */
#include "host_log.h"

#include <stddef.h>

/* The route: process-wide because gRPC's log hook and the exit guard are.
 * Oldest first. */
static pthread_mutex_t route_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rocky_otel_host_log *route_head;

void rocky_otel_host_log_init(struct rocky_otel_host_log *l,
                              const struct rocky_host_api *host)
{
    pthread_mutex_init(&l->mu, NULL);
    l->detached = 0;
    l->host = host;
    l->route_next = NULL;
    l->routed = 0;
}

void rocky_otel_host_log_write(void *ctx, int level, const char *message)
{
    struct rocky_otel_host_log *l = ctx;
    if (!l)
        return;
    pthread_mutex_lock(&l->mu);
    /* Held across the call: detach waits for a line in progress. */
    if (!l->detached && l->host && l->host->log)
        l->host->log(l->host->host_ctx, level, message ? message : "");
    pthread_mutex_unlock(&l->mu);
}

static void route_leave(struct rocky_otel_host_log *l)
{
    /* `routed` is written only by join and leave, which run on the host's
     * create/destroy thread: no lock needed to read it there. Never taking
     * route_lock for a logger that never joined also keeps an inert
     * instance's destroy safe in a fork child (where a thread that no
     * longer exists may have held it). */
    if (!l->routed)
        return;
    pthread_mutex_lock(&route_lock);
    if (l->routed) {
        struct rocky_otel_host_log **p = &route_head;
        while (*p && *p != l)
            p = &(*p)->route_next;
        if (*p)
            *p = l->route_next;
        l->route_next = NULL;
        l->routed = 0;
    }
    pthread_mutex_unlock(&route_lock);
}

void rocky_otel_host_log_detach(struct rocky_otel_host_log *l)
{
    route_leave(l);
    pthread_mutex_lock(&l->mu);
    l->detached = 1;
    l->host = NULL;
    pthread_mutex_unlock(&l->mu);
}

void rocky_otel_host_log_destroy(struct rocky_otel_host_log *l)
{
    pthread_mutex_destroy(&l->mu);
}

void rocky_otel_log_route_join(struct rocky_otel_host_log *l)
{
    pthread_mutex_lock(&route_lock);
    if (!l->routed) {
        struct rocky_otel_host_log **p = &route_head;
        while (*p)
            p = &(*p)->route_next;
        l->route_next = NULL;
        *p = l;
        l->routed = 1;
    }
    pthread_mutex_unlock(&route_lock);
}

void rocky_otel_log_route_write(void *ctx, int level, const char *message)
{
    (void)ctx;
    pthread_mutex_lock(&route_lock);
    if (route_head)
        rocky_otel_host_log_write(route_head, level, message);
    pthread_mutex_unlock(&route_lock);
}
