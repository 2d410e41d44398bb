/* run.c — the scheduler and the life of one run (see run.h).
 *
 * One mutex (`mu`) guards the plan state: the ready queue, per-model
 * status and the run counters. It is never held across SQL, store writes
 * or plugin calls. While workers run, the state store belongs to the
 * recorder thread (recorder.h): a worker hands a finished model over,
 * releases its dependents and takes the next model without waiting for a
 * commit; the recorder group-commits and then emits MODEL_END and prints
 * the line. Plugins get snapshots of the run taken under `mu`, so a
 * MODEL_END carries the counters as of that model's end.
 */
#include "run.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "exit_guard.h"
#include "ids.h"
#include "log.h"
#include "materialize.h"
#include "output.h"
#include "plugin_host.h"
#include "progress.h"
#include "project.h"
#include "recorder.h"
#include "rocky/error.h"
#include "run_id.h"
#include "shell_word.h"
#include "store.h"

#ifndef ROCKY_VERSION
#define ROCKY_VERSION "0.0.0"
#endif

/* The runner's stop budget: the one deadline the exit guard gives its
 * drain, which passes it to every plugin's stop. rocky_otel stops by the
 * earlier of it and its own ROCKY_OTEL_EXIT_TIMEOUT_MS (default 10 s); the
 * whole order of exit deadlines is stated once, in exit_guard.h. */
#define PLUGIN_SHUTDOWN_MS 15000

enum plan_state { WAITING, QUEUED, RUNNING, DONE };

struct runner {
    struct rocky_project *p;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t *queue; /* ring of ready model indices */
    size_t qhead, qlen;
    size_t *missing;                /* per model: deps not yet succeeded */
    int *state;                     /* enum plan_state */
    struct rocky_model_exec *execs; /* per model */
    char **errors;                  /* per model, owned */
    size_t remaining;               /* selected models not DONE */
    struct rocky_run run;           /* counters guarded by mu */
    atomic_int stop;                /* signal number once stopping */

    struct rocky_store *store;
    struct rocky_recorder *recorder; /* owns the store while workers run */
    /* The first thing the store could not record about this run (owned),
     * NULL while everything is on record; set by the main thread only. It
     * is the summary's second line and the run's last word, and makes the
     * exit status 1. */
    char *store_problem;
    int problem_rank; /* PROBLEM_* of store_problem */
    struct rocky_plugin_set *plugins;
    struct rocky_output out;
    /* The live display on a terminal, or NULL (progress.h): made and freed
     * by the main thread; workers report starts and ends to it. */
    struct rocky_progress *progress;
    char *resend; /* the undelivered run's last line (resend_line), owned */
    int plugins_recorded; /* the store knows the instances: --export alone
                             re-sends through them (rocky_store_plugins_record)
                           */
    sqlite3 **conns;
    int conns_open; /* under mu: on_stop may interrupt conns[] */
    int nthreads;
    /* The stop signals are blocked in every thread but the exit guard's
     * watcher from before the plugins load to the end (see
     * block_stop_signals); the mask to restore then. */
    sigset_t saved_mask;
    int masked;
    int guarded; /* the exit guard is ours (owner mode), plugins told */
    /* The guard's drain (on its thread): the plugins' stop outcome. Read
     * by the main thread only after rocky_guard_drain_now returned 0; each
     * instance's own is rocky_plugin_set_stop_outcome. */
    int delivery_rc;
    /* The plugins must not be touched again: their stop is still running
     * past the deadline (hung) or a second signal abandoned it. */
    int plugins_hung, plugins_abandoned;
};

static void emit(struct runner *r, uint32_t type, const struct rocky_run *run,
                 const struct rocky_model_exec *m, int64_t wall, int64_t mono)
{
    rocky_plugin_set_emit_new(r->plugins, type, 0, run, m, wall, mono);
}

/* One model execution as its statements see it: the worker's own copies,
 * so no lock is needed to report a statement. */
struct statement_ctx {
    struct runner *r;
    const struct rocky_run *run;
    const struct rocky_model_exec *model;
};

/* A statement of a running model ended (worker thread): STATEMENT_END to
 * the plugins of ABI 2.1 and later, with a span id of its own. */
static void statement_ended(void *ctx, struct rocky_statement *st)
{
    struct statement_ctx *c = ctx;
    if (rocky_plugin_set_count(c->r->plugins) == 0)
        return;
    if (rocky_random_id(st->span_id, sizeof st->span_id) != 0 ||
        rocky_id_is_zero(st->span_id, sizeof st->span_id))
        st->span_id[0] = 1; /* zero means "absent" */
    rocky_plugin_set_emit_statement(c->r->plugins, c->run, c->model, st);
}

static void enqueue(struct runner *r, size_t idx)
{
    size_t n = r->p->nmodels;
    r->queue[(r->qhead + r->qlen) % n] = idx;
    r->qlen++;
    r->state[idx] = QUEUED;
}

/* Mark everything downstream of `idx` skipped (under mu). Returns how many
 * it marked; their indices are appended to `out`. */
static size_t skip_downstream(struct runner *r, size_t idx, size_t *out,
                              size_t nout)
{
    const struct rocky_model_def *m = &r->p->models[idx];
    for (size_t i = 0; i < m->nrdeps; i++) {
        size_t d = m->rdeps[i];
        if (!r->p->models[d].selected || r->state[d] == DONE)
            continue;
        r->state[d] = DONE;
        r->remaining--;
        r->run.models_skipped++;
        struct rocky_model_exec *e = &r->execs[d];
        e->status = ROCKY_MODEL_SKIPPED;
        free(r->errors[d]);
        if (asprintf(&r->errors[d], "upstream %s did not succeed", m->name) < 0)
            r->errors[d] = NULL;
        e->error = r->errors[d];
        out[nout++] = d;
        nout = skip_downstream(r, d, out, nout);
    }
    return nout;
}

