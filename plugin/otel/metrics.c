/*
 * metrics.c — the run/model instruments, aggregated in per-thread shards.
 *
 * Protocol
 *  - Every (thread, metrics object) pair that records gets its own shard: a
 *    cache-line-aligned block of cumulative counters that only that thread
 *    writes, each as a relaxed atomic load and store of its own value (on
 *    x86-64 one add to memory, see ADD). No locked read-modify-write, so
 *    no lock-prefixed instruction and no cache line shared with another
 *    recorder on the hot path. (Atomics rather than
 *    plain integers because the exporter thread reads them meanwhile.)
 *  - A thread finds its shard first in the object's table keyed by thread
 *    pointer (by_tp below: no TLS call), then through a small direct-mapped
 *    per-thread cache (a pthread key) keyed by the object's process-unique
 *    id (never by
 *    its address: an object freed and another allocated at the same
 *    address gets a new id, so a stale entry cannot match). A miss in
 *    both — the thread's first event
 *    for the object, or an entry evicted by another object — takes the
 *    object's mutex, finds the thread's shard in the object's list or
 *    allocates and links one. Shards live until the object is freed: a
 *    thread that ends leaves its counts behind.
 *  - The snapshot and a live RUN_START sum every shard under the mutex. The
 *    run gauges are not reset in the shards (other threads own them): a
 *    RUN_START records the cumulative totals they derive from as a base,
 *    and a snapshot reports totals minus base.
 *  - in_flight is one counter per shard (START +1, END of a started model
 *    -1), not starts and ends apart: a snapshot reads each shard once, at
 *    its own instant, so a thread running one model at a time always adds
 *    0 or 1. (Separate counters read at two instants would let the models
 *    started in between count as in flight.)
 */
#include "metrics.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "cacheline.h"
#include "rocky/error.h"

const double rocky_otel_hist_bounds_ms[ROCKY_OTEL_HIST_BOUNDS] = {
    0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000};

/* One histogram in a shard. Durations are integer nanoseconds. */
struct shard_hist {
    _Atomic uint64_t buckets[ROCKY_OTEL_HIST_BUCKETS];
    _Atomic uint64_t sum_ns;
    _Atomic int64_t min_ns; /* INT64_MAX until the first value */
    _Atomic int64_t max_ns; /* -1 until the first value */
};

/* One thread's counters for one metrics object. Written only by the thread
 * whose uid is `owner` (or, for the object's spill shard, under its mutex);
 * read by anyone holding the object's mutex. Own cache lines: no false
 * sharing with another thread's shard. */
struct shard {
    /* Started minus ended here: negative when this thread ended models
     * another one started. */
    ROCKY_OTEL_OWN_LINE _Atomic int64_t in_flight;
    _Atomic uint64_t executions[ROCKY_OTEL_MODEL_STATUSES];
    _Atomic uint64_t rows, bytes, runs;
    _Atomic uint64_t statements_untimed; /* not in query_duration */
    _Atomic uint64_t retries_attempted, retries_succeeded;
    struct shard_hist model_duration, run_duration, query_duration;
    /* Under the object's mutex. */
    struct shard *next;
    uint64_t owner; /* thread uid; 0 for the spill shard */
    /* The owner's thread pointer; immutable (see by_tp). */
    uintptr_t tp;
};

#define TP_SLOTS 64
/* Thread pointers are a stack size or more apart: multiply the page
 * number so that its low bits reach the slot. In 32 bits: the multiplier
 * is then an immediate operand (a 64-bit one costs a move first), and
 * threads a stack apart spread over the slots as well (simulated for
 * stacks of 2^k and 2^k + 1 pages). */
#define TP_SLOT(tp)                                                            \
    ((unsigned)((uint32_t)((uint64_t)(tp) >> 12) * 0x9E3779B1u >> 26))
_Static_assert(TP_SLOTS == 64, "TP_SLOT keeps 6 bits");

