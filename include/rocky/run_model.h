/*
 * rocky/run_model.h — the run model: what one pipeline run and each of its
 * model executions are.
 *
 * One definition shared by everything that talks about runs:
 *   - the runner fills these structs and hands them to plugins in events
 *     (see rocky/plugin.h),
 *   - the state store persists them and reads them back,
 *   - `rocky trace` renders them,
 *   - the OTLP plugin turns them into spans and metrics.
 *
 * Layout rules (this header is part of the plugin ABI):
 *   - Every struct starts with `struct_size`, set by whoever fills it to
 *     sizeof() of the struct as *it* was compiled. Fields are only ever
 *     appended; a reader that was compiled against a newer header checks
 *     ROCKY_STRUCT_HAS(ptr, type, field) before touching a field added later.
 *   - No implicit padding on any ABI: 8-byte fields first, then pointers
 *     (an even number of them), then 4-byte fields, then bytes, with
 *     explicit `reserved` bytes at the tail. Asserted below.
 *   - Strings are UTF-8, NUL-terminated, and owned by whoever filled the
 *     struct. In an event they are valid only for the duration of the
 *     callback (copy what you keep). NULL means "not known".
 *   - Times: *_wall_ns are nanoseconds since the Unix epoch (UTC,
 *     CLOCK_REALTIME); *_mono_ns are CLOCK_MONOTONIC nanoseconds of the
 *     process that produced the event, for durations. A run replayed from the
 *     state store carries its original wall times and 0 for every mono time;
 *     consumers then derive durations from the wall times.
 *   - Trace context follows W3C Trace Context: 16-byte trace id, 8-byte span
 *     ids, raw bytes (not hex). All-zero means "absent".
 */
#ifndef ROCKY_RUN_MODEL_H
#define ROCKY_RUN_MODEL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A compile-time layout check that works in C11 and in C++11. */
#ifdef __cplusplus
#define ROCKY_ABI_ASSERT(cond, msg) static_assert(cond, msg)
#else
#define ROCKY_ABI_ASSERT(cond, msg) _Static_assert(cond, msg)
#endif

#define ROCKY_TRACE_ID_SIZE 16
#define ROCKY_SPAN_ID_SIZE  8

/*
 * True when the struct at `ptr` (whose first member is uint32_t struct_size)
 * is large enough to contain `field`. Use it before reading any field that
 * is documented as "since ABI 2.N" with N greater than the minor version the
 * producer may have been built with.
 */
#define ROCKY_STRUCT_HAS(ptr, type, field)                                     \
    ((ptr)->struct_size >=                                                     \
     offsetof(type, field) + sizeof(((const type *)0)->field))

/* Status of a whole run. Values are stable (stored and sent over the ABI).
 *
 * INCOMPLETE is the state store's word, never an event's: the run ended,
 * but the store could not record all of its models (disk full, I/O error),
 * so its history has a gap; its counters still say what the models did.
 * Plugins saw every model and get the run's own outcome in RUN_END, live
 * and replayed, so a plugin of any 2.x minor never receives it (added with
 * no ABI minor for that reason); readers of stored runs (`rocky trace`,
 * its JSON) do. */
enum rocky_run_status {
    ROCKY_RUN_RUNNING = 0,         /* started, not finished (yet)           */
    ROCKY_RUN_SUCCESS = 1,         /* every model succeeded                 */
    ROCKY_RUN_PARTIAL_FAILURE = 2, /* some failed, some succeeded           */
    ROCKY_RUN_FAILURE = 3,         /* nothing succeeded (or planning failed)*/
    ROCKY_RUN_INTERRUPTED = 4,     /* stopped by SIGINT/SIGTERM             */
    ROCKY_RUN_CRASHED = 5,         /* no live process owns a running run    */
    ROCKY_RUN_INCOMPLETE = 6       /* ended; the store lacks some models    */
};

/* Status of one model execution. Values are stable. */
enum rocky_model_status {
    ROCKY_MODEL_PENDING = 0,    /* planned, not started                     */
    ROCKY_MODEL_RUNNING = 1,    /* materialization in progress              */
    ROCKY_MODEL_SUCCESS = 2,    /* table published                          */
    ROCKY_MODEL_FAILED = 3,     /* error; `error` says why                  */
    ROCKY_MODEL_SKIPPED = 4,    /* an upstream dependency did not succeed   */
    ROCKY_MODEL_INTERRUPTED = 5 /* stopped by an interrupt while running    */
};

/*
 * One pipeline run. Filled by the runner; in a MODEL_* event it describes
 * the run the model belongs to, with the counters as of that moment.
 */
