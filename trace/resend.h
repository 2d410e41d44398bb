/*
 * resend.h — `rocky trace --export` / `--export-pending`: send stored runs
 * again, either through plugins named by hand (--plugin, ROCKY_PLUGINS) or
 * through the plugin instances each run was recorded with (lib/store.h,
 * "Delivery"), created again from the store: same library, instance name,
 * project directory and configuration. Settings a plugin took from the
 * environment are not stored: give the re-send the same environment.
 *
 * Outcome bookkeeping, in the store:
 *   - named by hand: the run is marked delivered (every instance row too)
 *     when the plugins confirm it;
 *   - recorded: each instance's row is confirmed on its own, and the run is
 *     delivered once all its rows are. A pending run is re-sent only
 *     through the instances that have not confirmed; `--export RUN` of a run
 *     that every instance confirmed sends it through all of them again.
 * Every message names the run and, for recorded instances, the instance.
 *
 * One thread; messages go to stdout (what was delivered) and stderr (what
 * was not, each with a hint saying what to do).
 */
#ifndef ROCKY_TRACE_RESEND_H
#define ROCKY_TRACE_RESEND_H

#include "plugin_host.h"
#include "run_record.h"
#include "store.h"

/* Replay `rec` through `set` (plugins named by hand) and mark the whole run
 * delivered when they confirm. Returns 0 when confirmed, ROCKY_EREFUSED
 * when the run is still running (its own runner delivers it), another
 * ROCKY_E* code when not delivered (said on stderr). */
int rocky_resend_through(struct rocky_plugin_set *set,
                         struct rocky_store *store,
                         const struct rocky_run_record *rec);

/* Instances created again from the store, kept across runs: most pending
 * runs share their instances, and an exporter is expensive to start. */
struct rocky_resend_cache;

/* `state_path` (copied) is what the instances are told. NULL when out of
 * memory. */
struct rocky_resend_cache *rocky_resend_cache_new(const char *state_path);

/* Stop every instance (by the export deadline, or at once when
 * `abandon`: what failed runs left queued is not worth waiting for), destroy
 * them and free the cache. NULL ok. */
void rocky_resend_cache_free(struct rocky_resend_cache *cache, int abandon);

/* Replay `rec` through the instances it was recorded with that did not
 * confirm (all of them when `again` and every one did) and record each
 * one's outcome. Returns 0 when the run is now confirmed, ROCKY_ENOTFOUND
 * when the store has no instances for the run (recorded before rocky kept
 * them, or without plugins: name them with --plugin), ROCKY_EREFUSED when
 * it is still running, ROCKY_ECORRUPT when an instance could not be
 * created again (its library is gone or refuses its configuration: trying
 * the next runs costs nothing, they fail at once), another ROCKY_E* code
 * when an instance did not confirm (said on stderr). */
int rocky_resend_recorded(struct rocky_resend_cache *cache,
                          struct rocky_store *store,
                          const struct rocky_run_record *rec, int again);

#endif
