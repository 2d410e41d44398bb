/* compare.c — the comparison of two runs (see compare.h): fold each run's
 * executions by model name, hash-join the two, classify, sort. */
#include "compare.h"

#include <stdlib.h>
#include <string.h>

#include "name_index.h"
#include "rocky/error.h"

const char *rocky_compare_change_name(enum rocky_compare_change change)
{
    switch (change) {
    case ROCKY_COMPARE_SLOWER: return "slower";
    case ROCKY_COMPARE_FASTER: return "faster";
    case ROCKY_COMPARE_STATUS: return "status_changed";
    case ROCKY_COMPARE_ADDED: return "added";
    case ROCKY_COMPARE_REMOVED: return "removed";
    case ROCKY_COMPARE_SAME:
    default: return "unchanged";
    }
}

double rocky_compare_pct(int64_t before, int64_t after, int *defined)
{
    *defined = before > 0;
    if (before <= 0)
        return 0.0;
    return ((double)after - (double)before) * 100.0 / (double)before;
}

/* Is `m` a later attempt than `cur` (the final execution so far)? Entries
 * come in start order, so among equal attempts the later entry wins. */
static int later_attempt(const struct rocky_model_exec *m,
                         const struct rocky_model_exec *cur)
{
    return m->attempt >= cur->attempt;
}

/* Add one side's executions to the rows: one row per distinct name, found
 * through `index` (name → row). `which` 0 fills before, 1 after. */
static int fold(const struct rocky_trace *t, int which,
                struct rocky_name_index *index, struct rocky_compare *cmp,
                size_t *distinct)
{
    *distinct = 0;
    for (size_t i = 0; i < t->count; i++) {
        const struct rocky_trace_entry *e = &t->entries[i];
        const char *name = e->exec->model_name;
        size_t row;
        if (!rocky_name_index_get(index, name, &row)) {
            row = cmp->count++;
            memset(&cmp->models[row], 0, sizeof cmp->models[row]);
            cmp->models[row].model_name = name;
            if (rocky_name_index_put(index, name, row) != 0)
                return ROCKY_ENOMEM;
        }
        struct rocky_compare_side *s =
            which ? &cmp->models[row].after : &cmp->models[row].before;
        if (s->attempts == 0)
            (*distinct)++;
        if (s->last == NULL || later_attempt(e->exec, s->last))
            s->last = e->exec;
        s->attempts++;
        s->duration_ns += e->duration_ns;
    }
    return 0;
}

static void classify(struct rocky_compare_model *m)
{
    const struct rocky_model_exec *b = m->before.last, *a = m->after.last;
    if (b == NULL) {
        m->change = ROCKY_COMPARE_ADDED;
        return;
    }
    if (a == NULL) {
        m->change = ROCKY_COMPARE_REMOVED;
        return;
    }
    if (b->rows_affected >= 0 && a->rows_affected >= 0) {
        m->has_rows_delta = 1;
        m->rows_delta = a->rows_affected - b->rows_affected;
    }
    m->comparable =
        b->status == ROCKY_MODEL_SUCCESS && a->status == ROCKY_MODEL_SUCCESS;
    if (m->comparable)
        m->delta_ns = m->after.duration_ns - m->before.duration_ns;
    if (a->status != b->status)
        m->change = ROCKY_COMPARE_STATUS;
    else if (m->delta_ns > 0)
        m->change = ROCKY_COMPARE_SLOWER;
    else if (m->delta_ns < 0)
        m->change = ROCKY_COMPARE_FASTER;
    else
        m->change = ROCKY_COMPARE_SAME;
}

static int cmp_rows(const void *pa, const void *pb)
{
    const struct rocky_compare_model *a = pa, *b = pb;
    if (a->change != b->change)
        return a->change < b->change ? -1 : 1;
    if (a->change == ROCKY_COMPARE_SLOWER && a->delta_ns != b->delta_ns)
        return a->delta_ns > b->delta_ns ? -1 : 1;
    if (a->change == ROCKY_COMPARE_FASTER && a->delta_ns != b->delta_ns)
        return a->delta_ns < b->delta_ns ? -1 : 1;
    return strcmp(a->model_name, b->model_name);
}

/* The names on `path` that are not on `other`, in `path`'s order. */
static int path_diff(const struct rocky_trace *path,
                     const struct rocky_trace *other,
                     const struct rocky_model_exec ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (path->critical_count == 0)
        return 0;
    struct rocky_name_index index;
    if (rocky_name_index_init(&index, other->critical_count) != 0)
        return ROCKY_ENOMEM;
    int rc = 0;
    for (size_t k = 0; rc == 0 && k < other->critical_count; k++)
        rc = rocky_name_index_put(&index, other->critical_path[k]->model_name,
                                  k);
    *out = malloc(path->critical_count * sizeof **out);
    if (rc != 0 || *out == NULL) {
        rocky_name_index_free(&index);
        free((void *)*out);
        *out = NULL;
        return ROCKY_ENOMEM;
    }
    for (size_t k = 0; k < path->critical_count; k++) {
        size_t unused;
        if (!rocky_name_index_get(&index, path->critical_path[k]->model_name,
                                  &unused))
            (*out)[(*n)++] = path->critical_path[k];
    }
    rocky_name_index_free(&index);
    return 0;
}

int rocky_compare_build(const struct rocky_trace *before,
                        const struct rocky_trace *after,
                        const char *model_filter, struct rocky_compare *out,
                        char *err, size_t err_size)
{
    memset(out, 0, sizeof *out);
    out->before.trace = before;
    out->after.trace = after;
    out->model_filter = model_filter;
    size_t total = before->count + after->count;
    struct rocky_name_index index;
    out->models = malloc((total ? total : 1) * sizeof *out->models);
    if (out->models == NULL || rocky_name_index_init(&index, total) != 0) {
        free(out->models);
        out->models = NULL;
        snprintf(err, err_size, "out of memory comparing the runs");
        return ROCKY_ENOMEM;
    }
    int rc = fold(before, 0, &index, out, &out->before.model_count);
    if (rc == 0)
        rc = fold(after, 1, &index, out, &out->after.model_count);
    if (rc == 0 && model_filter != NULL) {
        size_t row;
        if (rocky_name_index_get(&index, model_filter, &row)) {
            out->models[0] = out->models[row];
            out->count = 1;
        } else {
            out->count = 0;
            snprintf(err, err_size, "model '%s' is in neither run",
                     model_filter);
            rc = ROCKY_ENOTFOUND;
        }
    }
    rocky_name_index_free(&index);
    if (rc == 0) {
        for (size_t i = 0; i < out->count; i++) {
            classify(&out->models[i]);
            out->counts[out->models[i].change]++;
        }
        qsort(out->models, out->count, sizeof *out->models, cmp_rows);
        rc = path_diff(after, before, &out->joined, &out->joined_count);
    }
    if (rc == 0)
        rc = path_diff(before, after, &out->left, &out->left_count);
    if (rc != 0) {
        if (rc == ROCKY_ENOMEM)
            snprintf(err, err_size, "out of memory comparing the runs");
        rocky_compare_release(out);
    }
    return rc;
}

void rocky_compare_release(struct rocky_compare *cmp)
{
    free(cmp->models);
    free((void *)cmp->joined);
    free((void *)cmp->left);
    cmp->models = NULL;
    cmp->joined = NULL;
    cmp->left = NULL;
    cmp->count = cmp->joined_count = cmp->left_count = 0;
}
