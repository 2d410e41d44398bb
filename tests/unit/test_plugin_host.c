/*
 * test_plugin_host.c — the host's plugin loader against real shared objects:
 * every way loading can fail, version negotiation, fan-out, concurrency and
 * shutdown. Fixture plugins come from tests/fixtures/.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "clock.h"
#include "log.h"
#include "log_capture.h"
#include "plugin_host.h"

/* Captured log lines: log_capture.h. */
#define lines_matching log_capture_matching
#define dump_lines     log_capture_dump

static int setup(void **state)
{
    log_capture_start();
    struct rocky_plugin_set *set = NULL;
    assert_int_equal(rocky_plugin_set_new("9.9.9-test", &set), 0);
    *state = set;
    return 0;
}

/* A test's scratch folder (make_plugin_paths), removed by teardown even
 * when an assertion ended the test early. */
static void remove_scratch(void);

static int teardown(void **state)
{
    rocky_plugin_set_free(*state);
    log_capture_stop();
    remove_scratch();
    return 0;
}

static char fixture_path[1024];
static const char *fixture(const char *name)
{
    snprintf(fixture_path, sizeof fixture_path, "%s/%s.so", ROCKY_FIXTURE_DIR,
             name);
    return fixture_path;
}

/* ---- a small run to emit ----------------------------------------------- */

static struct rocky_run test_run(void)
{
    struct rocky_run run = {.struct_size = sizeof run};
    run.run_id = "20261125T060000.000Z-test";
    run.project = "unit";
    run.trigger = "manual";
    run.models_total = 1;
    run.trace_id[0] = 1;
    run.span_id[0] = 2;
    return run;
}

static void emit(struct rocky_plugin_set *set, const struct rocky_run *run,
                 const struct rocky_model_exec *model, uint32_t type)
{
    rocky_plugin_set_emit_new(set, type, 0, run, model, rocky_clock_wall_ns(),
                              rocky_clock_mono_ns());
}

static void emit_one_model_run(struct rocky_plugin_set *set)
{
    struct rocky_run run = test_run();
    struct rocky_model_exec m = {.struct_size = sizeof m};
    m.model_name = "orders";
    m.attempt = 1;
    m.span_id[0] = 3;
    emit(set, &run, NULL, ROCKY_EVENT_RUN_START);
    emit(set, &run, &m, ROCKY_EVENT_MODEL_START);
    m.status = ROCKY_MODEL_SUCCESS;
    emit(set, &run, &m, ROCKY_EVENT_MODEL_END);
    run.status = ROCKY_RUN_SUCCESS;
    emit(set, &run, NULL, ROCKY_EVENT_RUN_END);
}

/* ---- each load failure: one line, file and reason named --------------- */

static void test_missing_file_is_reported_with_its_path(void **state)
{
    int rc = rocky_plugin_set_load(*state, "/nonexistent/dir/missing.so");
    assert_int_equal(rc, ROCKY_ENOTFOUND);
    assert_int_equal(log_capture_count(), 1);
    assert_int_equal(lines_matching("plugin /nonexistent/dir/missing.so",
                                    "file not found", "continuing without it",
                                    NULL),
                     1);
    assert_int_equal(rocky_plugin_set_count(*state), 0);
}

static void test_text_file_is_not_a_shared_object(void **state)
{
    char path[] = "/tmp/rocky-test-notso-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "hello\n", 6), 6);
    close(fd);
    int rc = rocky_plugin_set_load(*state, path);
    unlink(path);
    assert_int_equal(rc, ROCKY_ECORRUPT);
    assert_int_equal(log_capture_count(), 1);
    assert_int_equal(lines_matching(path, "not a loadable shared object", NULL),
                     1);
}

static void test_missing_entry_symbol_is_named(void **state)
{
    int rc = rocky_plugin_set_load(*state, fixture("no_entry"));
    assert_int_equal(rc, ROCKY_ECORRUPT);
    assert_int_equal(lines_matching("no_entry.so", "no entry symbol",
                                    "'rocky_plugin_entry'", NULL),
                     1);
}

