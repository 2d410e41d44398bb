/*
 * queue.c — a bounded lock-free MPSC byte ring of packed span records
 * (span_pack.h) plus a mutex-guarded list of run spans.
 *
 * Reserve protocol. `tail` and `head` each hold, in one word, a count of
 * spans (33 bits) and of bytes (30 bits), both modular; `tail` also holds
 * ACTIVE, "there is a current run" (below). A producer packs its span first
 * (so it knows the exact size), then with one CAS on `tail` takes one span
 * and `need` bytes, refusing when the ring already holds `cap` spans or
 * lacks the bytes. A record never wraps: when it does not fit before the
 * end of the ring, the same CAS also takes the rest of the ring as padding.
 *
 * Record protocol. A record is a 2-byte header then its packed bytes; the
 * next one starts at the next even offset. The header is 0 until the
 * producer has written the record, then the record's exact length (or PAD
 * and the padding's length), stored with release. The consumer reads
 * records in order from `head`, stops at the first header still 0 (not yet
 * written: the spans behind it wait, even if ready), and zeroes the bytes
 * of the records it releases before moving `head` on with release. So
 * every byte a producer reserves is zero (fresh pages are, released ones
 * were zeroed), which is what makes "0 = not yet written" true at whatever
 * offset the next lap's records start.
 *
 * The current run. Spans of one run share ~40 bytes (trace id, run_id,
 * adapter, the run span as a model's parent), so records may leave them to
 * the current run (span_pack.h: DEFINE and REF records). `ident` says
 * which run is current; it is written only under `install_lock` while
 * ACTIVE is clear, and ACTIVE is set by the CAS that places that run's
 * DEFINE record. A producer loads `tail` (acquire: it then sees the ident
 * that CAS published), compares its run with `ident`, and packs REF only
 * if they match; its CAS expects that same `tail`, so if the current run
 * changed in between (which changes the word: clearing ACTIVE, or placing
 * a DEFINE record) the CAS fails and it starts again. Hence a REF record
 * always lies after the DEFINE record of its run and before the next one,
 * and the consumer, reading in order, needs only the last DEFINE it read.
 * RUN_END of the current run clears ACTIVE; the next span of any run then
 * installs its own. Spans of a run that is not current (runs overlapping
 * in one process) carry their run inline: correct, only larger.
 *
 * Memory. The ring is mapped, not written, at creation: a page costs
 * nothing until records come near it, so a large OTEL_BSP_MAX_QUEUE_SIZE
 * that is never filled stays virtual. The consumer makes pages resident a
 * little ahead of the producers (populate_ahead), so that the page faults
 * are its, not the runner's. The exporter peeks views made
 * straight from the records where they lie (peek_view; a record that needs
 * UTF-8 repair, or is not a REF one, is unpacked into a full `struct
 * rocky_otel_span` first): views, run copies and unpacked spans as many as
 * a batch, not as the queue, all reused after release.
 */
#include "queue.h"

#include "cacheline.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "rocky/error.h"
#include "span_pack.h"
#include "span_view.h"

#define PAD        0x8000u
#define HEADER     2
#define BYTES_EACH 160  /* ring bytes per span of capacity (before pow2) */
#define MIN_BYTES  8192 /* >= 2 * the largest record, so one always fits */
#define VIEW_BLOCK 64   /* unpacked spans per allocation */
/* A huge page, and rings above it take them (map_ring). */
#define HUGE_PAGE (2u << 20)
/* How far ahead of the producers populate_ahead keeps pages resident (a
 * ring of huge pages: two of them), and the least it does at once (one
 * madvise call per 64 KiB, not per batch). */
#define POPULATE_AHEAD      (256u * 1024)
#define POPULATE_AHEAD_HUGE (2 * HUGE_PAGE)
#define POPULATE_STEP       (64u * 1024)
/* A header holds the record's exact length; records start 2-aligned (the
 * header's own alignment: every byte of alignment is ~100 KB at 100k). */
#define STRIDE(len) (((len) + 1) & ~1u)
/* The words: bytes in bits 0..29, spans in 30..62, ACTIVE in 63. */
#define BYTE_MASK       ((1u << 30) - 1)
#define SPAN_MASK       ((1ull << 33) - 1)
#define ACTIVE          (1ull << 63)
#define BYTES(w)        ((uint32_t)(w)&BYTE_MASK)
#define SPANS(w)        (((w) >> 30) & SPAN_MASK)
#define WORD(sp, by)    ((((uint64_t)(sp)&SPAN_MASK) << 30) | ((by)&BYTE_MASK))
#define SPAN_DIFF(a, b) (((a) - (b)) & SPAN_MASK)

