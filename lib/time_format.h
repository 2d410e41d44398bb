/*
 * time_format.h — timestamps as rocky's documents write them, shared by the
 * runner's --json document and the trace renderers.
 */
#ifndef ROCKY_TIME_FORMAT_H
#define ROCKY_TIME_FORMAT_H

#include <stddef.h>
#include <stdint.h>

/* "2026-11-25T06:00:00.123Z" (UTC, milliseconds) for `wall_ns` since the
 * epoch into `buf` (at least 32 bytes). */
void rocky_format_rfc3339(int64_t wall_ns, char *buf, size_t buf_size);

#endif