struct rocky_otel_metrics {
    /* The hot path's way to a thread's shard, before the per-thread
     * cache: reading the thread pointer is one instruction, where the
     * cache costs a pthread_getspecific call. Slot
     * TP_SLOT(tp) holds some thread's shard; it is the caller's only if the
     * shard's tp is the caller's thread pointer. No two live threads share
     * a thread pointer, so a shard is written by one thread at a time: its
     * owner, or after the owner ended, the one thread that now has that
     * pointer (which takes its counts over, as the owner would have had
     * them; every count still lands in exactly one shard). Written by any
     * thread after a miss (release: the shard's fields first). First in the
     * object, so that a slot's address is the object's plus the slot's
     * offset, without a constant to add; eight whole cache lines. */
    _Atomic(struct shard *) by_tp[TP_SLOTS];
    /* The spill shard takes events of a thread whose own shard could not be
     * allocated (out of memory), written under `lock`. On its own cache
     * lines (ROCKY_OTEL_OWN_LINE in struct shard). */
    struct shard spill;
    uint64_t id; /* process-unique, never 0; immutable */
    /* Byte offset of its slot (id % TLS_SLOTS) in every thread's cache. */
    size_t slot_offset;
    pthread_mutex_t lock;
    struct shard *shards; /* under lock; only ever grows */
    /* The cumulative figures the run gauges derive from, as they were at
     * the last live RUN_START (zero before). Under lock. */
    struct rocky_otel_run_gauges base;
};

/* What an empty by_tp slot points at, so that the lookup needs no null
 * test: its tp is no thread's (neither a thread pointer nor, without the
 * builtin, a cache's address is all ones; and not 0, which thread_pointer
 * may return). Never written. */
static struct shard no_shard = {.tp = UINTPTR_MAX};

/* Ids of metrics objects and of recording threads; 0 means "none". */
static _Atomic uint64_t next_metrics_id = 1;
static _Atomic uint64_t next_thread_uid = 1;

/* Direct-mapped by id: a thread feeding a few plugin instances (ids are
 * handed out in sequence) keeps one slot each. */
#define TLS_SLOTS 4
struct tls_slot {
    uint64_t id; /* the metrics object's id; 0 = empty */
    struct shard *shard;
};
struct tls_cache {
    struct tls_slot slot[TLS_SLOTS];
    uint64_t thread_uid; /* 0 until this thread's first shard */
};
/* Each thread's cache hangs off a pthread key rather than a _Thread_local:
 * TLS in a dlopen'ed library is dynamic TLS, reached through a
 * __tls_get_addr call and allocated lazily per thread, which sanitizer
 * runtimes track with heuristics (see scripts/test on LeakSanitizer); a key
 * costs a call too, and the hot path rarely comes here (the thread-pointer
 * table answers first). (Moving off _Thread_local did not by itself cure
 * the LeakSanitizer crash scripts/test describes.) The cache is freed when
 * its thread ends; the library is never unloaded (-z nodelete), so the
 * destructor stays mapped. */
static pthread_key_t tls_key;
static int tls_key_ok;
static pthread_once_t tls_key_once = PTHREAD_ONCE_INIT;

static void tls_key_make(void)
{
    tls_key_ok = pthread_key_create(&tls_key, free) == 0;
}

/* The calling thread's cache, made on first use; NULL when out of memory
 * (the caller then goes through the object's list under its lock). */
static struct tls_cache *tls_cache_get(void)
{
    pthread_once(&tls_key_once, tls_key_make);
    if (!tls_key_ok)
        return NULL;
    struct tls_cache *c = pthread_getspecific(tls_key);
    if (c)
        return c;
    c = calloc(1, sizeof *c);
    if (c && pthread_setspecific(tls_key, c) != 0) {
        free(c);
        c = NULL;
    }
    return c;
}

/* Bucket lookup without a search: a duration's octave (floor(log2 ns))
 * says which bounds it is surely above (`base`) and which at most two
 * bounds fall in the octave and need a comparison. Built once from
 * rocky_otel_hist_bounds_ms, read-only afterwards. Three arrays indexed
 * by the octave in one object: one base address, the octave a scaled
 * index into each (no shift, no add). */
static struct {
    uint64_t above[2][64]; /* bounds in octave k, UINT64_MAX when fewer */
    uint64_t base[64];     /* bounds below octave k */
} octaves;
static pthread_once_t octaves_once = PTHREAD_ONCE_INIT;

static void octaves_build(void)
{
    for (int k = 0; k < 64; k++) {
        /* Octave k holds [2^k, 2^(k+1)); octave 0 also holds 0. */
        uint64_t lo = k == 0 ? 0 : (uint64_t)1 << k;
        uint64_t hi = k == 63 ? UINT64_MAX : ((uint64_t)1 << (k + 1)) - 1;
        octaves.above[0][k] = octaves.above[1][k] = UINT64_MAX;
        octaves.base[k] = 0;
        int n = 0;
        for (int b = 0; b < ROCKY_OTEL_HIST_BOUNDS; b++) {
            uint64_t ns = (uint64_t)(rocky_otel_hist_bounds_ms[b] * 1e6);
            if (ns < lo)
                octaves.base[k]++;
            else if (ns <= hi && n < 2)
                octaves.above[n++][k] = ns;
            else if (ns <= hi)
                abort(); /* the bounds changed: give octaves more slots */
        }
    }
}

