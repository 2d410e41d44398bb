/*
 * utf8.c — UTF-8 validation and repair (RFC 3629).
 *
 * Nearly everything we copy is short ASCII (model names, hex hashes, run
 * ids), so sanitize first finds the string's end with strnlen (vectorised by
 * libc, and it never reads past the NUL, so no out-of-bounds word reads)
 * and checks that prefix for high bits eight bytes at a time; only from the
 * first non-ASCII byte on does the per-character repair loop run.
 */
#include "utf8.h"

#include <stdint.h>
#include <string.h>

#include "utf8_decode.h" /* lib/: the one decoder */

size_t rocky_otel_utf8_ascii_len(const char *s, size_t len)
{
    const uint64_t high = 0x8080808080808080ULL;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8); /* one unaligned load */
        if (w & high)
            break;
    }
    while (i < len && !((unsigned char)s[i] & 0x80))
        i++;
    return i;
}

/* The per-character repair from in[i] on, writing at out[o]; returns the
 * bytes written in all, and NUL-terminates. */
static size_t repair(const unsigned char *s, size_t i, size_t in_len, char *out,
                     size_t o, size_t out_size)
{
    static const char repl[] = "\xEF\xBF\xBD";
    while (i < in_len && s[i]) {
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

size_t rocky_otel_utf8_sanitize(const char *in, size_t in_len, char *out,
                                size_t out_size)
{
    if (out_size == 0)
        return 0;
    if (!in) {
        out[0] = '\0';
        return 0;
    }
    /* Only the first out_size - 1 input bytes can reach the output: at that
     * point the output is full whatever the next byte is (one more ASCII
     * byte, or any sequence or U+FFFD, would not fit with the NUL). */
    size_t len = strnlen(in, in_len < out_size - 1 ? in_len : out_size - 1);
    size_t ascii = rocky_otel_utf8_ascii_len(in, len);
    memcpy(out, in, ascii);
    if (ascii == len) {
        out[len] = '\0';
        return len;
    }
    return repair((const unsigned char *)in, ascii, in_len, out, ascii,
                  out_size);
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
