/*
 * Unit tests: rocky_otel through its ABI 2.0 callbacks (plugin.c linked in),
 * against a stub host (fake_host.h) and an in-process OTLP receiver
 * (otlp_capture.h): per-instance configuration, backpressure accounting,
 * delivery reports written for an older reader, skipped models, several
 * instances at once, the exit guard and its registry, the log route.
 *
 * Every wait is bounded and multiplied by ROCKY_TEST_TIME_SCALE.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "exporter.h"
#include "fake_host.h"
#include "host_log.h"
#include "otel_test_events.h"
#include "otlp_capture.h"

extern char **environ;

static const struct rocky_plugin *P;
static int64_t time_scale = 1;

#define MS 1000000LL

static int64_t now_ns(void)
{
    return fake_host_mono_ns();
}

/* A deadline `ms` (scaled) from now. */
static int64_t in_ms(int64_t ms)
{
    return now_ns() + ms * time_scale * MS;
}

/* Create an instance of `h` with its config; asserts success. */
static void *create_ok(struct fake_host *h)
{
    char err[512] = "";
    void *inst = NULL;
    int rc = P->create(&h->api, &h->info, &inst, err, sizeof err);
    if (rc != 0)
        fail_msg("create failed (%d): %s", rc, err);
    h->instance = inst;
    return inst;
}

static void destroy(struct fake_host *h)
{
    P->destroy(h->instance);
    atomic_store(&h->destroyed, 1);
}

/* A small run: RUN_START, one model per name (SUCCESS), RUN_END. Returns
 * how many on_event calls returned ROCKY_EAGAIN. */
static int send_run(void *inst, const char *const *names, size_t n)
{
    struct test_run t;
    test_run_init(&t);
    int eagain = 0;
    P->on_event(inst, test_event(&t, ROCKY_EVENT_RUN_START));
    for (size_t i = 0; i < n; i++) {
        snprintf(t.name, sizeof t.name, "%s", names[i]);
        t.model.span_id[7] = (uint8_t)(i + 1);
        P->on_event(inst, test_event(&t, ROCKY_EVENT_MODEL_START));
        if (P->on_event(inst, test_event(&t, ROCKY_EVENT_MODEL_END)) ==
            ROCKY_EAGAIN)
            eagain++;
    }
    if (P->on_event(inst, test_event(&t, ROCKY_EVENT_RUN_END)) == ROCKY_EAGAIN)
        eagain++;
    return eagain;
}

static char dead_endpoint[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dead_endpoint, sizeof dead_endpoint, "http://127.0.0.1:%d",
             otlp_dead_port());
    return 0;
}

/* ---- configuration ------------------------------------------------- */

static void test_unknown_config_key_fails_create_naming_it(void **state)
{
    struct fake_host h;
    fake_host_init(&h, ROCKY_HOST_CAP_OWNS_EXIT);
    fake_host_set(&h, "endpoint", dead_endpoint);
    fake_host_set(&h, "endpiont", "http://typo:4317");
    char err[512] = "";
    void *inst = (void *)&h; /* must stay untouched */
    assert_int_equal(P->create(&h.api, &h.info, &inst, err, sizeof err),
                     ROCKY_EINVAL);
    assert_ptr_equal(inst, &h);
    assert_non_null(strstr(err, "\"endpiont\""));
    /* ... and lists the keys it knows, so the typo is easy to fix. */
    assert_non_null(strstr(err, "endpoint"));
    assert_non_null(strstr(err, "exit_timeout_ms"));
    assert_non_null(strstr(err, "bsp_max_queue_size"));
    /* A failed create leaves nothing behind: no stop, no destroy. */
}

static void test_invalid_config_value_warns_naming_the_key(void **state)
{
    struct fake_host h;
    fake_host_init(&h, ROCKY_HOST_CAP_OWNS_EXIT);
    fake_host_set(&h, "timeout", "soon");
    fake_host_set(&h, "headers", "authorization=Bearer%20sekrit,garbage");
    setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "ten", 1);
    void *inst = create_ok(&h); /* inert: no endpoint */
    unsetenv("OTEL_EXPORTER_OTLP_TIMEOUT");
    assert_int_equal(fake_host_lines_with(&h, "config key timeout"), 1);
    assert_int_equal(fake_host_lines_with(&h, "using the default 10000"), 1);
    /* The env var was not the source, so it is neither read nor named. */
    assert_int_equal(fake_host_lines_with(&h, "OTEL_EXPORTER_OTLP_TIMEOUT"), 0);
    assert_int_equal(fake_host_lines_with(&h, "config key headers"), 1);
    assert_int_equal(fake_host_lines_with(&h, "sekrit"), 0);
    assert_int_equal(P->stop(inst, in_ms(100), NULL), 0);
    destroy(&h);
}

