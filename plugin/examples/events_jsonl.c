/*
 * events_jsonl.c — a complete, tiny rocky plugin: writes every event as one
 * JSON line to the file named by the environment variable ROCKY_EVENTS_JSONL.
 *
 * It uses nothing but the public headers (rocky/plugin.h), so it doubles as
 * the proof that the ABI can be implemented from its documentation, and as
 * the recorder test double of the runner's tests.
 *
 * Build:  cc -std=c11 -shared -fPIC -fvisibility=hidden \
 *            -I<rocky>/include events_jsonl.c -o events_jsonl.so -lpthread
 * Use:    ROCKY_EVENTS_JSONL=events.jsonl rocky run --plugin ./events_jsonl.so
 *
 * One line per event (a single write(2) on an O_APPEND descriptor, so lines
 * from concurrent worker threads never interleave):
 *   {"type":"model_end","run_id":"…","trace_id":"…","span_id":"…",
 *    "parent_span_id":"…","model":"orders","status":"success",
 *    "rows_affected":42,"bytes_written":4096,"sql_hash":"…","error":null,
 *    "attempt":1,"dependencies":["stg_orders"],"wall_ns":…,"mono_ns":…,
 *    "flags":0,"thread":12345}
 * `span_id` is the model's span for model events and the run's otherwise.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* gettid */
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rocky/plugin.h"

#define JSONL_ENV "ROCKY_EVENTS_JSONL"

struct jsonl_state {
    int fd;
    atomic_uint_fast64_t accepted;
    atomic_uint_fast64_t delivered;
    atomic_uint_fast64_t dropped;
    int shut_down;
    struct rocky_delivery_report last;
};

/* A growable line buffer; on allocation failure it marks itself failed and
 * the event is counted as dropped. */
struct line {
    char *buf;
    size_t len, cap;
    int failed;
};

static void put(struct line *l, const char *s, size_t n)
{
    if (l->failed)
        return;
    if (l->len + n + 1 > l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 512;
        while (cap < l->len + n + 1)
            cap *= 2;
        char *grown = realloc(l->buf, cap);
        if (grown == NULL) {
            l->failed = 1;
            return;
        }
        l->buf = grown;
        l->cap = cap;
    }
    memcpy(l->buf + l->len, s, n);
    l->len += n;
}

static void puts_raw(struct line *l, const char *s)
{
    put(l, s, strlen(s));
}

static void put_json_string(struct line *l, const char *s)
{
    if (s == NULL) {
        puts_raw(l, "null");
        return;
    }
    put(l, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[8];
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*p;
            put(l, esc, 2);
        } else if (*p < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", *p);
            puts_raw(l, esc);
        } else {
            put(l, (const char *)p, 1);
        }
    }
    put(l, "\"", 1);
}

static void put_hex(struct line *l, const uint8_t *bytes, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    put(l, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        char two[2] = {digits[bytes[i] >> 4], digits[bytes[i] & 15]};
        put(l, two, 2);
    }
    put(l, "\"", 1);
}

static void put_field(struct line *l, const char *key)
{
    /* After "{", no separator: a field list starts with the quote. */
    if (l->len > 1)
        put(l, ",\"", 2);
    else
        put(l, "\"", 1);
    puts_raw(l, key);
    put(l, "\":", 2);
}

static void put_i64(struct line *l, int64_t v)
{
    char num[32];
    snprintf(num, sizeof num, "%" PRId64, v);
    puts_raw(l, num);
}

static const char *type_name(uint32_t type)
{
    switch (type) {
    case ROCKY_EVENT_RUN_START: return "run_start";
    case ROCKY_EVENT_MODEL_START: return "model_start";
    case ROCKY_EVENT_MODEL_END: return "model_end";
    case ROCKY_EVENT_RUN_END: return "run_end";
    default: return NULL;
    }
}

static void format_event(struct line *l, const struct rocky_event *ev)
{
    const struct rocky_run *run = ev->run;
    const struct rocky_model_exec *m = ev->model;
    puts_raw(l, "{");
    put_field(l, "type");
    put_json_string(l, type_name(ev->type));
    put_field(l, "run_id");
    put_json_string(l, run->run_id);
    put_field(l, "trace_id");
    put_hex(l, run->trace_id, sizeof run->trace_id);
    put_field(l, "span_id");
    put_hex(l, m ? m->span_id : run->span_id, ROCKY_SPAN_ID_SIZE);
    put_field(l, "parent_span_id");
    put_hex(l, m ? run->span_id : run->parent_span_id, ROCKY_SPAN_ID_SIZE);
    put_field(l, "status");
    put_json_string(l, m ? rocky_model_status_name(m->status)
                         : rocky_run_status_name(run->status));
    if (m != NULL) {
        put_field(l, "model");
        put_json_string(l, m->model_name);
        put_field(l, "rows_affected");
        put_i64(l, m->rows_affected);
        put_field(l, "bytes_written");
        put_i64(l, m->bytes_written);
        put_field(l, "sql_hash");
        put_json_string(l, m->sql_hash);
        put_field(l, "error");
        put_json_string(l, m->error);
        put_field(l, "attempt");
        put_i64(l, m->attempt);
        put_field(l, "dependencies");
        puts_raw(l, "[");
        for (uint32_t i = 0; i < m->dependency_count; i++) {
            if (i > 0)
                puts_raw(l, ",");
            put_json_string(l, m->dependencies[i]);
        }
        puts_raw(l, "]");
    } else {
        put_field(l, "project");
        put_json_string(l, run->project);
        put_field(l, "trigger");
        put_json_string(l, run->trigger);
        put_field(l, "models_total");
        put_i64(l, run->models_total);
    }
    put_field(l, "wall_ns");
    put_i64(l, ev->wall_ns);
    put_field(l, "mono_ns");
    put_i64(l, ev->mono_ns);
    put_field(l, "flags");
    put_i64(l, ev->flags);
    put_field(l, "thread");
    put_i64(l, (int64_t)gettid());
    puts_raw(l, "}\n");
}

