/*
 * rocky/plugin.h — the rocky plugin ABI, version 1.0.
 *
 * A rocky plugin is a shared object that a rocky runner loads with
 * dlopen(RTLD_NOW | RTLD_LOCAL) at start-up. It observes runs: it is told when
 * a run starts, when each model starts and ends, and when the run ends, and
 * may do anything with that (export telemetry, write a log, ...). This header
 * is the whole contract; you can write a plugin from it alone. A complete
 * small example is plugin/examples/events_jsonl.c.
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
 * functions). Build the rest of the plugin with -fvisibility=hidden so that
 * nothing else leaks into the host's symbol space.
 *
 * The entry function must not start threads, open sockets or allocate
 * per-run resources: it only describes the plugin. It returns a pointer to a
 * `struct rocky_plugin` that stays valid until the plugin is unloaded
 * (normally a `static const`), or NULL to refuse loading (the host then
 * reports "entry returned NULL").
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
 *     message naming both versions. Within one MAJOR, structs only grow by
 *     appending fields, so either side can be newer: a reader checks
 *     ROCKY_STRUCT_HAS() (rocky/run_model.h) before touching a field that
 *     was added after ABI 1.0, and treats a missing callback as NULL.
 *   - A plugin that needs a host service added in a later minor checks
 *     host->struct_size (or host->abi_version) and either degrades or refuses
 *     in init() with a clear message.
 *
 * ---------------------------------------------------------------------------
 * 3. Lifecycle
 * ---------------------------------------------------------------------------
 *     entry -> init -> on_event* -> flush* -> shutdown [-> shutdown ...]
 *
 *   init      once, on the host's main thread, before any event. Returns 0 or
 *             a negative ROCKY_E* code; on failure it writes one line saying
 *             why into `errbuf` (the host prints it prefixed with the file
 *             name: "rocky: plugin ./x.so: <reason>") and the run goes on
 *             without the plugin. init may start threads.
 *   on_event  any number of times, from several threads at once.
 *   flush     on one thread, while no other flush/shutdown is running. Tries
 *             to deliver everything handed over so far, by `deadline_mono_ns`
 *             (an absolute CLOCK_MONOTONIC time), and reports the outcome.
 *   shutdown  like flush, then releases every resource: when it returns, the
 *             plugin has no thread left running and the host may dlclose it.
 *             Must be idempotent: a second call returns 0 and repeats the
 *             last report. After shutdown the host calls nothing but
 *             shutdown again.
 *   Deadlines are absolute monotonic times, never durations, so that one
 *   budget can be shared by several plugins. A deadline in the past means
 *   "do not wait at all".
 *
 * ---------------------------------------------------------------------------
 * 4. Threading and the hot path
 * ---------------------------------------------------------------------------
 *   - on_event is called concurrently from the runner's worker threads, for
 *     different models of the same run. For one model execution, MODEL_START
 *     happens-before MODEL_END; RUN_START happens-before every model event of
 *     the run, which all happen-before RUN_END.
 *   - on_event must return quickly and never block on I/O or on a lock held
 *     across I/O: copy what you need into a bounded queue and return. If the
 *     queue is full, drop, count the drop, and return ROCKY_EAGAIN.
 *   - Every pointer inside an event (the event itself, the run, the model,
 *     strings, the dependency array) is valid only during the call.
 *   - The host never calls on_event concurrently with init or shutdown.
 *
 * ---------------------------------------------------------------------------
 * 5. Errors
 * ---------------------------------------------------------------------------
 * Every callback returns 0 or a negative code from rocky/error.h. A plugin
 * never fails a run: the host logs the first error of each plugin once
 * ("plugin X: on_event failed: ...") and keeps calling it.
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

#define ROCKY_PLUGIN_ABI_MAJOR 1
#define ROCKY_PLUGIN_ABI_MINOR 0
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

/*
 * Services the host offers to a plugin. The host fills one table per loaded
 * plugin; it stays valid until after the plugin's shutdown returned.
 */
struct rocky_host_api {
    uint32_t struct_size;  /* sizeof(struct rocky_host_api) of the host     */
    uint32_t abi_version;  /* ROCKY_PLUGIN_ABI_VERSION of the host          */
    const char *host_name; /* "rocky" for the reference runner          */
    const char *host_version; /* runner version string                      */
    void *host_ctx;           /* opaque; pass back to the services below    */
    /*
     * Log one message through the host's logger (which prefixes it with the
     * plugin's name and routes it to the runner's output). `message` is a
     * single line without a trailing newline. Thread-safe; callable from any
     * plugin thread between init and the end of shutdown. Never blocks for
     * long. Plugins route the logs of libraries they embed through here too,
     * so nothing prints behind the runner's back.
     */
    void (*log)(void *host_ctx, int level, const char *message);
    /* Services added in later ABI minors go below, with a "since 1.N"
     * note; check host->struct_size before calling them. */
};

