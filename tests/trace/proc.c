/* proc.c — bounded child processes for the trace CLI tests. */
#include "proc.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int proc_time_scale(void)
{
    const char *s = getenv("ROCKY_TEST_TIME_SCALE");
    int scale = s ? atoi(s) : 1;
    return scale > 0 ? scale : 1;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return strdup("");
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len - 1 == 0) {
            char *bigger = realloc(buf, cap * 2);
            if (bigger == NULL)
                break;
            buf = bigger;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf)
        buf[len] = '\0';
    return buf;
}

pid_t proc_start(char *const argv[], const char *dir)
{
    char out[4096], err[4096];
    snprintf(out, sizeof out, "%s/stdout.txt", dir);
    snprintf(err, sizeof err, "%s/stderr.txt", dir);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int in = open("/dev/null", O_RDONLY);
        if (o < 0 || e < 0 || in < 0)
            _exit(127);
        dup2(in, 0);
        dup2(o, 1);
        dup2(e, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    return pid;
}

void proc_wait(pid_t pid, const char *dir, int timeout_ms,
               struct proc_result *res)
{
    res->exit_code = -1;
    long budget_ms = (long)timeout_ms * proc_time_scale();
    struct timespec tick = {0, 10 * 1000000L};
    for (long waited = 0;; waited += 10) {
        int status;
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) {
            if (WIFEXITED(status))
                res->exit_code = WEXITSTATUS(status);
            break;
        }
        if (r < 0)
            break;
        if (waited >= budget_ms) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            break;
        }
        nanosleep(&tick, NULL);
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/stdout.txt", dir);
    res->out = slurp(path);
    snprintf(path, sizeof path, "%s/stderr.txt", dir);
    res->err = slurp(path);
}

void proc_run(char *const argv[], const char *dir, struct proc_result *res)
{
    pid_t pid = proc_start(argv, dir);
    if (pid < 0) {
        res->exit_code = -1;
        res->out = strdup("");
        res->err = strdup("fork failed");
        return;
    }
    proc_wait(pid, dir, 10000, res);
}

char *proc_peek_stdout(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/stdout.txt", dir);
    return slurp(path);
}

void proc_result_free(struct proc_result *res)
{
    free(res->out);
    free(res->err);
    res->out = res->err = NULL;
}
