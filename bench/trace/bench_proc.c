/* bench_proc.c — see bench_proc.h. */
#include "bench_proc.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"

double bench_time_run(char *const argv[], double *cpu_ms, const char *out)
{
    int64_t t0 = rocky_clock_mono_ns();
    pid_t pid = fork();
    if (pid == 0) {
        int fd =
            open(out ? out : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(fd, 1);
        execv(argv[0], argv);
        _exit(127);
    }
    int status;
    struct rusage ru;
    if (pid < 0 || wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0)
        return -1;
    *cpu_ms = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
              (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
    return (double)(rocky_clock_mono_ns() - t0) / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void bench_measure(const char *label, char *const argv[], int runs, int last)
{
    double t[64], cpu[64];
    int ok = 1;
    if (runs < 1)
        runs = 1;
    if (runs > 64)
        runs = 64;
    for (int i = 0; i < runs; i++)
        if ((t[i] = bench_time_run(argv, &cpu[i], NULL)) < 0)
            ok = 0;
    qsort(t, (size_t)runs, sizeof *t, cmp_double);
    qsort(cpu, (size_t)runs, sizeof *cpu, cmp_double);
    printf("\"%s\":{\"ok\":%s,\"best_ms\":%.1f,\"median_ms\":%.1f,"
           "\"worst_ms\":%.1f,\"cpu_median_ms\":%.1f,\"under_1s\":%s}%s",
           label, ok ? "true" : "false", t[0], t[runs / 2], t[runs - 1],
           cpu[runs / 2], ok && t[runs / 2] < 1000.0 ? "true" : "false",
           last ? "" : ",");
}

void bench_remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[4096];
    while (d != NULL && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    if (d != NULL)
        closedir(d);
    rmdir(dir);
}