/* Event types. Values are stable; new types are appended. A plugin ignores
 * (returns 0 for) types it does not know. */
enum rocky_event_type {
    ROCKY_EVENT_RUN_START = 1,   /* `model` is NULL                          */
    ROCKY_EVENT_MODEL_START = 2, /* before the model is materialized         */
    ROCKY_EVENT_MODEL_END = 3,   /* after: status, rows, bytes, error known  */
    ROCKY_EVENT_RUN_END = 4      /* `model` is NULL; run status final        */
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
    const struct rocky_model_exec *model; /* MODEL_* events only           */
    /* Fields added in later ABI minors go below. */
};

/*
 * What became of the items (e.g. spans) a plugin was handed, counted since
 * init. Filled by flush and shutdown. `accepted` = `delivered` + `dropped` +
 * `pending` once the plugin is quiescent. A plugin that delivers
 * synchronously (writes a file in on_event) reports accepted == delivered.
 * The host records a run's telemetry as fully delivered only when every
 * plugin reports dropped == 0 and pending == 0.
 */
struct rocky_delivery_report {
    uint32_t struct_size; /* set by the host before the call               */
    uint32_t reserved;
    uint64_t accepted;  /* items taken in by on_event                       */
    uint64_t delivered; /* confirmed delivered (e.g. acknowledged by the
                           collector)                                      */
    uint64_t dropped;   /* given up on for good (queue full, rejected,
                           deadline passed at shutdown)                    */
    uint64_t pending;   /* still queued or in flight when the call returned */
};

/*
 * The plugin's description and callbacks, returned by the entry point.
 */
struct rocky_plugin {
    uint32_t struct_size; /* sizeof(struct rocky_plugin) of the plugin      */
    uint32_t abi_version; /* ROCKY_PLUGIN_ABI_VERSION the plugin was built
                             against                                        */
    const char *name;     /* short identifier, e.g. "rocky_otel"; not NULL  */
    const char *version;  /* plugin version, e.g. "0.1.0"; not NULL        */
    const char *description; /* one line, or NULL                          */

    /* Create the plugin's state. `host` stays valid until shutdown returned.
     * On failure return a negative code and write one line into `errbuf`
     * (`errbuf_size` bytes, NUL-terminated). */
    int (*init)(const struct rocky_host_api *host, void **state, char *errbuf,
                size_t errbuf_size);

    /* Observe one event. See "Threading and the hot path" above. */
    int (*on_event)(void *state, const struct rocky_event *event);

    /* Deliver what was handed over so far, by the deadline. `report` may be
     * NULL. Returns 0 when everything accepted was delivered or dropped (none
     * pending), ROCKY_ETIMEDOUT when the deadline passed with items pending,
     * or another negative code. May be NULL (nothing to flush). */
    int (*flush)(void *state, int64_t deadline_mono_ns,
                 struct rocky_delivery_report *report);

    /* Flush by the deadline, then stop every thread and free the state.
     * Idempotent (see "Lifecycle"). May be NULL. */
    int (*shutdown)(void *state, int64_t deadline_mono_ns,
                    struct rocky_delivery_report *report);

    /* Fields added in later ABI minors go below, with a "since 1.N" note. */
};

/* The prototype of the entry point, for hosts (dlsym) and for plugins
 * (declare yours with ROCKY_PLUGIN_EXPORT). */
typedef const struct rocky_plugin *(*rocky_plugin_entry_fn)(
    const struct rocky_host_api *host);

/* The entry point every plugin defines (and hosts resolve with dlsym). */
ROCKY_PLUGIN_EXPORT const struct rocky_plugin *
rocky_plugin_entry(const struct rocky_host_api *host);

#if defined(__LP64__) || defined(_LP64)
_Static_assert(sizeof(struct rocky_host_api) == 40, "ABI: append only");
_Static_assert(sizeof(struct rocky_event) == 48, "ABI: append only");
_Static_assert(sizeof(struct rocky_delivery_report) == 40, "ABI: append only");
_Static_assert(sizeof(struct rocky_plugin) == 64, "ABI: append only");
#endif

#ifdef __cplusplus
}
#endif

#endif /* ROCKY_PLUGIN_H */
