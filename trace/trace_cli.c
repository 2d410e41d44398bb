/* trace_cli.c — `rocky trace` / `rocky-trace`: options, store access,
 * errors with hints, dispatch to a renderer (see trace_cli.h).
 *
 * The option table keeps the parser easy to extend: add a row and a field
 * in struct options. */
#include "trace_cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "clock.h"
#include "compare.h"
#include "export.h"
#include "follow.h"
#include "render.h"
#include "resend.h"
#include "rocky/error.h"
#include "runs.h"
#include "store.h"
#include "term_escape.h"
#include "trace.h"

#define DEFAULT_WIDTH  100
#define MAX_WIDTH      1000
#define POLL_MS        200
#define EXIT_FAILURE_1 1
#define EXIT_USAGE     2
#define MAX_PLUGINS    16
#define MAX_PENDING    100000

enum format { FORMAT_TEXT, FORMAT_JSON, FORMAT_CHROME, FORMAT_HTML };

struct options {
    const char *run;          /* run id or "latest" */
    const char *model;        /* --model */
    const char *compare;      /* --compare: the baseline run */
    const char *state;        /* --state */
    const char *global_state; /* the runner's --state-path, before "trace" */
    enum format format;
    long width; /* 0: detect */
    int follow;
    int help;
    int export_run;     /* --export                                     */
    int export_pending; /* --export-pending                             */
    const char *plugins[MAX_PLUGINS]; /* --plugin, in order             */
    size_t nplugins;
};

static const char usage_text[] =
    "usage: %s <run_id|prefix|latest|latest~N|latest-failed> [options]\n"
    "\n"
    "Show a recorded run's timeline.\n"
    "\n"
    "options:\n"
    "  --model NAME       only this model's executions\n"
    "  --compare RUN      what changed from RUN (the baseline, before) to\n"
    "                     this run (after): durations, rows, statuses,\n"
    "                     models added/removed, critical path; text, json\n"
    "                     or html\n"
    "  -o, --output json|table\n"
    "                     TraceOutput JSON, or the text view (upstream\n"
    "                     rocky's flag; also before the command:\n"
    "                     `rocky -o json trace latest`). Default: text,\n"
    "                     even when piped (upstream picks json there)\n"
    "  --json             same as --format json and -o json\n"
    "  --format FORMAT    text (default), json, chrome (Perfetto /\n"
    "                     chrome://tracing) or html (self-contained page)\n"
    "  --state PATH       state store (default: $ROCKY_STATE, else\n"
    "                     " ROCKY_STORE_DEFAULT_FILE "); `rocky --state-path\n"
    "                     PATH trace` (upstream's spelling) is the same\n"
    "  --width N          columns of the text view (default: terminal)\n"
    "  --follow           live view of a running run; exits when it ends\n"
    "  --list             the run history, as `rocky runs` (--list --help)\n"
    "  -h, --help         this help\n"
    "\n"
    "late delivery (at least once):\n"
    "  --export           send the run's spans again, with its original ids\n"
    "                     and times, through the plugin instances it ran with\n"
    "                     (created again as recorded, rocky.json config\n"
    "                     included) that did not confirm delivery, or all of\n"
    "                     them if every one did; marked delivered once they\n"
    "                     confirm\n"
    "  --export-pending   the same for every run whose delivery was never\n"
    "                     confirmed, oldest first (give no run id)\n"
    "  --plugin PATH      export through this plugin instead (repeatable),\n"
    "                     e.g. rocky_otel.so with OTEL_EXPORTER_OTLP_ENDPOINT\n"
    "                     set; ROCKY_PLUGINS (colon-separated) serves runs\n"
    "                     recorded without their plugins\n"
    "  Settings a plugin took from the environment are not recorded: give\n"
    "  the export the same environment as the run.\n";

static int set_model(struct options *o, const char *v)
{
    o->model = v;
    return 0;
}

