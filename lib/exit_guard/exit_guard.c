/*
 * exit_guard.c — the exit guard (contract, exit-path table and the order of
 * deadlines in exit_guard.h).
 *
 * Threads and who owns what:
 *   - the caller's threads: install/disarm/drain_now, exit() and the atexit
 *     handler; in plugin mode they also take the signals;
 *   - the watcher: reads the signal pipe and decides what a signal means
 *     (owner mode: tell the owner, abandon, die; plugin mode: drain, die).
 *     In owner mode it is the one thread that takes the stop signals;
 *   - the worker: waits for a drain request, runs cfg.drain once, reports
 *     (and writes DONE_BYTE so a watcher waiting in poll wakes up).
 * Everything below `lock` is read and written only under it. `state`,
 * `owner_pid` and `owner_mode` are atomics because the signal handler
 * reads them. The pipe descriptors and `slots[].prev` are written only
 * while the handler cannot use them (before `state` becomes ARMED, or in a
 * forked child after it became DEAD).
 */
#include "exit_guard.h"

#include "rocky/error.h"
#include "rocky/plugin.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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

#define NS_PER_MS 1000000LL
#define NS_PER_S  1000000000LL
#define GRACE_NS  (ROCKY_GUARD_GRACE_MS * NS_PER_MS)

/* Pipe bytes besides signal numbers (which are 1..64). */
#define QUIT_BYTE 0   /* disarm: the watcher ends                  */
#define DONE_BYTE 255 /* the worker's drain returned: look again   */

struct slot {
    int signo;
    const char *name;
    bool hooked;           /* our handler was installed for this signal */
    struct sigaction prev; /* the disposition before install            */
};

static struct slot slots[] = {
    {.signo = SIGINT, .name = "SIGINT"},
    {.signo = SIGTERM, .name = "SIGTERM"},
    {.signo = SIGHUP, .name = "SIGHUP"},
    {.signo = SIGQUIT, .name = "SIGQUIT"},
};
#define NSLOTS (sizeof slots / sizeof slots[0])

static atomic_int state = UNINSTALLED;
static atomic_int owner_pid;   /* the process that installed the guard */
static atomic_bool owner_mode; /* cfg.on_stop was set                  */
static atomic_int stop_signo;  /* the first stop signal the watcher saw */
static int pipe_fds[2] = {-1, -1};
static struct rocky_guard_config cfg; /* written before threads start */
/* cfg.timeout_ms as it is now (rocky_guard_set_timeout). */
static _Atomic int64_t timeout_ms;

/* Serialises install and disarm; never held while draining. */
static pthread_mutex_t life_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond; /* CLOCK_MONOTONIC; inited by install */
static bool cond_ready;
static int locks_pid; /* the process whose locks these are (see install) */
/* under lock: */
static bool claimed;   /* someone decided about the one drain            */
static bool requested; /* ... and it is to run (false: disarm/abandon)   */
static bool abandoned; /* ... a second signal decided it never runs      */
static bool done;      /* drain returned                                 */
static bool quit;      /* worker: stop waiting                            */
static int64_t deadline_ns;
static char note[1024];    /* rocky_guard_set_abandon_note */
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
    char line[1280];
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

static const char *name_of(int signo)
{
    const struct slot *s = slot_of(signo);
    return s ? s->name : "signal";
}

static bool is_function(const struct sigaction *sa)
{
    if (sa->sa_flags & SA_SIGINFO)
        return sa->sa_sigaction != NULL;
    return sa->sa_handler != SIG_DFL && sa->sa_handler != SIG_IGN;
}

void rocky_guard_stop_signals(sigset_t *set)
{
    sigemptyset(set);
    for (size_t i = 0; i < NSLOTS; i++)
        sigaddset(set, slots[i].signo);
}

/* Async-signal-safe: the default action of `signo` for this process, now
 * (see "dies by the signal" in exit_guard.h). */
