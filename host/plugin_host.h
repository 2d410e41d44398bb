/*
 * plugin_host.h — the runner's side of the plugin ABI: load plugins, fan
 * events out to all of them, flush and shut them down.
 *
 * Failure policy: a plugin never fails a run. Every load failure is logged
 * as one line naming the file and the reason, and the plugin is left out.
 * A plugin callback that returns an error is reported once per plugin and
 * callback kind, then silently tolerated.
 *
 * Threading: load/flush/shutdown/free from one (the main) thread;
 * rocky_plugin_set_emit from any number of threads at once, between the last
 * load and shutdown. emit never takes a lock: it only counts itself in and
 * out so that shutdown can wait for in-flight callbacks to return before
 * the plugins are told to stop.
 */
#ifndef ROCKY_HOST_PLUGIN_HOST_H
#define ROCKY_HOST_PLUGIN_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "rocky/plugin.h"

struct rocky_plugin_set; /* opaque */

/* Create an empty set. `host_version` is copied. Returns 0 or ROCKY_ENOMEM. */
int rocky_plugin_set_new(const char *host_version,
                         struct rocky_plugin_set **out);

/* Load, negotiate and init the plugin at `path`. On failure logs one line
 * ("rocky: plugin <path>: <reason>; continuing without it") and returns:
 * ROCKY_ENOTFOUND (no such file), ROCKY_ECORRUPT (not a loadable shared
 * object / no entry symbol / entry returned NULL), ROCKY_EVERSION (ABI major
 * differs; both versions named), ROCKY_EREFUSED (init failed; its text is
 * logged), ROCKY_EINVAL (bad descriptor). The set is unchanged then. */
int rocky_plugin_set_load(struct rocky_plugin_set *set, const char *path);

/* Load every path of a colon-separated list (the ROCKY_PLUGINS format) with
 * rocky_plugin_set_load; empty entries are skipped, NULL or "" loads
 * nothing. Returns how many paths were tried (loaded or not). */
size_t rocky_plugin_set_load_list(struct rocky_plugin_set *set,
                                  const char *list);

/* Number of plugins loaded and initialised. */
size_t rocky_plugin_set_count(const struct rocky_plugin_set *set);

/* Name of the i-th loaded plugin (as it reported itself). */
const char *rocky_plugin_set_name(const struct rocky_plugin_set *set,
                                  size_t index);

/* Build an event of `type` (enum rocky_event_type) with `flags` (enum
 * rocky_event_flags), the given run, model (NULL for run events) and times,
 * and emit it: the one place the host fills a struct rocky_event. */
void rocky_plugin_set_emit_new(struct rocky_plugin_set *set, uint32_t type,
                               uint32_t flags, const struct rocky_run *run,
                               const struct rocky_model_exec *model,
                               int64_t wall_ns, int64_t mono_ns);

/* Deliver `event` to every plugin. Thread-safe, lock-free. A no-op after
 * shutdown started. */
void rocky_plugin_set_emit(struct rocky_plugin_set *set,
                           const struct rocky_event *event);

/* Ask every plugin to flush by `deadline_mono_ns`; `total` (may be NULL)
 * receives the sum of their reports. Returns 0 when every plugin reported
 * nothing pending and nothing dropped, ROCKY_ETIMEDOUT when something was
 * still pending, ROCKY_EIO when something was dropped or a plugin failed. */
int rocky_plugin_set_flush(struct rocky_plugin_set *set,
                           int64_t deadline_mono_ns,
                           struct rocky_delivery_report *total);

/* Stop emitting, wait (until the deadline) for in-flight emits to return,
 * then shut every plugin down by `deadline_mono_ns`. Same result and
 * `total` as flush. Idempotent: later calls return the first result and
 * report. Plugins are not dlclosed here (see rocky_plugin_set_free). */
int rocky_plugin_set_shutdown(struct rocky_plugin_set *set,
                              int64_t deadline_mono_ns,
                              struct rocky_delivery_report *total);

/* Shut down (immediate deadline) if not done, dlclose the plugins whose
 * shutdown returned (so they have no live thread), free the set. NULL ok. */
void rocky_plugin_set_free(struct rocky_plugin_set *set);

#endif
