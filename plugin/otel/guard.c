/*
 * guard.c — the exit guard (contract and exit-path table in guard.h).
 *
 * Threads and who owns what:
 *   - the host's threads: call install/disarm, run exit() and the atexit
 *     handler, and take the signals;
 *   - the watcher: blocks on the signal pipe; on a signal it asks for the
 *     drain, waits for it with a deadline, then ends the process;
 *   - the worker: waits for a drain request, runs cfg.drain once, reports.
 * Everything below `lock` is read and written only under it. `state`,
 * `signalled` and `owner_pid` are atomics because the signal handler reads
 * them. The pipe descriptors and `slots[].prev` are written only while the
 * handler cannot use them (before `state` becomes ARMED, or in a forked
 * child after it became DEAD).
 */
#include "guard.h"

#include "rocky/error.h"
#include "rocky/plugin.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum guard_state {
    UNINSTALLED = 0,
    ARMED = 1,    /* drains on the next exit path                       */
    DISARMED = 2, /* explicit shutdown happened; drains never again     */
    DEAD = 3      /* we are a forked child of an armed process          */
};

/* How long after its deadline a drain still gets to return before the
 * process moves on without it: enough for a drain that honours the
 * deadline to finish its last write and report. */
#define GRACE_NS 100000000LL

#define NS_PER_MS 1000000LL
#define NS_PER_S  1000000000LL

struct slot {
    int signo;
    const char *name;
    bool hooked;           /* our handler was installed for this signal */
    struct sigaction prev; /* the host's disposition before install   */
};

static struct slot slots[] = {
    {.signo = SIGINT, .name = "SIGINT"},
    {.signo = SIGTERM, .name = "SIGTERM"},
};
#define NSLOTS (sizeof slots / sizeof slots[0])

static atomic_int state = UNINSTALLED;
static atomic_int owner_pid; /* the process that installed the guard */
static atomic_int signalled; /* a signal went to the watcher already */
static int pipe_fds[2] = {-1, -1};
static struct rocky_guard_config cfg; /* written before threads start */
/* cfg.timeout_ms as it is now: rocky_guard_set_timeout() may change it
 * while armed. Read with atomic_load wherever the threads need it. */
static _Atomic int64_t timeout_ms;

/* Serialises install and disarm; never held while draining. */
static pthread_mutex_t life_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond; /* CLOCK_MONOTONIC; inited by install */
static bool cond_ready;
static int locks_pid; /* the process whose locks these are (see install) */
/* under lock: */
static bool claimed;   /* someone decided about the one drain          */
static bool requested; /* ... and it is to run (false: disarm claimed) */
static bool done;      /* drain returned                               */
static bool quit;      /* worker: stop waiting                          */
static int64_t deadline_ns;
static bool threads_up;    /* watcher and worker exist and are joinable   */
static bool worker_reaped; /* the exit path joined the worker already  */
static pthread_t watcher, worker;
static atomic_bool worker_busy;  /* worker alive (possibly detached)    */
static atomic_bool watcher_busy; /* watcher alive (possibly detached)   */

static _Thread_local bool in_drain;
static bool hooks_registered; /* atexit + atfork, once per process      */

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

static void say(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void say(int level, const char *fmt, ...)
{
    if (!cfg.log)
        return;
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    cfg.log(cfg.log_ctx, level, line);
}

static struct slot *slot_of(int signo)
{
    for (size_t i = 0; i < NSLOTS; i++)
        if (slots[i].signo == signo)
            return &slots[i];
    return NULL;
}

static bool is_function(const struct sigaction *sa)
{
    if (sa->sa_flags & SA_SIGINFO)
        return sa->sa_sigaction != NULL;
    return sa->sa_handler != SIG_DFL && sa->sa_handler != SIG_IGN;
}

/* Async-signal-safe: end the process the way the default action of `signo`
 * would, or with 128 + signo where the default action would be ignored
 * (PID 1 of a PID namespace ignores default-action signals). */
static void die_by(int signo)
{
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(signo, &dfl, NULL);
    if (getpid() == 1)
        _exit(128 + signo);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, signo);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    raise(signo);
    _exit(128 + signo); /* still here: the signal was not deliverable */
}

/*
 * The handler. SIGNAL SAFETY: only write, sigaction, getpid, raise, _exit
 * and the host's own handler run here.
 */
