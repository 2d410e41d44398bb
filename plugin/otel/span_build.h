/*
 * span_build.h — a finished span in full: fixed size, no pointers, the
 * event's strings (valid only during on_event) copied. Run spans are kept
 * so (the queue's run list); model and statement spans are queued packed
 * (span_pack.h) and viewed where they lie (span_view.h), or unpacked into
 * this struct by the consumer when a string needs repair, one batch at a
 * time, for the encoder.
 *
 * Strings are sanitized to UTF-8 and truncated at a character boundary to
 * their field's size.
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

/* The packed form the queue keeps is in span_pack.h (inline: the hot
 * path); reading it back is here. */

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
