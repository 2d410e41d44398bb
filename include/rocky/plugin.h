/*
 * rocky/plugin.h — the rocky plugin ABI, version 2.1.
 *
 * A rocky plugin is a shared object that a rocky runner (the "host") loads
 * with dlopen(RTLD_NOW | RTLD_LOCAL). It observes runs: it is told when a
 * run starts, when each model starts and ends, and when the run ends, and
 * may do anything with that (export telemetry, write a log, ...); since 2.1
 * it is also told of every SQL statement the host ran for a model. This
 * header, with rocky/run_model.h and rocky/error.h, is the whole contract:
 * you can write a plugin from them alone. A complete small example is
 * plugin/examples/events_jsonl.c.
 *
 * Contents
 *   1. The entry point            6. Threading and the hot path
 *   2. Versions, both ways        7. Backpressure: ROCKY_EAGAIN
 *   3. Instances and lifecycle    8. Delivery reports
 *   4. Configuration and context  9. Struct rules, for readers and writers
 *   5. Events and their order    10. Migrating from ABI 1.x
 *                                11. What each minor added
 *
 * ---------------------------------------------------------------------------
 * 1. The entry point
 * ---------------------------------------------------------------------------
 * A plugin exports exactly one symbol, the *function*
 *
 *     ROCKY_PLUGIN_EXPORT const struct rocky_plugin *
 *     rocky_plugin_entry(const struct rocky_host_api *host);
 *
 * (a function, not a data symbol, because dlsym is only portable for
 * functions). Build everything else with -fvisibility=hidden so that nothing
 * leaks into the host's symbol space. Everything a plugin may call is either
 * in the host's services table (`struct rocky_host_api`) or `static inline`
 * in these headers: nothing they declare needs linking against rocky.
 *
 * The entry function only describes the plugin: no threads, no sockets, no
 * allocation. It returns a pointer to a `struct rocky_plugin` that stays
 * valid while the library is loaded (normally a `static const`), or NULL to
 * refuse loading. It may be called more than once. The `host` it gets is a
 * library-level table: only its version fields and `log` may be used there,
 * and only during the call.
 *
 * ---------------------------------------------------------------------------
 * 2. Versions, both ways
 * ---------------------------------------------------------------------------
 * ABI versions are MAJOR.MINOR, packed as (MAJOR << 16) | MINOR.
 *   - The host passes its version in host->abi_version and the size of its
 *     services table in host->struct_size.
 *   - The plugin answers with the version it was compiled against in
 *     plugin->abi_version and sizeof(struct rocky_plugin) in
 *     plugin->struct_size.
 *   - The host refuses a plugin whose MAJOR differs from its own, with a
 *     message naming both versions and what to do.
 *   - Within one MAJOR, structs only grow by appending fields, so either
 *     side can be newer (section 9). The MINOR also says which event types
 *     a plugin understands: the host never sends a type introduced in a
 *     later minor than the plugin's (rocky_event_type_since_minor()).
 *   - A plugin that needs a service added in a later minor checks
 *     ROCKY_STRUCT_HAS(host, struct rocky_host_api, field) and either
 *     degrades or refuses in create() with a clear message.
 *
 * ---------------------------------------------------------------------------
 * 3. Instances and lifecycle
 * ---------------------------------------------------------------------------
 * One library can run as several *instances* at once (two exporters to two
 * collectors, say), each with its own configuration. Keep all state in the
 * instance; process-wide state only for what a library you embed truly
 * needs once per process (say which in a comment).
 *
 *     entry -> create -> on_event* / flush* -> stop (exactly once) -> destroy
 *
 *   create    Makes one instance. Gets its services table and its
 *             configuration (section 4). Returns 0 and the instance in
 *             *instance, or a negative ROCKY_E* code and one line in
 *             `errbuf` saying why, which the host prints prefixed with the
 *             file: "rocky: plugin ./x.so: <reason>; continuing without it".
 *             A failed create leaves nothing behind: no stop, no destroy.
 *             May start threads.
 *   on_event  Any number of times, from several threads at once (section 6).
 *   flush     Tries to deliver everything handed over so far by
 *             `deadline_mono_ns` and reports the outcome (section 8).
 *             Returns 0 when nothing is pending, ROCKY_ETIMEDOUT when the
 *             deadline passed with items pending, or another negative code.
 *   stop      Exactly once per created instance: final delivery by the
 *             deadline, then stop every thread of the instance. Returns like
 *             flush. When it returns ROCKY_ETIMEDOUT, threads of the
 *             instance may still be running (a call stuck in the network);
 *             destroy then abandons them safely. Any other return means no
 *             thread of the instance is left.
 *   destroy   Exactly once, after stop (also after a stop that failed or
 *             timed out). Frees the instance and never blocks. From the
 *             moment destroy returns, no thread of the instance may touch
 *             anything the host handed over (services table, info, config
 *             strings) or call a host service: an abandoned thread must
 *             check a flag under its own lock before each use, and exit
 *             quietly. The host never calls into the instance again.
 *
 * The host guarantees, on every path it controls (a normal end, a failed
 * run, an interrupted run, its own errors after create): stop then destroy
 * for every created instance, and it frees nothing it handed to an instance
 * (services table, host_ctx, info, config, names) before that instance's
 * destroy returned. It unloads the library (dlclose) only after every
 * instance of it was destroyed and none of their stops returned
 * ROCKY_ETIMEDOUT. One exception: an instance whose on_event has not
 * returned by the stop deadline is never stopped or destroyed (the host
 * cannot call stop concurrently with on_event); its memory is left to the
 * process exit and its telemetry is recorded as not delivered.
 *
 * Deadlines are absolute CLOCK_MONOTONIC times in nanoseconds (see
 * host->mono_ns), never durations, so that one budget can be shared by
 * several instances. A deadline in the past means "do not wait at all".
 *
 * ---------------------------------------------------------------------------
 * 4. Configuration and context
 * ---------------------------------------------------------------------------
 * Each instance gets a `struct rocky_instance_info`: its instance name, the
 * project directory and state store path of the host (NULL when the host
 * has none, e.g. a tool replaying a store), and its configuration as
 * key/value strings, in the order the user wrote them. In a project's
 * rocky.json:
 *
 *     "plugins": [
 *       "plugins/events_jsonl.so",
 *       {"path": "rocky_otel.so", "name": "otel_prod",
 *        "config": {"endpoint": "http://collector:4317", "timeout": 5000}}
 *     ]
 *
 * A plain path is an instance with no configuration, named after the
 * plugin's own `name`. Numbers and booleans arrive as their JSON text
 * ("5000", "true"). Keys are unique within an instance. Look one up with
 * host->config_get(host->host_ctx, "endpoint") or walk info->config. Which
 * keys exist is the plugin's to define: refuse an unknown key in create()
 * with a message naming it and listing the keys you know, so a typo is
 * never silently ignored. Everything in the info stays valid until destroy
 * returns.
 *
 * ---------------------------------------------------------------------------
 * 5. Events and their order
 * ---------------------------------------------------------------------------
 * For each run the host runs:
 *   - RUN_START first, then model events, then exactly one RUN_END, which
 *     arrives on every path the host controls (failure, interruption, a
 *     state store that failed) before stop is called.
 *   - Every model planned for the run (run->models_total of them) gets
 *     exactly one MODEL_END before RUN_END. A model that ran gets a
 *     MODEL_START before it, which happens-before its MODEL_END. A model
 *     that never started gets MODEL_END only, with status SKIPPED,
 *     started_*_ns 0 and `error` saying why (an upstream model did not
 *     succeed, or the run was interrupted first).
 *   - Since 2.1, a model that ran gets one STATEMENT_END per SQL statement
 *     the host executed for it (BEGIN, CREATE, DROP, a count query, COMMIT,
 *     a ROLLBACK or cleanup after a failure: every one, in the order they
 *     ran), each after the model's MODEL_START and before its MODEL_END, from
 *     the worker thread that ran it. `event->model` is the model (its
 *     span_id is the statement's parent span), `event->statement` the
 *     statement. A statement that was not executed at all (the host refused
 *     the model's SQL before running anything) gets none.
 *   - Events flagged ROCKY_EVENT_FLAG_REPLAY come from a stored run being
 *     sent again (`rocky trace --export`): original ids and wall times,
 *     mono times 0, same order rules. The state store keeps no statements,
 *     so a replay sends no STATEMENT_END.
 * Event types are stable and only appended; the host only sends a type to
 * plugins whose ABI minor is at least the type's "since" minor, and a
 * plugin returns 0 for any type it does not know.
 *
 * ---------------------------------------------------------------------------
 * 6. Threading and the hot path
 * ---------------------------------------------------------------------------
 *   - on_event is called concurrently from the host's worker threads, for
 *     different models of the same run, and for several instances.
 *   - on_event must return quickly: never wait on the network, on another
 *     thread, or on a lock held across such a wait. Copy what you need into
 *     a bounded queue and return. A short write to a local file is the one
 *     kind of I/O that fits (events_jsonl does it, and so reports accepted
 *     == delivered, section 8).
 *   - Every pointer inside an event (the event, the run, the model, strings,
 *     the dependency array) is valid only during the call.
 *   - create, flush, stop and destroy of all instances of a library are
 *     called from one host thread at a time, and never concurrently with
 *     on_event of the same instance (except as section 3 says for a stuck
 *     on_event).
 *   - Host services are thread-safe and callable from any thread of the
 *     instance between create and the return of destroy.
 *
 * ---------------------------------------------------------------------------
 * 7. Backpressure: ROCKY_EAGAIN
 * ---------------------------------------------------------------------------
 * on_event returning ROCKY_EAGAIN means "full, flush me": the event was NOT
 * taken and is not counted in any report. The host then either flushes the
 * instance and offers the same event again (a replay does, until the flush
 * deadline passes), or gives the event up and counts it as dropped for that
 * instance itself (a live run does: its workers never wait). So a plugin
 * never counts a refused event as dropped; the host does.
 *
 * ---------------------------------------------------------------------------
 * 8. Delivery reports
 * ---------------------------------------------------------------------------
 * flush and stop fill a `struct rocky_delivery_report` with what became of
 * the items (e.g. spans) the instance took in since create: accepted =
 * delivered + dropped + pending once the instance is quiescent. A plugin
 * that delivers synchronously (writes a file in on_event) reports accepted
 * == delivered. The host records a run's telemetry as delivered by an
 * instance only when it reports dropped == 0 and pending == 0 and the host
 * gave up no event to it. Write the report with
 * rocky_delivery_report_write() (below), never with a struct copy.
 *
 * ---------------------------------------------------------------------------
 * 9. Struct rules, for readers and writers
 * ---------------------------------------------------------------------------
 *   - Every struct that crosses the boundary starts with `struct_size`, set
 *     by whoever allocated it to sizeof() as *it* was compiled. Fields are
 *     only appended, under a "since 2.N" comment.
 *   - A reader checks ROCKY_STRUCT_HAS(ptr, type, field) before touching a
 *     field added after 2.0; a missing callback is NULL.
 *   - A writer filling a struct the other side allocated never writes past
 *     that side's struct_size (a newer plugin on an older host would
 *     otherwise write past the host's buffer) and leaves struct_size as it
 *     found it. rocky_delivery_report_write() does this for reports.
 *   - No padding anywhere, on LP64 and on ILP32 (where int64_t may be 4- or
 *     8-byte aligned): asserted at the end of each header.
 *   - The headers compile as C11 and as C++ (C++11 or later).
 *
 * ---------------------------------------------------------------------------
 * 10. Migrating from ABI 1.x
 * ---------------------------------------------------------------------------
 * A 1.x plugin is refused by a 2.x host ("plugin ABI 1.0 is too old for this
 * rocky (plugin ABI 2.1); port it ... and rebuild"). To port one:
 *   - init(host, &state, errbuf, size) becomes create(host, info, &instance,
 *     errbuf, size); move every static/global state into the instance, and
 *     read configuration from info/config_get instead of (or before) the
 *     environment.
 *   - shutdown (flush, stop threads, free, idempotent) splits into stop
 *     (flush and stop threads; called once) and destroy (free; never
 *     blocks). Drop any "repeat the last report" bookkeeping: there is no
 *     second call.
 *   - Report through rocky_delivery_report_write(), never *report = x.
 *   - Return ROCKY_EAGAIN only for an event you did NOT take, and stop
 *     counting it as dropped (the host counts it, section 7).
 *   - Expect MODEL_END for skipped models (status SKIPPED, no MODEL_START).
 *   - rocky_strerror()/rocky_err_name() are static inline now (or use
 *     host->strerror for codes newer than your header).
 *   - If you installed signal handlers or atexit hooks, do so only when
 *     host->capabilities lacks ROCKY_HOST_CAP_OWNS_EXIT.
 *
 * ---------------------------------------------------------------------------
 * 11. What each minor added
 * ---------------------------------------------------------------------------
 *   2.0  the ABI as described above.
 *   2.1  ROCKY_EVENT_STATEMENT_END with `struct rocky_statement` (one per SQL
 *        statement the host ran for a model), reached through
 *        `rocky_event.statement`, appended to struct rocky_event.
 *        Compatibility, both ways:
 *          - a 2.0 plugin on a 2.1 host loads and runs as before and never
 *            receives STATEMENT_END (the host checks the plugin's minor);
 *          - a 2.1 plugin on a 2.0 host never receives it either (that host
 *            does not know the type), and must not read `event->statement`
 *            unless ROCKY_STRUCT_HAS(event, struct rocky_event, statement)
 *            — or, simpler, only read it for STATEMENT_END events;
 *          - a reader of `struct rocky_statement` checks ROCKY_STRUCT_HAS
 *            before any field appended after 2.1.
 *        Nothing else changed: a 2.0 plugin needs no rebuild; rebuilding
 *        it against this header changes nothing it relies on.
 */
