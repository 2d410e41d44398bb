/* recorder.c — group-committing writer thread (see recorder.h). */
#include "recorder.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "rocky/error.h"
#include "store.h"
#include "store_batch.h"

/* A model's start (written, never delivered) or its end (written, then
 * delivered). */
struct item {
    struct rocky_model_exec model;
    struct rocky_run run; /* ends only */
    int is_start;
};

struct rocky_recorder {
    struct rocky_store *store;
    const char *run_id;
    rocky_recorder_delivered_fn cb;
    void *ctx;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct item *items; /* append-only, `capacity` slots */
    size_t capacity, pushed, taken;
    int stopping;
    int error;   /* of the first lost item (recorder thread, then stop) */
    size_t lost; /* end items not written */
    size_t starts_lost; /* start items not written (their ends insert) */
    char first_error[512];
    pthread_t thread;
};

/* An item whose record could not be written, even when tried again. */
static void lost(struct rocky_recorder *r, int code, const char *err)
{
    if (r->lost++ == 0) {
        r->error = code;
        snprintf(r->first_error, sizeof r->first_error, "%s", err);
        rocky_log(ROCKY_LOG_ERROR, "%s", err);
    }
}

static int write_item(struct rocky_recorder *r, const struct item *it,
                      char *err, size_t err_size)
{
    return it->is_start ? rocky_store_model_start(r->store, r->run_id,
                                                  &it->model, err, err_size)
                        : rocky_store_model_record(r->store, r->run_id,
                                                   &it->model, err, err_size);
}

/* Items [from, to) in one transaction; 0 or the first error (nothing of the
 * batch is kept then). */
static int commit_batch(struct rocky_recorder *r, size_t from, size_t to,
                        char *err, size_t err_size)
{
    int code = rocky_store_batch_begin(r->store, err, err_size);
    for (size_t i = from; code == 0 && i < to; i++)
        code = write_item(r, &r->items[i], err, err_size);
    if (code == 0)
        return rocky_store_batch_commit(r->store, err, err_size);
    rocky_store_batch_rollback(r->store);
    return code;
}

/*
 * Commit items [from, to), then deliver them. A failed batch is given up
 * whole and its items written one by one, each tried twice, so a transient
 * error (an I/O error once) costs nothing; an item that still cannot be
 * written (disk full) is counted as lost and the run ends incomplete
 * (recorder.h). It is delivered all the same: every planned model gets its
 * MODEL_END, and its line says what it did.
 */
static void commit(struct rocky_recorder *r, size_t from, size_t to)
{
    char err[512] = "";
    if (to - from > 1 && commit_batch(r, from, to, err, sizeof err) == 0)
        from = to; /* nothing left to write one by one */
    for (size_t i = from; i < to; i++) {
        int code = 0;
        for (int attempt = 0; attempt < 2; attempt++) {
            code = write_item(r, &r->items[i], err, sizeof err);
            if (code == 0)
                break;
        }
        /* A start that cannot be written costs only the live view: its
         * end inserts the row instead of updating it. */
        if (code != 0 && r->items[i].is_start) {
            if (r->starts_lost++ == 0)
                rocky_log(ROCKY_LOG_WARN,
                          "a model start could not be recorded (%s); it is "
                          "recorded when it ends",
                          err);
        } else if (code != 0) {
            lost(r, code, err);
        }
    }
}

static void deliver(struct rocky_recorder *r, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        if (!r->items[i].is_start)
            r->cb(r->ctx, &r->items[i].model, &r->items[i].run);
}

static void *recorder_main(void *arg)
{
    struct rocky_recorder *r = arg;
    pthread_mutex_lock(&r->mu);
    for (;;) {
        while (r->taken == r->pushed && !r->stopping)
            pthread_cond_wait(&r->cv, &r->mu);
        if (r->taken == r->pushed && r->stopping)
            break;
        size_t from = r->taken, to = r->pushed;
        r->taken = to;
        pthread_mutex_unlock(&r->mu);
        commit(r, from, to); /* slots below `pushed` are never rewritten */
        deliver(r, from, to);
        pthread_mutex_lock(&r->mu);
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

int rocky_recorder_start(struct rocky_store *store, const char *run_id,
                         size_t capacity, rocky_recorder_delivered_fn cb,
                         void *ctx, struct rocky_recorder **out)
{
    *out = NULL;
    struct rocky_recorder *r = calloc(1, sizeof *r);
    if (r == NULL)
        return ROCKY_ENOMEM;
    r->items = calloc(capacity ? capacity : 1, sizeof *r->items);
    if (r->items == NULL) {
        free(r);
        return ROCKY_ENOMEM;
    }
    r->store = store;
    r->run_id = run_id;
    r->cb = cb;
    r->ctx = ctx;
    r->capacity = capacity;
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    if (pthread_create(&r->thread, NULL, recorder_main, r) != 0) {
        pthread_cond_destroy(&r->cv);
        pthread_mutex_destroy(&r->mu);
        free(r->items);
        free(r);
        return ROCKY_EIO;
    }
    *out = r;
    return 0;
}

/* The signal comes after the unlock: signalled under the lock, the woken
 * recorder would find the lock still held and sleep on it once more. The
 * recorder re-checks `pushed` under the lock, so no wake-up is lost; and
 * nobody pushes once stop has begun (recorder.h), so `r` is still there. */
static void push(struct rocky_recorder *r, const struct rocky_model_exec *model,
                 const struct rocky_run *run, int is_start, int wake)
{
    pthread_mutex_lock(&r->mu);
    if (r->pushed < r->capacity) {
        struct item *it = &r->items[r->pushed];
        it->model = *model;
        if (run != NULL)
            it->run = *run;
        it->is_start = is_start;
        r->pushed++;
    }
    pthread_mutex_unlock(&r->mu);
    if (wake)
        pthread_cond_signal(&r->cv);
}

void rocky_recorder_push(struct rocky_recorder *r,
                         const struct rocky_model_exec *model,
                         const struct rocky_run *run)
{
    push(r, model, run, 0, 1);
}

void rocky_recorder_push_held(struct rocky_recorder *r,
                              const struct rocky_model_exec *model,
                              const struct rocky_run *run)
{
    push(r, model, run, 0, 0);
}

void rocky_recorder_push_start(struct rocky_recorder *r,
                               const struct rocky_model_exec *model)
{
    push(r, model, NULL, 1, 1);
}

void rocky_recorder_wake(struct rocky_recorder *r)
{
    if (r != NULL)
        pthread_cond_signal(&r->cv);
}

int rocky_recorder_stop(struct rocky_recorder *r, size_t *lost, char *err,
                        size_t err_size)
{
    *lost = 0;
    if (r == NULL)
        return 0;
    pthread_mutex_lock(&r->mu);
    r->stopping = 1;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->thread, NULL);
    int error = r->error;
    *lost = r->lost;
    if (error != 0 && err != NULL && err_size > 0)
        snprintf(err, err_size, "%s", r->first_error);
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    free(r->items);
    free(r);
    return error;
}