static int jsonl_init(const struct rocky_host_api *host, void **state,
                      char *errbuf, size_t errbuf_size)
{
    const char *path = getenv(JSONL_ENV);
    if (path == NULL || *path == '\0') {
        snprintf(errbuf, errbuf_size,
                 "%s is not set; set it to the file the events should be "
                 "appended to",
                 JSONL_ENV);
        return ROCKY_EINVAL;
    }
    /* One instance per process (the host never loads a file twice), kept in
     * static storage so that shutdown can be idempotent without freeing. */
    static struct jsonl_state the_state;
    struct jsonl_state *s = &the_state;
    memset(s, 0, sizeof *s);
    s->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (s->fd < 0) {
        snprintf(errbuf, errbuf_size, "cannot open %s=%s: %s", JSONL_ENV, path,
                 strerror(errno));
        return ROCKY_EIO;
    }
    if (host->log != NULL) {
        char msg[512];
        snprintf(msg, sizeof msg, "writing events to %s", path);
        host->log(host->host_ctx, ROCKY_LOG_DEBUG, msg);
    }
    *state = s;
    return 0;
}

static int jsonl_on_event(void *state, const struct rocky_event *ev)
{
    struct jsonl_state *s = state;
    if (type_name(ev->type) == NULL)
        return 0; /* a newer host's event type: ignore, as the ABI asks */
    atomic_fetch_add(&s->accepted, 1);
    struct line l = {0};
    format_event(&l, ev);
    int rc = 0;
    if (l.failed) {
        rc = ROCKY_ENOMEM;
    } else if (write(s->fd, l.buf, l.len) != (ssize_t)l.len) {
        rc = ROCKY_EIO;
    }
    free(l.buf);
    atomic_fetch_add(rc == 0 ? &s->delivered : &s->dropped, 1);
    return rc;
}

static void fill_report(struct jsonl_state *s, struct rocky_delivery_report *r)
{
    if (r == NULL)
        return;
    /* Writes are synchronous: nothing is ever pending. */
    struct rocky_delivery_report out = {.struct_size = r->struct_size};
    out.accepted = atomic_load(&s->accepted);
    out.delivered = atomic_load(&s->delivered);
    out.dropped = atomic_load(&s->dropped);
    out.pending = 0;
    size_t n = r->struct_size < sizeof out ? r->struct_size : sizeof out;
    memcpy(r, &out, n);
}

static int jsonl_flush(void *state, int64_t deadline_mono_ns,
                       struct rocky_delivery_report *report)
{
    struct jsonl_state *s = state;
    if (!s->shut_down)
        fdatasync(s->fd);
    fill_report(s, report);
    return 0;
}

static int jsonl_shutdown(void *state, int64_t deadline_mono_ns,
                          struct rocky_delivery_report *report)
{
    struct jsonl_state *s = state;
    if (!s->shut_down) {
        fdatasync(s->fd);
        close(s->fd);
        s->shut_down = 1;
    }
    fill_report(s, report);
    return 0;
}

static const struct rocky_plugin descriptor = {
    .struct_size = sizeof(struct rocky_plugin),
    .abi_version = ROCKY_PLUGIN_ABI_VERSION,
    .name = "events_jsonl",
    .version = "1.0.0",
    .description = "writes every event as a JSON line to $ROCKY_EVENTS_JSONL",
    .init = jsonl_init,
    .on_event = jsonl_on_event,
    .flush = jsonl_flush,
    .shutdown = jsonl_shutdown,
};

ROCKY_PLUGIN_EXPORT const struct rocky_plugin *
rocky_plugin_entry(const struct rocky_host_api *host)
{
    if (host == NULL ||
        ROCKY_PLUGIN_ABI_MAJOR_OF(host->abi_version) != ROCKY_PLUGIN_ABI_MAJOR)
        return NULL;
    return &descriptor;
}