#ifndef ROCKY_PLUGIN_H
#define ROCKY_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#include "rocky/error.h"
#include "rocky/run_model.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ROCKY_PLUGIN_ABI_MAJOR 2
#define ROCKY_PLUGIN_ABI_MINOR 1
#define ROCKY_PLUGIN_ABI_MAKE(major, minor)                                    \
    ((uint32_t)(((uint32_t)(major) << 16) | ((uint32_t)(minor)&0xFFFFu)))
#define ROCKY_PLUGIN_ABI_VERSION                                               \
    ROCKY_PLUGIN_ABI_MAKE(ROCKY_PLUGIN_ABI_MAJOR, ROCKY_PLUGIN_ABI_MINOR)
#define ROCKY_PLUGIN_ABI_MAJOR_OF(version) ((uint32_t)(version) >> 16)
#define ROCKY_PLUGIN_ABI_MINOR_OF(version) ((uint32_t)(version)&0xFFFFu)

/* The name of the one symbol a plugin exports, for dlsym. */
#define ROCKY_PLUGIN_ENTRY_SYMBOL "rocky_plugin_entry"

#if defined(_WIN32)
#define ROCKY_PLUGIN_EXPORT __declspec(dllexport)
#else
#define ROCKY_PLUGIN_EXPORT __attribute__((visibility("default")))
#endif

