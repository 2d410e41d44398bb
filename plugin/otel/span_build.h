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
 * as long as what it carries (a typical model span is ~120 bytes where the
 * struct above is ~900). Unpacking gives exactly the struct that
 * rocky_otel_span_from_event would have filled from the same event.
 *
 * Layout (private to span_build.c): kind, flags, LEB128 numbers (status,
 * attempt, statement fields, zigzag rows and bytes), the start time, the
 * duration, the three ids, then five strings each as a length and its
 * bytes (the event's bytes as COPY would read them, sanitized when
 * unpacked: the runner's thread only measures and copies), a 64-char
 * lowercase hex sql_hash as its 32 binary bytes.
 *
 * A pack is made in two steps so that the queue can reserve exactly the
 * room: prepare measures, write copies. Both on the calling
 * thread; the event's strings must stay valid from prepare to write (they
 * do during on_event).
 */
#define ROCKY_OTEL_PACK_STRINGS 5

struct rocky_otel_span_pack {
    uint32_t size; /* bytes pack_write writes */
    uint32_t kind, flags, status, attempt;
    uint32_t max_attempts, stmt_kind, sequence; /* statement */
    uint64_t rows, bytes;                       /* zigzag */
    int64_t start;
    uint64_t duration;
    const uint8_t *trace_id, *span_id, *parent;
    /* run_id, adapter, name, sql_hash or target, error: the event's bytes,
     * not yet sanitized (see span_build.c) */
    const char *str[ROCKY_OTEL_PACK_STRINGS];
    uint32_t len[ROCKY_OTEL_PACK_STRINGS];
    uint8_t hash[32]; /* sql_hash in binary, when flagged */
};

/* The most bytes pack_write can ever write: 2 + 6 varints of at most 10,
 * the start, the ids, the binary hash and five strings with their
 * lengths. */
#define ROCKY_OTEL_PACK_MAX                                                    \
    (2 + 7 * 10 + 8 + 32 + 32 + 2 * ROCKY_OTEL_PACK_STRINGS + 79 + 15 + 127 +  \
     135 + 511)

/*
 * Measure `ev` (MODEL_END or STATEMENT_END) into `p`. Returns 0, or
 * ROCKY_EINVAL for what rocky_otel_span_from_event refuses or a RUN_END
 * (run spans are not packed). No allocation; thread-safe.
 */
int rocky_otel_span_pack_prepare(const struct rocky_event *ev,
                                 struct rocky_otel_span_pack *p);

/* Write the prepared pack: exactly p->size bytes at `dst`. */
void rocky_otel_span_pack_write(const struct rocky_otel_span_pack *p,
                                uint8_t *dst);

/*
 * Fill `span` from a packed record of `size` bytes (what pack_write wrote).
 * Returns 0, or ROCKY_EINVAL when the bytes do not parse (never for bytes
 * pack_write made). Any thread; no allocation.
 */
int rocky_otel_span_unpack(const uint8_t *rec, uint32_t size,
                           struct rocky_otel_span *span);

#endif