static void hand_over(struct runner *r, const struct rocky_model_exec *e,
                      const struct rocky_run *snap, int held);

/* How much of the run a store problem leaves out: a gap in its history
 * (model records, its end) outranks its plugin bookkeeping. */
enum { PROBLEM_PLUGINS = 1, PROBLEM_HISTORY = 2, PROBLEM_END = 3 };

/* Keep the gravest problem the store had, the first of its rank (see
 * struct runner); the others were logged when they happened. */
static void store_problem(struct runner *r, int rank, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void store_problem(struct runner *r, int rank, const char *fmt, ...)
{
    if (r->store_problem != NULL && r->problem_rank >= rank)
        return;
    char *text = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&text, fmt, ap) < 0)
        text = strdup("the state store failed (out of memory)");
    va_end(ap);
    free(r->store_problem);
    r->store_problem = text;
    r->problem_rank = rank;
}

static void run_one(struct runner *r, size_t idx, sqlite3 *db, size_t *skipped)
{
    struct rocky_model_exec *e = &r->execs[idx];
    const struct rocky_model_def *def = &r->p->models[idx];
    struct rocky_run snap;

    pthread_mutex_lock(&r->mu);
    e->status = ROCKY_MODEL_RUNNING;
    e->started_wall_ns = rocky_clock_wall_ns();
    e->started_mono_ns = rocky_clock_mono_ns();
    snap = r->run;
    struct rocky_model_exec start = *e;
    pthread_mutex_unlock(&r->mu);
    /* On record while it runs (recorder.h): its end updates this row. */
    if (r->recorder != NULL)
        rocky_recorder_push_start(r->recorder, &start);
    rocky_progress_started(r->progress, idx, start.model_name,
                           start.started_mono_ns);
    emit(r, ROCKY_EVENT_MODEL_START, &snap, &start, start.started_wall_ns,
         start.started_mono_ns);

    struct rocky_materialize_result res;
    struct statement_ctx sctx = {r, &snap, &start};
    struct rocky_statement_observer obs = {statement_ended, &sctx};
    int rc = rocky_materialize(db, def, &r->stop, &obs, &res);

    pthread_mutex_lock(&r->mu);
    e->finished_wall_ns = rocky_clock_wall_ns();
    e->finished_mono_ns = rocky_clock_mono_ns();
    e->rows_affected = res.rows;
    e->bytes_written = res.bytes;
    free(r->errors[idx]);
    r->errors[idx] = res.error;
    e->error = rc == 0 ? NULL : res.error;
    size_t nskipped = 0;
    if (rc == 0) {
        e->status = ROCKY_MODEL_SUCCESS;
        r->run.models_succeeded++;
        for (size_t i = 0; i < def->nrdeps; i++) {
            size_t d = def->rdeps[i];
            if (r->p->models[d].selected && r->state[d] == WAITING &&
                --r->missing[d] == 0)
                enqueue(r, d);
        }
    } else {
        e->status = rc == ROCKY_EINTERRUPTED ? ROCKY_MODEL_INTERRUPTED
                                             : ROCKY_MODEL_FAILED;
        r->run.models_failed += rc != ROCKY_EINTERRUPTED;
        nskipped = skip_downstream(r, idx, skipped, 0);
    }
    r->state[idx] = DONE;
    r->remaining--;
    rocky_progress_finished(r->progress, idx);
    for (size_t i = 0; i < nskipped; i++)
        rocky_progress_finished(r->progress, skipped[i]);
    snap = r->run;
    /* Hand over inside the lock so the recorder sees models in the order
     * they ended (a downstream model can only end after this push). Held:
     * worker_main wakes the recorder, usually with the next model's start,
     * so that one commit records both. */
    hand_over(r, e, &snap, 1);
    for (size_t i = 0; i < nskipped; i++)
        hand_over(r, &r->execs[skipped[i]], &snap, 1);
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

/* Recorder thread, after the commit: announce and print. Every planned
 * model ends with one MODEL_END (the ABI's promise), a skipped one too: it
 * never started, so it has no MODEL_START and its event time is now. */
static void delivered(void *ctx, const struct rocky_model_exec *m,
                      const struct rocky_run *run)
{
    struct runner *r = ctx;
    if (m->status == ROCKY_MODEL_SKIPPED)
        emit(r, ROCKY_EVENT_MODEL_END, run, m, rocky_clock_wall_ns(),
             rocky_clock_mono_ns());
    else
        emit(r, ROCKY_EVENT_MODEL_END, run, m, m->finished_wall_ns,
             m->finished_mono_ns);
    rocky_output_model(&r->out, m);
}

/* Hand a finished or skipped model to the recorder; without one (it could
 * not start) it is only announced, and the run is recorded as failed.
 * `held`: the recorder is not woken for it (rocky_recorder_push_held). */
static void hand_over(struct runner *r, const struct rocky_model_exec *e,
                      const struct rocky_run *snap, int held)
{
    if (r->recorder != NULL && held)
        rocky_recorder_push_held(r->recorder, e, snap);
    else if (r->recorder != NULL)
        rocky_recorder_push(r->recorder, e, snap);
    else
        delivered(r, e, snap);
}

struct worker {
    struct runner *r;
    sqlite3 *db;
    pthread_t thread;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct runner *r = w->r;
    size_t *skipped = malloc(r->p->nmodels * sizeof *skipped);
    /* run_one holds back the end it hands over (hand_over): the next
     * model's start wakes the recorder for both. Any other way on — a
     * wait, the end of the run — wakes it first, so no end waits for its
     * commit (and its line) longer than it takes to pick the next model. */
    pthread_mutex_lock(&r->mu);
    for (;;) {
        while (r->qlen == 0 && r->remaining > 0 && !atomic_load(&r->stop)) {
            rocky_recorder_wake(r->recorder);
            pthread_cond_wait(&r->cv, &r->mu);
        }
        if (r->qlen == 0 || atomic_load(&r->stop) || skipped == NULL)
            break;
        size_t idx = r->queue[r->qhead];
        r->qhead = (r->qhead + 1) % r->p->nmodels;
        r->qlen--;
        r->state[idx] = RUNNING;
        pthread_mutex_unlock(&r->mu);
        run_one(r, idx, w->db, skipped);
        pthread_mutex_lock(&r->mu);
    }
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    rocky_recorder_wake(r->recorder);
    free(skipped);
    return NULL;
}

/*
 * Only the exit guard's watcher takes the stop signals (SIGINT, SIGTERM,
 * SIGHUP, SIGQUIT: rocky_guard_stop_signals). The mask is set on the main
 * thread before the guard and the plugins start, so every thread created
 * after it inherits it: plugin threads (exporter, gRPC), the recorder, the
 * workers. A handler run on a busy thread may run late — a worker deep in
 * one SQL statement, the main thread in pthread_join, a gRPC thread in a
 * long timed wait: under TSan, whose deferred delivery waits for the
 * thread's next intercepted call, a SIGTERM was lost for a whole run or
 * hung it for minutes. A signal sent before the watcher runs stays pending
 * and reaches it when it unblocks.
 */
static int block_stop_signals(struct runner *r)
{
    sigset_t set;
    rocky_guard_stop_signals(&set);
    r->masked = pthread_sigmask(SIG_BLOCK, &set, &r->saved_mask) == 0;
    return r->masked;
}

static void unblock_stop_signals(struct runner *r)
{
    if (r->masked)
        pthread_sigmask(SIG_SETMASK, &r->saved_mask, NULL);
    r->masked = 0;
}

/* A stop signal pending for the process or this thread (all are blocked
 * here), taken without waiting; 0 when none. */
static int take_pending_stop_signal(void)
{
    sigset_t set;
    rocky_guard_stop_signals(&set);
    const struct timespec now = {0, 0};
    int signo = sigtimedwait(&set, NULL, &now);
    return signo > 0 ? signo : 0;
}

/* The guard's watcher, on the first stop signal: stop scheduling and
 * interrupt the running statements; the run then ends and is recorded as
 * interrupted, and the exit flushes (run_planned_inner). */
static void on_stop_signal(void *ctx, int signo)
{
    struct runner *r = ctx;
    int none = 0;
    atomic_compare_exchange_strong(&r->stop, &none, signo);
    pthread_mutex_lock(&r->mu);
    pthread_cond_broadcast(&r->cv);
    for (int i = 0; r->conns_open && i < r->nthreads; i++)
        if (r->conns[i] != NULL)
            sqlite3_interrupt(r->conns[i]);
    pthread_mutex_unlock(&r->mu);
}

/* The guard's one drain, on its thread (rocky_guard_drain_now, or exit()
 * from any thread): stop the plugins by the one deadline. */
static void drain_plugins(void *ctx, int64_t deadline_mono_ns)
{
    struct runner *r = ctx;
    r->delivery_rc = rocky_plugin_set_stop(r->plugins, deadline_mono_ns, NULL);
}

static void guard_log(void *ctx, int level, const char *msg)
{
    (void)ctx;
    rocky_log(level, "%s", msg);
}

/* Own the process's exit before any plugin exists (exit_guard.h, owner
 * mode), so plugins are told ROCKY_HOST_CAP_OWNS_EXIT and arm nothing. */
static void own_exit(struct runner *r)
{
    struct rocky_guard_config g = {.drain = drain_plugins,
                                   .ctx = r,
                                   .timeout_ms = PLUGIN_SHUTDOWN_MS,
                                   .log = guard_log,
                                   .on_stop = on_stop_signal,
                                   .quit_without_core = 1};
    int rc = rocky_guard_install(&g);
    r->guarded = rc == 0;
    if (!r->guarded) {
        /* Nobody would take the blocked signals: let them act. */
        unblock_stop_signals(r);
        rocky_log(ROCKY_LOG_WARN,
                  "cannot watch for stop signals (%s); Ctrl-C will end the "
                  "run without recording it",
                  rocky_strerror(rc));
    }
}

static int cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 256 ? 256 : (int)n;
}

