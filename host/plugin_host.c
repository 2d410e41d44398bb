/* plugin_host.c — load plugins, fan events out, flush and shut them down.
 * See plugin_host.h for the contract. */
#include "plugin_host.h"

#include <dlfcn.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "clock.h"
#include "log.h"

/* Which callback failed, for "report once per plugin and callback". */
enum callback_kind { CB_EVENT, CB_FLUSH, CB_SHUTDOWN, CB_COUNT };
static const char *const callback_names[CB_COUNT] = {"on_event", "flush",
                                                     "shutdown"};

struct loaded_plugin {
    char *path;
    char *name; /* as the plugin reported it (path until then) */
    void *dl;
    struct rocky_plugin desc; /* host-sized copy; fields the plugin did not
                                 have are zero (= NULL callbacks) */
    void *state;
    struct rocky_host_api api; /* this plugin's services table */
    atomic_int error_reported[CB_COUNT];
    int shutdown_called; /* shutdown returned: no plugin thread left */
};

struct rocky_plugin_set {
    char *host_version;
    struct loaded_plugin **plugins;
    size_t count;
    /* emit gate: shutdown sets `closed`, then waits for `in_flight` to drain.
     * Both sides use seq_cst so that either emit sees `closed` or shutdown
     * sees the emit counted in (Dekker's pattern). */
    atomic_int closed;
    atomic_long in_flight;
    int shutdown_done;
    int shutdown_rc;
    struct rocky_delivery_report shutdown_report;
};

static void plugin_log(void *host_ctx, int level, const char *message)
{
    const struct loaded_plugin *p = host_ctx;
    rocky_log(level, "plugin %s: %s", p->name, message ? message : "(null)");
}

int rocky_plugin_set_new(const char *host_version,
                         struct rocky_plugin_set **out)
{
    struct rocky_plugin_set *set = calloc(1, sizeof *set);
    if (set == NULL)
        return ROCKY_ENOMEM;
    set->host_version = strdup(host_version ? host_version : "unknown");
    if (set->host_version == NULL) {
        free(set);
        return ROCKY_ENOMEM;
    }
    atomic_init(&set->closed, 0);
    atomic_init(&set->in_flight, 0);
    *out = set;
    return 0;
}

static void free_plugin(struct loaded_plugin *p)
{
    if (p == NULL)
        return;
    free(p->path);
    free(p->name);
    free(p);
}

/* The failure line every loader error produces: names the file and the
 * reason, and says the run goes on. */
