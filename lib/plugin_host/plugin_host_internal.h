/*
 * plugin_host_internal.h — the plugin set's data, shared by the files of
 * lib/plugin_host/ (plugin_host.c: the set, fan-out and lifecycle;
 * plugin_load.c: libraries and instance creation; plugin_services.c: the
 * services table). Not installed, not for other components.
 */
#ifndef ROCKY_PLUGIN_HOST_INTERNAL_H
#define ROCKY_PLUGIN_HOST_INTERNAL_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

#include "plugin_host.h"

/* Which callback failed, for "report once per instance and callback". */
enum rocky_callback_kind { CB_EVENT, CB_FLUSH, CB_STOP, CB_COUNT };

/* One dlopened file, shared by its instances. */
struct plugin_library {
    char *path; /* as resolved ("./x.so" for "x.so") */
    void *dl;
    dev_t dev; /* the file's identity (stat, links followed): a symlink or */
    ino_t ino; /* hard link to a loaded file is that library, not another */
    struct rocky_plugin desc; /* host-sized copy; fields the plugin did not
                                 have are zero (= NULL callbacks) */
    struct rocky_host_api entry_api; /* the table the entry point saw */
    size_t instances;                /* created, not yet freed */
    int keep_loaded; /* an instance's stop timed out, or it was never
                        stopped: code of it may still run */
    int leak;        /* a forfeit instance still points into it: never freed */
};

/* One created instance. Everything here that the plugin was handed lives
 * until after its destroy returned. */
struct plugin_instance {
    struct plugin_library *lib;
    char *name;
    struct rocky_config_entry *config; /* keys and values owned */
    size_t config_count;
    struct rocky_instance_info info;
    struct rocky_host_api api; /* host_ctx = this instance */
    void *state;
    uint32_t minor; /* the plugin's ABI minor: which event types it gets */
    atomic_int error_reported[CB_COUNT];
    /* Events the host gave up on for this instance (ROCKY_EAGAIN in a live
     * run, or still full at a paced emit's deadline): dropped, by the ABI. */
    _Atomic uint64_t refused;
    int stopped; /* stop returned */
    int stop_rc; /* what it returned */
    /* Its stop report, the host's count of given-up events folded in as
     * dropped (instance_flush); valid once `stopped`. */
    struct rocky_delivery_report stop_report;
    int forfeit;   /* an on_event never returned: no stop, no destroy */
    int destroyed; /* destroy returned */
};

struct rocky_plugin_set {
    char *host_version;
    char *project_dir, *state_path; /* for instance info; may be NULL */
    uint32_t capabilities;
    struct plugin_library **libs;
    size_t nlibs;
    struct plugin_instance **instances;
    size_t count;
    /* emit gate: stop sets `closed`, then waits for `in_flight` to drain.
     * Both sides use seq_cst so that either emit sees `closed` or stop sees
     * the emit counted in (Dekker's pattern). */
    atomic_int closed;
    atomic_long in_flight;
    int stop_done;
    int stop_rc;
    struct rocky_delivery_report stop_report;
};

/* plugin_services.c: fill the services table of `inst` (host_ctx = inst),
 * or the library-level table an entry point sees (host_ctx = lib; only its
 * versions and log work there). */
void rocky_plugin_services_fill(struct rocky_host_api *api,
                                const struct rocky_plugin_set *set,
                                struct plugin_instance *inst);
void rocky_plugin_services_fill_entry(struct rocky_host_api *api,
                                      const struct rocky_plugin_set *set,
                                      struct plugin_library *lib);

/* plugin_load.c: free one instance's host-side memory (after its destroy,
 * or at the end for a forfeit one, whose memory stays) and unload its
 * library once no instance uses it and no code of it may still run. */
void rocky_plugin_instance_release(struct rocky_plugin_set *set,
                                   struct plugin_instance *inst);

/* plugin_host.c: log the first failure of `kind` of `inst`, once. */
void rocky_plugin_report_once(struct plugin_instance *inst,
                              enum rocky_callback_kind kind, int rc);

#endif