/* Bucket i holds (bound[i-1], bound[i]]: the OTLP convention. For ns > 0
 * (the octave of 0 is undefined): a caller that knows its value is
 * positive saves the `| 1`. */
static inline size_t bucket_of_positive(uint64_t ns)
{
#if defined(__has_builtin) && defined(__x86_64__)
#if __has_builtin(__builtin_ia32_bsrdi)
#define HAVE_BSRDI 1
#endif
#endif
#ifdef HAVE_BSRDI
    /* The index as bsr leaves it, 64 bits wide: 63 ^ __builtin_clzll is
     * an int that GCC sign-extends first. */
    size_t k = (size_t)__builtin_ia32_bsrdi((long long)ns);
#else
    size_t k = (size_t)(63 ^ __builtin_clzll(ns));
#endif
    uint64_t b = octaves.base[k];
    b += ns > octaves.above[0][k];
    b += ns > octaves.above[1][k];
    return (size_t)b;
}

static inline size_t bucket_of(uint64_t ns)
{
    /* 0 is in octave 0, as 1 is, and in bucket 0 (bound 0 is 0). */
    return ns ? bucket_of_positive(ns) : 0;
}

double rocky_otel_error_rate_pct(const struct rocky_otel_run_gauges *g)
{
    uint64_t ended = g->tables_processed + g->tables_failed;
    if (ended == 0)
        return 0;
    /* round(100 * failed / ended), half away from zero, in integers */
    return (double)((g->tables_failed * 200 + ended) / (2 * ended));
}

const char *rocky_otel_drop_reason_name(int reason)
{
    switch (reason) {
    case ROCKY_OTEL_DROP_QUEUE_FULL: return "queue_full";
    case ROCKY_OTEL_DROP_EXPORT_FAILED: return "export_failed";
    case ROCKY_OTEL_DROP_REJECTED: return "rejected";
    case ROCKY_OTEL_DROP_SHUTDOWN: return "shutdown";
    case ROCKY_OTEL_DROP_TOO_LARGE: return "too_large";
    default: return "unknown";
    }
}

static void shard_init(struct shard *s)
{
    memset(s, 0, sizeof *s);
    atomic_init(&s->model_duration.min_ns, INT64_MAX);
    atomic_init(&s->model_duration.max_ns, -1);
    atomic_init(&s->run_duration.min_ns, INT64_MAX);
    atomic_init(&s->run_duration.max_ns, -1);
    atomic_init(&s->query_duration.min_ns, INT64_MAX);
    atomic_init(&s->query_duration.max_ns, -1);
}

int rocky_otel_metrics_new(struct rocky_otel_metrics **out)
{
    pthread_once(&octaves_once, octaves_build);
    struct rocky_otel_metrics *m = rocky_otel_zalloc_lines(sizeof *m);
    if (!m)
        return ROCKY_ENOMEM;
    if (pthread_mutex_init(&m->lock, NULL) != 0) {
        free(m);
        return ROCKY_ENOMEM;
    }
    shard_init(&m->spill);
    for (int i = 0; i < TP_SLOTS; i++)
        atomic_init(&m->by_tp[i], &no_shard);
    m->id = atomic_fetch_add(&next_metrics_id, 1);
    m->slot_offset = m->id % TLS_SLOTS * sizeof(struct tls_slot);
    *out = m;
    return 0;
}

void rocky_otel_metrics_free(struct rocky_otel_metrics *m)
{
    if (!m)
        return;
    for (struct shard *s = m->shards, *next; s; s = next) {
        next = s->next;
        free(s);
    }
    pthread_mutex_destroy(&m->lock);
    free(m);
}

/* Unique among live threads. The thread pointer is one instruction; where
 * the compiler lacks the builtin, the address of this thread's cache is as
 * unique while the thread lives, at a pthread_getspecific call (0 when the
 * cache cannot be had: no shard is ever filed under 0). */