/* Severity for host->log. */
enum rocky_log_level {
    ROCKY_LOG_DEBUG = 0,
    ROCKY_LOG_INFO = 1,
    ROCKY_LOG_WARN = 2,
    ROCKY_LOG_ERROR = 3
};

/* Bits of host->capabilities: what the host promises beyond the baseline. */
enum rocky_host_capability {
    /*
     * The host owns the process's exit: it handles SIGINT, SIGTERM, SIGHUP,
     * SIGQUIT and broken pipes itself, and on every exit path it controls
     * (return, exit(), those signals) it calls stop with its one exit
     * deadline before the process ends. A plugin seeing this bit must not
     * install signal handlers, atexit hooks or anything else process-wide
     * to get a final flush. Without it, a plugin that must flush at exit
     * may arm its own guard, chaining to the host's handlers.
     */
    ROCKY_HOST_CAP_OWNS_EXIT = 1u << 0
};

/* One configuration entry of an instance. Both strings are NUL-terminated
 * UTF-8 and never NULL. */
struct rocky_config_entry {
    const char *key;
    const char *value;
};

/*
 * Who an instance is and where it runs. Filled by the host; everything it
 * points to stays valid until the instance's destroy returned.
 */
struct rocky_instance_info {
    uint32_t struct_size;  /* sizeof(struct rocky_instance_info) of host */
    uint32_t config_count; /* entries in `config`                         */
    /* The instance's name: "name" from the project's plugin entry, else the
     * plugin's own `name`. Unique among the host's instances; the host uses
     * it in every message about the instance. Never NULL. */
    const char *instance_name;
    /* Path of the plugin file as the host resolved it. Never NULL. */
    const char *path;
    /* The project directory, or NULL when the host has no project. */
    const char *project_dir;
    /* The state store the host records runs in, or NULL. */
    const char *state_path;
    /* `config_count` entries, in the order they were written; keys unique.
     * NULL when config_count is 0. */
    const struct rocky_config_entry *config;
};

