/*
 * plugin_host.h — the host's side of the plugin ABI (rocky/plugin.h): load
 * plugin libraries, create their instances, fan events out, flush, stop
 * and destroy them. Shared by the runner (`rocky run`) and the trace tool
 * (`rocky trace --export`), which is why it lives in lib/ and not host/.
 *
 * Failure policy: a plugin never fails a run. Every load failure is logged
 * as one line naming the file and the reason, and the instance is left
 * out. A callback that returns an error is reported once per instance and
 * callback kind, then tolerated.
 *
 * Threading: new/load/flush/stop/free from one (the main) thread;
 * rocky_plugin_set_emit from any number of threads at once, between the
 * last load and stop. emit takes no lock: it counts itself in and out so
 * that stop can wait for in-flight callbacks before stopping instances.
 *
 * Lifetime (the ABI's promise, kept here): every created instance is
 * stopped exactly once and destroyed exactly once, destroy also after a
 * stop that timed out; its services table, info and config strings are
 * freed only after its destroy returned; a library is dlclosed only when
 * all its instances were destroyed and none of their stops timed out (a
 * thread of it may still run).
 */
#ifndef ROCKY_PLUGIN_HOST_H
#define ROCKY_PLUGIN_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "rocky/plugin.h"

struct rocky_plugin_set; /* opaque */

/* What to load: one instance of the plugin at `path`. */
struct rocky_plugin_spec {
    const char *path; /* required; a name without '/' means ./name */
    const char *name; /* instance name; NULL: the plugin's own name */
    const struct rocky_config_entry *config; /* copied; may be NULL */
    size_t config_count;
};

/* Create an empty set. `host_version` is copied. Returns 0 or ROCKY_ENOMEM. */
int rocky_plugin_set_new(const char *host_version,
                         struct rocky_plugin_set **out);

/* What instances created from now on are told: the project directory and
 * state store path (copied; NULL: none) and the host's capability bits
 * (enum rocky_host_capability). Call before loading. Returns 0 or
 * ROCKY_ENOMEM. */
int rocky_plugin_set_context(struct rocky_plugin_set *set,
                             const char *project_dir, const char *state_path,
                             uint32_t capabilities);

/* Load (or reuse, when already loaded) the library of `spec->path`,
 * negotiate, and create one instance. On failure logs one line
 * ("rocky: plugin <path>: <reason>; continuing without it") and returns:
 * ROCKY_ENOTFOUND (no such file), ROCKY_ECORRUPT (not a loadable shared
 * object / no entry symbol / entry returned NULL), ROCKY_EVERSION (ABI major
 * differs; both versions named), ROCKY_EEXIST (an instance of that name is
 * already loaded), ROCKY_EREFUSED (create failed; its text is logged),
 * ROCKY_EINVAL (bad descriptor or spec). The set is unchanged then. */
int rocky_plugin_set_load_spec(struct rocky_plugin_set *set,
                               const struct rocky_plugin_spec *spec);

/* rocky_plugin_set_load_spec with a path alone (no name, no config). */
int rocky_plugin_set_load(struct rocky_plugin_set *set, const char *path);

/* Load every path of a colon-separated list (the ROCKY_PLUGINS format) with
 * rocky_plugin_set_load; empty entries are skipped, NULL or "" loads
 * nothing. Returns how many paths were tried (loaded or not). */
size_t rocky_plugin_set_load_list(struct rocky_plugin_set *set,
                                  const char *list);

/* Number of instances created. */
size_t rocky_plugin_set_count(const struct rocky_plugin_set *set);

/* Name of the i-th instance (see rocky_instance_info.instance_name). */
const char *rocky_plugin_set_name(const struct rocky_plugin_set *set,
                                  size_t index);

/* File of the i-th instance's library, as loaded ("./x.so" for "x.so";
 * a rocky.json path already joined to the project directory). Valid until
 * rocky_plugin_set_free. NULL when out of range. */
const char *rocky_plugin_set_path(const struct rocky_plugin_set *set,
                                  size_t index);

/* The i-th instance's configuration as it was loaded: sets *entries (NULL
 * when none, or out of range) and returns the count. Valid until
 * rocky_plugin_set_free. */
