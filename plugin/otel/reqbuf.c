/*
 * reqbuf.c — reference-counted request buffers and their pool.
 *
 * Lifetime: the pool counts one reference for its owner and one per buffer
 * handed out; whoever drops the last one frees it, so a buffer gRPC
 * releases after the exporter closed the pool still finds its pool alive.
 */
#include "reqbuf.h"

#include <pthread.h>
#include <stdlib.h>

#define KEEP_MAX 8

struct rocky_otel_bufpool {
    pthread_mutex_t mu;
    _Atomic uint32_t refs; /* owner (until close) + buffers out */
    unsigned keep, n_idle;
    int closed;
    struct rocky_otel_reqbuf *idle[KEEP_MAX];
};

struct rocky_otel_bufpool *rocky_otel_bufpool_new(unsigned keep)
{
    struct rocky_otel_bufpool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    if (pthread_mutex_init(&p->mu, NULL) != 0) {
        free(p);
        return NULL;
    }
    p->keep = keep < KEEP_MAX ? keep : KEEP_MAX;
    atomic_init(&p->refs, 1);
    return p;
}

static void pool_unref(struct rocky_otel_bufpool *p)
{
    if (atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) == 1) {
        pthread_mutex_destroy(&p->mu);
        free(p);
    }
}

void rocky_otel_bufpool_close(struct rocky_otel_bufpool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->closed = 1;
    unsigned n = p->n_idle;
    p->n_idle = 0;
    struct rocky_otel_reqbuf *idle[KEEP_MAX];
    for (unsigned i = 0; i < n; i++)
        idle[i] = p->idle[i];
    pthread_mutex_unlock(&p->mu);
    for (unsigned i = 0; i < n; i++) {
        free(idle[i]);
        pool_unref(p);
    }
    pool_unref(p);
}

/* Sizes in powers of two from 64 KiB, so a request a little larger than
 * the last one reuses the same buffer rather than replacing it. */
static size_t round_cap(size_t cap)
{
    size_t n = 64 * 1024;
    while (n < cap && n < SIZE_MAX / 2)
        n *= 2;
    return n < cap ? cap : n;
}

struct rocky_otel_reqbuf *rocky_otel_reqbuf_get(struct rocky_otel_bufpool *p,
                                                size_t cap)
{
    struct rocky_otel_reqbuf *b = NULL, *too_small = NULL;
    if (p) {
        pthread_mutex_lock(&p->mu);
        /* The largest idle one that fits, else drop one that does not (it
         * would only be replaced later anyway). */
        for (unsigned i = 0; i < p->n_idle; i++) {
            if (p->idle[i]->cap >= cap) {
                b = p->idle[i];
                p->idle[i] = p->idle[--p->n_idle];
                break;
            }
        }
        if (!b && p->n_idle > 0)
            too_small = p->idle[--p->n_idle];
        pthread_mutex_unlock(&p->mu);
        if (too_small) { /* its pool reference goes to the new buffer */
            free(too_small);
        }
        if (b) {
            atomic_store_explicit(&b->refs, 1, memory_order_relaxed);
            return b;
        }
    }
    size_t bytes = round_cap(cap);
    if (bytes > SIZE_MAX - sizeof *b)
        return NULL;
    b = malloc(sizeof *b + bytes);
    if (!b) {
        if (p && too_small)
            pool_unref(p);
        return NULL;
    }
    b->pool = p;
    b->cap = bytes;
    atomic_init(&b->refs, 1);
    /* A buffer out counts on its pool (an idle one's reference was kept
     * while it sat in the pool, and a replaced one's passes on here). */
    if (p && !too_small)
        atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
    return b;
}

void rocky_otel_reqbuf_ref(struct rocky_otel_reqbuf *b)
{
    atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
}

void rocky_otel_reqbuf_unref(struct rocky_otel_reqbuf *b)
{
    if (!b || atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) != 1)
        return;
    struct rocky_otel_bufpool *p = b->pool;
    if (!p) {
        free(b);
        return;
    }
    pthread_mutex_lock(&p->mu);
    int kept = !p->closed && p->n_idle < p->keep;
    if (kept)
        p->idle[p->n_idle++] = b;
    pthread_mutex_unlock(&p->mu);
    if (!kept) {
        free(b);
        pool_unref(p);
    }
    /* A kept buffer keeps its pool reference: close() drops it. */
}
