/* format.c — UTF-8 truncation and timestamps (see format.h). */
#include "format.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* Length of the valid UTF-8 sequence at `p`, or 0 when it is invalid
 * (overlong, surrogate, out of range or cut short); *cp_out gets the code
 * point. */
static size_t decode(const unsigned char *p, unsigned int *cp_out)
{
    unsigned char c = p[0];
    *cp_out = c;
    if (c < 0x80)
        return 1;
    size_t len;
    unsigned int cp;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0; /* also catches the terminating NUL */
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    *cp_out = cp;
    return len;
}

/* Terminal columns of a code point: 2 for East Asian wide and fullwidth
 * characters and emoji (the common blocks of Unicode's EastAsianWidth W/F),
 * 0 for combining marks, else 1. Locale-independent on purpose: the output
 * must not change with LANG. */
static size_t columns(unsigned int cp)
{
    if ((cp >= 0x0300 && cp <= 0x036f) || (cp >= 0x200b && cp <= 0x200f) ||
        (cp >= 0xfe20 && cp <= 0xfe2f))
        return 0;
    if ((cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0x303e) ||
        (cp >= 0x3041 && cp <= 0x33ff) || (cp >= 0x3400 && cp <= 0x4dbf) ||
        (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0xa000 && cp <= 0xa4cf) ||
        (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
        (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
        (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x1f300 && cp <= 0x1f64f) ||
        (cp >= 0x1f900 && cp <= 0x1f9ff) || (cp >= 0x20000 && cp <= 0x3fffd))
        return 2;
    return 1;
}

size_t rocky_utf8_width(const char *s)
{
    size_t n = 0;
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    while (*p) {
        unsigned int cp;
        size_t len = decode(p, &cp);
        n += len ? columns(cp) : 1; /* an invalid byte shows as '?' */
        p += len ? len : 1;
    }
    return n;
}

size_t rocky_utf8_truncate(const char *s, size_t max_cols, char *out,
                           size_t out_size)
{
    static const char ellipsis[] = "\xe2\x80\xa6"; /* U+2026, 1 column */
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    int cut = rocky_utf8_width(s) > max_cols;
    size_t keep = cut ? (max_cols ? max_cols - 1 : 0) : max_cols;
    size_t used = 0, cols = 0;
    if (out_size == 0)
        return 0;
    while (*p) {
        unsigned int cp;
        size_t len = decode(p, &cp);
        const char *piece = (const char *)p;
        size_t piece_len = len;
        size_t w = len ? columns(cp) : 1;
        if (len == 0 || (len == 1 && (*p < 0x20 || *p == 0x7f))) {
            piece = "?";
            piece_len = 1;
            len = 1;
            w = 1;
        }
        /* Never half a character: stop when the whole one does not fit. */
        if (cols + w > keep || used + piece_len + 1 > out_size)
            break;
        memcpy(out + used, piece, piece_len);
        used += piece_len;
        p += len;
        cols += w;
    }
    if (cut && max_cols > 0 && used + sizeof ellipsis <= out_size) {
        memcpy(out + used, ellipsis, sizeof ellipsis - 1);
        used += sizeof ellipsis - 1;
        cols++;
    }
    out[used] = '\0';
    return cols;
}

void rocky_format_rfc3339(int64_t wall_ns, char *buf, size_t buf_size)
{
    time_t secs = (time_t)(wall_ns / 1000000000);
    int ms = (int)((wall_ns % 1000000000) / 1000000);
    if (ms < 0) {
        ms += 1000;
        secs--;
    }
    struct tm tm;
    if (gmtime_r(&secs, &tm) == NULL) {
        snprintf(buf, buf_size, "1970-01-01T00:00:00.000Z");
        return;
    }
    snprintf(buf, buf_size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, ms);
}
