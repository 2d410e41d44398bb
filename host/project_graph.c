/* project_graph.c — resolving references, finding cycles, ordering and
 * selecting models (see project.h). */
#include "project.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rocky/error.h"
#include "sqlscan.h"
#include "suggest.h"

long rocky_project_find(const struct rocky_project *p, const char *name)
{
    /* models are sorted case-insensitively: binary search */
    size_t lo = 0, hi = p->nmodels;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcasecmp(p->models[mid].name, name);
        if (c == 0)
            return (long)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

static int is_source(const struct rocky_project *p, const char *name)
{
    if (strncasecmp(name, "sqlite_", 7) == 0 ||
        strncasecmp(name, "pragma_", 7) == 0)
        return 1;
    for (size_t i = 0; i < p->nsources; i++)
        if (strcasecmp(p->sources[i], name) == 0)
            return 1;
    return 0;
}

static int add_dep(struct rocky_model_def *m, size_t dep)
{
    for (size_t i = 0; i < m->ndeps; i++)
        if (m->deps[i] == dep)
            return 0;
    size_t *d = realloc(m->deps, (m->ndeps + 1) * sizeof *d);
    if (d == NULL)
        return ROCKY_ENOMEM;
    m->deps = d;
    m->deps[m->ndeps++] = dep;
    return 0;
}

static int resolve(struct rocky_project *p, size_t idx, char *err,
                   size_t err_size)
{
    struct rocky_model_def *m = &p->models[idx];
    struct rocky_sql_refs refs;
    if (rocky_sql_scan(m->sql, &refs) != 0)
        return ROCKY_ENOMEM;
    int code = 0;
    for (size_t i = 0; i < refs.count && code == 0; i++) {
        const struct rocky_sql_ref *r = &refs.refs[i];
        long dep = rocky_project_find(p, r->name);
        if (dep >= 0) {
            code = add_dep(m, (size_t)dep);
            continue;
        }
        if (r->kind == ROCKY_SQL_REF_READ &&
            (r->is_function || is_source(p, r->name)))
            continue;
        snprintf(err, err_size,
                 "%s:%d: unknown %s '%s': there is no models/%s.sql%s", m->file,
                 r->line,
                 r->kind == ROCKY_SQL_REF_DECLARED ? "dependency"
                                                   : "model or source",
                 r->name, r->name,
                 r->kind == ROCKY_SQL_REF_DECLARED
                     ? ""
                     : " (list external tables in rocky.json \"sources\")");
        code = ROCKY_EINVAL;
    }
    rocky_sql_refs_free(&refs);
    if (code != 0)
        return code;
    m->dep_names = calloc(m->ndeps ? m->ndeps : 1, sizeof *m->dep_names);
    if (m->dep_names == NULL)
        return ROCKY_ENOMEM;
    for (size_t i = 0; i < m->ndeps; i++)
        m->dep_names[i] = p->models[m->deps[i]].name;
    return 0;
}

/* Write "a -> b -> ... -> a" for a cycle among the models not yet ordered
 * (done[i] == 0): follow unordered deps until a model repeats. */
static void describe_cycle(const struct rocky_project *p, const char *done,
                           char *err, size_t err_size)
{
    size_t n = p->nmodels;
    long *seen_at = malloc(n * sizeof *seen_at);
    size_t *path = malloc((n + 1) * sizeof *path);
    if (seen_at == NULL || path == NULL) {
        snprintf(err, err_size, "dependency cycle");
        free(seen_at);
        free(path);
        return;
    }
    for (size_t i = 0; i < n; i++)
        seen_at[i] = -1;
    size_t cur = 0;
    while (done[cur])
        cur++;
    size_t len = 0;
    while (seen_at[cur] < 0) {
        seen_at[cur] = (long)len;
        path[len++] = cur;
        const struct rocky_model_def *m = &p->models[cur];
        for (size_t d = 0; d < m->ndeps; d++)
            if (!done[m->deps[d]]) {
                cur = m->deps[d];
                break;
            }
    }
    /* path[seen_at[cur]..] is the cycle, in "depends on" direction; print
     * it in build direction (upstream first). */
    size_t used = (size_t)snprintf(err, err_size, "dependency cycle: %s",
                                   p->models[cur].name);
    for (long i = (long)len - 1; i >= seen_at[cur] && used < err_size; i--)
        used += (size_t)snprintf(err + used, err_size - used, " -> %s",
                                 p->models[path[i]].name);
    if (used < err_size)
        snprintf(err + used, err_size - used,
                 " (break it by removing one of these references)");
    free(seen_at);
    free(path);
}

static int order_models(struct rocky_project *p, char *err, size_t err_size)
{
    size_t n = p->nmodels;
    size_t *indeg = calloc(n, sizeof *indeg);
    char *done = calloc(n, 1);
    p->order = malloc(n * sizeof *p->order);
    if (indeg == NULL || done == NULL || p->order == NULL) {
        free(indeg);
        free(done);
        return ROCKY_ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        indeg[i] = p->models[i].ndeps;
    size_t head = 0, tail = 0;
    for (size_t i = 0; i < n; i++)
        if (indeg[i] == 0)
            p->order[tail++] = i;
    while (head < tail) {
        size_t cur = p->order[head++];
        done[cur] = 1;
        const struct rocky_model_def *m = &p->models[cur];
        for (size_t r = 0; r < m->nrdeps; r++)
            if (--indeg[m->rdeps[r]] == 0)
                p->order[tail++] = m->rdeps[r];
    }
    int code = 0;
    if (tail < n) {
        describe_cycle(p, done, err, err_size);
        code = ROCKY_ECYCLE;
    }
    free(indeg);
    free(done);
    return code;
}

int rocky_project_plan(struct rocky_project *p, char *err, size_t err_size)
{
    for (size_t i = 0; i < p->nmodels; i++) {
        int code = resolve(p, i, err, err_size);
        if (code != 0)
            return code;
    }
    for (size_t i = 0; i < p->nmodels; i++) {
        const struct rocky_model_def *m = &p->models[i];
        for (size_t d = 0; d < m->ndeps; d++) {
            struct rocky_model_def *up = &p->models[m->deps[d]];
            size_t *r = realloc(up->rdeps, (up->nrdeps + 1) * sizeof *r);
            if (r == NULL)
                return ROCKY_ENOMEM;
            up->rdeps = r;
            up->rdeps[up->nrdeps++] = i;
        }
    }
    return order_models(p, err, err_size);
}

/* Set `mark` on model `idx` and, following `up` (deps) or not (rdeps),
 * everything it reaches. Iterative: a chain may be 100,000 models long. */
static int mark_reach(struct rocky_project *p, size_t idx, int up, char *seen,
                      int mark)
{
    size_t *stack = malloc(p->nmodels * sizeof *stack);
    if (stack == NULL)
        return ROCKY_ENOMEM;
    size_t top = 0;
    stack[top++] = idx;
    seen[idx] = 1;
    while (top > 0) {
        struct rocky_model_def *m = &p->models[stack[--top]];
        m->selected = mark;
        size_t n = up ? m->ndeps : m->nrdeps;
        const size_t *next = up ? m->deps : m->rdeps;
        for (size_t k = 0; k < n; k++)
            if (!seen[next[k]]) {
                seen[next[k]] = 1;
                stack[top++] = next[k];
            }
    }
    free(stack);
    return 0;
}

/* The model's path under models/ without ".sql": "staging/orders". */
static const char *model_path(const struct rocky_model_def *m, char *buf,
                              size_t size)
{
    const char *f = strncmp(m->file, "models/", 7) == 0 ? m->file + 7 : m->file;
    size_t len = strlen(f);
    if (len > 4 && strcmp(f + len - 4, ".sql") == 0)
        len -= 4;
    snprintf(buf, size, "%.*s", (int)len, f);
    return buf;
}

/* Apply one selector to every model: set `mark` on what it names. */
static int apply_selector(struct rocky_project *p, const char *flag,
                          const char *sel, int mark, char *err, size_t err_size)
{
    size_t len = strlen(sel);
    int up = len > 0 && sel[0] == '+';
    int down = len > (size_t)up && sel[len - 1] == '+';
    size_t plen = len - (size_t)up - (size_t)down;
    char pattern[512];
    if (plen == 0 || plen >= sizeof pattern) {
        snprintf(err, err_size,
                 "%s '%s': a selector is a model name or glob, with '+' "
                 "before it (and its upstream) or after it (and its "
                 "downstream)",
                 flag, sel);
        return ROCKY_EINVAL;
    }
    memcpy(pattern, sel + up, plen);
    pattern[plen] = '\0';
    int glob = strpbrk(pattern, "*?[") != NULL;
    int by_path = strchr(pattern, '/') != NULL;
    char *seen = calloc(p->nmodels ? p->nmodels : 1, 1);
    char *hit = calloc(p->nmodels ? p->nmodels : 1, 1);
    if (seen == NULL || hit == NULL) {
        free(seen);
        free(hit);
        return ROCKY_ENOMEM;
    }
    size_t matched = 0;
    for (size_t i = 0; i < p->nmodels; i++) {
        char path[1024];
        const char *subject = by_path
                                  ? model_path(&p->models[i], path, sizeof path)
                                  : p->models[i].name;
        int ok = glob ? fnmatch(pattern, subject, FNM_CASEFOLD) == 0
                      : strcasecmp(pattern, subject) == 0;
        hit[i] = (char)ok;
        matched += ok != 0;
    }
    int code = 0;
    if (matched == 0) {
        const char **names =
            malloc((p->nmodels ? p->nmodels : 1) * sizeof *names);
        const char *close = NULL;
        if (names != NULL && !glob) {
            for (size_t i = 0; i < p->nmodels; i++)
                names[i] = p->models[i].name;
            close = rocky_suggest(pattern, names, p->nmodels);
        }
        free(names);
        snprintf(err, err_size, "%s %s: %s in %s/models%s%s%s", flag, sel,
                 glob ? "no model matches" : "no model of that name", p->dir,
                 close ? "; did you mean '" : "", close ? close : "",
                 close ? "'?" : "");
        code = ROCKY_ENOTFOUND;
    }
    for (size_t i = 0; code == 0 && i < p->nmodels; i++) {
        if (!hit[i])
            continue;
        p->models[i].selected = mark;
        if (up) {
            memset(seen, 0, p->nmodels);
            code = mark_reach(p, i, 1, seen, mark);
        }
        if (code == 0 && down) {
            memset(seen, 0, p->nmodels);
            code = mark_reach(p, i, 0, seen, mark);
        }
    }
    free(seen);
    free(hit);
    return code;
}

int rocky_project_select(struct rocky_project *p, char *const *select,
                         size_t nselect, char *const *exclude, size_t nexclude,
                         size_t *selected, char *err, size_t err_size)
{
    for (size_t i = 0; i < p->nmodels; i++)
        p->models[i].selected = nselect == 0;
    for (size_t i = 0; i < nselect; i++) {
        int code = apply_selector(p, "--select", select[i], 1, err, err_size);
        if (code != 0)
            return code;
    }
    for (size_t i = 0; i < nexclude; i++) {
        int code = apply_selector(p, "--exclude", exclude[i], 0, err, err_size);
        if (code != 0)
            return code;
    }
    size_t n = 0;
    for (size_t i = 0; i < p->nmodels; i++)
        n += p->models[i].selected != 0;
    *selected = n;
    if (n == 0) {
        snprintf(err, err_size,
                 "--select/--exclude left no model to run in %s/models",
                 p->dir);
        return ROCKY_ENOTFOUND;
    }
    return 0;
}
