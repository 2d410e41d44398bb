/* fixture.c — in-memory and on-disk runs for the trace tests. */
#include "fixture.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"
#include "store_batch.h"

static void *must(void *p)
{
    if (p == NULL) {
        fprintf(stderr, "fixture: out of memory\n");
        abort();
    }
    return p;
}

struct rocky_run_record *fx_record(const char *run_id, int64_t end_ms,
                                   uint32_t status)
{
    struct rocky_run_record *rec = must(rocky_run_record_new());
    struct rocky_run run = {0};
    run.struct_size = sizeof run;
    run.status = status;
    run.run_id = run_id;
    run.project = "fixture";
    run.trigger = "manual";
    run.started_wall_ns = FX_MS(0);
    run.finished_wall_ns = end_ms < 0 ? 0 : FX_MS(end_ms);
    run.started_mono_ns = 1;
    run.finished_mono_ns = end_ms < 0 ? 0 : 2;
    for (int i = 0; i < ROCKY_TRACE_ID_SIZE; i++)
        run.trace_id[i] = (uint8_t)(0xa0 + i);
    for (int i = 0; i < ROCKY_SPAN_ID_SIZE; i++)
        run.span_id[i] = (uint8_t)(0x10 + i);
    run.trace_flags = 1;
    if (rocky_run_record_set_run(rec, &run) != 0)
        must(NULL);
    return rec;
}

void fx_model(struct rocky_run_record *rec, const char *name, int64_t start_ms,
              int64_t end_ms, uint32_t status, const char *const *deps)
{
    struct rocky_model_exec m = {0};
    m.struct_size = sizeof m;
    m.status = status;
    m.model_name = name;
    m.sql_hash = "ab12";
    m.error = status == ROCKY_MODEL_FAILED ? "boom: relation missing" : NULL;
    m.started_wall_ns = start_ms < 0 ? 0 : FX_MS(start_ms);
    m.finished_wall_ns = start_ms < 0 || end_ms < 0 ? 0 : FX_MS(end_ms);
    m.rows_affected = 10;
    m.bytes_written = 100;
    m.attempt = 1;
    uint32_t n = 0;
    while (deps != NULL && deps[n] != NULL)
        n++;
    m.dependencies = deps;
    m.dependency_count = n;
    m.span_id[0] = (uint8_t)(rec->model_count + 1);
    m.span_id[7] = 0x5a;
    if (rocky_run_record_add_model(rec, &m) != 0)
        must(NULL);
}

int fx_write_store(const char *path, const struct rocky_run_record *rec)
{
    struct rocky_store *store = NULL;
    char err[512] = "";
    int rc =
        rocky_store_open(path, ROCKY_STORE_READWRITE, &store, err, sizeof err);
    if (rc == 0)
        rc = rocky_store_run_begin(store, &rec->run, err, sizeof err);
    /* One transaction for the models, as the runner's recorder commits. */
    if (rc == 0)
        rc = rocky_store_batch_begin(store, err, sizeof err);
    for (size_t i = 0; rc == 0 && i < rec->model_count; i++)
        rc = rocky_store_model_record(store, rec->run.run_id, &rec->models[i],
                                      err, sizeof err);
    if (rc == 0)
        rc = rocky_store_batch_commit(store, err, sizeof err);
    if (rc == 0 && rec->run.status != ROCKY_RUN_RUNNING)
        rc = rocky_store_run_finish(store, &rec->run, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "fixture: writing %s: %s\n", path, err);
    rocky_store_close(store);
    return rc;
}

char *fx_tempdir(void)
{
    const char *base = getenv("TMPDIR");
    char *dir = must(malloc(4096));
    snprintf(dir, 4096, "%s/rocky-trace-test-XXXXXX",
             base && base[0] ? base : "/tmp");
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        abort();
    }
    return dir;
}

void fx_rmtree(const char *dir)
{
    DIR *d = opendir(dir);
    if (d != NULL) {
        struct dirent *e;
        char path[4096];
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
        closedir(d);
    }
    rmdir(dir);
}
