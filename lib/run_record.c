/* run_record.c — owned copies of the run model (see run_record.h). */
#include "run_record.h"

#include <stdlib.h>
#include <string.h>

#include "rocky/error.h"

/* strdup that keeps NULL as NULL; *ok is cleared on allocation failure. */
static char *dup_or_null(const char *s, int *ok)
{
    if (s == NULL)
        return NULL;
    char *copy = strdup(s);
    if (copy == NULL)
        *ok = 0;
    return copy;
}

static void free_run_strings(struct rocky_run *run)
{
    free((char *)run->run_id);
    free((char *)run->project);
    free((char *)run->trigger);
    free((char *)run->config_hash);
    free((char *)run->hostname);
    free((char *)run->rocky_version);
    free((char *)run->trace_state);
}

static void free_model_strings(struct rocky_model_exec *m)
{
    free((char *)m->model_name);
    free((char *)m->sql_hash);
    free((char *)m->error);
    for (uint32_t i = 0; i < m->dependency_count; i++)
        free((char *)m->dependencies[i]);
    free((void *)m->dependencies);
}

struct rocky_run_record *rocky_run_record_new(void)
{
    struct rocky_run_record *rec = calloc(1, sizeof *rec);
    if (rec == NULL)
        return NULL;
    rec->run.struct_size = sizeof rec->run;
    rec->delivery_confirmed = -1;
    return rec;
}

int rocky_run_record_set_run(struct rocky_run_record *rec,
                             const struct rocky_run *run)
{
    int ok = 1;
    struct rocky_run copy = *run;
    copy.struct_size = sizeof copy;
    copy.run_id = dup_or_null(run->run_id, &ok);
    copy.project = dup_or_null(run->project, &ok);
    copy.trigger = dup_or_null(run->trigger, &ok);
    copy.config_hash = dup_or_null(run->config_hash, &ok);
    copy.hostname = dup_or_null(run->hostname, &ok);
    copy.rocky_version = dup_or_null(run->rocky_version, &ok);
    copy.trace_state = dup_or_null(run->trace_state, &ok);
    if (!ok) {
        free_run_strings(&copy);
        return ROCKY_ENOMEM;
    }
    free_run_strings(&rec->run);
    rec->run = copy;
    return 0;
}

int rocky_run_record_add_model(struct rocky_run_record *rec,
                               const struct rocky_model_exec *model)
{
    int ok = 1;
    struct rocky_model_exec copy = *model;
    copy.struct_size = sizeof copy;
    copy.model_name = dup_or_null(model->model_name, &ok);
    copy.sql_hash = dup_or_null(model->sql_hash, &ok);
    copy.error = dup_or_null(model->error, &ok);
    copy.dependencies = NULL;
    copy.dependency_count = 0;
    if (ok && model->dependency_count > 0) {
        const char **deps = calloc(model->dependency_count, sizeof *deps);
        if (deps == NULL)
            ok = 0;
        copy.dependencies = deps;
        for (uint32_t i = 0; ok && i < model->dependency_count; i++) {
            deps[i] = dup_or_null(model->dependencies[i], &ok);
            copy.dependency_count = i + 1;
        }
    }
    /* Grow geometrically: a run of 100k models must not be O(n^2). */
    size_t n = rec->model_count;
    if (ok && (n & (n - 1)) == 0) {
        size_t cap = n == 0 ? 8 : n * 2;
        if (n == 0 || n >= 8) {
            struct rocky_model_exec *grown =
                realloc(rec->models, cap * sizeof *grown);
            if (grown == NULL)
                ok = 0;
            else
                rec->models = grown;
        }
    }
    if (!ok) {
        free_model_strings(&copy);
        return ROCKY_ENOMEM;
    }
    rec->models[rec->model_count++] = copy;
    return 0;
}

void rocky_run_record_free(struct rocky_run_record *rec)
{
    if (rec == NULL)
        return;
    free_run_strings(&rec->run);
    for (size_t i = 0; i < rec->model_count; i++)
        free_model_strings(&rec->models[i]);
    free(rec->models);
    free(rec);
}
