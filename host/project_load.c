/* project_load.c — reading a project directory and rocky.json (see
 * project.h). */
#include "project.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file_read.h"
#include "rocky/error.h"
#include "project_plugins.h"
#include "sha256.h"
#include "store.h"
#include "suggest.h"

/* The most a model file or rocky.json may hold. Far above any real
 * project (a model is one SELECT; rocky.json a few settings), far below
 * what would hurt: the whole project is held in memory. */
#define MODEL_MAX_BYTES  (16u << 20)
#define CONFIG_MAX_BYTES (1u << 20)

/* What to do about a file rocky_file_read refused. */
static const char *read_hint(int rc)
{
    switch (rc) {
    case ROCKY_EINVAL: return "; replace it with a regular file";
    case ROCKY_EREFUSED: return "; is it the right file?";
    default: return "";
    }
}

char *rocky_path_join(const char *dir, const char *rel)
{
    if (rel[0] == '/')
        return strdup(rel);
    size_t n = strlen(dir) + strlen(rel) + 2;
    char *out = malloc(n);
    if (out != NULL)
        snprintf(out, n, "%s/%s", dir, rel);
    return out;
}

static int valid_name(const char *s, size_t len)
{
    if (len == 0 || !((s[0] >= 'a' && s[0] <= 'z') ||
                      (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_'))
            return 0;
    }
    return strncasecmp(s, "sqlite_", 7) != 0 &&
           strncasecmp(s, "rocky_", 6) != 0;
}

static int cmp_models(const void *a, const void *b)
{
    const struct rocky_model_def *x = a, *y = b;
    return strcasecmp(x->name, y->name);
}

static int json_line(const char *text, const char *at)
{
    int line = 1;
    for (const char *p = text; p < at && *p; p++)
        line += *p == '\n';
    return line;
}

static int string_list(cJSON *root, const char *key, const char *dir,
                       int resolve, char ***out, size_t *count, char *err,
                       size_t err_size)
{
    cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, key);
    if (arr == NULL)
        return 0;
    if (!cJSON_IsArray(arr)) {
        snprintf(err, err_size,
                 "rocky.json: \"%s\" must be an array of "
                 "strings",
                 key);
        return ROCKY_EINVAL;
    }
    int n = cJSON_GetArraySize(arr);
    *out = calloc((size_t)n + 1, sizeof **out);
    if (*out == NULL)
        return ROCKY_ENOMEM;
    cJSON *item;
    cJSON_ArrayForEach(item, arr)
    {
        if (!cJSON_IsString(item) || item->valuestring[0] == '\0') {
            snprintf(err, err_size,
                     "rocky.json: \"%s\" must hold non-empty strings", key);
            return ROCKY_EINVAL;
        }
        char *v = resolve ? rocky_path_join(dir, item->valuestring)
                          : strdup(item->valuestring);
        if (v == NULL)
            return ROCKY_ENOMEM;
        (*out)[(*count)++] = v;
    }
    return 0;
}

static int path_opt(cJSON *root, const char *key, const char *dir, char **out,
                    char *err, size_t err_size)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    if (v == NULL)
        return 0;
    if (!cJSON_IsString(v) || v->valuestring[0] == '\0') {
        snprintf(err, err_size,
                 "rocky.json: \"%s\" must be a non-empty "
                 "string (a path)",
                 key);
        return ROCKY_EINVAL;
    }
    *out = rocky_path_join(dir, v->valuestring);
    return *out ? 0 : ROCKY_ENOMEM;
}

/* Every key rocky.json may hold. Add a key here when load_config learns
 * it: any other key gets a warning. */
static const char *const known_keys[] = {
    "name", "threads", "state", "target", "plugins", "sources", "retention"};
#define KNOWN_KEYS (sizeof known_keys / sizeof *known_keys)

/* Unknown keys are warnings, not errors: a rocky.json may be shared with a
 * newer rocky (or upstream's) that knows more keys, and refusing to run
 * for a key this version ignores would make upgrades all-or-nothing. The
 * warning names the key this rocky ignores and the closest known one. */
