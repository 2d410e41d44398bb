/*
 * utf8.c — UTF-8 validation and repair (RFC 3629).
 */
#include "utf8.h"

#include <stdint.h>
#include <string.h>

/* Length of the valid sequence at s[0..n), or 0 when it is not valid. */
static size_t seq_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    uint32_t cp, min;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        cp = c & 0x1F;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        cp = c & 0x0F;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        cp = c & 0x07;
        min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

size_t rocky_otel_utf8_sanitize(const char *in, size_t in_len, char *out,
                                size_t out_size)
{
    static const char repl[] = "\xEF\xBF\xBD";
    size_t o = 0;
    if (out_size == 0)
        return 0;
    if (!in) {
        out[0] = '\0';
        return 0;
    }
    const unsigned char *s = (const unsigned char *)in;
    size_t i = 0;
    while (i < in_len && s[i]) {
        /* ASCII fast path: most of what we see is model names and hex. */
        if (s[i] < 0x80) {
            if (o + 1 >= out_size)
                break;
            out[o++] = (char)s[i++];
            continue;
        }
        size_t avail = in_len - i;
        const unsigned char *nul = memchr(s + i, 0, avail < 4 ? avail : 4);
        if (nul)
            avail = (size_t)(nul - (s + i));
        size_t n = seq_len(s + i, avail);
        if (n == 0) {
            if (o + 3 >= out_size)
                break;
            memcpy(out + o, repl, 3);
            o += 3;
            i++;
        } else {
            if (o + n >= out_size)
                break;
            memcpy(out + o, s + i, n);
            o += n;
            i += n;
        }
    }
    out[o] = '\0';
    return o;
}

size_t rocky_otel_utf8_prefix(const char *s, size_t len, size_t max_chars)
{
    size_t i = 0, chars = 0;
    while (i < len && chars < max_chars) {
        i++;
        /* skip continuation bytes of this character */
        while (i < len && ((unsigned char)s[i] & 0xC0) == 0x80)
            i++;
        chars++;
    }
    return i;
}