static void test_config_disabled_beats_an_environment_endpoint(void **state)
{
    struct fake_host h;
    fake_host_init(&h, 0);
    fake_host_set(&h, "disabled", "true");
    setenv("OTEL_EXPORTER_OTLP_ENDPOINT", dead_endpoint, 1);
    struct sigaction before, after;
    sigaction(SIGTERM, NULL, &before);
    void *inst = create_ok(&h);
    unsetenv("OTEL_EXPORTER_OTLP_ENDPOINT");
    /* Inert: no guard either (so the exit is not touched). */
    sigaction(SIGTERM, NULL, &after);
    assert_ptr_equal((void *)after.sa_handler, (void *)before.sa_handler);
    assert_int_equal(fake_host_lines_with(&h, "config key disabled=true"), 1);
    struct test_run t;
    test_run_init(&t);
    assert_int_equal(P->on_event(inst, test_event(&t, ROCKY_EVENT_MODEL_END)),
                     0);
    struct rocky_delivery_report r = {.struct_size = sizeof r};
    assert_int_equal(P->stop(inst, in_ms(100), &r), 0);
    assert_int_equal(r.accepted, 0);
    destroy(&h);
}

/* ---- reports --------------------------------------------------------- */

/* A report as an older host (a smaller struct) allocates it, followed by
 * canary bytes the plugin must never write. */
struct short_report {
    union {
        struct rocky_delivery_report r;
        unsigned char bytes[sizeof(struct rocky_delivery_report) + 16];
    };
};

static void short_report_init(struct short_report *s, uint32_t size)
{
    memset(s->bytes, 0xA5, sizeof s->bytes);
    s->r.struct_size = size;
}

static void assert_untouched_after(const struct short_report *s, size_t from)
{
    for (size_t i = from; i < sizeof s->bytes; i++)
        if (s->bytes[i] != 0xA5)
            fail_msg("byte %zu past struct_size %zu was written", i, from);
}

#define SIZE_TO(field)                                                         \
    ((uint32_t)(offsetof(struct rocky_delivery_report, field) +                \
                sizeof(((struct rocky_delivery_report *)0)->field)))

static void test_reports_never_write_past_an_older_readers_size(void **state)
{
    struct fake_host h;
    fake_host_init(&h, ROCKY_HOST_CAP_OWNS_EXIT);
    fake_host_set(&h, "endpoint", dead_endpoint);
    fake_host_set(&h, "bsp_schedule_delay", "3600000");
    fake_host_set(&h, "metrics_exporter", "none");
    void *inst = create_ok(&h);
    static const char *const names[] = {"a", "b"};
    send_run(inst, names, 2);

    /* A reader that knows accepted and delivered only. */
    struct short_report s;
    short_report_init(&s, SIZE_TO(delivered));
    assert_int_equal(P->flush(inst, now_ns(), &s.r), ROCKY_ETIMEDOUT);
    assert_int_equal(s.r.struct_size, SIZE_TO(delivered));
    assert_int_equal(s.r.accepted, 3);
    assert_int_equal(s.r.delivered, 0);
    assert_untouched_after(&s, SIZE_TO(delivered));

    /* One that knows accepted only, at stop. */
    short_report_init(&s, SIZE_TO(accepted));
    P->stop(inst, in_ms(200), &s.r);
    assert_int_equal(s.r.struct_size, SIZE_TO(accepted));
    assert_int_equal(s.r.accepted, 3);
    assert_untouched_after(&s, SIZE_TO(accepted));
    destroy(&h);

    /* An inert instance writes its zeros the same way. */
    fake_host_init(&h, ROCKY_HOST_CAP_OWNS_EXIT);
    inst = create_ok(&h);
    short_report_init(&s, SIZE_TO(accepted));
    assert_int_equal(P->flush(inst, now_ns(), &s.r), 0);
    assert_int_equal(s.r.accepted, 0);
    assert_untouched_after(&s, SIZE_TO(accepted));
    short_report_init(&s, SIZE_TO(dropped));
    assert_int_equal(P->stop(inst, now_ns(), &s.r), 0);
    assert_int_equal(s.r.dropped, 0);
    assert_untouched_after(&s, SIZE_TO(dropped));
    destroy(&h);
}

