/*
 * test_plugin_abi.c — ABI 2.0 from the plugin's side, against real shared
 * objects built from the public headers alone:
 *   - every host service answers what plugin.h promises (services fixture);
 *   - a C++17 plugin loads in the C host and counts concurrent events;
 *   - plugins writing a report into an older (smaller) host struct never
 *     write past it (events_jsonl and the C++ plugin, called directly);
 *   - instances of one library keep their own configuration and state, and
 *     an unknown configuration key is refused, named.
 * The header compile checks (ILP32, -malign-double, C++) are ctest tests
 * of their own (tests/unit/CMakeLists.txt).
 */
#include <dlfcn.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "clock.h"
#include "log.h"
#include "fake_host.h"
#include "log_capture.h"
#include "plugin_host.h"

/* ---- captured log lines (log_capture.h), with their levels ------------ */

/* Index of the one line equal to `prefix` + `rest` (printf-style), failing
 * the test when there is none or more than one. */
static int line_exactly(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static int line_exactly(const char *fmt, ...)
{
    char want[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(want, sizeof want, fmt, ap);
    va_end(ap);
    int found = -1, n = 0;
    for (int i = 0; i < log_capture_count(); i++)
        if (strcmp(log_capture_line(i), want) == 0) {
            found = i;
            n++;
        }
    if (n != 1) {
        print_error("want exactly one log line \"%s\", have %d:\n", want, n);
        log_capture_dump();
    }
    assert_int_equal(n, 1);
    return found;
}

/* The one line starting with `prefix`, or fail. */
static const char *line_starting(const char *prefix)
{
    const char *found = NULL;
    int n = 0;
    for (int i = 0; i < log_capture_count(); i++)
        if (strncmp(log_capture_line(i), prefix, strlen(prefix)) == 0) {
            found = log_capture_line(i);
            n++;
        }
    if (n != 1) {
        print_error("want one log line starting \"%s\", have %d:\n", prefix, n);
        log_capture_dump();
    }
    assert_int_equal(n, 1);
    return found;
}

static int lines_containing(const char *a, const char *b)
{
    return log_capture_matching(a, b, NULL);
}

static int setup(void **state)
{
    log_capture_start();
    struct rocky_plugin_set *set = NULL;
    assert_int_equal(rocky_plugin_set_new("9.9.9-abi", &set), 0);
    *state = set;
    return 0;
}

static int teardown(void **state)
{
    rocky_plugin_set_free(*state);
    log_capture_stop();
    return 0;
}

/* ---- a run to emit ----------------------------------------------------- */

static struct rocky_run test_run(uint32_t models)
{
    struct rocky_run run = {.struct_size = sizeof run};
    run.run_id = "20261203T170000.000Z-abi";
    run.project = "abi";
    run.trigger = "manual";
    run.models_total = models;
    run.trace_id[0] = 0xab;
    run.span_id[0] = 0x01;
    return run;
}

static void emit(struct rocky_plugin_set *set, const struct rocky_run *run,
                 const struct rocky_model_exec *model, uint32_t type)
{
    rocky_plugin_set_emit_new(set, type, 0, run, model, rocky_clock_wall_ns(),
                              rocky_clock_mono_ns());
}

/* RUN_START, `ran` MODEL_START/MODEL_END, then one SKIPPED MODEL_END (no
 * MODEL_START, as the ABI promises for a model that never started), and
 * RUN_END: 2 * ran + 3 events. */
static int emit_run_with_a_skipped_model(struct rocky_plugin_set *set)
{
    struct rocky_run run = test_run(2);
    static const char *const deps[] = {"orders"};
    struct rocky_model_exec ran = {.struct_size = sizeof ran};
    ran.model_name = "orders";
    ran.attempt = 1;
    ran.rows_affected = 42;
    ran.bytes_written = 4096;
    ran.span_id[0] = 0x02;
    emit(set, &run, NULL, ROCKY_EVENT_RUN_START);
    ran.status = ROCKY_MODEL_RUNNING;
    emit(set, &run, &ran, ROCKY_EVENT_MODEL_START);
    ran.status = ROCKY_MODEL_FAILED;
    ran.error = "no such table: raw_orders";
    emit(set, &run, &ran, ROCKY_EVENT_MODEL_END);
    struct rocky_model_exec skipped = {.struct_size = sizeof skipped};
    skipped.model_name = "revenue";
    skipped.status = ROCKY_MODEL_SKIPPED;
    skipped.error = "upstream model orders did not succeed";
    skipped.dependencies = deps;
    skipped.dependency_count = 1;
    skipped.rows_affected = -1;
    skipped.bytes_written = -1;
    skipped.span_id[0] = 0x03;
    emit(set, &run, &skipped, ROCKY_EVENT_MODEL_END);
    run.status = ROCKY_RUN_FAILURE;
    emit(set, &run, NULL, ROCKY_EVENT_RUN_END);
    return 5;
}

/* ---- (a) every host service, through the services fixture -------------- */

/* The fixture logs "plugin <instance>: services: <what>=<answer>". */
#define SVC "plugin svc_a: services: "

static void parse_pair(const char *line, const char *prefix, int64_t *a,
                       int64_t *b)
{
    assert_non_null(line);
    assert_int_equal(
        sscanf(line + strlen(prefix), "%" SCNd64 " then %" SCNd64, a, b), 2);
}

static void test_services_answer_what_the_header_promises(void **state)
{
    struct rocky_plugin_set *set = *state;
    assert_int_equal(rocky_plugin_set_context(set, "/proj/dir",
                                              "/proj/dir/.rocky/state.db",
                                              ROCKY_HOST_CAP_OWNS_EXIT),
                     0);
    /* The host copies the configuration: overwritten after load, the
     * instance still sees what was given. */
    char endpoint[] = "http://collector:4317";
    struct rocky_config_entry cfg[] = {{"endpoint", endpoint},
                                       {"timeout", "5000"}};
    struct rocky_plugin_spec spec = {ROCKY_SERVICES_PLUGIN, "svc_a", cfg, 2};
    int64_t mono_before = rocky_clock_mono_ns();
    int64_t wall_before = rocky_clock_wall_ns();
    assert_int_equal(rocky_plugin_set_load_spec(set, &spec), 0);
    int64_t mono_after = rocky_clock_mono_ns();
    int64_t wall_after = rocky_clock_wall_ns();
    memset(endpoint, 'X', sizeof endpoint - 1);

    /* log: each level arrives at that level, prefixed with the instance */
    const char *names[] = {"debug", "info", "warn", "error"};
    const int want_levels[] = {ROCKY_LOG_DEBUG, ROCKY_LOG_INFO, ROCKY_LOG_WARN,
                               ROCKY_LOG_ERROR};
    for (int i = 0; i < 4; i++)
        assert_int_equal(
            log_capture_level(line_exactly(SVC "level=%s", names[i])),
            want_levels[i]);

    /* strerror / err_name, for a known code and one newer than any header */
    line_exactly(SVC "strerror(-3)=input/output error");
    line_exactly(SVC "err_name(-3)=EIO");
    line_exactly(SVC "strerror(-1000)=unknown error");
    line_exactly(SVC "err_name(-1000)=UNKNOWN");

    /* clocks: the host's CLOCK_MONOTONIC / CLOCK_REALTIME, in ns */
    int64_t a, b;
    parse_pair(line_starting(SVC "mono_ns="), SVC "mono_ns=", &a, &b);
    assert_true(mono_before <= a && a <= b && b <= mono_after);
    parse_pair(line_starting(SVC "wall_ns="), SVC "wall_ns=", &a, &b);
    const int64_t second = 1000000000;
    assert_true(a >= wall_before - second && b <= wall_after + second);
    assert_true(a > INT64_C(1700000000) * second); /* after Nov 2023 */

    /* configuration: walked in order, looked up, an unset key is NULL */
    line_exactly(SVC "config_count=2");
    line_exactly(SVC "config[0]=endpoint=http://collector:4317");
    line_exactly(SVC "config[1]=timeout=5000");
    line_exactly(SVC "config_get(endpoint)=http://collector:4317");
    line_exactly(SVC "config_get(timeout)=5000");
    line_exactly(SVC "config_get(no_such_key)=(null)");

    /* instance info and the table itself */
    line_exactly(SVC "instance_name=svc_a");
    line_exactly(SVC "path=%s", ROCKY_SERVICES_PLUGIN);
    line_exactly(SVC "project_dir=/proj/dir");
    line_exactly(SVC "state_path=/proj/dir/.rocky/state.db");
    line_exactly(SVC "info_size=%zu", sizeof(struct rocky_instance_info));
    line_exactly(SVC "host=rocky 9.9.9-abi abi=%d.%d size=%zu",
                 ROCKY_PLUGIN_ABI_MAJOR, ROCKY_PLUGIN_ABI_MINOR,
                 sizeof(struct rocky_host_api));
    line_exactly(SVC "capabilities=0x1 owns_exit=1");
    line_exactly(SVC "has_config_get=1");
    line_exactly(SVC "create done");

    /* services and config still answer at stop, with the copied value */
    int events = emit_run_with_a_skipped_model(set);
    struct rocky_delivery_report r;
    assert_int_equal(rocky_plugin_set_stop(set, INT64_MAX, &r), 0);
    line_exactly(SVC "stop config_get(endpoint)=http://collector:4317 "
                     "events=%d",
                 events);
    assert_int_equal(r.accepted, events);
    assert_int_equal(r.delivered, events);
}

/* No context, no configuration, no name: NULLs, no capabilities, and the
 * plugin's own name as the instance name. */
static void test_services_without_context_or_config(void **state)
{
    struct rocky_plugin_set *set = *state;
    assert_int_equal(rocky_plugin_set_load(set, ROCKY_SERVICES_PLUGIN), 0);
    assert_string_equal(rocky_plugin_set_name(set, 0), "services");
    line_exactly("plugin services: services: instance_name=services");
    line_exactly("plugin services: services: project_dir=(null)");
    line_exactly("plugin services: services: state_path=(null)");
    line_exactly("plugin services: services: config_count=0");
    line_exactly("plugin services: services: config_get(no_such_key)=(null)");
    line_exactly("plugin services: services: capabilities=0x0 owns_exit=0");
    assert_int_equal(rocky_plugin_set_stop(set, INT64_MAX, NULL), 0);
    line_exactly("plugin services: services: stop "
                 "config_get(no_such_key)=(null) events=0");
}

/* ---- (b) a C++ plugin in the C host ----------------------------------- */

/* Enough events that counters which lose updates under contention (a load
 * then a store instead of fetch_add) fail the count: 3 of 3 runs did on a
 * 2-core machine, and the test still takes milliseconds. */
#define CXX_THREADS           4
#define CXX_MODELS_PER_THREAD 20000

struct emitter {
    struct rocky_plugin_set *set;
    const struct rocky_run *run;
    int index;
};

static void *emit_models(void *arg)
{
    const struct emitter *e = arg;
    for (int i = 0; i < CXX_MODELS_PER_THREAD; i++) {
        char name[32];
        snprintf(name, sizeof name, "m%d_%d", e->index, i);
        struct rocky_model_exec m = {.struct_size = sizeof m};
        m.model_name = name;
        m.attempt = 1;
        m.status = ROCKY_MODEL_RUNNING;
        emit(e->set, e->run, &m, ROCKY_EVENT_MODEL_START);
        m.status = ROCKY_MODEL_SUCCESS;
        emit(e->set, e->run, &m, ROCKY_EVENT_MODEL_END);
    }
    return NULL;
}

static void test_cxx_plugin_counts_events_from_worker_threads(void **state)
{
    struct rocky_plugin_set *set = *state;
    struct rocky_config_entry cfg[] = {{"label", "abi"}};
    struct rocky_plugin_spec spec = {ROCKY_CXX_PLUGIN, NULL, cfg, 1};
    assert_int_equal(rocky_plugin_set_load_spec(set, &spec), 0);
    assert_string_equal(rocky_plugin_set_name(set, 0), "cxx_recorder");

    struct rocky_run run = test_run(CXX_THREADS * CXX_MODELS_PER_THREAD);
    emit(set, &run, NULL, ROCKY_EVENT_RUN_START);
    pthread_t threads[CXX_THREADS];
    struct emitter emitters[CXX_THREADS];
    for (int i = 0; i < CXX_THREADS; i++) {
        emitters[i] = (struct emitter){set, &run, i};
        assert_int_equal(
            pthread_create(&threads[i], NULL, emit_models, &emitters[i]), 0);
    }
    for (int i = 0; i < CXX_THREADS; i++)
        pthread_join(threads[i], NULL);
    emit(set, &run, NULL, ROCKY_EVENT_RUN_END);

    const int models = CXX_THREADS * CXX_MODELS_PER_THREAD;
    const uint64_t total = 2 + 2 * (uint64_t)models;
    struct rocky_delivery_report r;
    assert_int_equal(rocky_plugin_set_flush(set, INT64_MAX, &r), 0);
    assert_int_equal(r.accepted, total);
    assert_int_equal(rocky_plugin_set_stop(set, INT64_MAX, &r), 0);
    assert_int_equal(r.accepted, total);
    assert_int_equal(r.delivered, total);
    assert_int_equal(r.dropped, 0);
    assert_int_equal(r.pending, 0);
    line_exactly("plugin cxx_recorder: cxx: label=abi run_start=1 "
                 "model_start=%d model_end=%d run_end=1 flush=1",
                 models, models);
}

static void test_cxx_plugin_refuses_an_unknown_key(void **state)
{
    struct rocky_config_entry cfg[] = {{"lable", "typo"}};
    struct rocky_plugin_spec spec = {ROCKY_CXX_PLUGIN, NULL, cfg, 1};
    assert_int_equal(rocky_plugin_set_load_spec(*state, &spec), ROCKY_EREFUSED);
    assert_int_equal(rocky_plugin_set_count(*state), 0);
    assert_int_equal(
        lines_containing("unknown config key 'lable'", "known keys: label"), 1);
}

/* ---- (c) a newer writer never writes past an older host's report ------- */

/* Plugins called directly, through a hand-made host (fake_host.h), as an
 * older or foreign runner would: lib/plugin_host is not in between. */

static const struct rocky_plugin *open_plugin(const char *path, void **dl)
{
    *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (*dl == NULL)
        print_error("dlopen %s: %s\n", path, dlerror());
    assert_non_null(*dl);
    void *sym = dlsym(*dl, ROCKY_PLUGIN_ENTRY_SYMBOL);
    assert_non_null(sym);
    rocky_plugin_entry_fn entry;
    memcpy(&entry, &sym, sizeof entry);
    struct fake_host lib_host;
    fake_host_init(&lib_host, 0);
    const struct rocky_plugin *desc = entry(&lib_host.api);
    pthread_mutex_destroy(&lib_host.mu);
    assert_non_null(desc);
    assert_int_equal(ROCKY_PLUGIN_ABI_MAJOR_OF(desc->abi_version),
                     ROCKY_PLUGIN_ABI_MAJOR);
    assert_true(ROCKY_STRUCT_HAS(desc, struct rocky_plugin, destroy));
    return desc;
}

#define CANARY       0xA5
#define CANARY_BYTES 64

/* A report as an older host compiled it: `size` bytes of it, then canary
 * bytes where a newer struct would go on. Heap memory, so that it has no
 * declared type to alias. */
static struct rocky_delivery_report *old_report(uint32_t size)
{
    unsigned char *buf =
        malloc(sizeof(struct rocky_delivery_report) + CANARY_BYTES);
    assert_non_null(buf);
    memset(buf, CANARY, sizeof(struct rocky_delivery_report) + CANARY_BYTES);
    struct rocky_delivery_report *r = (struct rocky_delivery_report *)buf;
    r->struct_size = size;
    return r;
}

/* Fields inside `size` hold the counts; every byte past it is untouched;
 * struct_size is as the host left it. */
static void check_old_report(struct rocky_delivery_report *r, uint32_t size,
                             uint64_t accepted)
{
    assert_int_equal(r->struct_size, size);
    if (ROCKY_STRUCT_HAS(r, struct rocky_delivery_report, accepted))
        assert_int_equal(r->accepted, accepted);
    if (ROCKY_STRUCT_HAS(r, struct rocky_delivery_report, delivered))
        assert_int_equal(r->delivered, accepted);
    if (ROCKY_STRUCT_HAS(r, struct rocky_delivery_report, dropped))
        assert_int_equal(r->dropped, 0);
    if (ROCKY_STRUCT_HAS(r, struct rocky_delivery_report, pending))
        assert_int_equal(r->pending, 0);
    const unsigned char *bytes = (const unsigned char *)r;
    const size_t end = sizeof(struct rocky_delivery_report) + CANARY_BYTES;
    for (size_t i = size; i < end; i++)
        if (bytes[i] != CANARY) {
            print_error("byte %zu of a %u-byte report overwritten\n", i, size);
            fail();
        }
    free(r);
}

/* Every size an older host could have: the header only, then one more
 * field at a time, up to this header's size. */
static const uint32_t report_sizes[] = {
    offsetof(struct rocky_delivery_report, accepted),
    offsetof(struct rocky_delivery_report, delivered),
    offsetof(struct rocky_delivery_report, dropped),
    offsetof(struct rocky_delivery_report, pending),
    sizeof(struct rocky_delivery_report),
};

/* `want_line`, when not NULL, must be logged exactly once. */
static void drive_with_old_reports(const char *path,
                                   const struct rocky_config_entry *config,
                                   size_t config_count, const char *want_line)
{
    void *dl;
    const struct rocky_plugin *p = open_plugin(path, &dl);
    struct fake_host host;
    fake_host_init(&host, 0);
    host.info.instance_name = "direct";
    host.info.path = path;
    for (size_t i = 0; i < config_count; i++)
        fake_host_set(&host, config[i].key, config[i].value);
    void *inst = NULL;
    char err[256] = "";
    int rc = p->create(&host.api, &host.info, &inst, err, sizeof err);
    if (rc != 0)
        print_error("create: %s\n", err);
    assert_int_equal(rc, 0);

    struct rocky_run run = test_run(0);
    struct rocky_event ev = {
        .struct_size = sizeof ev, .type = ROCKY_EVENT_RUN_START, .run = &run};
    assert_int_equal(p->on_event(inst, &ev), 0);
    ev.type = ROCKY_EVENT_RUN_END;
    assert_int_equal(p->on_event(inst, &ev), 0);

    for (size_t i = 0; i < sizeof report_sizes / sizeof report_sizes[0]; i++) {
        struct rocky_delivery_report *r = old_report(report_sizes[i]);
        assert_int_equal(p->flush(inst, INT64_MAX, r), 0);
        check_old_report(r, report_sizes[i], 2);
    }
    /* stop, once, into a host struct that ends before `pending` */
    const uint32_t size = offsetof(struct rocky_delivery_report, pending);
    struct rocky_delivery_report *r = old_report(size);
    assert_int_equal(p->stop(inst, INT64_MAX, r), 0);
    check_old_report(r, size, 2);
    p->destroy(inst);
    dlclose(dl);
    if (want_line != NULL) {
        size_t n = 0;
        for (size_t i = 0; i < host.line_count && i < FAKE_HOST_LINES; i++)
            n += strcmp(host.lines[i], want_line) == 0;
        if (n != 1)
            print_error("want exactly one line \"%s\", have %zu\n", want_line,
                        n);
        assert_int_equal(n, 1);
    }
    pthread_mutex_destroy(&host.mu);
}

static void test_events_jsonl_never_writes_past_an_older_report(void **s)
{
    char path[] = "/tmp/rocky-abi-direct-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    struct rocky_config_entry cfg[] = {{"path", path}};
    drive_with_old_reports(ROCKY_EVENTS_JSONL_PLUGIN, cfg, 1, NULL);
    unlink(path);
}

static void test_cxx_plugin_never_writes_past_an_older_report(void **s)
{
    /* it logs its counts through the host's log at stop */
    char want[128];
    snprintf(want, sizeof want,
             "cxx: label=none run_start=1 model_start=0 model_end=0 "
             "run_end=1 flush=%zu",
             sizeof report_sizes / sizeof report_sizes[0]);
    drive_with_old_reports(ROCKY_CXX_PLUGIN, NULL, 0, want);
}

/* ---- (d) instances keep their own configuration ------------------------ */

struct tmpdir {
    char dir[64];
    char a[128], b[128], env[128];
};

static void tmpdir_make(struct tmpdir *t)
{
    snprintf(t->dir, sizeof t->dir, "/tmp/rocky-abi-XXXXXX");
    assert_non_null(mkdtemp(t->dir));
    snprintf(t->a, sizeof t->a, "%s/a.jsonl", t->dir);
    snprintf(t->b, sizeof t->b, "%s/b.jsonl", t->dir);
    snprintf(t->env, sizeof t->env, "%s/env.jsonl", t->dir);
}

static void tmpdir_remove(struct tmpdir *t)
{
    unlink(t->a);
    unlink(t->b);
    unlink(t->env);
    rmdir(t->dir);
}

/* The lines of `path` parsed as JSON objects; `*n` of them. */
static cJSON **read_lines(const char *path, int *n)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    cJSON **out = NULL;
    *n = 0;
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0) {
        cJSON *obj = cJSON_Parse(line);
        if (obj == NULL)
            print_error("not JSON: %s\n", line);
        assert_non_null(obj);
        out = realloc(out, (size_t)(*n + 1) * sizeof *out);
        assert_non_null(out);
        out[(*n)++] = obj;
    }
    free(line);
    fclose(f);
    return out;
}

