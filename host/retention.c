/* retention.c — rocky.json's "retention" and the end-of-run prune (see
 * retention.h). */
#include "retention.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "rocky/error.h"
#include "store.h"

static int count_opt(const cJSON *v, const char *key, uint32_t *out, char *err,
                     size_t err_size)
{
    if (!cJSON_IsNumber(v) || v->valuedouble < 1 ||
        v->valuedouble > 1000000000.0 ||
        v->valuedouble != (double)(long long)v->valuedouble) {
        snprintf(err, err_size,
                 "rocky.json: \"retention\": \"%s\" must be an integer of 1 "
                 "or more",
                 key);
        return ROCKY_EINVAL;
    }
    *out = (uint32_t)v->valuedouble;
    return 0;
}

int rocky_retention_parse(const cJSON *value, struct rocky_retention *out,
                          char *err, size_t err_size)
{
    memset(out, 0, sizeof *out);
    if (!cJSON_IsObject(value)) {
        snprintf(err, err_size,
                 "rocky.json: \"retention\" must be an object like "
                 "{\"keep_runs\": 100, \"keep_days\": 30}");
        return ROCKY_EINVAL;
    }
    const cJSON *item = NULL;
    cJSON_ArrayForEach(item, value)
    {
        int code;
        if (strcmp(item->string, "keep_runs") == 0)
            code = count_opt(item, "keep_runs", &out->keep_runs, err, err_size);
        else if (strcmp(item->string, "keep_days") == 0)
            code = count_opt(item, "keep_days", &out->keep_days, err, err_size);
        else {
            snprintf(err, err_size,
                     "rocky.json: \"retention\": unknown key \"%s\" (known: "
                     "keep_runs, keep_days)",
                     item->string);
            code = ROCKY_EINVAL;
        }
        if (code != 0)
            return code;
    }
    return 0;
}

void rocky_retention_after_run(struct rocky_store *store,
                               const struct rocky_retention *policy,
                               const char *run_id)
{
    if (store == NULL || policy == NULL ||
        (policy->keep_runs == 0 && policy->keep_days == 0))
        return;
    struct rocky_store_prune_opts o = {
        .keep_runs = policy->keep_runs,
        .keep_days = policy->keep_days,
        .now_wall_ns = rocky_clock_wall_ns(),
        .except_run_id = run_id,
    };
    struct rocky_store_prune_report rep;
    char err[1024] = "";
    int rc = rocky_store_prune(store, &o, &rep, err, sizeof err);
    if (rc != 0) {
        rocky_log(ROCKY_LOG_WARN, "retention: %s",
                  err[0] ? err : rocky_strerror(rc));
        return;
    }
    if (rep.runs_pruned == 0 && rep.kept_pending == 0)
        return;
    char pending[128] = "";
    if (rep.kept_pending > 0)
        snprintf(pending, sizeof pending,
                 "; kept %zu awaiting telemetry delivery (`rocky trace "
                 "--export-pending`)",
                 rep.kept_pending);
    rocky_log(ROCKY_LOG_INFO,
              "retention: pruned %zu run%s (%zu model record%s), %lld bytes "
              "freed%s",
              rep.runs_pruned, rep.runs_pruned == 1 ? "" : "s",
              rep.models_pruned, rep.models_pruned == 1 ? "" : "s",
              (long long)(rep.bytes_before > rep.bytes_after
                              ? rep.bytes_before - rep.bytes_after
                              : 0),
              pending);
}
