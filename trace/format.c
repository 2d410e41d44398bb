/* format.c — UTF-8 truncation and timestamps (see format.h). */
#include "format.h"

#include <stdio.h>
#include <string.h>

#include "term_escape.h"
#include "utf8_decode.h"

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

/* What one step of `p` shows: the character or its escape, and its
 * columns. Returns the bytes consumed. */
static size_t step(const char *p, char piece[ROCKY_TERM_PIECE_MAX],
                   size_t *cols)
{
    int escaped;
    size_t n = strnlen(p, 4);
    size_t took = rocky_term_piece(p, n, 0, piece, &escaped);
    uint32_t cp;
    if (escaped || rocky_utf8_decode(p, took, &cp) == 0)
        *cols = strlen(piece);
    else
        *cols = columns(cp);
    return took;
}

size_t rocky_utf8_width(const char *s)
{
    size_t n = 0;
    const char *p = s ? s : "";
    while (*p) {
        char piece[ROCKY_TERM_PIECE_MAX];
        size_t w;
        p += step(p, piece, &w);
        n += w;
    }
    return n;
}

size_t rocky_utf8_truncate(const char *s, size_t max_cols, char *out,
                           size_t out_size)
{
    static const char ellipsis[] = "\xe2\x80\xa6"; /* U+2026, 1 column */
    const char *p = s ? s : "";
    int cut = rocky_utf8_width(s) > max_cols;
    size_t keep = cut ? (max_cols ? max_cols - 1 : 0) : max_cols;
    size_t used = 0, cols = 0;
    if (out_size == 0)
        return 0;
    while (*p) {
        char piece[ROCKY_TERM_PIECE_MAX];
        size_t w;
        size_t len = step(p, piece, &w);
        size_t piece_len = strlen(piece);
        /* Never half a character or escape: stop when it does not fit. */
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
