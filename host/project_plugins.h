/*
 * project_plugins.h — the "plugins" list of rocky.json: which plugin
 * instances a project loads, each with its own name and configuration.
 *
 *   "plugins": [
 *     "plugins/events_jsonl.so",                     a path: one instance
 *     {"path": "rocky_otel.so",                       an object:
 *      "name": "otel_prod",                             instance name (opt.)
 *      "config": {"endpoint": "http://c:4317",          key/value strings;
 *                 "timeout": 5000, "insecure": true}}   numbers and booleans
 *   ]                                                   as their JSON text
 *
 * Relative paths are relative to the project directory. Every error names
 * the entry ("rocky.json: plugins[2].config.timeout: ...") and says what
 * is allowed.
 */
#ifndef ROCKY_HOST_PROJECT_PLUGINS_H
#define ROCKY_HOST_PROJECT_PLUGINS_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "plugin_host.h"

/* Parse `list` (the value of "plugins", not NULL) into *out / *count: an
 * array of specs whose strings are owned (free with
 * rocky_project_plugins_free). `dir` resolves relative paths. Returns 0,
 * ROCKY_EINVAL with a message in `err`, or ROCKY_ENOMEM. */
int rocky_project_plugins_parse(const cJSON *list, const char *dir,
                                struct rocky_plugin_spec **out, size_t *count,
                                char *err, size_t err_size);

/* Free what rocky_project_plugins_parse returned. NULL ok. */
void rocky_project_plugins_free(struct rocky_plugin_spec *specs, size_t count);

#endif