static int load_failed(struct loaded_plugin *p, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int load_failed(struct loaded_plugin *p, int code, const char *fmt, ...)
{
    char reason[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    rocky_log(ROCKY_LOG_WARN, "plugin %s: %s; continuing without it", p->path,
              reason);
    if (p->dl != NULL)
        dlclose(p->dl);
    free_plugin(p);
    return code;
}

/* Check the plugin's descriptor and copy it into p->desc, host-sized. */
static int adopt_descriptor(struct loaded_plugin *p,
                            const struct rocky_plugin *desc)
{
    const uint32_t host_major = ROCKY_PLUGIN_ABI_MAJOR;
    if (desc->struct_size < offsetof(struct rocky_plugin, name))
        return load_failed(p, ROCKY_EINVAL,
                           "descriptor too small (%u bytes); not a rocky "
                           "plugin descriptor",
                           desc->struct_size);
    const uint32_t v = desc->abi_version;
    const uint32_t major = ROCKY_PLUGIN_ABI_MAJOR_OF(v);
    if (major != host_major)
        return load_failed(
            p, ROCKY_EVERSION,
            "plugin ABI %u.%u is too %s for this rocky (plugin ABI %u.%u); "
            "%s",
            major, ROCKY_PLUGIN_ABI_MINOR_OF(v),
            major < host_major ? "old" : "new", host_major,
            (unsigned)ROCKY_PLUGIN_ABI_MINOR,
            major < host_major ? "rebuild the plugin against this rocky's "
                                 "rocky/plugin.h"
                               : "upgrade rocky or use a plugin built for "
                                 "ABI 1.x");
    size_t n =
        desc->struct_size < sizeof p->desc ? desc->struct_size : sizeof p->desc;
    memset(&p->desc, 0, sizeof p->desc);
    memcpy(&p->desc, desc, n);
    if (!ROCKY_STRUCT_HAS(&p->desc, struct rocky_plugin, version) ||
        p->desc.name == NULL || p->desc.name[0] == '\0' ||
        p->desc.version == NULL)
        return load_failed(p, ROCKY_EINVAL,
                           "descriptor has no name or version");
    char *name = strdup(p->desc.name);
    if (name == NULL)
        return load_failed(p, ROCKY_ENOMEM, "out of memory");
    free(p->name);
    p->name = name;
    return 0;
}

int rocky_plugin_set_load(struct rocky_plugin_set *set, const char *path)
{
    if (set == NULL || path == NULL || *path == '\0')
        return ROCKY_EINVAL;
    struct loaded_plugin *p = calloc(1, sizeof *p);
    if (p == NULL)
        return ROCKY_ENOMEM;
    /* dlopen searches the library path for names without a slash; a user who
     * writes --plugin foo.so means the file here. */
    size_t len = strlen(path);
    p->path = malloc(len + 3);
    p->name = strdup(path);
    if (p->path == NULL || p->name == NULL) {
        free_plugin(p);
        return ROCKY_ENOMEM;
    }
    snprintf(p->path, len + 3, "%s%s", strchr(path, '/') ? "" : "./", path);
    for (int i = 0; i < CB_COUNT; i++)
        atomic_init(&p->error_reported[i], 0);

    struct stat st;
    if (stat(p->path, &st) != 0)
        return load_failed(p, ROCKY_ENOTFOUND, "file not found");
    if (!S_ISREG(st.st_mode))
        return load_failed(p, ROCKY_ECORRUPT, "not a regular file");

    p->dl = dlopen(p->path, RTLD_NOW | RTLD_LOCAL);
    if (p->dl == NULL) {
        const char *why = dlerror();
        return load_failed(p, ROCKY_ECORRUPT,
                           "not a loadable shared object (%s)",
                           why ? why : "unknown dlopen error");
    }
    for (size_t i = 0; i < set->count; i++)
        if (set->plugins[i]->dl == p->dl) {
            /* dlopen returned the same handle: drop our extra reference. */
            return load_failed(p, ROCKY_EEXIST, "already loaded");
        }

    /* dlsym returns void*; POSIX guarantees it converts to a function
     * pointer, C does not, hence the memcpy. */
    void *sym = dlsym(p->dl, ROCKY_PLUGIN_ENTRY_SYMBOL);
    if (sym == NULL)
        return load_failed(p, ROCKY_ECORRUPT,
                           "no entry symbol '%s' (build the plugin with "
                           "ROCKY_PLUGIN_EXPORT on its entry function)",
                           ROCKY_PLUGIN_ENTRY_SYMBOL);
    rocky_plugin_entry_fn entry;
    memcpy(&entry, &sym, sizeof entry);

    p->api.struct_size = sizeof p->api;
    p->api.abi_version = ROCKY_PLUGIN_ABI_VERSION;
    p->api.host_name = "rocky";
    p->api.host_version = set->host_version;
    p->api.host_ctx = p;
    p->api.log = plugin_log;

    const struct rocky_plugin *desc = entry(&p->api);
    if (desc == NULL)
        return load_failed(p, ROCKY_ECORRUPT,
                           "entry '%s' returned NULL (the plugin refused to "
                           "load)",
                           ROCKY_PLUGIN_ENTRY_SYMBOL);
    int rc = adopt_descriptor(p, desc);
    if (rc != 0)
        return rc; /* p already freed and reported */

    if (p->desc.init != NULL) {
        char err[512] = "";
        rc = p->desc.init(&p->api, &p->state, err, sizeof err);
        if (rc != 0) {
            err[sizeof err - 1] = '\0';
            return load_failed(p, ROCKY_EREFUSED, "init failed (%s): %s",
                               rocky_err_name(rc),
                               err[0] ? err : rocky_strerror(rc));
        }
    }

    struct loaded_plugin **grown =
        realloc(set->plugins, (set->count + 1) * sizeof *grown);
    if (grown == NULL) {
        /* init succeeded: undo it before giving up on the plugin. */
        if (p->desc.shutdown != NULL)
            p->desc.shutdown(p->state, rocky_clock_mono_ns(), NULL);
        return load_failed(p, ROCKY_ENOMEM, "out of memory");
    }
    set->plugins = grown;
    set->plugins[set->count++] = p;
    rocky_log(ROCKY_LOG_DEBUG, "plugin %s: loaded %s %s (ABI %u.%u)", p->path,
              p->name, p->desc.version,
              ROCKY_PLUGIN_ABI_MAJOR_OF(p->desc.abi_version),
              ROCKY_PLUGIN_ABI_MINOR_OF(p->desc.abi_version));
    return 0;
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

size_t rocky_plugin_set_count(const struct rocky_plugin_set *set)
{
    return set ? set->count : 0;
}

const char *rocky_plugin_set_name(const struct rocky_plugin_set *set,
                                  size_t index)
{
    if (set == NULL || index >= set->count)
        return NULL;
    return set->plugins[index]->name;
}

/* First failure of a callback kind per plugin is reported; the rest are
 * counted by the plugin itself, not repeated on the runner's output. */
static void report_once(struct loaded_plugin *p, enum callback_kind kind,
                        int rc)
{
    if (atomic_exchange(&p->error_reported[kind], 1) == 0)
        rocky_log(ROCKY_LOG_WARN,
                  "plugin %s: %s failed: %s (%s); further %s errors of this "
                  "plugin are not reported",
                  p->name, callback_names[kind], rocky_strerror(rc),
                  rocky_err_name(rc), callback_names[kind]);
}

void rocky_plugin_set_emit_new(struct rocky_plugin_set *set, uint32_t type,
                               uint32_t flags, const struct rocky_run *run,
                               const struct rocky_model_exec *model,
                               int64_t wall_ns, int64_t mono_ns)
{
    struct rocky_event ev;
    memset(&ev, 0, sizeof ev);
    ev.struct_size = sizeof ev;
    ev.type = type;
    ev.flags = flags;
    ev.wall_ns = wall_ns;
    ev.mono_ns = mono_ns;
    ev.run = run;
    ev.model = model;
    rocky_plugin_set_emit(set, &ev);
}

void rocky_plugin_set_emit(struct rocky_plugin_set *set,
                           const struct rocky_event *event)
{
    if (set == NULL || set->count == 0)
        return;
    atomic_fetch_add(&set->in_flight, 1);
    if (atomic_load(&set->closed) == 0) {
        for (size_t i = 0; i < set->count; i++) {
            struct loaded_plugin *p = set->plugins[i];
            if (p->desc.on_event == NULL)
                continue;
            int rc = p->desc.on_event(p->state, event);
            if (rc < 0)
                report_once(p, CB_EVENT, rc);
        }
    }
    atomic_fetch_sub(&set->in_flight, 1);
}

static void add_report(struct rocky_delivery_report *total,
                       const struct rocky_delivery_report *r)
{
    total->accepted += r->accepted;
    total->delivered += r->delivered;
    total->dropped += r->dropped;
    total->pending += r->pending;
}

/* Call flush or shutdown on every plugin (those still alive for flush) and
 * fold the outcome into one result code, as documented in plugin_host.h. */
static int for_each_delivery(struct rocky_plugin_set *set,
                             enum callback_kind kind, int64_t deadline,
                             struct rocky_delivery_report *total)
{
    struct rocky_delivery_report sum = {.struct_size = sizeof sum};
    int failed = 0;
    for (size_t i = 0; i < set->count; i++) {
        struct loaded_plugin *p = set->plugins[i];
        int (*fn)(void *, int64_t, struct rocky_delivery_report *) =
            kind == CB_FLUSH ? p->desc.flush : p->desc.shutdown;
        struct rocky_delivery_report r = {.struct_size = sizeof r};
        if (fn != NULL) {
            int rc = fn(p->state, deadline, &r);
            if (rc < 0 && rc != ROCKY_ETIMEDOUT) {
                report_once(p, kind, rc);
                failed = 1;
            }
        }
        if (kind == CB_SHUTDOWN)
            p->shutdown_called = 1;
        add_report(&sum, &r);
    }
    if (total != NULL)
        *total = sum;
    if (failed || sum.dropped > 0)
        return ROCKY_EIO;
    if (sum.pending > 0)
        return ROCKY_ETIMEDOUT;
    return 0;
}

int rocky_plugin_set_flush(struct rocky_plugin_set *set,
                           int64_t deadline_mono_ns,
                           struct rocky_delivery_report *total)
{
    if (set == NULL)
        return ROCKY_EINVAL;
    if (set->shutdown_done) {
        if (total != NULL)
            *total = set->shutdown_report;
        return set->shutdown_rc;
    }
    return for_each_delivery(set, CB_FLUSH, deadline_mono_ns, total);
}

/* Wait until no emit is inside a plugin callback, or the deadline. */
static int wait_for_emits(struct rocky_plugin_set *set, int64_t deadline)
{
    while (atomic_load(&set->in_flight) != 0) {
        if (rocky_clock_mono_ns() >= deadline)
            return ROCKY_ETIMEDOUT;
        struct timespec pause = {0, 100 * 1000};
        nanosleep(&pause, NULL);
    }
    return 0;
}

int rocky_plugin_set_shutdown(struct rocky_plugin_set *set,
                              int64_t deadline_mono_ns,
                              struct rocky_delivery_report *total)
{
    if (set == NULL)
        return ROCKY_EINVAL;
    if (!set->shutdown_done) {
        /* 1. stop new events; 2. let in-flight callbacks return (the ABI
         * promises plugins no on_event concurrent with shutdown); 3. shut
         * every plugin down within the one deadline. */
        atomic_store(&set->closed, 1);
        if (wait_for_emits(set, deadline_mono_ns) != 0) {
            rocky_log(ROCKY_LOG_WARN,
                      "plugins: an event callback did not return before the "
                      "shutdown deadline; plugins left running, their "
                      "telemetry is not confirmed");
            set->shutdown_rc = ROCKY_ETIMEDOUT;
            set->shutdown_report.struct_size = sizeof set->shutdown_report;
        } else {
            set->shutdown_rc = for_each_delivery(
                set, CB_SHUTDOWN, deadline_mono_ns, &set->shutdown_report);
        }
        set->shutdown_done = 1;
    }
    if (total != NULL)
        *total = set->shutdown_report;
    return set->shutdown_rc;
}

void rocky_plugin_set_free(struct rocky_plugin_set *set)
{
    if (set == NULL)
        return;
    rocky_plugin_set_shutdown(set, rocky_clock_mono_ns(), NULL);
    for (size_t i = 0; i < set->count; i++) {
        struct loaded_plugin *p = set->plugins[i];
        /* Never unload code that may still run on a plugin thread. */
        if (p->shutdown_called)
            dlclose(p->dl);
        free_plugin(p);
    }
    free(set->plugins);
    free(set->host_version);
    free(set);
}
