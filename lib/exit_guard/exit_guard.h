/*
 * exit_guard.h — the one exit guard of a process: whatever way it ends,
 * queued telemetry gets one bounded chance to leave, and the process still
 * ends with the status it would have had.
 *
 * Two users, one machinery (atexit, the stop-signal hooks, one deadline,
 * the re-raise / PID-1 rule):
 *
 *   - the process's OWNER (the rocky runner): installs the guard before it
 *     loads plugins, with `on_stop`, and tells its plugins so through
 *     ROCKY_HOST_CAP_OWNS_EXIT. A stop signal only tells the owner to wind
 *     down (on_stop); the owner records its run, then calls
 *     rocky_guard_drain_now() for the final flush and rocky_guard_die()
 *     to end as the signal would have;
 *   - a PLUGIN in a host that does not own the exit (rocky_otel loaded
 *     without that bit): installs the guard without `on_stop`; the guard
 *     then flushes and ends the process itself on a stop signal, and chains
 *     to a handler the host had installed before it.
 *
 * The stop signals are SIGINT, SIGTERM, SIGHUP and SIGQUIT
 * (rocky_guard_stop_signals). The drain runs at most once per install:
 *
 *   exit path                       what the guard does
 *   ------------------------------  ----------------------------------------
 *   return from main, exit(3) from  atexit handler: drain with one deadline
 *   any thread (error exits too)    (now + timeout_ms), wait for it at most
 *                                   until the deadline + ROCKY_GUARD_GRACE_MS,
 *                                   return; the process exits with its own
 *                                   status. An owner that drained already
 *                                   (drain_now) costs nothing here.
 *   stop signal, plugin mode, the   the handler only writes the signal number
 *   host had no handler (SIG_DFL)   to a pipe; the guard's watcher drains with
 *                                   one deadline, then restores SIG_DFL and
 *                                   re-raises, so the shell sees 128 + signo.
 *                                   A second stop signal while draining ends
 *                                   the process at once (Ctrl-C twice).
 *   stop signal, plugin mode, the   the guard's handler calls the host's
 *   host had its own handler        (3-argument form when it was installed
 *                                   with SA_SIGINFO, same mask and flags) and
 *                                   does nothing else: the host owns that
 *                                   exit (it stops its plugins, or exits and
 *                                   the atexit row applies).
 *   stop signal, owner mode         1st: on_stop(ctx, signo) on the watcher;
 *                                   the owner winds down and drains. 2nd
 *                                   while the drain runs: the abandon note
 *                                   (rocky_guard_set_abandon_note) is
 *                                   written and the process dies by the
 *                                   first signal at once; 2nd before the
 *                                   drain started: the drain is abandoned
 *                                   (drain_now returns ROCKY_EINTERRUPTED at
 *                                   once, the owner records and dies); 3rd:
 *                                   dies at once wherever the owner is.
 *   stop signal ignored (SIG_IGN)   left alone: nothing is installed for it
 *   before install                  (nohup keeps working).
 *   explicit shutdown               rocky_guard_disarm(): no drain from the
 *                                   guard after it, handlers restored.
 *   fork() in the process           the child gets a dead guard: no drain at
 *                                   its exit, the previous handlers back,
 *                                   after_fork_child() called.
 *   _exit, abort, SIGKILL, crash    nothing can run; the state store's
 *                                   record of the run covers these.
 *
 * "Dies by the signal": SIG_DFL restored and the signal re-raised, so a
 * parent sees WIFSIGNALED (a shell loop stops on Ctrl-C); as PID 1 of a PID
 * namespace, where a default-action signal is ignored, _exit(128 + signo);
 * with `quit_without_core`, SIGQUIT ends with _exit(131) instead of a core
 * dump (the owner already ended its run itself: a core of that is noise).
 *
 * DEADLINES, in the order they expire (the one statement of it; the
 * runner's stop budget and rocky_otel's exit timeout refer here):
 *   t0          the exit begins: a signal, exit(), or the owner's drain_now
 *   t0 + T      T = timeout_ms, the one deadline handed to drain. A drain
 *               must return by then. rocky_otel's is
 *               ROCKY_OTEL_EXIT_TIMEOUT_MS (default 10 s); the runner's is
 *               its plugin stop budget (15 s), which passes each plugin's
 *               stop that deadline, and rocky_otel stops by the earlier of
 *               it and its own. At the deadline an exporter starts no new
 *               call and cancels the one in flight (abort_at, polled every
 *               20 ms), so its thread is out of gRPC by t0 + T + 20 ms.
 *   t0 + T + G  G = ROCKY_GUARD_GRACE_MS: the guard stops waiting. A drain
 *               that honoured its deadline has returned; one that did not
 *               is left running, and then nothing it may use is freed or
 *               unloaded: the plugin is linked -z nodelete, and the owner
 *               ends with _exit rather than run destructors (see run.c).
 *
 * Threads: install starts two threads (the signal watcher and the drain
 * worker). In plugin mode both block every signal, so the host's signals
 * land on the host's threads. In owner mode the watcher unblocks the stop
 * signals: the owner blocks them in every other thread (before creating
 * any), so they always reach a thread that is waiting for them. Both
 * threads end in rocky_guard_disarm(). Code embedding the guard must never
 * be unloaded while they could run (a plugin: link with -Wl,-z,nodelete).
 *
 * In a signal handler the guard calls only write(2), sigaction(2),
 * getpid(2), raise(3) and _exit(2), and the host's own handler.
 */
#ifndef ROCKY_EXIT_GUARD_H
#define ROCKY_EXIT_GUARD_H

#include <signal.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* How long past its deadline a drain still gets to return (see above). */
#define ROCKY_GUARD_GRACE_MS 250

