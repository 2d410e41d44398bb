/* runs.c — `rocky runs` / `rocky trace --list`: options, the store, and
 * --prune (see runs.h). */
#include "runs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "clock.h"
#include "render.h"
#include "rocky/error.h"
#include "rocky/run_model.h"
#include "term_escape.h"

#define EXIT_FAILURE_1 1
#define EXIT_USAGE     2
#define MAX_LIMIT      1000000
#define MAX_KEEP       1000000000L

struct options {
    const char *prog;
    const char *state;
    const char *model;
    const char *status_word;
    int status; /* -1 any */
    int64_t since_wall_ns;
    long limit;
    int json;
    long width;
    int help;
    int prune, dry_run, force;
    long keep_runs, keep_days;
};

static const char usage_text[] =
    "usage: %s [options]\n"
    "       %s --prune [--keep-runs N] [--keep-days D] [--dry-run] "
    "[--force]\n"
    "\n"
    "List recorded runs, newest first.\n"
    "\n"
    "options:\n"
    "  --limit N          at most N runs (default 20)\n"
    "  --status S         only runs with this status: success,\n"
    "                     partial_failure, failure, running, interrupted,\n"
    "                     crashed, incomplete (or TraceOutput's words:\n"
    "                     interrupted_failure, ...); with --model, the\n"
    "                     model's status (success, failed, skipped, ...)\n"
    "  --since WHEN       started at or after WHEN: 2026-11-25,\n"
    "                     2026-11-25T06:00[:00][Z] (UTC), or 30m, 2h, 3d, 1w "
    "ago\n"
    "  --model NAME       that model's executions across runs, with a\n"
    "                     sparkline of its durations\n"
    "  --json             the versioned JSON document (also -o json)\n"
    "  -o, --output json|table\n"
    "  --state PATH       state store (default: $ROCKY_STATE, else\n"
    "                     " ROCKY_STORE_DEFAULT_FILE ")\n"
    "  --width N          columns of the table (default: terminal)\n"
    "\n"
    "retention:\n"
    "  --prune            delete the runs no rule keeps: the --keep-runs N\n"
    "                     newest and those younger than --keep-days D\n"
    "                     (defaults: rocky.json \"retention\"); never a\n"
    "                     running run, nor one awaiting telemetry delivery\n"
    "                     unless --force; gives the space back to the disk\n"
    "  --dry-run          say what would go; change nothing\n"
    "  --force            prune runs awaiting delivery too\n"
    "\n"
    "A run id anywhere (rocky trace ID, --export ID) may be a unique prefix,\n"
    "latest, latest~N (N before the latest) or latest-failed.\n";

static int usage(const struct options *o, const char *fmt, const char *arg)
{
    rocky_term_fprintf(stderr, 0, "%s: ", o->prog);
    rocky_term_fprintf(stderr, 0, fmt, arg);
    rocky_term_fprintf(stderr, 0, "\nrun `%s --help` for usage\n", o->prog);
    return EXIT_USAGE;
}

static int fail(const struct options *o, const char *msg, const char *hint)
{
    rocky_term_fprintf(stderr, 0, "%s: %s\n", o->prog, msg);
    if (hint != NULL)
        rocky_term_fprintf(stderr, 0, "hint: %s\n", hint);
    return EXIT_FAILURE_1;
}

static int parse_long(const char *v, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0' || n < lo || n > hi)
        return -1;
    *out = n;
    return 0;
}

/* Our words and TraceOutput's, for runs. */
static int run_status_word(const char *w)
{
    static const struct {
        const char *word;
        int status;
    } words[] = {
        {"running", ROCKY_RUN_RUNNING},
        {"success", ROCKY_RUN_SUCCESS},
        {"partial_failure", ROCKY_RUN_PARTIAL_FAILURE},
        {"failure", ROCKY_RUN_FAILURE},
        {"interrupted", ROCKY_RUN_INTERRUPTED},
        {"interrupted_failure", ROCKY_RUN_INTERRUPTED},
        {"crashed", ROCKY_RUN_CRASHED},
        {"crashed_failure", ROCKY_RUN_CRASHED},
        {"incomplete", ROCKY_RUN_INCOMPLETE},
        {"incomplete_error", ROCKY_RUN_INCOMPLETE},
    };
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        if (strcmp(w, words[i].word) == 0)
            return words[i].status;
    return -1;
}

static int model_status_word(const char *w)
{
    for (uint32_t s = ROCKY_MODEL_PENDING; s <= ROCKY_MODEL_INTERRUPTED; s++)
        if (strcmp(w, rocky_model_status_name(s)) == 0)
            return (int)s;
    if (strcmp(w, "interrupted_failure") == 0)
        return ROCKY_MODEL_INTERRUPTED;
    return -1;
}

