/*
 * utf8.h — make every string we send valid UTF-8.
 *
 * One invalid byte in a protobuf `string` field makes a strict receiver
 * reject the whole request (and with it a whole batch of spans), so every
 * string from the host or the environment passes through here first.
 */
#ifndef ROCKY_OTEL_UTF8_H
#define ROCKY_OTEL_UTF8_H

#include <stddef.h>

/*
 * Copy at most `in_len` bytes of `in` (stops early at a NUL) into `out`
 * (`out_size` >= 1 bytes, always NUL-terminated), replacing every byte that
 * does not start a valid UTF-8 sequence (overlong forms, surrogates, code
 * points above U+10FFFF, truncated sequences) by U+FFFD. Never splits a
 * character when `out` is too small. Returns the bytes written, without the
 * NUL. Thread-safe, no allocation. `in` may be NULL (empty result).
 */
size_t rocky_otel_utf8_sanitize(const char *in, size_t in_len, char *out,
                                size_t out_size);

/*
 * Bytes of the longest prefix of `s` (`len` bytes, which must all be
 * readable) that is plain ASCII (no byte >= 0x80). NUL counts as ASCII: the
 * caller bounds `len` by the string's end. Such a prefix is valid UTF-8 as
 * it is, so a caller can copy it with memcpy. Thread-safe.
 */
size_t rocky_otel_utf8_ascii_len(const char *s, size_t len);

/*
 * Bytes of the longest prefix of the valid UTF-8 string `s` (`len` bytes)
 * that holds at most `max_chars` characters: the cut for
 * OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT, which counts characters.
 */
size_t rocky_otel_utf8_prefix(const char *s, size_t len, size_t max_chars);

#endif