static void test_stop_is_once_and_a_second_call_writes_nothing(void **state)
{
    struct fake_host h;
    fake_host_init(&h, ROCKY_HOST_CAP_OWNS_EXIT);
    fake_host_set(&h, "endpoint", dead_endpoint);
    fake_host_set(&h, "metrics_exporter", "none");
    void *inst = create_ok(&h);
    struct rocky_delivery_report r = {.struct_size = sizeof r};
    P->stop(inst, in_ms(100), &r);
    struct short_report s;
    short_report_init(&s, sizeof s.r);
    assert_int_equal(P->stop(inst, in_ms(100), &s.r), ROCKY_ESHUTDOWN);
    assert_untouched_after(&s, sizeof s.r.struct_size);
    destroy(&h);
}

/* ---- backpressure ---------------------------------------------------- */

#define QUEUE 4
#define EXTRA 3

static void test_full_queue_refuses_with_eagain_and_counts_nothing(void **state)
{
    struct fake_host h;
    fake_host_init(&h, ROCKY_HOST_CAP_OWNS_EXIT);
    /* A collector that is down: the first (full) batch stays in flight,
     * retried, holding every slot. */
    fake_host_set(&h, "endpoint", dead_endpoint);
    fake_host_set(&h, "bsp_max_queue_size", "4");
    fake_host_set(&h, "bsp_schedule_delay", "3600000");
    fake_host_set(&h, "bsp_export_timeout", "3600000");
    fake_host_set(&h, "metrics_exporter", "none");
    void *inst = create_ok(&h);
    struct test_run t;
    test_run_init(&t);
    int eagain = 0;
    for (int i = 0; i < QUEUE + EXTRA; i++) {
        t.model.span_id[7] = (uint8_t)(i + 1);
        int rc = P->on_event(inst, test_event(&t, ROCKY_EVENT_MODEL_END));
        assert_true(rc == 0 || rc == ROCKY_EAGAIN);
        eagain += rc == ROCKY_EAGAIN;
    }
    assert_int_equal(eagain, EXTRA);

    /* Refused spans are neither accepted nor dropped: the host counts them.
     * The rest is pending, exactly. */
    struct rocky_delivery_report r = {.struct_size = sizeof r};
    assert_int_equal(P->flush(inst, now_ns(), &r), ROCKY_ETIMEDOUT);
    assert_int_equal(r.accepted, QUEUE);
    assert_int_equal(r.delivered, 0);
    assert_int_equal(r.dropped, 0);
    assert_int_equal(r.pending, QUEUE);

    /* At stop the accepted ones are given up on; still no refusal counted,
     * and nothing left pending. */
    memset(&r, 0, sizeof r);
    r.struct_size = sizeof r;
    int rc = P->stop(inst, in_ms(300), &r);
    assert_true(rc == 0 || rc == ROCKY_ETIMEDOUT);
    assert_int_equal(r.accepted, QUEUE);
    assert_int_equal(r.delivered, 0);
    assert_int_equal(r.dropped, QUEUE);
    assert_int_equal(r.pending, 0);
    /* The summary counts what the plugin dropped, and says for the record
     * how many were refused for a full queue (not among them). */
    assert_int_equal(
        fake_host_lines_with(&h, "0 delivered, 4 dropped (queue_full 3,"), 1);
    destroy(&h);
}

