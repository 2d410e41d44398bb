/* main.c — the `rocky` command: `rocky run`, `rocky trace`, --help,
 * --version. */
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "project.h"
#include "rocky/error.h"
#include "run.h"
#include "term_escape.h"

#ifdef ROCKY_HAVE_TRACE_CLI
#include "runs.h"
#include "trace_cli.h"
#endif

#ifndef ROCKY_VERSION
#define ROCKY_VERSION "0.0.0"
#endif

static const char usage_text[] =
    "usage: rocky [global options] <command> [options]\n"
    "\n"
    "global options (upstream rocky's; before the command):\n"
    "  -o, --output json|table   result as one JSON document, or for people\n"
    "                       (default: table, even when piped; upstream\n"
    "                       picks json there). Also after the command.\n"
    "  --state-path PATH    state store: the same as the command's --state\n"
    "  -c, --config PATH    the project's config file, "
    "PROJECT_DIR/rocky.json:\n"
    "                       `run` builds that project, `trace` reads its\n"
    "                       store. Upstream's rocky.toml is not read "
    "(refused)\n"
    "\n"
    "commands:\n"
    "  run [PROJECT_DIR] [options]   build every model of a project\n"
    "      --threads N      worker threads (default: rocky.json, else CPUs)\n"
    "      --plugin PATH    load a plugin (repeatable; also ROCKY_PLUGINS,\n"
    "                       rocky.json \"plugins\")\n"
    "      --state PATH     state store (default PROJECT/.rocky/state.db;\n"
    "                       also ROCKY_STATE)\n"
    "      --select SEL     build only what SEL names (repeatable): NAME,\n"
    "                       a glob (stg_*), +NAME (and its upstream),\n"
    "                       NAME+ (and its downstream), +NAME+\n"
    "      --exclude SEL    leave out what SEL names (repeatable)\n"
    "      --trigger WHY    manual (default), ci, schedule, ...\n"
    "      --json           print one JSON result document (= -o json)\n"
    "      --no-progress    no live progress display on a terminal\n"
    "      -o, --output json|table\n"
    "  trace <run_id|latest> [options]  show a recorded run's timeline\n"
    "                       (`rocky trace --help`; -o json is TraceOutput)\n"
    "  runs [options]       the run history, newest first; --model NAME,\n"
    "                       --prune (`rocky runs --help`)\n"
    "\n"
    "  --help, --version\n";

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "rocky: ");
    rocky_term_fprintf(stderr, 0, fmt, arg);
    fprintf(stderr, "\n(see `rocky --help`)\n");
    return 2;
}

/*
 * Upstream rocky's flags before the subcommand (clap's `Cli`):
 * `-o/--output` (global there: also accepted after the subcommand),
 * `--state-path` and `-c/--config` (top-level only there, and here).
 */
struct globals {
    const char *output;     /* "json", "table" or "md"; NULL: unset */
    const char *state_path; /* NULL: unset */
    const char *config;     /* as given; NULL: unset */
    char *config_dir;       /* the project directory it names, owned */
};

/* The value of option `name` at argv[*i] ("NAME V" or "NAME=V"), or NULL
 * when argv[*i] is another option. Sets *missing when the value is. */
static const char *option_value(int argc, char **argv, int *i, const char *name,
                                int *missing)
{
    const char *a = argv[*i];
    size_t len = strlen(name);
    if (strncmp(a, name, len) != 0)
        return NULL;
    if (a[len] == '=')
        return a + len + 1;
    if (a[len] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        *missing = 1;
        return NULL;
    }
    return argv[++*i];
}

static int check_output(const char *where, const char *v)
{
    if (strcmp(v, "json") == 0 || strcmp(v, "table") == 0 ||
        strcmp(v, "md") == 0)
        return 0;
    fprintf(stderr, "rocky: %s", where);
    rocky_term_fprintf(stderr, 0, "-o/--output wants json or table, not '%s'\n",
                       v);
    fprintf(stderr, "(see `rocky --help`)\n");
    return 2;
}

/* -c/--config names a project's config file. Ours is rocky.json, read from
 * its directory; upstream's rocky.toml (or any other file) is refused: it
 * would be silently ignored otherwise. 0, 2 (usage) or 1 (no such file). */
