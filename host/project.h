/*
 * project.h — a rocky project on disk and its dependency graph.
 *
 * Layout:
 *   <dir>/models/<name>.sql   one SELECT per file; materialized as table
 *                             <name> (letters, digits, '_'; not starting
 *                             with a digit; unique ignoring case)
 *   <dir>/models/<folder>/.../<name>.sql
 *                             the same, in subfolders (at most 16 deep):
 *                             the name is still the file's stem, so other
 *                             models refer to it as <name>; folders are for
 *                             people and for selectors ("staging/ *")
 *   <dir>/rocky.json          optional:
 *       "name":    project name (default: the directory's name)
 *       "threads": default worker count (default: the CPU count)
 *       "state":   state store path (default .rocky/state.db)
 *       "target":  the SQLite database models are built in
 *                  (default .rocky/warehouse.db)
 *       "plugins": plugin instances to load: paths, or {"path", "name",
 *                  "config"} objects (project_plugins.h)
 *       "sources": [tables that exist in the target but are no model]
 *       "retention": {"keep_runs": N, "keep_days": D} (retention.h)
 *   Relative paths in rocky.json are relative to <dir>.
 *
 * Dependencies are inferred from FROM/JOIN references to other models plus
 * optional `-- depends_on: a, b` comments (see sqlscan.h). A reference to a
 * name that is neither a model, a CTE, a table-valued function, a
 * sqlite_ table nor a declared source is an error naming file and line.
 */
#ifndef ROCKY_HOST_PROJECT_H
#define ROCKY_HOST_PROJECT_H

#include <stddef.h>

#include "retention.h"

struct rocky_plugin_spec;

struct rocky_model_def {
    char *name; /* table name = file stem */
    char *file; /* "models/<name>.sql" (for messages) */
    char *sql;  /* file contents */
    char sql_hash[65];
    size_t *deps; /* indices of the models it depends on */
    size_t ndeps;
    const char **dep_names; /* names of deps (borrowed from models) */
    size_t *rdeps;          /* indices of models depending on it */
    size_t nrdeps;
    int selected; /* part of this run */
};

struct rocky_project {
    char *dir;
    char *name;
    char *state_path; /* NULL when rocky.json has none */
    char *target_path;
    int threads;                       /* 0 when unset */
    struct rocky_plugin_spec *plugins; /* owned (project_plugins.h) */
    size_t nplugins;
    char **sources;
    size_t nsources;
    char config_hash[65]; /* SHA-256 of rocky.json + every model's SQL */
    char **warnings;      /* what the runner should print: unknown rocky.json
                             keys, with a "did you mean" (owned) */
    size_t nwarnings;
    struct rocky_model_def *models; /* sorted by name */
    size_t nmodels;
    size_t *order; /* a topological order of all models (deps first) */
    struct rocky_retention retention; /* all 0 when rocky.json has none */
};

/* Load the project at `dir` and plan its graph. Errors (with a message in
 * err): ROCKY_ENOTFOUND (no dir / models dir / no models), ROCKY_EIO
 * (unreadable file), ROCKY_EINVAL (bad rocky.json, bad model name, unknown
 * reference: "models/x.sql:3: ..."), ROCKY_ECYCLE ("a -> b -> a"). */
int rocky_project_load(const char *dir, struct rocky_project **out, char *err,
                       size_t err_size);

/* Resolve references, build reverse edges and the topological order of an
 * already loaded project (called by rocky_project_load; exposed for tests).
 * Same errors as rocky_project_load. */
int rocky_project_plan(struct rocky_project *p, char *err, size_t err_size);

/* Mark the models to run: every model when `nselect` is 0, else those the
 * `select` selectors name; then unmark those the `exclude` selectors name.
 * A selector is a model name or a glob (`stg_*`, fnmatch, ignoring case),
 * matched against the model's name, or against its path under models/
 * without ".sql" when it holds a '/' ("staging/orders", "staging/ *" without
 * the space); a leading '+' adds each match's upstream (everything it depends
 * on, transitively), a trailing '+' its downstream. A bare name is that model
 * alone: its upstream tables are used as they are in the target.
 * ROCKY_ENOTFOUND when a selector matches nothing (the message names it, with
 * "did you mean" for a near name) or nothing is left to run; ROCKY_EINVAL for
 * an empty selector ("+"). Returns the number selected in *selected. */
int rocky_project_select(struct rocky_project *p, char *const *select,
                         size_t nselect, char *const *exclude, size_t nexclude,
                         size_t *selected, char *err, size_t err_size);

/* Index of the model called `name` (case-insensitive) or -1. */
long rocky_project_find(const struct rocky_project *p, const char *name);

void rocky_project_free(struct rocky_project *p);

/* Refuse a target database that is the state store at `state_path`: the
 * models' tables would be written into the run history (a model named
 * `runs` would replace it). Compared by device and inode when both exist,
 * else by canonical path (symlinks followed, `./` and `..` resolved), so
 * no spelling, symlink or hard link gets past it. Called before either file
 * is opened. 0, or ROCKY_EINVAL with a message naming both paths. */
int rocky_project_check_target(const struct rocky_project *p,
                               const char *state_path, char *err,
                               size_t err_size);

/* The state store `rocky run DIR` uses unless --state or ROCKY_STATE say
 * otherwise: DIR/rocky.json's "state" (relative to DIR), else
 * DIR/.rocky/state.db. Reads only rocky.json (no models), so it works for
 * a project whose models do not plan. *state_path is newly allocated.
 * 0, or the errors of rocky_project_load for rocky.json (ROCKY_EINVAL bad
 * JSON or key, ROCKY_EIO unreadable), ROCKY_ENOMEM. */
int rocky_project_config_state(const char *dir, char **state_path, char *err,
                               size_t err_size);

/* DIR/rocky.json's "retention" (all 0 when it has none or there is no
 * rocky.json), reading only rocky.json, for `rocky runs --prune`. Same
 * errors as rocky_project_config_state. */
int rocky_project_config_retention(const char *dir,
                                   struct rocky_retention *retention, char *err,
                                   size_t err_size);

/* `rel` relative to `dir` (an absolute `rel` as it is), newly allocated,
 * or NULL when out of memory: how rocky.json's paths are resolved. */
char *rocky_path_join(const char *dir, const char *rel);

#endif
