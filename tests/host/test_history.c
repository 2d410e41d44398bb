/* test_history.c — the history never lies: what `rocky run` records, and
 * says it recorded, when the state store fails under it.
 *
 *   - Every write the store makes fails in turn (SQLite-style: for N = 1..
 *     until a run meets no fault, fail the Nth xWrite/xSync/xTruncate of the
 *     store's files through tests/store/fault_vfs), once (an I/O error) and
 *     for good (a full disk), on a new store and on one with history. After
 *     each, the store — reopened without the fault — passes integrity_check
 *     and its run's status agrees with its model rows, and the runner's exit
 *     status and last lines agree with the store.
 *   - A target database that is the state store (any spelling, symlink, hard
 *     link) is refused before anything is written.
 *   - A read-only store: a run fails saying so and leaves no -shm/-wal that
 *     breaks the next run; a stale read-only -shm of ours is recovered; a
 *     store in a read-only directory is read.
 *
 * Each run is the real run function (rocky_run_main) in a forked child, so a
 * fault, a _exit or a signal ends the child alone; the parent only reads.
 * Read-only cases run the child as an unprivileged user when the suite runs
 * as root (root writes through any mode bits). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fault_vfs.h"
#include "host_test.h"
#include "rocky/error.h"
#include "run.h"
#include "store.h"
#include "trace_cli.h"

#define MODELS      6
#define NOBODY      65534
#define MAX_WRITES  400 /* a run of MODELS models makes far fewer */
#define RUN_TIMEOUT 60000

struct fx {
    char dir[64];
    char state[128];
    char out[128], errf[128];
    char marker[128];
    char events[128];
};

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

/* a -> b, a -> c, (b, c) -> d; e -> f: two chains, so two workers overlap. */
static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    if (f == NULL ||
        host_test_project_dir(f->dir, sizeof f->dir, "rocky-history") != 0)
        return -1;
    char models[96];
    snprintf(models, sizeof models, "%s/models", f->dir);
    write_file(models, "a.sql", "SELECT 1 AS x UNION ALL SELECT 2");
    write_file(models, "b.sql", "SELECT x * 2 AS x FROM a");
    write_file(models, "c.sql", "SELECT x * 3 AS x FROM a");
    write_file(models, "d.sql", "SELECT b.x + c.x AS x FROM b, c");
    write_file(models, "e.sql", "SELECT 'e' AS name");
    write_file(models, "f.sql", "SELECT name || '!' AS name FROM e");
    snprintf(f->state, sizeof f->state, "%s/.rocky/state.db", f->dir);
    snprintf(f->out, sizeof f->out, "%s/stdout", f->dir);
    snprintf(f->errf, sizeof f->errf, "%s/stderr", f->dir);
    snprintf(f->marker, sizeof f->marker, "%s/fault-fired", f->dir);
    snprintf(f->events, sizeof f->events, "%s/events.jsonl", f->dir);
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

/* The last line of `text` (without its newline), in place. */
static char *last_line(char *text)
{
    size_t n = strlen(text);
    while (n > 0 && text[n - 1] == '\n')
        text[--n] = '\0';
    char *nl = strrchr(text, '\n');
    return nl ? nl + 1 : text;
}

/* How the child runs. */
struct how {
    long fail_at;    /* > 0: install the fault VFS failing this write */
    long fail_count; /* ... and this many from it (0: all from it) */
    int rc;          /* SQLITE_FULL or SQLITE_IOERR */
    int as_nobody;   /* drop to an unprivileged user when root */
    int no_plugins;  /* (an unprivileged child may not read the build tree) */
};

/* Drop root for a read-only case; 0 when running unprivileged already. */
static int drop_root(void)
{
    if (geteuid() != 0)
        return 0;
    if (setgroups(0, NULL) != 0 || setgid(NOBODY) != 0 || setuid(NOBODY) != 0)
        return -1;
    return 0;
}