/*
 * Services the host offers to an instance. The host fills one table per
 * instance; it stays valid until the instance's destroy returned. Every
 * function is thread-safe and never blocks for long.
 */
struct rocky_host_api {
    uint32_t struct_size;  /* sizeof(struct rocky_host_api) of the host     */
    uint32_t abi_version;  /* ROCKY_PLUGIN_ABI_VERSION of the host          */
    uint32_t capabilities; /* enum rocky_host_capability bits               */
    uint32_t reserved;     /* zero                                          */
    const char *host_name; /* "rocky" for the reference runner           */
    const char *host_version; /* runner version string                      */
    void *host_ctx;           /* opaque; pass back to the services below    */
    /*
     * Log one message through the host's logger, which prefixes it with the
     * instance name and routes it to the runner's output. `message` is one
     * line without a trailing newline; the host escapes control characters.
     * Route the logs of libraries you embed through here too, so nothing
     * prints behind the runner's back.
     */
    void (*log)(void *host_ctx, int level, const char *message);
    /* The host's message and symbolic name ("EINVAL") for a ROCKY_E* code,
     * including codes newer than the plugin's header. Never NULL. */
    const char *(*strerror)(int code);
    const char *(*err_name)(int code);
    /* CLOCK_MONOTONIC and CLOCK_REALTIME now, in nanoseconds: the clocks
     * of every deadline and event time. */
    int64_t (*mono_ns)(void);
    int64_t (*wall_ns)(void);
    /* The value of configuration key `key` of this instance (exact,
     * case-sensitive match), or NULL when it is not set. The string stays
     * valid until destroy returned. */
    const char *(*config_get)(void *host_ctx, const char *key);
    /* Services added in later ABI minors go below, with a "since 2.N"
     * note; check ROCKY_STRUCT_HAS before calling them. */
};

