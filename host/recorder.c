/* recorder.c — group-committing writer thread (see recorder.h). */
#include "recorder.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "rocky/error.h"
#include "store.h"
#include "store_batch.h"

struct item {
    struct rocky_model_exec model;
    struct rocky_run run;
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
    int error;
    pthread_t thread;
};

static void fail_once(struct rocky_recorder *r, int code, const char *err)
{
    if (r->error == 0) {
        r->error = code;
        rocky_log(ROCKY_LOG_ERROR, "%s", err);
    }
}

/* Commit items [from, to) in one transaction, then deliver them. */
static void commit(struct rocky_recorder *r, size_t from, size_t to)
{
    char err[512] = "";
    int code =
        to - from > 1 ? rocky_store_batch_begin(r->store, err, sizeof err) : 0;
    int batched = code == 0 && to - from > 1;
    if (code != 0)
        fail_once(r, code, err); /* fall back to one commit each */
    for (size_t i = from; i < to; i++) {
        code = rocky_store_model_record(r->store, r->run_id, &r->items[i].model,
                                        err, sizeof err);
        if (code != 0)
            fail_once(r, code, err);
    }
    if (batched) {
        int rc = rocky_store_batch_commit(r->store, err, sizeof err);
        if (rc != 0)
            fail_once(r, rc, err);
    }
    for (size_t i = from; i < to; i++)
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

void rocky_recorder_push(struct rocky_recorder *r,
                         const struct rocky_model_exec *model,
                         const struct rocky_run *run)
{
    pthread_mutex_lock(&r->mu);
    if (r->pushed < r->capacity) {
        r->items[r->pushed].model = *model;
        r->items[r->pushed].run = *run;
        r->pushed++;
        pthread_cond_signal(&r->cv);
    }
    pthread_mutex_unlock(&r->mu);
}

int rocky_recorder_stop(struct rocky_recorder *r)
{
    if (r == NULL)
        return 0;
    pthread_mutex_lock(&r->mu);
    r->stopping = 1;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->thread, NULL);
    int error = r->error;
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    free(r->items);
    free(r);
    return error;
}