/* Run the project in a forked child; returns its exit status (the run's),
 * or fails the test when it did not exit. */
static int run_child(const struct fx *f, const struct how *how)
{
    unlink(f->marker);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (!freopen(f->out, "w", stdout) || !freopen(f->errf, "w", stderr))
            _exit(126);
        if (how->as_nobody && drop_root() != 0)
            _exit(125);
        setenv("NO_COLOR", "1", 1);
        setenv("ROCKY_EVENTS_JSONL", f->events, 1);
        unsetenv("ROCKY_PLUGINS");
        unsetenv("ROCKY_STATE");
        unsetenv("TRACEPARENT");
        if (how->fail_at > 0 &&
            fault_vfs_install(f->state, how->fail_at, how->fail_count, how->rc,
                              f->marker) != SQLITE_OK)
            _exit(124);
        const char *plugins[] = {EVENTS_PLUGIN};
        struct rocky_run_options opt = {.project_dir = f->dir,
                                        .threads = 2,
                                        .plugins = plugins,
                                        .nplugins = how->no_plugins ? 0 : 1};
        int status = rocky_run_main(&opt);
        fflush(NULL);
        _exit(status);
    }
    int64_t deadline =
        host_test_now_ms() + (int64_t)RUN_TIMEOUT * host_test_scale();
    int status = 0;
    while (waitpid(pid, &status, WNOHANG) != pid) {
        if (host_test_now_ms() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            fail_msg("the run did not end within %d ms", RUN_TIMEOUT);
        }
        struct timespec ts = {0, 2 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (!WIFEXITED(status))
        fail_msg("the run ended by signal %d", WTERMSIG(status));
    int code = WEXITSTATUS(status);
    if (code >= 124 && code <= 126)
        fail_msg("the child could not be set up (%d)", code);
    return code;
}

static int exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

static void integrity_ok(const char *path)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL),
                     SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(
        sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* Ids on record, newest first (up to 8); returns how many. */
static size_t run_ids(const char *path, char **ids)
{
    struct rocky_store *s = NULL;
    char err[512] = "";
    if (rocky_store_open(path, ROCKY_STORE_READWRITE, &s, err, sizeof err))
        fail_msg("the store does not open after the fault: %s", err);
    size_t n = 0;
    assert_int_equal(rocky_store_recent_run_ids(s, ids, 8, &n), 0);
    rocky_store_close(s);
    return n;
}

static struct rocky_run_record *load(const char *path, const char *id)
{
    struct rocky_store *s = NULL;
    char err[512] = "";
    assert_int_equal(
        rocky_store_open(path, ROCKY_STORE_READONLY, &s, err, sizeof err), 0);
    struct rocky_run_record *rec = NULL;
    if (rocky_store_run_load(s, id, &rec, err, sizeof err) != 0)
        fail_msg("run %s does not load: %s", id, err);
    rocky_store_close(s);
    return rec;
}

#define CHECK(cond, ...)                                                       \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, __VA_ARGS__);                                      \
            fprintf(stderr, "\n  exit %d\n  stdout:\n%s\n  stderr:\n%s\n",     \
                    code, out, err);                                           \
            fail_msg("%s", #cond);                                             \
        }                                                                      \
    } while (0)

/*
 * The invariant, after a run that may have met a fault: the store opens (a
 * later run can use it) and passes integrity_check, and either
 *   - the run is not on record: the runner failed (exit 1) and never said
 *     "recorded";
 *   - or it is, and its status agrees with its rows: success with every
 *     model row (exit 0 and the "recorded" line — or exit 1 with the
 *     store's problem as the last word, when only its delivery record
 *     failed), incomplete with fewer rows, or crashed (its end could not be
 *     written); never "recorded" then, exit 1, and the last word says so.
 */
