/* main.c — the `rocky` command: `rocky run`, `rocky trace`, --help,
 * --version. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"
#include "term_escape.h"

#ifdef ROCKY_HAVE_TRACE_CLI
#include "trace_cli.h"
#endif

#ifndef ROCKY_VERSION
#define ROCKY_VERSION "0.0.0"
#endif

static const char usage_text[] =
    "usage: rocky <command> [options]\n"
    "\n"
    "commands:\n"
    "  run [PROJECT_DIR] [options]   build every model of a project\n"
    "      --threads N      worker threads (default: rocky.json, else CPUs)\n"
    "      --plugin PATH    load a plugin (repeatable; also ROCKY_PLUGINS,\n"
    "                       rocky.json \"plugins\")\n"
    "      --state PATH     state store (default PROJECT/.rocky/state.db;\n"
    "                       also ROCKY_STATE)\n"
    "      --select NAME    build NAME and everything upstream of it\n"
    "                       (repeatable)\n"
    "      --trigger WHY    manual (default), ci, schedule, ...\n"
    "      --json           print one JSON result document\n"
    "  trace <run_id|latest> [options]  show a recorded run's timeline\n"
    "                       (`rocky trace --help`)\n"
    "\n"
    "  --help, --version\n";

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "rocky: ");
    rocky_term_fprintf(stderr, 0, fmt, arg);
    fprintf(stderr, "\n(see `rocky --help`)\n");
    return 2;
}

static int parse_threads(const char *s, int *out)
{
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || v < 1 || v > 256)
        return -1;
    *out = (int)v;
    return 0;
}

static int valid_trigger(const char *s)
{
    if (s[0] == '\0' || strlen(s) > 64)
        return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' || *p == '.'))
            return 0;
    return 1;
}

static int cmd_run(int argc, char **argv)
{
    struct rocky_run_options o;
    memset(&o, 0, sizeof o);
    /* argv outlives the run, so options borrow from it. */
    o.plugins = calloc((size_t)argc, sizeof *o.plugins);
    o.select = calloc((size_t)argc, sizeof *o.select);
    if (o.plugins == NULL || o.select == NULL)
        return 1;
    int status = -1;
    for (int i = 1; i < argc && status < 0; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = strcmp(a, "--threads") == 0 || strcmp(a, "--plugin") == 0 ||
                    strcmp(a, "--state") == 0 || strcmp(a, "--select") == 0 ||
                    strcmp(a, "--trigger") == 0;
        if (takes && val == NULL) {
            status = usage_error("run: %s needs a value", a);
            break;
        }
        if (strcmp(a, "--threads") == 0) {
            if (parse_threads(val, &o.threads) != 0)
                status = usage_error("run: --threads wants an integer from "
                                     "1 to 256, not '%s'",
                                     val);
        } else if (strcmp(a, "--plugin") == 0) {
            o.plugins[o.nplugins++] = val;
        } else if (strcmp(a, "--state") == 0) {
            o.state_path = val;
        } else if (strcmp(a, "--select") == 0) {
            o.select[o.nselect++] = argv[i + 1];
        } else if (strcmp(a, "--trigger") == 0) {
            if (!valid_trigger(val))
                status = usage_error("run: --trigger wants a word like "
                                     "manual, ci or schedule, not '%s'",
                                     val);
            o.trigger = val;
        } else if (strcmp(a, "--json") == 0) {
            o.json = 1;
            continue;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage_text, stdout);
            status = 0;
            break;
        } else if (a[0] == '-' && a[1] != '\0') {
            status = usage_error("run: unknown option '%s'", a);
            break;
        } else if (o.project_dir == NULL) {
            o.project_dir = a;
            continue;
        } else {
            status = usage_error("run: unexpected argument '%s' (one "
                                 "PROJECT_DIR only)",
                                 a);
            break;
        }
        i++; /* consumed the value */
    }
    if (status < 0)
        status = rocky_run_main(&o);
    free(o.plugins);
    free(o.select);
    return status;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage_text, stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
        strcmp(cmd, "help") == 0) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("rocky %s\n", ROCKY_VERSION);
        return 0;
    }
    if (strcmp(cmd, "run") == 0)
        return cmd_run(argc - 1, argv + 1);
    if (strcmp(cmd, "trace") == 0) {
#ifdef ROCKY_HAVE_TRACE_CLI
        return rocky_trace_cli_main(argc - 1, argv + 1);
#else
        fprintf(stderr, "rocky: this build has no trace command\n");
        return 1;
#endif
    }
    return usage_error("unknown command '%s'", cmd);
}