static void test_abi_too_old_names_both_versions(void **state)
{
    int rc = rocky_plugin_set_load(*state, fixture("abi_old"));
    assert_int_equal(rc, ROCKY_EVERSION);
    if (lines_matching("abi_old.so", "plugin ABI 1.0", "too old",
                       "(plugin ABI 2.1)", NULL) != 1)
        dump_lines();
    assert_int_equal(lines_matching("abi_old.so", "plugin ABI 1.0", "too old",
                                    "(plugin ABI 2.1)", "port it to ABI 2.0",
                                    "Migrating from ABI 1.x", NULL),
                     1);
}

static void test_abi_too_new_names_both_versions(void **state)
{
    int rc = rocky_plugin_set_load(*state, fixture("abi_new"));
    assert_int_equal(rc, ROCKY_EVERSION);
    assert_int_equal(lines_matching("abi_new.so", "plugin ABI 3.0", "too new",
                                    "(plugin ABI 2.1)", NULL),
                     1);
}

static void test_entry_returning_null_is_refused(void **state)
{
    int rc = rocky_plugin_set_load(*state, fixture("entry_null"));
    assert_int_equal(rc, ROCKY_ECORRUPT);
    assert_int_equal(lines_matching("entry_null.so", "returned NULL", NULL), 1);
}

static void test_create_refusal_prints_the_plugins_reason(void **state)
{
    int rc = rocky_plugin_set_load(*state, fixture("init_fail"));
    assert_int_equal(rc, ROCKY_EREFUSED);
    assert_int_equal(lines_matching("plugin ", "init_fail.so",
                                    "create failed (EREFUSED)",
                                    "database credentials missing", NULL),
                     1);
    assert_int_equal(rocky_plugin_set_count(*state), 0);
}

static void test_same_file_twice_is_refused(void **state)
{
    assert_int_equal(rocky_plugin_set_load(*state, fixture("counter")), 0);
    assert_int_equal(rocky_plugin_set_load(*state, fixture("counter")),
                     ROCKY_EEXIST);
    assert_int_equal(rocky_plugin_set_count(*state), 1);
    assert_int_equal(lines_matching("counter.so",
                                    "already loaded as instance 'counter'",
                                    "its own \"name\"", NULL),
                     1);
}

/* A copy of a plugin at another path is another library with the same
 * plugin name: refused by instance name, and the message (which quotes the
 * name from the library's own descriptor) is written before that library
 * is unloaded. */
static void test_copy_at_another_path_is_refused_by_instance_name(void **s)
{
    char dir[] = "/tmp/rocky-test-copy-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char copy[256], cmd[1400];
    snprintf(copy, sizeof copy, "%s/counter_copy.so", dir);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", fixture("counter"), copy);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(rocky_plugin_set_load(*s, fixture("counter")), 0);
    assert_int_equal(rocky_plugin_set_load(*s, copy), ROCKY_EEXIST);
    assert_int_equal(lines_matching(copy,
                                    "already loaded as instance "
                                    "'counter'",
                                    NULL),
                     1);
    assert_int_equal(rocky_plugin_set_count(*s), 1);
    unlink(copy);
    rmdir(dir);
}

/* The fixture copied into a fresh directory (so hard links stay on one
 * file system), with a symlink and a hard link to the copy and a second
 * copy. Removed by unlinks_and_rmdir. */
struct plugin_paths {
    char dir[64], file[128], symlink[128], hardlink[128], copy[128];
};

/* A copy (the test's own lives on its stack, gone after an assertion). */
static struct plugin_paths scratch;
static int scratch_live;

static void unlinks_and_rmdir(struct plugin_paths *p);

static void remove_scratch(void)
{
    if (scratch_live)
        unlinks_and_rmdir(&scratch);
}