struct rocky_run {
    uint32_t struct_size; /* sizeof(struct rocky_run) of the producer      */
    uint32_t status;      /* enum rocky_run_status                          */
    int64_t started_wall_ns;
    int64_t finished_wall_ns; /* 0 while running                            */
    int64_t started_mono_ns;
    int64_t finished_mono_ns; /* 0 while running                            */
    const char *run_id;  /* unique, sorts by start time (e.g. "20261125T0600
                            00.123Z-3f9a1c"); never NULL                    */
    const char *project; /* project name; never NULL                        */
    const char *trigger; /* "manual", "ci", "schedule", ...; never NULL      */
    const char *config_hash;   /* hex hash of the project config, or NULL   */
    const char *hostname;      /* host that ran it, or NULL                 */
    const char *rocky_version; /* runner version, or NULL                   */
    const char *trace_state;   /* W3C tracestate of the caller, or NULL     */
    const char *adapter;       /* the warehouse adapter that runs the SQL
                                  ("sqlite"), or NULL when not known             */
    uint32_t models_total;     /* models planned for this run               */
    uint32_t models_succeeded; /* counters as of this event                 */
    uint32_t models_failed;
    uint32_t models_skipped;
    uint8_t trace_id[ROCKY_TRACE_ID_SIZE]; /* the run's trace               */
    uint8_t span_id[ROCKY_SPAN_ID_SIZE];   /* the run's root span           */
    uint8_t parent_span_id[ROCKY_SPAN_ID_SIZE]; /* caller's span from
                                                   TRACEPARENT, or zeros     */
    uint8_t trace_flags; /* W3C flags; bit 0 = sampled    */
    uint8_t reserved[7]; /* zero; room for later fields   */
    /* Fields added in later ABI minors go below, with a "since 2.N" note;
     * keep the pointer count even so that ILP32 has no tail padding. */
};

/*
 * One execution (attempt) of one model within a run.
 */
struct rocky_model_exec {
    uint32_t struct_size;   /* sizeof(struct rocky_model_exec) of producer    */
    uint32_t status;        /* enum rocky_model_status                        */
    const char *model_name; /* never NULL                                   */
    const char *sql_hash;   /* lowercase hex SHA-256 of the SQL, or NULL    */
    const char *error;      /* error text when FAILED/INTERRUPTED, else NULL*/
    const char *const *dependencies; /* names of the models it depends on;
                                        `dependency_count` entries          */
    int64_t started_wall_ns;  /* 0 when it never started (SKIPPED)         */
    int64_t finished_wall_ns; /* 0 while running                           */
    int64_t started_mono_ns;
    int64_t finished_mono_ns;
    int64_t rows_affected; /* rows in the published table; -1 unknown      */
    int64_t bytes_written; /* bytes of the published table; -1 unknown     */
    uint32_t attempt;      /* 1 for the first attempt                       */
    uint32_t dependency_count;
    uint8_t span_id[ROCKY_SPAN_ID_SIZE]; /* this execution's span           */
    /* Fields added in later ABI minors go below, with a "since 2.N" note. */
};

/* Layout: no padding on any ABI, LP64 or ILP32 with 4- or 8-byte aligned
 * int64_t (each size is the sum of its fields), and the LP64 sizes pinned.
 * tests/unit builds the headers with -m32 (and -malign-double) too. */
ROCKY_ABI_ASSERT(sizeof(struct rocky_run) ==
                     8 + 4 * 8 + 8 * sizeof(void *) + 4 * 4 + 16 + 8 + 8 + 8,
                 "struct rocky_run has no padding");
ROCKY_ABI_ASSERT(sizeof(struct rocky_model_exec) ==
                     8 + 4 * sizeof(void *) + 6 * 8 + 2 * 4 + 8,
                 "struct rocky_model_exec has no padding");
#if defined(__LP64__) || defined(_LP64)
ROCKY_ABI_ASSERT(sizeof(struct rocky_run) == 160,
                 "struct rocky_run layout is ABI: append only");
ROCKY_ABI_ASSERT(sizeof(struct rocky_model_exec) == 104,
                 "struct rocky_model_exec layout is ABI: append only");
#endif

/* Lowercase stable names, as stored and as shown in JSON ("partial_failure").
 * Unknown values map to "unknown". Static inline so plugins that only include
 * the headers can use them. */
static inline const char *rocky_run_status_name(uint32_t status)
{
    switch (status) {
    case ROCKY_RUN_RUNNING: return "running";
    case ROCKY_RUN_SUCCESS: return "success";
    case ROCKY_RUN_PARTIAL_FAILURE: return "partial_failure";
    case ROCKY_RUN_FAILURE: return "failure";
    case ROCKY_RUN_INTERRUPTED: return "interrupted";
    case ROCKY_RUN_CRASHED: return "crashed";
    case ROCKY_RUN_INCOMPLETE: return "incomplete";
    default: return "unknown";
    }
}

static inline const char *rocky_model_status_name(uint32_t status)
{
    switch (status) {
    case ROCKY_MODEL_PENDING: return "pending";
    case ROCKY_MODEL_RUNNING: return "running";
    case ROCKY_MODEL_SUCCESS: return "success";
    case ROCKY_MODEL_FAILED: return "failed";
    case ROCKY_MODEL_SKIPPED: return "skipped";
    case ROCKY_MODEL_INTERRUPTED: return "interrupted";
    default: return "unknown";
    }
}

#ifdef __cplusplus
}
#endif

#endif /* ROCKY_RUN_MODEL_H */