static void die_by(int signo)
{
    if (signo == SIGQUIT && cfg.quit_without_core)
        _exit(128 + signo);
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

void rocky_guard_die(int signo)
{
    die_by(signo > 0 ? signo : SIGTERM);
    _exit(128 + SIGTERM); /* unreachable; for the compiler */
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
    if (!atomic_load(&owner_mode) && is_function(&s->prev)) {
        /* A plugin in a host that handles this signal: be invisible. */
        if (s->prev.sa_flags & SA_SIGINFO)
            s->prev.sa_sigaction(signo, info, uctx);
        else
            s->prev.sa_handler(signo);
        errno = saved_errno;
        return;
    }
    if (atomic_load(&state) == ARMED && getpid() == atomic_load(&owner_pid)) {
        unsigned char b = (unsigned char)signo;
        if (write(pipe_fds[1], &b, 1) == 1) {
            errno = saved_errno;
            return;
        }
    }
    /* Disarmed, a forked child, or the pipe failed: the default action,
     * now. raise() leaves the signal pending (it is blocked while we run)
     * until we return. */
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

/* Put back the previous dispositions where ours is still installed.
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
    bool chain = !atomic_load(&owner_mode);
    for (size_t i = 0; i < NSLOTS; i++) {
        struct slot *s = &slots[i];
        s->hooked = false;
        if (sigaction(s->signo, NULL, &s->prev) != 0)
            return ROCKY_EIO;
        if (!(s->prev.sa_flags & SA_SIGINFO) && s->prev.sa_handler == SIG_IGN)
            continue; /* ignored stays ignored (nohup) */
        struct sigaction ours;
        memset(&ours, 0, sizeof ours);
        ours.sa_sigaction = on_signal;
        if (chain && is_function(&s->prev)) {
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

/* Claim the one drain if nobody decided about it yet (lock held). */
static void claim_locked(void)
{
    if (!claimed && atomic_load(&state) == ARMED) {
        claimed = requested = true;
        deadline_ns = now_ns() + atomic_load(&timeout_ms) * NS_PER_MS;
        pthread_cond_broadcast(&cond);
    }
}

/*
 * Ask for the one drain (or join the one already asked for) and wait for it
 * until its deadline + grace. Returns whether it returned (true also when
 * there was none to wait for). Never from a signal handler.
 */
static bool drain_and_wait(const char *why)
{
    if (in_drain)
        return true; /* exit() from inside drain: never wait for ourselves */
    pthread_mutex_lock(&lock);
    bool mine = !claimed && atomic_load(&state) == ARMED;
    claim_locked();
    if (requested) {
        int64_t limit = deadline_ns + GRACE_NS;
        struct timespec ts = {.tv_sec = limit / NS_PER_S,
                              .tv_nsec = limit % NS_PER_S};
        while (!done) {
            if (pthread_cond_timedwait(&cond, &lock, &ts) == ETIMEDOUT)
                break;
        }
    }
    bool finished = !requested || done;
    pthread_mutex_unlock(&lock);
    if (mine && !finished)
        say(ROCKY_LOG_WARN,
            "exit flush (%s) did not finish within %lld ms; exiting "
            "without it",
            why, (long long)atomic_load(&timeout_ms));
    return finished;
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

static void pipe_put(unsigned char b)
{
    ssize_t n;
    do {
        n = write(pipe_fds[1], &b, 1);
    } while (n < 0 && errno == EINTR);
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
        pipe_put(DONE_BYTE);
    }
    atomic_store(&worker_busy, false);
    return NULL;
}

/* The next byte of the pipe, waiting at most `wait_ns` (< 0: forever).
 * Returns the byte, -1 on timeout, -2 when the pipe is gone. */
static int next_byte(int fd, int64_t wait_ns)
{
    for (;;) {
        int ms =
            wait_ns < 0 ? -1 : (int)((wait_ns + NS_PER_MS - 1) / NS_PER_MS);
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int n = poll(&pfd, 1, ms);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -2;
        if (n == 0)
            return -1;
        unsigned char b;
        ssize_t got = read(fd, &b, 1);
        if (got < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        return got == 1 ? b : -2;
    }
}

/* Plugin mode, first signal: drain, then die by it. A second stop signal
 * while waiting ends the process at once. Never returns. */
static void plugin_signal(int fd, int signo)
{
    say(ROCKY_LOG_INFO,
        "%s: flushing telemetry (at most %lld ms) before exiting",
        name_of(signo), (long long)atomic_load(&timeout_ms));
    pthread_mutex_lock(&lock);
    bool mine = !claimed && atomic_load(&state) == ARMED;
    claim_locked();
    bool waiting = requested && !done;
    int64_t limit = deadline_ns + GRACE_NS;
    pthread_mutex_unlock(&lock);
    while (waiting) {
        int b = next_byte(fd, limit - now_ns());
        if (b > 0 && b != DONE_BYTE) {
            say(ROCKY_LOG_WARN,
                "%s again: exiting without waiting for the "
                "telemetry flush",
                name_of(b));
            die_by(signo);
        }
        pthread_mutex_lock(&lock);
        waiting = !done && now_ns() < limit;
        bool finished = done;
        pthread_mutex_unlock(&lock);
        if (!waiting && !finished && mine)
            say(ROCKY_LOG_WARN,
                "exit flush (%s) did not finish within %lld ms; exiting "
                "without it",
                name_of(signo), (long long)atomic_load(&timeout_ms));
        if (b == -2)
            break; /* no pipe: nothing more to wait with */
    }
    reap_worker();
    die_by(signo);
}

/* Owner mode, a signal after the first one (see the table). */
static void owner_again(int first, int signo, int count)
{
    pthread_mutex_lock(&lock);
    bool draining = requested && !done;
    bool finished = done;
    if (!claimed) {
        claimed = abandoned = true;
        pthread_cond_broadcast(&cond);
    }
    char text[sizeof note];
    memcpy(text, note, sizeof text);
    pthread_mutex_unlock(&lock);
    if (draining || count >= 3) {
        say(ROCKY_LOG_WARN,
            "%s again: exiting now, without waiting for the "
            "telemetry flush",
            name_of(signo));
        if (text[0])
            say(ROCKY_LOG_WARN, "%s", text);
        die_by(first);
    }
    if (!finished)
        say(ROCKY_LOG_WARN,
            "%s again: telemetry will not be flushed; once more ends the "
            "process at once",
            name_of(signo));
}

static void *watcher_main(void *arg)
{
    int fd = *(const int *)arg;
    if (atomic_load(&owner_mode)) {
        /* The one thread that takes the stop signals (exit_guard.h). */
        sigset_t set;
        rocky_guard_stop_signals(&set);
        pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    }
    int first = 0, count = 0;
    for (;;) {
        int b = next_byte(fd, -1);
        if (b < 0 || b == QUIT_BYTE)
            break;
        if (b == DONE_BYTE)
            continue;
        count++;
        if (first == 0) {
            first = b;
            atomic_store(&stop_signo, b);
        }
        if (!atomic_load(&owner_mode))
            plugin_signal(fd, first); /* never returns */
        if (count == 1)
            cfg.on_stop(cfg.ctx, b);
        else
            owner_again(first, b, count);
    }
    if (atomic_load(&owner_mode)) {
        /* Disarmed: the stop signals go back to the blocked state the
         * owner's other threads have. */
        sigset_t set;
        rocky_guard_stop_signals(&set);
        pthread_sigmask(SIG_BLOCK, &set, NULL);
    }
    atomic_store(&watcher_busy, false);
    return NULL;
}

static int start_thread(pthread_t *t, void *(*fn)(void *), void *arg)
{
    /* Our threads start with every signal blocked; the watcher unblocks
     * the stop signals itself in owner mode. */
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
    pipe_put(QUIT_BYTE);
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
    atomic_store(&owner_mode, cfg.on_stop != NULL);
    pthread_mutex_lock(&lock);
    claimed = requested = abandoned = done = quit = false;
    note[0] = '\0';
    pthread_mutex_unlock(&lock);
    atomic_store(&stop_signo, 0);
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
    /* Owner mode: the watcher is the one thread with the stop signals
     * unblocked. Disarmed (the handler then applies the default action)
     * or with the handlers restored while it still runs, a signal in
     * between would meet its default action — a core dump for SIGQUIT —
     * after the owner recorded its run. So there the watcher goes first,
     * blocking them as it ends; a signal it did not get to read is taken
     * from the pipe below, and a later one stays pending for the owner. */
    bool owner = atomic_load(&owner_mode);
    if (!owner) {
        atomic_store(&state, DISARMED);
        restore_handlers();
    }
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
    if (owner) {
        int b;
        while ((b = next_byte(pipe_fds[0], 0)) >= 0)
            if (b != QUIT_BYTE && b != DONE_BYTE) {
                int none = 0;
                atomic_compare_exchange_strong(&stop_signo, &none, b);
            }
        atomic_store(&state, DISARMED);
        restore_handlers();
    }
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

int rocky_guard_drain_now(void)
{
    if (atomic_load(&state) != ARMED || getpid() != atomic_load(&owner_pid))
        return ROCKY_ESHUTDOWN;
    pthread_mutex_lock(&lock);
    bool gone = abandoned;
    bool disarmed = claimed && !requested && !abandoned;
    pthread_mutex_unlock(&lock);
    if (gone)
        return ROCKY_EINTERRUPTED;
    if (disarmed)
        return ROCKY_ESHUTDOWN;
    if (!drain_and_wait("stop"))
        return ROCKY_ETIMEDOUT;
    pthread_mutex_lock(&lock);
    gone = abandoned; /* a second signal came just before our claim */
    pthread_mutex_unlock(&lock);
    if (gone)
        return ROCKY_EINTERRUPTED;
    reap_worker();
    return 0;
}

void rocky_guard_set_abandon_note(const char *text)
{
    if (init_sync() != 0)
        return;
    pthread_mutex_lock(&lock);
    snprintf(note, sizeof note, "%s", text ? text : "");
    pthread_mutex_unlock(&lock);
}

int rocky_guard_stop_signal(void)
{
    return atomic_load(&stop_signo);
}