static void assert_history_true(const struct fx *f, int code,
                                const char *before_id, const char *what)
{
    char *out = slurp(f->out), *err = slurp(f->errf);
    char *ids[8];
    size_t n = run_ids(f->state, ids);
    integrity_ok(f->state);
    int recorded_line = strstr(out, "recorded in") != NULL;
    char *err_copy = strdup(err), *out_copy = strdup(out);
    const char *err_last = last_line(err_copy);
    const char *out_last = last_line(out_copy);
    int new_run = n > 0 && (before_id == NULL || strcmp(ids[0], before_id));
    if (!new_run) {
        CHECK(code == 1 && !recorded_line && strstr(err_last, "state store"),
              "%s: no run on record, but the runner did not say so", what);
    } else {
        struct rocky_run_record *rec = load(f->state, ids[0]);
        uint32_t st = rec->run.status;
        size_t rows = rec->model_count;
        if (st == ROCKY_RUN_SUCCESS) {
            CHECK(rows == MODELS && rec->run.models_total == MODELS &&
                      rec->run.models_succeeded == MODELS,
                  "%s: success with %zu rows", what, rows);
            for (size_t i = 0; i < rows; i++)
                CHECK(rec->models[i].status == ROCKY_MODEL_SUCCESS,
                      "%s: success with a model not succeeded", what);
            if (code == 0)
                CHECK(strstr(out_last, "recorded in") && !strstr(err, "error"),
                      "%s: exit 0 without the recorded line last", what);
            else
                CHECK(code == 1 && strstr(err_last, "state store"),
                      "%s: exit %d on a complete run, not explained", what,
                      code);
        } else if (st == ROCKY_RUN_INCOMPLETE || st == ROCKY_RUN_CRASHED) {
            CHECK(st == ROCKY_RUN_CRASHED || rows < MODELS,
                  "%s: incomplete with every row", what);
            CHECK(rec->run.models_succeeded == MODELS ||
                      st == ROCKY_RUN_CRASHED,
                  "%s: the counters lost the outcome", what);
            CHECK(code == 1 && !recorded_line && strstr(out, "incomplete") &&
                      strstr(err_last, "incomplete"),
                  "%s: %s run, but the runner did not say so", what,
                  rocky_run_status_name(st));
        } else {
            CHECK(0, "%s: unexpected status %s", what,
                  rocky_run_status_name(st));
        }
        rocky_run_record_free(rec);
    }
    for (size_t i = 0; i < n; i++)
        free(ids[i]);
    free(err_copy);
    free(out_copy);
    free(out);
    free(err);
}

static void remove_store(const struct fx *f)
{
    char path[160];
    static const char *const sfx[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s%s", f->state, sfx[i]);
        unlink(path);
    }
}

static void copy_file(const char *from, const char *to)
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", from, to);
    assert_int_equal(system(cmd), 0);
}

/* For N = 1.. : fail `count` writes of the store from the Nth (0: every
 * one from it), on a new store or on one holding a run (`with_history`),
 * until a run meets no fault. Returns how many writes the clean run made. */
static long every_write(const struct fx *f, int rc, long count,
                        int with_history)
{
    char seed[160], seed_id[64] = "";
    snprintf(seed, sizeof seed, "%s/seed.db", f->dir);
    remove_store(f);
    if (with_history) {
        struct how clean = {0};
        assert_int_equal(run_child(f, &clean), 0);
        char *ids[8];
        size_t n = run_ids(f->state, ids);
        assert_int_equal(n, 1);
        snprintf(seed_id, sizeof seed_id, "%s", ids[0]);
        free(ids[0]);
        copy_file(f->state, seed); /* closed cleanly: no -wal to copy */
    }
    for (long at = 1; at <= MAX_WRITES; at++) {
        remove_store(f);
        if (with_history)
            copy_file(seed, f->state);
        struct how how = {.fail_at = at, .fail_count = count, .rc = rc};
        int code = run_child(f, &how);
        char what[128];
        snprintf(what, sizeof what, "%s %s from write %ld, %ld writes",
                 with_history ? "store with history," : "new store,",
                 rc == SQLITE_FULL ? "disk full" : "I/O error", at, count);
        assert_history_true(f, code, with_history ? seed_id : NULL, what);
        if (!exists(f->marker)) {
            assert_int_equal(code, 0); /* no fault: a plain good run */
            return at - 1;
        }
    }
    fail_msg("a run made more than %d store writes", MAX_WRITES);
    return 0;
}