static int check_config(struct globals *g)
{
    const char *slash = strrchr(g->config, '/');
    const char *base = slash ? slash + 1 : g->config;
    if (strcmp(base, "rocky.json") != 0) {
        usage_error("-c/--config '%s': rocky-otel reads a project's "
                    "rocky.json, not upstream's rocky.toml or another "
                    "file; give -c PROJECT_DIR/rocky.json, or the project "
                    "directory (`rocky run PROJECT_DIR`, "
                    "`rocky trace --state PROJECT_DIR/.rocky/state.db`)",
                    g->config);
        return 2;
    }
    struct stat sb;
    if (stat(g->config, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fprintf(stderr, "rocky: ");
        rocky_term_fprintf(stderr, 0,
                           "-c/--config '%s': no such file (the project's "
                           "rocky.json)\n",
                           g->config);
        fprintf(stderr, "hint: give the path of an existing rocky.json, or "
                        "drop -c\n");
        return 1;
    }
    size_t dir_len = slash ? (size_t)(slash - g->config) : 0;
    if (slash == g->config)
        dir_len = 1; /* "/rocky.json" */
    g->config_dir = slash ? strndup(g->config, dir_len) : strdup(".");
    return g->config_dir ? 0 : 1;
}

/* Parse the global options before the subcommand; *next is the index of
 * the subcommand. Returns -1 to go on, else the exit status. */
static int parse_globals(int argc, char **argv, struct globals *g, int *next)
{
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
        const char *a = argv[i];
        int missing = 0;
        const char *v;
        if ((v = option_value(argc, argv, &i, "--output", &missing)) ||
            (!missing && (v = option_value(argc, argv, &i, "-o", &missing)))) {
            if (check_output("", v) != 0)
                return 2;
            g->output = v;
        } else if (!missing && (v = option_value(argc, argv, &i, "--state-path",
                                                 &missing))) {
            g->state_path = v;
        } else if (!missing &&
                   ((v = option_value(argc, argv, &i, "--config", &missing)) ||
                    (!missing &&
                     (v = option_value(argc, argv, &i, "-c", &missing))))) {
            g->config = v;
        } else if (missing) {
            return usage_error("%s needs a value", a);
        } else {
            break; /* --help, --version or an unknown option */
        }
    }
    *next = i;
    if (g->config != NULL) {
        int rc = check_config(g);
        if (rc != 0)
            return rc;
    }
    return -1;
}