static int set_compare(struct options *o, const char *v)
{
    o->compare = v;
    return 0;
}

static int set_state(struct options *o, const char *v)
{
    o->state = v;
    return 0;
}

static int set_json(struct options *o, const char *v)
{
    o->format = FORMAT_JSON;
    return 0;
}

static int set_follow(struct options *o, const char *v)
{
    o->follow = 1;
    return 0;
}

static int set_export(struct options *o, const char *v)
{
    o->export_run = 1;
    return 0;
}

static int set_export_pending(struct options *o, const char *v)
{
    o->export_pending = 1;
    return 0;
}

static int add_plugin(struct options *o, const char *v)
{
    if (o->nplugins == MAX_PLUGINS) {
        rocky_term_fprintf(stderr, 0,
                           "rocky trace: more than %d --plugin options\n",
                           MAX_PLUGINS);
        return ROCKY_EINVAL;
    }
    o->plugins[o->nplugins++] = v;
    return 0;
}

static int set_help(struct options *o, const char *v)
{
    o->help = 1;
    return 0;
}

static int set_format(struct options *o, const char *v)
{
    static const char *const names[] = {"text", "json", "chrome", "html"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        if (strcmp(v, names[i]) == 0) {
            o->format = (enum format)i;
            return 0;
        }
    }
    rocky_term_fprintf(
        stderr, 0,
        "rocky trace: unknown format '%s' (use text, json, chrome or "
        "html)\n",
        v);
    return ROCKY_EINVAL;
}

/* Upstream's -o/--output: json or table (md, which upstream renders as
 * table outside `rocky brief`, is table too). */
static int set_output(struct options *o, const char *v)
{
    if (strcmp(v, "json") == 0)
        o->format = FORMAT_JSON;
    else if (strcmp(v, "table") == 0 || strcmp(v, "md") == 0)
        o->format = FORMAT_TEXT;
    else {
        rocky_term_fprintf(stderr, 0,
                           "rocky trace: -o/--output wants json or table, not "
                           "'%s' (--format also takes chrome and html)\n",
                           v);
        return ROCKY_EINVAL;
    }
    return 0;
}

/* Upstream's top-level flags, given after the subcommand: say where they
 * go rather than "unknown option". */
static int misplaced_global(struct options *o, const char *v)
{
    (void)o;
    rocky_term_fprintf(
        stderr, 0,
        "rocky trace: '%s' goes before the command (rocky %s PATH trace "
        "...), as in upstream rocky; here, use --state PATH\n",
        v, v);
    return ROCKY_EINVAL;
}

static int set_width(struct options *o, const char *v)
{
    char *end;
    errno = 0;
    long w = strtol(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0' || w < ROCKY_TRACE_MIN_WIDTH ||
        w > MAX_WIDTH) {
        rocky_term_fprintf(
            stderr, 0,
            "rocky trace: --width '%s' is not a number of columns "
            "between %d and %d\n",
            v, ROCKY_TRACE_MIN_WIDTH, MAX_WIDTH);
        return ROCKY_EINVAL;
    }
    o->width = w;
    return 0;
}

static const struct option_spec {
    const char *name;
    int takes_value; /* 1 a value, 0 a flag, -1 a global flag misplaced
                        after the subcommand: apply() gets its name */
    int (*apply)(struct options *o, const char *value);
} option_specs[] = {
    {"--model", 1, set_model},
    {"--compare", 1, set_compare},
    {"--state", 1, set_state},
    {"--format", 1, set_format},
    {"--output", 1, set_output},
    {"-o", 1, set_output},
    {"--width", 1, set_width},
    {"--json", 0, set_json},
    {"--follow", 0, set_follow},
    {"--help", 0, set_help},
    {"-h", 0, set_help},
    {"--export-pending", 0, set_export_pending},
    {"--export", 0, set_export},
    {"--plugin", 1, add_plugin},
    /* value = the option's own name (see parse) */
    {"--state-path", -1, misplaced_global},
    {"--config", -1, misplaced_global},
    {"-c", -1, misplaced_global},
};