size_t rocky_plugin_set_config(const struct rocky_plugin_set *set, size_t index,
                               const struct rocky_config_entry **entries);

/* What became of the i-th instance's telemetry at stop: `report` receives
 * its stop report (events the host gave up on counted as dropped) and the
 * result is 0 when it confirmed everything, ROCKY_ETIMEDOUT when something
 * is still pending (or its stop never ran because an event callback hung),
 * ROCKY_EIO when something was dropped or its stop failed, ROCKY_EINVAL
 * before rocky_plugin_set_stop or out of range. The set's result is the
 * fold of these. */
int rocky_plugin_set_stop_outcome(const struct rocky_plugin_set *set,
                                  size_t index,
                                  struct rocky_delivery_report *report);

/* Fill `ev` as an event of `type` (enum rocky_event_type) with `flags`
 * (enum rocky_event_flags), the given run, model (NULL for run events) and
 * times: the one place the host fills a struct rocky_event. */
void rocky_plugin_event_init(struct rocky_event *ev, uint32_t type,
                             uint32_t flags, const struct rocky_run *run,
                             const struct rocky_model_exec *model,
                             int64_t wall_ns, int64_t mono_ns);

/* rocky_plugin_event_init, then rocky_plugin_set_emit. */
void rocky_plugin_set_emit_new(struct rocky_plugin_set *set, uint32_t type,
                               uint32_t flags, const struct rocky_run *run,
                               const struct rocky_model_exec *model,
                               int64_t wall_ns, int64_t mono_ns);

/* A STATEMENT_END (ABI 2.1) of `statement`, run for `model` of `run`, at
 * the statement's end times. Only instances of minor >= 1 get it. Same
 * threading as rocky_plugin_set_emit. */
void rocky_plugin_set_emit_statement(struct rocky_plugin_set *set,
                                     const struct rocky_run *run,
                                     const struct rocky_model_exec *model,
                                     const struct rocky_statement *statement);

/* Deliver `event` to every instance whose ABI minor knows its type.
 * Thread-safe, lock-free, never waits: an instance that answers
 * ROCKY_EAGAIN has the event counted as dropped for it by the host. A no-op
 * once stop started. */
void rocky_plugin_set_emit(struct rocky_plugin_set *set,
                           const struct rocky_event *event);

/* Like rocky_plugin_set_emit, for one thread that can wait (a replay): an
 * instance that answers ROCKY_EAGAIN is flushed and offered the event
 * again, until `deadline_mono_ns`; then the event is counted as dropped for
 * it. Returns 0 when every instance took the event (or refused it for good
 * with another error), ROCKY_ETIMEDOUT when one stayed full until the
 * deadline. Not concurrent with flush/stop/other emits. */
int rocky_plugin_set_emit_paced(struct rocky_plugin_set *set,
                                const struct rocky_event *event,
                                int64_t deadline_mono_ns);

/* Ask every instance to flush by `deadline_mono_ns`; `total` (may be NULL)
 * receives the sum of their reports, events the host gave up counted as
 * dropped. Returns 0 when nothing is pending or dropped, ROCKY_ETIMEDOUT
 * when something is still pending, ROCKY_EIO when something was dropped or
 * an instance failed. After stop: the stop outcome. */
int rocky_plugin_set_flush(struct rocky_plugin_set *set,
                           int64_t deadline_mono_ns,
                           struct rocky_delivery_report *total);

/* Stop emitting, wait (until the deadline) for in-flight emits to return,
 * then stop every instance by `deadline_mono_ns`. Same result and `total`
 * as flush. Runs once: later calls return the first result and report.
 * Instances are destroyed by rocky_plugin_set_free. */
int rocky_plugin_set_stop(struct rocky_plugin_set *set,
                          int64_t deadline_mono_ns,
                          struct rocky_delivery_report *total);

/* Stop (immediate deadline) if not done, destroy every stopped instance,
 * then free what they were given, dlclose the libraries it is safe to
 * unload, free the set. NULL ok. */
void rocky_plugin_set_free(struct rocky_plugin_set *set);

#endif