#if defined(__has_builtin)
#if __has_builtin(__builtin_thread_pointer)
#define HAVE_THREAD_POINTER 1
#endif
#endif
static inline uintptr_t thread_pointer(void)
{
#ifdef HAVE_THREAD_POINTER
    return (uintptr_t)__builtin_thread_pointer();
#else
    return (uintptr_t)tls_cache_get();
#endif
}

/* The calling thread's shard of m, or NULL when it cannot be allocated.
 * Cold: once per thread and object, and after an eviction. */
static __attribute__((noinline)) struct shard *
shard_lookup(struct rocky_otel_metrics *m)
{
    struct tls_cache *c = tls_cache_get();
    if (!c) /* out of memory: the spill shard takes this event */
        return NULL;
    if (c->thread_uid == 0)
        c->thread_uid = atomic_fetch_add(&next_thread_uid, 1);
    pthread_mutex_lock(&m->lock);
    struct shard *s = m->shards;
    while (s && s->owner != c->thread_uid)
        s = s->next;
    if (!s && (s = rocky_otel_zalloc_lines(sizeof *s)) != NULL) {
        shard_init(s);
        s->owner = c->thread_uid;
        s->tp = thread_pointer();
        s->next = m->shards;
        m->shards = s;
    }
    pthread_mutex_unlock(&m->lock);
    if (s) {
        struct tls_slot *slot =
            (struct tls_slot *)((char *)c->slot + m->slot_offset);
        slot->id = m->id;
        slot->shard = s;
        /* Only a shard this thread may write, under its thread pointer. */
        if (s->tp == thread_pointer())
            atomic_store_explicit(&m->by_tp[TP_SLOT(s->tp)], s,
                                  memory_order_release);
    }
    return s;
}

/* The calling thread's shard through its per-thread cache, or NULL when it
 * cannot be allocated. (A thread whose by_tp slot another thread took comes
 * here each time: it does not take the slot back, so that two such threads do
 * not bounce its cache line between them.) */
static struct shard *my_shard_by_tls(struct rocky_otel_metrics *m)
{
    struct tls_cache *c = tls_cache_get();
    if (c) {
        const struct tls_slot *slot =
            (const struct tls_slot *)((const char *)c->slot + m->slot_offset);
        if (__builtin_expect(slot->id == m->id, 1))
            return slot->shard;
    }
    return shard_lookup(m);
}

/* The calling thread's shard by its thread pointer: one load and compare;
 * NULL when the table does not have it (an empty slot holds no_shard). */
static inline struct shard *my_shard(struct rocky_otel_metrics *m)
{
    uintptr_t tp = thread_pointer();
    struct shard *s =
        atomic_load_explicit(&m->by_tp[TP_SLOT(tp)], memory_order_acquire);
    return s->tp == tp ? s : NULL;
}

#define LOAD(field) atomic_load_explicit(&(field), memory_order_relaxed)
/* Only the shard's owner writes it: load + store, not a read-modify-write.
 * On x86-64 that is one add to memory without a lock prefix: its load and
 * its store are each a single-copy-atomic 8-byte access, so a reader sees
 * the old value or the new one, exactly as with the relaxed load and store
 * (which compilers do not fuse into one instruction themselves: three
 * instead of one). ThreadSanitizer does not see into asm, so it keeps the
 * C11 form. */
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define ROCKY_OTEL_TSAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define ROCKY_OTEL_TSAN 1
#endif
#if defined(__x86_64__) && !defined(ROCKY_OTEL_TSAN)
#define ADD(field, n)                                                          \
    __asm__("addq %1, %0" : "+m"(*(uint64_t *)&(field)) : "er"((uint64_t)(n)))
/* The owner's read of its own counter, for a comparison: no other thread
 * writes it, so a plain load (which the compiler may fold into the
 * comparison) races with nothing. */
#define OWN(field) (*(const __typeof__(LOAD(field)) *)&(field))
#else
#define ADD(field, n)                                                          \
    atomic_store_explicit(&(field), LOAD(field) + (n), memory_order_relaxed)
#define OWN(field) LOAD(field)
#endif

/* ns in `bucket`: bucket_of(ns), or bucket_of_positive when ns > 0. */
static inline void hist_add_in(struct shard_hist *h, uint64_t ns, size_t bucket)
{
    ADD(h->buckets[bucket], 1);
    ADD(h->sum_ns, ns);
    if ((int64_t)ns < OWN(h->min_ns))
        atomic_store_explicit(&h->min_ns, (int64_t)ns, memory_order_relaxed);
    if ((int64_t)ns > OWN(h->max_ns))
        atomic_store_explicit(&h->max_ns, (int64_t)ns, memory_order_relaxed);
}