/* WHEN: "30m", "2h", "3d", "1w", "45s" before now, or an ISO date / time in
 * UTC. 0 and *out set, or -1. */
static int parse_since(const char *v, int64_t now, int64_t *out)
{
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno == 0 && end != v && n >= 0 && end[0] != '\0' && end[1] == '\0' &&
        end - v <= 9) {
        int64_t unit;
        switch (*end) {
        case 's': unit = 1; break;
        case 'm': unit = 60; break;
        case 'h': unit = 3600; break;
        case 'd': unit = 86400; break;
        case 'w': unit = 7 * 86400; break;
        default: unit = 0;
        }
        if (unit > 0) {
            *out = now - (int64_t)n * unit * INT64_C(1000000000);
            return 0;
        }
    }
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *rest = strptime(v, "%Y-%m-%d", &tm);
    if (rest == NULL)
        return -1;
    if (*rest == 'T' || *rest == ' ') {
        const char *t = strptime(rest + 1, "%H:%M:%S", &tm);
        if (t == NULL)
            t = strptime(rest + 1, "%H:%M", &tm);
        if (t == NULL)
            return -1;
        rest = t;
    }
    if (*rest == 'Z')
        rest++;
    if (*rest != '\0')
        return -1;
    *out = (int64_t)timegm(&tm) * INT64_C(1000000000);
    return 0;
}

static int parse(int argc, char **argv, struct options *o)
{
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        const char *value = NULL;
        char name[32];
        const char *eq = strchr(a, '=');
        if (a[0] == '-' && eq != NULL && (size_t)(eq - a) < sizeof name) {
            snprintf(name, sizeof name, "%.*s", (int)(eq - a), a);
            value = eq + 1;
        } else {
            snprintf(name, sizeof name, "%s", a);
        }
        static const char *const with_value[] = {
            "--limit", "--status",    "--since",     "--model", "--state",
            "--width", "--keep-runs", "--keep-days", "-o",      "--output"};
        int takes = 0;
        for (size_t k = 0; k < sizeof with_value / sizeof *with_value; k++)
            takes |= strcmp(name, with_value[k]) == 0;
        if (takes && value == NULL) {
            if (i + 1 >= argc)
                return usage(o, "%s needs a value", name);
            value = argv[++i];
        } else if (!takes && value != NULL) {
            return usage(o, "unknown option '%s'", a);
        }
        if (strcmp(name, "--limit") == 0) {
            if (parse_long(value, 1, MAX_LIMIT, &o->limit) != 0)
                return usage(o,
                             "--limit '%s' is not a number from 1 to "
                             "1000000",
                             value);
        } else if (strcmp(name, "--status") == 0) {
            o->status_word = value;
        } else if (strcmp(name, "--since") == 0) {
            if (parse_since(value, rocky_clock_wall_ns(), &o->since_wall_ns) !=
                0)
                return usage(o,
                             "--since '%s' is neither a date/time "
                             "(2026-11-25, 2026-11-25T06:00:00Z) nor an age "
                             "(30m, 2h, 3d, 1w)",
                             value);
        } else if (strcmp(name, "--model") == 0) {
            o->model = value;
        } else if (strcmp(name, "--state") == 0) {
            o->state = value;
        } else if (strcmp(name, "--width") == 0) {
            if (parse_long(value, ROCKY_TRACE_MIN_WIDTH, 1000, &o->width) != 0)
                return usage(o,
                             "--width '%s' is not a number of columns "
                             "from 40 to 1000",
                             value);
        } else if (strcmp(name, "--keep-runs") == 0) {
            if (parse_long(value, 1, MAX_KEEP, &o->keep_runs) != 0)
                return usage(o,
                             "--keep-runs '%s' is not a number of 1 or "
                             "more",
                             value);
        } else if (strcmp(name, "--keep-days") == 0) {
            if (parse_long(value, 1, MAX_KEEP, &o->keep_days) != 0)
                return usage(o,
                             "--keep-days '%s' is not a number of 1 or "
                             "more",
                             value);
        } else if (strcmp(name, "-o") == 0 || strcmp(name, "--output") == 0) {
            if (strcmp(value, "json") == 0)
                o->json = 1;
            else if (strcmp(value, "table") == 0 || strcmp(value, "md") == 0)
                o->json = 0;
            else
                return usage(o, "-o/--output wants json or table, not '%s'",
                             value);
        } else if (strcmp(name, "--json") == 0) {
            o->json = 1;
        } else if (strcmp(name, "--prune") == 0) {
            o->prune = 1;
        } else if (strcmp(name, "--dry-run") == 0) {
            o->dry_run = 1;
        } else if (strcmp(name, "--force") == 0) {
            o->force = 1;
        } else if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
            o->help = 1;
        } else if (a[0] == '-') {
            return usage(o, "unknown option '%s'", a);
        } else {
            return usage(o,
                         "unexpected argument '%s' (to show one run: rocky "
                         "trace ID)",
                         a);
        }
    }
    if (o->prune) {
        if (o->model || o->status_word || o->since_wall_ns || o->limit)
            return usage(o, "%s",
                         "--prune takes only --keep-runs, --keep-days, "
                         "--dry-run, --force and --state");
    } else if (o->keep_runs || o->keep_days || o->dry_run || o->force) {
        return usage(o, "%s",
                     "--keep-runs, --keep-days, --dry-run and --force go "
                     "with --prune");
    }
    o->status = -1;
    if (o->status_word != NULL) {
        o->status = o->model ? model_status_word(o->status_word)
                             : run_status_word(o->status_word);
        if (o->status < 0)
            return usage(o,
                         o->model ? "--status '%s' is not a model status "
                                    "(success, failed, skipped, interrupted, "
                                    "running, pending)"
                                  : "--status '%s' is not a run status "
                                    "(success, partial_failure, failure, "
                                    "running, interrupted, crashed, "
                                    "incomplete)",
                         o->status_word);
    }
    return 0;
}