static char *state_path_for(const struct rocky_run_options *opt,
                            const struct rocky_project *p)
{
    const char *env = getenv("ROCKY_STATE");
    char *out = NULL;
    if (opt->state_path != NULL)
        out = strdup(opt->state_path);
    else if (env != NULL && env[0] != '\0')
        out = strdup(env);
    else if (p->state_path != NULL)
        out = strdup(p->state_path);
    else if (asprintf(&out, "%s/%s", p->dir, ROCKY_STORE_DEFAULT_FILE) < 0)
        out = NULL;
    return out;
}

static void load_plugins(struct runner *r, const struct rocky_run_options *o,
                         const char *state_path)
{
    /* With the guard ours, plugins must not hook the exit themselves;
     * without it (it could not start), rocky_otel arms its own. */
    uint32_t caps = r->guarded ? ROCKY_HOST_CAP_OWNS_EXIT : 0;
    if (rocky_plugin_set_context(r->plugins, r->p->dir, state_path, caps) != 0)
        rocky_log(ROCKY_LOG_WARN, "plugins get no project context (out of "
                                  "memory)");
    for (size_t i = 0; i < o->nplugins; i++)
        rocky_plugin_set_load(r->plugins, o->plugins[i]);
    rocky_plugin_set_load_list(r->plugins, getenv("ROCKY_PLUGINS"));
    for (size_t i = 0; i < r->p->nplugins; i++)
        rocky_plugin_set_load_spec(r->plugins, &r->p->plugins[i]);
}