static inline void hist_add(struct shard_hist *h, uint64_t ns)
{
    hist_add_in(h, ns, bucket_of(ns));
}

/* Duration from the monotonic clock when both ends have it (live runs),
 * else from the wall clock. */
static inline int64_t duration_ns(int64_t s_mono, int64_t e_mono,
                                  int64_t s_wall, int64_t e_wall)
{
    if (s_mono && e_mono)
        return e_mono - s_mono;
    if (s_wall && e_wall)
        return e_wall - s_wall;
    return -1;
}

/* The model's duration the long way: the end falls back to the event's
 * time, and to the wall clock when the monotonic one is missing. */
static __attribute__((noinline)) int64_t
model_duration_slow(const struct rocky_event *ev,
                    const struct rocky_model_exec *x)
{
    int64_t end_mono = x->finished_mono_ns ? x->finished_mono_ns : ev->mono_ns;
    int64_t end_wall = x->finished_wall_ns ? x->finished_wall_ns : ev->wall_ns;
    return duration_ns(x->started_mono_ns, end_mono, x->started_wall_ns,
                       end_wall);
}

/* The counts of a model that ended, its duration `d` already worked out
 * (< 0: none). `usual`, a constant where it is inlined: the caller has
 * found the model started, on its first attempt, with a status we count
 * other than SKIPPED, and d > 0, so none of that is tested again. */
static inline __attribute__((always_inline)) void
count_model_end(struct shard *s, const struct rocky_model_exec *x, int64_t d,
                int usual)
{
    uint32_t status = x->status;
    /* A skipped model never started, so it was never in flight. */
    if (usual || (x->started_wall_ns | x->started_mono_ns))
        ADD(s->in_flight, -1);
    if (usual || status < ROCKY_OTEL_MODEL_STATUSES)
        ADD(s->executions[status], 1);
    if (!usual && x->attempt > 1) { /* the model itself was run again */
        ADD(s->retries_attempted, x->attempt - 1);
        if (status == ROCKY_MODEL_SUCCESS)
            ADD(s->retries_succeeded, 1);
    }
    if (!usual && status == ROCKY_MODEL_SKIPPED)
        return;
    if (x->rows_affected > 0)
        ADD(s->rows, (uint64_t)x->rows_affected);
    if (x->bytes_written > 0)
        ADD(s->bytes, (uint64_t)x->bytes_written);
    if (usual)
        hist_add_in(&s->model_duration, (uint64_t)d,
                    bucket_of_positive((uint64_t)d));
    else if (d >= 0)
        hist_add(&s->model_duration, (uint64_t)d);
}

static inline void record_model_end(struct shard *s,
                                    const struct rocky_event *ev,
                                    const struct rocky_model_exec *x)
{
    /* The live case first: both monotonic times, as duration_ns would. */
    int64_t d = x->started_mono_ns && x->finished_mono_ns
                    ? x->finished_mono_ns - x->started_mono_ns
                    : model_duration_slow(ev, x);
    count_model_end(s, x, d, 0);
}

static inline void record_statement_end(struct shard *s,
                                        const struct rocky_statement *st)
{
    if (st->attempt > 1) {
        ADD(s->retries_attempted, st->attempt - 1);
        if (st->status == ROCKY_MODEL_SUCCESS)
            ADD(s->retries_succeeded, 1);
    }
    /* statements_executed = query_duration's count + statements_untimed:
     * one store for the usual statement, not two. */
    int64_t d = duration_ns(st->started_mono_ns, st->finished_mono_ns,
                            st->started_wall_ns, st->finished_wall_ns);
    if (d >= 0)
        hist_add(&s->query_duration, (uint64_t)d);
    else
        ADD(s->statements_untimed, 1);
}

static void record_run_end(struct shard *s, const struct rocky_event *ev)
{
    const struct rocky_run *r = ev->run;
    ADD(s->runs, 1);
    int64_t end_mono = r->finished_mono_ns ? r->finished_mono_ns : ev->mono_ns;
    int64_t end_wall = r->finished_wall_ns ? r->finished_wall_ns : ev->wall_ns;
    int64_t d =
        duration_ns(r->started_mono_ns, end_mono, r->started_wall_ns, end_wall);
    if (d >= 0)
        hist_add(&s->run_duration, (uint64_t)d);
}