static void test_refusals_count_in_the_queue_full_self_metric(void **state)
{
    /* At the exporter: the self-metric keeps counting refusals. */
    const struct rocky_config_entry config[] = {
        {"endpoint", dead_endpoint},
        {"bsp_max_queue_size", "4"},
        {"bsp_schedule_delay", "3600000"},
        {"bsp_export_timeout", "3600000"},
        {"metrics_exporter", "none"}};
    struct rocky_otel_config_source src = {.config = config, .config_count = 5};
    struct rocky_otel_config cfg;
    char err[256];
    assert_int_equal(rocky_otel_config_load(&cfg, &src, err, sizeof err), 0);
    struct rocky_otel_exporter *e;
    assert_int_equal(
        rocky_otel_exporter_new(&cfg, "0", NULL, NULL, &e, err, sizeof err), 0);
    rocky_otel_config_free(&cfg);
    struct test_run t;
    test_run_init(&t);
    for (int i = 0; i < QUEUE + EXTRA; i++)
        rocky_otel_exporter_on_event(e, test_event(&t, ROCKY_EVENT_MODEL_END));
    struct rocky_otel_exporter_stats st;
    rocky_otel_exporter_stats(e, &st);
    assert_int_equal(st.accepted, QUEUE);
    assert_int_equal(st.dropped[ROCKY_OTEL_DROP_QUEUE_FULL], EXTRA);
    struct rocky_delivery_report r = {.struct_size = sizeof r};
    rocky_otel_exporter_shutdown(e, in_ms(200), &r);
    assert_int_equal(r.accepted + 0, QUEUE);
    assert_int_equal(r.dropped, QUEUE); /* the accepted ones, not the refused */
    /* Exactly once. */
    assert_int_equal(rocky_otel_exporter_shutdown(e, in_ms(200), &r),
                     ROCKY_ESHUTDOWN);
    rocky_otel_exporter_free(e);
}

/* ---- skipped models -------------------------------------------------- */

