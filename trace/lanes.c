/* lanes.c — greedy first-fit lane assignment (see lanes.h). */
#include "lanes.h"

#include <stdlib.h>

#include "rocky/error.h"

/* A lane that is busy until `end`. */
struct busy {
    int64_t end;
    size_t lane;
};

/* Sort key: start time, then input index, so equal starts keep input order
 * and the result does not depend on qsort's instability. */
struct order {
    int64_t start;
    size_t index;
};

static int cmp_order(const void *a, const void *b)
{
    const struct order *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return x->index < y->index ? -1 : (x->index > y->index);
}

/* Min-heap of busy lanes by end time. */
static void busy_push(struct busy *heap, size_t *len, struct busy item)
{
    size_t i = (*len)++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (heap[parent].end <= item.end)
            break;
        heap[i] = heap[parent];
        i = parent;
    }
    heap[i] = item;
}

static struct busy busy_pop(struct busy *heap, size_t *len)
{
    struct busy top = heap[0];
    struct busy last = heap[--*len];
    size_t i = 0, n = *len;
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= n)
            break;
        if (child + 1 < n && heap[child + 1].end < heap[child].end)
            child++;
        if (last.end <= heap[child].end)
            break;
        heap[i] = heap[child];
        i = child;
    }
    if (n > 0)
        heap[i] = last;
    return top;
}

/* Min-heap of free lane indices, so a reused lane is the lowest free one
 * (first fit), not merely the one that happened to end first. */
static void free_push(size_t *heap, size_t *len, size_t lane)
{
    size_t i = (*len)++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (heap[parent] <= lane)
            break;
        heap[i] = heap[parent];
        i = parent;
    }
    heap[i] = lane;
}

static size_t free_pop(size_t *heap, size_t *len)
{
    size_t top = heap[0];
    size_t last = heap[--*len];
    size_t i = 0, n = *len;
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= n)
            break;
        if (child + 1 < n && heap[child + 1] < heap[child])
            child++;
        if (last <= heap[child])
            break;
        heap[i] = heap[child];
        i = child;
    }
    if (n > 0)
        heap[i] = last;
    return top;
}

int rocky_lanes_assign(const int64_t *start, const int64_t *end, size_t n,
                       size_t *lane, size_t *lane_count)
{
    *lane_count = 0;
    if (n == 0)
        return 0;
    struct order *order = malloc(n * sizeof *order);
    struct busy *busy = malloc(n * sizeof *busy);
    size_t *free_lanes = malloc(n * sizeof *free_lanes);
    if (order == NULL || busy == NULL || free_lanes == NULL) {
        free(order);
        free(busy);
        free(free_lanes);
        return ROCKY_ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        order[i] = (struct order){start[i], i};
    qsort(order, n, sizeof *order, cmp_order);

    size_t busy_len = 0, free_len = 0, lanes = 0;
    for (size_t k = 0; k < n; k++) {
        size_t i = order[k].index;
        int64_t s = start[i];
        int64_t e = end[i] < s ? s : end[i];
        /* Every lane whose last interval ended by `s` becomes free. */
        while (busy_len > 0 && busy[0].end <= s)
            free_push(free_lanes, &free_len, busy_pop(busy, &busy_len).lane);
        size_t chosen =
            free_len > 0 ? free_pop(free_lanes, &free_len) : lanes++;
        lane[i] = chosen;
        busy_push(busy, &busy_len, (struct busy){e, chosen});
    }
    *lane_count = lanes;
    free(order);
    free(busy);
    free(free_lanes);
    return 0;
}
