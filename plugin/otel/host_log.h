/*
 * host_log.h — how rocky_otel's lines reach the host's logger.
 *
 * Per instance: a `struct rocky_otel_host_log` wraps the instance's
 * host->log. Every line is written under the wrapper's mutex after checking
 * `detached`; destroy detaches it under the same mutex, so once detach
 * returned no thread (the exporter's, gRPC's, the exit guard's) is inside
 * host->log for that instance or will call it again, and nothing of the
 * host's memory is touched through it. The rocky/plugin.h rule "no host
 * service after destroy returned" rests on this.
 *
 * Process-wide: gRPC core has one log hook per process, and the exit guard
 * is one per process; neither belongs to an instance. Their lines go to the
 * *route*: the oldest instance logger still on it. An instance joins the
 * route when it starts gRPC and leaves it in destroy (before detaching), so
 * a line is never routed to a destroyed instance; with no instance on the
 * route the line is dropped (nothing prints behind the runner's back).
 *
 * Lock order: route lock -> an instance's mutex. host->log is called with
 * both held; it must not call back into the plugin (the ABI says it never
 * blocks for long).
 */
#ifndef ROCKY_OTEL_HOST_LOG_H
#define ROCKY_OTEL_HOST_LOG_H

#include <pthread.h>

#include "rocky/plugin.h"

struct rocky_otel_host_log {
    pthread_mutex_t mu;
    int detached;                      /* under mu                        */
    const struct rocky_host_api *host; /* under mu; NULL once detached    */
    /* The route (under the route lock). */
    struct rocky_otel_host_log *route_next;
    int routed;
};

/* Attach `l` to `host` (host->log may be NULL: lines are then dropped). */
void rocky_otel_host_log_init(struct rocky_otel_host_log *l,
                              const struct rocky_host_api *host);

/*
 * Log one line through `ctx` (a struct rocky_otel_host_log *); level is
 * enum rocky_log_level. Shaped like rocky_otel_log_fn so the exporter can
 * take it. Any thread. A no-op once detached.
 */
void rocky_otel_host_log_write(void *ctx, int level, const char *message);

/* Leave the route (if on it), then detach: see above. Waits only for a
 * line being written right now. Idempotent. */
void rocky_otel_host_log_detach(struct rocky_otel_host_log *l);

/* Free the mutex; after detach, when no thread can use `l` any more. */
void rocky_otel_host_log_destroy(struct rocky_otel_host_log *l);

/* Put `l` on the route (the newest, so the last to hear lines). */
void rocky_otel_log_route_join(struct rocky_otel_host_log *l);

/* Log one line through the oldest logger on the route; dropped when there
 * is none. `ctx` is ignored. Any thread, never from a signal handler. */
void rocky_otel_log_route_write(void *ctx, int level, const char *message);

#endif