static void test_skipped_model_end_gives_metrics_but_no_span(void **state)
{
    struct otlp_capture *cap;
    assert_int_equal(otlp_capture_start(&cap), 0);
    struct fake_host h;
    fake_host_init(&h, ROCKY_HOST_CAP_OWNS_EXIT);
    fake_host_set(&h, "endpoint", otlp_capture_endpoint(cap));
    void *inst = create_ok(&h);

    struct test_run t;
    test_run_init(&t);
    P->on_event(inst, test_event(&t, ROCKY_EVENT_RUN_START));
    strcpy(t.name, "ran");
    P->on_event(inst, test_event(&t, ROCKY_EVENT_MODEL_START));
    assert_int_equal(P->on_event(inst, test_event(&t, ROCKY_EVENT_MODEL_END)),
                     0);
    /* A model that never started: MODEL_END only, SKIPPED, no times. */
    strcpy(t.name, "skipped");
    t.model.status = ROCKY_MODEL_SKIPPED;
    t.model.error = "upstream model ran did not succeed";
    t.model.started_wall_ns = t.model.started_mono_ns = 0;
    t.model.rows_affected = t.model.bytes_written = -1;
    t.model.span_id[7] = 0x99;
    assert_int_equal(P->on_event(inst, test_event(&t, ROCKY_EVENT_MODEL_END)),
                     0);
    t.run.models_total = 2;
    t.run.models_succeeded = t.run.models_skipped = 1;
    P->on_event(inst, test_event(&t, ROCKY_EVENT_RUN_END));

    struct rocky_delivery_report r = {.struct_size = sizeof r};
    assert_int_equal(P->stop(inst, in_ms(10000), &r), 0);
    destroy(&h);
    assert_int_equal(r.accepted, 2); /* the run and the model that ran */
    assert_int_equal(r.delivered, 2);
    assert_int_equal(r.dropped, 0);
    assert_int_equal(r.pending, 0);

    assert_int_equal(otlp_capture_spans_named(cap, "run", NULL), 1);
    assert_int_equal(otlp_capture_spans_named(cap, "materialize.table", "ran"),
                     1);
    assert_int_equal(otlp_capture_spans_named(cap, NULL, "skipped"), 0);
    assert_int_equal(otlp_capture_span_count(cap), 2);

    int64_t v = -1;
    assert_int_equal(otlp_capture_sum(cap, "rocky.model.executions",
                                      "rocky.model.status", "skipped", &v),
                     0);
    assert_int_equal(v, 1);
    assert_int_equal(otlp_capture_sum(cap, "rocky.model.executions",
                                      "rocky.model.status", "success", &v),
                     0);
    assert_int_equal(v, 1);
    /* upstream's gauges: the success only, no attribute; no statement was
     * reported */
    double g = -1;
    assert_int_equal(otlp_capture_gauge(cap, "rocky.tables_processed", &g), 0);
    assert_true(g == 1.0);
    assert_int_equal(otlp_capture_gauge(cap, "rocky.error_rate_pct", &g), 0);
    assert_true(g == 0.0);
    assert_int_equal(otlp_capture_gauge(cap, "rocky.statements_executed", &g),
                     0);
    assert_true(g == 0.0);
    assert_int_equal(
        otlp_capture_sum(cap, "rocky.models_in_flight", NULL, NULL, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(
        otlp_capture_histogram_count(cap, "rocky.table_duration_ms"), 1);
    otlp_capture_stop(cap);
}

/* ---- several instances ----------------------------------------------- */

static void test_each_instance_exports_where_its_config_says(void **state)
{
    struct otlp_capture *a, *b;
    assert_int_equal(otlp_capture_start(&a), 0);
    assert_int_equal(otlp_capture_start(&b), 0);
    /* The per-signal variables point elsewhere (down): config wins. */
    setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", dead_endpoint, 1);
    setenv("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", dead_endpoint, 1);
    struct fake_host ha, hb;
    fake_host_init(&ha, ROCKY_HOST_CAP_OWNS_EXIT);
    fake_host_init(&hb, ROCKY_HOST_CAP_OWNS_EXIT);
    fake_host_set(&ha, "endpoint", otlp_capture_endpoint(a));
    fake_host_set(&hb, "endpoint", otlp_capture_endpoint(b));
    void *ia = create_ok(&ha);
    void *ib = create_ok(&hb);
    unsetenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
    unsetenv("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT");

    static const char *const na[] = {"only_in_a", "also_a"};
    static const char *const nb[] = {"only_in_b"};
    send_run(ia, na, 2);
    send_run(ib, nb, 1);
    struct rocky_delivery_report ra = {.struct_size = sizeof ra};
    struct rocky_delivery_report rb = {.struct_size = sizeof rb};
    /* Flush one while the other keeps going: they are independent. */
    assert_int_equal(P->flush(ia, in_ms(10000), &ra), 0);
    assert_int_equal(ra.delivered, 3);
    assert_int_equal(P->stop(ib, in_ms(10000), &rb), 0);
    assert_int_equal(rb.delivered, 2);
    destroy(&hb);
    assert_int_equal(P->stop(ia, in_ms(10000), &ra), 0);
    destroy(&ha);

    assert_int_equal(otlp_capture_spans_named(a, NULL, "only_in_a"), 1);
    assert_int_equal(otlp_capture_spans_named(a, NULL, "only_in_b"), 0);
    assert_int_equal(otlp_capture_spans_named(b, NULL, "only_in_b"), 1);
    assert_int_equal(otlp_capture_spans_named(b, NULL, "only_in_a"), 0);
    assert_int_equal(otlp_capture_span_count(a), 3);
    assert_int_equal(otlp_capture_span_count(b), 2);
    assert_int_equal(ha.lines_after_destroy + hb.lines_after_destroy, 0);
    otlp_capture_stop(a);
    otlp_capture_stop(b);
}

/* ---- the exit guard -------------------------------------------------- */

static void *sigterm_handler(void)
{
    struct sigaction sa;
    sigaction(SIGTERM, NULL, &sa);
    return (sa.sa_flags & SA_SIGINFO) ? (void *)sa.sa_sigaction
                                      : (void *)sa.sa_handler;
}

static void test_guard_arms_without_owns_exit_until_the_last_stop(void **state)
{
    void *before = sigterm_handler();
    struct fake_host owns;
    fake_host_init(&owns, ROCKY_HOST_CAP_OWNS_EXIT);
    fake_host_set(&owns, "endpoint", dead_endpoint);
    fake_host_set(&owns, "metrics_exporter", "none");
    void *io = create_ok(&owns);
    assert_ptr_equal(sigterm_handler(), before); /* the host owns the exit */

    struct fake_host h1, h2;
    fake_host_init(&h1, 0);
    fake_host_init(&h2, 0);
    fake_host_set(&h1, "endpoint", dead_endpoint);
    fake_host_set(&h2, "endpoint", dead_endpoint);
    fake_host_set(&h1, "metrics_exporter", "none");
    fake_host_set(&h2, "metrics_exporter", "none");
    void *i1 = create_ok(&h1);
    void *armed = sigterm_handler();
    assert_ptr_not_equal(armed, before);
    void *i2 = create_ok(&h2);
    assert_ptr_equal(sigterm_handler(), armed); /* one guard for both */

    P->stop(i1, in_ms(100), NULL);
    destroy(&h1);
    assert_ptr_equal(sigterm_handler(), armed); /* i2 still needs it */
    P->stop(i2, in_ms(100), NULL);
    destroy(&h2);
    assert_ptr_equal(sigterm_handler(), before); /* the last one disarmed */

    /* And it can be armed again by a later instance. */
    fake_host_init(&h1, 0);
    fake_host_set(&h1, "endpoint", dead_endpoint);
    fake_host_set(&h1, "metrics_exporter", "none");
    i1 = create_ok(&h1);
    assert_ptr_not_equal(sigterm_handler(), before);
    P->stop(i1, in_ms(100), NULL);
    destroy(&h1);
    assert_ptr_equal(sigterm_handler(), before);

    P->stop(io, in_ms(100), NULL);
    destroy(&owns);
}

/* Run otel_exit_helper and wait for it. Returns its wait status. */
static int run_helper(const char *mode, const char *caps, const char *ep1,
                      const char *ep2)
{
    char *argv[] = {(char *)ROCKY_OTEL_EXIT_HELPER,
                    (char *)mode,
                    (char *)caps,
                    (char *)ep1,
                    (char *)ep2,
                    NULL};
    pid_t pid;
    assert_int_equal(
        posix_spawn(&pid, ROCKY_OTEL_EXIT_HELPER, NULL, NULL, argv, environ),
        0);
    int64_t limit = in_ms(30000);
    int status = 0;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return status;
        if (now_ns() > limit) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            fail_msg("otel_exit_helper %s did not end", mode);
        }
        struct timespec ts = {0, 20 * MS};
        nanosleep(&ts, NULL);
    }
}