/* Parse argv[1..]; accepts "--opt value" and "--opt=value". */
static int parse(int argc, char **argv, struct options *o)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (arg[0] != '-' || arg[1] == '\0') {
            if (o->run != NULL) {
                rocky_term_fprintf(
                    stderr, 0,
                    "rocky trace: more than one run given ('%s' and "
                    "'%s')\n",
                    o->run, arg);
                return ROCKY_EINVAL;
            }
            o->run = arg;
            continue;
        }
        const struct option_spec *spec = NULL;
        const char *value = NULL;
        for (size_t k = 0; k < sizeof option_specs / sizeof *option_specs;
             k++) {
            size_t len = strlen(option_specs[k].name);
            if (strncmp(arg, option_specs[k].name, len) != 0)
                continue;
            if (arg[len] == '\0' ||
                (arg[len] == '=' && option_specs[k].takes_value != 0)) {
                spec = &option_specs[k];
                value = arg[len] == '=' ? arg + len + 1 : NULL;
                break;
            }
        }
        if (spec == NULL) {
            rocky_term_fprintf(stderr, 0, "rocky trace: unknown option '%s'\n",
                               arg);
            return ROCKY_EINVAL;
        }
        if (spec->takes_value < 0)
            return spec->apply(o, spec->name);
        if (spec->takes_value && value == NULL) {
            if (i + 1 >= argc) {
                rocky_term_fprintf(stderr, 0, "rocky trace: %s needs a value\n",
                                   spec->name);
                return ROCKY_EINVAL;
            }
            value = argv[++i];
        }
        int rc = spec->apply(o, value);
        if (rc != 0)
            return rc;
    }
    if (o->global_state != NULL) {
        if (o->state != NULL && strcmp(o->state, o->global_state) != 0) {
            rocky_term_fprintf(stderr, 0,
                               "rocky trace: --state-path '%s' and --state "
                               "'%s' name different stores; give one\n",
                               o->global_state, o->state);
            return ROCKY_EINVAL;
        }
        o->state = o->global_state;
    }
    if (o->export_run && o->export_pending) {
        rocky_term_fprintf(stderr, 0,
                           "rocky trace: --export and --export-pending exclude "
                           "each other\n");
        return ROCKY_EINVAL;
    }
    if (o->export_pending && o->run != NULL) {
        rocky_term_fprintf(
            stderr, 0,
            "rocky trace: --export-pending exports every unconfirmed "
            "run; drop the run id '%s' (or use --export for one run)\n",
            o->run);
        return ROCKY_EINVAL;
    }
    if (o->compare != NULL) {
        const char *clash = o->follow                    ? "--follow"
                            : o->export_run              ? "--export"
                            : o->export_pending          ? "--export-pending"
                            : o->format == FORMAT_CHROME ? "--format chrome"
                                                         : NULL;
        if (clash != NULL) {
            rocky_term_fprintf(stderr, 0,
                               "rocky trace: --compare '%s' cannot be used "
                               "with %s (it compares two finished records "
                               "as text, json or html)\n",
                               o->compare, clash);
            return ROCKY_EINVAL;
        }
        if (strcmp(o->compare, o->run ? o->run : "latest") == 0) {
            rocky_term_fprintf(stderr, 0,
                               "rocky trace: --compare '%s' names the run "
                               "shown; compare two different runs\n",
                               o->compare);
            return ROCKY_EINVAL;
        }
    }
    if ((o->export_run || o->export_pending) &&
        (o->follow || o->model || o->format != FORMAT_TEXT || o->width)) {
        rocky_term_fprintf(
            stderr, 0,
            "rocky trace: --export sends a whole run; it takes "
            "no --follow, --model, --json, -o json, --format or --width\n");
        return ROCKY_EINVAL;
    }
    if (o->nplugins > 0 && !o->export_run && !o->export_pending) {
        rocky_term_fprintf(stderr, 0,
                           "rocky trace: --plugin is only used with --export "
                           "or --export-pending\n");
        return ROCKY_EINVAL;
    }
    if (o->run == NULL)
        o->run = "latest";
    if (o->follow && o->format != FORMAT_TEXT) {
        rocky_term_fprintf(stderr, 0,
                           "rocky trace: --follow shows the text view only; "
                           "drop --json/--format/-o json to follow a run\n");
        return ROCKY_EINVAL;
    }
    return 0;
}