/* Same directory? By inode when both exist, else by spelling. */
static int same_dir(const char *a, const char *b)
{
    struct stat sa, sb;
    if (stat(a, &sa) == 0 && stat(b, &sb) == 0)
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    return strcmp(a, b) == 0;
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

static int cmd_run(int argc, char **argv, const struct globals *g)
{
    struct rocky_run_options o;
    memset(&o, 0, sizeof o);
    if (g->output != NULL)
        o.json = strcmp(g->output, "json") == 0;
    /* argv outlives the run, so options borrow from it. */
    o.plugins = calloc((size_t)argc, sizeof *o.plugins);
    o.select = calloc((size_t)argc, sizeof *o.select);
    o.exclude = calloc((size_t)argc, sizeof *o.exclude);
    if (o.plugins == NULL || o.select == NULL || o.exclude == NULL)
        return 1;
    int status = -1;
    for (int i = 1; i < argc && status < 0; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = strcmp(a, "--threads") == 0 || strcmp(a, "--plugin") == 0 ||
                    strcmp(a, "--state") == 0 || strcmp(a, "--select") == 0 ||
                    strcmp(a, "--exclude") == 0 ||
                    strcmp(a, "--trigger") == 0 || strcmp(a, "-o") == 0 ||
                    strcmp(a, "--output") == 0;
        if (strncmp(a, "--output=", 9) == 0 || strncmp(a, "-o=", 3) == 0) {
            const char *v = strchr(a, '=') + 1;
            if (check_output("run: ", v) != 0) {
                status = 2;
                break;
            }
            o.json = strcmp(v, "json") == 0;
            continue;
        }
        if (strcmp(a, "--state-path") == 0 || strcmp(a, "-c") == 0 ||
            strcmp(a, "--config") == 0 ||
            strncmp(a, "--state-path=", 13) == 0 ||
            strncmp(a, "--config=", 9) == 0) {
            status = usage_error("run: '%s' goes before the command, as in "
                                 "upstream rocky (rocky --state-path PATH "
                                 "run, rocky -c DIR/rocky.json run); here, "
                                 "use --state PATH or PROJECT_DIR",
                                 a);
            break;
        }
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
        } else if (strcmp(a, "--exclude") == 0) {
            o.exclude[o.nexclude++] = argv[i + 1];
        } else if (strcmp(a, "--trigger") == 0) {
            if (!valid_trigger(val))
                status = usage_error("run: --trigger wants a word like "
                                     "manual, ci or schedule, not '%s'",
                                     val);
            o.trigger = val;
        } else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
            if (check_output("run: ", val) != 0)
                status = 2;
            o.json = strcmp(val, "json") == 0;
        } else if (strcmp(a, "--json") == 0) {
            o.json = 1;
            continue;
        } else if (strcmp(a, "--no-progress") == 0) {
            o.no_progress = 1;
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
    if (status < 0 && g->state_path != NULL) {
        if (o.state_path != NULL && strcmp(o.state_path, g->state_path) != 0)
            status = usage_error("run: --state-path and --state name "
                                 "different stores ('%s'); give one",
                                 o.state_path);
        o.state_path = g->state_path;
    }
    if (status < 0 && g->config_dir != NULL) {
        if (o.project_dir != NULL && !same_dir(o.project_dir, g->config_dir))
            status = usage_error("run: PROJECT_DIR '%s' is not the "
                                 "directory of -c/--config; give one",
                                 o.project_dir);
        o.project_dir = g->config_dir;
    }
    if (status < 0)
        status = rocky_run_main(&o);
    free(o.plugins);
    free(o.select);
    free(o.exclude);
    return status;
}

#ifdef ROCKY_HAVE_TRACE_CLI
/* `rocky [globals] trace ...`: the store a -c/--config names is looked up
 * only when nothing closer (--state-path, ROCKY_STATE) names one; the
 * trace command's own --state still beats it. */
static int cmd_trace(int argc, char **argv, const struct globals *g)
{
    struct rocky_trace_cli_globals tg = {
        .output = g->output,
        .state_path = g->state_path,
    };
    char *config_state = NULL;
    const char *env = getenv("ROCKY_STATE");
    if (g->config_dir != NULL && g->state_path == NULL &&
        (env == NULL || env[0] == '\0')) {
        char err[1024] = "";
        int rc = rocky_project_config_state(g->config_dir, &config_state, err,
                                            sizeof err);
        if (rc != 0) {
            fprintf(stderr, "rocky: -c/--config: ");
            rocky_term_fprintf(stderr, 0, "%s\n",
                               err[0] ? err : rocky_strerror(rc));
            return 1;
        }
        tg.config_state_path = config_state;
    }
    int status = rocky_trace_cli_run(argc, argv, &tg);
    free(config_state);
    return status;
}

/* `rocky [globals] runs ...`: the store as for trace; --prune's rules
 * default to the project's rocky.json "retention" (-c's, else the current
 * directory's). */
static int cmd_runs(int argc, char **argv, const struct globals *g)
{
    struct rocky_trace_cli_globals tg = {
        .output = g->output,
        .state_path = g->state_path,
    };
    struct rocky_runs_cli_globals rg = {.trace = &tg};
    char *config_state = NULL;
    const char *env = getenv("ROCKY_STATE");
    char err[1024] = "";
    int rc = 0;
    if (g->config_dir != NULL && g->state_path == NULL &&
        (env == NULL || env[0] == '\0'))
        rc = rocky_project_config_state(g->config_dir, &config_state, err,
                                        sizeof err);
    tg.config_state_path = config_state;
    /* rocky.json is read for --prune alone: a listing works anywhere. */
    struct rocky_retention retention = {0};
    int pruning = 0;
    for (int i = 1; i < argc; i++)
        pruning |= strcmp(argv[i], "--prune") == 0;
    if (rc == 0 && pruning)
        rc = rocky_project_config_retention(g->config_dir ? g->config_dir : ".",
                                            &retention, err, sizeof err);
    if (rc != 0) {
        rocky_term_fprintf(stderr, 0, "rocky: %s\n",
                           err[0] ? err : rocky_strerror(rc));
        free(config_state);
        return 1;
    }
    rg.keep_runs = retention.keep_runs;
    rg.keep_days = retention.keep_days;
    int status = rocky_runs_cli_run(argc, argv, &rg);
    free(config_state);
    return status;
}
#endif

static int dispatch(int argc, char **argv, struct globals *g)
{
    int first = 1;
    int rc = parse_globals(argc, argv, g, &first);
    if (rc >= 0)
        return rc;
    if (first >= argc) {
        fputs(usage_text, stderr);
        return 2;
    }
    const char *cmd = argv[first];
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
        return cmd_run(argc - first, argv + first, g);
    if (strcmp(cmd, "trace") == 0) {
#ifdef ROCKY_HAVE_TRACE_CLI
        return cmd_trace(argc - first, argv + first, g);
#else
        fprintf(stderr, "rocky: this build has no trace command\n");
        return 1;
#endif
    }
    if (strcmp(cmd, "runs") == 0) {
#ifdef ROCKY_HAVE_TRACE_CLI
        return cmd_runs(argc - first, argv + first, g);
#else
        fprintf(stderr, "rocky: this build has no runs command\n");
        return 1;
#endif
    }
    if (cmd[0] == '-')
        return usage_error("unknown option '%s'", cmd);
    return usage_error("unknown command '%s'", cmd);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage_text, stderr);
        return 2;
    }
    /* Before any SQLite call, while the process has one thread: no memory
     * statistics (nothing here reads them). With them on, every SQLite
     * malloc and free takes one process-wide mutex, which a run's workers
     * and its state-store writer, each on its own connection, fight over
     * once per model statement and store record. */
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    struct globals g = {0};
    int status = dispatch(argc, argv, &g);
    free(g.config_dir);
    return status;
}