/* LC_ALL, else LC_CTYPE, else LANG names UTF-8 (POSIX precedence). */
static int utf8_locale(void)
{
    static const char *const vars[] = {"LC_ALL", "LC_CTYPE", "LANG"};
    for (size_t i = 0; i < 3; i++) {
        const char *v = getenv(vars[i]);
        if (v == NULL || v[0] == '\0')
            continue;
        return strcasestr(v, "utf-8") != NULL || strcasestr(v, "utf8") != NULL;
    }
    return 0;
}

static int open_store(const struct options *o, const char *path, int writable,
                      struct rocky_store **store)
{
    char err[1024] = "";
    int rc =
        rocky_store_open(path, ROCKY_STORE_READONLY, store, err, sizeof err);
    if (rc == 0 && writable) {
        /* Never create a store to prune it: read-only first. */
        rocky_store_close(*store);
        *store = NULL;
        rc = rocky_store_open(path, ROCKY_STORE_READWRITE, store, err,
                              sizeof err);
    }
    if (rc == 0)
        return 0;
    return fail(o, err[0] ? err : rocky_strerror(rc),
                rc == ROCKY_ENOTFOUND
                    ? "run `rocky run` in the project, or point --state (or "
                      "ROCKY_STATE) at its " ROCKY_STORE_DEFAULT_FILE
                    : NULL);
}

static int prune(const struct options *o, const char *path,
                 const struct rocky_runs_cli_globals *g)
{
    struct rocky_store_prune_opts p = {
        .keep_runs = (uint32_t)o->keep_runs,
        .keep_days = (uint32_t)o->keep_days,
        .now_wall_ns = rocky_clock_wall_ns(),
        .force = o->force,
        .dry_run = o->dry_run,
        .compact = 1,
    };
    if (p.keep_runs == 0 && p.keep_days == 0 && g != NULL) {
        p.keep_runs = g->keep_runs;
        p.keep_days = g->keep_days;
    }
    if (p.keep_runs == 0 && p.keep_days == 0)
        return usage(o, "%s",
                     "--prune needs a rule: --keep-runs N, --keep-days D, or "
                     "\"retention\": {\"keep_runs\": N} in rocky.json");
    struct rocky_store *store = NULL;
    int status = open_store(o, path, !o->dry_run, &store);
    if (status != 0)
        return status;
    struct rocky_store_prune_report r;
    char err[1024] = "";
    int rc = rocky_store_prune(store, &p, &r, err, sizeof err);
    rocky_store_close(store);
    if (rc != 0)
        return fail(o, err[0] ? err : rocky_strerror(rc), NULL);
    if (r.full_vacuum)
        printf("compacted %s once with VACUUM: it was created before "
               "incremental vacuum (schema 4); later prunes shrink it "
               "incrementally\n",
               path);
    if (o->dry_run)
        printf("dry run: would prune %zu run%s of %zu, keeping %zu\n",
               r.runs_pruned, r.runs_pruned == 1 ? "" : "s",
               r.runs_pruned + r.runs_left, r.runs_left);
    else
        printf("pruned %zu run%s (%zu model record%s), %zu left; %lld bytes "
               "freed (%lld -> %lld)\n",
               r.runs_pruned, r.runs_pruned == 1 ? "" : "s", r.models_pruned,
               r.models_pruned == 1 ? "" : "s", r.runs_left,
               (long long)(r.bytes_before > r.bytes_after
                               ? r.bytes_before - r.bytes_after
                               : 0),
               (long long)r.bytes_before, (long long)r.bytes_after);
    if (r.kept_pending)
        printf("kept %zu run%s awaiting telemetry delivery (send them with "
               "`rocky trace --export-pending`, or prune them with "
               "--force)\n",
               r.kept_pending, r.kept_pending == 1 ? "" : "s");
    if (r.kept_running)
        printf("kept %zu run%s still running\n", r.kept_running,
               r.kept_running == 1 ? "" : "s");
    return fflush(stdout) == 0 ? 0 : EXIT_FAILURE_1;
}