/* Columns of the terminal on `fd`, or 0 when it is none. */
static size_t tty_columns(int fd)
{
    struct winsize ws;
    if (fd >= 0 && isatty(fd) && ioctl(fd, TIOCGWINSZ, &ws) == 0 &&
        ws.ws_col > 0 && ws.ws_col <= MAX_WIDTH)
        return ws.ws_col;
    return 0;
}

/* --width, else the controlling terminal's width even when stdout is a
 * pipe (`rocky trace | less` draws on that terminal): stdout, stderr, then
 * /dev/tty; else $COLUMNS; else DEFAULT_WIDTH. */
static size_t detect_width(const struct options *o)
{
    if (o->width > 0)
        return (size_t)o->width;
    size_t cols = tty_columns(STDOUT_FILENO);
    if (cols == 0)
        cols = tty_columns(STDERR_FILENO);
    if (cols == 0) {
        int fd = open("/dev/tty", O_RDONLY | O_NOCTTY | O_CLOEXEC);
        if (fd >= 0) {
            cols = tty_columns(fd);
            close(fd);
        }
    }
    if (cols > 0)
        return cols;
    const char *columns = getenv("COLUMNS");
    if (columns != NULL) {
        long c = strtol(columns, NULL, 10);
        if (c > 0 && c <= MAX_WIDTH)
            return (size_t)c;
    }
    return DEFAULT_WIDTH;
}

size_t rocky_trace_cli_width(long requested)
{
    struct options o = {.width = requested};
    return detect_width(&o);
}

/* The hint printed under an error, by cause. */
static const char *hint_for(int code)
{
    switch (code) {
    case ROCKY_ENOTFOUND:
        return "run `rocky run` in the project, or point --state (or "
               "ROCKY_STATE) at its " ROCKY_STORE_DEFAULT_FILE;
    case ROCKY_EVERSION:
        return "this store was written by a newer rocky; upgrade rocky "
               "(or use the rocky that wrote it)";
    case ROCKY_ECORRUPT:
        return "the file is not a rocky state store or is damaged; check "
               "--state, or move it aside and `rocky run` again";
    default: return NULL;
    }
}

static int fail(const char *msg, int code, const char *hint)
{
    rocky_term_fprintf(stderr, 0, "rocky trace: %s\n", msg);
    if (hint == NULL)
        hint = hint_for(code);
    if (hint != NULL)
        rocky_term_fprintf(stderr, 0, "hint: %s\n", hint);
    return EXIT_FAILURE_1;
}

/* Load the run, turning "no runs at all" into the message users expect. */
static int load(struct rocky_store *store, const char *path, const char *run_id,
                struct rocky_run_record **rec)
{
    char err[1024] = "";
    char *full = NULL;
    int rc = rocky_store_resolve_run_id(store, run_id, &full, err, sizeof err);
    if (rc == ROCKY_EEXIST)
        return fail(err, rc,
                    "give more characters of the id (`rocky runs` lists "
                    "them)");
    if (rc == 0) {
        rc = rocky_store_run_load(store, full, rec, err, sizeof err);
        free(full);
    }
    if (rc == 0)
        return 0;
    if (rc == ROCKY_ENOTFOUND) {
        char *ids[1];
        size_t n = 0;
        if (rocky_store_recent_run_ids(store, ids, 1, &n) == 0 && n == 0) {
            snprintf(err, sizeof err,
                     "no runs recorded yet — run `rocky run` first (state "
                     "store %s)",
                     path);
            return fail(err, rc,
                        "`rocky run` in the project records a run here; if "
                        "you expected runs, check --state (or ROCKY_STATE)");
        }
        for (size_t i = 0; i < n; i++)
            free(ids[i]);
        return fail(err, rc,
                    "pass `latest` or one of the recent run ids listed");
    }
    return fail(err[0] ? err : rocky_strerror(rc), rc, NULL);
}

