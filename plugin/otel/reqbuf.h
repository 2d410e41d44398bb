/*
 * reqbuf.h — request buffers that gRPC may hold after a call returns, and a
 * small pool that keeps them for the next request.
 *
 * The trace encoder writes a request into a buffer and the transport hands
 * that same memory to gRPC as a slice that owns a reference
 * (grpc_slice_new_with_user_data): no copy. gRPC drops its reference when
 * it is done with the bytes — on whatever thread last touches the slice
 * (a gRPC poller or the exporter's), possibly after the call ended (a
 * cancelled call's write may still be queued). So a buffer is reference
 * counted and goes back to its pool, or is freed, on the last unref, from
 * any thread.
 *
 * The pool keeps a few buffers so a request of a few hundred KiB is not a
 * fresh malloc each time (glibc serves > 128 KiB with mmap/munmap, and the
 * munmap's TLB shootdown interrupts every thread of the runner). How much
 * it keeps is bounded by the batch: one buffer per request in flight, each
 * sized for the largest request (OTEL_BSP_MAX_EXPORT_BATCH_SIZE spans, and
 * never more than 4 MiB plus framing), never by the queue.
 *
 * Threads: get/close on one thread (the exporter's); ref/unref anywhere.
 */
#ifndef ROCKY_OTEL_REQBUF_H
#define ROCKY_OTEL_REQBUF_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct rocky_otel_bufpool; /* opaque */

struct rocky_otel_reqbuf {
    struct rocky_otel_bufpool *pool; /* NULL: freed on the last unref */
    _Atomic uint32_t refs;
    size_t cap; /* bytes at data */
    _Alignas(16) uint8_t data[];
};

/* A pool keeping at most `keep` idle buffers. NULL when out of memory. */
struct rocky_otel_bufpool *rocky_otel_bufpool_new(unsigned keep);

/* The owner lets go: idle buffers are freed now, buffers still referenced
 * (by gRPC) when their last reference goes, and the pool itself after the
 * last of them. NULL ok. */
void rocky_otel_bufpool_close(struct rocky_otel_bufpool *pool);

/* A buffer of at least `cap` bytes with one reference (the caller's), from
 * `pool`'s idle ones when one is large enough, else newly allocated. `pool`
 * may be NULL (a standalone buffer). NULL when out of memory. */
struct rocky_otel_reqbuf *rocky_otel_reqbuf_get(struct rocky_otel_bufpool *pool,
                                                size_t cap);

/* One more reference (any thread). */
void rocky_otel_reqbuf_ref(struct rocky_otel_reqbuf *b);

/* Drop one reference (any thread); the last one returns the buffer to its
 * pool (or frees it). NULL ok. */
void rocky_otel_reqbuf_unref(struct rocky_otel_reqbuf *b);

#endif
