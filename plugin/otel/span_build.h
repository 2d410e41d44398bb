/*
 * span_build.h — a finished span, as the hot path copies it out of an
 * event: fixed size, no pointers, so the queue never allocates and the
 * event's strings (valid only during on_event) are not kept.
 *
 * Strings are copied already sanitized to UTF-8 and truncated at a
 * character boundary to their field's size.
 */
#ifndef ROCKY_OTEL_SPAN_BUILD_H
#define ROCKY_OTEL_SPAN_BUILD_H

#include <stdint.h>

#include "rocky/plugin.h"

enum rocky_otel_span_kind {
    ROCKY_OTEL_SPAN_RUN = 1,      /* run, the root of a run's trace          */
    ROCKY_OTEL_SPAN_MODEL = 2,    /* materialize.table, one model execution  */
    ROCKY_OTEL_SPAN_STATEMENT = 3 /* statement.execute, one SQL statement    */
};

struct rocky_otel_span {
    int64_t start_wall_ns;
    int64_t end_wall_ns;
    int64_t rows_affected; /* model: -1 unknown                             */
    int64_t bytes_written; /* model: -1 unknown                             */
    uint32_t kind;         /* enum rocky_otel_span_kind                     */
    uint32_t status;       /* rocky_run_status or rocky_model_status        */
    uint32_t attempt;      /* model, statement                              */
    uint32_t max_attempts; /* statement                                     */
    uint32_t stmt_kind;    /* statement: enum rocky_statement_kind          */
    uint32_t sequence;     /* statement                                     */
    uint32_t models_total; /* run                                           */
    uint32_t models_failed;
    uint32_t models_succeeded;
    uint32_t models_skipped;
    uint8_t trace_id[ROCKY_TRACE_ID_SIZE];
    uint8_t span_id[ROCKY_SPAN_ID_SIZE];
    uint8_t parent_span_id[ROCKY_SPAN_ID_SIZE]; /* zeros: no parent         */
    char run_id[80];
    char adapter[16]; /* run's adapter ("sqlite"); model and statement    */
    /* Model and run spans need different strings: a union keeps a ring
     * slot small (less memory touched per event, less RSS). Which member
     * is valid follows `kind`. */
    union {
        struct {               /* ROCKY_OTEL_SPAN_MODEL                   */
            char name[128];    /* model name                              */
            char sql_hash[72]; /* lowercase hex                           */
            char error[512];   /* error text (FAILED/INTERRUPTED)         */
        };
        struct {                  /* ROCKY_OTEL_SPAN_STATEMENT          */
            char stmt_model[128]; /* its model's name                    */
            char target[136];     /* "main.orders", or empty             */
            char stmt_error[512]; /* error text when it failed           */
        };
        struct { /* ROCKY_OTEL_SPAN_RUN                  */
            char project[120];
            char trigger[32];
            char version[40];      /* rocky version                        */
            char trace_state[512]; /* caller's W3C tracestate             */
        };
    };
};

/*
 * Fill `span` from a RUN_END, MODEL_END or STATEMENT_END event. Returns 0,
 * or ROCKY_EINVAL for another event type, a NULL model on MODEL_END or a
 * missing statement or model on STATEMENT_END. No allocation; thread-safe.
 * A model span's parent is the run span, a statement span's its model's.
 */
int rocky_otel_span_from_event(const struct rocky_event *ev,
                               struct rocky_otel_span *span);

/*
 * The packed form of a model or statement span, as the queue keeps it: only
 * as long as what it carries (a typical model span is ~80 bytes where the
 * struct above is ~900). Unpacking gives exactly the struct that
 * rocky_otel_span_from_event would have filled from the same event.
 *
 * Layout (private to span_build.c): a kind-and-flags byte; the run's part
 * (trace id, run_id, adapter) unless the record refers to the current run;
 * LEB128 numbers (status, attempt, zigzag rows, then bytes or the
 * statement's fields); the start time (raw, or as the difference from the
 * current run's base); the duration; the span id and, unless it is the
 * current run's span, the parent; the strings, each as its length and its
 * bytes: the event's bytes as COPY would read them (up to the array's
 * size, before any NUL), sanitized when unpacked by the same call COPY
 * makes, so the runner's thread only measures and copies. A 64-char
 * lowercase hex sql_hash is kept as its 32 bytes.
 *
 * The current run. Every span of a run repeats the run's trace id, run_id
 * and adapter (and a model span's parent is the run's span): ~40 bytes a
 * span. So a record can instead refer to "the current run": the run that
 * the last DEFINE record before it in the queue carried. The queue decides
 * which records define and which refer (queue.c: the choice is made by the
 * same CAS that places the record); the consumer, reading in order, keeps
 * the last defined run in a struct rocky_otel_span_run.
 */