/* Sums of every shard (the caller holds m->lock). */
struct totals {
    struct shard_hist_sum {
        uint64_t buckets[ROCKY_OTEL_HIST_BUCKETS];
        uint64_t count, sum_ns;
        int64_t min_ns, max_ns;
    } model_duration, run_duration, query_duration;
    uint64_t executions[ROCKY_OTEL_MODEL_STATUSES];
    int64_t in_flight;
    uint64_t rows, bytes, runs, statements_untimed;
    uint64_t retries_attempted, retries_succeeded;
};

static void hist_sum(const struct shard_hist *h, struct shard_hist_sum *o)
{
    for (int i = 0; i < ROCKY_OTEL_HIST_BUCKETS; i++) {
        uint64_t n = LOAD(h->buckets[i]);
        o->buckets[i] += n;
        o->count += n;
    }
    o->sum_ns += LOAD(h->sum_ns);
    int64_t mn = LOAD(h->min_ns), mx = LOAD(h->max_ns);
    if (mn < o->min_ns)
        o->min_ns = mn;
    if (mx > o->max_ns)
        o->max_ns = mx;
}

static void shard_sum(const struct shard *s, struct totals *t)
{
    for (int i = 0; i < ROCKY_OTEL_MODEL_STATUSES; i++)
        t->executions[i] += LOAD(s->executions[i]);
    t->in_flight += LOAD(s->in_flight);
    t->rows += LOAD(s->rows);
    t->bytes += LOAD(s->bytes);
    t->runs += LOAD(s->runs);
    t->statements_untimed += LOAD(s->statements_untimed);
    t->retries_attempted += LOAD(s->retries_attempted);
    t->retries_succeeded += LOAD(s->retries_succeeded);
    hist_sum(&s->model_duration, &t->model_duration);
    hist_sum(&s->run_duration, &t->run_duration);
    hist_sum(&s->query_duration, &t->query_duration);
}

static void totals_take(const struct rocky_otel_metrics *m, struct totals *t)
{
    memset(t, 0, sizeof *t);
    struct shard_hist_sum *h[] = {&t->model_duration, &t->run_duration,
                                  &t->query_duration};
    for (int i = 0; i < 3; i++) {
        h[i]->min_ns = INT64_MAX;
        h[i]->max_ns = -1;
    }
    shard_sum(&m->spill, t);
    for (const struct shard *s = m->shards; s; s = s->next)
        shard_sum(s, t);
}

/* The cumulative figures behind the run gauges. */
static struct rocky_otel_run_gauges gauge_sources(const struct totals *t)
{
    return (struct rocky_otel_run_gauges){
        .tables_processed = t->executions[ROCKY_MODEL_SUCCESS],
        .tables_failed = t->executions[ROCKY_MODEL_FAILED],
        .statements_executed = t->query_duration.count + t->statements_untimed,
        .retries_attempted = t->retries_attempted,
        .retries_succeeded = t->retries_succeeded,
    };
}

static void run_start(struct rocky_otel_metrics *m)
{
    struct totals t;
    pthread_mutex_lock(&m->lock);
    totals_take(m, &t);
    m->base = gauge_sources(&t);
    pthread_mutex_unlock(&m->lock);
}

/* The hot events, each its own function so that the dispatcher reaches
 * them by a tail call and saves no registers for them. */
static __attribute__((noinline)) void
hot_statement_end(struct shard *s, const struct rocky_event *ev)
{
    if (ROCKY_STRUCT_HAS(ev, struct rocky_event, statement) && ev->statement)
        record_statement_end(s, ev->statement);
}

static __attribute__((noinline)) void
hot_model_end(struct shard *s, const struct rocky_event *ev)
{
    if (ev->model)
        record_model_end(s, ev, ev->model);
}

/* Events that are neither hot nor frequent: once per run, or ignored. */
static __attribute__((noinline)) void record_cold(struct rocky_otel_metrics *m,
                                                  struct shard *s,
                                                  const struct rocky_event *ev)
{
    if (ev->type == ROCKY_EVENT_RUN_START)
        run_start(m);
    else if (ev->type == ROCKY_EVENT_RUN_END)
        record_run_end(s, ev);
}

