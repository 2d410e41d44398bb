/*
 * fake_host.h — a stub host for driving rocky_otel through its ABI in the
 * plugin tests: one services table and instance info per instance, config
 * entries, capabilities, and a log that keeps every line (and counts lines
 * that arrive after the instance's destroy returned).
 */
#ifndef ROCKY_TEST_FAKE_HOST_H
#define ROCKY_TEST_FAKE_HOST_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "rocky/plugin.h"

#define FAKE_HOST_LINES 64

struct fake_host {
    struct rocky_host_api api;
    struct rocky_instance_info info;
    struct rocky_config_entry config[24];
    pthread_mutex_t mu;
    char lines[FAKE_HOST_LINES][512]; /* under mu */
    size_t line_count;                /* under mu; may exceed the array */
    atomic_int destroyed;             /* set after destroy returned */
    atomic_int lines_after_destroy;
    void *instance;
};

static inline void fake_host_log(void *ctx, int level, const char *message)
{
    struct fake_host *h = ctx;
    (void)level;
    if (atomic_load(&h->destroyed))
        atomic_fetch_add(&h->lines_after_destroy, 1);
    pthread_mutex_lock(&h->mu);
    if (h->line_count < FAKE_HOST_LINES)
        snprintf(h->lines[h->line_count], sizeof h->lines[0], "%s", message);
    h->line_count++;
    pthread_mutex_unlock(&h->mu);
}

static inline int64_t fake_host_clock(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline int64_t fake_host_mono_ns(void)
{
    return fake_host_clock(CLOCK_MONOTONIC);
}

static inline int64_t fake_host_wall_ns(void)
{
    return fake_host_clock(CLOCK_REALTIME);
}

static inline const char *fake_host_config_get(void *ctx, const char *key)
{
    struct fake_host *h = ctx;
    for (uint32_t i = 0; i < h->info.config_count; i++)
        if (strcmp(h->config[i].key, key) == 0)
            return h->config[i].value;
    return NULL;
}

/* A host with `capabilities` and no configuration yet. */
static inline void fake_host_init(struct fake_host *h, uint32_t capabilities)
{
    memset(h, 0, sizeof *h);
    pthread_mutex_init(&h->mu, NULL);
    h->api.struct_size = sizeof h->api;
    h->api.abi_version = ROCKY_PLUGIN_ABI_VERSION;
    h->api.capabilities = capabilities;
    h->api.host_name = "fake";
    h->api.host_version = "0.0.0-test";
    h->api.host_ctx = h;
    h->api.log = fake_host_log;
    h->api.strerror = rocky_strerror;
    h->api.err_name = rocky_err_name;
    h->api.mono_ns = fake_host_mono_ns;
    h->api.wall_ns = fake_host_wall_ns;
    h->api.config_get = fake_host_config_get;
    h->info.struct_size = sizeof h->info;
    h->info.instance_name = "otel_test";
    h->info.path = "rocky_otel.so";
    h->info.config = h->config;
}

/* Add one config entry (strings must outlive the instance). */
static inline void fake_host_set(struct fake_host *h, const char *key,
                                 const char *value)
{
    h->config[h->info.config_count].key = key;
    h->config[h->info.config_count].value = value;
    h->info.config_count++;
}

/* How many logged lines contain `needle`. */
static inline size_t fake_host_lines_with(struct fake_host *h,
                                          const char *needle)
{
    size_t n = 0;
    pthread_mutex_lock(&h->mu);
    for (size_t i = 0; i < h->line_count && i < FAKE_HOST_LINES; i++)
        if (strstr(h->lines[i], needle))
            n++;
    pthread_mutex_unlock(&h->mu);
    return n;
}

#endif