static void exit_drains_every_instance(const char *mode, int want_status,
                                       int want_signal)
{
    struct otlp_capture *a, *b;
    assert_int_equal(otlp_capture_start(&a), 0);
    assert_int_equal(otlp_capture_start(&b), 0);
    int status = run_helper(mode, "0", otlp_capture_endpoint(a),
                            otlp_capture_endpoint(b));
    if (want_signal) {
        assert_true(WIFSIGNALED(status));
        assert_int_equal(WTERMSIG(status), want_signal);
    } else {
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), want_status);
    }
    /* Each instance's run, drained by the one guard: none was stopped. */
    assert_int_equal(otlp_capture_spans_named(a, "run", NULL), 1);
    assert_int_equal(otlp_capture_spans_named(b, "run", NULL), 1);
    assert_int_equal(otlp_capture_spans_named(a, NULL, "model_of_a"), 1);
    assert_int_equal(otlp_capture_spans_named(b, NULL, "model_of_b"), 1);
    otlp_capture_stop(a);
    otlp_capture_stop(b);
}

static void test_return_from_main_drains_every_instance(void **state)
{
    exit_drains_every_instance("return", 0, 0);
}

static void test_sigterm_drains_every_instance_then_dies_by_it(void **state)
{
    exit_drains_every_instance("sigterm", 0, SIGTERM);
}

static void test_a_host_that_owns_the_exit_gets_no_guard(void **state)
{
    struct otlp_capture *a;
    assert_int_equal(otlp_capture_start(&a), 0);
    /* The helper returns without stopping its instance (which such a host
     * never does): nothing of ours runs at exit, so nothing arrives. */
    int status =
        run_helper("return", "1", otlp_capture_endpoint(a), dead_endpoint);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(otlp_capture_span_count(a), 0);
    otlp_capture_stop(a);
}

/* ---- the log route ------------------------------------------------- */