/* By frequency: about nine statements a model. */
static inline void dispatch(struct rocky_otel_metrics *m, struct shard *s,
                            const struct rocky_event *ev)
{
    uint32_t type = ev->type;
    if (type == ROCKY_EVENT_STATEMENT_END)
        hot_statement_end(s, ev);
    else if (type == ROCKY_EVENT_MODEL_END)
        hot_model_end(s, ev);
    else if (type == ROCKY_EVENT_MODEL_START)
        ADD(s->in_flight, 1);
    else
        record_cold(m, s, ev);
}

/* Events of a thread whose shard cannot be allocated (out of memory): into
 * the spill shard, under the lock (RUN_START takes it itself). */
static __attribute__((noinline)) void
record_spilled(struct rocky_otel_metrics *m, const struct rocky_event *ev)
{
    if (ev->type == ROCKY_EVENT_RUN_START) {
        run_start(m);
        return;
    }
    pthread_mutex_lock(&m->lock);
    dispatch(m, &m->spill, ev);
    pthread_mutex_unlock(&m->lock);
}

/* Not by the thread pointer: the per-thread cache, or the object's list, or the
 * spill shard. Out of line, so that the hot path keeps no frame. */
static __attribute__((noinline)) int record_slow(struct rocky_otel_metrics *m,
                                                 const struct rocky_event *ev)
{
    struct shard *s = my_shard_by_tls(m);
    if (__builtin_expect(s == NULL, 0)) {
        record_spilled(m, ev); /* no shard: out of memory */
        return 0;
    }
    dispatch(m, s, ev);
    return 0;
}

void rocky_otel_metrics_record(struct rocky_otel_metrics *m,
                               const struct rocky_event *ev)
{
    if (ev->flags & ROCKY_EVENT_FLAG_REPLAY)
        return;
    /* The shard before the event type: fewer tests and registers on the
     * hot path. An event that does not count at worst gives its thread a
     * shard it will have soon anyway. */
    struct shard *s = my_shard(m);
    if (__builtin_expect(s == NULL, 0)) {
        record_slow(m, ev);
        return;
    }
    dispatch(m, s, ev);
}

/* The exporter knows the type already: these skip the dispatch, and return
 * 0 so that it reaches them by a tail call. Anything not on the way to the
 * thread-pointer shard goes through record_slow, which dispatches on the
 * type as rocky_otel_metrics_record does. */
int rocky_otel_metrics_model_start(struct rocky_otel_metrics *m,
                                   const struct rocky_event *ev)
{
    if (ev->flags & ROCKY_EVENT_FLAG_REPLAY)
        return 0;
    struct shard *s = my_shard(m);
    if (__builtin_expect(s == NULL, 0))
        return record_slow(m, ev);
    ADD(s->in_flight, 1);
    return 0;
}

/* What rocky_otel_metrics_model_end returns when it does not take the
 * usual way. Out of line: the usual way knows it without a load. */
static __attribute__((noinline)) int model_ran(const struct rocky_event *ev)
{
    return !(ev->model && ev->model->status == ROCKY_MODEL_SKIPPED);
}

static __attribute__((noinline)) int
model_end_slow(struct rocky_otel_metrics *m, const struct rocky_event *ev)
{
    record_slow(m, ev);
    return model_ran(ev);
}

int rocky_otel_metrics_model_end(struct rocky_otel_metrics *m,
                                 const struct rocky_event *ev)
{
    if (ev->flags & ROCKY_EVENT_FLAG_REPLAY)
        return model_ran(ev);
    struct shard *s = my_shard(m);
    if (__builtin_expect(s == NULL, 0))
        return model_end_slow(m, ev);
    const struct rocky_model_exec *x = ev->model;
    if (!x)
        return 1;
    /* The usual model, inline: it ran (both monotonic times, the end
     * after the start), first attempt, a status we count and not SKIPPED.
     * Any other goes the whole way, out of line, so that this function
     * calls nothing and keeps no frame. (start > 0 and end > start: both
     * are nonzero, as duration_ns asks, and the duration is positive, in
     * two tests.) */
    uint32_t status = x->status;
    int64_t start = x->started_mono_ns, end = x->finished_mono_ns;
    if (__builtin_expect(start <= 0 || end <= start || x->attempt > 1 ||
                             status >= ROCKY_OTEL_MODEL_STATUSES ||
                             status == ROCKY_MODEL_SKIPPED,
                         0)) {
        hot_model_end(s, ev);
        return status != ROCKY_MODEL_SKIPPED;
    }
    count_model_end(s, x, end - start, 1);
    return 1;
}

