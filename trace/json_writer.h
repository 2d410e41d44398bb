/*
 * json_writer.h — a streaming JSON writer for the trace renderers.
 *
 * Why not build a cJSON tree: for a 100,000-model run the tree costs
 * millions of small allocations and then a second full copy as text (about
 * 2.7 s here); streaming writes each value once, straight to the FILE.
 *
 * Output is valid JSON as long as calls nest properly: keys only inside
 * objects, each begin matched by its end. Strings are escaped per RFC 8259;
 * bytes that are not valid UTF-8 are written as U+FFFD so the document stays
 * valid UTF-8. Not thread-safe (one writer per stream).
 */
#ifndef ROCKY_TRACE_JSON_WRITER_H
#define ROCKY_TRACE_JSON_WRITER_H

#include <stdint.h>
#include <stdio.h>

#define ROCKY_JSON_MAX_DEPTH 16

struct rocky_json {
    FILE *out;
    int pretty; /* 1: newline + two-space indent per level */
    int depth;
    int count[ROCKY_JSON_MAX_DEPTH]; /* values written at each level */
    int after_key;                   /* the next value follows a key */
};

/* Start writing to `out`. */
void rocky_json_init(struct rocky_json *w, FILE *out, int pretty);

void rocky_json_begin_object(struct rocky_json *w);
void rocky_json_end_object(struct rocky_json *w);
void rocky_json_begin_array(struct rocky_json *w);
void rocky_json_end_array(struct rocky_json *w);

/* An object key; the next call writes its value. */
void rocky_json_key(struct rocky_json *w, const char *key);

/* A string value; NULL writes null. */
void rocky_json_string(struct rocky_json *w, const char *s);
void rocky_json_null(struct rocky_json *w);
void rocky_json_bool(struct rocky_json *w, int value);
void rocky_json_int(struct rocky_json *w, int64_t value);
/* A finite number with up to `decimals` fraction digits. */
void rocky_json_double(struct rocky_json *w, double value, int decimals);

/* Convenience: key + value. */
void rocky_json_kv_string(struct rocky_json *w, const char *key, const char *s);
void rocky_json_kv_int(struct rocky_json *w, const char *key, int64_t value);

#endif
