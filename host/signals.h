/*
 * signals.h — SIGINT/SIGTERM for a run, the async-signal-safe way.
 *
 * The handler only stores the signal number in an atomic and writes one
 * byte to a self-pipe; a watcher thread (see run.c) reads the pipe and does
 * the real work (stop scheduling, sqlite3_interrupt running statements).
 */
#ifndef ROCKY_HOST_SIGNALS_H
#define ROCKY_HOST_SIGNALS_H

/* Create the pipe and install handlers for SIGINT and SIGTERM. Main thread,
 * once, before starting workers. Returns 0 or ROCKY_EIO. */
int rocky_signals_install(void);

/* Read end of the self-pipe (readable after a signal or a wake). */
int rocky_signals_fd(void);

/* The first stop signal received (SIGINT/SIGTERM), or 0. */
int rocky_signals_received(void);

/* Write a byte so a thread polling the pipe wakes up (to exit). */
void rocky_signals_wake(void);

/* Restore default handlers and close the pipe. */
void rocky_signals_uninstall(void);

#endif
