/*
 * queue.c — bounded lock-free MPSC ring of span slots (after Dmitry
 * Vyukov's bounded MPMC queue) plus a mutex-guarded list of run spans.
 *
 * Slot protocol: slot i % cap is free for the producer holding ticket
 * `pos` when its seq == pos; the producer fills it and publishes seq =
 * pos + 1 (release). The consumer reads it when seq == head + 1 (acquire)
 * and frees it with seq = head + cap.
 */
#include "queue.h"

#include "cacheline.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "rocky/error.h"

struct slot {
    _Atomic uint64_t seq;
    struct rocky_otel_span span;
};

struct run_node {
    struct run_node *next;
    struct rocky_otel_span span;
};

struct rocky_otel_queue {
    /* Producers and the consumer touch different lines. */
    ROCKY_OTEL_OWN_LINE _Atomic uint64_t tail;
    ROCKY_OTEL_OWN_LINE _Atomic uint64_t
        head; /* written by the consumer only */
    ROCKY_OTEL_OWN_LINE _Atomic uint64_t refused;
    _Atomic size_t run_count;
    _Atomic uint64_t runs_pushed;
    uint32_t cap;
    pthread_mutex_t run_lock;
    struct run_node *runs, **runs_tail;
    struct slot *slots;
};

int rocky_otel_queue_new(uint32_t capacity, struct rocky_otel_queue **out)
{
    if (capacity == 0 || !out)
        return ROCKY_EINVAL;
    struct rocky_otel_queue *q = rocky_otel_zalloc_lines(sizeof *q);
    if (!q)
        return ROCKY_ENOMEM;
    /* calloc: slots are touched lazily, so an idle queue costs little RSS. */
    q->slots = calloc(capacity, sizeof *q->slots);
    if (!q->slots) {
        free(q);
        return ROCKY_ENOMEM;
    }
    for (uint32_t i = 0; i < capacity; i++)
        atomic_init(&q->slots[i].seq, i);
    q->cap = capacity;
    pthread_mutex_init(&q->run_lock, NULL);
    q->runs_tail = &q->runs;
    *out = q;
    return 0;
}

void rocky_otel_queue_free(struct rocky_otel_queue *q)
{
    if (!q)
        return;
    struct run_node *n = q->runs;
    while (n) {
        struct run_node *next = n->next;
        free(n);
        n = next;
    }
    pthread_mutex_destroy(&q->run_lock);
    free(q->slots);
    free(q);
}

static int push_run(struct rocky_otel_queue *q, const struct rocky_event *ev)
{
    struct run_node *n = malloc(sizeof *n);
    if (!n) { /* not taken: the host may offer it again */
        atomic_fetch_add_explicit(&q->refused, 1, memory_order_relaxed);
        return ROCKY_EAGAIN;
    }
    n->next = NULL;
    rocky_otel_span_from_event(ev, &n->span);
    pthread_mutex_lock(&q->run_lock);
    /* Counted before the consumer can take it (see queue.h). */
    atomic_fetch_add_explicit(&q->runs_pushed, 1, memory_order_release);
    *q->runs_tail = n;
    q->runs_tail = &n->next;
    atomic_fetch_add_explicit(&q->run_count, 1, memory_order_relaxed);
    pthread_mutex_unlock(&q->run_lock);
    return 0;
}

int rocky_otel_queue_push_event(struct rocky_otel_queue *q,
                                const struct rocky_event *ev)
{
    if (ev->type == ROCKY_EVENT_RUN_END && ev->run)
        return push_run(q, ev);
    if ((ev->type != ROCKY_EVENT_MODEL_END &&
         ev->type != ROCKY_EVENT_STATEMENT_END) ||
        !ev->model || !ev->run)
        return ROCKY_EINVAL;
    if (ev->type == ROCKY_EVENT_STATEMENT_END &&
        (!ROCKY_STRUCT_HAS(ev, struct rocky_event, statement) ||
         !ev->statement))
        return ROCKY_EINVAL;

    uint64_t pos = atomic_load_explicit(&q->tail, memory_order_relaxed);
    struct slot *s;
    for (;;) {
        s = &q->slots[pos % q->cap];
        uint64_t seq = atomic_load_explicit(&s->seq, memory_order_acquire);
        int64_t dif = (int64_t)(seq - pos);
        if (dif == 0) {
            if (atomic_compare_exchange_weak_explicit(&q->tail, &pos, pos + 1,
                                                      memory_order_relaxed,
                                                      memory_order_relaxed))
                break;
        } else if (dif < 0) {
            atomic_fetch_add_explicit(&q->refused, 1, memory_order_relaxed);
            return ROCKY_EAGAIN;
        } else {
            pos = atomic_load_explicit(&q->tail, memory_order_relaxed);
        }
    }
    rocky_otel_span_from_event(ev, &s->span);
    atomic_store_explicit(&s->seq, pos + 1, memory_order_release);
    return 0;
}

size_t rocky_otel_queue_take_runs(struct rocky_otel_queue *q,
                                  struct rocky_otel_span *out, size_t max)
{
    size_t n = 0;
    if (atomic_load_explicit(&q->run_count, memory_order_relaxed) == 0)
        return 0;
    pthread_mutex_lock(&q->run_lock);
    while (q->runs && n < max) {
        struct run_node *node = q->runs;
        q->runs = node->next;
        out[n++] = node->span;
        free(node);
        atomic_fetch_sub_explicit(&q->run_count, 1, memory_order_relaxed);
    }
    if (!q->runs)
        q->runs_tail = &q->runs;
    pthread_mutex_unlock(&q->run_lock);
    return n;
}

const struct rocky_otel_span *rocky_otel_queue_peek(struct rocky_otel_queue *q,
                                                    size_t i)
{
    uint64_t head = atomic_load_explicit(&q->head, memory_order_relaxed);
    if (i >= q->cap)
        return NULL;
    uint64_t pos = head + i;
    struct slot *s = &q->slots[pos % q->cap];
    if (atomic_load_explicit(&s->seq, memory_order_acquire) != pos + 1)
        return NULL;
    return &s->span;
}

void rocky_otel_queue_release(struct rocky_otel_queue *q, size_t n)
{
    uint64_t head = atomic_load_explicit(&q->head, memory_order_relaxed);
    for (size_t i = 0; i < n; i++) {
        uint64_t pos = head + i;
        atomic_store_explicit(&q->slots[pos % q->cap].seq, pos + q->cap,
                              memory_order_release);
    }
    atomic_store_explicit(&q->head, head + n, memory_order_relaxed);
}

size_t rocky_otel_queue_size(const struct rocky_otel_queue *q)
{
    uint64_t t = atomic_load_explicit(&q->tail, memory_order_relaxed);
    uint64_t h = atomic_load_explicit(&q->head, memory_order_relaxed);
    return (size_t)(t > h ? t - h : 0) +
           atomic_load_explicit(&q->run_count, memory_order_relaxed);
}

uint64_t rocky_otel_queue_pushed(const struct rocky_otel_queue *q)
{
    /* `tail` counts every model ticket ever taken, and a ticket is only
     * taken for a slot that is then filled: it is the number of model
     * spans pushed. */
    return atomic_load_explicit(&q->tail, memory_order_acquire) +
           atomic_load_explicit(&q->runs_pushed, memory_order_acquire);
}

uint64_t rocky_otel_queue_refused(const struct rocky_otel_queue *q)
{
    return atomic_load_explicit(&q->refused, memory_order_relaxed);
}

uint32_t rocky_otel_queue_capacity(const struct rocky_otel_queue *q)
{
    return q->cap;
}
