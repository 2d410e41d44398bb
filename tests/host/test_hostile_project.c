/*
 * test_hostile_project.c — real `rocky run` / `rocky trace` processes on a
 * project written to hurt: terminal controls in SQL errors, identifiers and
 * file names; a FIFO or /dev/zero where a model or rocky.json should be.
 *
 * Nothing printed may carry a byte a terminal obeys, and no input may hang
 * the runner or grow it without bound. Every process is killed by PID after
 * a deadline (scaled by ROCKY_TEST_TIME_SCALE): a hang fails the test, it
 * does not hang the suite.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "host_test.h"
#include "utf8_decode.h"

/* A table name that sets the window title, rings, clears the screen, goes
 * back to the line start, sends CSI as C1 (encoded and raw) and reverses
 * the text after it (U+202E). */
#define HOSTILE                                                                \
    "t\x1b]0;pwned\x07\x1b[2J\rX\xc2\x9b"                                      \
    "31m\x9b"                                                                  \
    "1m\xe2\x80\xae"                                                           \
    "Y\xe2\x81\xa6Z"

/* The same name as a JSON string (rocky.json "sources"). */
#define HOSTILE_JSON                                                           \
    "t\\u001b]0;pwned\\u0007\\u001b[2J\\rX\\u009b31m\x9b"                      \
    "1m\\u202eY\\u2066Z"

struct fx {
    char dir[64];
    char state[128];
    char out[128];
    char errf[128];
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    if (f == NULL ||
        host_test_project_dir(f->dir, sizeof f->dir, "rocky-hostile") != 0)
        return -1;
    snprintf(f->state, sizeof f->state, "%s/.rocky/state.db", f->dir);
    snprintf(f->out, sizeof f->out, "%s/stdout", f->dir);
    snprintf(f->errf, sizeof f->errf, "%s/stderr", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    int rc = host_test_remove_dir(f->dir);
    free(f);
    return rc;
}

static char *path_in(const struct fx *f, const char *rel)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", f->dir, rel);
    return path;
}

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

/* Run `rocky <args...>` (NULL-terminated) with stdout/stderr to files;
 * killed by PID after `timeout_ms` (scaled), which fails the test. Returns
 * the exit status. */
static int rocky(const struct fx *f, int timeout_ms, const char *const *args)
{
    const char *argv[16];
    int n = 0;
    argv[n++] = ROCKY_BIN;
    for (int i = 0; args[i] && n < 15; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        setenv("NO_COLOR", "1", 1);
        unsetenv("ROCKY_PLUGINS");
        unsetenv("ROCKY_STATE");
        if (!freopen(f->out, "w", stdout) || !freopen(f->errf, "w", stderr))
            _exit(127);
        execv(ROCKY_BIN, (char *const *)argv);
        _exit(127);
    }
    int64_t deadline =
        host_test_now_ms() + (int64_t)timeout_ms * host_test_scale();
    for (;;) {
        int status = 0;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            assert_true(WIFEXITED(status));
            return WEXITSTATUS(status);
        }
        if (host_test_now_ms() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            fail_msg("rocky %s did not finish within %d ms (killed)", args[0],
                     timeout_ms * host_test_scale());
        }
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "r");
    if (fp == NULL)
        return strdup("");
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *buf = calloc(1, (size_t)n + 1);
    if (fread(buf, 1, (size_t)n, fp) != (size_t)n)
        buf[0] = '\0';
    fclose(fp);
    return buf;
}

/* Fails when `text` holds anything a terminal acts on: a C0 control but
 * newline, DEL, a byte that is not UTF-8 (raw C1 0x80-0x9F among them), an
 * encoded C1 control, or a bidi override/isolate. */
static void assert_terminal_safe(const char *what, const char *text)
{
    size_t n = strlen(text);
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t len = rocky_utf8_decode(text + i, n - i, &cp);
        if (len == 0)
            fail_msg("%s: raw byte 0x%02x at %zu:\n%s", what,
                     (unsigned char)text[i], i, text);
        if ((cp < 0x20 && cp != '\n') || (cp >= 0x7f && cp <= 0x9f) ||
            (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069))
            fail_msg("%s: control U+%04X at %zu:\n%s", what, (unsigned)cp, i,
                     text);
        i += len;
    }
}

