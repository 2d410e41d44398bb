/*
 * otel_exit_helper — a host that ends without stopping its rocky_otel
 * instances, so test_otel_plugin can watch the exit guard drain them all:
 *
 *   otel_exit_helper MODE CAPS ENDPOINT...
 *
 * One instance per ENDPOINT (its "endpoint" config key), each sent one run
 * with one model named model_of_a, model_of_b, ... Then MODE:
 *   return   return 0 from main (the atexit path);
 *   sigterm  raise SIGTERM and wait for it to end the process.
 * CAPS is the host's capabilities (1: ROCKY_HOST_CAP_OWNS_EXIT).
 * Exit status 90+ means the helper itself failed (said on stderr).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake_host.h"
#include "otel_test_events.h"

#define MAX_INSTANCES 4

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: otel_exit_helper MODE CAPS ENDPOINT...\n");
        return 90;
    }
    const char *mode = argv[1];
    uint32_t caps = (uint32_t)atoi(argv[2]);
    const struct rocky_plugin *p = rocky_plugin_entry(NULL);
    static struct fake_host hosts[MAX_INSTANCES];
    static struct test_run runs[MAX_INSTANCES];
    int n = argc - 3 < MAX_INSTANCES ? argc - 3 : MAX_INSTANCES;
    for (int i = 0; i < n; i++) {
        struct fake_host *h = &hosts[i];
        fake_host_init(h, caps);
        fake_host_set(h, "endpoint", argv[3 + i]);
        fake_host_set(h, "exit_timeout_ms", "10000");
        fake_host_set(h, "bsp_schedule_delay", "3600000");
        char err[512] = "";
        if (p->create(&h->api, &h->info, &h->instance, err, sizeof err) != 0) {
            fprintf(stderr, "otel_exit_helper: create: %s\n", err);
            return 91;
        }
        struct test_run *t = &runs[i];
        test_run_init(t);
        t->run.trace_id[0] = (uint8_t)i;
        snprintf(t->name, sizeof t->name, "model_of_%c", 'a' + i);
        p->on_event(h->instance, test_event(t, ROCKY_EVENT_RUN_START));
        p->on_event(h->instance, test_event(t, ROCKY_EVENT_MODEL_START));
        p->on_event(h->instance, test_event(t, ROCKY_EVENT_MODEL_END));
        p->on_event(h->instance, test_event(t, ROCKY_EVENT_RUN_END));
    }
    if (strcmp(mode, "sigterm") == 0) {
        raise(SIGTERM);
        for (;;) /* the guard's watcher drains, then ends us by SIGTERM */
            pause();
    }
    return 0; /* the guard's atexit handler drains */
}
