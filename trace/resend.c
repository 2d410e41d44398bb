/* resend.c — sending stored runs again (see resend.h). */
#include "resend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "export.h"
#include "rocky/error.h"
#include "term_escape.h"

#ifndef ROCKY_VERSION
#define ROCKY_VERSION "0.0.0"
#endif

/* Distinct instances kept alive at once; past it the oldest is stopped. */
#define CACHE_SLOTS 16

/* What a replay that did not confirm prints: the counts and what to try. */
static void not_confirmed(const struct rocky_run_record *rec,
                          const char *instance,
                          const struct rocky_export_result *res)
{
    rocky_term_fprintf(stderr, 0, "rocky trace: run %s", rec->run.run_id);
    if (instance != NULL)
        rocky_term_fprintf(stderr, 0, " via plugin instance '%s'", instance);
    rocky_term_fprintf(
        stderr, 0,
        ": %llu spans accepted, %llu delivered, %llu dropped, %llu "
        "pending; still marked undelivered\n",
        (unsigned long long)res->accepted, (unsigned long long)res->delivered,
        (unsigned long long)res->dropped, (unsigned long long)res->pending);
    rocky_term_fprintf(
        stderr, 0, "hint: %s\n",
        res->accepted == 0
            ? "the plugins took no spans: is the exporter configured "
              "(OTEL_EXPORTER_OTLP_ENDPOINT, or its \"endpoint\" in "
              "rocky.json) and not disabled?"
            : "is the collector reachable? try again once it is");
}

/* Replay; 0 and *res when it ran (confirmed or not), else the error said. */
static int replay(struct rocky_plugin_set *set,
                  const struct rocky_run_record *rec,
                  struct rocky_export_result *res)
{
    char err[1024] = "";
    int rc = rocky_export_run(set, rec, ROCKY_EXPORT_DEADLINE_MS, res, err,
                              sizeof err);
    if (rc != 0)
        rocky_term_fprintf(stderr, 0, "rocky trace: %s\n",
                           err[0] ? err : rocky_strerror(rc));
    return rc;
}

static int mark_failed(const struct rocky_run_record *rec, const char *err,
                       int rc)
{
    rocky_term_fprintf(
        stderr, 0,
        "rocky trace: run %s was delivered but could not be marked so: "
        "%s\n",
        rec->run.run_id, err[0] ? err : rocky_strerror(rc));
    fputs("hint: once the store is writable, `--export` the run again (a "
          "second delivery is harmless: spans keep their ids)\n",
          stderr);
    return rc;
}

int rocky_resend_through(struct rocky_plugin_set *set,
                         struct rocky_store *store,
                         const struct rocky_run_record *rec)
{
    struct rocky_export_result res;
    int rc = replay(set, rec, &res);
    if (rc != 0)
        return rc;
    if (!res.confirmed) {
        not_confirmed(rec, NULL, &res);
        return ROCKY_EIO;
    }
    char err[1024] = "";
    rc = rocky_store_set_delivery(store, rec->run.run_id, 1, err, sizeof err);
    if (rc != 0)
        return mark_failed(rec, err, rc);
    rocky_term_fprintf(stdout, 0, "exported run %s: %llu spans delivered\n",
                       rec->run.run_id, (unsigned long long)res.delivered);
    fflush(stdout);
    return 0;
}

struct cache_slot {
    char *key;                    /* identity: see slot_key */
    struct rocky_plugin_set *set; /* NULL: it could not be created */
};

struct rocky_resend_cache {
    char *state_path;
    struct cache_slot slots[CACHE_SLOTS];
    size_t used, next_evict;
};

struct rocky_resend_cache *rocky_resend_cache_new(const char *state_path)
{
    struct rocky_resend_cache *c = calloc(1, sizeof *c);
    if (c != NULL && state_path != NULL &&
        (c->state_path = strdup(state_path)) == NULL) {
        free(c);
        c = NULL;
    }
    return c;
}

static void slot_release(struct cache_slot *slot, int64_t deadline)
{
    if (slot->set != NULL) {
        rocky_plugin_set_stop(slot->set, deadline, NULL);
        rocky_plugin_set_free(slot->set);
    }
    free(slot->key);
    memset(slot, 0, sizeof *slot);
}

void rocky_resend_cache_free(struct rocky_resend_cache *c, int abandon)
{
    if (c == NULL)
        return;
    int64_t deadline = abandon
                           ? rocky_clock_mono_ns()
                           : rocky_deadline_after_ms(ROCKY_EXPORT_DEADLINE_MS);
    for (size_t i = 0; i < c->used; i++)
        slot_release(&c->slots[i], deadline);
    free(c->state_path);
    free(c);
}

/* Everything that makes two recorded instances the same one, joined with
 * unit separators (none of the parts can hold one that matters: a clash
 * would at worst share an instance between equal-looking configs). */
static char *slot_key(const struct rocky_store_plugin *p)
{
    char *key = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&key, &len);
    if (fp == NULL)
        return NULL;
    fprintf(fp, "%s\x1f%s\x1f%s", p->instance, p->path,
            p->project_dir ? p->project_dir : "");
    for (size_t i = 0; i < p->config_count; i++)
        fprintf(fp, "\x1f%s\x1e%s", p->config[i].key, p->config[i].value);
    if (fclose(fp) != 0) {
        free(key);
        return NULL;
    }
    return key;
}