static void init_trace(struct rocky_run *run)
{
    struct rocky_traceparent tp;
    const char *env = getenv("TRACEPARENT");
    if (env != NULL && rocky_traceparent_parse(env, &tp) == 0) {
        memcpy(run->trace_id, tp.trace_id, sizeof run->trace_id);
        memcpy(run->parent_span_id, tp.parent_span_id,
               sizeof run->parent_span_id);
        run->trace_flags = tp.trace_flags;
        const char *ts = getenv("TRACESTATE");
        run->trace_state = ts && ts[0] ? ts : NULL;
    } else {
        if (env != NULL && env[0] != '\0')
            rocky_log(ROCKY_LOG_WARN,
                      "ignoring invalid TRACEPARENT '%s'; starting a new "
                      "trace",
                      env);
        rocky_random_id(run->trace_id, sizeof run->trace_id);
        run->trace_flags = 1;
    }
    rocky_random_id(run->span_id, sizeof run->span_id);
}

static uint32_t final_status(const struct rocky_run *run, int stop)
{
    if (stop)
        return ROCKY_RUN_INTERRUPTED;
    if (run->models_succeeded == run->models_total)
        return ROCKY_RUN_SUCCESS;
    return run->models_succeeded > 0 ? ROCKY_RUN_PARTIAL_FAILURE
                                     : ROCKY_RUN_FAILURE;
}

/* After the workers: anything selected and never started is recorded as
 * skipped, so the store and the plugins account for every planned model. */
static void record_unstarted(struct runner *r, const char *why)
{
    for (size_t k = 0; k < r->p->nmodels; k++) {
        size_t i = r->p->order[k];
        if (!r->p->models[i].selected || r->state[i] == DONE)
            continue;
        r->state[i] = DONE;
        r->run.models_skipped++;
        struct rocky_model_exec *e = &r->execs[i];
        e->status = ROCKY_MODEL_SKIPPED;
        e->error = why;
        rocky_progress_finished(r->progress, i);
        hand_over(r, e, &r->run, 0);
    }
}

static int setup(struct runner *r, const struct rocky_run_options *opt,
                 size_t nselected, char *err, size_t err_size)
{
    size_t n = r->p->nmodels;
    r->queue = calloc(n, sizeof *r->queue);
    r->missing = calloc(n, sizeof *r->missing);
    r->state = calloc(n, sizeof *r->state);
    r->execs = calloc(n, sizeof *r->execs);
    r->errors = calloc(n, sizeof *r->errors);
    r->conns = calloc((size_t)r->nthreads, sizeof *r->conns);
    /* All span ids from one getrandom call, not one syscall per model. */
    uint8_t *spans = malloc(n * ROCKY_SPAN_ID_SIZE);
    if (spans == NULL || rocky_random_id(spans, n * ROCKY_SPAN_ID_SIZE)) {
        free(spans);
        return ROCKY_ENOMEM;
    }
    if (!r->queue || !r->missing || !r->state || !r->execs || !r->errors ||
        !r->conns) {
        free(spans);
        return ROCKY_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const struct rocky_model_def *m = &r->p->models[i];
        struct rocky_model_exec *e = &r->execs[i];
        e->struct_size = sizeof *e;
        e->model_name = m->name;
        e->sql_hash = m->sql_hash;
        e->dependencies = m->dep_names;
        e->dependency_count = (uint32_t)m->ndeps;
        e->attempt = 1;
        e->rows_affected = -1;
        e->bytes_written = -1;
        memcpy(e->span_id, spans + i * ROCKY_SPAN_ID_SIZE, ROCKY_SPAN_ID_SIZE);
        if (rocky_id_is_zero(e->span_id, ROCKY_SPAN_ID_SIZE))
            e->span_id[0] = 1; /* zero means "absent" */
        /* Only selected dependencies are waited for: one left out by
         * --select/--exclude is read as it is in the target. */
        r->missing[i] = 0;
        for (size_t d = 0; d < m->ndeps; d++)
            r->missing[i] += r->p->models[m->deps[d]].selected != 0;
    }
    free(spans);
    r->remaining = nselected;
    for (size_t k = 0; k < n; k++) {
        size_t i = r->p->order[k];
        if (r->p->models[i].selected && r->missing[i] == 0)
            enqueue(r, i);
    }
    (void)opt;
    char *dir = NULL;
    if (asprintf(&dir, "%s", r->p->target_path) >= 0) {
        char *slash = strrchr(dir, '/');
        if (slash != NULL && slash != dir) {
            *slash = '\0';
            if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
                snprintf(err, err_size, "cannot create %s: %s", dir,
                         strerror(errno));
                free(dir);
                return ROCKY_EIO;
            }
        }
        free(dir);
    }
    for (int i = 0; i < r->nthreads; i++) {
        sqlite3 *db = NULL;
        int rc = rocky_target_open(r->p->target_path, &db, err, err_size);
        pthread_mutex_lock(&r->mu);
        r->conns[i] = db;
        r->conns_open = 1;
        pthread_mutex_unlock(&r->mu);
        if (rc != 0)
            return rc;
    }
    /* A stop signal during setup: the workers see r->stop and start
     * nothing. */
    return 0;
}