_Static_assert(HEADER + ROCKY_OTEL_PACK_MAX + 1 < PAD,
               "a record's length, or a padding's, must fit beside PAD");
_Static_assert(2 * (HEADER + ROCKY_OTEL_PACK_MAX + 1) <= MIN_BYTES,
               "the ring must always have room for a largest record");

struct run_node {
    struct run_node *next;
    struct rocky_otel_span span;
};

struct rocky_otel_queue {
    /* Producers and the consumer touch different lines. */
    ROCKY_OTEL_OWN_LINE _Atomic uint64_t tail;
    ROCKY_OTEL_OWN_LINE _Atomic uint64_t head; /* written by the consumer */
    _Atomic uint64_t released; /* model spans released since creation */
    /* The current run (see the top): read by every producer, written
     * rarely, under install_lock while ACTIVE is clear. */
    ROCKY_OTEL_OWN_LINE _Atomic uintptr_t ident_run;
    _Atomic uint64_t ident_ids[3]; /* trace id, run span id */
    _Atomic int64_t ident_base;    /* the DEFINE record's start */
    ROCKY_OTEL_OWN_LINE _Atomic uint64_t refused;
    _Atomic size_t run_count;
    _Atomic uint64_t runs_pushed;
    uint32_t cap, bytes, mask;
    uint8_t *ring;
    /* Consumer only: ring bytes from 0 made resident by populate_ahead
     * (first lap only; a page-multiple). */
    uint32_t populated;
    pthread_mutex_t install_lock;
    pthread_mutex_t run_lock;
    struct run_node *runs, **runs_tail;

    /* Consumer only: records 0..peeked-1 from head have views (vviews),
     * and the next record starts at byte `peek_pos`; the current run as of
     * head and as of peek_pos. */
    size_t peeked;
    uint32_t peek_pos;
    struct rocky_otel_span_run head_run, peek_run;
    /* The spans unpacked for views that needed a repair (slot i for view
     * i), the views (both in blocks of VIEW_BLOCK), and the current runs
     * REF views point into (one per run met since release; `vrun` the one
     * of peek_run, NULL until a REF record needs it). */
    struct rocky_otel_span **views;
    size_t view_blocks;
    struct rocky_otel_span_view **vviews;
    size_t vview_blocks;
    struct rocky_otel_span_view_run **vruns;
    size_t vrun_blocks, vruns_used;
    struct rocky_otel_span_view_run *vrun;
};

static _Atomic uint16_t *header_at(const struct rocky_otel_queue *q,
                                   uint32_t pos)
{
    return (_Atomic uint16_t *)(void *)(q->ring + (pos & q->mask));
}

/*
 * The ring's memory. Anonymous pages read as zero and cost no memory until
 * written. A ring larger than a huge page (2 MiB) is placed on a huge-page
 * boundary, so that populate_ahead can give it transparent huge pages: one
 * page fault per 2 MiB, where 4 KiB pages take one every ~47 spans at 2 us
 * or more each here (as much as the rest of a span's cost on the runner's
 * thread). NULL when out of memory.
 */
static uint8_t *map_ring(uint32_t bytes)
{
    const size_t huge = HUGE_PAGE;
    int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
    if (bytes <= huge) {
        void *ring = mmap(NULL, bytes, PROT_READ | PROT_WRITE, flags, -1, 0);
        return ring == MAP_FAILED ? NULL : ring;
    }
    /* A huge page more than needed, then the ends cut off so that the ring
     * starts on a huge-page boundary (bytes is a power of two above it). */
    uint8_t *map =
        mmap(NULL, bytes + huge, PROT_READ | PROT_WRITE, flags, -1, 0);
    if (map == MAP_FAILED)
        return NULL;
    uint8_t *ring =
        (uint8_t *)(((uintptr_t)map + huge - 1) & ~(uintptr_t)(huge - 1));
    if (ring > map)
        munmap(map, (size_t)(ring - map));
    munmap(ring + bytes, (size_t)(map + huge - ring));
    return ring;
}

