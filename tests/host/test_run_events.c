/* test_run_events.c — what plugins see of a run, in-process: every planned
 * model ends with exactly one MODEL_END (skipped ones without a start),
 * RUN_END arrives on every failure path the runner has after RUN_START
 * (each injected with -Wl,--wrap), and rocky.json plugin objects give each
 * instance its own name and configuration.
 *
 * The recorder plugin is events_jsonl (built from the public headers), one
 * instance per file, configured through rocky.json. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "recorder.h"
#include "rocky/error.h"
#include "run.h"
#include "store.h"

/* ---- injected failures ------------------------------------------------- */

static int fail_recorder_start, fail_run_finish, fail_recorder_stop;
static int fail_threads_from; /* 0: off; else the Nth pthread_create on */
static int threads_created;

int __real_rocky_recorder_start(struct rocky_store *store, const char *run_id,
                                size_t capacity, rocky_recorder_delivered_fn cb,
                                void *ctx, struct rocky_recorder **out);
int __wrap_rocky_recorder_start(struct rocky_store *store, const char *run_id,
                                size_t capacity, rocky_recorder_delivered_fn cb,
                                void *ctx, struct rocky_recorder **out);
int __wrap_rocky_recorder_start(struct rocky_store *store, const char *run_id,
                                size_t capacity, rocky_recorder_delivered_fn cb,
                                void *ctx, struct rocky_recorder **out)
{
    if (fail_recorder_start) {
        *out = NULL;
        return ROCKY_EIO;
    }
    return __real_rocky_recorder_start(store, run_id, capacity, cb, ctx, out);
}

int __real_rocky_recorder_stop(struct rocky_recorder *rec, size_t *lost,
                               char *err, size_t err_size);
int __wrap_rocky_recorder_stop(struct rocky_recorder *rec, size_t *lost,
                               char *err, size_t err_size);
int __wrap_rocky_recorder_stop(struct rocky_recorder *rec, size_t *lost,
                               char *err, size_t err_size)
{
    int rc = __real_rocky_recorder_stop(rec, lost, err, err_size);
    if (!fail_recorder_stop || rec == NULL)
        return rc;
    *lost = 1;
    snprintf(err, err_size, "injected: disk I/O error recording a model");
    return ROCKY_EIO;
}

int __real_rocky_store_run_finish(struct rocky_store *s,
                                  const struct rocky_run *run, char *err,
                                  size_t err_size);
int __wrap_rocky_store_run_finish(struct rocky_store *s,
                                  const struct rocky_run *run, char *err,
                                  size_t err_size);
int __wrap_rocky_store_run_finish(struct rocky_store *s,
                                  const struct rocky_run *run, char *err,
                                  size_t err_size)
{
    if (fail_run_finish) {
        snprintf(err, err_size, "injected: disk I/O error finishing the run");
        return ROCKY_EIO;
    }
    return __real_rocky_store_run_finish(s, run, err, err_size);
}

int __real_pthread_create(pthread_t *t, const pthread_attr_t *a,
                          void *(*fn)(void *), void *arg);
int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *a,
                          void *(*fn)(void *), void *arg);
int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *a,
                          void *(*fn)(void *), void *arg)
{
    if (fail_threads_from && ++threads_created >= fail_threads_from)
        return 11; /* EAGAIN */
    return __real_pthread_create(t, a, fn, arg);
}

/* ---- a project on disk -------------------------------------------------- */

