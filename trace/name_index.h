/*
 * name_index.h — a small open-addressing hash map from a string key to a
 * size_t value, for looking model names up in O(1) over 100,000-model runs.
 *
 * Keys are borrowed (the caller keeps them alive and unchanged). Not
 * thread-safe.
 */
#ifndef ROCKY_TRACE_NAME_INDEX_H
#define ROCKY_TRACE_NAME_INDEX_H

#include <stddef.h>

struct rocky_name_index {
    const char **keys;
    size_t *values;
    size_t capacity; /* power of two */
    size_t count;
};

/* Prepare an index with room for `expected` keys. Returns 0 or
 * ROCKY_ENOMEM. */
int rocky_name_index_init(struct rocky_name_index *index, size_t expected);

/* Insert or replace `key` → `value`. Returns 0 or ROCKY_ENOMEM. */
int rocky_name_index_put(struct rocky_name_index *index, const char *key,
                         size_t value);

/* Look `key` up: 1 and *value when present, 0 when absent. */
int rocky_name_index_get(const struct rocky_name_index *index, const char *key,
                         size_t *value);

/* Free the index (not the keys). Idempotent. */
void rocky_name_index_free(struct rocky_name_index *index);

#endif
