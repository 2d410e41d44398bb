/*
 * events_jsonl.c — a complete, tiny rocky plugin (ABI 2.1): each instance
 * appends every event it sees as one JSON line to a file of its own.
 *
 * It uses nothing but the public headers (rocky/plugin.h), so it doubles as
 * the proof that the ABI can be implemented from its documentation, and as
 * the recorder test double of the runner's tests.
 *
 * Build:  cc -std=c11 -shared -fPIC -fvisibility=hidden \
 *            -I<rocky>/include events_jsonl.c -o events_jsonl.so
 * Use:    ROCKY_EVENTS_JSONL=events.jsonl rocky run --plugin ./events_jsonl.so
 *   or, one file per instance, in rocky.json:
 *         "plugins": [{"path": "events_jsonl.so", "name": "audit",
 *                      "config": {"path": "audit.jsonl"}}]
 *
 * Configuration (per instance):
 *   path   the file to append to; when not set, the environment variable
 *          ROCKY_EVENTS_JSONL. One of the two is required.
 * Any other key is refused in create, naming it and the known keys.
 *
 * State: everything lives in the instance (struct jsonl), so several
 * instances run side by side; nothing is process-wide.
 *
 * One line per event (a single write(2) on an O_APPEND descriptor, so lines
 * from concurrent worker threads never interleave):
 *   {"type":"model_end","instance":"audit","run_id":"…","trace_id":"…",
 *    "span_id":"…","parent_span_id":"…","status":"success",
 *    "model":"orders","rows_affected":42,"bytes_written":4096,
 *    "sql_hash":"…","error":null,"attempt":1,"dependencies":["stg_orders"],
 *    "wall_ns":…,"mono_ns":…,"flags":0,"thread":12345}
 * `span_id` is the model's span for model events and the run's otherwise.
 * A model that never started (MODEL_END only) has the same fields, with
 * status "skipped" and `error` saying why. Run events carry "project",
 * "trigger" and "models_total" instead of the model fields. A statement the
 * host ran for a model (ABI 2.1) is one line too:
 *   {"type":"statement_end",…,"span_id":"<statement>","parent_span_id":
 *    "<model>","status":"success","model":"orders","kind":"ddl",
 *    "target":"main.orders","rows":-1,"error":null,"attempt":1,
 *    "max_attempts":200,"sequence":5,"started_wall_ns":…,"wall_ns":…,…}
 *
 * Delivery: lines are written synchronously in on_event, so reports have
 * accepted == delivered + dropped and nothing pending; an event whose line
 * could not be written is dropped (and the first such failure logged).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* gettid */
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rocky/plugin.h"

#define JSONL_ENV        "ROCKY_EVENTS_JSONL"
#define JSONL_KEY_PATH   "path"
#define JSONL_KNOWN_KEYS "path"

/* One instance. `host` and every string of `info` stay valid until destroy
 * returned (plugin.h section 4), so they are kept as pointers. Counters are
 * bumped by the host's worker threads concurrently; the rest is written by
 * create/stop only. */
struct jsonl {
    const struct rocky_host_api *host;
    const char *name; /* info->instance_name */
    int fd;           /* -1 after stop */
    atomic_uint_fast64_t accepted;
    atomic_uint_fast64_t delivered;
    atomic_uint_fast64_t dropped;
    atomic_int write_failure_logged;
};

