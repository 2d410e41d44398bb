/* progress.c — the live progress display (see progress.h). */
#include "progress.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "rocky/error.h"
#include "store.h"
#include "term_escape.h"

#define TICK_MS     100 /* at most ten redraws a second */
#define SHOW_MODELS 3   /* running models listed below the counter line */

struct slot {
    const char *name; /* NULL: free */
    size_t idx;
    int64_t start_ns;
};

struct rocky_progress {
    FILE *out;
    int color;
    size_t total, nmodels, nslots;

    /* Guarded by state_mu (workers, main, ticker). */
    pthread_mutex_t state_mu;
    struct slot *slots;
    size_t done, running;
    int64_t *est_ns;     /* per model index; -1 unknown */
    int64_t est_left_ns; /* sum of est_ns over unfinished known models */
    size_t unknown_left; /* unfinished models without an estimate */
    int64_t est_mean_ns; /* mean known duration, for the unknown ones */
    int has_estimate;

    /* Guarded by draw_mu (the output's lock). */
    pthread_mutex_t *draw_mu;
    int lines_drawn; /* lines of the display on screen now */
    int broken;      /* a write failed: draw nothing more */
    int64_t run_start_ns;

    /* The ticker: tick_mu guards `stopping`. */
    pthread_mutex_t tick_mu;
    pthread_cond_t tick_cv;
    int stopping;
    int ticking;
    pthread_t thread;
};

int rocky_progress_wanted(FILE *out, int json, int no_progress)
{
    return !json && !no_progress && out != NULL && isatty(fileno(out));
}

int rocky_progress_new(FILE *out, size_t total, size_t nmodels, size_t slots,
                       int color, struct rocky_progress **out_progress)
{
    *out_progress = NULL;
    struct rocky_progress *p = calloc(1, sizeof *p);
    if (p == NULL)
        return ROCKY_ENOMEM;
    p->nslots = slots ? slots : 1;
    p->slots = calloc(p->nslots, sizeof *p->slots);
    p->est_ns = malloc((nmodels ? nmodels : 1) * sizeof *p->est_ns);
    if (p->slots == NULL || p->est_ns == NULL) {
        free(p->slots);
        free(p->est_ns);
        free(p);
        return ROCKY_ENOMEM;
    }
    for (size_t i = 0; i < nmodels; i++)
        p->est_ns[i] = -1;
    p->out = out;
    p->color = color;
    p->total = total;
    p->nmodels = nmodels;
    p->unknown_left = total;
    pthread_mutex_init(&p->state_mu, NULL);
    pthread_mutex_init(&p->tick_mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->tick_cv, &ca);
    pthread_condattr_destroy(&ca);
    *out_progress = p;
    return 0;
}

struct known {
    const char *name;
    int64_t duration_ns;
};

static int cmp_known(const void *a, const void *b)
{
    return strcmp(((const struct known *)a)->name,
                  ((const struct known *)b)->name);
}

void rocky_progress_learn(struct rocky_progress *p, struct rocky_store *store,
                          const char *const *names)
{
    struct rocky_run_record *rec = NULL;
    char err[256];
    if (p == NULL || store == NULL ||
        rocky_store_run_load(store, "latest", &rec, err, sizeof err) != 0)
        return;
    struct known *k =
        calloc(rec->model_count ? rec->model_count : 1, sizeof *k);
    size_t nk = 0;
    for (size_t i = 0; k != NULL && i < rec->model_count; i++) {
        const struct rocky_model_exec *m = &rec->models[i];
        if (m->started_wall_ns > 0 && m->finished_wall_ns > m->started_wall_ns)
            k[nk++] = (struct known){m->model_name,
                                     m->finished_wall_ns - m->started_wall_ns};
    }
    if (nk > 0) {
        qsort(k, nk, sizeof *k, cmp_known);
        pthread_mutex_lock(&p->state_mu);
        int64_t sum = 0;
        size_t count = 0;
        for (size_t i = 0; i < p->nmodels; i++) {
            if (names[i] == NULL)
                continue;
            struct known key = {names[i], 0};
            const struct known *hit =
                bsearch(&key, k, nk, sizeof *k, cmp_known);
            if (hit == NULL)
                continue;
            p->est_ns[i] = hit->duration_ns;
            p->est_left_ns += hit->duration_ns;
            p->unknown_left--;
            sum += hit->duration_ns;
            count++;
        }
        if (count > 0) {
            p->has_estimate = 1;
            p->est_mean_ns = sum / (int64_t)count;
        }
        pthread_mutex_unlock(&p->state_mu);
    }
    free(k);
    rocky_run_record_free(rec); /* names in k pointed into it: done above */
}