static void test_every_store_write_failing_leaves_a_true_history(void **state)
{
    struct fx *f = *state;
    long writes = every_write(f, SQLITE_FULL, 0, 0); /* full for good */
    assert_true(writes > 5); /* the shim did see the store's writes */
    every_write(f, SQLITE_FULL, 0, 1);
    every_write(f, SQLITE_IOERR, 1, 0); /* one I/O error */
    every_write(f, SQLITE_IOERR, 1, 1);
    every_write(f, SQLITE_FULL, 3, 1); /* full for a while, then freed */
}

/* What `rocky trace latest [--json]` prints for the store (its exit status
 * must be 0). */
static char *trace_output(const struct fx *f, int json)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (!freopen(f->out, "w", stdout))
            _exit(126);
        char *argv[] = {"trace",
                        "latest",
                        "--state",
                        (char *)f->state,
                        json ? "--json" : NULL,
                        NULL};
        int code = rocky_trace_cli_main(json ? 5 : 4, argv);
        fflush(NULL);
        _exit(code);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    return slurp(f->out);
}

/* A disk full while model records are written, freed before the run ends:
 * the run is recorded incomplete, with its outcome in its counters, and
 * its output says so, last. */
static void test_disk_full_during_the_run_is_incomplete_and_says_so(void **st)
{
    struct fx *f = *st;
    struct how clean = {0};
    assert_int_equal(run_child(f, &clean), 0);
    /* Find the first write of the run proper that leaves the run begun: the
     * smallest N whose run is on record as incomplete. */
    char seed[160], *ids[8];
    snprintf(seed, sizeof seed, "%s/seed.db", f->dir);
    copy_file(f->state, seed);
    size_t n0 = run_ids(f->state, ids);
    assert_int_equal(n0, 1);
    char seed_id[64];
    snprintf(seed_id, sizeof seed_id, "%s", ids[0]);
    free(ids[0]);
    for (long at = 1; at <= MAX_WRITES; at++) {
        remove_store(f);
        copy_file(seed, f->state);
        struct how how = {.fail_at = at, .fail_count = 3, .rc = SQLITE_FULL};
        int code = run_child(f, &how);
        assert_true(exists(f->marker));
        size_t n = run_ids(f->state, ids);
        int begun = n == 2;
        struct rocky_run_record *rec = begun ? load(f->state, ids[0]) : NULL;
        for (size_t i = 0; i < n; i++)
            free(ids[i]);
        if (rec == NULL || rec->run.status != ROCKY_RUN_INCOMPLETE) {
            rocky_run_record_free(rec);
            continue;
        }
        assert_true(rec->model_count < MODELS);
        assert_int_equal(rec->run.models_succeeded, MODELS);
        rocky_run_record_free(rec);
        assert_int_equal(code, 1);
        char *out = slurp(f->out), *err = slurp(f->errf);
        assert_null(strstr(out, "recorded in"));
        assert_non_null(strstr(out, "incomplete: 6 succeeded"));
        assert_non_null(strstr(last_line(err), "the disk is full"));
        free(out);
        free(err);
        /* `rocky trace` shows the gap, in text and JSON. */
        char *text = trace_output(f, 0);
        if (!strstr(text, "status:   incomplete") ||
            !strstr(text, "models are on record; the runner could not"))
            fail_msg("rocky trace shows no gap:\n%s", text);
        free(text);
        char *json = trace_output(f, 1);
        if (!strstr(json, "\"status\": \"incomplete_error\"") ||
            !strstr(json, "\"run_status\": \"incomplete\"") ||
            !strstr(json, "\"models_planned\": 6") ||
            strstr(json, "\"models_recorded\": 6"))
            fail_msg("rocky trace --json shows no gap:\n%s", json);
        free(json);
        return;
    }
    fail_msg("no fault left the run on record as incomplete");
}

