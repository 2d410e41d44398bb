/* clock.h — the two clocks of the run model, in nanoseconds. */
#ifndef ROCKY_LIB_CLOCK_H
#define ROCKY_LIB_CLOCK_H

#include <stdint.h>

/* CLOCK_REALTIME in ns since the Unix epoch (UTC). Thread-safe. */
int64_t rocky_clock_wall_ns(void);

/* CLOCK_MONOTONIC in ns; for durations and deadlines. Thread-safe. */
int64_t rocky_clock_mono_ns(void);

/* A monotonic deadline `timeout_ms` from now (saturating, never overflows). */
int64_t rocky_deadline_after_ms(int64_t timeout_ms);

#endif
