/*
 * fuzz_terminal.h — the check the fuzz targets share on text meant for a
 * terminal: no byte of it can drive the terminal.
 *
 * No raw ESC (0x1b), the start of every escape sequence; no other C0
 * control but '\n', no DEL, no C1 control (U+0080..U+009F, encoded C2 80..C2
 * 9F) and no bidi override or isolate (U+202A..U+202E, U+2066..U+2069):
 * lib/term_escape.h makes text so (issue 15, "hostile input").
 */
#ifndef ROCKY_FUZZ_TERMINAL_H
#define ROCKY_FUZZ_TERMINAL_H

#include <stddef.h>

/* 1 when `s` (`len` bytes) is safe to print, by the rules above. */
static inline int fuzz_terminal_safe(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < len; i++) {
        if (p[i] == 0x1b)
            return 0;
        if ((p[i] < 0x20 && p[i] != '\n') || p[i] == 0x7f)
            return 0;
        if (p[i] == 0xc2 && i + 1 < len && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f)
            return 0;
        if (p[i] == 0xe2 && i + 2 < len && p[i + 1] == 0x80 &&
            p[i + 2] >= 0xaa && p[i + 2] <= 0xae)
            return 0;
        if (p[i] == 0xe2 && i + 2 < len && p[i + 1] == 0x81 &&
            p[i + 2] >= 0xa6 && p[i + 2] <= 0xa9)
            return 0;
    }
    return 1;
}

#endif