static void make_plugin_paths(struct plugin_paths *p)
{
    snprintf(p->dir, sizeof p->dir, "/tmp/rocky-test-ident-XXXXXX");
    assert_non_null(mkdtemp(p->dir));
    snprintf(p->file, sizeof p->file, "%s/counter.so", p->dir);
    snprintf(p->symlink, sizeof p->symlink, "%s/via_symlink.so", p->dir);
    snprintf(p->hardlink, sizeof p->hardlink, "%s/via_hardlink.so", p->dir);
    snprintf(p->copy, sizeof p->copy, "%s/copy.so", p->dir);
    scratch = *p;
    scratch_live = 1;
    char cmd[2600];
    char src[1024];
    snprintf(src, sizeof src, "%s", fixture("counter"));
    snprintf(cmd, sizeof cmd, "cp '%s' '%s' && cp '%s' '%s'", src, p->file, src,
             p->copy);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(symlink(p->file, p->symlink), 0);
    assert_int_equal(link(p->file, p->hardlink), 0);
}

static void unlinks_and_rmdir(struct plugin_paths *p)
{
    scratch_live = 0;
    unlink(p->file);
    unlink(p->symlink);
    unlink(p->hardlink);
    unlink(p->copy);
    rmdir(p->dir);
}

/* A named instance first, then the same plugin without a name — through a
 * symlink, a hard link or a copy: each would double every span, so each is
 * refused with a warning naming the instance it duplicates. (Before, only
 * a clash of the default instance name was caught, so these loaded.) */
static void
test_same_plugin_without_a_name_after_a_named_one_is_refused(void **s)
{
    struct plugin_paths p;
    make_plugin_paths(&p);
    struct rocky_plugin_spec named = {p.file, "otel_prod", NULL, 0};
    assert_int_equal(rocky_plugin_set_load_spec(*s, &named), 0);
    const char *again[] = {p.file, p.symlink, p.hardlink, p.copy};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(rocky_plugin_set_load(*s, again[i]), ROCKY_EEXIST);
        assert_int_equal(rocky_plugin_set_count(*s), 1);
    }
    assert_int_equal(lines_matching("already loaded as instance 'otel_prod'",
                                    "the same file as", "send everything twice",
                                    NULL),
                     3);
    assert_int_equal(lines_matching(p.copy,
                                    "already loaded as instance 'otel_prod'",
                                    "a copy of", NULL),
                     1);
    unlinks_and_rmdir(&p);
}

/* Instances are a feature: with names given on purpose, the same file
 * (through any path) and a copy all load. A symlink and a hard link are
 * recognised as the library already open (one dlopen handle, reported
 * under the first path); the copy is a library of its own. */
static void test_named_instances_of_one_file_share_it_and_copies_load(void **s)
{
    struct plugin_paths p;
    make_plugin_paths(&p);
    struct rocky_plugin_spec specs[] = {{p.file, "a", NULL, 0},
                                        {p.symlink, "b", NULL, 0},
                                        {p.hardlink, "c", NULL, 0},
                                        {p.copy, "d", NULL, 0}};
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(rocky_plugin_set_load_spec(*s, &specs[i]), 0);
    assert_int_equal(rocky_plugin_set_count(*s), 4);
    assert_string_equal(rocky_plugin_set_path(*s, 0), p.file);
    assert_string_equal(rocky_plugin_set_path(*s, 1), p.file);
    assert_string_equal(rocky_plugin_set_path(*s, 2), p.file);
    assert_string_equal(rocky_plugin_set_path(*s, 3), p.copy);
    unlinks_and_rmdir(&p);
}

/* ---- instances: one library, several named instances ------------------ */