static void assert_contains(const char *what, const char *text,
                            const char *needle)
{
    if (strstr(text, needle) == NULL)
        fail_msg("%s lacks \"%s\":\n%s", what, needle, text);
}

/* SQLite's error quotes the table name; the runner's line, its log and
 * `rocky trace`'s text view show it escaped, visibly. */
static void
test_sql_error_with_terminal_controls_is_escaped_everywhere(void **state)
{
    struct fx *f = *state;
    write_file(path_in(f, "models/a.sql"), "SELECT * FROM \"" HOSTILE "\"");
    write_file(path_in(f, "models/b.sql"), "SELECT 1 AS x");
    /* Declared as an external source: planning accepts it, SQLite fails
     * with "no such table: <it>" at run time. */
    write_file(path_in(f, "rocky.json"),
               "{\"sources\": [\"" HOSTILE_JSON "\"]}");
    const char *run[] = {"run", f->dir, NULL};
    assert_int_not_equal(rocky(f, 60000, run), 0);
    char *out = slurp(f->out), *err = slurp(f->errf);
    assert_terminal_safe("rocky run stdout", out);
    assert_terminal_safe("rocky run stderr", err);
    assert_contains("rocky run stdout", out, "\\x1b]0;pwned\\x07\\x1b[2J\\rX");
    assert_contains("rocky run stdout", out, "\\u009b31m\\x9b1m\\u202eY");
    free(out);
    free(err);

    const char *trace[] = {"trace", "latest", "--state", f->state, NULL};
    assert_int_equal(rocky(f, 60000, trace), 0);
    out = slurp(f->out);
    err = slurp(f->errf);
    assert_terminal_safe("rocky trace stdout", out);
    assert_terminal_safe("rocky trace stderr", err);
    assert_contains("rocky trace stdout", out, "\\u202e");
    free(out);
    free(err);
}

/* An unknown table named by the SQL is refused at planning, naming it. */
static void test_identifier_in_a_planning_error_is_escaped(void **state)
{
    struct fx *f = *state;
    write_file(path_in(f, "models/a.sql"), "SELECT * FROM \"" HOSTILE "\"");
    const char *run[] = {"run", f->dir, NULL};
    assert_int_not_equal(rocky(f, 30000, run), 0);
    char *out = slurp(f->out), *err = slurp(f->errf);
    assert_terminal_safe("rocky run stdout", out);
    assert_terminal_safe("rocky run stderr", err);
    assert_contains("rocky run stderr", err, "unknown model or source");
    assert_contains("rocky run stderr", err,
                    "\\x1b]0;pwned\\x07\\x1b[2J\\rX\\u009b31m\\x9b1m\\u202eY");
    free(out);
    free(err);
}

/* A model file name is the project's too: the refusal names it escaped. */
static void test_hostile_model_file_name_is_escaped_in_the_error(void **state)
{
    struct fx *f = *state;
    write_file(path_in(f, "models/x\x1b[2J\r\xe2\x80\xae.sql"), "SELECT 1");
    const char *run[] = {"run", f->dir, NULL};
    assert_int_not_equal(rocky(f, 30000, run), 0);
    char *err = slurp(f->errf);
    assert_terminal_safe("rocky run stderr", err);
    assert_contains("rocky run stderr", err, "x\\x1b[2J\\r\\u202e.sql");
    free(err);
}