enum rocky_otel_pack_run {
    ROCKY_OTEL_PACK_RUN_INLINE = 0, /* the run's part in the record          */
    ROCKY_OTEL_PACK_RUN_DEFINE = 1, /* inline, and it is now the current run */
    ROCKY_OTEL_PACK_RUN_REF = 2     /* the current run's: not in the record  */
};

#define ROCKY_OTEL_PACK_STRINGS 5

/* A span measured for packing. Filled by prepare; the calling thread's
 * (the stack is the place for it). */
struct rocky_otel_span_pack {
    uint32_t kind, flags, status, attempt;
    uint32_t max_attempts, stmt_kind, sequence; /* statement */
    uint64_t rows, bytes, duration;             /* rows, bytes zigzag */
    int64_t start;
    uint32_t span_size; /* the span's part, without its start or parent */
    uint32_t run_size;  /* the run's part inline; 0 until measured */
    const struct rocky_run *run;
    const uint8_t *span_id, *parent;
    /* run_id, adapter, name, sql_hash or target, error: not yet sanitized */
    const char *str[ROCKY_OTEL_PACK_STRINGS];
    uint32_t len[ROCKY_OTEL_PACK_STRINGS];
    uint8_t hash[32]; /* sql_hash in binary, when flagged */
};

/* The most bytes a record can take: the flags, the run's part with the
 * DEFINE span id, 7 varints of at most 10, the start, two span ids, the
 * binary hash and five strings with their 2-byte lengths. */
#define ROCKY_OTEL_PACK_MAX                                                    \
    (1 + ROCKY_TRACE_ID_SIZE + ROCKY_SPAN_ID_SIZE + 7 * 10 + 8 +               \
     2 * ROCKY_SPAN_ID_SIZE + 32 + 2 * ROCKY_OTEL_PACK_STRINGS + 80 + 16 +     \
     128 + 136 + 512)

/*
 * Measure `ev` (MODEL_END or STATEMENT_END) into `p`. Returns 0, or
 * ROCKY_EINVAL for what rocky_otel_span_from_event refuses or a RUN_END
 * (run spans are not packed). No allocation; thread-safe. The event's
 * strings must stay valid until pack_write (they do during on_event).
 */
int rocky_otel_span_pack_prepare(const struct rocky_event *ev,
                                 struct rocky_otel_span_pack *p);

/* Bytes the record takes packed as `mode`, when the current run's base
 * start time is `base` (REF only). Measures the run's strings the first
 * time they are needed. */
uint32_t rocky_otel_span_pack_size(struct rocky_otel_span_pack *p, int mode,
                                   int64_t base);

/* Write exactly pack_size(p, mode, base) bytes at `dst`. */
void rocky_otel_span_pack_write(const struct rocky_otel_span_pack *p, int mode,
                                int64_t base, uint8_t *dst);

/* The current run, as the consumer has read it from the last DEFINE
 * record: the part of the run that REF records leave out. */
struct rocky_otel_span_run {
    int valid; /* 0 until a DEFINE record was read */
    uint8_t trace_id[ROCKY_TRACE_ID_SIZE];
    uint8_t span_id[ROCKY_SPAN_ID_SIZE];
    int64_t base;
    char run_id[80], adapter[16]; /* sanitized */
};

/*
 * Fill `span` from a packed record of `size` bytes, reading a REF record's
 * run part from `run` and updating `run` at a DEFINE record. Returns 0, or
 * ROCKY_EINVAL when the bytes do not parse or a REF record comes without a
 * current run (never for records the queue wrote, read in order). Any one
 * thread per `run`; no allocation.
 */
int rocky_otel_span_unpack(const uint8_t *rec, uint32_t size,
                           struct rocky_otel_span_run *run,
                           struct rocky_otel_span *span);

/* Only the run part: update `run` if the record is a DEFINE one (what the
 * consumer does for records it releases without unpacking them). */
void rocky_otel_span_unpack_run(const uint8_t *rec, uint32_t size,
                                struct rocky_otel_span_run *run);

#endif