static void test_one_library_serves_two_named_instances_with_config(void **s)
{
    assert_int_equal(
        rocky_plugin_set_context(*s, "/projects/p", "/projects/p/state.db", 0),
        0);
    struct rocky_config_entry a_cfg[] = {{"endpoint", "http://a:4317"},
                                         {"timeout", "5000"}};
    struct rocky_config_entry b_cfg[] = {{"endpoint", "http://b:4317"}};
    struct rocky_plugin_spec a = {fixture("counter"), "first", a_cfg, 2};
    struct rocky_plugin_spec b = {fixture("counter"), "second", b_cfg, 1};
    assert_int_equal(rocky_plugin_set_load_spec(*s, &a), 0);
    assert_int_equal(rocky_plugin_set_load_spec(*s, &b), 0);
    assert_int_equal(rocky_plugin_set_count(*s), 2);
    assert_string_equal(rocky_plugin_set_name(*s, 0), "first");
    assert_string_equal(rocky_plugin_set_name(*s, 1), "second");
    assert_int_equal(
        lines_matching("plugin first: counter: created first "
                       "config=endpoint=http://a:4317,timeout=5000 "
                       "project=/projects/p state=/projects/p/state.db",
                       NULL),
        1);
    assert_int_equal(lines_matching("plugin second: counter: created second "
                                    "config=endpoint=http://b:4317",
                                    NULL),
                     1);
    emit_one_model_run(*s);
    struct rocky_delivery_report total;
    assert_int_equal(rocky_plugin_set_stop(*s, INT64_MAX, &total), 0);
    assert_int_equal(total.accepted, 8); /* 4 events, each instance */
    const char *expect = "run_start=1 model_start=1 model_end=1 run_end=1";
    assert_int_equal(lines_matching("plugin first: ", expect, NULL), 1);
    assert_int_equal(lines_matching("plugin second: ", expect, NULL), 1);
    /* The same instance name twice is refused, the set unchanged. */
    assert_int_equal(rocky_plugin_set_load_spec(*s, &b), ROCKY_EEXIST);
    assert_int_equal(rocky_plugin_set_count(*s), 2);
}

static void test_duplicate_config_key_is_refused(void **state)
{
    struct rocky_config_entry cfg[] = {{"endpoint", "a"}, {"endpoint", "b"}};
    struct rocky_plugin_spec spec = {fixture("counter"), NULL, cfg, 2};
    assert_int_equal(rocky_plugin_set_load_spec(*state, &spec), ROCKY_EINVAL);
    assert_int_equal(lines_matching("counter.so",
                                    "config key 'endpoint' is given twice",
                                    NULL),
                     1);
    assert_int_equal(rocky_plugin_set_count(*state), 0);
}

/* stop exactly once, then destroy (the fixture aborts on any breach), and
 * destroy only when the set is freed. */
static void test_stop_then_destroy_each_exactly_once(void **state)
{
    assert_int_equal(rocky_plugin_set_load(*state, fixture("counter")), 0);
    emit_one_model_run(*state);
    assert_int_equal(rocky_plugin_set_stop(*state, INT64_MAX, NULL), 0);
    assert_int_equal(lines_matching("counter: destroyed", NULL), 0);
    rocky_plugin_set_free(*state);
    *state = NULL;
    assert_int_equal(lines_matching("stop=1", NULL), 1);
    assert_int_equal(
        lines_matching("plugin counter: counter: destroyed counter", NULL), 1);
    /* free without an explicit stop: stop (immediately), then destroy. */
    struct rocky_plugin_set *set = NULL;
    assert_int_equal(rocky_plugin_set_new("9.9.9-test", &set), 0);
    assert_int_equal(rocky_plugin_set_load(set, fixture("counter_b")), 0);
    rocky_plugin_set_free(set);
    assert_int_equal(lines_matching("plugin counter_b: ", "stop=1", NULL), 1);
    assert_int_equal(lines_matching("counter: destroyed counter_b", NULL), 1);
}

/* A stop that times out leaves a thread of the plugin running; destroy
 * still comes, the thread stops using the host at destroy, and the library
 * stays mapped while it lingers in its own code (a dlclose would crash it).
 * Under ASan, any use of the freed services table or names fails here. */
