/*
 * utf8.c — UTF-8 validation and repair (RFC 3629).
 */
#include "utf8.h"

#include <stdint.h>
#include <string.h>

#include "utf8_decode.h" /* lib/: the one decoder */

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
        uint32_t cp;
        size_t n = rocky_utf8_decode((const char *)s + i, avail, &cp);
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
