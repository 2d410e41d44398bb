/* run_id.h — "20261125T060000.123Z-3f9a1c": UTC start time to the
 * millisecond (so ids sort by start), then 24 random bits so two runs
 * started in the same millisecond still differ. */
#ifndef ROCKY_HOST_RUN_ID_H
#define ROCKY_HOST_RUN_ID_H

#include <stdint.h>

#define ROCKY_RUN_ID_SIZE 64

void rocky_run_id_make(int64_t wall_ns, char out[ROCKY_RUN_ID_SIZE]);

#endif