static void free_lines(cJSON **objs, int n)
{
    for (int i = 0; i < n; i++)
        cJSON_Delete(objs[i]);
    free(objs);
}

static const char *str_of(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The same keys, in the same order. */
static void assert_same_keys(const cJSON *x, const cJSON *y)
{
    const cJSON *a = x->child, *b = y->child;
    for (; a != NULL && b != NULL; a = a->next, b = b->next)
        assert_string_equal(a->string, b->string);
    assert_null(a);
    assert_null(b);
}

static void check_instance_file(const char *path, const char *instance,
                                int events)
{
    int n;
    cJSON **objs = read_lines(path, &n);
    assert_int_equal(n, events);
    static const char *const types[] = {"run_start", "model_start", "model_end",
                                        "model_end", "run_end"};
    for (int i = 0; i < n; i++) {
        assert_string_equal(str_of(objs[i], "type"), types[i]);
        assert_string_equal(str_of(objs[i], "instance"), instance);
        assert_string_equal(str_of(objs[i], "run_id"),
                            "20261203T170000.000Z-abi");
    }
    /* the skipped model's MODEL_END has every field the ran one has */
    assert_string_equal(str_of(objs[2], "status"), "failed");
    assert_string_equal(str_of(objs[3], "status"), "skipped");
    assert_string_equal(str_of(objs[3], "model"), "revenue");
    assert_string_equal(str_of(objs[3], "error"),
                        "upstream model orders did not succeed");
    assert_same_keys(objs[2], objs[3]);
    free_lines(objs, n);
}

static void test_two_jsonl_instances_write_their_own_files(void **state)
{
    struct rocky_plugin_set *set = *state;
    struct tmpdir t;
    tmpdir_make(&t);
    /* configuration wins over the environment fallback */
    setenv("ROCKY_EVENTS_JSONL", t.env, 1);
    struct rocky_config_entry ca[] = {{"path", t.a}};
    struct rocky_config_entry cb[] = {{"path", t.b}};
    struct rocky_plugin_spec a = {ROCKY_EVENTS_JSONL_PLUGIN, "jsonl_a", ca, 1};
    struct rocky_plugin_spec b = {ROCKY_EVENTS_JSONL_PLUGIN, "jsonl_b", cb, 1};
    assert_int_equal(rocky_plugin_set_load_spec(set, &a), 0);
    assert_int_equal(rocky_plugin_set_load_spec(set, &b), 0);

    /* a typo is refused, the key named and the known keys listed */
    struct rocky_config_entry cc[] = {{"path", t.env}, {"pahts", "x"}};
    struct rocky_plugin_spec c = {ROCKY_EVENTS_JSONL_PLUGIN, "jsonl_c", cc, 2};
    assert_int_equal(rocky_plugin_set_load_spec(set, &c), ROCKY_EREFUSED);
    assert_int_equal(lines_containing("plugin " ROCKY_EVENTS_JSONL_PLUGIN
                                      ": create failed (EINVAL): unknown "
                                      "config key 'pahts' (known keys: path)",
                                      "continuing without it"),
                     1);
    assert_int_equal(rocky_plugin_set_count(set), 2);

    int events = emit_run_with_a_skipped_model(set);
    struct rocky_delivery_report r;
    assert_int_equal(rocky_plugin_set_stop(set, INT64_MAX, &r), 0);
    assert_int_equal(r.accepted, 2 * events);
    assert_int_equal(r.delivered, 2 * events);
    assert_int_equal(r.dropped, 0);
    check_instance_file(t.a, "jsonl_a", events);
    check_instance_file(t.b, "jsonl_b", events);
    assert_int_equal(access(t.env, F_OK), -1); /* nobody used the fallback */
    unsetenv("ROCKY_EVENTS_JSONL");
    tmpdir_remove(&t);
}

/* Neither config nor environment: refused, saying what to set. */
static void test_jsonl_without_a_path_is_refused(void **state)
{
    unsetenv("ROCKY_EVENTS_JSONL");
    assert_int_equal(rocky_plugin_set_load(*state, ROCKY_EVENTS_JSONL_PLUGIN),
                     ROCKY_EREFUSED);
    assert_int_equal(lines_containing("no output file: set config key 'path' "
                                      "of instance 'events_jsonl' or "
                                      "ROCKY_EVENTS_JSONL",
                                      NULL),
                     1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_services_answer_what_the_header_promises, setup, teardown),
        cmocka_unit_test_setup_teardown(test_services_without_context_or_config,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_cxx_plugin_counts_events_from_worker_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cxx_plugin_refuses_an_unknown_key,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_events_jsonl_never_writes_past_an_older_report, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_cxx_plugin_never_writes_past_an_older_report, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_two_jsonl_instances_write_their_own_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_jsonl_without_a_path_is_refused,
                                        setup, teardown),
    };
    return cmocka_run_group_tests_name("plugin_abi", tests, NULL, NULL);
}
