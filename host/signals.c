/* signals.c — see signals.h. */
#include "signals.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "rocky/error.h"

static const int stop_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
#define NSTOP (sizeof stop_signals / sizeof *stop_signals)

static int pipe_fds[2] = {-1, -1};
static atomic_int received;

static void on_signal(int signo)
{
    int saved = errno; /* write() may clobber it behind the main code */
    int expected = 0;
    atomic_compare_exchange_strong(&received, &expected, signo);
    char byte = 's';
    ssize_t n = write(pipe_fds[1], &byte, 1);
    (void)n; /* pipe full means a wake-up is already pending */
    errno = saved;
}

void rocky_signals_stop_set(sigset_t *set)
{
    sigemptyset(set);
    for (size_t i = 0; i < NSTOP; i++)
        sigaddset(set, stop_signals[i]);
}

int rocky_signals_install(void)
{
    if (pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) != 0)
        return ROCKY_EIO;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    for (size_t i = 0; i < NSTOP; i++)
        if (sigaction(stop_signals[i], &sa, NULL) != 0)
            return ROCKY_EIO;
    return 0;
}

int rocky_signals_fd(void)
{
    return pipe_fds[0];
}

int rocky_signals_received(void)
{
    return atomic_load(&received);
}

void rocky_signals_wake(void)
{
    char byte = 'w';
    ssize_t n = write(pipe_fds[1], &byte, 1);
    (void)n;
}

void rocky_signals_uninstall(void)
{
    for (size_t i = 0; i < NSTOP; i++)
        signal(stop_signals[i], SIG_DFL);
    if (pipe_fds[0] >= 0)
        close(pipe_fds[0]);
    if (pipe_fds[1] >= 0)
        close(pipe_fds[1]);
    pipe_fds[0] = pipe_fds[1] = -1;
}