static void on_signal(int signo, siginfo_t *info, void *uctx)
{
    int saved_errno = errno;
    const struct slot *s = slot_of(signo);
    if (!s) {
        errno = saved_errno;
        return;
    }
    if (is_function(&s->prev)) {
        /* The host owns this signal: be invisible. */
        if (s->prev.sa_flags & SA_SIGINFO)
            s->prev.sa_sigaction(signo, info, uctx);
        else
            s->prev.sa_handler(signo);
        errno = saved_errno;
        return;
    }
    if (atomic_load(&state) == ARMED && getpid() == atomic_load(&owner_pid) &&
        !atomic_exchange(&signalled, 1)) {
        unsigned char b = (unsigned char)signo;
        if (write(pipe_fds[1], &b, 1) == 1) {
            errno = saved_errno;
            return;
        }
    }
    /* Disarmed, a forked child, a second signal while the first one's
     * drain runs, or the pipe failed: the default action, now. raise()
     * leaves the signal pending (it is blocked while we run) until we
     * return. */
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(signo, &dfl, NULL);
    if (getpid() == 1)
        _exit(128 + signo);
    raise(signo);
    errno = saved_errno;
}

/* Put back the host's dispositions where ours is still installed.
 * Async-signal-safe (used in the fork child). */
static void restore_handlers(void)
{
    for (size_t i = 0; i < NSLOTS; i++) {
        struct slot *s = &slots[i];
        if (!s->hooked)
            continue;
        struct sigaction cur;
        if (sigaction(s->signo, NULL, &cur) == 0 &&
            (cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == on_signal)
            sigaction(s->signo, &s->prev, NULL);
        s->hooked = false;
    }
}

static int hook_signals(void)
{
    for (size_t i = 0; i < NSLOTS; i++) {
        struct slot *s = &slots[i];
        s->hooked = false;
        if (sigaction(s->signo, NULL, &s->prev) != 0)
            return ROCKY_EIO;
        if (!(s->prev.sa_flags & SA_SIGINFO) && s->prev.sa_handler == SIG_IGN)
            continue; /* ignored stays ignored: nothing to chain to */
        struct sigaction ours;
        memset(&ours, 0, sizeof ours);
        ours.sa_sigaction = on_signal;
        if (is_function(&s->prev)) {
            /* Chain with the host's own mask and flags, so its handler
             * runs as if it had been called by the kernel. */
            ours.sa_mask = s->prev.sa_mask;
            ours.sa_flags =
                SA_SIGINFO | (s->prev.sa_flags & (SA_RESTART | SA_NODEFER |
                                                  SA_RESETHAND | SA_ONSTACK));
        } else {
            sigemptyset(&ours.sa_mask);
            ours.sa_flags = SA_SIGINFO | SA_RESTART;
        }
        if (sigaction(s->signo, &ours, NULL) != 0)
            return ROCKY_EIO;
        s->hooked = true;
    }
    return 0;
}

/*
 * Ask for the one drain (or join the one already asked for) and wait for it
 * until its deadline + grace. Never from a signal handler.
 */
static void drain_and_wait(const char *why)
{
    if (in_drain)
        return; /* exit() from inside drain: do not wait for ourselves */
    pthread_mutex_lock(&lock);
    bool mine = false;
    if (!claimed && atomic_load(&state) == ARMED) {
        claimed = requested = mine = true;
        deadline_ns = now_ns() + atomic_load(&timeout_ms) * NS_PER_MS;
        pthread_cond_broadcast(&cond);
    }
    if (requested) {
        int64_t limit = deadline_ns + GRACE_NS;
        struct timespec ts = {.tv_sec = limit / NS_PER_S,
                              .tv_nsec = limit % NS_PER_S};
        while (!done) {
            int rc = pthread_cond_timedwait(&cond, &lock, &ts);
            if (rc == ETIMEDOUT)
                break;
        }
    }
    bool finished = done;
    pthread_mutex_unlock(&lock);
    if (mine && !finished)
        say(ROCKY_LOG_WARN,
            "exit flush (%s) did not finish within %lld ms; exiting "
            "without it",
            why, (long long)atomic_load(&timeout_ms));
}

/* Join a worker that finished its drain, so leak checkers (TSan) see no
 * unjoined thread when the process ends. Never waits for a disarm in
 * progress (it joins the worker itself). */
static void reap_worker(void)
{
    pthread_mutex_lock(&lock);
    bool finished = done;
    pthread_mutex_unlock(&lock);
    if (finished && pthread_mutex_trylock(&life_lock) == 0) {
        if (threads_up && !worker_reaped) {
            pthread_join(worker, NULL);
            worker_reaped = true;
        }
        pthread_mutex_unlock(&life_lock);
    }
}

static void on_exit_path(void)
{
    if (atomic_load(&state) != ARMED || getpid() != atomic_load(&owner_pid) ||
        in_drain)
        return;
    drain_and_wait("exit");
    reap_worker();
}

static void on_fork_child(void)
{
    /* Only the forking thread exists here and any lock may be held by a
     * thread that is gone: no locks, no allocation, no logging. */
    if (atomic_load(&state) == ARMED) {
        atomic_store(&state, DEAD);
        restore_handlers();
        if (cfg.after_fork_child)
            cfg.after_fork_child(cfg.ctx);
    }
    /* The parent's threads do not exist here. */
    threads_up = false;
    atomic_store(&worker_busy, false);
    atomic_store(&watcher_busy, false);
    /* The pipe is the parent's: a signal in the child must never wake
     * the parent's watcher. */
    for (int i = 0; i < 2; i++) {
        if (pipe_fds[i] >= 0)
            close(pipe_fds[i]);
        pipe_fds[i] = -1;
    }
}

static void *worker_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock);
    while (!requested && !quit)
        pthread_cond_wait(&cond, &lock);
    bool run = requested;
    int64_t deadline = deadline_ns;
    pthread_mutex_unlock(&lock);
    if (run) {
        in_drain = true;
        cfg.drain(cfg.ctx, deadline);
        in_drain = false;
        pthread_mutex_lock(&lock);
        done = true;
        pthread_cond_broadcast(&cond);
        pthread_mutex_unlock(&lock);
    }
    atomic_store(&worker_busy, false);
    return NULL;
}