static void say(const struct jsonl *j, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void say(const struct jsonl *j, int level, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    j->host->log(j->host->host_ctx, level, msg);
}

/* A line buffer that starts on the stack and moves to the heap only for a
 * long line (hot path: most events allocate nothing). On allocation
 * failure it marks itself failed and the event is counted as dropped. */
struct line {
    char *buf;
    size_t len, cap;
    int failed;
    char small[1024];
};

static void put(struct line *l, const char *s, size_t n)
{
    if (l->failed)
        return;
    if (l->len + n + 1 > l->cap) {
        size_t cap = l->cap * 2;
        while (cap < l->len + n + 1)
            cap *= 2;
        char *grown = l->buf == l->small ? malloc(cap) : realloc(l->buf, cap);
        if (grown == NULL) {
            l->failed = 1;
            return;
        }
        if (l->buf == l->small)
            memcpy(grown, l->small, l->len);
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
    case ROCKY_EVENT_STATEMENT_END: return "statement_end";
    default: return NULL;
    }
}

/* The statement of a STATEMENT_END, or NULL: `statement` was appended in
 * ABI 2.1, so an older host's event may not have it. */
static const struct rocky_statement *statement_of(const struct rocky_event *ev)
{
    if (ev->type != ROCKY_EVENT_STATEMENT_END ||
        !ROCKY_STRUCT_HAS(ev, struct rocky_event, statement))
        return NULL;
    return ev->statement;
}

static void format_statement(struct line *l, const struct rocky_run *run,
                             const struct rocky_model_exec *m,
                             const struct rocky_statement *st)
{
    put_field(l, "span_id");
    put_hex(l, st->span_id, ROCKY_SPAN_ID_SIZE);
    put_field(l, "parent_span_id");
    put_hex(l, m ? m->span_id : run->span_id, ROCKY_SPAN_ID_SIZE);
    put_field(l, "status");
    put_json_string(l, rocky_model_status_name(st->status));
    put_field(l, "model");
    put_json_string(l, m ? m->model_name : NULL);
    put_field(l, "kind");
    put_json_string(l, rocky_statement_kind_name(st->kind));
    put_field(l, "target");
    put_json_string(l, st->target);
    put_field(l, "rows");
    put_i64(l, st->rows);
    put_field(l, "error");
    put_json_string(l, st->error);
    put_field(l, "attempt");
    put_i64(l, st->attempt);
    put_field(l, "max_attempts");
    put_i64(l, st->max_attempts);
    put_field(l, "sequence");
    put_i64(l, st->sequence);
    put_field(l, "started_wall_ns");
    put_i64(l, st->started_wall_ns);
}

static void format_event(struct line *l, const struct jsonl *j,
                         const struct rocky_event *ev)
{
    const struct rocky_run *run = ev->run;
    const struct rocky_model_exec *m = ev->model;
    const struct rocky_statement *st = statement_of(ev);
    puts_raw(l, "{");
    put_field(l, "type");
    put_json_string(l, type_name(ev->type));
    put_field(l, "instance");
    put_json_string(l, j->name);
    put_field(l, "run_id");
    put_json_string(l, run->run_id);
    put_field(l, "trace_id");
    put_hex(l, run->trace_id, sizeof run->trace_id);
    if (st != NULL) {
        format_statement(l, run, m, st);
        goto times;
    }
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
times:
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

/* Refuse any key but the ones we know, naming it, so a typo in rocky.json
 * is never silently ignored (plugin.h section 4). */
static int check_config(const struct rocky_instance_info *info, char *errbuf,
                        size_t errbuf_size)
{
    for (uint32_t i = 0; i < info->config_count; i++) {
        const char *key = info->config[i].key;
        if (strcmp(key, JSONL_KEY_PATH) != 0) {
            snprintf(errbuf, errbuf_size,
                     "unknown config key '%s' (known keys: %s)", key,
                     JSONL_KNOWN_KEYS);
            return ROCKY_EINVAL;
        }
    }
    return 0;
}

static int jsonl_create(const struct rocky_host_api *host,
                        const struct rocky_instance_info *info, void **instance,
                        char *errbuf, size_t errbuf_size)
{
    int rc = check_config(info, errbuf, errbuf_size);
    if (rc != 0)
        return rc;
    const char *path = host->config_get(host->host_ctx, JSONL_KEY_PATH);
    const char *from = "config key '" JSONL_KEY_PATH "'";
    if (path == NULL) {
        path = getenv(JSONL_ENV);
        from = JSONL_ENV;
        if (path == NULL || *path == '\0') {
            snprintf(errbuf, errbuf_size,
                     "no output file: set config key '%s' of instance '%s' "
                     "or %s to the file the events should be appended to",
                     JSONL_KEY_PATH, info->instance_name, JSONL_ENV);
            return ROCKY_EINVAL;
        }
    }
    if (*path == '\0') {
        snprintf(errbuf, errbuf_size,
                 "config key '%s' is empty; set it to the file the events "
                 "should be appended to",
                 JSONL_KEY_PATH);
        return ROCKY_EINVAL;
    }

    struct jsonl *j = calloc(1, sizeof *j);
    if (j == NULL) {
        snprintf(errbuf, errbuf_size, "out of memory");
        return ROCKY_ENOMEM;
    }
    j->host = host;
    j->name = info->instance_name;
    atomic_init(&j->accepted, 0);
    atomic_init(&j->delivered, 0);
    atomic_init(&j->dropped, 0);
    atomic_init(&j->write_failure_logged, 0);
    j->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (j->fd < 0) {
        snprintf(errbuf, errbuf_size, "cannot open %s (from %s): %s", path,
                 from, strerror(errno));
        free(j);
        return ROCKY_EIO;
    }
    say(j, ROCKY_LOG_DEBUG, "writing events to %s (from %s)", path, from);
    *instance = j;
    return 0;
}

static int jsonl_on_event(void *instance, const struct rocky_event *ev)
{
    struct jsonl *j = instance;
    if (type_name(ev->type) == NULL ||
        (ev->type == ROCKY_EVENT_STATEMENT_END && statement_of(ev) == NULL))
        return 0; /* a newer host's event type: ignore, as the ABI asks */
    atomic_fetch_add(&j->accepted, 1);
    struct line l = {.cap = sizeof l.small};
    l.buf = l.small;
    format_event(&l, j, ev);
    int rc = 0;
    int err = 0;
    if (l.failed) {
        rc = ROCKY_ENOMEM;
    } else if (write(j->fd, l.buf, l.len) != (ssize_t)l.len) {
        err = errno;
        rc = ROCKY_EIO;
    }
    if (l.buf != l.small)
        free(l.buf);
    /* Taken, then lost: ours to count as dropped (not ROCKY_EAGAIN, which
     * would mean "not taken"). */
    atomic_fetch_add(rc == 0 ? &j->delivered : &j->dropped, 1);
    if (rc != 0 && atomic_exchange(&j->write_failure_logged, 1) == 0)
        say(j, ROCKY_LOG_WARN,
            "cannot write an event line (%s); dropping it (later failures "
            "are counted, not logged)",
            rc == ROCKY_EIO ? strerror(err) : j->host->strerror(rc));
    return rc;
}

static void report(struct jsonl *j, struct rocky_delivery_report *dst)
{
    /* Writes are synchronous: nothing is ever pending. */
    struct rocky_delivery_report now = {
        .struct_size = sizeof now,
        .accepted = atomic_load(&j->accepted),
        .delivered = atomic_load(&j->delivered),
        .dropped = atomic_load(&j->dropped),
        .pending = 0,
    };
    rocky_delivery_report_write(dst, &now);
}

/* Lines are in the file already; syncing only makes them durable, so it is
 * skipped when the deadline left no time to wait. */
static void sync_by(struct jsonl *j, int64_t deadline_mono_ns)
{
    if (j->fd >= 0 && j->host->mono_ns() < deadline_mono_ns)
        fdatasync(j->fd);
}

static int jsonl_flush(void *instance, int64_t deadline_mono_ns,
                       struct rocky_delivery_report *r)
{
    struct jsonl *j = instance;
    sync_by(j, deadline_mono_ns);
    report(j, r);
    return 0;
}

static int jsonl_stop(void *instance, int64_t deadline_mono_ns,
                      struct rocky_delivery_report *r)
{
    struct jsonl *j = instance;
    sync_by(j, deadline_mono_ns);
    if (j->fd >= 0 && close(j->fd) != 0)
        say(j, ROCKY_LOG_WARN, "closing the events file: %s", strerror(errno));
    j->fd = -1;
    report(j, r);
    return 0;
}

static void jsonl_destroy(void *instance)
{
    struct jsonl *j = instance;
    if (j->fd >= 0) /* not reached through a host: stop always came first */
        close(j->fd);
    free(j);
}

static const struct rocky_plugin descriptor = {
    .struct_size = sizeof(struct rocky_plugin),
    .abi_version = ROCKY_PLUGIN_ABI_VERSION,
    .name = "events_jsonl",
    .version = "2.0.0",
    .description = "writes every event as a JSON line to config 'path' or "
                   "$ROCKY_EVENTS_JSONL",
    .create = jsonl_create,
    .on_event = jsonl_on_event,
    .flush = jsonl_flush,
    .stop = jsonl_stop,
    .destroy = jsonl_destroy,
};

/* Describes the plugin only; the host checks the ABI major and refuses a
 * mismatch with both versions named, so there is nothing to check here. */
ROCKY_PLUGIN_EXPORT const struct rocky_plugin *
rocky_plugin_entry(const struct rocky_host_api *host)
{
    (void)host;
    return &descriptor;
}
