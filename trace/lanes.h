/*
 * lanes.h — pack time intervals onto the fewest rows ("lanes") so that no
 * two intervals on one lane overlap: the rows of a Gantt chart.
 *
 * Greedy first-fit in start order: each interval, taken by increasing start
 * (ties by input index), goes on the lowest-numbered lane that is free at its
 * start. A lane is free at time t when its last interval ended at or before
 * t, so an interval ending exactly when another starts may share its lane.
 * For intervals this greedy order is optimal: the lane count equals the peak
 * number of intervals running at one instant.
 *
 * Cost: O(n log n) time (a sort plus two binary heaps: busy lanes keyed by
 * end time, free lanes keyed by index), O(n) extra memory.
 */
#ifndef ROCKY_TRACE_LANES_H
#define ROCKY_TRACE_LANES_H

#include <stddef.h>
#include <stdint.h>

/*
 * Assign a lane to each of the `n` intervals [start[i], end[i]) (any unit;
 * end[i] < start[i] is treated as end[i] == start[i]). Writes lane[i] for
 * every i and the number of lanes used to *lane_count (0 when n == 0).
 * The arrays are caller-owned; nothing is retained. Returns 0 or
 * ROCKY_ENOMEM. Thread-safe (no shared state).
 */
int rocky_lanes_assign(const int64_t *start, const int64_t *end, size_t n,
                       size_t *lane, size_t *lane_count);

#endif