static void test_stop_timeout_then_destroy_abandons_threads_safely(void **s)
{
    assert_int_equal(rocky_plugin_set_load(*s, fixture("slow_stop")), 0);
    /* Let its thread use the host's log for a while. */
    for (int i = 0; i < 200 && lines_matching("still delivering", NULL) < 3;
         i++) {
        struct timespec ms = {0, 1000 * 1000};
        nanosleep(&ms, NULL);
    }
    assert_true(lines_matching("still delivering", NULL) >= 3);
    struct rocky_delivery_report r;
    assert_int_equal(rocky_plugin_set_stop(*s, rocky_clock_mono_ns(), &r),
                     ROCKY_ETIMEDOUT);
    assert_int_equal(r.pending, 1);
    rocky_plugin_set_free(*s);
    *s = NULL;
    int destroyed_at = log_capture_find(0, "counter: destroyed slow_stop");
    assert_true(destroyed_at >= 0);
    /* The thread outlives destroy by 50 ms, in the library's code; not one
     * line from it after destroy returned. */
    struct timespec wait = {0, 150 * 1000 * 1000};
    nanosleep(&wait, NULL);
    int chatter_after =
        log_capture_find(destroyed_at + 1, "still delivering") >= 0;
    assert_int_equal(chatter_after, 0);
}

/* ---- backpressure: ROCKY_EAGAIN means "full, flush me" ----------------- */

/* A live emit never waits: what a full instance refuses is counted as
 * dropped by the host, once warned, and the run is not confirmed. */
static void test_live_emit_counts_refused_events_as_dropped(void **state)
{
    struct rocky_config_entry cfg[] = {{"capacity", "2"}};
    struct rocky_plugin_spec spec = {fixture("eagain"), NULL, cfg, 1};
    assert_int_equal(rocky_plugin_set_load_spec(*state, &spec), 0);
    emit_one_model_run(*state); /* 4 events into a queue of 2 */
    struct rocky_delivery_report r;
    assert_int_equal(rocky_plugin_set_stop(*state, INT64_MAX, &r), ROCKY_EIO);
    assert_int_equal(r.accepted, 2);
    assert_int_equal(r.delivered, 2);
    assert_int_equal(r.dropped, 2);
    assert_int_equal(r.pending, 0);
    assert_int_equal(lines_matching("plugin eagain: its queue is full", NULL),
                     1);
}

/* A paced emit flushes a full instance and offers the event again: 5,000
 * events through a queue of 2, nothing dropped. */
static void test_paced_emit_flushes_and_retries_so_nothing_drops(void **state)
{
    struct rocky_config_entry cfg[] = {{"capacity", "2"}};
    struct rocky_plugin_spec spec = {fixture("eagain"), NULL, cfg, 1};
    assert_int_equal(rocky_plugin_set_load_spec(*state, &spec), 0);
    struct rocky_run run = test_run();
    struct rocky_event ev = {.struct_size = sizeof ev,
                             .type = ROCKY_EVENT_RUN_START,
                             .flags = ROCKY_EVENT_FLAG_REPLAY,
                             .run = &run};
    for (int i = 0; i < 5000; i++)
        assert_int_equal(rocky_plugin_set_emit_paced(
                             *state, &ev, rocky_deadline_after_ms(10000)),
                         0);
    struct rocky_delivery_report r;
    assert_int_equal(rocky_plugin_set_stop(*state, INT64_MAX, &r), 0);
    assert_int_equal(r.accepted, 5000);
    assert_int_equal(r.dropped, 0);
    assert_int_equal(lines_matching("run_start=5000", "flush=2499", NULL), 1);
}

/* An instance that stays full past the deadline: the event is dropped for
 * it, and the caller learns so. */
