/* plugin_services.c — the services table the host hands each instance
 * (struct rocky_host_api in rocky/plugin.h). Every service is thread-safe:
 * they only read what the instance owns until its destroy returned. */
#include <string.h>

#include "clock.h"
#include "log.h"
#include "plugin_host_internal.h"

static void instance_log(void *host_ctx, int level, const char *message)
{
    const struct plugin_instance *inst = host_ctx;
    rocky_log(level, "plugin %s: %s", inst->name, message ? message : "(null)");
}

/* An entry point has no instance yet: its lines name the file. */
static void entry_log(void *host_ctx, int level, const char *message)
{
    const struct plugin_library *lib = host_ctx;
    rocky_log(level, "plugin %s: %s", lib->path, message ? message : "(null)");
}

static const char *config_get(void *host_ctx, const char *key)
{
    const struct plugin_instance *inst = host_ctx;
    if (inst == NULL || key == NULL)
        return NULL;
    for (size_t i = 0; i < inst->config_count; i++)
        if (strcmp(inst->config[i].key, key) == 0)
            return inst->config[i].value;
    return NULL;
}

static const char *entry_config_get(void *host_ctx, const char *key)
{
    (void)host_ctx;
    (void)key;
    return NULL; /* no instance, no configuration */
}

static const char *host_strerror(int code)
{
    return rocky_strerror(code);
}

static const char *host_err_name(int code)
{
    return rocky_err_name(code);
}

static void fill_common(struct rocky_host_api *api,
                        const struct rocky_plugin_set *set)
{
    memset(api, 0, sizeof *api);
    api->struct_size = sizeof *api;
    api->abi_version = ROCKY_PLUGIN_ABI_VERSION;
    api->capabilities = set->capabilities;
    api->host_name = "rocky";
    api->host_version = set->host_version;
    api->strerror = host_strerror;
    api->err_name = host_err_name;
    api->mono_ns = rocky_clock_mono_ns;
    api->wall_ns = rocky_clock_wall_ns;
}

void rocky_plugin_services_fill(struct rocky_host_api *api,
                                const struct rocky_plugin_set *set,
                                struct plugin_instance *inst)
{
    fill_common(api, set);
    api->host_ctx = inst;
    api->log = instance_log;
    api->config_get = config_get;
}

void rocky_plugin_services_fill_entry(struct rocky_host_api *api,
                                      const struct rocky_plugin_set *set,
                                      struct plugin_library *lib)
{
    fill_common(api, set);
    api->host_ctx = lib;
    api->log = entry_log;
    api->config_get = entry_config_get;
}
