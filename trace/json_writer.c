/* json_writer.c — streaming JSON output (see json_writer.h). */
#include "json_writer.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "term_escape.h"
#include "utf8_decode.h"

void rocky_json_init(struct rocky_json *w, FILE *out, int pretty)
{
    w->out = out;
    w->pretty = pretty;
    w->depth = 0;
    w->count[0] = 0;
    w->after_key = 0;
}

/* The writer owns its stream while it writes, so the unlocked stdio calls
 * (glibc, _GNU_SOURCE) are safe and spare a lock per character. */
static void put(struct rocky_json *w, const char *s, size_t len)
{
    fwrite_unlocked(s, 1, len, w->out);
}

static void indent(struct rocky_json *w)
{
    static const char spaces[] = "\n                                ";
    if (!w->pretty)
        return;
    size_t len = 1 + 2 * (size_t)w->depth;
    put(w, spaces, len < sizeof spaces - 1 ? len : sizeof spaces - 1);
}

/* Separator and indentation before a value (or a key). */
static void before_value(struct rocky_json *w)
{
    if (w->after_key) {
        w->after_key = 0;
        return;
    }
    if (w->depth > 0) {
        if (w->count[w->depth] > 0)
            fputc_unlocked(',', w->out);
        indent(w);
    }
    w->count[w->depth]++;
}

static void begin(struct rocky_json *w, char c)
{
    before_value(w);
    fputc(c, w->out);
    if (w->depth + 1 < ROCKY_JSON_MAX_DEPTH)
        w->depth++;
    w->count[w->depth] = 0;
}

static void end(struct rocky_json *w, char c)
{
    int had = w->count[w->depth] > 0;
    if (w->depth > 0)
        w->depth--;
    if (had)
        indent(w);
    fputc(c, w->out);
    if (w->depth == 0 && w->pretty)
        fputc('\n', w->out);
}

void rocky_json_begin_object(struct rocky_json *w)
{
    begin(w, '{');
}

void rocky_json_end_object(struct rocky_json *w)
{
    end(w, '}');
}

void rocky_json_begin_array(struct rocky_json *w)
{
    begin(w, '[');
}

void rocky_json_end_array(struct rocky_json *w)
{
    end(w, ']');
}

static void write_string(FILE *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    fputc_unlocked('"', out);
    while (*p) {
        /* Copy the longest run that needs no escaping in one call. */
        const unsigned char *run = p;
        while (*p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\')
            p++;
        if (p > run)
            fwrite_unlocked(run, 1, (size_t)(p - run), out);
        unsigned char c = *p;
        if (c == '\0')
            break;
        if (c == '"' || c == '\\') {
            fputc_unlocked('\\', out);
            fputc_unlocked(c, out);
            p++;
        } else if (c < 0x20) {
            switch (c) {
            case '\n': fputs("\\n", out); break;
            case '\r': fputs("\\r", out); break;
            case '\t': fputs("\\t", out); break;
            default: fprintf(out, "\\u%04x", c);
            }
            p++;
        } else {
            uint32_t cp;
            size_t len = rocky_utf8_decode((const char *)p,
                                           strnlen((const char *)p, 4), &cp);
            if (len == 0) {
                fputs("\\ufffd", out);
                p++;
            } else if (cp == 0x7f || rocky_term_control_cp(cp)) {
                /* Same value, but a terminal showing the document (C1,
                 * bidi overrides) sees only ASCII. */
                fprintf(out, "\\u%04x", (unsigned)cp);
                p += len;
            } else {
                fwrite_unlocked(p, 1, len, out);
                p += len;
            }
        }
    }
    fputc_unlocked('"', out);
}

void rocky_json_key(struct rocky_json *w, const char *key)
{
    before_value(w);
    write_string(w->out, key);
    put(w, ": ", w->pretty ? 2 : 1);
    w->after_key = 1;
}

void rocky_json_string(struct rocky_json *w, const char *s)
{
    before_value(w);
    if (s == NULL)
        fputs("null", w->out);
    else
        write_string(w->out, s);
}

void rocky_json_null(struct rocky_json *w)
{
    before_value(w);
    fputs("null", w->out);
}

void rocky_json_bool(struct rocky_json *w, int value)
{
    before_value(w);
    fputs(value ? "true" : "false", w->out);
}

void rocky_json_int(struct rocky_json *w, int64_t value)
{
    before_value(w);
    fprintf(w->out, "%" PRId64, value);
}

void rocky_json_double(struct rocky_json *w, double value, int decimals)
{
    before_value(w);
    if (!isfinite(value))
        value = 0; /* JSON has no NaN/Inf */
    fprintf(w->out, "%.*f", decimals, value);
}

void rocky_json_kv_string(struct rocky_json *w, const char *key, const char *s)
{
    rocky_json_key(w, key);
    rocky_json_string(w, s);
}

void rocky_json_kv_int(struct rocky_json *w, const char *key, int64_t value)
{
    rocky_json_key(w, key);
    rocky_json_int(w, value);
}