static int warn_unknown_keys(struct rocky_project *p, const cJSON *root)
{
    for (const cJSON *item = root->child; item != NULL; item = item->next) {
        const char *key = item->string ? item->string : "";
        int known = strcmp(key, "$schema") == 0;
        for (size_t k = 0; k < KNOWN_KEYS && !known; k++)
            known = strcmp(key, known_keys[k]) == 0;
        if (known)
            continue;
        const char *close = rocky_suggest(key, known_keys, KNOWN_KEYS);
        char *text = NULL;
        if (asprintf(&text,
                     "%s/rocky.json: unknown key \"%s\" is ignored%s%s%s "
                     "(known keys: name, threads, state, target, plugins, "
                     "sources)",
                     p->dir, key, close ? "; did you mean \"" : "",
                     close ? close : "", close ? "\"?" : "") < 0)
            return ROCKY_ENOMEM;
        char **w = realloc(p->warnings, (p->nwarnings + 1) * sizeof *w);
        if (w == NULL) {
            free(text);
            return ROCKY_ENOMEM;
        }
        p->warnings = w;
        p->warnings[p->nwarnings++] = text;
    }
    return 0;
}

static int load_config(struct rocky_project *p, const char *text, char *err,
                       size_t err_size)
{
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(text, &end, 1);
    if (root == NULL) {
        snprintf(err, err_size,
                 "%s/rocky.json:%d: invalid JSON; fix the file or remove it",
                 p->dir, json_line(text, cJSON_GetErrorPtr()));
        return ROCKY_EINVAL;
    }
    int code = 0;
    if (!cJSON_IsObject(root)) {
        snprintf(err, err_size, "%s/rocky.json: must be a JSON object", p->dir);
        code = ROCKY_EINVAL;
        goto out;
    }
    code = warn_unknown_keys(p, root);
    if (code != 0)
        goto out;
    cJSON *name = cJSON_GetObjectItemCaseSensitive(root, "name");
    if (name != NULL) {
        if (!cJSON_IsString(name) || name->valuestring[0] == '\0') {
            snprintf(err, err_size,
                     "rocky.json: \"name\" must be a non-empty string");
            code = ROCKY_EINVAL;
            goto out;
        }
        free(p->name);
        p->name = strdup(name->valuestring);
    }
    cJSON *threads = cJSON_GetObjectItemCaseSensitive(root, "threads");
    if (threads != NULL) {
        if (!cJSON_IsNumber(threads) || threads->valuedouble < 1 ||
            threads->valuedouble > 256 ||
            threads->valuedouble != (double)threads->valueint) {
            snprintf(err, err_size,
                     "rocky.json: \"threads\" must be an "
                     "integer from 1 to 256");
            code = ROCKY_EINVAL;
            goto out;
        }
        p->threads = threads->valueint;
    }
    code = path_opt(root, "state", p->dir, &p->state_path, err, err_size);
    if (code == 0) {
        char *target = NULL;
        code = path_opt(root, "target", p->dir, &target, err, err_size);
        if (target != NULL) {
            free(p->target_path);
            p->target_path = target;
        }
    }
    cJSON *plugins = cJSON_GetObjectItemCaseSensitive(root, "plugins");
    if (code == 0 && plugins != NULL)
        code = rocky_project_plugins_parse(plugins, p->dir, &p->plugins,
                                           &p->nplugins, err, err_size);
    if (code == 0)
        code = string_list(root, "sources", p->dir, 0, &p->sources,
                           &p->nsources, err, err_size);
    cJSON *retention = cJSON_GetObjectItemCaseSensitive(root, "retention");
    if (code == 0 && retention != NULL)
        code = rocky_retention_parse(retention, &p->retention, err, err_size);
out:
    cJSON_Delete(root);
    return code;
}

/* `fname` is the path under models/ ("orders.sql", "staging/orders.sql");
 * the model's name is the file's stem, whatever folder holds it. */
static int add_model(struct rocky_project *p, const char *models_dir,
                     const char *fname, size_t *cap, char *err, size_t err_size)
{
    size_t len = strlen(fname);
    const char *slash = strrchr(fname, '/');
    const char *base = slash ? slash + 1 : fname;
    size_t stem = strlen(base) - 4;
    if (!valid_name(base, stem)) {
        snprintf(err, err_size,
                 "models/%s: a model file name must be a table name "
                 "(letters, digits, '_', not starting with a digit, "
                 "'sqlite_' or 'rocky_'); rename it",
                 fname);
        return ROCKY_EINVAL;
    }
    if (p->nmodels == *cap) {
        *cap = *cap ? *cap * 2 : 32;
        struct rocky_model_def *m = realloc(p->models, *cap * sizeof *m);
        if (m == NULL)
            return ROCKY_ENOMEM;
        p->models = m;
    }
    struct rocky_model_def *m = &p->models[p->nmodels];
    memset(m, 0, sizeof *m);
    p->nmodels++;
    m->name = strndup(base, stem);
    m->file = malloc(len + 8);
    char *path = rocky_path_join(models_dir, fname);
    if (m->name == NULL || m->file == NULL || path == NULL) {
        free(path);
        return ROCKY_ENOMEM;
    }
    snprintf(m->file, len + 8, "models/%s", fname);
    size_t n = 0;
    char why[256] = "";
    int rc =
        rocky_file_read(path, MODEL_MAX_BYTES, &m->sql, &n, why, sizeof why);
    free(path);
    if (rc == ROCKY_ENOMEM)
        return rc;
    if (rc != 0) {
        snprintf(err, err_size, "cannot read %s/%s: %s%s%s", p->dir, m->file,
                 why, rc == ROCKY_EREFUSED ? " (16 MiB per model file)" : "",
                 read_hint(rc));
        return rc == ROCKY_EIO ? ROCKY_EIO : ROCKY_EINVAL;
    }
    if (strlen(m->sql) != n) {
        snprintf(err, err_size,
                 "%s/%s: contains a NUL byte; a model is SQL "
                 "text",
                 p->dir, m->file);
        return ROCKY_EINVAL;
    }
    rocky_sha256_hex(m->sql, n, m->sql_hash);
    return 0;
}