struct fx {
    char dir[64];
    char events_a[128], events_b[128];
};

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* a -> b -> c, a fails at run time (integer overflow); d -> e fine. */
static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/rocky-events-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    char models[96];
    snprintf(models, sizeof models, "%s/models", f->dir);
    mkdir(models, 0777);
    write_file(models, "a.sql", "SELECT abs(-9223372036854775808) AS x");
    write_file(models, "b.sql", "SELECT * FROM a");
    write_file(models, "c.sql", "SELECT * FROM b");
    write_file(models, "d.sql", "SELECT 1 AS x");
    write_file(models, "e.sql", "SELECT x FROM d");
    snprintf(f->events_a, sizeof f->events_a, "%s/a.jsonl", f->dir);
    snprintf(f->events_b, sizeof f->events_b, "%s/b.jsonl", f->dir);
    char cfg[1024];
    snprintf(cfg, sizeof cfg,
             "{\"plugins\": ["
             "{\"path\": \"%s\", \"name\": \"rec_a\","
             " \"config\": {\"path\": \"%s\"}},"
             "{\"path\": \"%s\", \"name\": \"rec_b\","
             " \"config\": {\"path\": \"%s\"}}]}",
             EVENTS_PLUGIN, f->events_a, EVENTS_PLUGIN, f->events_b);
    write_file(f->dir, "rocky.json", cfg);
    unsetenv("ROCKY_PLUGINS");
    unsetenv("ROCKY_STATE");
    unsetenv("ROCKY_EVENTS_JSONL");
    fail_recorder_start = fail_run_finish = fail_recorder_stop = 0;
    fail_threads_from = threads_created = 0;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static int run_it(struct fx *f)
{
    struct rocky_run_options o = {.project_dir = f->dir, .threads = 2};
    return rocky_run_main(&o);
}

static cJSON *events(const char *path)
{
    FILE *fp = fopen(path, "r");
    cJSON *arr = cJSON_CreateArray();
    if (fp == NULL)
        return arr;
    char line[8192];
    while (fgets(line, sizeof line, fp) != NULL) {
        cJSON *ev = cJSON_Parse(line);
        assert_non_null(ev); /* every line is one JSON object */
        cJSON_AddItemToArray(arr, ev);
    }
    fclose(fp);
    return arr;
}

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static int count(const cJSON *arr, const char *type, const char *model,
                 const char *status)
{
    int n = 0;
    const cJSON *ev;
    cJSON_ArrayForEach(ev, arr)
    {
        n += strcmp(str(ev, "type"), type) == 0 &&
             (model == NULL || strcmp(str(ev, "model"), model) == 0) &&
             (status == NULL || strcmp(str(ev, "status"), status) == 0);
    }
    return n;
}

/* The ABI's order rules for one instance's file: RUN_START first, RUN_END
 * last and once, one MODEL_END per planned model. */
static void assert_well_formed(const char *path, int models_total,
                               const char *instance)
{
    cJSON *arr = events(path);
    int n = cJSON_GetArraySize(arr);
    assert_true(n >= 2);
    assert_string_equal(str(cJSON_GetArrayItem(arr, 0), "type"), "run_start");
    assert_string_equal(str(cJSON_GetArrayItem(arr, n - 1), "type"), "run_end");
    assert_int_equal(count(arr, "run_start", NULL, NULL), 1);
    assert_int_equal(count(arr, "run_end", NULL, NULL), 1);
    assert_int_equal(count(arr, "model_end", NULL, NULL), models_total);
    const char *names[] = {"a", "b", "c", "d", "e"};
    for (int i = 0; i < 5; i++)
        assert_int_equal(count(arr, "model_end", names[i], NULL), 1);
    const cJSON *ev;
    cJSON_ArrayForEach(ev, arr)
    {
        assert_string_equal(str(ev, "instance"), instance);
    }
    cJSON_Delete(arr);
}

/* ---- tests -------------------------------------------------------------- */

static void test_skipped_models_arrive_as_model_end_without_start(void **s)
{
    struct fx *f = *s;
    assert_int_equal(run_it(f), 1); /* partial failure */
    assert_well_formed(f->events_a, 5, "rec_a");
    assert_well_formed(f->events_b, 5, "rec_b");
    cJSON *arr = events(f->events_a);
    assert_int_equal(count(arr, "model_end", "a", "failed"), 1);
    for (const char *const *m = (const char *const[]){"b", "c", NULL}; *m;
         m++) {
        assert_int_equal(count(arr, "model_end", *m, "skipped"), 1);
        assert_int_equal(count(arr, "model_start", *m, NULL), 0);
    }
    assert_int_equal(count(arr, "model_start", NULL, NULL), 3);
    assert_int_equal(count(arr, "run_end", NULL, "partial_failure"), 1);
    cJSON_Delete(arr);
}

