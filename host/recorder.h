/*
 * recorder.h — the runner's state-store writer thread.
 *
 * Workers hand each model's start, and each finished (or skipped) model, to
 * the recorder and go on instead of waiting for a commit. The recorder commits
 * everything waiting in one transaction (group commit), and only then calls
 * `delivered` for each item, in hand-over order — the runner emits
 * MODEL_END and prints the line there, so anything announced is already
 * durable: a SIGKILL loses at most models nobody was told about.
 *
 * A start is written as the model's row with status RUNNING (so readers
 * — `rocky trace --follow` — see it in flight, and a crashed run keeps it
 * on record); the end updates that row. Both go through the same queue
 * and group commit, so a start and its end may land in one transaction,
 * and a start is never written after its end. Starts are not delivered.
 * A start that cannot be written is logged once and costs nothing else:
 * the end inserts the row instead (it is not "lost").
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
 * recorder's life (the runner pushes each model's start and end: twice
 * the model count). The store and
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

/* Queue the start of `model` (status RUNNING; copied shallowly like
 * rocky_recorder_push). Push it before the model's end. */
void rocky_recorder_push_start(struct rocky_recorder *rec,
                               const struct rocky_model_exec *model);

/* Like rocky_recorder_push, but the recorder thread is not woken for it:
 * the item waits, queued in order, for the next push that wakes it
 * (rocky_recorder_push, rocky_recorder_push_start), rocky_recorder_wake or
 * rocky_recorder_stop. For a worker whose next step is pushing another
 * model's start: one commit then takes both, instead of the recorder
 * waking, committing and sleeping once for each. Nothing is delivered
 * before it is committed, so holding an item only delays its delivery;
 * the caller must wake the recorder before it waits for anything else. */
void rocky_recorder_push_held(struct rocky_recorder *rec,
                              const struct rocky_model_exec *model,
                              const struct rocky_run *run);

/* Wake the recorder thread for what is queued (rocky_recorder_push_held).
 * Any thread; NULL is a no-op. */
void rocky_recorder_wake(struct rocky_recorder *rec);

/* Commit what is queued, deliver it, join the thread and free. Returns 0
 * when every pushed model is recorded; else the error of the first lost
 * one (logged when it happened), its message in `err`, and in *lost how
 * many could not be written. NULL is a no-op (0, *lost 0). */
int rocky_recorder_stop(struct rocky_recorder *rec, size_t *lost, char *err,
                        size_t err_size);

#endif