/* Event types. Values are stable; new types are appended, each with the
 * minor that introduced it (rocky_event_type_since_minor). */
enum rocky_event_type {
    ROCKY_EVENT_RUN_START = 1,    /* `model` is NULL                (2.0)     */
    ROCKY_EVENT_MODEL_START = 2,  /* before the model is materialized (2.0)   */
    ROCKY_EVENT_MODEL_END = 3,    /* status, rows, bytes, error known (2.0)   */
    ROCKY_EVENT_RUN_END = 4,      /* `model` is NULL; run status final (2.0)  */
    ROCKY_EVENT_STATEMENT_END = 5 /* one SQL statement ran; `model` and
                                     `statement` set              (2.1)     */
};

/* The ABI minor that introduced event `type`, or -1 for a type this header
 * does not know. Hosts send a type only to plugins whose minor is >= it. */
static inline int rocky_event_type_since_minor(uint32_t type)
{
    switch (type) {
    case ROCKY_EVENT_RUN_START:
    case ROCKY_EVENT_MODEL_START:
    case ROCKY_EVENT_MODEL_END:
    case ROCKY_EVENT_RUN_END: return 0;
    case ROCKY_EVENT_STATEMENT_END: return 1;
    default: return -1;
    }
}

/*
 * What kind of SQL a statement is: upstream rocky's `rocky.statement.kind`
 * classification, by the statement's first keyword. Values are stable.
 */