static int render(const struct options *o, const struct rocky_trace *t)
{
    switch (o->format) {
    case FORMAT_JSON: return rocky_trace_render_json(stdout, t);
    case FORMAT_CHROME: return rocky_trace_render_chrome(stdout, t);
    case FORMAT_HTML: return rocky_trace_render_html(stdout, t);
    case FORMAT_TEXT:
    default: return rocky_trace_render_text(stdout, t, detect_width(o));
    }
}

/* --compare: load both runs, build both timelines (whole runs: the
 * critical paths and run figures do not depend on --model), compare,
 * render. */
static int compare(const struct options *o, struct rocky_store *store,
                   const char *path)
{
    struct rocky_run_record *rec[2] = {NULL, NULL}; /* before, after */
    struct rocky_trace t[2];
    struct rocky_compare cmp = {0};
    memset(t, 0, sizeof t);
    char err[1024] = "";
    int status = load(store, path, o->compare, &rec[0]);
    if (status == 0)
        status = load(store, path, o->run, &rec[1]);
    if (status == 0 && strcmp(rec[0]->run.run_id, rec[1]->run.run_id) == 0) {
        rocky_term_fprintf(stderr, 0,
                           "rocky trace: --compare '%s' and '%s' are the same "
                           "run (%s); compare two different runs\n",
                           o->compare, o->run, rec[0]->run.run_id);
        status = EXIT_USAGE;
    }
    int64_t now = rocky_clock_wall_ns();
    int rc = 0;
    for (int k = 0; status == 0 && rc == 0 && k < 2; k++)
        rc = rocky_trace_build(rec[k], NULL, now, &t[k], err, sizeof err);
    if (status == 0 && rc == 0)
        rc = rocky_compare_build(&t[0], &t[1], o->model, &cmp, err, sizeof err);
    if (status == 0 && rc != 0)
        status = fail(err[0] ? err : rocky_strerror(rc), rc,
                      rc == ROCKY_ENOTFOUND ? "drop --model to compare every "
                                              "model of the runs"
                                            : "");
    if (status == 0) {
        setvbuf(stdout, NULL, _IOFBF, 1 << 20);
        if (o->format == FORMAT_JSON)
            rc = rocky_compare_render_json(stdout, &cmp);
        else if (o->format == FORMAT_HTML)
            rc = rocky_trace_render_html_with(
                stdout, &t[1], rocky_compare_render_html_section, &cmp);
        else
            rc = rocky_compare_render_text(stdout, &cmp, detect_width(o));
        if (rc == 0 && fflush(stdout) != 0)
            rc = ROCKY_EIO;
        if (rc != 0)
            status = fail(rc == ROCKY_EIO ? "writing the output failed"
                                          : rocky_strerror(rc),
                          rc, "");
    }
    rocky_compare_release(&cmp);
    for (int k = 0; k < 2; k++) {
        rocky_trace_release(&t[k]);
        rocky_run_record_free(rec[k]);
    }
    return status;
}

