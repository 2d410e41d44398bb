/*
 * exit_registry.c — one exit guard for every armed exporter (contract in
 * exit_registry.h).
 */
#include "exit_registry.h"

#include <pthread.h>
#include <stddef.h>

#include "clock.h"
#include "exit_guard.h"
#include "host_log.h"

/* Process-wide, like the guard it feeds. */
static pthread_mutex_t life_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t list_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rocky_otel_exit_entry *head; /* under list_lock; oldest first */

/* The largest timeout still registered. list_lock held. */
static int64_t max_timeout_ms(void)
{
    int64_t max = 0;
    for (const struct rocky_otel_exit_entry *x = head; x; x = x->next)
        if (x->timeout_ms > max)
            max = x->timeout_ms;
    return max;
}

/* The guard's drain, on its thread: flush all at once, then wait for each,
 * within the one deadline. list_lock held throughout, so unregister waits
 * for it and no exporter is freed under it. */
static void drain_all(void *ctx, int64_t deadline_mono_ns)
{
    (void)ctx;
    pthread_mutex_lock(&list_lock);
    int64_t now = rocky_clock_mono_ns();
    for (struct rocky_otel_exit_entry *x = head; x; x = x->next) {
        int64_t own = now + x->timeout_ms * 1000000;
        x->deadline_ns = own < deadline_mono_ns ? own : deadline_mono_ns;
        /* No call of it outlives the deadline (exit_guard.h's order). */
        rocky_otel_exporter_abort_at(x->exporter, x->deadline_ns);
        x->ticket =
            rocky_otel_exporter_flush_start(x->exporter, x->deadline_ns, 1);
    }
    for (struct rocky_otel_exit_entry *x = head; x; x = x->next)
        rocky_otel_exporter_flush_wait(x->exporter, x->ticket, x->deadline_ns);
    pthread_mutex_unlock(&list_lock);
}

int rocky_otel_exit_register(struct rocky_otel_exit_entry *entry,
                             struct rocky_otel_exporter *exporter,
                             int64_t timeout_ms)
{
    entry->exporter = exporter;
    entry->timeout_ms = timeout_ms < 0 ? 0 : timeout_ms;
    entry->next = NULL;
    entry->ticket = 0;
    entry->deadline_ns = 0;

    pthread_mutex_lock(&life_lock);
    pthread_mutex_lock(&list_lock);
    int first = head == NULL;
    struct rocky_otel_exit_entry **p = &head;
    while (*p)
        p = &(*p)->next;
    *p = entry;
    entry->registered = 1;
    int64_t timeout = max_timeout_ms();
    pthread_mutex_unlock(&list_lock);

    int rc = 0;
    if (first) {
        struct rocky_guard_config g = {.drain = drain_all,
                                       .ctx = NULL,
                                       .timeout_ms = timeout,
                                       .log = rocky_otel_log_route_write,
                                       .log_ctx = NULL,
                                       /* exporters notice a fork by
                                        * themselves (exporter.h) */
                                       .after_fork_child = NULL};
        rc = rocky_guard_install(&g);
    } else {
        rc = rocky_guard_set_timeout(timeout);
    }
    if (rc != 0) {
        pthread_mutex_lock(&list_lock);
        struct rocky_otel_exit_entry **q = &head;
        while (*q && *q != entry)
            q = &(*q)->next;
        if (*q)
            *q = entry->next;
        entry->next = NULL;
        entry->registered = 0;
        pthread_mutex_unlock(&list_lock);
    }
    pthread_mutex_unlock(&life_lock);
    return rc;
}

void rocky_otel_exit_unregister(struct rocky_otel_exit_entry *entry)
{
    pthread_mutex_lock(&life_lock);
    /* Waits for a drain in progress: after this, none touches entry. */
    pthread_mutex_lock(&list_lock);
    int was = entry->registered;
    if (was) {
        struct rocky_otel_exit_entry **p = &head;
        while (*p && *p != entry)
            p = &(*p)->next;
        if (*p)
            *p = entry->next;
        entry->next = NULL;
        entry->registered = 0;
    }
    int last = head == NULL;
    int64_t timeout = max_timeout_ms();
    pthread_mutex_unlock(&list_lock);
    if (was) {
        /* Outside list_lock: disarm waits for a drain, which takes it. */
        if (last)
            rocky_guard_disarm();
        else
            rocky_guard_set_timeout(timeout);
    }
    pthread_mutex_unlock(&life_lock);
}
