/*
 * run_record.h — an owned, heap-allocated copy of one run and its model
 * executions: the in-memory form of the run model that the state store
 * returns and the trace tool renders.
 *
 * `struct rocky_run` / `struct rocky_model_exec` (rocky/run_model.h) borrow
 * their strings; a record owns them. Everything hanging off a record is
 * freed by rocky_run_record_free().
 */
#ifndef ROCKY_LIB_RUN_RECORD_H
#define ROCKY_LIB_RUN_RECORD_H

#include <stddef.h>

#include "rocky/run_model.h"

struct rocky_run_record {
    struct rocky_run run;            /* strings owned by the record        */
    struct rocky_model_exec *models; /* model_count entries, in start order
                                        (never-started models last)         */
    size_t model_count;
    /* 1 when every loaded plugin confirmed full delivery of this run's
     * telemetry, 0 when not (yet), -1 when no plugin was loaded. */
    int delivery_confirmed;
    int owner_pid; /* pid of the runner that wrote it (0 unknown) */
};

/* Allocate an empty record (all zero, struct_size fields set). Returns NULL
 * on allocation failure. */
struct rocky_run_record *rocky_run_record_new(void);

/* Deep-copy the borrowed strings of `run` into `rec->run` (replacing any it
 * held). Returns 0 or ROCKY_ENOMEM. */
int rocky_run_record_set_run(struct rocky_run_record *rec,
                             const struct rocky_run *run);

/* Append a deep copy of `model` (strings and dependency array copied).
 * Returns 0 or ROCKY_ENOMEM (the record is unchanged then). */
int rocky_run_record_add_model(struct rocky_run_record *rec,
                               const struct rocky_model_exec *model);

/* Free the record and everything it owns. NULL is a no-op. */
void rocky_run_record_free(struct rocky_run_record *rec);

#endif
