/*
 * format.h — text helpers shared by the trace renderers: UTF-8-safe
 * truncation for terminal columns and RFC 3339 timestamps.
 */
#ifndef ROCKY_TRACE_FORMAT_H
#define ROCKY_TRACE_FORMAT_H

#include <stddef.h>
#include <stdint.h>

/*
 * Copy the longest prefix of the UTF-8 string `s` that fits in `max_cols`
 * terminal columns into `out` (`out_size` bytes, NUL-terminated), never
 * splitting a multi-byte character. When `s` is wider, the prefix ends with
 * "…" and is at most `max_cols` columns wide (one less when a wide character
 * did not fit). Bytes that are not valid UTF-8 and control characters (which
 * could drive the terminal: C0, DEL, C1, bidi controls) are shown as the
 * visible escapes of term_escape.h ("\x1b", "\u202e"), as many columns
 * wide as they are long. Returns the columns written.
 * Columns: 2 for East Asian wide/fullwidth characters and emoji, 0 for
 * combining marks, 1 otherwise (see rocky_utf8_width). NULL `s` reads as "".
 * `out_size` >= 4 * max_cols + 4 always suffices.
 */
size_t rocky_utf8_truncate(const char *s, size_t max_cols, char *out,
                           size_t out_size);

/* Terminal columns of `s` as rocky_utf8_truncate shows it (an escape
 * counts its length). */
size_t rocky_utf8_width(const char *s);

/* rocky_format_rfc3339 lives in lib/ (the runner's JSON writes it too). */
#include "time_format.h"

#endif
