/*
 * host_test.h — what the runner's process tests share: the time scale of
 * their waits, a clock, and a project folder of their own.
 *
 * Header-only (static inline): each test is one executable.
 */
#ifndef ROCKY_HOST_TEST_H
#define ROCKY_HOST_TEST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

/* ROCKY_TEST_TIME_SCALE (>= 1): every wait a test bounds is multiplied by
 * it, so sanitizer builds are slow, not red. */
static inline int host_test_scale(void)
{
    const char *s = getenv("ROCKY_TEST_TIME_SCALE");
    int v = s ? atoi(s) : 1;
    return v < 1 ? 1 : v;
}

/* CLOCK_MONOTONIC in milliseconds. */
static inline int64_t host_test_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A fresh project folder /tmp/<prefix>-XXXXXX with an empty models/ in it,
 * its path written to `dir` (`size` bytes). Returns 0, or -1. */
static inline int host_test_project_dir(char *dir, size_t size,
                                        const char *prefix)
{
    if (snprintf(dir, size, "/tmp/%s-XXXXXX", prefix) >= (int)size ||
        mkdtemp(dir) == NULL)
        return -1;
    char models[512];
    snprintf(models, sizeof models, "%s/models", dir);
    return mkdir(models, 0777);
}

/* Remove what host_test_project_dir made, whatever a test left read-only
 * in it. Returns 0, or -1. */
static inline int host_test_remove_dir(const char *dir)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "chmod -R u+rwx '%s'; rm -rf '%s'", dir, dir);
    return system(cmd) == 0 ? 0 : -1;
}

#endif