/* ---- the target is never the state store -------------------------------- */

static void target(const struct fx *f, const char *path)
{
    char json[512];
    snprintf(json, sizeof json, "{\"target\": \"%s\"}", path);
    write_file(f->dir, "rocky.json", json);
}

static int same_bytes(const char *a, const char *b)
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s'", a, b);
    return system(cmd) == 0;
}

/* The run is refused naming the state store, and the store is as it was:
 * not created (`before` NULL), or byte for byte the copy `before`. */
static void assert_refused_untouched(const struct fx *f, const char *spelling,
                                     const char *before)
{
    struct how how = {0};
    int code = run_child(f, &how);
    char *err = slurp(f->errf);
    if (code != 1 || strstr(err, "is the state store") == NULL)
        fail_msg("target %s was not refused (exit %d):\n%s", spelling, code,
                 err);
    free(err);
    if (before == NULL)
        assert_false(exists(f->state)); /* nothing created */
    else if (!same_bytes(before, f->state))
        fail_msg("target %s: the store was written to", spelling);
}

static void test_target_that_is_the_state_store_is_refused(void **state)
{
    struct fx *f = *state;
    char spelled[256], alias[160], before[160];
    snprintf(alias, sizeof alias, "%s/wh.db", f->dir);
    snprintf(before, sizeof before, "%s/before.db", f->dir);
    /* Store not created yet: every spelling of its path. */
    target(f, ".rocky/state.db");
    assert_refused_untouched(f, "same path", NULL);
    target(f, "./.rocky/../.rocky/./state.db");
    assert_refused_untouched(f, "./ and ..", NULL);
    snprintf(spelled, sizeof spelled, "%s//.rocky/state.db", f->dir);
    target(f, spelled);
    assert_refused_untouched(f, "absolute, //", NULL);
    snprintf(spelled, sizeof spelled, "%s/.rocky", f->dir);
    mkdir(spelled, 0777);
    assert_int_equal(symlink(".rocky/state.db", alias), 0); /* dangling */
    target(f, "wh.db");
    assert_refused_untouched(f, "symlink to a store not created yet", NULL);
    unlink(alias);

    /* Store with history; a model named `runs` would replace its table. */
    target(f, ".rocky/warehouse.db");
    struct how clean = {0};
    assert_int_equal(run_child(f, &clean), 0);
    write_file(f->dir, "models/runs.sql", "SELECT 1 AS gone");
    copy_file(f->state, before);
    assert_int_equal(symlink(".rocky/state.db", alias), 0);
    target(f, "wh.db");
    assert_refused_untouched(f, "symlink", before);
    unlink(alias);
    assert_int_equal(link(f->state, alias), 0);
    target(f, "wh.db");
    assert_refused_untouched(f, "hard link", before);
    unlink(alias);
    /* And a real target still works, `runs` model and all. */
    target(f, ".rocky/warehouse.db");
    assert_int_equal(run_child(f, &clean), 0);
}

/* ---- read-only stores -----------------------------------------------------
 */

static void chown_tree(const struct fx *f)
{
    if (geteuid() != 0)
        return;
    char cmd[160];
    snprintf(cmd, sizeof cmd, "chown -R %d:%d '%s'", NOBODY, NOBODY, f->dir);
    assert_int_equal(system(cmd), 0);
}

static void sidecar(const struct fx *f, const char *suffix, char *out,
                    size_t size)
{
    snprintf(out, size, "%s%s", f->state, suffix);
}

