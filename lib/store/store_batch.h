/*
 * store_batch.h — group commit for the state store (an addition to
 * lib/store.h, used by the runner's recorder thread).
 *
 * Between rocky_store_batch_begin and rocky_store_batch_commit, the writes
 * of lib/store.h join one transaction instead of committing one by one.
 * The runner commits whatever model records are waiting the moment it can,
 * so each record is still durable within one commit of its model ending,
 * while a burst of short models costs one commit instead of one each.
 *
 * Same connection and thread rules as lib/store.h.
 */
#ifndef ROCKY_STORE_BATCH_H
#define ROCKY_STORE_BATCH_H

#include <stddef.h>

struct rocky_store;

/* Start a write transaction (waits up to the busy timeout for other
 * writers). Returns 0, ROCKY_EINVAL (read-only store or a batch already
 * open) or another ROCKY_E* code with a message. */
int rocky_store_batch_begin(struct rocky_store *store, char *err,
                            size_t err_size);

/* Commit the open batch; on failure it is rolled back and nothing of it is
 * kept. Returns 0 or a ROCKY_E* code with a message. */
int rocky_store_batch_commit(struct rocky_store *store, char *err,
                             size_t err_size);

/* Give the open batch up: nothing of it is kept. A no-op when no batch is
 * open (SQLite may already have rolled it back after an I/O error). */
void rocky_store_batch_rollback(struct rocky_store *store);

#endif
