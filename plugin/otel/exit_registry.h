/*
 * exit_registry.h — the exporters the exit guard (guard.h) drains.
 *
 * The guard is one per process (signal handlers, an atexit hook), but a
 * host may run several rocky_otel instances at once. Each instance that
 * needs a flush at exit (its host lacks ROCKY_HOST_CAP_OWNS_EXIT) registers
 * its exporter here:
 *
 *   first register      installs the guard (drain = every registered
 *                       exporter, log = the route of host_log.h)
 *   each register /     the guard's one timeout becomes the largest
 *   unregister          exit_timeout_ms of those still registered
 *   the drain           asks every registered exporter to flush at once,
 *                       each by min(the guard's deadline, its own
 *                       exit_timeout_ms), then waits for each within that
 *                       deadline: one dead collector does not eat the
 *                       others' time
 *   last unregister     disarms the guard
 *
 * Unregister waits for a drain that is using the exporter right now (at
 * most until that drain's deadline); after it returns the guard never
 * touches that exporter again, so the caller may shut it down and free it.
 *
 * Threads: register/unregister from one thread at a time (the host's
 * create/stop thread); the drain runs on the guard's thread. Lock order:
 * the life lock (register/unregister) -> the list lock (held by the drain
 * for its whole run); the drain never takes the life lock, and neither lock
 * is held while the guard is disarmed from here (disarm waits for a drain).
 */
#ifndef ROCKY_OTEL_EXIT_REGISTRY_H
#define ROCKY_OTEL_EXIT_REGISTRY_H

#include <stdint.h>

#include "exporter.h"

/* One registered exporter; lives in the instance, owned by the registry
 * between register and unregister. */
struct rocky_otel_exit_entry {
    struct rocky_otel_exporter *exporter;
    int64_t timeout_ms;
    /* Under the list lock. */
    struct rocky_otel_exit_entry *next;
    int registered;
    uint64_t ticket;     /* the drain's flush of this exporter */
    int64_t deadline_ns; /* ... and its deadline */
};

/*
 * Register `exporter` for the exit flush, with its own bound `timeout_ms`
 * (ROCKY_OTEL_EXIT_TIMEOUT_MS). Returns 0, or the guard's error from
 * rocky_guard_install() (then nothing is registered).
 */
int rocky_otel_exit_register(struct rocky_otel_exit_entry *entry,
                             struct rocky_otel_exporter *exporter,
                             int64_t timeout_ms);

/* Unregister (see above). A no-op for an entry not registered. */
void rocky_otel_exit_unregister(struct rocky_otel_exit_entry *entry);

#endif