/* One instance of a plugin set of its own, created as recorded. NULL when
 * it could not be (the loader said why, naming the file). */
static struct rocky_plugin_set *create(const struct rocky_resend_cache *c,
                                       const struct rocky_store_plugin *p)
{
    struct rocky_plugin_set *set = NULL;
    if (rocky_plugin_set_new(ROCKY_VERSION, &set) != 0)
        return NULL;
    /* A re-send does not own the process's exit: rocky_otel guards it. */
    struct rocky_plugin_spec spec = {.path = p->path,
                                     .name = p->instance,
                                     .config = p->config,
                                     .config_count = p->config_count};
    if (rocky_plugin_set_context(set, p->project_dir, c->state_path, 0) != 0 ||
        rocky_plugin_set_load_spec(set, &spec) != 0) {
        rocky_plugin_set_free(set);
        return NULL;
    }
    return set;
}

/* The cached instance for `p`, created on first use (a slot whose set is
 * NULL: it could not be, and is not tried again). NULL when out of
 * memory. */
static struct cache_slot *instance_for(struct rocky_resend_cache *c,
                                       const struct rocky_store_plugin *p)
{
    char *key = slot_key(p);
    if (key == NULL)
        return NULL;
    for (size_t i = 0; i < c->used; i++)
        if (strcmp(c->slots[i].key, key) == 0) {
            free(key);
            return &c->slots[i];
        }
    struct cache_slot *slot;
    if (c->used < CACHE_SLOTS) {
        slot = &c->slots[c->used++];
    } else { /* the oldest goes: it has delivered what it took */
        slot = &c->slots[c->next_evict];
        c->next_evict = (c->next_evict + 1) % CACHE_SLOTS;
        slot_release(slot, rocky_deadline_after_ms(ROCKY_EXPORT_DEADLINE_MS));
    }
    slot->key = key;
    if (p->withheld != NULL)
        rocky_term_fprintf(stderr, 0,
                           "rocky trace: plugin instance '%s': the value of "
                           "its config %s was not stored (credentials never "
                           "are); it sends with what its environment gives "
                           "for them\n",
                           p->instance, p->withheld);
    slot->set = create(c, p);
    return slot;
}

/* Re-send through one recorded instance and record its outcome. */
static int resend_instance(struct rocky_resend_cache *c,
                           struct rocky_store *store,
                           const struct rocky_run_record *rec,
                           const struct rocky_store_plugin *p)
{
    struct cache_slot *slot = instance_for(c, p);
    if (slot == NULL)
        return ROCKY_ENOMEM;
    if (slot->set == NULL) {
        rocky_term_fprintf(
            stderr, 0,
            "rocky trace: run %s: plugin instance '%s' (%s) could not be "
            "created again (reason above); still marked undelivered\n",
            rec->run.run_id, p->instance, p->path);
        fputs("hint: restore the plugin, or send the run with --plugin "
              "PATH\n",
              stderr);
        return ROCKY_ECORRUPT;
    }
    struct rocky_export_result res;
    int rc = replay(slot->set, rec, &res);
    if (rc != 0)
        return rc;
    char err[1024] = "";
    rc = rocky_store_plugin_delivery(store, rec->run.run_id, p->instance,
                                     res.confirmed, res.pending, res.dropped,
                                     err, sizeof err);
    if (!res.confirmed) {
        not_confirmed(rec, p->instance, &res);
        return ROCKY_EIO;
    }
    if (rc != 0)
        return mark_failed(rec, err, rc);
    rocky_term_fprintf(
        stdout, 0,
        "exported run %s via plugin instance '%s': %llu spans delivered\n",
        rec->run.run_id, p->instance, (unsigned long long)res.delivered);
    fflush(stdout);
    return 0;
}

int rocky_resend_recorded(struct rocky_resend_cache *c,
                          struct rocky_store *store,
                          const struct rocky_run_record *rec, int again)
{
    struct rocky_store_plugin *plugins = NULL;
    size_t n = 0;
    char err[1024] = "";
    int rc = rocky_store_run_plugins(store, rec->run.run_id, &plugins, &n, err,
                                     sizeof err);
    if (rc != 0) {
        rocky_term_fprintf(stderr, 0, "rocky trace: %s\n",
                           err[0] ? err : rocky_strerror(rc));
        return rc;
    }
    if (n == 0)
        return ROCKY_ENOTFOUND;
    size_t unconfirmed = 0;
    for (size_t i = 0; i < n; i++)
        unconfirmed += !plugins[i].confirmed;
    int result = 0;
    for (size_t i = 0; i < n; i++) {
        if (plugins[i].confirmed && !(again && unconfirmed == 0))
            continue;
        rc = resend_instance(c, store, rec, &plugins[i]);
        if (rc == ROCKY_EREFUSED) { /* still running: so for every one */
            result = rc;
            break;
        }
        if (rc != 0)
            result = rc;
    }
    rocky_store_plugins_free(plugins, n);
    return result;
}