static void test_paced_emit_gives_up_at_the_deadline(void **state)
{
    struct rocky_config_entry cfg[] = {{"capacity", "0"}};
    struct rocky_plugin_spec spec = {fixture("eagain"), NULL, cfg, 1};
    assert_int_equal(rocky_plugin_set_load_spec(*state, &spec), 0);
    struct rocky_run run = test_run();
    struct rocky_event ev = {
        .struct_size = sizeof ev, .type = ROCKY_EVENT_RUN_START, .run = &run};
    assert_int_equal(
        rocky_plugin_set_emit_paced(*state, &ev, rocky_deadline_after_ms(20)),
        ROCKY_ETIMEDOUT);
    struct rocky_delivery_report r;
    assert_int_equal(rocky_plugin_set_stop(*state, INT64_MAX, &r), ROCKY_EIO);
    assert_int_equal(r.accepted, 0);
    assert_int_equal(r.dropped, 1);
}

/* ---- event types by ABI minor ----------------------------------------- */

static void test_event_types_unknown_to_the_plugins_minor_are_not_sent(void **s)
{
    assert_int_equal(rocky_event_type_since_minor(ROCKY_EVENT_MODEL_END), 0);
    assert_int_equal(rocky_event_type_since_minor(99), -1);
    assert_int_equal(rocky_plugin_set_load(*s, fixture("counter")), 0);
    assert_int_equal(rocky_plugin_set_load(*s, fixture("grown")), 0); /* 2.7 */
    struct rocky_run run = test_run();
    rocky_plugin_set_emit_new(*s, 99, 0, &run, NULL, 1, 1);
    emit_one_model_run(*s);
    assert_int_equal(rocky_plugin_set_stop(*s, INT64_MAX, NULL), 0);
    assert_int_equal(lines_matching("run_start=1 ", "other=0", NULL), 2);
}

/* ABI 2.1's STATEMENT_END reaches a 2.1 plugin (statement and model set)
 * and never a plugin that declares 2.0 (it would abort()). */
static void test_statement_end_reaches_2_1_plugins_only(void **s)
{
    assert_int_equal(rocky_plugin_set_load(*s, fixture("counter")), 0);
    assert_int_equal(rocky_plugin_set_load(*s, fixture("counter_v20")), 0);
    struct rocky_run run = test_run();
    struct rocky_model_exec m = {.struct_size = sizeof m};
    m.model_name = "orders";
    m.attempt = 1;
    m.span_id[0] = 3;
    struct rocky_statement st = {.struct_size = sizeof st};
    st.kind = ROCKY_STATEMENT_DDL;
    st.status = ROCKY_MODEL_SUCCESS;
    st.attempt = st.max_attempts = 1;
    st.span_id[0] = 4;
    emit_one_model_run(*s);
    rocky_plugin_set_emit_statement(*s, &run, &m, &st);
    rocky_plugin_set_emit_statement(*s, &run, &m, &st);
    assert_int_equal(rocky_plugin_set_stop(*s, INT64_MAX, NULL), 0);
    assert_int_equal(lines_matching("plugin counter: counter: run_start=1",
                                    "other=0", "statement_end=2", NULL),
                     1);
    assert_int_equal(lines_matching("plugin counter_v20: counter: run_start=1",
                                    "model_end=1", "other=0", "statement_end=0",
                                    NULL),
                     1);
}

/* ---- negotiation: structs that grew or are short ---------------------- */

static void test_descriptor_from_newer_minor_is_accepted(void **state)
{
    assert_int_equal(rocky_plugin_set_load(*state, fixture("grown")), 0);
    assert_string_equal(rocky_plugin_set_name(*state, 0), "grown");
    emit_one_model_run(*state);
    assert_int_equal(rocky_plugin_set_stop(*state, INT64_MAX, NULL), 0);
    assert_int_equal(lines_matching("plugin grown: counter: run_start=1",
                                    "model_end=1", "run_end=1", NULL),
                     1);
}

/* A descriptor that ends before destroy cannot be given the lifecycle the
 * ABI promises: refused, saying so. */
static void test_descriptor_without_destroy_is_refused(void **state)
{
    assert_int_equal(rocky_plugin_set_load(*state, fixture("small")),
                     ROCKY_EINVAL);
    assert_int_equal(lines_matching("small.so", "no create or destroy", NULL),
                     1);
    assert_int_equal(rocky_plugin_set_count(*state), 0);
}