static void test_run_end_when_the_store_writer_cannot_start(void **s)
{
    struct fx *f = *s;
    fail_recorder_start = 1;
    assert_int_equal(run_it(f), 1);
    assert_well_formed(f->events_a, 5, "rec_a");
    cJSON *arr = events(f->events_a);
    assert_int_equal(count(arr, "model_start", NULL, NULL), 0);
    assert_int_equal(count(arr, "model_end", NULL, "skipped"), 5);
    assert_int_equal(count(arr, "run_end", NULL, "failure"), 1);
    cJSON_Delete(arr);
}

static void test_run_end_when_no_worker_thread_starts(void **s)
{
    struct fx *f = *s;
    fail_threads_from = 3; /* the recorder and the watcher start; no worker */
    assert_int_equal(run_it(f), 1);
    assert_well_formed(f->events_a, 5, "rec_a");
    cJSON *arr = events(f->events_a);
    assert_int_equal(count(arr, "model_end", NULL, "skipped"), 5);
    assert_int_equal(count(arr, "run_end", NULL, "failure"), 1);
    cJSON_Delete(arr);
}

static void test_run_end_when_the_run_cannot_be_finished_in_the_store(void **s)
{
    struct fx *f = *s;
    fail_run_finish = 1;
    assert_int_equal(run_it(f), 1);
    assert_well_formed(f->events_a, 5, "rec_a");
    assert_well_formed(f->events_b, 5, "rec_b");
}

static void test_run_end_when_model_rows_could_not_be_committed(void **s)
{
    struct fx *f = *s;
    fail_recorder_stop = 1;
    assert_int_equal(run_it(f), 1);
    assert_well_formed(f->events_a, 5, "rec_a");
}

/* rocky.json errors name the entry and say what is allowed. */
static void test_bad_plugin_entries_are_refused_with_the_entry_named(void **s)
{
    struct fx *f = *s;
    static const char *const cases[][2] = {
        {"{\"plugins\": [{\"name\": \"x\"}]}", "plugins[0] needs \"path\""},
        {"{\"plugins\": [\"ok.so\", {\"path\": \"x.so\", \"confg\": {}}]}",
         "plugins[1]: unknown key \"confg\""},
        {"{\"plugins\": [{\"path\": \"x.so\", \"config\": {\"a\": [1]}}]}",
         "plugins[0].config.a must be a string, a number or a boolean"},
        {"{\"plugins\": [{\"path\": \"x.so\", \"config\": {\"a\": 1, \"a\": "
         "2}}]}",
         "plugins[0].config.a is given twice"},
        {"{\"plugins\": [42]}", "plugins[0] must be a non-empty path"},
        {"{\"plugins\": \"x.so\"}", "\"plugins\" must be an array"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_file(f->dir, "rocky.json", cases[i][0]);
        char path[256];
        snprintf(path, sizeof path, "%s/stderr", f->dir);
        fflush(stderr);
        int saved = dup(2);
        FILE *err = freopen(path, "w", stderr);
        assert_non_null(err);
        int status = run_it(f);
        fflush(stderr);
        dup2(saved, 2);
        close(saved);
        assert_int_equal(status, 1);
        FILE *fp = fopen(path, "r");
        char text[2048] = "";
        size_t n = fread(text, 1, sizeof text - 1, fp);
        text[n] = '\0';
        fclose(fp);
        if (strstr(text, cases[i][1]) == NULL)
            fail_msg("case %zu: expected '%s' in: %s", i, cases[i][1], text);
    }
}

int main(void)
{
    rocky_log_set_level(ROCKY_LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_skipped_models_arrive_as_model_end_without_start, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_run_end_when_the_store_writer_cannot_start, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_run_end_when_no_worker_thread_starts, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_run_end_when_the_run_cannot_be_finished_in_the_store, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_run_end_when_model_rows_could_not_be_committed, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_bad_plugin_entries_are_refused_with_the_entry_named, setup,
            teardown),
    };
    return cmocka_run_group_tests_name("run_events", tests, NULL, NULL);
}
