/* plugin_host.c — the plugin set: fan-out, backpressure, flush, stop and
 * destroy. See plugin_host.h for the contract; loading is plugin_load.c. */
#include "plugin_host.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "log.h"
#include "plugin_host_internal.h"

static const char *const callback_names[CB_COUNT] = {"on_event", "flush",
                                                     "stop"};

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

static int replace_string(char **slot, const char *value)
{
    char *copy = NULL;
    if (value != NULL && (copy = strdup(value)) == NULL)
        return ROCKY_ENOMEM;
    free(*slot);
    *slot = copy;
    return 0;
}

int rocky_plugin_set_context(struct rocky_plugin_set *set,
                             const char *project_dir, const char *state_path,
                             uint32_t capabilities)
{
    if (set == NULL)
        return ROCKY_EINVAL;
    /* Instances already created point at the old strings. */
    if (set->count > 0)
        return ROCKY_EINVAL;
    if (replace_string(&set->project_dir, project_dir) != 0 ||
        replace_string(&set->state_path, state_path) != 0)
        return ROCKY_ENOMEM;
    set->capabilities = capabilities;
    return 0;
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
    return set->instances[index]->name;
}

const char *rocky_plugin_set_path(const struct rocky_plugin_set *set,
                                  size_t index)
{
    if (set == NULL || index >= set->count)
        return NULL;
    return set->instances[index]->lib->path;
}

size_t rocky_plugin_set_config(const struct rocky_plugin_set *set, size_t index,
                               const struct rocky_config_entry **entries)
{
    if (set == NULL || index >= set->count) {
        *entries = NULL;
        return 0;
    }
    *entries = set->instances[index]->config;
    return set->instances[index]->config_count;
}

/* One instance's stop outcome, folded as for_each_delivery folds the set's:
 * a failed stop or anything dropped is ROCKY_EIO, anything still pending
 * ROCKY_ETIMEDOUT. */
int rocky_plugin_set_stop_outcome(const struct rocky_plugin_set *set,
                                  size_t index,
                                  struct rocky_delivery_report *report)
{
    if (set == NULL || index >= set->count)
        return ROCKY_EINVAL;
    const struct plugin_instance *inst = set->instances[index];
    memset(report, 0, sizeof *report);
    report->struct_size = sizeof *report;
    if (!inst->stopped) /* never stopped (forfeit) or not yet */
        return inst->forfeit ? ROCKY_ETIMEDOUT : ROCKY_EINVAL;
    *report = inst->stop_report;
    if ((inst->stop_rc < 0 && inst->stop_rc != ROCKY_ETIMEDOUT) ||
        report->dropped > 0)
        return ROCKY_EIO;
    return report->pending > 0 ? ROCKY_ETIMEDOUT : 0;
}

/* First failure of a callback kind per instance is reported; the rest are
 * counted by the plugin itself, not repeated on the runner's output. */
void rocky_plugin_report_once(struct plugin_instance *inst,
                              enum rocky_callback_kind kind, int rc)
{
    if (atomic_exchange(&inst->error_reported[kind], 1) == 0)
        rocky_log(ROCKY_LOG_WARN,
                  "plugin %s: %s failed: %s (%s); further %s errors of this "
                  "plugin are not reported",
                  inst->name, callback_names[kind], rocky_strerror(rc),
                  rocky_err_name(rc), callback_names[kind]);
}

void rocky_plugin_event_init(struct rocky_event *ev, uint32_t type,
                             uint32_t flags, const struct rocky_run *run,
                             const struct rocky_model_exec *model,
                             int64_t wall_ns, int64_t mono_ns)
{
    memset(ev, 0, sizeof *ev);
    ev->struct_size = sizeof *ev;
    ev->type = type;
    ev->flags = flags;
    ev->wall_ns = wall_ns;
    ev->mono_ns = mono_ns;
    ev->run = run;
    ev->model = model;
}

