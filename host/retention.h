/*
 * retention.h — the project's run retention ("retention" in rocky.json)
 * and applying it at the end of a run.
 *
 *   "retention": {"keep_runs": N, "keep_days": D}
 *
 * A run is kept when either rule keeps it: one of the N newest, or
 * started less than D days ago (rocky_store_prune). Both are integers
 * >= 1; each may be left out (unset); any other key is refused.
 * Upstream's ROCKY_TRACE_RETAIN_RUNS is not read: upstream uses it for its
 * JSONL span files, not for run history.
 */
#ifndef ROCKY_HOST_RETENTION_H
#define ROCKY_HOST_RETENTION_H

#include <stddef.h>
#include <stdint.h>

struct cJSON;
struct rocky_store;

struct rocky_retention {
    uint32_t keep_runs; /* 0: unset */
    uint32_t keep_days; /* 0: unset */
};

/* Parse rocky.json's "retention" value into *out. 0, or ROCKY_EINVAL with
 * a message naming the key and what it must be. */
int rocky_retention_parse(const struct cJSON *value,
                          struct rocky_retention *out, char *err,
                          size_t err_size);

/* At the end of a run (recorded, telemetry flushed): prune by `policy`,
 * never `run_id` (the run just made), never runs awaiting delivery, never
 * a full VACUUM (that is `rocky runs --prune`'s, on demand). Says on stderr
 * what went; a failure is a warning and never changes the run's outcome.
 * No-op when no rule is set. */
void rocky_retention_after_run(struct rocky_store *store,
                               const struct rocky_retention *policy,
                               const char *run_id);

#endif