int rocky_otel_queue_new(uint32_t capacity, struct rocky_otel_queue **out)
{
    if (capacity == 0 || capacity > (1u << 21) || !out)
        return ROCKY_EINVAL;
    struct rocky_otel_queue *q = rocky_otel_zalloc_lines(sizeof *q);
    if (!q)
        return ROCKY_ENOMEM;
    uint64_t want = (uint64_t)capacity * BYTES_EACH;
    uint32_t bytes = MIN_BYTES;
    while (bytes < want)
        bytes <<= 1; /* <= 2^29 for capacity <= 2^21 */
    uint8_t *ring = map_ring(bytes);
    if (!ring) {
        free(q);
        return ROCKY_ENOMEM;
    }
    q->ring = ring;
    q->bytes = bytes;
    q->mask = bytes - 1;
    q->cap = capacity;
    pthread_mutex_init(&q->run_lock, NULL);
    pthread_mutex_init(&q->install_lock, NULL);
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
    pthread_mutex_destroy(&q->install_lock);
    munmap(q->ring, q->bytes);
    for (size_t i = 0; i < q->view_blocks; i++)
        free(q->views[i]);
    free(q->views);
    for (size_t i = 0; i < q->vview_blocks; i++)
        free(q->vviews[i]);
    free(q->vviews);
    for (size_t i = 0; i < q->vrun_blocks; i++)
        free(q->vruns[i]);
    free(q->vruns);
    free(q);
}

/* Whether `run` is the current run. Callers loaded `tail` with acquire
 * just before (see the top). */
static inline int is_current(struct rocky_otel_queue *q,
                             const struct rocky_run *run)
{
    uint64_t ids[3];
    memcpy(ids, run->trace_id, 16);
    memcpy(ids + 2, run->span_id, 8);
    return atomic_load_explicit(&q->ident_run, memory_order_relaxed) ==
               (uintptr_t)run &&
           atomic_load_explicit(&q->ident_ids[0], memory_order_relaxed) ==
               ids[0] &&
           atomic_load_explicit(&q->ident_ids[1], memory_order_relaxed) ==
               ids[1] &&
           atomic_load_explicit(&q->ident_ids[2], memory_order_relaxed) ==
               ids[2];
}

/* The run ended: if it is the current one, there is no current run any
 * more (its later spans, if a host sends any, install it again). */
static void retire(struct rocky_otel_queue *q, const struct rocky_run *run)
{
    pthread_mutex_lock(&q->install_lock);
    uint64_t t = atomic_load_explicit(&q->tail, memory_order_acquire);
    while ((t & ACTIVE) && is_current(q, run) &&
           !atomic_compare_exchange_weak_explicit(&q->tail, &t, t & ~ACTIVE,
                                                  memory_order_acquire,
                                                  memory_order_acquire))
        ;
    pthread_mutex_unlock(&q->install_lock);
}

