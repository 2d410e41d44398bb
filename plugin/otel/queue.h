/*
 * queue.h — the bounded span queue between the runner's threads and the
 * exporter thread.
 *
 * Model and statement spans go into a ring of bytes as packed records
 * (span_pack.h: each only as long as what it carries; one CAS per push,
 * no lock, no allocation). The ring is bounded twice: by `capacity` spans
 * (OTEL_BSP_MAX_QUEUE_SIZE) and by its bytes (160 per span of capacity,
 * rounded up to a power of two: a typical model span takes ~87, so the
 * span count is the bound unless most spans carry long error texts). When
 * either is reached the span is refused: not taken, counted as refused (never
 * as pushed), and the caller returns ROCKY_EAGAIN (rocky/plugin.h section 7:
 * the host counts it, or flushes and offers it again). Run spans never go
 * through the ring: they take a separate, unbounded list (one per run, rare),
 * so a full queue never refuses the root span that every model span of the run
 * points to.
 *
 * Counting: `pushed` counts a span before the consumer can see it, so a
 * consumer's outcome counters (delivered, dropped) read before `pushed`
 * never exceed it.
 *
 * Threads: push from any number of threads; peek_view/release from exactly
 * one consumer thread (the exporter's).
 */
#ifndef ROCKY_OTEL_QUEUE_H
#define ROCKY_OTEL_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "span_build.h"

struct rocky_otel_queue; /* opaque */

/* Make a queue for at most `capacity` model spans (1 .. 2^21). Its ring is
 * reserved, not touched: memory is used only as spans are queued.
 * Returns 0 or ROCKY_ENOMEM / ROCKY_EINVAL. */
int rocky_otel_queue_new(uint32_t capacity, struct rocky_otel_queue **out);

/* Free the queue and any run spans still listed. NULL ok. No thread may
 * use the queue any more. */
void rocky_otel_queue_free(struct rocky_otel_queue *q);

/*
 * Copy the span of a MODEL_END, STATEMENT_END or RUN_END event into the
 * queue. Returns 0 (counted as pushed) and sets *queued to what
 * rocky_otel_queue_size would have said just after this span was taken
 * (the caller's batch-full check without a second look at the counters),
 * ROCKY_EAGAIN when it was not taken (the ring is full, or no memory for a
 * run span; counted as refused) or ROCKY_EINVAL (not an end event; nothing
 * counted). Thread-safe, lock-free for model and statement spans.
 */
int rocky_otel_queue_push(struct rocky_otel_queue *q,
                          const struct rocky_event *ev, size_t *queued);

/*
 * Consumer side (the exporter thread only). take_runs moves every listed
 * run span into `out` (capacity `max`), returns how many.
 *
 * peek_view returns the i-th unreleased model span counted from the head,
 * as the encoder's view (span_view.h): made straight from its packed
 * record where it lies in the ring when that needs no UTF-8 repair (nearly
 * always), else from a span unpacked into memory the queue owns. NULL when
 * fewer than i+1 are written (a span still being written hides the ones
 * behind it) or out of memory. Peeking i costs viewing the records up to i
 * once, so walk i = 0, 1, 2, ...; the queue keeps as many views as the
 * largest i peeked (a batch). The view, and the record bytes, run copy and
 * span it points into, stay valid and unchanged until the next release
 * (which zeroes the released records for the next lap): do not keep it
 * past that.
 *
 * release frees the first `n` peeked spans for producers (n <= how many
 * peek_view returned).
 */
struct rocky_otel_span_view;
size_t rocky_otel_queue_take_runs(struct rocky_otel_queue *q,
                                  struct rocky_otel_span *out, size_t max);
const struct rocky_otel_span_view *
rocky_otel_queue_peek_view(struct rocky_otel_queue *q, size_t i);
void rocky_otel_queue_release(struct rocky_otel_queue *q, size_t n);

/*
 * Once spans have come, make the ring's pages ahead of the producers
 * resident: 256 KiB ahead, or two huge pages (4 MiB) in a ring of huge
 * pages (one over 2 MiB). First lap only: after it every page is. So the
 * runner's threads do not take the page faults (every ~47 spans with 4 KiB
 * pages; with huge pages, rarer but each zeroing 2 MiB, or stalling while
 * the kernel compacts memory): the consumer calls it as it works and takes
 * them off their path. Memory is then at most that much ahead of what
 * spans use; a queue no span came to stays virtual. Consumer thread; cheap
 * when there is nothing to do; without kernel support (Linux < 5.14) a
 * no-op.
 */
void rocky_otel_queue_populate_ahead(struct rocky_otel_queue *q);

/* Approximate number of spans waiting (ring + run list). Any thread. */
size_t rocky_otel_queue_size(const struct rocky_otel_queue *q);

/* Spans taken in by push since creation. Any thread; acquire, so a
 * counter the consumer bumped before this call is covered (see above). */
uint64_t rocky_otel_queue_pushed(const struct rocky_otel_queue *q);

/* Spans push refused (ROCKY_EAGAIN) since creation. Any thread. */
uint64_t rocky_otel_queue_refused(const struct rocky_otel_queue *q);

/* Capacity passed to new. */
uint32_t rocky_otel_queue_capacity(const struct rocky_otel_queue *q);

#endif
