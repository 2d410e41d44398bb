/*
 * fuzz_trace_render.c — `rocky trace` renders whatever the store holds, and
 * the store holds whatever the project, the SQL's errors and a damaged or
 * hand-made file put there. Each input is decoded into a run record
 * (arbitrary names — invalid UTF-8, control characters, markup — times,
 * statuses, counters, dependencies), built into a timeline
 * (rocky_trace_build, optionally filtered to one model) and rendered as
 * text, JSON, Chrome trace and HTML.
 *
 * Invariants: JSON and Chrome output parse (cJSON) and are valid UTF-8; the
 * text view is terminal-safe (fuzz_terminal.h); no '<' of the record's
 * strings reaches the HTML page unescaped; every renderer returns 0.
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_terminal.h"
#include "render.h"
#include "rocky/error.h"
#include "run_record.h"
#include "trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A cursor over the input; reads past its end give zeros. */
struct in {
    const uint8_t *p;
    size_t left;
};

static uint8_t byte(struct in *in)
{
    if (in->left == 0)
        return 0;
    in->left--;
    return *in->p++;
}

static int64_t i64(struct in *in)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | byte(in);
    return (int64_t)v;
}

/* A string: length byte, then that many bytes (NULs cut it short). `null`
 * lets a 0xff length stand for NULL. */
static char *str(struct in *in, int null)
{
    uint8_t len = byte(in);
    if (null && len == 0xff)
        return NULL;
    char *s = malloc((size_t)len + 1);
    if (s == NULL)
        abort();
    size_t n = len < in->left ? len : in->left;
    memcpy(s, in->p, n);
    s[n] = '\0';
    in->p += n;
    in->left -= n;
    return s;
}

/* A time: mostly near a fixed base so timelines are plausible, sometimes
 * raw (negative, huge, INT64_MIN...). */
#define BASE_NS INT64_C(1764050400000000000) /* 2025-11-25T06:00:00Z */
static int64_t when(struct in *in)
{
    uint8_t mode = byte(in);
    switch (mode % 4) {
    case 0: return 0;
    case 1: return BASE_NS + (int64_t)byte(in) * 100000000;
    case 2: return BASE_NS + ((int64_t)byte(in) << 8 | byte(in)) * 1000000;
    default: return i64(in);
    }
}