/* ---- fan-out, errors, delivery reports -------------------------------- */

/* ROCKY_PLUGINS' format: every non-empty entry is tried, in order; one that
 * fails is reported and the others still load. */
static void test_colon_list_loads_every_entry_and_skips_empty_ones(void **s)
{
    char list[3 * 1100];
    char counter[1024];
    snprintf(counter, sizeof counter, "%s", fixture("counter"));
    snprintf(list, sizeof list, "%s::/nonexistent/missing.so:%s:", counter,
             fixture("counter_b"));
    assert_int_equal(rocky_plugin_set_load_list(*s, list), 3);
    assert_int_equal(rocky_plugin_set_count(*s), 2);
    assert_int_equal(lines_matching("plugin /nonexistent/missing.so",
                                    "file not found", NULL),
                     1);
    assert_int_equal(rocky_plugin_set_load_list(*s, NULL), 0);
    assert_int_equal(rocky_plugin_set_load_list(*s, ""), 0);
    assert_int_equal(rocky_plugin_set_load_list(*s, ":::"), 0);
    assert_int_equal(rocky_plugin_set_count(*s), 2);
}

static void test_events_reach_every_loaded_plugin(void **state)
{
    assert_int_equal(rocky_plugin_set_load(*state, fixture("counter")), 0);
    assert_int_equal(rocky_plugin_set_load(*state, fixture("counter_b")), 0);
    assert_int_equal(rocky_plugin_set_count(*state), 2);
    emit_one_model_run(*state);
    emit_one_model_run(*state);
    struct rocky_delivery_report total;
    assert_int_equal(rocky_plugin_set_stop(*state, INT64_MAX, &total), 0);
    const char *expect = "run_start=2 model_start=2 model_end=2 run_end=2";
    assert_int_equal(lines_matching("plugin counter: ", expect, NULL), 1);
    assert_int_equal(lines_matching("plugin counter_b: ", expect, NULL), 1);
    assert_int_equal(total.accepted, 16);
    assert_int_equal(total.delivered, 16);
}

static void test_callback_error_is_reported_once(void **state)
{
    assert_int_equal(rocky_plugin_set_load(*state, fixture("event_fail")), 0);
    for (int i = 0; i < 50; i++)
        emit_one_model_run(*state);
    assert_int_equal(
        lines_matching("plugin event_fail: on_event failed", "EIO", NULL), 1);
}

static void test_flush_and_stop_report_pending_and_dropped(void **state)
{
    assert_int_equal(rocky_plugin_set_load(*state, fixture("pending")), 0);
    emit_one_model_run(*state);
    struct rocky_delivery_report r;
    assert_int_equal(rocky_plugin_set_flush(*state, INT64_MAX, &r),
                     ROCKY_ETIMEDOUT);
    assert_int_equal(r.accepted, 4);
    assert_int_equal(r.pending, 1);
    assert_int_equal(rocky_plugin_set_stop(*state, INT64_MAX, &r), ROCKY_EIO);
    assert_int_equal(r.dropped, 1);
    assert_int_equal(r.delivered, 3);
}

static void test_stop_twice_calls_plugin_once_and_repeats_result(void **state)
{
    assert_int_equal(rocky_plugin_set_load(*state, fixture("counter")), 0);
    emit_one_model_run(*state);
    struct rocky_delivery_report first, second;
    assert_int_equal(rocky_plugin_set_stop(*state, INT64_MAX, &first), 0);
    assert_int_equal(rocky_plugin_set_stop(*state, INT64_MAX, &second), 0);
    assert_memory_equal(&first, &second, sizeof first);
    assert_int_equal(lines_matching("stop=1", NULL), 1);
}

