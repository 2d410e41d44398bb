/*
 * guard.h — the exit guard of rocky_otel.so: whatever way the process ends,
 * queued telemetry gets one bounded chance to leave, and the process still
 * ends with the status it would have had.
 *
 * The guard knows nothing about the exporter: it is handed a `drain`
 * callback and a timeout, and calls `drain` at most once per process, on
 * whichever of these comes first:
 *
 *   exit path                        what the guard does
 *   -------------------------------  ---------------------------------------
 *   return from main, exit(3) from   atexit handler: drain with one deadline
 *   any thread (error exits too)     (now + timeout_ms), wait for it at most
 *                                    until the deadline + 100 ms, return; the
 *                                    process exits with its original status.
 *   SIGINT / SIGTERM, the host had   the signal handler only writes the
 *   no handler (SIG_DFL)             signal number to a pipe; the guard's own
 *                                    thread drains with one deadline, then
 *                                    restores SIG_DFL and re-raises, so the
 *                                    shell sees 130 / 143. As PID 1 (a
 *                                    container's init, where a re-raised
 *                                    SIGTERM is ignored) it calls
 *                                    _exit(128 + signo) instead. A second
 *                                    signal while draining ends the process
 *                                    at once (Ctrl-C twice).
 *   SIGINT / SIGTERM, the host had   the guard's handler calls the host's
 *   its own handler before install   handler (3-argument form when it was
 *                                    installed with SA_SIGINFO, same mask and
 *                                    SA_RESTART/SA_NODEFER/SA_RESETHAND/
 *                                    SA_ONSTACK flags) and does nothing else:
 *                                    no drain, no termination. The host owns
 *                                    that exit: it shuts its plugins down
 *                                    explicitly (the exporter flushes and
 *                                    calls rocky_guard_disarm()), and if it
 *                                    simply exits, the atexit row applies.
 *   SIGINT / SIGTERM ignored         left alone: the guard installs nothing
 *   (SIG_IGN) before install         for that signal, it stays ignored.
 *   explicit shutdown                rocky_guard_disarm(): no drain from the
 *                                    guard after it, handlers restored.
 *   fork() in the host               the child gets a dead guard: no drain at
 *                                    its exit, the host's handlers back,
 *                                    after_fork_child() called. The parent is
 *                                    unaffected.
 *   _exit, abort, SIGKILL, crash     nothing can run; the state store's
 *                                    record of the run covers these.
 *
 * Threads: install starts two threads (the signal watcher and the drain
 * worker), both with every signal blocked so the host's signals land on the
 * host's threads. Both end in rocky_guard_disarm(). The plugin that embeds
 * the guard must never be unloaded while they could run: link it with
 * `-Wl,-z,nodelete` (dlclose then keeps the code mapped; it also keeps glibc
 * from running the guard's atexit handler at dlclose time).
 *
 * Nothing the guard does in a signal handler is async-signal-unsafe: it
 * calls only write(2), sigaction(2), getpid(2), raise(3) and _exit(2), and
 * the host's own handler when one was installed.
 */
#ifndef ROCKY_OTEL_GUARD_H
#define ROCKY_OTEL_GUARD_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What the guard is to call. Copied by rocky_guard_install(); the pointers
 * inside must stay valid until rocky_guard_disarm() returned (or until the
 * process ends, if it is never called). */
struct rocky_guard_config {
    /*
     * Flush queued telemetry; return by `deadline_mono_ns` (CLOCK_MONOTONIC,
     * nanoseconds). Called at most once per process (per install), on the
     * guard's drain thread, while the host's other threads may still be
     * running and calling into the exporter, and while exit() may already be
     * running other atexit handlers on another thread. It must not free
     * what those threads use. If it overruns the deadline the process ends
     * anyway, with the drain thread still inside it. Required.
     */
    void (*drain)(void *ctx, int64_t deadline_mono_ns);
    void *ctx; /* passed to drain and after_fork_child */
    /* One deadline for the whole exit flush, in milliseconds (>= 0). The
     * plugin (exit_registry.c) keeps it at the largest exit_timeout_ms
     * (ROCKY_OTEL_EXIT_TIMEOUT_MS, default the OTLP timeout, 10000) of the
     * exporters it drains, through rocky_guard_set_timeout(). */
    int64_t timeout_ms;
    /* Optional (may be NULL): one line, no newline, `level` is an enum
     * rocky_log_level. Called from the guard's threads and from the thread
     * running exit(), never from a signal handler. */
    void (*log)(void *log_ctx, int level, const char *msg);
    void *log_ctx;
    /*
     * Optional: called in the child of a fork() (pthread_atfork child
     * handler) after the guard there was marked dead. The child has only the
     * forking thread: the callback must only mark the exporter as unusable
     * (an atomic store), never lock, join, free or log.
     */
    void (*after_fork_child)(void *ctx);
};

/*
 * Install the guard: register the atexit and pthread_atfork handlers (once
 * per process, they cannot be removed), start the watcher and drain
 * threads, and hook SIGINT and SIGTERM as the table above says.
 *
 * Returns 0, or
 *   ROCKY_EINVAL  cfg or cfg->drain is NULL, or cfg->timeout_ms < 0;
 *   ROCKY_EEXIST  the guard is already armed in this process (there is one
 *                 guard per process);
 *   ROCKY_EAGAIN  a previous install's drain is still running past its
 *                 deadline; try again later;
 *   ROCKY_EIO     a pipe or thread could not be created, or a handler could
 *                 not be registered (nothing is left installed).
 * After rocky_guard_disarm() the guard may be installed again (a plugin
 * initialised twice in one process). Call from one thread at a time (the
 * host's plugin init); never from a signal handler.
 */
int rocky_guard_install(const struct rocky_guard_config *cfg);

/*
 * The host shut the exporter down explicitly: from now on the guard never
 * drains, and SIGINT/SIGTERM handlers are put back to what they were before
 * install (unless someone replaced the guard's handler since; then that one
 * is left alone). If a guard drain is already running, waits for it to
 * return (at most until its deadline + 100 ms), so that the caller's own
 * flush never overlaps it. Then stops and joins the guard's threads.
 *
 * Call it FIRST in the exporter's shutdown, before flushing. Safe to call
 * more than once, before install, in a forked child, and from inside
 * drain (it then does not wait for itself). Never from a signal handler.
 */
void rocky_guard_disarm(void);

/*
 * Change the one deadline of the next drain to `ms` milliseconds (>= 0), for
 * a guard that drains several exporters and learns of a longer timeout after
 * install. A drain already asked for keeps its deadline. Returns 0 or
 * ROCKY_EINVAL. Any thread but a signal handler; armed or not.
 */
int rocky_guard_set_timeout(int64_t ms);

#ifdef __cplusplus
}
#endif

#endif /* ROCKY_OTEL_GUARD_H */
