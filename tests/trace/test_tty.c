/* test_tty.c — the real rocky-trace in a pseudo-terminal: the text view
 * takes its width from the terminal, also when its stdout is a pipe
 * (`rocky trace latest | cat`, as under `less`), and no line is wider. */
#include <errno.h>
#include <poll.h>
#include <pty.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli_fixture.h"
#include "format.h"

/* Run `sh -c script` with $1 = rocky-trace, $2 = the store in a pty of
 * `cols` columns; the terminal's output (CR LF turned into LF) in *out.
 * Killed (by its pid) after 20 s times the test time scale. */
static int run_in_pty(const char *script, const char *store, int cols,
                      char **out)
{
    struct winsize ws = {.ws_row = 50, .ws_col = (unsigned short)cols};
    int master = -1;
    pid_t pid = forkpty(&master, NULL, NULL, &ws);
    assert_true(pid >= 0);
    if (pid == 0) {
        unsetenv("COLUMNS");
        setenv("NO_COLOR", "1", 1);
        execl("/bin/sh", "sh", "-c", script, "sh", ROCKY_TRACE_BIN, store,
              (char *)NULL);
        _exit(127);
    }
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    long limit_ms = 20000L * proc_time_scale();
    for (;;) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long spent = (now.tv_sec - t0.tv_sec) * 1000L +
                     (now.tv_nsec - t0.tv_nsec) / 1000000L;
        if (spent > limit_ms) {
            kill(pid, SIGKILL);
            break;
        }
        struct pollfd p = {.fd = master, .events = POLLIN};
        if (poll(&p, 1, 200) <= 0)
            continue;
        if (len + 4096 > cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
        ssize_t n = read(master, buf + len, cap - len - 1);
        if (n <= 0 && !(n < 0 && errno == EINTR))
            break; /* EIO: the child side is closed */
        if (n > 0)
            len += (size_t)n;
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    close(master);
    /* The terminal turned each LF into CR LF. */
    size_t w = 0;
    for (size_t r = 0; r < len; r++)
        if (buf[r] != '\r')
            buf[w++] = buf[r];
    buf[w] = '\0';
    *out = buf;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The widest line of `text`, in display columns; the count of lines that
 * are exactly `cols` wide in *exact. */
static size_t widest(const char *text, size_t cols, size_t *exact)
{
    size_t max = 0;
    *exact = 0;
    for (const char *line = text; *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        char *copy = strndup(line, len);
        size_t w = rocky_utf8_width(copy);
        if (w > cols)
            print_error("wider than %zu: '%s'\n", cols, copy);
        free(copy);
        max = w > max ? w : max;
        *exact += w == cols;
        line = end ? end + 1 : line + len;
    }
    return max;
}

static void check_width(struct cli_ctx *c, const char *script)
{
    static const int widths[] = {60, 80, 120, 200};
    for (size_t k = 0; k < sizeof widths / sizeof *widths; k++) {
        char *out = NULL;
        int rc = run_in_pty(script, c->store, widths[k], &out);
        assert_int_equal(rc, 0);
        size_t exact = 0;
        size_t max = widest(out, (size_t)widths[k], &exact);
        assert_true(max <= (size_t)widths[k]);
        /* The rows are exactly the terminal's width: it was measured, not
         * defaulted to 100. */
        assert_true(exact >= 2);
        assert_non_null(strstr(out, "summary:"));
        free(out);
    }
}

static void test_width_from_terminal_on_stdout(void **state)
{
    struct cli_ctx *c = *state;
    cli_make_store(c, "sample");
    check_width(c, "exec \"$1\" latest --state \"$2\"");
}

static void test_width_from_terminal_when_piped(void **state)
{
    struct cli_ctx *c = *state;
    cli_make_store(c, "sample");
    /* stdout is a pipe; stderr is the terminal. */
    check_width(c, "\"$1\" latest --state \"$2\" | cat");
    /* stdout a pipe, stderr a file: the controlling terminal, /dev/tty. */
    check_width(c, "\"$1\" latest --state \"$2\" 2>/dev/null | cat");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_width_from_terminal_on_stdout,
                                        cli_setup, cli_teardown),
        cmocka_unit_test_setup_teardown(test_width_from_terminal_when_piped,
                                        cli_setup, cli_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