static void test_events_after_stop_are_not_delivered(void **state)
{
    assert_int_equal(rocky_plugin_set_load(*state, fixture("counter")), 0);
    emit_one_model_run(*state);
    assert_int_equal(rocky_plugin_set_stop(*state, INT64_MAX, NULL), 0);
    emit_one_model_run(*state); /* must not reach the plugin */
    assert_int_equal(lines_matching("run_start=1 ", NULL), 1);
}

/* ---- 8 threads at once (run under TSan too) --------------------------- */

#define THREADS         8
#define RUNS_PER_THREAD 2000

static void *emitter(void *arg)
{
    for (int i = 0; i < RUNS_PER_THREAD; i++)
        emit_one_model_run(arg);
    return NULL;
}

static void
test_eight_threads_emit_concurrently_and_nothing_is_lost(void **state)
{
    char path[] = "/tmp/rocky-test-jsonl-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(rocky_plugin_set_load(*state, fixture("counter")), 0);
    struct rocky_config_entry cfg[] = {{"path", path}};
    struct rocky_plugin_spec jsonl = {ROCKY_EVENTS_JSONL_PLUGIN, NULL, cfg, 1};
    assert_int_equal(rocky_plugin_set_load_spec(*state, &jsonl), 0);

    pthread_t threads[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, emitter, *state), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(threads[i], NULL);

    struct rocky_delivery_report total;
    assert_int_equal(rocky_plugin_set_stop(*state, INT64_MAX, &total), 0);
    const int runs = THREADS * RUNS_PER_THREAD;
    char expect[160];
    snprintf(expect, sizeof expect,
             "run_start=%d model_start=%d model_end=%d run_end=%d", runs, runs,
             runs, runs);
    assert_int_equal(lines_matching(expect, NULL), 1);
    assert_int_equal(total.accepted, 2 * 4 * (uint64_t)runs);
    assert_int_equal(total.dropped, 0);

    /* Every line the JSONL plugin wrote is whole: count them and check each
     * starts and ends as one object (no interleaving across threads). */
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char buf[4096];
    int count = 0, whole = 0;
    while (fgets(buf, sizeof buf, f) != NULL) {
        count++;
        size_t n = strlen(buf);
        whole +=
            buf[0] == '{' && n >= 2 && buf[n - 2] == '}' && buf[n - 1] == '\n';
    }
    fclose(f);
    unlink(path);
    assert_int_equal(count, 4 * runs);
    assert_int_equal(whole, count);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_missing_file_is_reported_with_its_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_text_file_is_not_a_shared_object,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_entry_symbol_is_named,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_abi_too_old_names_both_versions,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_abi_too_new_names_both_versions,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_entry_returning_null_is_refused,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_create_refusal_prints_the_plugins_reason, setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_file_twice_is_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_descriptor_from_newer_minor_is_accepted, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_descriptor_without_destroy_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_copy_at_another_path_is_refused_by_instance_name, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_same_plugin_without_a_name_after_a_named_one_is_refused, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_named_instances_of_one_file_share_it_and_copies_load, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_one_library_serves_two_named_instances_with_config, setup,
            teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_config_key_is_refused,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_stop_then_destroy_each_exactly_once, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_stop_timeout_then_destroy_abandons_threads_safely, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_live_emit_counts_refused_events_as_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_paced_emit_flushes_and_retries_so_nothing_drops, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_paced_emit_gives_up_at_the_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_event_types_unknown_to_the_plugins_minor_are_not_sent, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_statement_end_reaches_2_1_plugins_only, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_colon_list_loads_every_entry_and_skips_empty_ones, setup,
            teardown),
        cmocka_unit_test_setup_teardown(test_events_reach_every_loaded_plugin,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_callback_error_is_reported_once,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_flush_and_stop_report_pending_and_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_stop_twice_calls_plugin_once_and_repeats_result, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_events_after_stop_are_not_delivered, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_eight_threads_emit_concurrently_and_nothing_is_lost, setup,
            teardown),
    };
    return cmocka_run_group_tests_name("plugin_host", tests, NULL, NULL);
}
