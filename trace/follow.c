/* follow.c — the live view (see follow.h). */
#include "follow.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "name_index.h"
#include "render.h"
#include "rocky/error.h"
#include "store.h"
#include "trace.h"

/* Rows already appended, keyed "name\x1fattempt"; the keys are owned here. */
struct printed {
    struct rocky_name_index index;
    char **keys;
    size_t count, cap;
};

static int printed_add(struct printed *p, const struct rocky_model_exec *m,
                       int *added)
{
    char attempt[16];
    snprintf(attempt, sizeof attempt, "\x1f%u", m->attempt);
    size_t len = strlen(m->model_name);
    char *key = malloc(len + strlen(attempt) + 1);
    if (key == NULL)
        return ROCKY_ENOMEM;
    memcpy(key, m->model_name, len);
    strcpy(key + len, attempt);
    size_t dummy;
    if (rocky_name_index_get(&p->index, key, &dummy)) {
        free(key);
        *added = 0;
        return 0;
    }
    if (p->count == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 64;
        char **keys = realloc(p->keys, cap * sizeof *keys);
        if (keys == NULL) {
            free(key);
            return ROCKY_ENOMEM;
        }
        p->keys = keys;
        p->cap = cap;
    }
    if (rocky_name_index_put(&p->index, key, p->count) != 0) {
        free(key);
        return ROCKY_ENOMEM;
    }
    p->keys[p->count++] = key;
    *added = 1;
    return 0;
}

static void printed_free(struct printed *p)
{
    for (size_t i = 0; i < p->count; i++)
        free(p->keys[i]);
    free(p->keys);
    rocky_name_index_free(&p->index);
}

static void pause_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* What a redraw shows news of: a model that started (a row appears) or
 * one that ended (its row is final); not the clock. */
static size_t news_mark(const struct rocky_run_record *rec)
{
    size_t ended = 0;
    for (size_t i = 0; i < rec->model_count; i++)
        ended += rec->models[i].finished_wall_ns != 0;
    return rec->model_count + ended * (rec->model_count + 1);
}

/* Append the rows of models that finished since the last poll (all of them
 * once the run is over, so skipped models show up too). */
static int append_new_rows(FILE *out, const struct rocky_trace *t,
                           struct printed *p, size_t width, int final)
{
    /* Widest name column from the start: rows printed over time line up. */
    struct rocky_trace_layout layout;
    rocky_trace_layout_for_names(width, SIZE_MAX, &layout);
    for (size_t i = 0; i < t->count; i++) {
        const struct rocky_trace_entry *e = &t->entries[i];
        if (!final && (!e->started || e->exec->finished_wall_ns == 0))
            continue;
        int added;
        int rc = printed_add(p, e->exec, &added);
        if (rc == 0 && added)
            rc = rocky_trace_render_text_row(out, t, e, &layout);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int rocky_trace_follow(struct rocky_store *store,
                       const struct rocky_trace_follow_opts *opts, FILE *out,
                       char *err, size_t err_size)
{
    struct printed printed = {0};
    int rc = rocky_name_index_init(&printed.index, 64);
    if (rc != 0)
        return rc;
    int header_done = 0;
    size_t last_mark = (size_t)-1;
    int64_t last_draw = 0;
    for (;;) {
        struct rocky_run_record *rec = NULL;
        rc = rocky_store_run_load(store, opts->run_id, &rec, err, err_size);
        if (rc != 0)
            break;
        int running = rec->run.status == ROCKY_RUN_RUNNING;
        struct rocky_trace t;
        rc = rocky_trace_build(rec, opts->model, rocky_clock_wall_ns(), &t, err,
                               err_size);
        if (rc == ROCKY_ENOTFOUND && running) {
            /* The model may simply not have finished yet. */
            rocky_run_record_free(rec);
            pause_ms(opts->poll_ms);
            continue;
        }
        if (rc != 0) {
            rocky_run_record_free(rec);
            break;
        }
        if (opts->redraw) {
            int64_t now = rocky_clock_mono_ns();
            size_t mark = news_mark(rec);
            /* Redraw on news (a model started or ended), and once a second
             * so running bars grow. */
            if (!running || mark != last_mark ||
                now - last_draw >= 1000000000) {
                fputs("\033[H\033[2J", out);
                rc = rocky_trace_render_text(out, &t, opts->width);
                last_mark = mark;
                last_draw = now;
            }
        } else {
            if (!header_done) {
                rc = rocky_trace_render_text_header_width(out, &t, opts->width);
                fputc('\n', out);
                header_done = 1;
            }
            if (rc == 0)
                rc = append_new_rows(out, &t, &printed, opts->width, !running);
            if (rc == 0 && !running) {
                fputc('\n', out);
                rc =
                    rocky_trace_render_text_summary_width(out, &t, opts->width);
            }
        }
        if (fflush(out) != 0 && rc == 0)
            rc = ROCKY_EIO;
        rocky_trace_release(&t);
        rocky_run_record_free(rec);
        if (rc != 0) {
            if (rc == ROCKY_EIO)
                snprintf(err, err_size, "writing the live view failed");
            break;
        }
        if (!running)
            break;
        pause_ms(opts->poll_ms);
    }
    printed_free(&printed);
    return rc;
}
