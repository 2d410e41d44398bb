/* project_plugins.c — parse rocky.json's "plugins" (see project_plugins.h). */
#include "project_plugins.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "project.h"
#include "rocky/error.h"

/* A config value as the string the plugin gets: strings as they are,
 * numbers and booleans as their JSON text. NULL for anything else. */
static char *config_value(const cJSON *v, int *bad)
{
    *bad = 0;
    if (cJSON_IsString(v))
        return strdup(v->valuestring);
    if (cJSON_IsBool(v))
        return strdup(cJSON_IsTrue(v) ? "true" : "false");
    if (cJSON_IsNumber(v))
        return cJSON_PrintUnformatted(v);
    *bad = 1;
    return NULL;
}

static int parse_config(const cJSON *obj, size_t idx,
                        struct rocky_plugin_spec *spec, char *err,
                        size_t err_size)
{
    if (!cJSON_IsObject(obj)) {
        snprintf(err, err_size,
                 "rocky.json: plugins[%zu].config must be an object of "
                 "key/value pairs",
                 idx);
        return ROCKY_EINVAL;
    }
    size_t n = (size_t)cJSON_GetArraySize(obj);
    if (n == 0)
        return 0;
    struct rocky_config_entry *cfg = calloc(n, sizeof *cfg);
    if (cfg == NULL)
        return ROCKY_ENOMEM;
    spec->config = cfg;
    const cJSON *item;
    cJSON_ArrayForEach(item, obj)
    {
        const char *key = item->string;
        if (key == NULL || key[0] == '\0') {
            snprintf(err, err_size,
                     "rocky.json: plugins[%zu].config has an empty key", idx);
            return ROCKY_EINVAL;
        }
        for (size_t j = 0; j < spec->config_count; j++)
            if (strcmp(cfg[j].key, key) == 0) {
                snprintf(err, err_size,
                         "rocky.json: plugins[%zu].config.%s is given twice; "
                         "keep one",
                         idx, key);
                return ROCKY_EINVAL;
            }
        int bad;
        char *value = config_value(item, &bad);
        if (bad) {
            snprintf(err, err_size,
                     "rocky.json: plugins[%zu].config.%s must be a string, "
                     "a number or a boolean",
                     idx, key);
            return ROCKY_EINVAL;
        }
        char *k = strdup(key);
        if (value == NULL || k == NULL) {
            free(value);
            free(k);
            return ROCKY_ENOMEM;
        }
        cfg[spec->config_count].key = k;
        cfg[spec->config_count].value = value;
        spec->config_count++;
    }
    return 0;
}

static int parse_object(const cJSON *obj, size_t idx, const char *dir,
                        struct rocky_plugin_spec *spec, char *err,
                        size_t err_size)
{
    const cJSON *item;
    cJSON_ArrayForEach(item, obj)
    {
        const char *k = item->string;
        if (strcmp(k, "path") != 0 && strcmp(k, "name") != 0 &&
            strcmp(k, "config") != 0) {
            snprintf(err, err_size,
                     "rocky.json: plugins[%zu]: unknown key \"%s\" (a plugin "
                     "entry has \"path\", \"name\" and \"config\")",
                     idx, k);
            return ROCKY_EINVAL;
        }
    }
    const cJSON *path = cJSON_GetObjectItemCaseSensitive(obj, "path");
    if (!cJSON_IsString(path) || path->valuestring[0] == '\0') {
        snprintf(err, err_size,
                 "rocky.json: plugins[%zu] needs \"path\": the plugin file, "
                 "a non-empty string",
                 idx);
        return ROCKY_EINVAL;
    }
    if ((spec->path = rocky_path_join(dir, path->valuestring)) == NULL)
        return ROCKY_ENOMEM;
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(obj, "name");
    if (name != NULL) {
        if (!cJSON_IsString(name) || name->valuestring[0] == '\0') {
            snprintf(err, err_size,
                     "rocky.json: plugins[%zu].name must be a non-empty "
                     "string (the instance name)",
                     idx);
            return ROCKY_EINVAL;
        }
        for (const char *c = name->valuestring; *c; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f) {
                snprintf(err, err_size,
                         "rocky.json: plugins[%zu].name must not contain "
                         "control characters",
                         idx);
                return ROCKY_EINVAL;
            }
        if ((spec->name = strdup(name->valuestring)) == NULL)
            return ROCKY_ENOMEM;
    }
    const cJSON *config = cJSON_GetObjectItemCaseSensitive(obj, "config");
    if (config != NULL)
        return parse_config(config, idx, spec, err, err_size);
    return 0;
}

int rocky_project_plugins_parse(const cJSON *list, const char *dir,
                                struct rocky_plugin_spec **out, size_t *count,
                                char *err, size_t err_size)
{
    *out = NULL;
    *count = 0;
    if (!cJSON_IsArray(list)) {
        snprintf(err, err_size,
                 "rocky.json: \"plugins\" must be an array of paths or "
                 "{\"path\", \"name\", \"config\"} objects");
        return ROCKY_EINVAL;
    }
    size_t n = (size_t)cJSON_GetArraySize(list);
    struct rocky_plugin_spec *specs = calloc(n ? n : 1, sizeof *specs);
    if (specs == NULL)
        return ROCKY_ENOMEM;
    size_t i = 0;
    int code = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, list)
    {
        struct rocky_plugin_spec *spec = &specs[i++];
        if (cJSON_IsString(item) && item->valuestring[0] != '\0') {
            spec->path = rocky_path_join(dir, item->valuestring);
            code = spec->path ? 0 : ROCKY_ENOMEM;
        } else if (cJSON_IsObject(item)) {
            code = parse_object(item, i - 1, dir, spec, err, err_size);
        } else {
            snprintf(err, err_size,
                     "rocky.json: plugins[%zu] must be a non-empty path or "
                     "a {\"path\", \"name\", \"config\"} object",
                     i - 1);
            code = ROCKY_EINVAL;
        }
        if (code != 0)
            break;
    }
    if (code != 0) {
        rocky_project_plugins_free(specs, i);
        return code;
    }
    *out = specs;
    *count = n;
    return 0;
}

void rocky_project_plugins_free(struct rocky_plugin_spec *specs, size_t count)
{
    if (specs == NULL)
        return;
    for (size_t i = 0; i < count; i++) {
        free((char *)specs[i].path);
        free((char *)specs[i].name);
        for (size_t j = 0; j < specs[i].config_count; j++) {
            free((char *)specs[i].config[j].key);
            free((char *)specs[i].config[j].value);
        }
        free((struct rocky_config_entry *)specs[i].config);
    }
    free(specs);
}