void rocky_progress_started(struct rocky_progress *p, size_t idx,
                            const char *name, int64_t mono_ns)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->state_mu);
    for (size_t i = 0; i < p->nslots; i++) {
        if (p->slots[i].name == NULL) {
            p->slots[i] = (struct slot){name, idx, mono_ns};
            break;
        }
    }
    p->running++;
    pthread_mutex_unlock(&p->state_mu);
}

void rocky_progress_finished(struct rocky_progress *p, size_t idx)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->state_mu);
    for (size_t i = 0; i < p->nslots; i++) {
        if (p->slots[i].name != NULL && p->slots[i].idx == idx) {
            p->slots[i].name = NULL;
            p->running--;
            break;
        }
    }
    p->done++;
    if (idx < p->nmodels && p->est_ns[idx] >= 0)
        p->est_left_ns -= p->est_ns[idx];
    else if (p->unknown_left > 0)
        p->unknown_left--;
    pthread_mutex_unlock(&p->state_mu);
}

/* "12.3s", "4m05s", "2h03m". */
static void fmt_duration(char *buf, size_t size, int64_t ns)
{
    if (ns < 0)
        ns = 0;
    int64_t s = ns / 1000000000;
    if (s < 60)
        snprintf(buf, size, "%.1fs", (double)ns / 1e9);
    else if (s < 3600)
        snprintf(buf, size, "%lldm%02llds", (long long)(s / 60),
                 (long long)(s % 60));
    else
        snprintf(buf, size, "%lldh%02lldm", (long long)(s / 3600),
                 (long long)(s / 60 % 60));
}