static int push_run(struct rocky_otel_queue *q, const struct rocky_event *ev)
{
    retire(q, ev->run);
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

/* Room for a record of `need` bytes after tail word `t`: sets *pad (the
 * rest of the ring, when the record does not fit before its end) and
 * *spans (the spans in the ring before this one), and returns 0, or
 * returns -1 when the queue is full. */
static inline int room_for(struct rocky_otel_queue *q, uint64_t t,
                           uint32_t need, uint32_t *pad, uint64_t *spans)
{
    /* Acquire: the consumer zeroed what it released before moving head,
     * and we are about to write there. */
    uint64_t h = atomic_load_explicit(&q->head, memory_order_acquire);
    /* The byte fields are the words' low bits, and mask < BYTE_MASK: the
     * low 32 bits do, without taking the fields out first. */
    uint32_t off = (uint32_t)t & q->mask;
    /* pad < need, so it fits in a header beside PAD */
    *pad = off + need > q->bytes ? q->bytes - off : 0;
    *spans = SPAN_DIFF(SPANS(t), SPANS(h));
    if (*spans >= q->cap ||
        (((uint32_t)t - (uint32_t)h) & BYTE_MASK) + *pad + need > q->bytes)
        return -1;
    return 0;
}

/* The tail word after placing one span of `need` bytes (and `pad` bytes of
 * padding) at tail word `t`: WORD(SPANS(t) + 1, BYTES(t) + pad + need) with
 * t's ACTIVE, each field added in place (adding 2^30 leaves the bytes as
 * they are). */
static inline uint64_t next_tail(uint64_t t, uint32_t pad, uint32_t need)
{
    return (t & ACTIVE) | ((t + (1ull << 30)) & (SPAN_MASK << 30)) |
           (((uint32_t)t + pad + need) & BYTE_MASK);
}

/* Where the record placed at tail word `t` (the word before the CAS)
 * goes: its header's offset, after writing the padding's header if it
 * has one. */
static inline uint32_t record_at(struct rocky_otel_queue *q, uint64_t t,
                                 uint32_t pad)
{
    uint32_t off = BYTES(t) & q->mask;
    if (pad) {
        atomic_store_explicit(header_at(q, off), (uint16_t)(PAD | pad),
                              memory_order_release);
        off = 0;
    }
    return off;
}

/* The record of `size` bytes at `off` is written: the consumer may read
 * it. */
static inline void publish(struct rocky_otel_queue *q, uint32_t off,
                           uint32_t size)
{
    atomic_store_explicit(header_at(q, off), (uint16_t)(HEADER + size),
                          memory_order_release);
}

/* Write the record placed at tail word `t`. */
static inline __attribute__((always_inline)) void
place(struct rocky_otel_queue *q, uint64_t t, uint32_t pad,
      const struct rocky_otel_span_pack *pk, int mode, int64_t base,
      uint32_t size)
{
    uint32_t off = record_at(q, t, pad);
    rocky_otel_span_pack_write(pk, mode, base, size, q->ring + off + HEADER);
    publish(q, off, size);
}

static __attribute__((noinline, cold)) int refuse(struct rocky_otel_queue *q)
{
    atomic_fetch_add_explicit(&q->refused, 1, memory_order_relaxed);
    return ROCKY_EAGAIN;
}

/* No current run: make this span's run the current one, placing its
 * DEFINE record. Returns 0, ROCKY_EAGAIN (full), or 1 when another thread
 * installed a run first (the caller starts again). */
static __attribute__((noinline, cold)) int
install(struct rocky_otel_queue *q, struct rocky_otel_span_pack *pk)
{
    pthread_mutex_lock(&q->install_lock);
    uint64_t t = atomic_load_explicit(&q->tail, memory_order_acquire);
    if (t & ACTIVE) {
        pthread_mutex_unlock(&q->install_lock);
        return 1;
    }
    /* Nobody can be reading these for a REF: ACTIVE is clear. */
    uint64_t ids[3];
    memcpy(ids, pk->run->trace_id, 16);
    memcpy(ids + 2, pk->run->span_id, 8);
    atomic_store_explicit(&q->ident_run, (uintptr_t)pk->run,
                          memory_order_relaxed);
    for (int i = 0; i < 3; i++)
        atomic_store_explicit(&q->ident_ids[i], ids[i], memory_order_relaxed);
    atomic_store_explicit(&q->ident_base, pk->start, memory_order_relaxed);
    uint32_t size =
        rocky_otel_span_pack_size(pk, ROCKY_OTEL_PACK_RUN_DEFINE, 0);
    uint32_t need = STRIDE(HEADER + size), pad;
    uint64_t spans;
    for (;;) {
        if (room_for(q, t, need, &pad, &spans) != 0) {
            pthread_mutex_unlock(&q->install_lock);
            return refuse(q);
        }
        /* Release: a producer that sees ACTIVE sees the ident above. */
        uint64_t next = ACTIVE | WORD(SPANS(t) + 1, BYTES(t) + pad + need);
        if (atomic_compare_exchange_weak_explicit(
                &q->tail, &t, next, memory_order_acq_rel, memory_order_acquire))
            break;
    }
    pthread_mutex_unlock(&q->install_lock);
    place(q, t, pad, pk, ROCKY_OTEL_PACK_RUN_DEFINE, 0, size);
    return 0;
}

static __attribute__((noinline, cold)) int
push_run_sized(struct rocky_otel_queue *q, const struct rocky_event *ev,
               size_t *queued)
{
    int rc = push_run(q, ev);
    *queued = rocky_otel_queue_size(q);
    return rc;
}

/* What queue_size would say just after a push that found `spans` model
 * spans before its own (room_for): read from head before tail, so never
 * behind. */
static inline size_t queued_after(const struct rocky_otel_queue *q,
                                  uint64_t spans)
{
    return (size_t)spans + 1 +
           atomic_load_explicit(&q->run_count, memory_order_relaxed);
}

/* Any span, the general way: a run span, a span of a run that is not the
 * current one (or when there is none yet), a span with an error text, ... */
static __attribute__((noinline)) int push_general(struct rocky_otel_queue *q,
                                                  const struct rocky_event *ev,
                                                  size_t *queued)
{
    if (ev->type == ROCKY_EVENT_RUN_END && ev->run)
        return push_run_sized(q, ev, queued);
    /* prepare refuses what from_event refuses: other types, no model, a
     * statement end without its statement. */
    struct rocky_otel_span_pack pk;
    if (rocky_otel_span_pack_prepare(ev, &pk) != 0)
        return ROCKY_EINVAL;

    uint64_t t = atomic_load_explicit(&q->tail, memory_order_acquire);
    uint32_t size, pad;
    uint64_t spans;
    int mode;
    int64_t base = 0;
    for (;;) {
        if (!(t & ACTIVE)) {
            int rc = install(q, &pk);
            if (rc == 0)
                *queued = rocky_otel_queue_size(q);
            if (rc <= 0)
                return rc;
            t = atomic_load_explicit(&q->tail, memory_order_acquire);
            continue;
        }
        mode = ROCKY_OTEL_PACK_RUN_INLINE;
        if (is_current(q, pk.run)) {
            mode = ROCKY_OTEL_PACK_RUN_REF;
            base = atomic_load_explicit(&q->ident_base, memory_order_relaxed);
        }
        size = rocky_otel_span_pack_size(&pk, mode, base);
        uint32_t need = STRIDE(HEADER + size);
        if (room_for(q, t, need, &pad, &spans) != 0)
            return refuse(q);
        /* Expecting the very word the mode was chosen under: see the top. */
        if (atomic_compare_exchange_weak_explicit(
                &q->tail, &t, next_tail(t, pad, need), memory_order_acquire,
                memory_order_acquire))
            break;
    }
    place(q, t, pad, &pk, mode, base, size);
    *queued = queued_after(q, spans);
    return 0;
}

int rocky_otel_queue_push(struct rocky_otel_queue *q,
                          const struct rocky_event *ev, size_t *queued)
{
    /* The common span (span_pack.h's fast record): a MODEL_END of the
     * current run, measured and written straight; anything else, or no
     * current run, the general way. */
    struct rocky_otel_pack_fast f;
    uint32_t size;
    if (ev->type != ROCKY_EVENT_MODEL_END ||
        (size = rocky_otel_pack_fast_prepare(ev, &f)) == 0)
        return push_general(q, ev, queued);
    uint32_t need = STRIDE(HEADER + size), pad;
    uint64_t t = atomic_load_explicit(&q->tail, memory_order_acquire);
    uint64_t spans;
    int64_t base;
    do {
        /* The same rule as the general way's REF (see the top): the run
         * and its base as read under `t`, which the CAS then expects. */
        if (!(t & ACTIVE) || !is_current(q, ev->run))
            return push_general(q, ev, queued);
        base = atomic_load_explicit(&q->ident_base, memory_order_relaxed);
        if (room_for(q, t, need, &pad, &spans) != 0)
            return refuse(q);
    } while (!atomic_compare_exchange_weak_explicit(
        &q->tail, &t, next_tail(t, pad, need), memory_order_acquire,
        memory_order_acquire));
    uint32_t off = record_at(q, t, pad);
    rocky_otel_pack_fast_write(&f, base, q->ring + off + HEADER);
    publish(q, off, size);
    *queued = queued_after(q, spans);
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

/* Room for item i of VIEW_BLOCK-sized blocks of `each` bytes (kept until
 * the queue is freed, so a batch's items never move), NULL when out of
 * memory. */
static void *grow_slot(void ***blocks, size_t *count, size_t i, size_t each)
{
    size_t b = i / VIEW_BLOCK;
    void **v = realloc(*blocks, (b + 1) * sizeof *v);
    if (!v)
        return NULL;
    *blocks = v;
    while (*count <= b) {
        v[*count] = malloc(VIEW_BLOCK * each);
        if (!v[*count])
            return NULL;
        (*count)++;
    }
    return (char *)(*blocks)[b] + i % VIEW_BLOCK * each;
}

/* The common case inline: the block is there from an earlier batch. */
static inline void *block_slot(void ***blocks, size_t *count, size_t i,
                               size_t each)
{
    size_t b = i / VIEW_BLOCK;
    if (__builtin_expect(b < *count, 1))
        return (char *)(*blocks)[b] + i % VIEW_BLOCK * each;
    return grow_slot(blocks, count, i, each);
}

/* Room for the i-th unpacked span, NULL when out of memory. */
static struct rocky_otel_span *view_slot(struct rocky_otel_queue *q, size_t i)
{
    return block_slot((void ***)&q->views, &q->view_blocks, i,
                      sizeof **q->views);
}

/* The header of the next record to peek, past any padding at the ring's
 * end (peek_pos moves over it); 0 when that record is not written yet.
 * Consumer thread. */
static uint32_t next_record(struct rocky_otel_queue *q)
{
    for (;;) {
        uint32_t len = atomic_load_explicit(header_at(q, q->peek_pos),
                                            memory_order_acquire);
        if (len == 0 || !(len & PAD))
            return len;
        q->peek_pos += len & ~PAD;
    }
}

/* The view of the record of `len` bytes at `rec`, the i-th peeked, into
 * `v`: straight from the ring when it needs no repair (REF records of the
 * current run: nearly all), else unpacked into span slot i and viewed
 * there. Updates peek_run (and forgets vrun) at a DEFINE record. */
static int view_record(struct rocky_otel_queue *q, size_t i, const uint8_t *rec,
                       uint32_t len, struct rocky_otel_span_view *v)
{
    if ((rec[0] & ROCKY_OTEL_PACK_REF) && q->peek_run.valid) {
        if (!q->vrun) {
            q->vrun = block_slot((void ***)&q->vruns, &q->vrun_blocks,
                                 q->vruns_used, sizeof **q->vruns);
            if (!q->vrun)
                return ROCKY_ENOMEM;
            q->vruns_used++;
            rocky_otel_span_view_run_of(&q->peek_run, q->vrun);
        }
        if (rocky_otel_span_view_of_record(rec, len, q->vrun, v) == 0)
            return 0;
    }
    struct rocky_otel_span *s = view_slot(q, i);
    if (!s)
        return ROCKY_ENOMEM;
    if (rec[0] & ROCKY_OTEL_PACK_DEFINE)
        q->vrun = NULL; /* REF views from here on: the new run's */
    if (rocky_otel_span_unpack(rec, len, &q->peek_run, s) != 0) {
        /* Cannot happen for what pack_write wrote; never hand the encoder
         * half a span. An empty model span goes out instead. */
        memset(s, 0, sizeof *s);
        s->kind = ROCKY_OTEL_SPAN_MODEL;
    }
    rocky_otel_span_view_of(s, v);
    return 0;
}

const struct rocky_otel_span_view *
rocky_otel_queue_peek_view(struct rocky_otel_queue *q, size_t i)
{
    if (i >= q->cap)
        return NULL;
    while (q->peeked <= i) {
        uint32_t len = next_record(q);
        if (len == 0)
            return NULL; /* not yet written */
        struct rocky_otel_span_view *v =
            block_slot((void ***)&q->vviews, &q->vview_blocks, q->peeked,
                       sizeof **q->vviews);
        const uint8_t *rec = q->ring + (q->peek_pos & q->mask) + HEADER;
        if (!v || view_record(q, q->peeked, rec, len - HEADER, v) != 0)
            return NULL;
        q->peek_pos += STRIDE(len);
        q->peeked++;
    }
    size_t b = i / VIEW_BLOCK;
    return &q->vviews[b][i % VIEW_BLOCK];
}

/* memset in pieces under glibc's rep-stosb threshold (2 KiB): vector
 * stores, 32 bytes each, where one large memset becomes `rep stosb`, which
 * callgrind (our instruction count) counts byte by byte. */
static void zero(uint8_t *p, size_t n)
{
    while (n) {
        size_t k = n < 1024 ? n : 1024;
        memset(p, 0, k);
        p += k;
        n -= k;
    }
}

void rocky_otel_queue_release(struct rocky_otel_queue *q, size_t n)
{
    uint64_t h = atomic_load_explicit(&q->head, memory_order_relaxed);
    uint32_t pos = BYTES(h);
    /* The current run after the released records: as peeked when all the
     * peeked ones go, else read again from the records themselves. */
    int walk_runs = n != q->peeked;
    size_t done = 0;
    while (done < n) {
        uint32_t len =
            atomic_load_explicit(header_at(q, pos), memory_order_acquire);
        if (len == 0)
            break; /* a caller error: never more than were peeked */
        uint8_t *rec = q->ring + (pos & q->mask);
        if (!(len & PAD)) {
            if (walk_runs)
                rocky_otel_span_unpack_run(rec + HEADER, len - HEADER,
                                           &q->head_run);
            done++;
        }
        pos += STRIDE(len & ~PAD);
    }
    /* Zero for the next lap: 0 must mean "not written" at any offset. The
     * released records are one run of bytes from the old head, wrapping
     * at most once (a padding reaches the ring's end): one or two memsets,
     * not one per record. */
    uint32_t from = BYTES(h) & q->mask, total = (pos - BYTES(h)) & BYTE_MASK;
    uint32_t first = total < q->bytes - from ? total : q->bytes - from;
    zero(q->ring + from, first);
    zero(q->ring, total - first);
    if (!walk_runs)
        q->head_run = q->peek_run;
    uint64_t released =
        atomic_load_explicit(&q->released, memory_order_relaxed) + done;
    atomic_store_explicit(&q->head, WORD(SPANS(h) + done, pos),
                          memory_order_release);
    atomic_store_explicit(&q->released, released, memory_order_release);
    /* The unpacked views now belong to spans that moved: walk again. */
    q->peeked = 0;
    q->peek_pos = pos;
    q->peek_run = q->head_run;
    q->vrun = NULL;
    q->vruns_used = 0;
}

void rocky_otel_queue_populate_ahead(struct rocky_otel_queue *q)
{
#if defined(MADV_POPULATE_WRITE)
    if (q->populated >= q->bytes)
        return; /* every page has been resident since the first lap */
    /* The byte count is modular 2^30 and the ring at most 2^29 bytes: on
     * the first lap it is the offset itself; past it, no page is new. */
    uint32_t at = BYTES(atomic_load_explicit(&q->tail, memory_order_relaxed));
    if (at == 0)
        return; /* no span yet: a queue never used stays virtual */
    int huge = q->bytes > HUGE_PAGE;
    uint32_t ahead = huge ? POPULATE_AHEAD_HUGE : POPULATE_AHEAD;
    uint32_t page = huge ? HUGE_PAGE : 4096;
    uint32_t want = at >= q->bytes || q->bytes - at <= ahead
                        ? q->bytes
                        : (at + ahead + page - 1) & ~(page - 1);
    if (want < q->populated + POPULATE_STEP && want < q->bytes)
        return;
#if defined(MADV_HUGEPAGE)
    /* Huge pages only where this thread makes them resident: the kernel
     * may compact memory to find one, and that stall is the consumer's.
     * A producer that runs ahead of this gets 4 KiB pages. */
    if (huge)
        (void)madvise(q->ring + q->populated, want - q->populated,
                      MADV_HUGEPAGE);
#endif
    /* Faults the pages in as a write would, without writing: the bytes
     * stay as they are (zero, or a producer's record being written). A
     * kernel without it (before 5.14) says EINVAL: producers then fault
     * as before, and we stop asking. */
    if (madvise(q->ring + q->populated, want - q->populated,
                MADV_POPULATE_WRITE) == 0)
        q->populated = want;
    else if (errno != EINTR && errno != EAGAIN)
        q->populated = q->bytes;
#else
    (void)q;
#endif
}

size_t rocky_otel_queue_size(const struct rocky_otel_queue *q)
{
    uint64_t h = atomic_load_explicit(&q->head, memory_order_relaxed);
    uint64_t t = atomic_load_explicit(&q->tail, memory_order_relaxed);
    /* Head first: the tail read after it is never behind it. */
    return (size_t)SPAN_DIFF(SPANS(t), SPANS(h)) +
           atomic_load_explicit(&q->run_count, memory_order_relaxed);
}

uint64_t rocky_otel_queue_pushed(const struct rocky_otel_queue *q)
{
    /* Spans released, plus how far (mod 2^33) the tail is past that count:
     * the tail read after `released` is never behind it, so this is every
     * model span ever taken. */
    uint64_t released =
        atomic_load_explicit(&q->released, memory_order_acquire);
    uint64_t t = atomic_load_explicit(&q->tail, memory_order_acquire);
    return released + SPAN_DIFF(SPANS(t), released) +
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
