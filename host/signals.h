/*
 * signals.h — the stop signals of a run (SIGINT, SIGTERM, SIGHUP, SIGQUIT),
 * the async-signal-safe way. All four mean the same: stop scheduling,
 * interrupt running statements, record the run as interrupted, exit
 * 128 + signo (130, 143, 129, 131). SIGQUIT therefore leaves no core dump:
 * the runner ends the run itself.
 *
 * The handler only stores the signal number in an atomic and writes one
 * byte to a self-pipe; a watcher thread (see run.c) reads the pipe and does
 * the real work (stop scheduling, sqlite3_interrupt running statements).
 */
#ifndef ROCKY_HOST_SIGNALS_H
#define ROCKY_HOST_SIGNALS_H

#include <signal.h>

/* Fill `set` with exactly the stop signals (the one list of them). */
void rocky_signals_stop_set(sigset_t *set);

/* Create the pipe and install handlers for the stop signals. Main thread,
 * once, before starting workers. Returns 0 or ROCKY_EIO. */
int rocky_signals_install(void);

/* Read end of the self-pipe (readable after a signal or a wake). */
int rocky_signals_fd(void);

/* The first stop signal received, or 0. */
int rocky_signals_received(void);

/* Write a byte so a thread polling the pipe wakes up (to exit). */
void rocky_signals_wake(void);

/* Restore default handlers and close the pipe. */
void rocky_signals_uninstall(void);

#endif