static int show(const struct options *o, struct rocky_store *store,
                const char *path)
{
    if (o->compare != NULL)
        return compare(o, store, path);
    struct rocky_run_record *rec = NULL;
    int status = load(store, path, o->run, &rec);
    if (status != 0)
        return status;
    if (o->follow) {
        char err[1024] = "";
        struct rocky_trace_follow_opts f = {
            .run_id = rec->run.run_id,
            .model = o->model,
            .width = detect_width(o),
            .redraw = isatty(STDOUT_FILENO),
            .poll_ms = POLL_MS,
        };
        int rc = rocky_trace_follow(store, &f, stdout, err, sizeof err);
        rocky_run_record_free(rec);
        return rc == 0 ? 0 : fail(err[0] ? err : rocky_strerror(rc), rc, "");
    }
    struct rocky_trace t;
    char err[1024] = "";
    int rc = rocky_trace_build(rec, o->model, rocky_clock_wall_ns(), &t, err,
                               sizeof err);
    if (rc != 0) {
        status = fail(err[0] ? err : rocky_strerror(rc), rc,
                      rc == ROCKY_ENOTFOUND ? "drop --model to see every "
                                              "model of the run"
                                            : "");
        rocky_run_record_free(rec);
        return status;
    }
    /* Large runs print tens of MB: fewer, bigger writes. */
    setvbuf(stdout, NULL, _IOFBF, 1 << 20);
    rc = render(o, &t);
    if (rc == 0 && fflush(stdout) != 0)
        rc = ROCKY_EIO;
    rocky_trace_release(&t);
    rocky_run_record_free(rec);
    if (rc != 0)
        return fail(rc == ROCKY_EIO ? "writing the output failed"
                                    : rocky_strerror(rc),
                    rc, "");
    return 0;
}

/* Plugins to export through: --plugin first, then ROCKY_PLUGINS. Returns
 * the set, or NULL after printing why there is none. */
static struct rocky_plugin_set *load_export_plugins(const struct options *o,
                                                    const char *state_path)
{
    struct rocky_plugin_set *set = NULL;
    if (rocky_plugin_set_new(ROCKY_VERSION, &set) != 0) {
        fail("out of memory loading plugins", ROCKY_ENOMEM, "");
        return NULL;
    }
    /* A replay has a store but no project; it does not own the exit. */
    if (rocky_plugin_set_context(set, NULL, state_path, 0) != 0) {
        rocky_plugin_set_free(set);
        fail("out of memory loading plugins", ROCKY_ENOMEM, "");
        return NULL;
    }
    for (size_t i = 0; i < o->nplugins; i++)
        rocky_plugin_set_load(set, o->plugins[i]);
    size_t named =
        o->nplugins + rocky_plugin_set_load_list(set, getenv("ROCKY_PLUGINS"));
    if (rocky_plugin_set_count(set) > 0)
        return set;
    rocky_plugin_set_free(set);
    if (named == 0)
        fail("no plugin to export through", ROCKY_EINVAL,
             "pass --plugin PATH/rocky_otel.so (or set ROCKY_PLUGINS) and "
             "point OTEL_EXPORTER_OTLP_ENDPOINT at the collector");
    else
        fail("none of the plugins loaded (reasons above)", ROCKY_EINVAL,
             "check the --plugin / ROCKY_PLUGINS paths");
    return NULL;
}

/* Where the runs go: plugins named by hand (--plugin, else ROCKY_PLUGINS
 * for runs the store has no instances of), or each run's recorded
 * instances (resend.h). */
struct exporter {
    const struct options *o;
    const char *path;
    struct rocky_plugin_set *named;      /* loaded on first use */
    int named_failed;                    /* ... and said why it could not be */
    struct rocky_resend_cache *recorded; /* NULL with --plugin */
};

static int through_named(struct exporter *x, struct rocky_store *store,
                         const struct rocky_run_record *rec)
{
    if (x->named == NULL && !x->named_failed) {
        x->named = load_export_plugins(x->o, x->path);
        x->named_failed = x->named == NULL;
    }
    return x->named ? rocky_resend_through(x->named, store, rec) : ROCKY_EINVAL;
}