/* Columns of the terminal we draw on, read at every redraw (resizes). */
static size_t term_width(FILE *out)
{
    struct winsize ws;
    if (ioctl(fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    const char *env = getenv("COLUMNS");
    long c = env ? strtol(env, NULL, 10) : 0;
    return c > 0 && c < 10000 ? (size_t)c : 80;
}

/* Append `text` (escaped, no control bytes) to `line`, cut so that the
 * line holds at most `cols` characters (UTF-8 code points, each taken as
 * one column); a cut line ends with "…" when there is room for it. */
struct line {
    char buf[1024];
    size_t len, cols, max;
};

static void put(struct line *l, const char *text)
{
    for (const unsigned char *s = (const unsigned char *)text; *s;) {
        size_t n = 1;
        if (*s >= 0xf0)
            n = 4;
        else if (*s >= 0xe0)
            n = 3;
        else if (*s >= 0xc0)
            n = 2;
        for (size_t i = 1; i < n; i++)
            if ((s[i] & 0xc0) != 0x80)
                n = i; /* broken sequence: escaped text has none */
        if (l->cols + 1 > l->max || l->len + n + 4 >= sizeof l->buf) {
            l->cols = l->max + 1; /* full: drop the rest */
            return;
        }
        memcpy(l->buf + l->len, s, n);
        l->len += n;
        l->cols++;
        s += n;
    }
}

static void line_init(struct line *l, size_t max)
{
    l->len = 0;
    l->cols = 0;
    l->max = max;
    l->buf[0] = '\0';
}

/* Close a line: NUL-terminated; "…" replaces its last column if cut. */
static void line_end(struct line *l)
{
    if (l->cols > l->max && l->len > 0 && l->max > 0) {
        /* drop the last code point, then add the ellipsis */
        while (l->len > 0 && ((unsigned char)l->buf[l->len - 1] & 0xc0) == 0x80)
            l->len--;
        if (l->len > 0)
            l->len--;
        memcpy(l->buf + l->len, "\xe2\x80\xa6", 3);
        l->len += 3;
    }
    l->buf[l->len] = '\0';
}

static void erase(struct rocky_progress *p)
{
    if (p->lines_drawn == 0 || p->broken)
        return;
    if (p->lines_drawn > 1)
        fprintf(p->out, "\r\033[%dA\033[J", p->lines_drawn - 1);
    else
        fputs("\r\033[J", p->out);
    p->lines_drawn = 0;
}

void rocky_progress_erase(struct rocky_progress *p)
{
    if (p != NULL)
        erase(p);
}

static int cmp_slot_age(const void *a, const void *b)
{
    const struct slot *x = a, *y = b;
    return (x->start_ns > y->start_ns) - (x->start_ns < y->start_ns);
}

static void draw(struct rocky_progress *p)
{
    if (p->broken)
        return;
    struct slot run[256];
    size_t nrun = 0, done, running;
    int64_t left_ns = -1;
    int64_t now = rocky_clock_mono_ns();
    pthread_mutex_lock(&p->state_mu);
    done = p->done;
    running = p->running;
    int64_t est_running = 0;
    for (size_t i = 0; i < p->nslots && nrun < 256; i++) {
        if (p->slots[i].name == NULL)
            continue;
        run[nrun++] = p->slots[i];
        int64_t est = p->est_ns[p->slots[i].idx];
        int64_t ran = now - p->slots[i].start_ns;
        if (est >= 0)
            est_running += ran < est ? ran : est;
    }
    if (p->has_estimate) {
        int64_t work = p->est_left_ns - est_running +
                       (int64_t)p->unknown_left * p->est_mean_ns;
        size_t lanes =
            p->nslots < p->total - done ? p->nslots : p->total - done;
        left_ns = work / (int64_t)(lanes ? lanes : 1);
    }
    pthread_mutex_unlock(&p->state_mu);
    qsort(run, nrun, sizeof *run, cmp_slot_age);

    size_t width = term_width(p->out);
    /* One column short of the width: a line that fills the last column
     * makes some terminals wrap the cursor. */
    size_t max = width > 1 ? width - 1 : 1;
    struct line l;
    char tmp[160], a[32], b[32];
    int lines = 0;

    line_init(&l, max);
    fmt_duration(a, sizeof a, now - p->run_start_ns);
    snprintf(tmp, sizeof tmp, "[%zu/%zu] %zu running, %s", done, p->total,
             running, a);
    put(&l, tmp);
    if (left_ns >= 0) {
        fmt_duration(b, sizeof b, left_ns);
        snprintf(tmp, sizeof tmp, ", ~%s left", b);
        put(&l, tmp);
    }
    line_end(&l);
    fprintf(p->out, "%s%s%s", p->color ? "\033[1m" : "", l.buf,
            p->color ? "\033[0m" : "");
    lines++;
    for (size_t i = 0; i < nrun && i < SHOW_MODELS; i++) {
        line_init(&l, max);
        put(&l, "  ");
        fmt_duration(a, sizeof a, now - run[i].start_ns);
        put(&l, a);
        put(&l, "  ");
        char *name = rocky_term_escape_dup(run[i].name, 0);
        put(&l, name ? name : "?");
        free(name);
        line_end(&l);
        fprintf(p->out, "\n%s%s%s", p->color ? "\033[2m" : "", l.buf,
                p->color ? "\033[0m" : "");
        lines++;
    }
    if (nrun > SHOW_MODELS) {
        line_init(&l, max);
        snprintf(tmp, sizeof tmp, "  and %zu more", nrun - SHOW_MODELS);
        put(&l, tmp);
        line_end(&l);
        fprintf(p->out, "\n%s", l.buf);
        lines++;
    }
    p->lines_drawn = lines;
    if (fflush(p->out) != 0 || ferror(p->out))
        p->broken = 1;
}

void rocky_progress_draw(struct rocky_progress *p)
{
    if (p != NULL && p->ticking)
        draw(p);
}

static void *ticker(void *arg)
{
    struct rocky_progress *p = arg;
    pthread_mutex_lock(&p->tick_mu);
    while (!p->stopping) {
        pthread_mutex_unlock(&p->tick_mu);
        pthread_mutex_lock(p->draw_mu);
        erase(p);
        draw(p);
        pthread_mutex_unlock(p->draw_mu);
        pthread_mutex_lock(&p->tick_mu);
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += TICK_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        while (!p->stopping && pthread_cond_timedwait(&p->tick_cv, &p->tick_mu,
                                                      &until) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&p->tick_mu);
    return NULL;
}

int rocky_progress_start(struct rocky_progress *p, pthread_mutex_t *draw_mu,
                         int64_t run_start_mono_ns)
{
    p->draw_mu = draw_mu;
    pthread_mutex_lock(draw_mu);
    p->run_start_ns = run_start_mono_ns;
    p->ticking = 1;
    pthread_mutex_unlock(draw_mu);
    if (pthread_create(&p->thread, NULL, ticker, p) != 0) {
        pthread_mutex_lock(draw_mu);
        p->ticking = 0;
        pthread_mutex_unlock(draw_mu);
        return ROCKY_EIO;
    }
    return 0;
}

void rocky_progress_stop(struct rocky_progress *p)
{
    if (p == NULL || !p->ticking)
        return;
    pthread_mutex_lock(&p->tick_mu);
    p->stopping = 1;
    pthread_cond_signal(&p->tick_cv);
    pthread_mutex_unlock(&p->tick_mu);
    pthread_join(p->thread, NULL);
    pthread_mutex_lock(p->draw_mu);
    erase(p);
    if (!p->broken && (fflush(p->out) != 0 || ferror(p->out)))
        p->broken = 1;
    p->ticking = 0;
    pthread_mutex_unlock(p->draw_mu);
}

void rocky_progress_free(struct rocky_progress *p)
{
    if (p == NULL)
        return;
    rocky_progress_stop(p);
    pthread_cond_destroy(&p->tick_cv);
    pthread_mutex_destroy(&p->tick_mu);
    pthread_mutex_destroy(&p->state_mu);
    free(p->slots);
    free(p->est_ns);
    free(p);
}
