/* term_escape.c — see term_escape.h. */
#include "term_escape.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "utf8_decode.h"

/* Code points (beyond C0/DEL) a terminal would act on rather than show. */
int rocky_term_control_cp(uint32_t cp)
{
    return (cp >= 0x80 && cp <= 0x9f) || cp == 0x061c || cp == 0x200e ||
           cp == 0x200f || (cp >= 0x2028 && cp <= 0x202e) ||
           (cp >= 0x2066 && cp <= 0x2069);
}

static void put_byte_escape(char piece[ROCKY_TERM_PIECE_MAX], unsigned char c)
{
    static const char hex[] = "0123456789abcdef";
    piece[0] = '\\';
    switch (c) {
    case '\n':
        piece[1] = 'n';
        piece[2] = '\0';
        return;
    case '\r':
        piece[1] = 'r';
        piece[2] = '\0';
        return;
    case '\t':
        piece[1] = 't';
        piece[2] = '\0';
        return;
    default: break;
    }
    piece[1] = 'x';
    piece[2] = hex[c >> 4];
    piece[3] = hex[c & 15];
    piece[4] = '\0';
}

size_t rocky_term_piece(const char *s, size_t n, unsigned flags,
                        char piece[ROCKY_TERM_PIECE_MAX], int *escaped)
{
    static const char hex[] = "0123456789abcdef";
    uint32_t cp;
    size_t len = rocky_utf8_decode(s, n < 4 ? n : 4, &cp);
    int esc = 1;
    if (len == 0) { /* not UTF-8 (a raw C1 byte among them) */
        put_byte_escape(piece, (unsigned char)s[0]);
        len = 1;
    } else if (len == 1 && (cp < 0x20 || cp == 0x7f) &&
               !(cp == '\n' && (flags & ROCKY_TERM_KEEP_NEWLINE))) {
        put_byte_escape(piece, (unsigned char)cp);
    } else if (rocky_term_control_cp(cp)) {
        piece[0] = '\\';
        piece[1] = 'u';
        for (int i = 0; i < 4; i++)
            piece[2 + i] = hex[(cp >> (12 - 4 * i)) & 15];
        piece[6] = '\0';
    } else {
        memcpy(piece, s, len);
        piece[len] = '\0';
        esc = 0;
    }
    if (escaped)
        *escaped = esc;
    return len;
}

size_t rocky_term_escape(const char *in, unsigned flags, char *out,
                         size_t out_size)
{
    if (out_size == 0)
        return 0;
    const char *s = in ? in : "";
    size_t left = strlen(s), used = 0;
    while (left > 0) {
        char piece[ROCKY_TERM_PIECE_MAX];
        size_t took = rocky_term_piece(s, left, flags, piece, NULL);
        size_t plen = strlen(piece);
        if (used + plen + 1 > out_size)
            break;
        memcpy(out + used, piece, plen);
        used += plen;
        s += took;
        left -= took;
    }
    out[used] = '\0';
    return used;
}

char *rocky_term_escape_dup(const char *in, unsigned flags)
{
    size_t size = ROCKY_TERM_ESCAPED_SIZE(in ? strlen(in) : 0);
    char *out = malloc(size);
    if (out != NULL)
        rocky_term_escape(in, flags, out, size);
    return out;
}

int rocky_term_vfprintf(FILE *out, unsigned flags, const char *fmt, va_list ap)
{
    char *text = NULL;
    if (vasprintf(&text, fmt, ap) < 0)
        return EOF;
    size_t len = strlen(text);
    int newline = len > 0 && text[len - 1] == '\n';
    if (newline)
        text[len - 1] = '\0';
    char *safe = rocky_term_escape_dup(text, flags);
    free(text);
    if (safe == NULL)
        return EOF;
    int rc = fputs(safe, out);
    if (rc != EOF && newline)
        rc = fputc('\n', out);
    free(safe);
    return rc;
}

int rocky_term_fprintf(FILE *out, unsigned flags, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = rocky_term_vfprintf(out, flags, fmt, ap);
    va_end(ap);
    return rc;
}