/* Send one run. 0 delivered, ROCKY_EREFUSED still running, ROCKY_ECORRUPT
 * / ROCKY_EINVAL not delivered for a reason of its own (the next run may
 * go), anything else not delivered because the plugins or the collector
 * did not take it (the next run would only wait the same deadline). */
static int export_run(struct exporter *x, struct rocky_store *store,
                      const struct rocky_run_record *rec)
{
    if (x->recorded == NULL)
        return through_named(x, store, rec);
    int rc = rocky_resend_recorded(x->recorded, store, rec, x->o->export_run);
    if (rc != ROCKY_ENOTFOUND)
        return rc;
    const char *env = getenv("ROCKY_PLUGINS");
    if (env != NULL && env[0] != '\0')
        return through_named(x, store, rec);
    rocky_term_fprintf(
        stderr, 0,
        "rocky trace: run %s has no plugins on record (recorded by an "
        "older rocky, or run without plugins)\n",
        rec->run.run_id);
    rocky_term_fprintf(stderr, 0,
                       "hint: name them: rocky trace %s --export --plugin "
                       "PATH/rocky_otel.so --state %s\n",
                       rec->run.run_id, x->path);
    return ROCKY_EINVAL;
}

/* --export / --export-pending. The store is opened for writing only to
 * record delivery; a missing store is still an error, not created. */
static int export_main(const struct options *o, const char *path)
{
    char err[1024] = "";
    struct rocky_store *store = NULL;
    int rc =
        rocky_store_open(path, ROCKY_STORE_READONLY, &store, err, sizeof err);
    if (rc == 0) {
        rocky_store_close(store);
        store = NULL;
        rc = rocky_store_open(path, ROCKY_STORE_READWRITE, &store, err,
                              sizeof err);
    }
    if (rc != 0)
        return fail(err[0] ? err : rocky_strerror(rc), rc, NULL);

    char **ids = NULL;
    size_t nids = 0;
    struct rocky_run_record *one = NULL;
    int status = 0;
    if (o->export_pending) {
        ids = calloc(MAX_PENDING, sizeof *ids);
        if (ids == NULL ||
            rocky_store_pending_run_ids(store, ids, MAX_PENDING, &nids) != 0)
            status = fail("cannot list the runs awaiting delivery", ROCKY_EIO,
                          "check that `rocky trace latest --state PATH` "
                          "reads this store; out of memory is the other "
                          "cause");
        else if (nids == 0)
            rocky_term_fprintf(stdout, 0, "no runs awaiting delivery in %s\n",
                               path);
    } else {
        status = load(store, path, o->run, &one);
    }
    struct exporter x = {.o = o, .path = path};
    if (o->nplugins == 0 && (x.recorded = rocky_resend_cache_new(path)) == NULL)
        status = fail("out of memory", ROCKY_ENOMEM, "");
    if (status == 0 && one != NULL)
        status = export_run(&x, store, one) == 0 ? 0 : EXIT_FAILURE_1;
    size_t done = 0, failed = 0, busy = 0;
    for (size_t i = 0; status == 0 && i < nids; i++) {
        struct rocky_run_record *rec = NULL;
        char lerr[1024] = "";
        if (rocky_store_run_load(store, ids[i], &rec, lerr, sizeof lerr) != 0) {
            rocky_term_fprintf(stderr, 0, "rocky trace: %s\n", lerr);
            failed++;
            continue;
        }
        rc = export_run(&x, store, rec);
        rocky_run_record_free(rec);
        if (rc == 0)
            done++;
        else if (rc == ROCKY_EREFUSED)
            busy++; /* still running: its own runner delivers it */
        else if (x.named_failed)
            break; /* said once: no plugin to send the rest through */
        else if (rc == ROCKY_ECORRUPT || rc == ROCKY_EINVAL)
            failed++; /* this run's own problem: the next may go */
        else {
            failed++;
            /* The collector is not taking spans: the rest would only wait
             * out the same deadline each. They stay pending. */
            break;
        }
    }
    if (nids > 0 && status == 0) {
        size_t left = nids - done - busy;
        rocky_term_fprintf(stdout, 0, "%zu of %zu pending runs exported", done,
                           nids);
        if (busy)
            rocky_term_fprintf(stdout, 0, ", %zu still running", busy);
        if (left)
            rocky_term_fprintf(stdout, 0, ", %zu still pending (not delivered)",
                               left);
        rocky_term_fprintf(stdout, 0, "\n");
        if (left)
            status = EXIT_FAILURE_1;
    }
    /* Whatever a failed run left queued is not worth waiting for. */
    int64_t deadline = status == 0
                           ? rocky_deadline_after_ms(ROCKY_EXPORT_DEADLINE_MS)
                           : rocky_clock_mono_ns();
    if (x.named != NULL) {
        rocky_plugin_set_stop(x.named, deadline, NULL);
        rocky_plugin_set_free(x.named);
    }
    rocky_resend_cache_free(x.recorded, status != 0);
    for (size_t i = 0; i < nids; i++)
        free(ids[i]);
    free(ids);
    rocky_run_record_free(one);
    rocky_store_close(store);
    return status;
}