static void teardown(struct runner *r)
{
    pthread_mutex_lock(&r->mu);
    r->conns_open = 0; /* on_stop interrupts nothing from now on */
    pthread_mutex_unlock(&r->mu);
    if (r->conns != NULL)
        for (int i = 0; i < r->nthreads; i++)
            sqlite3_close_v2(r->conns[i]);
    if (r->errors != NULL)
        for (size_t i = 0; i < r->p->nmodels; i++)
            free(r->errors[i]);
    free(r->conns);
    free(r->errors);
    free(r->execs);
    free(r->state);
    free(r->missing);
    free(r->queue);
}

static int execute(struct runner *r)
{
    struct worker *w = calloc((size_t)r->nthreads, sizeof *w);
    if (w == NULL)
        return ROCKY_ENOMEM;
    int started = 0;
    for (int i = 0; i < r->nthreads; i++) {
        w[i].r = r;
        w[i].db = r->conns[i];
        if (pthread_create(&w[i].thread, NULL, worker_main, &w[i]) != 0)
            break;
        started++;
    }
    if (started == 0) {
        free(w);
        return ROCKY_EIO;
    }
    for (int i = 0; i < started; i++)
        pthread_join(w[i].thread, NULL);
    free(w);
    return 0;
}

/* `rocky trace <run_id> --export [--plugin P]... [--state S]`, shell-quoted:
 * the command that sends the run's telemetry again. With the instances on
 * record the re-send creates them itself (with their configuration) and
 * sends only through those that did not confirm; otherwise every loaded
 * library is named once, in load order. --state unless `rocky trace` would
 * find the store by default from here. NULL when out of memory. */
static char *resend_command(struct runner *r, const char *run_id,
                            const char *state_path, int export_pending)
{
    char *cmd = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&cmd, &len);
    if (fp == NULL)
        return NULL;
    fputs("rocky trace ", fp);
    if (export_pending) {
        fputs("--export-pending", fp);
    } else {
        rocky_shell_word(fp, run_id);
        fputs(" --export", fp);
    }
    size_t n = r->plugins_recorded ? 0 : rocky_plugin_set_count(r->plugins);
    for (size_t i = 0; i < n; i++) {
        const char *path = rocky_plugin_set_path(r->plugins, i);
        int seen = path == NULL;
        for (size_t j = 0; !seen && j < i; j++)
            seen = strcmp(path, rocky_plugin_set_path(r->plugins, j)) == 0;
        if (seen)
            continue;
        fputs(" --plugin ", fp);
        rocky_shell_word(fp, path);
    }
    if (strcmp(state_path, ROCKY_STORE_DEFAULT_FILE) != 0 &&
        strcmp(state_path, "./" ROCKY_STORE_DEFAULT_FILE) != 0) {
        fputs(" --state ", fp);
        rocky_shell_word(fp, state_path);
    }
    if (fclose(fp) != 0) {
        free(cmd);
        cmd = NULL;
    }
    return cmd;
}

/* The run's plugins did not confirm delivery: one line naming each instance
 * that did not, with what it holds (`counts`, when its stop reported), and
 * the command that sends the run again. Kept in r->resend until the very
 * end (rocky_run_main logs it after the plugins were destroyed, so it is
 * the run's last word). On stderr, so that it survives `| head`, and
 * --json stays one document. `unconfirmed` is a comma-separated list. */
static void resend_line(struct runner *r, const char *run_id,
                        const char *state_path, const char *why,
                        const char *unconfirmed)
{
    char *cmd = resend_command(r, run_id, state_path, 0);
    if (asprintf(&r->resend,
                 "plugins did not confirm delivery of run %s (%s): %s; send "
                 "them again with: %s",
                 run_id, why, unconfirmed,
                 cmd ? cmd : "`rocky trace --export-pending` (out of memory)") <
        0)
        r->resend = NULL;
    free(cmd);
    if (r->resend == NULL) /* say at least what happened */
        rocky_log(ROCKY_LOG_WARN,
                  "plugins did not confirm delivery of run %s (%s)", run_id,
                  why);
}

/* Record each instance's outcome in the store and list those that did not
 * confirm, with their counts, into `fp`. `reports` is 0 when no stop
 * report exists (the flush was abandoned or hung): then every instance is
 * unconfirmed and nothing is known of what it holds. */
static void instance_outcomes(struct runner *r, const char *run_id, int reports,
                              FILE *fp)
{
    size_t n = rocky_plugin_set_count(r->plugins), listed = 0;
    for (size_t i = 0; i < n; i++) {
        struct rocky_delivery_report rep = {.struct_size = sizeof rep};
        int rc = reports ? rocky_plugin_set_stop_outcome(r->plugins, i, &rep)
                         : ROCKY_ETIMEDOUT;
        const char *name = rocky_plugin_set_name(r->plugins, i);
        char err[1024] = "";
        if (reports && r->plugins_recorded &&
            rocky_store_plugin_delivery(r->store, run_id, name, rc == 0,
                                        rep.pending, rep.dropped, err,
                                        sizeof err) != 0)
            store_problem(r, PROBLEM_PLUGINS,
                          "run %s is recorded, but not what its plugins "
                          "delivered (%s); it stays pending for `rocky trace "
                          "--export-pending`",
                          run_id, err);
        if (rc == 0)
            continue;
        fprintf(fp, "%s%s", listed++ ? ", " : "", name);
        if (reports)
            fprintf(fp, " (%llu pending, %llu dropped)",
                    (unsigned long long)rep.pending,
                    (unsigned long long)rep.dropped);
    }
}

/* The exit flush: through the guard, so that a second stop signal ends it
 * at once and a plugin that overruns the deadline cannot hold the exit
 * (then r->plugins_hung: nothing of the set is touched again). The store
 * says delivered only for the instances that confirmed it. */