/* A state path from rocky.json is printed in the summary: escaped. */
static void
test_state_path_from_rocky_json_is_escaped_in_the_summary(void **state)
{
    struct fx *f = *state;
    write_file(path_in(f, "models/a.sql"), "SELECT 1 AS x");
    write_file(path_in(f, "rocky.json"),
               "{\"state\": \"s\\u001b]0;t\\u0007\\u202e.db\"}");
    const char *run[] = {"run", f->dir, NULL};
    assert_int_equal(rocky(f, 60000, run), 0);
    char *out = slurp(f->out), *err = slurp(f->errf);
    assert_terminal_safe("rocky run stdout", out);
    assert_terminal_safe("rocky run stderr", err);
    assert_contains("rocky run stdout", out, "s\\x1b]0;t\\x07\\u202e.db");
    free(out);
    free(err);
}

/* Run a project that is expected to be refused at load, quickly, with a
 * message naming `file` and holding `reason`. */
static void assert_refused_fast(struct fx *f, const char *file,
                                const char *reason)
{
    const char *run[] = {"run", f->dir, NULL};
    int64_t t0 = host_test_now_ms();
    int code = rocky(f, 10000, run);
    int64_t took = host_test_now_ms() - t0;
    char *err = slurp(f->errf);
    if (code == 0)
        fail_msg("rocky run succeeded:\n%s", err);
    assert_contains("rocky run stderr", err, file);
    assert_contains("rocky run stderr", err, reason);
    assert_true(took < 5000 * host_test_scale());
    free(err);
}

static void test_fifo_model_is_refused_not_waited_on(void **state)
{
    struct fx *f = *state;
    write_file(path_in(f, "models/a.sql"), "SELECT 1 AS x");
    assert_int_equal(mkfifo(path_in(f, "models/b.sql"), 0600), 0);
    assert_refused_fast(f, "models/b.sql", "FIFO");
}

static void test_fifo_rocky_json_is_refused_not_waited_on(void **state)
{
    struct fx *f = *state;
    write_file(path_in(f, "models/a.sql"), "SELECT 1 AS x");
    assert_int_equal(mkfifo(path_in(f, "rocky.json"), 0600), 0);
    assert_refused_fast(f, "rocky.json", "FIFO");
}

static void test_model_linked_to_dev_zero_is_refused(void **state)
{
    struct fx *f = *state;
    assert_int_equal(symlink("/dev/zero", path_in(f, "models/z.sql")), 0);
    assert_refused_fast(f, "models/z.sql", "character device");
}

/* A sparse regular file past the cap: refused by its size, not read. */
static void test_model_over_the_size_cap_is_refused(void **state)
{
    struct fx *f = *state;
    int fd = open(path_in(f, "models/big.sql"), O_WRONLY | O_CREAT, 0600);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (16 << 20) + 1), 0);
    close(fd);
    assert_refused_fast(f, "models/big.sql", "limit of 16777216 bytes");
}

static void test_rocky_json_over_the_size_cap_is_refused(void **state)
{
    struct fx *f = *state;
    write_file(path_in(f, "models/a.sql"), "SELECT 1 AS x");
    int fd = open(path_in(f, "rocky.json"), O_WRONLY | O_CREAT, 0600);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (1 << 20) + 1), 0);
    close(fd);
    assert_refused_fast(f, "rocky.json", "limit of 1048576 bytes");
}

/* A symlink to a regular model file is still a model. */
static void test_model_symlinked_to_a_regular_file_runs(void **state)
{
    struct fx *f = *state;
    write_file(path_in(f, "real.sql"), "SELECT 1 AS x");
    assert_int_equal(symlink("../real.sql", path_in(f, "models/a.sql")), 0);
    const char *run[] = {"run", f->dir, NULL};
    assert_int_equal(rocky(f, 60000, run), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_sql_error_with_terminal_controls_is_escaped_everywhere, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_identifier_in_a_planning_error_is_escaped, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_hostile_model_file_name_is_escaped_in_the_error, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_state_path_from_rocky_json_is_escaped_in_the_summary, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_fifo_model_is_refused_not_waited_on, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_fifo_rocky_json_is_refused_not_waited_on, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_model_linked_to_dev_zero_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_model_over_the_size_cap_is_refused,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_rocky_json_over_the_size_cap_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_model_symlinked_to_a_regular_file_runs, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
