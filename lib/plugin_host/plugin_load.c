/* plugin_load.c — open plugin libraries, negotiate their ABI, create
 * instances (see plugin_host.h for the contract and the messages). */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "plugin_host_internal.h"

/* The failure line every loader error produces: names the file and the
 * reason, and says the run goes on. */
static int vload_failed(const char *path, int code, const char *fmt, va_list ap)
{
    char reason[1024];
    vsnprintf(reason, sizeof reason, fmt, ap);
    rocky_log(ROCKY_LOG_WARN, "plugin %s: %s; continuing without it", path,
              reason);
    return code;
}

static int load_failed(const char *path, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int load_failed(const char *path, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vload_failed(path, code, fmt, ap);
    va_end(ap);
    return code;
}

static void free_library(struct plugin_library *lib)
{
    if (lib == NULL)
        return;
    if (lib->dl != NULL)
        dlclose(lib->dl);
    free(lib->path);
    free(lib);
}

/* Check the plugin's descriptor and copy it into lib->desc, host-sized. */
static int adopt_descriptor(struct plugin_library *lib,
                            const struct rocky_plugin *desc)
{
    const uint32_t host_major = ROCKY_PLUGIN_ABI_MAJOR;
    if (desc->struct_size < offsetof(struct rocky_plugin, name))
        return load_failed(lib->path, ROCKY_EINVAL,
                           "descriptor too small (%u bytes); not a rocky "
                           "plugin descriptor",
                           desc->struct_size);
    const uint32_t v = desc->abi_version;
    const uint32_t major = ROCKY_PLUGIN_ABI_MAJOR_OF(v);
    if (major != host_major)
        return load_failed(
            lib->path, ROCKY_EVERSION,
            "plugin ABI %u.%u is too %s for this rocky (plugin ABI %u.%u); "
            "%s",
            major, ROCKY_PLUGIN_ABI_MINOR_OF(v),
            major < host_major ? "old" : "new", host_major,
            (unsigned)ROCKY_PLUGIN_ABI_MINOR,
            major < host_major
                ? "port it to ABI 2.0 (create/stop/destroy instead of "
                  "init/shutdown: 'Migrating from ABI 1.x' in "
                  "rocky/plugin.h) and rebuild it against this rocky's "
                  "headers"
                : "upgrade rocky or use a build of the plugin for ABI 2.x");
    size_t n = desc->struct_size < sizeof lib->desc ? desc->struct_size
                                                    : sizeof lib->desc;
    memset(&lib->desc, 0, sizeof lib->desc);
    memcpy(&lib->desc, desc, n);
    if (!ROCKY_STRUCT_HAS(&lib->desc, struct rocky_plugin, version) ||
        lib->desc.name == NULL || lib->desc.name[0] == '\0' ||
        lib->desc.version == NULL)
        return load_failed(lib->path, ROCKY_EINVAL,
                           "descriptor has no name or version");
    if (!ROCKY_STRUCT_HAS(&lib->desc, struct rocky_plugin, destroy) ||
        lib->desc.create == NULL || lib->desc.destroy == NULL)
        return load_failed(lib->path, ROCKY_EINVAL,
                           "descriptor has no create or destroy callback "
                           "(both are required by ABI 2.0: see section 3 of "
                           "rocky/plugin.h, then rebuild the plugin)");
    return 0;
}

/* Open `path` and negotiate, or find it among the set's libraries: the
 * same file (device and inode, so a symlink or a hard link to it is that
 * library, whatever the loader would do) or the same dlopen handle. */
static int open_library(struct rocky_plugin_set *set, const char *given,
                        struct plugin_library **out)
{
    struct plugin_library *lib = calloc(1, sizeof *lib);
    if (lib == NULL)
        return ROCKY_ENOMEM;
    /* dlopen searches the library path for names without a slash; a user
     * who writes --plugin foo.so means the file here. */
    size_t len = strlen(given);
    lib->path = malloc(len + 3);
    if (lib->path == NULL) {
        free(lib);
        return ROCKY_ENOMEM;
    }
    snprintf(lib->path, len + 3, "%s%s", strchr(given, '/') ? "" : "./", given);
    int rc;
    struct stat st;
    if (stat(lib->path, &st) != 0) {
        rc = load_failed(lib->path, ROCKY_ENOTFOUND, "file not found");
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = load_failed(lib->path, ROCKY_ECORRUPT, "not a regular file");
        goto fail;
    }
    for (size_t i = 0; i < set->nlibs; i++)
        if (set->libs[i]->dev == st.st_dev && set->libs[i]->ino == st.st_ino) {
            free_library(lib);
            *out = set->libs[i];
            return 0;
        }
    lib->dev = st.st_dev;
    lib->ino = st.st_ino;
    lib->dl = dlopen(lib->path, RTLD_NOW | RTLD_LOCAL);
    if (lib->dl == NULL) {
        const char *why = dlerror();
        rc = load_failed(lib->path, ROCKY_ECORRUPT,
                         "not a loadable shared object (%s)",
                         why ? why : "unknown dlopen error");
        goto fail;
    }
    for (size_t i = 0; i < set->nlibs; i++)
        if (set->libs[i]->dl == lib->dl) {
            free_library(lib); /* drops our extra dlopen reference */
            *out = set->libs[i];
            return 0;
        }

    /* dlsym returns void*; POSIX guarantees it converts to a function
     * pointer, C does not, hence the memcpy. */
    void *sym = dlsym(lib->dl, ROCKY_PLUGIN_ENTRY_SYMBOL);
    if (sym == NULL) {
        rc = load_failed(lib->path, ROCKY_ECORRUPT,
                         "no entry symbol '%s' (build the plugin with "
                         "ROCKY_PLUGIN_EXPORT on its entry function)",
                         ROCKY_PLUGIN_ENTRY_SYMBOL);
        goto fail;
    }
    rocky_plugin_entry_fn entry;
    memcpy(&entry, &sym, sizeof entry);
    rocky_plugin_services_fill_entry(&lib->entry_api, set, lib);
    const struct rocky_plugin *desc = entry(&lib->entry_api);
    if (desc == NULL) {
        rc = load_failed(lib->path, ROCKY_ECORRUPT,
                         "entry '%s' returned NULL (the plugin refused to "
                         "load; a plugin built for another ABI major does "
                         "this: this rocky speaks plugin ABI %u.%u)",
                         ROCKY_PLUGIN_ENTRY_SYMBOL,
                         (unsigned)ROCKY_PLUGIN_ABI_MAJOR,
                         (unsigned)ROCKY_PLUGIN_ABI_MINOR);
        goto fail;
    }
    rc = adopt_descriptor(lib, desc);
    if (rc != 0)
        goto fail;
    struct plugin_library **grown =
        realloc(set->libs, (set->nlibs + 1) * sizeof *grown);
    if (grown == NULL) {
        rc = load_failed(lib->path, ROCKY_ENOMEM, "out of memory");
        goto fail;
    }
    set->libs = grown;
    set->libs[set->nlibs++] = lib;
    *out = lib;
    return 0;
fail:
    free_library(lib);
    return rc;
}

static void free_instance(struct plugin_instance *inst)
{
    if (inst == NULL)
        return;
    for (size_t i = 0; i < inst->config_count; i++) {
        free((char *)inst->config[i].key);
        free((char *)inst->config[i].value);
    }
    free(inst->config);
    free(inst->name);
    free(inst);
}

/* Copy the spec's configuration; duplicate keys are the caller's error. */
static int copy_config(struct plugin_instance *inst,
                       const struct rocky_plugin_spec *spec, char *err,
                       size_t err_size)
{
    if (spec->config_count == 0)
        return 0;
    inst->config = calloc(spec->config_count, sizeof *inst->config);
    if (inst->config == NULL)
        return ROCKY_ENOMEM;
    for (size_t i = 0; i < spec->config_count; i++) {
        const struct rocky_config_entry *c = &spec->config[i];
        if (c->key == NULL || c->value == NULL || c->key[0] == '\0') {
            snprintf(err, err_size, "config entry %zu has no key or value",
                     i + 1);
            return ROCKY_EINVAL;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(spec->config[j].key, c->key) == 0) {
                snprintf(err, err_size, "config key '%s' is given twice",
                         c->key);
                return ROCKY_EINVAL;
            }
        char *k = strdup(c->key), *v = strdup(c->value);
        inst->config[i].key = k;
        inst->config[i].value = v;
        inst->config_count = i + 1;
        if (k == NULL || v == NULL)
            return ROCKY_ENOMEM;
    }
    return 0;
}

static struct plugin_instance *find_instance(struct rocky_plugin_set *set,
                                             const char *name)
{
    for (size_t i = 0; i < set->count; i++)
        if (strcmp(set->instances[i]->name, name) == 0)
            return set->instances[i];
    return NULL;
}

/* An instance of the same plugin as `lib`: the same library (file), or a
 * copy of it elsewhere — the same descriptor name and version. */
static struct plugin_instance *same_plugin(struct rocky_plugin_set *set,
                                           const struct plugin_library *lib)
{
    for (size_t i = 0; i < set->count; i++) {
        const struct plugin_library *other = set->instances[i]->lib;
        if (other == lib ||
            (strcmp(other->desc.name, lib->desc.name) == 0 &&
             strcmp(other->desc.version, lib->desc.version) == 0))
            return set->instances[i];
    }
    return NULL;
}

/* A library no instance uses any more (its only create failed): unload it
 * and forget it, so the set is unchanged by a failed load. */
static void drop_unused_library(struct rocky_plugin_set *set,
                                struct plugin_library *lib)
{
    if (lib->instances > 0)
        return;
    for (size_t i = 0; i < set->nlibs; i++)
        if (set->libs[i] == lib) {
            set->libs[i] = set->libs[--set->nlibs];
            break;
        }
    free_library(lib);
}

/* A load that got as far as the library: report it under the library's
 * path (as every loader line names it), then unload the library if no
 * instance uses it. Reported first: the message may point into the
 * library (its descriptor's name). */
static int refuse(struct rocky_plugin_set *set, struct plugin_library *lib,
                  int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int refuse(struct rocky_plugin_set *set, struct plugin_library *lib,
                  int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vload_failed(lib->path, code, fmt, ap);
    va_end(ap);
    drop_unused_library(set, lib);
    return code;
}

int rocky_plugin_set_load_spec(struct rocky_plugin_set *set,
                               const struct rocky_plugin_spec *spec)
{
    if (set == NULL || spec == NULL || spec->path == NULL ||
        spec->path[0] == '\0' || (spec->config_count > 0 && !spec->config))
        return ROCKY_EINVAL;
    struct plugin_library *lib = NULL;
    int rc = open_library(set, spec->path, &lib);
    if (rc != 0)
        return rc;
    int named = spec->name && spec->name[0];
    const char *name = named ? spec->name : lib->desc.name;
    /* Instances are a feature, so a plugin may be loaded again under a
     * name given on purpose; without one, a second load of the same plugin
     * (this file through another path, or a copy of it) is a mistake that
     * would send every span and metric twice. */
    const struct plugin_instance *twin = named ? NULL : same_plugin(set, lib);
    if (twin != NULL) {
        return refuse(set, lib, ROCKY_EEXIST,
                      "already loaded as instance '%s' (%s %s, %s%s); a "
                      "second instance without a \"name\" would send "
                      "everything twice: give each instance of a plugin its "
                      "own \"name\" in rocky.json",
                      twin->name, lib->desc.name, lib->desc.version,
                      twin->lib == lib ? "the same file as " : "a copy of ",
                      twin->lib->path);
    }
    if (find_instance(set, name) != NULL) {
        return refuse(set, lib, ROCKY_EEXIST,
                      "already loaded as instance '%s' (give each instance "
                      "of a plugin its own \"name\" in rocky.json)",
                      name);
    }
    struct plugin_instance *inst = calloc(1, sizeof *inst);
    char err[512] = "";
    if (inst == NULL || (inst->name = strdup(name)) == NULL) {
        free(inst);
        return refuse(set, lib, ROCKY_ENOMEM, "out of memory");
    }
    rc = copy_config(inst, spec, err, sizeof err);
    struct plugin_instance **grown =
        rc == 0 ? realloc(set->instances, (set->count + 1) * sizeof *grown)
                : NULL;
    if (rc != 0 || grown == NULL) {
        free_instance(inst);
        if (rc == 0 || rc == ROCKY_ENOMEM)
            return refuse(set, lib, ROCKY_ENOMEM, "out of memory");
        return refuse(set, lib, rc, "%s", err);
    }
    set->instances = grown;
    inst->lib = lib;
    inst->minor = ROCKY_PLUGIN_ABI_MINOR_OF(lib->desc.abi_version);
    for (int i = 0; i < CB_COUNT; i++)
        atomic_init(&inst->error_reported[i], 0);
    atomic_init(&inst->refused, 0);
    inst->info.struct_size = sizeof inst->info;
    inst->info.config_count = (uint32_t)inst->config_count;
    inst->info.instance_name = inst->name;
    inst->info.path = lib->path;
    inst->info.project_dir = set->project_dir;
    inst->info.state_path = set->state_path;
    inst->info.config = inst->config;
    rocky_plugin_services_fill(&inst->api, set, inst);

    rc = lib->desc.create(&inst->api, &inst->info, &inst->state, err,
                          sizeof err);
    if (rc != 0) {
        err[sizeof err - 1] = '\0';
        free_instance(inst);
        return refuse(set, lib, ROCKY_EREFUSED, "create failed (%s): %s",
                      rocky_err_name(rc), err[0] ? err : rocky_strerror(rc));
    }
    lib->instances++;
    set->instances[set->count++] = inst;
    rocky_log(ROCKY_LOG_DEBUG, "plugin %s: loaded %s %s (ABI %u.%u) as '%s'",
              lib->path, lib->desc.name, lib->desc.version,
              ROCKY_PLUGIN_ABI_MAJOR_OF(lib->desc.abi_version), inst->minor,
              inst->name);
    return 0;
}

int rocky_plugin_set_load(struct rocky_plugin_set *set, const char *path)
{
    struct rocky_plugin_spec spec = {.path = path};
    return rocky_plugin_set_load_spec(set, &spec);
}

size_t rocky_plugin_set_load_list(struct rocky_plugin_set *set,
                                  const char *list)
{
    size_t tried = 0;
    while (list != NULL && *list != '\0') {
        const char *end = strchr(list, ':');
        size_t len = end ? (size_t)(end - list) : strlen(list);
        if (len > 0) {
            char *path = strndup(list, len);
            if (path == NULL)
                break;
            rocky_plugin_set_load(set, path);
            free(path);
            tried++;
        }
        list = end ? end + 1 : NULL;
    }
    return tried;
}

void rocky_plugin_instance_release(struct rocky_plugin_set *set,
                                   struct plugin_instance *inst)
{
    struct plugin_library *lib = inst->lib;
    if (!inst->destroyed || inst->stop_rc == ROCKY_ETIMEDOUT)
        lib->keep_loaded = 1;
    /* A forfeit instance may still be inside on_event: what it was handed
     * (its table, info, config, the library's path) stays for good. */
    if (inst->forfeit) {
        lib->keep_loaded = 1;
        lib->leak = 1;
    } else {
        free_instance(inst);
    }
    if (--lib->instances == 0) {
        for (size_t i = 0; i < set->nlibs; i++)
            if (set->libs[i] == lib) {
                set->libs[i] = set->libs[--set->nlibs];
                break;
            }
        if (lib->keep_loaded) /* never unload code that may still run */
            lib->dl = NULL;
        if (!lib->leak)
            free_library(lib);
    }
}