static void stop_plugins(struct runner *r, const char *run_id,
                         const char *state_path)
{
    char err[1024] = "";
    char *cmd = resend_command(r, run_id, state_path, 1);
    char *note = NULL;
    if (asprintf(&note,
                 "run %s is recorded; its telemetry was not flushed: send it "
                 "later with: %s",
                 run_id, cmd ? cmd : "rocky trace --export-pending") < 0)
        note = NULL;
    free(cmd);
    int rc = ROCKY_ESHUTDOWN;
    if (r->guarded) {
        rocky_guard_set_abandon_note(note);
        rc = rocky_guard_drain_now();
    }
    if (rc == ROCKY_ESHUTDOWN) { /* no guard: stop them here */
        drain_plugins(r, rocky_deadline_after_ms(PLUGIN_SHUTDOWN_MS));
        rc = 0;
    }
    free(note);
    const char *why = NULL;
    if (rc == ROCKY_EINTERRUPTED) {
        r->plugins_abandoned = 1;
        why = "a second stop signal abandoned the flush";
    } else if (rc == ROCKY_ETIMEDOUT) {
        r->plugins_hung = 1;
        why = "their stop did not return within the exit deadline";
    } else if (r->delivery_rc != 0) {
        why = rocky_strerror(r->delivery_rc);
    }
    /* Without a plugin report (abandoned, hung) the store keeps every
     * instance unconfirmed, as recorded when the run began. */
    int reports = rc == 0;
    if (reports && !r->plugins_recorded &&
        rocky_store_set_delivery(r->store, run_id, r->delivery_rc == 0, err,
                                 sizeof err) != 0)
        store_problem(r, PROBLEM_PLUGINS,
                      "run %s is recorded, but not what its plugins delivered "
                      "(%s); it stays pending for `rocky trace "
                      "--export-pending`",
                      run_id, err);
    char *unconfirmed = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&unconfirmed, &len);
    if (fp != NULL) {
        instance_outcomes(r, run_id, reports, fp);
        if (fclose(fp) != 0) {
            free(unconfirmed);
            unconfirmed = NULL;
        }
    }
    if (why != NULL)
        resend_line(r, run_id, state_path, why,
                    unconfirmed ? unconfirmed : "(out of memory)");
    free(unconfirmed);
}

/* Tell the store which plugin instances this run has — library, name,
 * project, configuration — so that `rocky trace --export[-pending]` can
 * create them again without --plugin, and each one's delivery can be
 * confirmed on its own. Paths are made absolute: a re-send may run from
 * another directory. The run is unconfirmed from here on, so a runner
 * killed before its plugins confirm leaves it pending. */
static void record_plugins(struct runner *r, const char *run_id)
{
    size_t n = rocky_plugin_set_count(r->plugins);
    struct rocky_store_plugin *list = calloc(n, sizeof *list);
    char **owned = calloc(2 * n + 1, sizeof *owned);
    char err[1024] = "";
    int rc = list && owned ? 0 : ROCKY_ENOMEM;
    char *project = rc == 0 ? realpath(r->p->dir, NULL) : NULL;
    if (owned != NULL)
        owned[2 * n] = project;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const char *path = rocky_plugin_set_path(r->plugins, i);
        char *abs = realpath(path, NULL);
        owned[i] = abs;
        list[i].instance = rocky_plugin_set_name(r->plugins, i);
        list[i].path = abs ? abs : path;
        list[i].project_dir = project ? project : r->p->dir;
        list[i].config_count =
            rocky_plugin_set_config(r->plugins, i, &list[i].config);
    }
    if (rc == 0)
        rc = rocky_store_plugins_record(r->store, run_id, list, n, err,
                                        sizeof err);
    r->plugins_recorded = rc == 0;
    if (rc != 0) {
        rocky_log(ROCKY_LOG_WARN,
                  "%s; the run is recorded without its plugins: re-sending "
                  "it will need --plugin",
                  err[0] ? err : rocky_strerror(rc));
        store_problem(r, PROBLEM_PLUGINS,
                      "run %s is recorded without its plugin instances (%s); "
                      "re-sending it will need --plugin",
                      run_id, err[0] ? err : rocky_strerror(rc));
        /* Still pending as a whole, for `--export-pending --plugin`. */
        if (rocky_store_set_delivery(r->store, run_id, 0, err, sizeof err) != 0)
            rocky_log(ROCKY_LOG_WARN, "%s", err);
    }
    for (size_t i = 0; owned && i <= 2 * n; i++)
        free(owned[i]);
    free(owned);
    free(list);
}

/* A stopped run exits as a shell expects of the signal (128 + signo: 130,
 * 143, 129, 131), although the runner handled it and recorded the run. */
static int exit_code(const struct rocky_run *run, int stop)
{
    if (stop != 0)
        return 128 + stop;
    return run->status == ROCKY_RUN_SUCCESS ? 0 : 1;
}