static void hist_snap(const struct shard_hist_sum *h,
                      struct rocky_otel_hist_snap *o)
{
    memcpy(o->buckets, h->buckets, sizeof o->buckets);
    o->count = h->count;
    o->sum_ms = (double)h->sum_ns / 1e6;
    o->has_min_max = o->count > 0 && h->min_ns != INT64_MAX && h->max_ns >= 0;
    o->min_ms = o->has_min_max ? (double)h->min_ns / 1e6 : 0;
    o->max_ms = o->has_min_max ? (double)h->max_ns / 1e6 : 0;
    /* A recorder may have bumped a bucket but not yet the sum/min/max:
     * keep the point self-consistent (min <= max, sum >= 0). */
    if (o->has_min_max && o->min_ms > o->max_ms)
        o->has_min_max = 0;
}

static uint64_t sub(uint64_t a, uint64_t b)
{
    return a > b ? a - b : 0;
}

void rocky_otel_metrics_snapshot(const struct rocky_otel_metrics *m,
                                 struct rocky_otel_metrics_snap *o)
{
    /* The lock is the object's, not part of its value: locking it does not
     * change what the caller sees through its const pointer. */
    struct rocky_otel_metrics *mut = (struct rocky_otel_metrics *)m;
    struct totals t;
    pthread_mutex_lock(&mut->lock);
    totals_take(m, &t);
    struct rocky_otel_run_gauges base = m->base;
    pthread_mutex_unlock(&mut->lock);

    memset(o, 0, sizeof *o);
    for (int i = 0; i < ROCKY_OTEL_MODEL_STATUSES; i++)
        o->executions[i] = t.executions[i];
    o->in_flight = t.in_flight;
    /* Totals were taken after the base under the same lock, so each is at
     * least its base; sub() only guards the arithmetic. */
    struct rocky_otel_run_gauges now = gauge_sources(&t);
    o->run.tables_processed = sub(now.tables_processed, base.tables_processed);
    o->run.tables_failed = sub(now.tables_failed, base.tables_failed);
    o->run.statements_executed =
        sub(now.statements_executed, base.statements_executed);
    o->run.retries_attempted =
        sub(now.retries_attempted, base.retries_attempted);
    o->run.retries_succeeded =
        sub(now.retries_succeeded, base.retries_succeeded);
    o->rows = t.rows;
    o->bytes = t.bytes;
    o->runs = t.runs;
    hist_snap(&t.model_duration, &o->model_duration);
    hist_snap(&t.run_duration, &o->run_duration);
    hist_snap(&t.query_duration, &o->query_duration);
}

static void hist_delta(const struct rocky_otel_hist_snap *c,
                       const struct rocky_otel_hist_snap *p,
                       struct rocky_otel_hist_snap *o)
{
    o->count = 0;
    for (int i = 0; i < ROCKY_OTEL_HIST_BUCKETS; i++) {
        o->buckets[i] = sub(c->buckets[i], p->buckets[i]);
        o->count += o->buckets[i];
    }
    o->sum_ms = c->sum_ms > p->sum_ms ? c->sum_ms - p->sum_ms : 0;
    o->has_min_max = 0;
    o->min_ms = o->max_ms = 0;
}

void rocky_otel_metrics_delta(const struct rocky_otel_metrics_snap *c,
                              const struct rocky_otel_metrics_snap *p,
                              struct rocky_otel_metrics_snap *o)
{
    for (int i = 0; i < ROCKY_OTEL_MODEL_STATUSES; i++)
        o->executions[i] = sub(c->executions[i], p->executions[i]);
    o->run = c->run; /* gauges: the current value, never a difference */
    o->rows = sub(c->rows, p->rows);
    o->bytes = sub(c->bytes, p->bytes);
    o->runs = sub(c->runs, p->runs);
    o->in_flight = c->in_flight - p->in_flight;
    hist_delta(&c->model_duration, &p->model_duration, &o->model_duration);
    hist_delta(&c->run_duration, &p->run_duration, &o->run_duration);
    hist_delta(&c->query_duration, &p->query_duration, &o->query_duration);
    o->spans_queued = sub(c->spans_queued, p->spans_queued);
    o->spans_exported = sub(c->spans_exported, p->spans_exported);
    for (int i = 0; i < ROCKY_OTEL_DROP_REASONS; i++)
        o->spans_dropped[i] = sub(c->spans_dropped[i], p->spans_dropped[i]);
    o->exports_failed = sub(c->exports_failed, p->exports_failed);
}