enum rocky_statement_kind {
    ROCKY_STATEMENT_OTHER = 0, /* anything else: BEGIN, COMMIT, ROLLBACK, ... */
    ROCKY_STATEMENT_QUERY = 1, /* SELECT, WITH, SHOW, DESCRIBE, EXPLAIN      */
    ROCKY_STATEMENT_DML = 2,   /* INSERT, UPDATE, DELETE, MERGE, COPY,
                                  TRUNCATE                                   */
    ROCKY_STATEMENT_DDL = 3    /* CREATE, ALTER, DROP, GRANT, REVOKE         */
};

/* "other", "query", "dml", "ddl" (upstream's values); "other" for a value
 * this header does not know. */
static inline const char *rocky_statement_kind_name(uint32_t kind)
{
    switch (kind) {
    case ROCKY_STATEMENT_QUERY: return "query";
    case ROCKY_STATEMENT_DML: return "dml";
    case ROCKY_STATEMENT_DDL: return "ddl";
    default: return "other";
    }
}

/*
 * One SQL statement the host executed for a model (since ABI 2.1), carried
 * by ROCKY_EVENT_STATEMENT_END. Filled by the host; it and everything it
 * points to are valid only during on_event. The SQL text itself is not
 * passed (it can hold literals a user would not export).
 */
struct rocky_statement {
    uint32_t struct_size; /* sizeof(struct rocky_statement) of the host    */
    uint32_t kind;        /* enum rocky_statement_kind                      */
    int64_t started_wall_ns;  /* first attempt started (CLOCK_REALTIME)      */
    int64_t finished_wall_ns; /* last attempt ended                          */
    int64_t started_mono_ns;  /* same instants, CLOCK_MONOTONIC              */
    int64_t finished_mono_ns;
    int64_t rows; /* rows it inserted, updated or deleted; -1 not a DML
                     statement or not known                                 */
    /* The table the statement creates, drops or writes, as
     * "schema.table" ("main.orders", "temp.rocky_tmp_orders"), or NULL
     * (BEGIN, COMMIT, ...). */
    const char *target;
    /* The adapter's error text when it failed, else NULL. */
    const char *error;
    uint32_t status;       /* ROCKY_MODEL_SUCCESS, _FAILED or _INTERRUPTED    */
    uint32_t attempt;      /* 1, or the attempt that ended it when the host
                              retried it (a transient error)                */
    uint32_t max_attempts; /* attempts the host would have made at most      */
    uint32_t sequence;     /* 0 for the model execution's first statement,
                              then 1, 2, ... in the order they ran          */
    uint8_t span_id[ROCKY_SPAN_ID_SIZE]; /* chosen by the host, unique in the
                                            run; parent: the model's span */
    /* Fields added in later ABI minors go below, with a "since 2.N" note;
     * keep the pointer count even so that ILP32 has no tail padding. */
};