static void *watcher_main(void *arg)
{
    int fd = *(const int *)arg;
    for (;;) {
        unsigned char b;
        ssize_t n = read(fd, &b, 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n != 1 || b == 0) {
            atomic_store(&watcher_busy, false);
            return NULL; /* 0 = disarm says stop */
        }
        const struct slot *s = slot_of(b);
        say(ROCKY_LOG_INFO,
            "%s: flushing telemetry (at most %lld ms) before exiting",
            s ? s->name : "signal", (long long)atomic_load(&timeout_ms));
        drain_and_wait(s ? s->name : "signal");
        reap_worker();
        die_by(b);
    }
}

static int start_thread(pthread_t *t, void *(*fn)(void *), void *arg)
{
    /* Our threads block every signal, so the host's signals are delivered
     * to the host's threads, and ours never run a handler. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(t, NULL, fn, arg);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc == 0 ? 0 : ROCKY_EIO;
}

static int make_pipe(void)
{
    if (pipe_fds[0] >= 0)
        return 0;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        return ROCKY_EIO;
    /* A handler must never block on a full pipe. */
    if (fcntl(fds[1], F_SETFL, O_NONBLOCK) != 0) {
        close(fds[0]);
        close(fds[1]);
        return ROCKY_EIO;
    }
    pipe_fds[0] = fds[0];
    pipe_fds[1] = fds[1];
    return 0;
}

static int init_sync(void)
{
    /* In a forked child the parent's locks may be held by threads that do
     * not exist here: start over with fresh ones. */
    if (locks_pid != getpid()) {
        pthread_mutex_init(&life_lock, NULL);
        pthread_mutex_init(&lock, NULL);
        cond_ready = false;
        locks_pid = getpid();
    }
    if (cond_ready)
        return 0;
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) != 0)
        return ROCKY_EIO;
    int rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    if (rc == 0)
        rc = pthread_cond_init(&cond, &attr);
    pthread_condattr_destroy(&attr);
    if (rc != 0)
        return ROCKY_EIO;
    cond_ready = true;
    return 0;
}

