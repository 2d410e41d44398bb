/*
 * fuzz_project_json.c — rocky.json is written by whoever writes the
 * project: arbitrary bytes. Each input becomes the rocky.json of a scratch
 * project (two models, b reading a) loaded through the public entry point,
 * rocky_project_load().
 *
 * Invariants: the load returns 0 or a documented error with a message
 * (one terminal-safe line once escaped as the logger prints it:
 * fuzz_terminal.h); a loaded project has a name, threads in 0..256, both models
 * in dependency order, and plugin entries with a path and keyed config;
 * everything is freed (LeakSanitizer).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_terminal.h"
#include "term_escape.h"
#include "project.h"
#include "project_plugins.h"
#include "rocky/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[4096];
static char json_path[4200];

static void write_file(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        abort();
}

static void remove_project(void)
{
    static const char *const files[] = {"rocky.json", "models/a.sql",
                                        "models/b.sql", "models", ""};
    char path[4300];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        remove(path);
    }
}

static void make_project(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/rocky-fuzz-project-XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(dir) == NULL)
        abort();
    char path[4300];
    snprintf(path, sizeof path, "%s/models", dir);
    if (mkdir(path, 0700) != 0)
        abort();
    snprintf(path, sizeof path, "%s/models/a.sql", dir);
    write_file(path, "select 1 as x\n", 14);
    snprintf(path, sizeof path, "%s/models/b.sql", dir);
    write_file(path, "select x from a\n", 16);
    snprintf(json_path, sizeof json_path, "%s/rocky.json", dir);
    atexit(remove_project);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (dir[0] == '\0')
        make_project();
    write_file(json_path, data, size);
    struct rocky_project *p = NULL;
    char err[1024];
    err[0] = '\0';
    int rc = rocky_project_load(dir, &p, err, sizeof err);
    if (rc != 0) {
        if (p != NULL || err[0] == '\0')
            abort();
        /* The message quotes rocky.json (an unknown key, a config key);
         * the logger escapes it (lib/plugin_host/log.c): as printed it is
         * one line a terminal cannot be driven by. */
        char shown[ROCKY_TERM_ESCAPED_SIZE(sizeof err)];
        size_t n = rocky_term_escape(err, 0, shown, sizeof shown);
        if (memchr(shown, '\n', n) != NULL || !fuzz_terminal_safe(shown, n))
            abort();
        if (rc != ROCKY_EINVAL && rc != ROCKY_ENOMEM)
            abort(); /* the models are fine: only rocky.json can be wrong */
        return 0;
    }
    if (p->name == NULL || p->name[0] == '\0' || p->threads < 0 ||
        p->threads > 256 || p->nmodels != 2 || p->target_path == NULL ||
        p->order == NULL || strcmp(p->models[p->order[0]].name, "a") != 0)
        abort();
    for (size_t i = 0; i < p->nplugins; i++) {
        const struct rocky_plugin_spec *s = &p->plugins[i];
        if (s->path == NULL || s->path[0] == '\0')
            abort();
        for (size_t j = 0; j < s->config_count; j++)
            if (s->config[j].key == NULL || s->config[j].value == NULL)
                abort();
    }
    for (size_t i = 0; i < p->nsources; i++)
        if (p->sources[i] == NULL || p->sources[i][0] == '\0')
            abort();
    rocky_project_free(p);
    return 0;
}
