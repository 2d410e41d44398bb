/* format.c — UTF-8 truncation and timestamps (see format.h). */
#include "format.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* Length of the valid UTF-8 sequence at `p`, or 0 when it is invalid
 * (overlong, surrogate, out of range or cut short). */
static size_t seq_len(const unsigned char *p)
{
    unsigned char c = p[0];
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
    return len;
}

size_t rocky_utf8_width(const char *s)
{
    size_t n = 0;
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    while (*p) {
        size_t len = seq_len(p);
        p += len ? len : 1;
        n++;
    }
    return n;
}

size_t rocky_utf8_truncate(const char *s, size_t max_chars, char *out,
                           size_t out_size)
{
    static const char ellipsis[] = "\xe2\x80\xa6"; /* U+2026 */
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    int cut = rocky_utf8_width(s) > max_chars;
    size_t keep = cut ? (max_chars ? max_chars - 1 : 0) : max_chars;
    size_t used = 0, chars = 0;
    if (out_size == 0)
        return 0;
    while (*p && chars < keep) {
        size_t len = seq_len(p);
        const char *piece = (const char *)p;
        size_t piece_len = len;
        if (len == 0 || (len == 1 && (*p < 0x20 || *p == 0x7f))) {
            piece = "?";
            piece_len = 1;
            len = 1;
        }
        if (used + piece_len + 1 > out_size)
            break;
        memcpy(out + used, piece, piece_len);
        used += piece_len;
        p += len;
        chars++;
    }
    if (cut && max_chars > 0 && used + sizeof ellipsis <= out_size) {
        memcpy(out + used, ellipsis, sizeof ellipsis - 1);
        used += sizeof ellipsis - 1;
        chars++;
    }
    out[used] = '\0';
    return chars;
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