/* Everything from "the project is planned" to "the run is recorded". */
static int run_planned_inner(struct runner *r,
                             const struct rocky_run_options *opt,
                             size_t nselected, const char *state_path)
{
    char err[1024] = "";
    int code = setup(r, opt, nselected, err, sizeof err);
    if (code != 0) {
        rocky_log(ROCKY_LOG_ERROR, "%s", err[0] ? err : rocky_strerror(code));
        return 1;
    }
    char run_id[ROCKY_RUN_ID_SIZE];
    char hostname[256] = "";
    gethostname(hostname, sizeof hostname - 1);
    struct rocky_run *run = &r->run;
    run->struct_size = sizeof *run;
    run->status = ROCKY_RUN_RUNNING;
    run->started_wall_ns = rocky_clock_wall_ns();
    run->started_mono_ns = rocky_clock_mono_ns();
    rocky_run_id_make(run->started_wall_ns, run_id);
    run->run_id = run_id;
    run->project = r->p->name;
    run->trigger = opt->trigger ? opt->trigger : "manual";
    run->config_hash = r->p->config_hash;
    run->hostname = hostname;
    run->rocky_version = ROCKY_VERSION;
    run->adapter = "sqlite";
    run->models_total = (uint32_t)nselected;
    init_trace(run);

    /* The live display learns from the previous run before this one is
     * on record (and before the store belongs to the recorder thread). */
    if (rocky_progress_wanted(stdout, opt->json, opt->no_progress) &&
        rocky_progress_new(stdout, nselected, r->p->nmodels,
                           (size_t)r->nthreads, r->out.color,
                           &r->progress) == 0) {
        const char **names = calloc(r->p->nmodels + 1, sizeof *names);
        for (size_t i = 0; names != NULL && i < r->p->nmodels; i++)
            names[i] = r->p->models[i].selected ? r->p->models[i].name : NULL;
        if (names != NULL)
            rocky_progress_learn(r->progress, r->store, names);
        free(names);
    }
    if (rocky_store_run_begin(r->store, run, err, sizeof err) != 0) {
        rocky_log(ROCKY_LOG_ERROR, "%s", err);
        rocky_progress_free(r->progress); /* never started */
        r->progress = NULL;
        return 1;
    }
    /* Awaiting delivery from the start: a runner killed before its plugins
     * confirm leaves the run for `rocky trace --export-pending`. */
    if (rocky_plugin_set_count(r->plugins) > 0)
        record_plugins(r, run_id);
    struct rocky_run snap = *run;
    emit(r, ROCKY_EVENT_RUN_START, &snap, NULL, run->started_wall_ns,
         run->started_mono_ns);
    /* From RUN_START on, every path below reaches RUN_END and the plugins'
     * stop: the ABI promises it. */
    const char *unstarted_why = "not started: the run was interrupted";
    int stop = 0;
    int writer = 1;
    if (r->progress != NULL && rocky_progress_start(r->progress, &r->out.mu,
                                                    run->started_mono_ns) == 0)
        r->out.progress = r->progress;
    /* Each model's start and its end. */
    if (rocky_recorder_start(r->store, run_id, 2 * r->p->nmodels, delivered, r,
                             &r->recorder) != 0) {
        rocky_log(ROCKY_LOG_ERROR,
                  "cannot start the state store writer; no model is run");
        r->recorder = NULL;
        writer = 0;
        code = ROCKY_EIO;
        unstarted_why = "not started: the state store writer did not start";
    } else {
        code = execute(r);
        if (code != 0) {
            rocky_log(ROCKY_LOG_ERROR, "cannot start worker threads");
            unstarted_why = "not started: no worker thread could start";
        }
    }
    /* A signal from here on stops nothing more: the run is over. It still
     * decides how the process ends (rocky_run_main). */
    stop = atomic_load(&r->stop);
    record_unstarted(r, unstarted_why);
    size_t lost = 0;
    char why[512] = "";
    if (rocky_recorder_stop(r->recorder, &lost, why, sizeof why) != 0 &&
        lost == 0)
        lost = 1; /* failed without a count: at least one is missing */
    r->recorder = NULL;
    if (!writer) {
        lost = nselected; /* announced, never written */
        snprintf(why, sizeof why, "the state store writer did not start");
    }

    /* The store's record of the run: its outcome, or INCOMPLETE when model
     * records are missing (run_model.h), so that the row never claims what
     * the rows below it do not hold. RUN_END always carries the outcome:
     * the plugins saw every model. */
    run->finished_wall_ns = rocky_clock_wall_ns();
    run->finished_mono_ns = rocky_clock_mono_ns();
    uint32_t outcome = code != 0 ? ROCKY_RUN_FAILURE : final_status(run, stop);
    run->status = lost > 0 ? ROCKY_RUN_INCOMPLETE : outcome;
    if (lost > 0)
        store_problem(r, PROBLEM_HISTORY,
                      "run %s is incomplete in %s: %zu of %zu model records "
                      "could not be written (%s)",
                      run_id, state_path, lost, nselected,
                      why[0] ? why : "state store error");
    if (rocky_store_run_finish(r->store, run, err, sizeof err) != 0) {
        store_problem(r, PROBLEM_END,
                      "run %s is incomplete in %s: its end could not be "
                      "written, so `rocky trace` shows it as crashed, with "
                      "%zu of %zu model records (%s)",
                      run_id, state_path, nselected - lost, nselected, err);
        run->status = ROCKY_RUN_INCOMPLETE;
    }
    snap = *run;
    snap.status = outcome;
    emit(r, ROCKY_EVENT_RUN_END, &snap, NULL, run->finished_wall_ns,
         run->finished_mono_ns);

    /* The summary first, in plan order: it does not depend on delivery,
     * and a flush waiting for a dead collector must not hide the result. */
    /* The display goes first: what stays on screen is what off a terminal
     * would be. The recorder has delivered every line by now. */
    r->out.progress = NULL;
    rocky_progress_free(r->progress);
    r->progress = NULL;
    struct rocky_model_exec *ordered =
        calloc(nselected ? nselected : 1, sizeof *ordered);
    size_t k = 0;
    for (size_t j = 0; ordered && j < r->p->nmodels; j++) {
        size_t i = r->p->order[j];
        if (r->p->models[i].selected)
            ordered[k++] = r->execs[i];
    }
    rocky_output_finish(&r->out, run, ordered ? ordered : r->execs, k,
                        r->nthreads, state_path, r->p->target_path,
                        r->store_problem);
    free(ordered);
    fflush(stdout);

    /* Plugins: stop waits for in-flight emits, then delivers, within the
     * one exit deadline. Only a run that had plugins gets a verdict. */
    if (rocky_plugin_set_count(r->plugins) > 0)
        stop_plugins(r, run_id, state_path);
    int status = exit_code(run, stop);
    if (status == 0 && r->store_problem != NULL)
        status = 1;
    /* Retention last: this run is recorded and its telemetry flushed. */
    rocky_retention_after_run(r->store, &r->p->retention, run_id);
    run->run_id = NULL;
    return status;
}