/* Event flags. */
enum rocky_event_flags {
    /* The event is a replay of a stored run (`rocky trace --export`), not a
     * live one: original ids and wall times, mono times 0. Exporters send
     * spans as usual but should not count it again in live metrics. */
    ROCKY_EVENT_FLAG_REPLAY = 1u << 0
};

/*
 * One event. Everything it points to is valid only during on_event.
 */
struct rocky_event {
    uint32_t struct_size; /* sizeof(struct rocky_event) of the host        */
    uint32_t type;        /* enum rocky_event_type                         */
    uint32_t flags;       /* enum rocky_event_flags                        */
    uint32_t reserved;    /* zero                                          */
    int64_t wall_ns;      /* when the event happened (CLOCK_REALTIME)      */
    int64_t mono_ns;      /* same instant, CLOCK_MONOTONIC; 0 on replay    */
    const struct rocky_run *run;          /* never NULL                    */
    const struct rocky_model_exec *model; /* MODEL_* and STATEMENT_END     */
    /* since 2.1 ------------------------------------------------------------
     * STATEMENT_END only, else NULL. A host older than 2.1 has no such
     * field: check ROCKY_STRUCT_HAS(event, struct rocky_event, statement)
     * (or read it for STATEMENT_END only, which such a host never sends). */
    const struct rocky_statement *statement;
    const void *reserved_ptr; /* NULL; keeps ILP32 free of tail padding    */
    /* Fields added in later ABI minors go below, with a "since 2.N" note. */
};

/*
 * What became of the items (e.g. spans) an instance was handed, counted
 * since create (section 8). Allocated by the host, written by the plugin.
 */
struct rocky_delivery_report {
    uint32_t struct_size; /* set by the host (the reader) before the call  */
    uint32_t reserved;
    uint64_t accepted;  /* items taken in by on_event                       */
    uint64_t delivered; /* confirmed delivered (e.g. acknowledged by the
                           collector)                                      */
    uint64_t dropped;   /* given up on for good (rejected, deadline passed
                           at stop)                                        */
    uint64_t pending;   /* still queued or in flight when the call returned */
};

/*
 * Write `src` into the host's report `dst` (may be NULL): only the fields
 * that fit in dst->struct_size, which is left unchanged. Use it instead of
 * a struct copy, so a plugin built against a newer header never writes past
 * an older host's buffer.
 */
static inline void
rocky_delivery_report_write(struct rocky_delivery_report *dst,
                            const struct rocky_delivery_report *src)
{
    if (dst == NULL || src == NULL)
        return;
    if (ROCKY_STRUCT_HAS(dst, struct rocky_delivery_report, accepted))
        dst->accepted = src->accepted;
    if (ROCKY_STRUCT_HAS(dst, struct rocky_delivery_report, delivered))
        dst->delivered = src->delivered;
    if (ROCKY_STRUCT_HAS(dst, struct rocky_delivery_report, dropped))
        dst->dropped = src->dropped;
    if (ROCKY_STRUCT_HAS(dst, struct rocky_delivery_report, pending))
        dst->pending = src->pending;
}

/*
 * The plugin's description and callbacks, returned by the entry point.
 * `instance` below is what create stored in *instance.
 */
struct rocky_plugin {
    uint32_t struct_size; /* sizeof(struct rocky_plugin) of the plugin      */
    uint32_t abi_version; /* ROCKY_PLUGIN_ABI_VERSION the plugin was built
                             against                                        */
    const char *name;     /* short identifier, e.g. "rocky_otel"; not NULL  */
    const char *version;  /* plugin version, e.g. "0.2.0"; not NULL        */
    const char *description; /* one line, or NULL                          */