static void stop_threads(void)
{
    pthread_mutex_lock(&lock);
    quit = true;
    pthread_cond_broadcast(&cond);
    bool drain_hung = requested && !done;
    pthread_mutex_unlock(&lock);
    unsigned char stop = 0;
    ssize_t n;
    do {
        n = write(pipe_fds[1], &stop, 1);
    } while (n < 0 && errno == EINTR);
    /* Called from inside drain, the watcher may be waiting for this very
     * drain to return: do not wait for it, it ends by itself. */
    bool from_drain = pthread_equal(pthread_self(), worker);
    if (from_drain)
        pthread_detach(watcher);
    else
        pthread_join(watcher, NULL);
    /* A drain past its deadline, or the drain calling us: that thread ends
     * by itself when drain returns (nodelete keeps its code mapped). */
    if (!worker_reaped && (drain_hung || from_drain))
        pthread_detach(worker);
    else if (!worker_reaped)
        pthread_join(worker, NULL);
    threads_up = false;
}

int rocky_guard_install(const struct rocky_guard_config *config)
{
    if (!config || !config->drain || config->timeout_ms < 0)
        return ROCKY_EINVAL;
    int rc = init_sync();
    if (rc != 0)
        return rc;
    pthread_mutex_lock(&life_lock);
    if (atomic_load(&state) == ARMED) {
        rc = ROCKY_EEXIST;
        goto out;
    }
    if (atomic_load(&worker_busy) || atomic_load(&watcher_busy)) {
        rc = ROCKY_EAGAIN;
        goto out;
    }
    if (!hooks_registered) {
        if (atexit(on_exit_path) != 0 ||
            pthread_atfork(NULL, NULL, on_fork_child) != 0) {
            rc = ROCKY_EIO;
            goto out;
        }
        hooks_registered = true;
    }
    rc = make_pipe();
    if (rc != 0)
        goto out;

    cfg = *config;
    if (cfg.timeout_ms > INT64_MAX / NS_PER_MS / 2)
        cfg.timeout_ms = INT64_MAX / NS_PER_MS / 2;
    atomic_store(&timeout_ms, cfg.timeout_ms);
    pthread_mutex_lock(&lock);
    claimed = requested = done = quit = false;
    pthread_mutex_unlock(&lock);
    atomic_store(&signalled, 0);
    atomic_store(&owner_pid, (int)getpid());

    atomic_store(&worker_busy, true);
    rc = start_thread(&worker, worker_main, NULL);
    if (rc != 0) {
        atomic_store(&worker_busy, false);
        goto out;
    }
    atomic_store(&watcher_busy, true);
    rc = start_thread(&watcher, watcher_main, &pipe_fds[0]);
    if (rc != 0) {
        atomic_store(&watcher_busy, false);
        pthread_mutex_lock(&lock);
        quit = true;
        pthread_cond_broadcast(&cond);
        pthread_mutex_unlock(&lock);
        pthread_join(worker, NULL);
        goto out;
    }
    threads_up = true;
    worker_reaped = false;

    atomic_store(&state, ARMED);
    rc = hook_signals();
    if (rc != 0) {
        atomic_store(&state, DISARMED);
        restore_handlers();
        stop_threads();
    }
out:
    pthread_mutex_unlock(&life_lock);
    return rc;
}

void rocky_guard_disarm(void)
{
    if (init_sync() != 0)
        return;
    pthread_mutex_lock(&life_lock);
    if (atomic_load(&state) != ARMED) {
        pthread_mutex_unlock(&life_lock);
        return;
    }
    atomic_store(&state, DISARMED);
    restore_handlers();
    /* Decide the drain question for good: either nobody asked yet and
     * nobody ever will, or a drain runs and we let it finish (bounded). */
    pthread_mutex_lock(&lock);
    bool running = claimed && requested;
    claimed = true;
    pthread_mutex_unlock(&lock);
    if (running)
        drain_and_wait("disarm");
    if (threads_up)
        stop_threads();
    pthread_mutex_unlock(&life_lock);
}

int rocky_guard_set_timeout(int64_t ms)
{
    if (ms < 0)
        return ROCKY_EINVAL;
    if (ms > INT64_MAX / NS_PER_MS / 2)
        ms = INT64_MAX / NS_PER_MS / 2;
    /* Under `lock`, so a drain either took its deadline from the old value
     * already or takes it from the new one. */
    if (init_sync() != 0)
        return ROCKY_EIO;
    pthread_mutex_lock(&lock);
    atomic_store(&timeout_ms, ms);
    pthread_mutex_unlock(&lock);
    return 0;
}