/* Folders under models/ nest at most this deep (a guard, not a layout). */
#define MODELS_MAX_DEPTH 16

/* Add every *.sql under models_dir/rel (rel "" for models/ itself), in
 * subfolders too. Names starting with '.' are skipped; symbolic links to
 * folders are not followed (no loops), links to files are read. */
static int scan_models(struct rocky_project *p, const char *models_dir,
                       const char *rel, int depth, size_t *cap, char *err,
                       size_t err_size)
{
    char *dir = rel[0] ? rocky_path_join(models_dir, rel) : strdup(models_dir);
    if (dir == NULL)
        return ROCKY_ENOMEM;
    DIR *d = opendir(dir);
    if (d == NULL) {
        snprintf(err, err_size, "cannot read %s/models/%s: %s", p->dir, rel,
                 strerror(errno));
        free(dir);
        return ROCKY_EIO;
    }
    int code = 0;
    struct dirent *e;
    while (code == 0 && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char *child = NULL;
        if (asprintf(&child, "%s%s%s", rel, rel[0] ? "/" : "", e->d_name) < 0) {
            code = ROCKY_ENOMEM;
            break;
        }
        size_t len = strlen(e->d_name);
        /* readdir's type is lstat's (a link is DT_LNK, never followed):
         * one system call less per model. File systems that do not fill
         * it in say DT_UNKNOWN, and get the lstat. */
        int is_dir = e->d_type == DT_DIR;
        if (e->d_type == DT_UNKNOWN) {
            struct stat sb;
            char *full = rocky_path_join(models_dir, child);
            is_dir =
                full != NULL && lstat(full, &sb) == 0 && S_ISDIR(sb.st_mode);
            free(full);
        }
        if (is_dir) {
            if (depth >= MODELS_MAX_DEPTH) {
                snprintf(err, err_size,
                         "%s/models/%s: folders under models/ nest at most "
                         "%d deep",
                         p->dir, child, MODELS_MAX_DEPTH);
                code = ROCKY_EINVAL;
            } else {
                code = scan_models(p, models_dir, child, depth + 1, cap, err,
                                   err_size);
            }
        } else if (len > 4 && strcmp(e->d_name + len - 4, ".sql") == 0) {
            code = add_model(p, models_dir, child, cap, err, err_size);
        }
        free(child);
    }
    closedir(d);
    free(dir);
    return code;
}

static int load_models(struct rocky_project *p, char *err, size_t err_size)
{
    char *models_dir = rocky_path_join(p->dir, "models");
    if (models_dir == NULL)
        return ROCKY_ENOMEM;
    DIR *d = opendir(models_dir);
    if (d == NULL) {
        snprintf(err, err_size,
                 "%s has no readable models/ directory (%s); a project is a "
                 "directory with models/<name>.sql files",
                 p->dir, strerror(errno));
        free(models_dir);
        return ROCKY_ENOTFOUND;
    }
    closedir(d);
    size_t cap = 0;
    int code = scan_models(p, models_dir, "", 0, &cap, err, err_size);
    free(models_dir);
    if (code != 0)
        return code;
    if (p->nmodels == 0) {
        snprintf(err, err_size,
                 "no models in %s/models: add a <name>.sql file holding one "
                 "SELECT",
                 p->dir);
        return ROCKY_ENOTFOUND;
    }
    qsort(p->models, p->nmodels, sizeof *p->models, cmp_models);
    for (size_t i = 1; i < p->nmodels; i++)
        if (strcasecmp(p->models[i - 1].name, p->models[i].name) == 0) {
            snprintf(err, err_size,
                     "%s and %s name the same table (SQLite ignores case); "
                     "rename one",
                     p->models[i - 1].file, p->models[i].file);
            return ROCKY_EINVAL;
        }
    return 0;
}