    /* Make one instance (section 3). `host` and `info` stay valid until
     * destroy returned. On failure return a negative code and write one
     * line into `errbuf` (`errbuf_size` bytes, NUL-terminated). Required. */
    int (*create)(const struct rocky_host_api *host,
                  const struct rocky_instance_info *info, void **instance,
                  char *errbuf, size_t errbuf_size);

    /* Observe one event (sections 5 to 7). May be NULL. */
    int (*on_event)(void *instance, const struct rocky_event *event);

    /* Deliver what was handed over so far, by the deadline (section 3).
     * `report` may be NULL. May be NULL (nothing to flush). */
    int (*flush)(void *instance, int64_t deadline_mono_ns,
                 struct rocky_delivery_report *report);

    /* Final delivery by the deadline, then stop the instance's threads.
     * Called exactly once. `report` may be NULL. May be NULL. */
    int (*stop)(void *instance, int64_t deadline_mono_ns,
                struct rocky_delivery_report *report);

    /* Free the instance; never blocks (section 3). Called exactly once,
     * after stop. Required. */
    void (*destroy)(void *instance);

    /* Fields added in later ABI minors go below, with a "since 2.N" note. */
};

/* The prototype of the entry point, for hosts (dlsym) and for plugins
 * (declare yours with ROCKY_PLUGIN_EXPORT). */
typedef const struct rocky_plugin *(*rocky_plugin_entry_fn)(
    const struct rocky_host_api *host);

/* The entry point every plugin defines (and hosts resolve with dlsym). */
ROCKY_PLUGIN_EXPORT const struct rocky_plugin *
rocky_plugin_entry(const struct rocky_host_api *host);

/* Layout: no padding on any ABI (each size is the sum of its fields), and
 * the LP64 sizes pinned. */
ROCKY_ABI_ASSERT(sizeof(struct rocky_config_entry) == 2 * sizeof(void *),
                 "ABI: rocky_config_entry has no padding");
ROCKY_ABI_ASSERT(sizeof(struct rocky_instance_info) == 8 + 5 * sizeof(void *),
                 "ABI: rocky_instance_info has no padding");
ROCKY_ABI_ASSERT(sizeof(struct rocky_host_api) == 16 + 9 * sizeof(void *),
                 "ABI: rocky_host_api has no padding");
ROCKY_ABI_ASSERT(sizeof(struct rocky_event) == 32 + 4 * sizeof(void *),
                 "ABI: rocky_event has no padding");
ROCKY_ABI_ASSERT(sizeof(struct rocky_statement) ==
                     8 + 5 * 8 + 2 * sizeof(void *) + 4 * 4 + 8,
                 "ABI: rocky_statement has no padding");
ROCKY_ABI_ASSERT(offsetof(struct rocky_event, statement) ==
                     32 + 2 * sizeof(void *),
                 "ABI 2.1: rocky_event.statement is appended after 2.0");
ROCKY_ABI_ASSERT(sizeof(struct rocky_delivery_report) == 40,
                 "ABI: rocky_delivery_report has no padding");
ROCKY_ABI_ASSERT(sizeof(struct rocky_plugin) == 8 + 8 * sizeof(void *),
                 "ABI: rocky_plugin has no padding");
#if defined(__LP64__) || defined(_LP64)
ROCKY_ABI_ASSERT(sizeof(struct rocky_instance_info) == 48, "ABI: append only");
ROCKY_ABI_ASSERT(sizeof(struct rocky_host_api) == 88, "ABI: append only");
ROCKY_ABI_ASSERT(sizeof(struct rocky_event) == 64, "ABI: append only");
ROCKY_ABI_ASSERT(sizeof(struct rocky_statement) == 88, "ABI: append only");
ROCKY_ABI_ASSERT(sizeof(struct rocky_plugin) == 72, "ABI: append only");
#endif

#ifdef __cplusplus
}
#endif

#endif /* ROCKY_PLUGIN_H */