static int valid_utf8(const unsigned char *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        unsigned c = s[i];
        size_t n = c < 0x80                 ? 1
                   : c >= 0xc2 && c <= 0xdf ? 2
                   : c >= 0xe0 && c <= 0xef ? 3
                   : c >= 0xf0 && c <= 0xf4 ? 4
                                            : 0;
        if (n == 0 || i + n > len)
            return 0;
        unsigned cp = n == 1 ? c : c & (0x7f >> n);
        for (size_t k = 1; k < n; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
            (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
            return 0;
        i += n;
    }
    return 1;
}

static void check_json(const char *text, size_t len)
{
    if (!valid_utf8((const unsigned char *)text, len))
        abort();
    cJSON *doc = cJSON_ParseWithLength(text, len);
    if (doc == NULL)
        abort();
    cJSON_Delete(doc);
}

static struct rocky_run_record *decode(struct in *in)
{
    struct rocky_run_record *rec = rocky_run_record_new();
    if (rec == NULL)
        abort();
    struct rocky_run run;
    memset(&run, 0, sizeof run);
    run.struct_size = sizeof run;
    run.status = byte(in) % 8; /* 6, 7: unknown values */
    run.started_wall_ns = when(in);
    run.finished_wall_ns = when(in);
    char *strings[7];
    run.run_id = strings[0] = str(in, 0);
    run.project = strings[1] = str(in, 0);
    run.trigger = strings[2] = str(in, 0);
    run.config_hash = strings[3] = str(in, 1);
    run.hostname = strings[4] = str(in, 1);
    run.rocky_version = strings[5] = str(in, 1);
    run.trace_state = strings[6] = str(in, 1);
    for (size_t i = 0; i < ROCKY_TRACE_ID_SIZE; i++)
        run.trace_id[i] = byte(in);
    run.models_total = byte(in);
    if (rocky_run_record_set_run(rec, &run) != 0)
        abort();
    for (size_t i = 0; i < 7; i++)
        free(strings[i]);

    size_t models = byte(in) % 48;
    for (size_t i = 0; i < models && in->left > 0; i++) {
        struct rocky_model_exec m;
        memset(&m, 0, sizeof m);
        m.struct_size = sizeof m;
        char *name = str(in, 0), *hash = str(in, 1), *error = str(in, 1);
        m.model_name = name;
        m.sql_hash = hash;
        m.error = error;
        m.status = byte(in) % 8;
        m.started_wall_ns = when(in);
        m.finished_wall_ns = when(in);
        uint8_t counters = byte(in);
        m.rows_affected = counters & 1 ? i64(in) : -1;
        m.bytes_written = counters & 2 ? i64(in) : -1;
        m.attempt = byte(in);
        char *deps[4];
        m.dependency_count = byte(in) % 5;
        for (uint32_t d = 0; d < m.dependency_count; d++)
            deps[d] = str(in, 0);
        m.dependencies = (const char *const *)deps;
        for (size_t k = 0; k < ROCKY_SPAN_ID_SIZE; k++)
            m.span_id[k] = byte(in);
        if (rocky_run_record_add_model(rec, &m) != 0)
            abort();
        for (uint32_t d = 0; d < m.dependency_count; d++)
            free(deps[d]);
        free(name);
        free(hash);
        free(error);
    }
    return rec;
}

/* Render into memory with `fn`; returns the text (caller frees). */
static char *render(int (*fn)(FILE *, const struct rocky_trace *),
                    const struct rocky_trace *t, size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    if (f == NULL)
        abort();
    if (fn(f, t) != 0)
        abort();
    if (fclose(f) != 0)
        abort();
    return buf;
}

static size_t count_lt(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += s[i] == '<';
    return n;
}

static void replace_lt(const char *s)
{
    for (char *p = (char *)s; p != NULL && *p; p++)
        if (*p == '<')
            *p = 'x';
}

/* Every '<' in the record's strings becomes 'x', in place (it owns them). */
static void defuse(struct rocky_run_record *rec)
{
    const struct rocky_run *r = &rec->run;
    const char *run_strings[] = {r->run_id,      r->project,  r->trigger,
                                 r->config_hash, r->hostname, r->rocky_version,
                                 r->trace_state};
    for (size_t i = 0; i < sizeof run_strings / sizeof run_strings[0]; i++)
        replace_lt(run_strings[i]);
    for (size_t i = 0; i < rec->model_count; i++) {
        const struct rocky_model_exec *m = &rec->models[i];
        replace_lt(m->model_name);
        replace_lt(m->sql_hash);
        replace_lt(m->error);
        for (uint32_t d = 0; d < m->dependency_count; d++)
            replace_lt(m->dependencies[d]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct in in = {data, size};
    uint8_t options = byte(&in);
    size_t width = byte(&in);
    int64_t now = when(&in);
    struct rocky_run_record *rec = decode(&in);

    /* Options bit 0: filter to the first model's name. */
    const char *filter = (options & 1) && rec->model_count > 0
                             ? rec->models[0].model_name
                             : NULL;
    struct rocky_trace t;
    char err[512];
    int rc = rocky_trace_build(rec, filter, now, &t, err, sizeof err);
    if (rc != 0) {
        if (rc != ROCKY_ENOTFOUND && rc != ROCKY_ENOMEM)
            abort();
        rocky_trace_release(&t);
        rocky_run_record_free(rec);
        return 0;
    }

    /* trace.h: offsets and durations never negative, every bar inside the
     * run (the renderers scale by it). */
    for (size_t i = 0; i < t.count; i++) {
        const struct rocky_trace_entry *e = &t.entries[i];
        if (e->start_offset_ns < 0 || e->duration_ns < 0 ||
            e->duration_ns > t.run_duration_ns - e->start_offset_ns)
            abort();
    }

    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f == NULL || rocky_trace_render_text(f, &t, width) != 0 ||
        fclose(f) != 0)
        abort();
    if (!fuzz_terminal_safe(buf, len))
        abort(); /* a name, an error or an id can drive the terminal */
    free(buf);

    buf = render(rocky_trace_render_json, &t, &len);
    check_json(buf, len);
    free(buf);
    buf = render(rocky_trace_render_chrome, &t, &len);
    check_json(buf, len);
    free(buf);

    /* The page has as many '<' as it has with every '<' of the record's
     * strings replaced by 'x' (same lengths): none came from the store. */
    buf = render(rocky_trace_render_html, &t, &len);
    size_t tags = count_lt(buf, len);
    free(buf);
    defuse(rec);
    buf = render(rocky_trace_render_html, &t, &len);
    if (count_lt(buf, len) != tags)
        abort(); /* markup from the store reached the page */
    free(buf);

    rocky_trace_release(&t);
    rocky_run_record_free(rec);
    return 0;
}
