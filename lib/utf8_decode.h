/*
 * utf8_decode.h — the one UTF-8 decoder (RFC 3629) every component uses: the
 * terminal escaper (term_escape.h), the trace renderers' column counting,
 * the JSON writer and rocky_otel's string repair.
 */
#ifndef ROCKY_UTF8_DECODE_H
#define ROCKY_UTF8_DECODE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Decode the character at s[0..n). Returns its length in bytes (1..4) and
 * stores its code point in *cp, or returns 0 when s does not start a valid
 * sequence — an overlong form, a surrogate, a code point above U+10FFFF, a
 * stray continuation byte, or a sequence cut short by `n` or by a NUL —
 * and then *cp holds the first byte. n == 0 returns 0. No allocation,
 * thread-safe.
 */
size_t rocky_utf8_decode(const char *s, size_t n, uint32_t *cp);

#endif