/* A run against a store this user cannot write fails saying so, and leaves
 * nothing behind: once the file is writable again, the next run works
 * (before, a read-only -shm was left and every later run failed "locking
 * for migration"). */
static void test_read_only_store_is_refused_and_leaves_no_shm(void **state)
{
    struct fx *f = *state;
    struct how ro = {.as_nobody = 1, .no_plugins = 1};
    chown_tree(f);
    assert_int_equal(run_child(f, &ro), 0);
    assert_int_equal(chmod(f->state, 0444), 0);
    assert_int_equal(run_child(f, &ro), 1);
    char *err = slurp(f->errf);
    if (strstr(err, "read-only") == NULL)
        fail_msg("not a precise error:\n%s", err);
    free(err);
    char shm[160], wal[160];
    sidecar(f, "-shm", shm, sizeof shm);
    sidecar(f, "-wal", wal, sizeof wal);
    assert_false(exists(shm));
    assert_false(exists(wal));
    assert_int_equal(chmod(f->state, 0644), 0);
    int code = run_child(f, &ro);
    if (code != 0) {
        char *e = slurp(f->errf);
        fail_msg("the next run failed after the store was writable:\n%s", e);
    }
}

/* A -shm of ours that an earlier run left read-only (as the run above did
 * before the fix) is made writable again, and the run goes on. */
static void test_stale_read_only_shm_of_ours_is_recovered(void **state)
{
    struct fx *f = *state;
    struct how ro = {.as_nobody = 1, .no_plugins = 1};
    chown_tree(f);
    assert_int_equal(run_child(f, &ro), 0);
    char shm[160];
    sidecar(f, "-shm", shm, sizeof shm);
    write_file(f->dir, ".rocky/state.db-shm", "");
    assert_int_equal(chmod(shm, 0444), 0);
    if (geteuid() == 0)
        assert_int_equal(chown(shm, NOBODY, NOBODY), 0);
    int code = run_child(f, &ro);
    if (code != 0) {
        char *e = slurp(f->errf);
        fail_msg("a stale read-only -shm broke the run:\n%s", e);
    }
}

/* The store of a finished run in a read-only directory (a CI artifact, a
 * read-only mount) is read: `rocky trace` goes through this open. */
static void test_store_in_read_only_directory_is_read(void **state)
{
    struct fx *f = *state;
    struct how clean = {.no_plugins = 1};
    assert_int_equal(run_child(f, &clean), 0);
    chown_tree(f);
    char dir[160];
    snprintf(dir, sizeof dir, "%s/.rocky", f->dir);
    assert_int_equal(chmod(f->state, 0444), 0);
    assert_int_equal(chmod(dir, 0555), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (drop_root() != 0)
            _exit(125);
        struct rocky_store *s = NULL;
        char err[512] = "";
        struct rocky_run_record *rec = NULL;
        int rc = rocky_store_open(f->state, ROCKY_STORE_READONLY, &s, err,
                                  sizeof err);
        if (rc == 0)
            rc = rocky_store_run_load(s, "latest", &rec, err, sizeof err);
        if (rc != 0)
            fprintf(stderr, "reading a read-only store: %s\n", err);
        int ok = rc == 0 && rec->run.status == ROCKY_RUN_SUCCESS &&
                 rec->model_count == MODELS;
        rocky_run_record_free(rec);
        rocky_store_close(s);
        _exit(ok ? 0 : 1);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    char shm[160];
    sidecar(f, "-shm", shm, sizeof shm);
    assert_false(exists(shm));
    chmod(dir, 0755);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_every_store_write_failing_leaves_a_true_history),
        T(test_disk_full_during_the_run_is_incomplete_and_says_so),
        T(test_target_that_is_the_state_store_is_refused),
        T(test_read_only_store_is_refused_and_leaves_no_shm),
        T(test_stale_read_only_shm_of_ours_is_recovered),
        T(test_store_in_read_only_directory_is_read),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