/* What the guard is to call. Copied by rocky_guard_install(); the pointers
 * inside must stay valid until rocky_guard_disarm() returned (or until the
 * process ends, if it is never called). */
struct rocky_guard_config {
    /*
     * Flush queued telemetry; return by `deadline_mono_ns` (CLOCK_MONOTONIC,
     * nanoseconds). Called at most once per install, on the guard's drain
     * thread, while other threads may still be running and calling into
     * what it flushes, and while exit() may be running other atexit
     * handlers on another thread. It must not free what those threads use.
     * If it overruns the deadline the process ends anyway, with the drain
     * thread still inside it. Required.
     */
    void (*drain)(void *ctx, int64_t deadline_mono_ns);
    void *ctx; /* passed to drain, on_stop and after_fork_child */
    /* The one deadline of the drain, in milliseconds (>= 0). */
    int64_t timeout_ms;
    /* Optional (may be NULL): one line, no newline, `level` is an enum
     * rocky_log_level. Called from the guard's threads and from the thread
     * running exit(), never from a signal handler. */
    void (*log)(void *log_ctx, int level, const char *msg);
    void *log_ctx;
    /*
     * Optional: called in the child of a fork() (pthread_atfork child
     * handler) after the guard there was marked dead. The child has only the
     * forking thread: the callback must only mark state unusable (an atomic
     * store), never lock, join, free or log.
     */
    void (*after_fork_child)(void *ctx);
    /*
     * Owner mode when set: the first stop signal calls on_stop(ctx, signo)
     * on the watcher thread (never in a signal handler) and nothing else;
     * the owner winds down, drains with rocky_guard_drain_now() and ends
     * with rocky_guard_die(). Must not block for long: the watcher handles
     * the next signals only after it returned. Plugin mode when NULL.
     */
    void (*on_stop)(void *ctx, int signo);
    /* SIGQUIT ends with _exit(131), not a core dump (see above). */
    int quit_without_core;
};

/* Fill `set` with exactly the stop signals (the one list of them). */
void rocky_guard_stop_signals(sigset_t *set);

/*
 * Install the guard: register the atexit and pthread_atfork handlers (once
 * per process, they cannot be removed), start the watcher and drain
 * threads, and hook the stop signals as the table above says.
 *
 * Returns 0, or
 *   ROCKY_EINVAL  cfg or cfg->drain is NULL, or cfg->timeout_ms < 0;
 *   ROCKY_EEXIST  the guard is already armed in this process (there is one
 *                 guard per copy of this code: the runner and a plugin each
 *                 link their own, and a plugin arms its copy only when the
 *                 runner does not own the exit);
 *   ROCKY_EAGAIN  a previous install's drain is still running past its
 *                 deadline; try again later;
 *   ROCKY_EIO     a pipe or thread could not be created, or a handler could
 *                 not be registered (nothing is left installed).
 * After rocky_guard_disarm() the guard may be installed again. Call from one
 * thread at a time; never from a signal handler.
 */
int rocky_guard_install(const struct rocky_guard_config *cfg);

/*
 * The drain is not wanted any more (an explicit shutdown): from now on the
 * guard never drains, and the stop-signal handlers are put back to what
 * they were before install (unless someone replaced the guard's since;
 * then that one is left alone). If a drain is running, waits for it (at
 * most until its deadline + grace), so that the caller's own flush never
 * overlaps it. Then stops and joins the guard's threads.
 *
 * A plugin calls it FIRST in its shutdown, before flushing; an owner after
 * drain_now, when it returns normally. In owner mode no stop signal meets
 * its default action while this runs: one the watcher took (or had not
 * read yet) is rocky_guard_stop_signal() afterwards, and a later one stays
 * blocked and pending for the owner to take (sigtimedwait). Safe to call more
 * than once, before install, in a forked child, and from inside drain (it then
 * does not wait for itself). Never from a signal handler.
 */
void rocky_guard_disarm(void);

/*
 * Change the one deadline of the next drain to `ms` milliseconds (>= 0). A
 * drain already asked for keeps its deadline. Returns 0 or ROCKY_EINVAL.
 * Any thread but a signal handler; armed or not.
 */
int rocky_guard_set_timeout(int64_t ms);

/*
 * Owner mode: run the one drain now, on the guard's drain thread, and wait
 * for it until its deadline + ROCKY_GUARD_GRACE_MS. Returns
 *   0               the drain returned;
 *   ROCKY_ETIMEDOUT it is still running: leave what it uses alone and end
 *                   the process with _exit (or rocky_guard_die);
 *   ROCKY_EINTERRUPTED a second stop signal abandoned it before it started:
 *                   nothing was drained;
 *   ROCKY_ESHUTDOWN the guard is not armed (never installed, disarmed, or a
 *                   forked child): nothing was drained.
 * A second stop signal while it waits ends the process (see above), so it
 * may never return. The main thread, once; never from a signal handler.
 */
int rocky_guard_drain_now(void);

/*
 * What the abandon path writes to stderr (one write, a newline appended)
 * just before dying: say what is lost and how to get it back. Copied (up to
 * 1 KiB); NULL clears. Any thread but a signal handler.
 */
void rocky_guard_set_abandon_note(const char *note);

/* The first stop signal the watcher saw since install, or 0. */
int rocky_guard_stop_signal(void);

/*
 * End the process by `signo` the way the table's "dies by the signal"
 * says (re-raise, or _exit as PID 1 or for SIGQUIT with quit_without_core).
 * Flush stdio first if that matters: nothing else runs. Never returns.
 */
void rocky_guard_die(int signo) __attribute__((noreturn));

#ifdef __cplusplus
}
#endif

#endif /* ROCKY_EXIT_GUARD_H */
