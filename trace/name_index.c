/* name_index.c — string → size_t hash map (see name_index.h). */
#include "name_index.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rocky/error.h"

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

static int alloc_table(struct rocky_name_index *index, size_t capacity)
{
    index->keys = calloc(capacity, sizeof *index->keys);
    index->values = calloc(capacity, sizeof *index->values);
    if (index->keys == NULL || index->values == NULL) {
        free(index->keys);
        free(index->values);
        index->keys = NULL;
        index->values = NULL;
        return ROCKY_ENOMEM;
    }
    index->capacity = capacity;
    index->count = 0;
    return 0;
}

int rocky_name_index_init(struct rocky_name_index *index, size_t expected)
{
    size_t capacity = 16;
    /* Keep the load factor at or below one half. */
    while (capacity < expected * 2)
        capacity *= 2;
    return alloc_table(index, capacity);
}

/* Slot holding `key`, or the empty slot where it would go. */
static size_t find(const struct rocky_name_index *index, const char *key)
{
    size_t mask = index->capacity - 1;
    size_t i = (size_t)hash(key) & mask;
    while (index->keys[i] != NULL && strcmp(index->keys[i], key) != 0)
        i = (i + 1) & mask;
    return i;
}

static int grow(struct rocky_name_index *index)
{
    struct rocky_name_index bigger;
    if (alloc_table(&bigger, index->capacity * 2) != 0)
        return ROCKY_ENOMEM;
    for (size_t i = 0; i < index->capacity; i++) {
        if (index->keys[i] == NULL)
            continue;
        size_t slot = find(&bigger, index->keys[i]);
        bigger.keys[slot] = index->keys[i];
        bigger.values[slot] = index->values[i];
        bigger.count++;
    }
    rocky_name_index_free(index);
    *index = bigger;
    return 0;
}

int rocky_name_index_put(struct rocky_name_index *index, const char *key,
                         size_t value)
{
    if ((index->count + 1) * 2 > index->capacity && grow(index) != 0)
        return ROCKY_ENOMEM;
    size_t slot = find(index, key);
    if (index->keys[slot] == NULL) {
        index->keys[slot] = key;
        index->count++;
    }
    index->values[slot] = value;
    return 0;
}

int rocky_name_index_get(const struct rocky_name_index *index, const char *key,
                         size_t *value)
{
    if (index->capacity == 0)
        return 0;
    size_t slot = find(index, key);
    if (index->keys[slot] == NULL)
        return 0;
    *value = index->values[slot];
    return 1;
}

void rocky_name_index_free(struct rocky_name_index *index)
{
    free(index->keys);
    free(index->values);
    index->keys = NULL;
    index->values = NULL;
    index->capacity = 0;
    index->count = 0;
}