/* --list: `rocky runs` with the other arguments (runs.h). */
static int list_runs(int argc, char **argv, int at, const char *prog,
                     const struct rocky_trace_cli_globals *g)
{
    char name[64];
    snprintf(name, sizeof name, "%s --list", prog);
    char **args = calloc((size_t)argc, sizeof *args);
    if (args == NULL)
        return fail("out of memory", ROCKY_ENOMEM, "");
    int n = 0;
    args[n++] = name;
    for (int i = 1; i < argc; i++)
        if (i != at)
            args[n++] = argv[i];
    struct rocky_runs_cli_globals rg = {.trace = g};
    int status = rocky_runs_cli_run(n, args, &rg);
    free(args);
    return status;
}

int rocky_trace_cli_main(int argc, char **argv)
{
    return rocky_trace_cli_run(argc, argv, NULL);
}

int rocky_trace_cli_run(int argc, char **argv,
                        const struct rocky_trace_cli_globals *g)
{
    struct options o = {0};
    if (g != NULL) {
        /* Before parse: options after the subcommand override. */
        if (g->output != NULL && set_output(&o, g->output) != 0)
            return EXIT_USAGE;
        o.global_state = g->state_path;
    }
    /* The runner passes "trace"; show the command the user typed. */
    const char *prog = argc > 0 && argv[0] ? argv[0] : "rocky-trace";
    if (strcmp(prog, "trace") == 0)
        prog = "rocky trace";
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--list") == 0)
            return list_runs(argc, argv, i, prog, g);
    if (parse(argc, argv, &o) != 0) {
        rocky_term_fprintf(stderr, 0, "run `%s --help` for usage\n", prog);
        return EXIT_USAGE;
    }
    if (o.help) {
        printf(usage_text, prog);
        return 0;
    }
    const char *path = o.state;
    if (path == NULL)
        path = getenv("ROCKY_STATE");
    if ((path == NULL || path[0] == '\0') && g != NULL)
        path = g->config_state_path;
    if (path == NULL || path[0] == '\0')
        path = ROCKY_STORE_DEFAULT_FILE;

    if (o.export_run || o.export_pending)
        return export_main(&o, path);

    struct rocky_store *store = NULL;
    char err[1024] = "";
    int rc =
        rocky_store_open(path, ROCKY_STORE_READONLY, &store, err, sizeof err);
    if (rc != 0)
        return fail(err[0] ? err : rocky_strerror(rc), rc, NULL);
    int status = show(&o, store, path);
    rocky_store_close(store);
    return status;
}