static int list(const struct options *o, const char *path)
{
    struct rocky_store *store = NULL;
    int status = open_store(o, path, 0, &store);
    if (status != 0)
        return status;
    struct rocky_store_run_filter f = {
        .limit = o->limit > 0 ? (size_t)o->limit : 20,
        .status = o->status,
        .since_wall_ns = o->since_wall_ns,
    };
    char err[1024] = "";
    int64_t now = rocky_clock_wall_ns();
    size_t width = rocky_trace_cli_width(o->width);
    int rc;
    size_t n = 0;
    setvbuf(stdout, NULL, _IOFBF, 1 << 16);
    if (o->model != NULL) {
        struct rocky_store_model_history *h = NULL;
        rc = rocky_store_model_history(store, o->model, &f, &h, &n, err,
                                       sizeof err);
        if (rc == 0 && o->json)
            rc = rocky_runs_render_history_json(stdout, o->model, h, n, now);
        else if (rc == 0 && n == 0)
            rocky_term_fprintf(
                stdout, 0, "no executions of model '%s' in %s%s\n", o->model,
                path,
                o->status_word || o->since_wall_ns ? " that match the filters"
                                                   : "");
        else if (rc == 0)
            rc = rocky_runs_render_history_text(stdout, o->model, h, n, now,
                                                width, utf8_locale());
        rocky_store_model_history_free(h, n);
    } else {
        struct rocky_store_run_summary *r = NULL;
        rc = rocky_store_runs_list(store, &f, &r, &n, err, sizeof err);
        if (rc == 0 && o->json)
            rc = rocky_runs_render_json(stdout, r, n, now);
        else if (rc == 0 && n == 0)
            printf("no runs in %s%s\n", path,
                   o->status_word || o->since_wall_ns
                       ? " match the filters"
                       : " yet (run `rocky run` first)");
        else if (rc == 0)
            rc = rocky_runs_render_text(stdout, r, n, now, width);
        rocky_store_runs_free(r, n);
    }
    rocky_store_close(store);
    if (rc == 0 && fflush(stdout) != 0)
        rc = ROCKY_EIO;
    if (rc != 0)
        return fail(o,
                    err[0]            ? err
                    : rc == ROCKY_EIO ? "writing the output failed"
                                      : rocky_strerror(rc),
                    NULL);
    return 0;
}

int rocky_runs_cli_run(int argc, char **argv,
                       const struct rocky_runs_cli_globals *g)
{
    struct options o = {0};
    o.prog = argc > 0 && argv[0] ? argv[0] : "rocky runs";
    if (strcmp(o.prog, "runs") == 0)
        o.prog = "rocky runs";
    const struct rocky_trace_cli_globals *tg = g ? g->trace : NULL;
    if (tg != NULL && tg->output != NULL)
        o.json = strcmp(tg->output, "json") == 0;
    int status = parse(argc, argv, &o);
    if (status != 0)
        return status;
    if (o.help) {
        printf(usage_text, o.prog, o.prog);
        return 0;
    }
    if (tg != NULL && tg->state_path != NULL) {
        if (o.state != NULL && strcmp(o.state, tg->state_path) != 0)
            return usage(&o, "%s",
                         "--state-path and --state name different stores; "
                         "give one");
        o.state = tg->state_path;
    }
    const char *path = o.state;
    if (path == NULL)
        path = getenv("ROCKY_STATE");
    if ((path == NULL || path[0] == '\0') && tg != NULL)
        path = tg->config_state_path;
    if (path == NULL || path[0] == '\0')
        path = ROCKY_STORE_DEFAULT_FILE;
    return o.prune ? prune(&o, path, g) : list(&o, path);
}