void rocky_plugin_set_emit_new(struct rocky_plugin_set *set, uint32_t type,
                               uint32_t flags, const struct rocky_run *run,
                               const struct rocky_model_exec *model,
                               int64_t wall_ns, int64_t mono_ns)
{
    struct rocky_event ev;
    rocky_plugin_event_init(&ev, type, flags, run, model, wall_ns, mono_ns);
    rocky_plugin_set_emit(set, &ev);
}

void rocky_plugin_set_emit_statement(struct rocky_plugin_set *set,
                                     const struct rocky_run *run,
                                     const struct rocky_model_exec *model,
                                     const struct rocky_statement *statement)
{
    struct rocky_event ev;
    rocky_plugin_event_init(&ev, ROCKY_EVENT_STATEMENT_END, 0, run, model,
                            statement->finished_wall_ns,
                            statement->finished_mono_ns);
    ev.statement = statement;
    rocky_plugin_set_emit(set, &ev);
}

/* Does this instance get events of `type`? Only types its ABI minor knows
 * (rocky/plugin.h, section 2). */
static int understands(const struct plugin_instance *inst, uint32_t type)
{
    int since = rocky_event_type_since_minor(type);
    return since >= 0 && (uint32_t)since <= inst->minor &&
           inst->lib->desc.on_event != NULL;
}

/* ROCKY_EAGAIN that the host gives up on: dropped, counted by the host. */
static void give_up(struct plugin_instance *inst)
{
    if (atomic_fetch_add(&inst->refused, 1) == 0)
        rocky_log(ROCKY_LOG_WARN,
                  "plugin %s: its queue is full; events it cannot take are "
                  "counted as dropped and the run's telemetry as not "
                  "delivered (give it a larger queue; `rocky trace <run_id> "
                  "--export` sends the run again)",
                  inst->name);
}

void rocky_plugin_set_emit(struct rocky_plugin_set *set,
                           const struct rocky_event *event)
{
    if (set == NULL || set->count == 0)
        return;
    atomic_fetch_add(&set->in_flight, 1);
    if (atomic_load(&set->closed) == 0) {
        for (size_t i = 0; i < set->count; i++) {
            struct plugin_instance *inst = set->instances[i];
            if (!understands(inst, event->type))
                continue;
            int rc = inst->lib->desc.on_event(inst->state, event);
            if (rc == ROCKY_EAGAIN)
                give_up(inst);
            else if (rc < 0)
                rocky_plugin_report_once(inst, CB_EVENT, rc);
        }
    }
    atomic_fetch_sub(&set->in_flight, 1);
}

/* An instance's report with the host's own count of given-up events folded
 * in as dropped (the ABI: a refused event is the host's to count). */
static int instance_flush(struct plugin_instance *inst,
                          enum rocky_callback_kind kind, int64_t deadline,
                          struct rocky_delivery_report *r)
{
    memset(r, 0, sizeof *r);
    r->struct_size = sizeof *r;
    int (*fn)(void *, int64_t, struct rocky_delivery_report *) =
        kind == CB_FLUSH ? inst->lib->desc.flush : inst->lib->desc.stop;
    int rc = 0;
    if (fn != NULL)
        rc = fn(inst->state, deadline, r);
    r->struct_size = sizeof *r; /* whatever the plugin did to it */
    r->dropped += atomic_load(&inst->refused);
    if (rc < 0 && rc != ROCKY_ETIMEDOUT)
        rocky_plugin_report_once(inst, kind, rc);
    return rc;
}

