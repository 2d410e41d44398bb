/*
 * format.h — text helpers shared by the trace renderers: UTF-8-safe
 * truncation for terminal columns and RFC 3339 timestamps.
 */
#ifndef ROCKY_TRACE_FORMAT_H
#define ROCKY_TRACE_FORMAT_H

#include <stddef.h>
#include <stdint.h>

/*
 * Copy at most `max_chars` characters of the UTF-8 string `s` into `out`
 * (`out_size` bytes, NUL-terminated), never splitting a multi-byte
 * character. When `s` is longer, the last kept character is replaced by "…"
 * so the result is still `max_chars` characters wide. Bytes that are not
 * valid UTF-8 and control characters (which could drive the terminal) are
 * shown as '?'. Returns the number of characters written (the display
 * width, counting every code point as one column). NULL `s` reads as "".
 * `out_size` >= 4 * max_chars + 1 always suffices.
 */
size_t rocky_utf8_truncate(const char *s, size_t max_chars, char *out,
                           size_t out_size);

/* Number of characters (code points; invalid bytes count one each) of `s`. */
size_t rocky_utf8_width(const char *s);

/* "2026-11-25T06:00:00.123Z" (UTC, milliseconds) for `wall_ns` since the
 * epoch into `buf` (at least 32 bytes). */
void rocky_format_rfc3339(int64_t wall_ns, char *buf, size_t buf_size);

#endif
