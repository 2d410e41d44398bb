/*
 * recorder.h — the runner's state-store writer thread.
 *
 * Workers hand each finished (or skipped) model to the recorder and go on
 * with the next model instead of waiting for a commit. The recorder commits
 * everything waiting in one transaction (group commit), and only then calls
 * `delivered` for each item, in hand-over order — the runner emits
 * MODEL_END and prints the line there, so anything announced is already
 * durable: a SIGKILL loses at most models nobody was told about.
 *
 * When the store fails (disk full, I/O error), the failed batch is rolled
 * back and its items written one by one, each tried twice; an item that
 * still cannot be written is *lost*: it is delivered all the same (every
 * planned model gets its MODEL_END), counted, and rocky_recorder_stop says
 * how many were lost and why, so the run can be recorded as incomplete.
 *
 * Threading: push from any thread; start/stop from the main thread. The
 * callback runs on the recorder thread.
 */
#ifndef ROCKY_HOST_RECORDER_H
#define ROCKY_HOST_RECORDER_H

#include <stddef.h>

#include "rocky/run_model.h"

struct rocky_store;
struct rocky_recorder;

/* Called after `model` is committed. `run` is the snapshot pushed with it. */
typedef void (*rocky_recorder_delivered_fn)(void *ctx,
                                            const struct rocky_model_exec *m,
                                            const struct rocky_run *run);

/* Start the thread. `capacity` bounds the number of pushes over the
 * recorder's life (the runner pushes each model once). The store and
 * run_id must outlive rocky_recorder_stop. Returns 0 or ROCKY_ENOMEM /
 * ROCKY_EIO. */
int rocky_recorder_start(struct rocky_store *store, const char *run_id,
                         size_t capacity, rocky_recorder_delivered_fn cb,
                         void *ctx, struct rocky_recorder **out);

/* Queue `model` (copied shallowly: its strings and dependency array must
 * stay valid until stop returns) with the run snapshot `run`. */
void rocky_recorder_push(struct rocky_recorder *rec,
                         const struct rocky_model_exec *model,
                         const struct rocky_run *run);

/* Commit what is queued, deliver it, join the thread and free. Returns 0
 * when every pushed model is recorded; else the error of the first lost
 * one (logged when it happened), its message in `err`, and in *lost how
 * many could not be written. NULL is a no-op (0, *lost 0). */
int rocky_recorder_stop(struct rocky_recorder *rec, size_t *lost, char *err,
                        size_t err_size);

#endif
