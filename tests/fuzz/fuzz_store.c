/*
 * fuzz_store.c — `rocky trace` reads whatever file --state names: a store
 * copied from elsewhere, damaged by a full disk, or made by hand. Each input
 * is the bytes of a database file, read through the public entry points the
 * trace tool uses: rocky_store_open (READONLY), rocky_store_run_load
 * ("latest" and every recent id), rocky_store_run_plugins,
 * rocky_store_pending_run_ids.
 *
 * Invariants: every call returns 0 or a documented error with a message;
 * what loads keeps the run model's promises (run_id, project, trigger and
 * every model_name non-NULL — rocky/run_model.h says "never NULL" and the
 * renderers rely on it; dependency arrays as long as their count; plugin
 * instances with a name and a path); everything is freed (LeakSanitizer).
 *
 * The file is written to a scratch directory made once ($TMPDIR), and it
 * and SQLite's -wal/-shm/-journal companions are removed after every input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rocky/error.h"
#include "store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[4096];
static char db_path[4200];

static void remove_files(void)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    char path[4300];
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        snprintf(path, sizeof path, "%s%s", db_path, suffixes[i]);
        unlink(path);
    }
}

static void remove_dir(void)
{
    remove_files();
    rmdir(dir);
}

static void check_record(const struct rocky_run_record *rec)
{
    const struct rocky_run *run = &rec->run;
    if (run->run_id == NULL || run->project == NULL || run->trigger == NULL)
        abort(); /* run_model.h: never NULL */
    for (size_t i = 0; i < rec->model_count; i++) {
        const struct rocky_model_exec *m = &rec->models[i];
        if (m->model_name == NULL)
            abort();
        if (m->dependency_count > 0 && m->dependencies == NULL)
            abort();
        for (uint32_t d = 0; d < m->dependency_count; d++)
            if (m->dependencies[d] == NULL)
                abort();
    }
}

static void read_run(struct rocky_store *s, const char *id)
{
    struct rocky_run_record *rec = NULL;
    char err[1024] = "";
    int rc = rocky_store_run_load(s, id, &rec, err, sizeof err);
    if (rc == 0) {
        check_record(rec);
        rocky_run_record_free(rec);
    } else if (rec != NULL || err[0] == '\0') {
        abort();
    }
    struct rocky_store_plugin *plugins = NULL;
    size_t count = 0;
    err[0] = '\0';
    rc = rocky_store_run_plugins(s, id, &plugins, &count, err, sizeof err);
    if (rc == 0) {
        for (size_t i = 0; i < count; i++)
            if (plugins[i].instance == NULL || plugins[i].path == NULL ||
                (plugins[i].config_count > 0 && plugins[i].config == NULL))
                abort();
        rocky_store_plugins_free(plugins, count);
    } else if (plugins != NULL || count != 0 || err[0] == '\0') {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (dir[0] == '\0') {
        const char *tmp = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/rocky-fuzz-store-XXXXXX",
                 tmp && *tmp ? tmp : "/tmp");
        if (mkdtemp(dir) == NULL)
            abort();
        snprintf(db_path, sizeof db_path, "%s/state.db", dir);
        atexit(remove_dir);
    }
    FILE *f = fopen(db_path, "wb");
    if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        abort();

    struct rocky_store *s = NULL;
    char err[1024] = "";
    int rc =
        rocky_store_open(db_path, ROCKY_STORE_READONLY, &s, err, sizeof err);
    if (rc != 0) {
        if (s != NULL || err[0] == '\0')
            abort();
        remove_files();
        return 0;
    }
    read_run(s, "latest");
    char *ids[4];
    size_t n = 0;
    if (rocky_store_recent_run_ids(s, ids, 4, &n) == 0) {
        for (size_t i = 0; i < n; i++) {
            read_run(s, ids[i]);
            free(ids[i]);
        }
    }
    if (rocky_store_pending_run_ids(s, ids, 4, &n) == 0)
        for (size_t i = 0; i < n; i++)
            free(ids[i]);
    rocky_store_close(s);
    remove_files();
    return 0;
}