int rocky_plugin_set_emit_paced(struct rocky_plugin_set *set,
                                const struct rocky_event *event,
                                int64_t deadline_mono_ns)
{
    if (set == NULL || atomic_load(&set->closed))
        return 0;
    int result = 0;
    for (size_t i = 0; i < set->count; i++) {
        struct plugin_instance *inst = set->instances[i];
        if (!understands(inst, event->type))
            continue;
        int rc;
        while ((rc = inst->lib->desc.on_event(inst->state, event)) ==
               ROCKY_EAGAIN) {
            /* Full: let it deliver, then offer the same event again. A
             * flush that made no room by the deadline ends the wait. */
            struct rocky_delivery_report r;
            if (rocky_clock_mono_ns() >= deadline_mono_ns) {
                give_up(inst);
                result = ROCKY_ETIMEDOUT;
                break;
            }
            instance_flush(inst, CB_FLUSH, deadline_mono_ns, &r);
        }
        if (rc < 0 && rc != ROCKY_EAGAIN)
            rocky_plugin_report_once(inst, CB_EVENT, rc);
    }
    return result;
}

static void add_report(struct rocky_delivery_report *total,
                       const struct rocky_delivery_report *r)
{
    total->accepted += r->accepted;
    total->delivered += r->delivered;
    total->dropped += r->dropped;
    total->pending += r->pending;
}

/* Flush or stop every instance and fold the outcome into one result code,
 * as documented in plugin_host.h. */
static int for_each_delivery(struct rocky_plugin_set *set,
                             enum rocky_callback_kind kind, int64_t deadline,
                             struct rocky_delivery_report *total)
{
    struct rocky_delivery_report sum = {.struct_size = sizeof sum};
    int failed = 0;
    for (size_t i = 0; i < set->count; i++) {
        struct plugin_instance *inst = set->instances[i];
        struct rocky_delivery_report r;
        int rc = instance_flush(inst, kind, deadline, &r);
        if (kind == CB_STOP) {
            inst->stopped = 1;
            inst->stop_rc = rc;
            inst->stop_report = r;
        }
        failed |= rc < 0 && rc != ROCKY_ETIMEDOUT;
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
    if (set->stop_done) {
        if (total != NULL)
            *total = set->stop_report;
        return set->stop_rc;
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

int rocky_plugin_set_stop(struct rocky_plugin_set *set,
                          int64_t deadline_mono_ns,
                          struct rocky_delivery_report *total)
{
    if (set == NULL)
        return ROCKY_EINVAL;
    if (!set->stop_done) {
        /* 1. stop new events; 2. let in-flight callbacks return (the ABI
         * promises no on_event concurrent with stop); 3. stop every
         * instance within the one deadline. */
        atomic_store(&set->closed, 1);
        set->stop_report.struct_size = sizeof set->stop_report;
        if (wait_for_emits(set, deadline_mono_ns) != 0) {
            rocky_log(ROCKY_LOG_WARN,
                      "plugins: an event callback did not return before the "
                      "stop deadline; plugins left running, their telemetry "
                      "is not confirmed");
            for (size_t i = 0; i < set->count; i++)
                set->instances[i]->forfeit = 1;
            set->stop_rc = ROCKY_ETIMEDOUT;
        } else {
            set->stop_rc = for_each_delivery(set, CB_STOP, deadline_mono_ns,
                                             &set->stop_report);
        }
        set->stop_done = 1;
    }
    if (total != NULL)
        *total = set->stop_report;
    return set->stop_rc;
}

void rocky_plugin_set_free(struct rocky_plugin_set *set)
{
    if (set == NULL)
        return;
    rocky_plugin_set_stop(set, rocky_clock_mono_ns(), NULL);
    int leak = 0;
    /* Destroy in reverse creation order, then release: nothing an instance
     * was handed is freed before its destroy returned. */
    for (size_t i = set->count; i-- > 0;) {
        struct plugin_instance *inst = set->instances[i];
        if (!inst->forfeit && inst->stopped) {
            inst->lib->desc.destroy(inst->state);
            inst->destroyed = 1;
        }
        leak |= inst->forfeit;
        rocky_plugin_instance_release(set, inst);
    }
    free(set->instances);
    free(set->libs);
    if (!leak) { /* a forfeit instance's table points at these */
        free(set->host_version);
        free(set->project_dir);
        free(set->state_path);
    }
    free(set);
}