int rocky_run_main(const struct rocky_run_options *opt)
{
    /* A reader that goes away (`rocky run | head -1`) must not kill the
     * run: with SIGPIPE ignored the write fails with EPIPE instead, and the
     * output writer stops printing (output.h). Dispositions are per
     * process; this is before any thread or plugin exists. */
    signal(SIGPIPE, SIG_IGN);
    char err[1024] = "";
    struct rocky_project *p = NULL;
    const char *dir = opt->project_dir ? opt->project_dir : ".";
    int code = rocky_project_load(dir, &p, err, sizeof err);
    if (code != 0) {
        rocky_log(ROCKY_LOG_ERROR, "%s", err);
        return 1;
    }
    for (size_t i = 0; i < p->nwarnings; i++)
        rocky_log(ROCKY_LOG_WARN, "%s", p->warnings[i]);
    size_t nselected = 0;
    code = rocky_project_select(p, opt->select, opt->nselect, opt->exclude,
                                opt->nexclude, &nselected, err, sizeof err);
    if (code != 0) {
        rocky_log(ROCKY_LOG_ERROR, "%s", err);
        rocky_project_free(p);
        return 2;
    }
    char *state_path = state_path_for(opt, p);
    struct runner r;
    memset(&r, 0, sizeof r);
    r.p = p;
    r.nthreads = opt->threads > 0 ? opt->threads
                 : p->threads > 0 ? p->threads
                                  : cpu_count();
    if ((size_t)r.nthreads > nselected)
        r.nthreads = (int)nselected; /* idle workers would only cost */
    pthread_mutex_init(&r.mu, NULL);
    pthread_cond_init(&r.cv, NULL);
    int status = 1;
    if (state_path == NULL) {
        rocky_log(ROCKY_LOG_ERROR, "out of memory");
    } else if (rocky_project_check_target(p, state_path, err, sizeof err) !=
               0) {
        rocky_log(ROCKY_LOG_ERROR, "%s", err);
    } else if (rocky_store_open(state_path, ROCKY_STORE_READWRITE, &r.store,
                                err, sizeof err) != 0) {
        rocky_log(ROCKY_LOG_ERROR, "%s", err);
    } else if (rocky_plugin_set_new(ROCKY_VERSION, &r.plugins) != 0) {
        rocky_log(ROCKY_LOG_ERROR, "out of memory");
    } else {
        block_stop_signals(&r);
        own_exit(&r);
        load_plugins(&r, opt, state_path);
        rocky_output_init(&r.out, stdout, opt->json, nselected);
        status = run_planned_inner(&r, opt, nselected, state_path);
        rocky_output_destroy(&r.out);
    }
    int untouchable = r.plugins_hung || r.plugins_abandoned;
    if (!untouchable)
        rocky_plugin_set_free(r.plugins);
    if (r.resend != NULL) /* after the plugins' own last words */
        rocky_log(ROCKY_LOG_WARN, "%s", r.resend);
    free(r.resend);
    /* The run's last word: what the store does not hold, if anything. The
     * summary said it too, but output may be --json or gone, and a
     * delivery record can fail after the summary. */
    if (r.store_problem != NULL)
        rocky_log(ROCKY_LOG_ERROR, "%s", r.store_problem);
    free(r.store_problem);
    teardown(&r);
    rocky_store_close(r.store);
    free(state_path);
    rocky_project_free(p);
    int signo = atomic_load(&r.stop);
    if (untouchable || signo != 0) {
        /* The run is recorded and reported. A plugin thread may still be
         * inside its stop (hung) or was never stopped (abandoned): no
         * destructor, atexit hook or dlclose may run under it, so the
         * process ends here, by the stop signal if one came (exit_guard.h:
         * re-raised, so a shell loop sees Ctrl-C; _exit as PID 1). */
        fflush(stdout);
        fflush(stderr);
        if (signo != 0)
            rocky_guard_die(signo);
        _exit(status);
    }
    if (r.guarded) {
        rocky_guard_disarm();
        /* The run is recorded and flushed. A stop signal that came after
         * the watcher last looked must not be lost (the exit would then
         * say nothing of it) nor hit its default action (SIGQUIT would dump
         * a core): the watcher took it just before it was joined (r.stop),
         * disarm found it unread (rocky_guard_stop_signal), or it is
         * pending, blocked in every thread now. Either way the process ends
         * by it. */
        signo = atomic_load(&r.stop);
        if (signo == 0)
            signo = rocky_guard_stop_signal();
        if (signo == 0)
            signo = take_pending_stop_signal();
        if (signo != 0) {
            fflush(stdout);
            fflush(stderr);
            rocky_guard_die(signo);
        }
        /* Left blocked (run.h, step 5): unblocking now would hand a late
         * signal its default action — a core dump for SIGQUIT — after the
         * run was recorded and flushed. */
    } else {
        unblock_stop_signals(&r);
    }
    pthread_cond_destroy(&r.cv);
    pthread_mutex_destroy(&r.mu);
    return status;
}