static void test_route_logs_through_the_oldest_live_instance(void **state)
{
    struct fake_host h1, h2;
    fake_host_init(&h1, 0);
    fake_host_init(&h2, 0);
    struct rocky_otel_host_log l1, l2;
    rocky_otel_host_log_init(&l1, &h1.api);
    rocky_otel_host_log_init(&l2, &h2.api);
    rocky_otel_log_route_join(&l1);
    rocky_otel_log_route_join(&l2);
    rocky_otel_log_route_write(NULL, ROCKY_LOG_WARN, "grpc: one");
    assert_int_equal(fake_host_lines_with(&h1, "grpc: one"), 1);
    assert_int_equal(fake_host_lines_with(&h2, "grpc: one"), 0);
    rocky_otel_host_log_detach(&l1);
    rocky_otel_log_route_write(NULL, ROCKY_LOG_WARN, "grpc: two");
    assert_int_equal(fake_host_lines_with(&h1, "grpc: two"), 0);
    assert_int_equal(fake_host_lines_with(&h2, "grpc: two"), 1);
    /* A detached logger says nothing, even when called directly. */
    rocky_otel_host_log_write(&l1, ROCKY_LOG_WARN, "late");
    assert_int_equal(fake_host_lines_with(&h1, "late"), 0);
    rocky_otel_host_log_detach(&l2);
    rocky_otel_log_route_write(NULL, ROCKY_LOG_WARN, "grpc: three");
    assert_int_equal(fake_host_lines_with(&h2, "grpc: three"), 0);
    rocky_otel_host_log_destroy(&l1);
    rocky_otel_host_log_destroy(&l2);
}

struct hammer {
    struct rocky_otel_host_log *log;
    atomic_int stop;
};

static void *hammer_main(void *arg)
{
    struct hammer *m = arg;
    while (!atomic_load(&m->stop)) {
        rocky_otel_log_route_write(NULL, ROCKY_LOG_DEBUG, "grpc: noise");
        rocky_otel_host_log_write(m->log, ROCKY_LOG_DEBUG, "exporter: noise");
    }
    return NULL;
}

static void test_no_line_reaches_the_host_after_detach(void **state)
{
    struct fake_host h;
    fake_host_init(&h, 0);
    struct rocky_otel_host_log l;
    rocky_otel_host_log_init(&l, &h.api);
    rocky_otel_log_route_join(&l);
    struct hammer m = {.log = &l};
    atomic_init(&m.stop, 0);
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, hammer_main, &m);
    struct timespec ts = {0, 20 * MS};
    nanosleep(&ts, NULL);
    rocky_otel_host_log_detach(&l);
    /* What destroy does next: from now on the host is gone. */
    atomic_store(&h.destroyed, 1);
    nanosleep(&ts, NULL);
    atomic_store(&m.stop, 1);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    assert_true(h.line_count > 0);
    assert_int_equal(atomic_load(&h.lines_after_destroy), 0);
    rocky_otel_host_log_destroy(&l);
}

int main(void)
{
    const char *scale = getenv("ROCKY_TEST_TIME_SCALE");
    if (scale && atoi(scale) > 0)
        time_scale = atoi(scale);
    /* The tests say what they configure; nothing from the caller's
     * environment leaks in. */
    for (char **e = environ; *e;) {
        if (strncmp(*e, "OTEL_", 5) == 0 ||
            strncmp(*e, "ROCKY_OTEL_", 11) == 0) {
            char name[128];
            size_t n = strcspn(*e, "=");
            snprintf(name, sizeof name, "%.*s", (int)n, *e);
            unsetenv(name);
        } else {
            e++;
        }
    }
    P = rocky_plugin_entry(NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unknown_config_key_fails_create_naming_it),
        cmocka_unit_test(test_invalid_config_value_warns_naming_the_key),
        cmocka_unit_test(test_config_disabled_beats_an_environment_endpoint),
        cmocka_unit_test(test_reports_never_write_past_an_older_readers_size),
        cmocka_unit_test(test_stop_is_once_and_a_second_call_writes_nothing),
        cmocka_unit_test(
            test_full_queue_refuses_with_eagain_and_counts_nothing),
        cmocka_unit_test(test_refusals_count_in_the_queue_full_self_metric),
        cmocka_unit_test(test_skipped_model_end_gives_metrics_but_no_span),
        cmocka_unit_test(test_each_instance_exports_where_its_config_says),
        cmocka_unit_test(test_guard_arms_without_owns_exit_until_the_last_stop),
        cmocka_unit_test(test_return_from_main_drains_every_instance),
        cmocka_unit_test(test_sigterm_drains_every_instance_then_dies_by_it),
        cmocka_unit_test(test_a_host_that_owns_the_exit_gets_no_guard),
        cmocka_unit_test(test_route_logs_through_the_oldest_live_instance),
        cmocka_unit_test(test_no_line_reaches_the_host_after_detach),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
