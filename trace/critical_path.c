/* critical_path.c — the chain of dependencies that bounded a run (see
 * critical_path.h). */
#include "critical_path.h"

#include <stdlib.h>

#include "name_index.h"
#include "rocky/error.h"

/* Only executions with both ends recorded can bound anything. */
static int finished(const struct rocky_model_exec *m)
{
    return m->started_wall_ns != 0 && m->finished_wall_ns != 0;
}

int rocky_critical_path(const struct rocky_model_exec *models, size_t n,
                        const struct rocky_model_exec ***path, size_t *path_len)
{
    *path = NULL;
    *path_len = 0;
    struct rocky_name_index index;
    if (rocky_name_index_init(&index, n) != 0)
        return ROCKY_ENOMEM;
    size_t last = n;
    for (size_t i = 0; i < n; i++) {
        if (!finished(&models[i]))
            continue;
        size_t seen;
        /* A retried model is represented by its latest-finishing attempt. */
        if (!rocky_name_index_get(&index, models[i].model_name, &seen) ||
            models[seen].finished_wall_ns < models[i].finished_wall_ns) {
            if (rocky_name_index_put(&index, models[i].model_name, i) != 0) {
                rocky_name_index_free(&index);
                return ROCKY_ENOMEM;
            }
        }
        if (last == n ||
            models[i].finished_wall_ns > models[last].finished_wall_ns)
            last = i;
    }
    if (last == n) {
        rocky_name_index_free(&index);
        return 0;
    }

    /* Walk back; `visited` stops a cycle of zero-length models (a corrupt
     * dependency list must not hang the tool). */
    unsigned char *visited = calloc(n, 1);
    size_t *chain = malloc(n * sizeof *chain);
    if (visited == NULL || chain == NULL) {
        free(visited);
        free(chain);
        rocky_name_index_free(&index);
        return ROCKY_ENOMEM;
    }
    size_t len = 0;
    size_t cur = last;
    for (;;) {
        visited[cur] = 1;
        chain[len++] = cur;
        const struct rocky_model_exec *m = &models[cur];
        size_t best = n;
        for (uint32_t d = 0; d < m->dependency_count; d++) {
            size_t j;
            if (m->dependencies[d] == NULL ||
                !rocky_name_index_get(&index, m->dependencies[d], &j))
                continue;
            const struct rocky_model_exec *dep = &models[j];
            if (visited[j] || dep->finished_wall_ns > m->started_wall_ns)
                continue;
            if (best == n ||
                dep->finished_wall_ns > models[best].finished_wall_ns)
                best = j;
        }
        if (best == n)
            break;
        cur = best;
    }
    const struct rocky_model_exec **out = malloc(len * sizeof *out);
    if (out == NULL) {
        free(visited);
        free(chain);
        rocky_name_index_free(&index);
        return ROCKY_ENOMEM;
    }
    for (size_t k = 0; k < len; k++)
        out[k] = &models[chain[len - 1 - k]];
    *path = out;
    *path_len = len;
    free(visited);
    free(chain);
    rocky_name_index_free(&index);
    return 0;
}
