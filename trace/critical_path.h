/*
 * critical_path.h — the dependency chain that bounded a run's duration.
 *
 * Start from the execution that finished last; step to the dependency of it
 * that finished last at or before it started (the one it was waiting on);
 * repeat until a model had no recorded dependency that finished before it.
 * Models that never started are not on any path. Dependency names are
 * resolved through a hash index, so the walk is O(n + total dependencies).
 */
#ifndef ROCKY_TRACE_CRITICAL_PATH_H
#define ROCKY_TRACE_CRITICAL_PATH_H

#include <stddef.h>
#include <stdint.h>

#include "rocky/run_model.h"

/*
 * Compute the critical path over `models[0..n)`. On success *path is a new
 * array (free() it) of pointers into `models`, in execution order (first
 * model first), and *path_len its length (0 and NULL when nothing ran).
 * When a model name occurs more than once (retries), its latest-finishing
 * execution stands for it. Returns 0 or ROCKY_ENOMEM. Thread-safe.
 */
int rocky_critical_path(const struct rocky_model_exec *models, size_t n,
                        const struct rocky_model_exec ***path,
                        size_t *path_len);

#endif