static void hash_config(struct rocky_project *p, const char *config, size_t len)
{
    struct rocky_sha256 h;
    rocky_sha256_init(&h);
    rocky_sha256_update(&h, config ? config : "", config ? len : 0);
    for (size_t i = 0; i < p->nmodels; i++) {
        rocky_sha256_update(&h, p->models[i].name,
                            strlen(p->models[i].name) + 1);
        rocky_sha256_update(&h, p->models[i].sql_hash, 64);
    }
    uint8_t digest[32];
    rocky_sha256_final(&h, digest);
    for (int i = 0; i < 32; i++)
        snprintf(p->config_hash + 2 * i, 3, "%02x", digest[i]);
}

static char *base_name(const char *dir)
{
    char *copy = strdup(dir);
    if (copy == NULL)
        return NULL;
    size_t n = strlen(copy);
    while (n > 1 && copy[n - 1] == '/')
        copy[--n] = '\0';
    const char *slash = strrchr(copy, '/');
    char *out = strdup(slash && slash[1] ? slash + 1 : copy);
    free(copy);
    if (out != NULL && (strcmp(out, ".") == 0 || strcmp(out, "..") == 0)) {
        char cwd[4096];
        char *real = realpath(dir, cwd);
        if (real != NULL) {
            const char *s = strrchr(real, '/');
            free(out);
            out = strdup(s && s[1] ? s + 1 : real);
        }
    }
    return out;
}

/* Read and apply p->dir/rocky.json (absent: the defaults stand). The text
 * is handed back for the config hash. */
static int read_config(struct rocky_project *p, char **config,
                       size_t *config_len, char *err, size_t err_size)
{
    char *cfg_path = rocky_path_join(p->dir, "rocky.json");
    int code = cfg_path ? 0 : ROCKY_ENOMEM;
    if (code == 0) {
        char why[256] = "";
        int rc = rocky_file_read(cfg_path, CONFIG_MAX_BYTES, config, config_len,
                                 why, sizeof why);
        if (rc == 0)
            code = load_config(p, *config, err, err_size);
        else if (rc == ROCKY_ENOMEM)
            code = rc;
        else if (rc != ROCKY_ENOTFOUND) {
            snprintf(err, err_size, "cannot read %s: %s%s%s", cfg_path, why,
                     rc == ROCKY_EREFUSED ? " (1 MiB for rocky.json)" : "",
                     read_hint(rc));
            code = rc == ROCKY_EIO ? ROCKY_EIO : ROCKY_EINVAL;
        }
    }
    free(cfg_path);
    return code;
}

/* rocky.json of `dir` alone (no models read), for the readers below: a
 * project to free with rocky_project_free, or NULL and a code. */
static struct rocky_project *config_only(const char *dir, int *code, char *err,
                                         size_t err_size)
{
    struct rocky_project *p = calloc(1, sizeof *p);
    *code = ROCKY_ENOMEM;
    if (p == NULL || (p->dir = strdup(dir)) == NULL) {
        rocky_project_free(p);
        return NULL;
    }
    char *config = NULL;
    size_t config_len = 0;
    *code = read_config(p, &config, &config_len, err, err_size);
    free(config);
    if (*code != 0) {
        rocky_project_free(p);
        return NULL;
    }
    return p;
}

int rocky_project_config_state(const char *dir, char **state_path, char *err,
                               size_t err_size)
{
    *state_path = NULL;
    int code;
    struct rocky_project *p = config_only(dir, &code, err, err_size);
    if (p == NULL)
        return code;
    *state_path = p->state_path != NULL
                      ? p->state_path
                      : rocky_path_join(dir, ROCKY_STORE_DEFAULT_FILE);
    p->state_path = NULL;
    rocky_project_free(p);
    return *state_path == NULL ? ROCKY_ENOMEM : 0;
}

int rocky_project_config_retention(const char *dir,
                                   struct rocky_retention *retention, char *err,
                                   size_t err_size)
{
    memset(retention, 0, sizeof *retention);
    int code;
    struct rocky_project *p = config_only(dir, &code, err, err_size);
    if (p == NULL)
        return code;
    *retention = p->retention;
    rocky_project_free(p);
    return 0;
}

int rocky_project_load(const char *dir, struct rocky_project **out, char *err,
                       size_t err_size)
{
    *out = NULL;
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        snprintf(err, err_size,
                 "project directory %s does not exist or is not a directory",
                 dir);
        return ROCKY_ENOTFOUND;
    }
    struct rocky_project *p = calloc(1, sizeof *p);
    if (p == NULL)
        return ROCKY_ENOMEM;
    p->dir = strdup(dir);
    p->name = base_name(dir);
    p->target_path = rocky_path_join(dir, ".rocky/warehouse.db");
    if (p->dir == NULL || p->name == NULL || p->target_path == NULL) {
        rocky_project_free(p);
        return ROCKY_ENOMEM;
    }
    char *config = NULL;
    size_t config_len = 0;
    int code = read_config(p, &config, &config_len, err, err_size);
    if (code == 0)
        code = load_models(p, err, err_size);
    if (code == 0) {
        hash_config(p, config, config_len);
        code = rocky_project_plan(p, err, err_size);
    }
    free(config);
    if (code != 0) {
        rocky_project_free(p);
        return code;
    }
    *out = p;
    return 0;
}

void rocky_project_free(struct rocky_project *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->nmodels; i++) {
        struct rocky_model_def *m = &p->models[i];
        free(m->name);
        free(m->file);
        free(m->sql);
        free(m->deps);
        free(m->rdeps);
        free((void *)m->dep_names);
    }
    free(p->models);
    rocky_project_plugins_free(p->plugins, p->nplugins);
    for (size_t i = 0; i < p->nsources; i++)
        free(p->sources[i]);
    free(p->sources);
    for (size_t i = 0; i < p->nwarnings; i++)
        free(p->warnings[i]);
    free(p->warnings);
    free(p->order);
    free(p->dir);
    free(p->name);
    free(p->state_path);
    free(p->target_path);
    free(p);
}

/* The canonical name of `path`, existing or not: realpath when it resolves;
 * a dangling symlink followed to where it points (a few levels); else the
 * canonical name of its directory joined with its last component ("." and
 * ".." after a missing directory taken lexically: a missing directory is
 * no symlink). NULL when out of memory or too many links. */
static char *canonical_path(const char *path, int depth)
{
    char *real = realpath(path, NULL);
    if (real != NULL || depth > 32)
        return real;
    char *copy = strdup(path);
    if (copy == NULL)
        return NULL;
    char *slash = strrchr(copy, '/');
    const char *dir = slash == NULL ? "." : slash == copy ? "/" : copy;
    const char *base = slash == NULL ? copy : slash + 1;
    if (slash != NULL && slash != copy)
        *slash = '\0';
    char *out = NULL;
    char link[4096];
    struct stat sb;
    ssize_t n = -1;
    if (lstat(path, &sb) == 0 && S_ISLNK(sb.st_mode))
        n = readlink(path, link, sizeof link - 1);
    if (n > 0) {
        link[n] = '\0';
        char *next = NULL;
        if (link[0] == '/' ? asprintf(&next, "%s", link) >= 0
                           : asprintf(&next, "%s/%s", dir, link) >= 0) {
            out = canonical_path(next, depth + 1);
            free(next);
        }
    } else {
        char *cdir = canonical_path(dir, depth + 1);
        if (cdir != NULL && (base[0] == '\0' || strcmp(base, ".") == 0)) {
            out = cdir;
            cdir = NULL;
        } else if (cdir != NULL && strcmp(base, "..") == 0) {
            char *up = strrchr(cdir, '/');
            if (up != NULL)
                up[up == cdir] = '\0'; /* "/a" -> "/", "/a/b" -> "/a" */
            out = cdir;
            cdir = NULL;
        } else if (cdir != NULL &&
                   asprintf(&out, "%s/%s", strcmp(cdir, "/") == 0 ? "" : cdir,
                            base) < 0) {
            out = NULL;
        }
        free(cdir);
    }
    free(copy);
    return out;
}

int rocky_project_check_target(const struct rocky_project *p,
                               const char *state_path, char *err,
                               size_t err_size)
{
    struct stat t, s;
    int same;
    if (stat(p->target_path, &t) == 0 && stat(state_path, &s) == 0) {
        same = t.st_dev == s.st_dev && t.st_ino == s.st_ino;
    } else {
        char *a = canonical_path(p->target_path, 0);
        char *b = canonical_path(state_path, 0);
        same = a != NULL && b != NULL && strcmp(a, b) == 0;
        free(a);
        free(b);
    }
    if (!same)
        return 0;
    snprintf(err, err_size,
             "the target database %s is the state store %s: the models' "
             "tables would be written into the run history; point \"target\" "
             "in rocky.json and the state store (--state, ROCKY_STATE or "
             "\"state\") at different files",
             p->target_path, state_path);
    return ROCKY_EINVAL;
}
