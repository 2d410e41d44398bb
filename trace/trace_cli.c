/* trace_cli.c — `rocky trace` / `rocky-trace`: options, store access,
 * errors with hints, dispatch to a renderer (see trace_cli.h).
 *
 * The option table keeps the parser easy to extend (e.g. --export later):
 * add a row and a field in struct options. */
#include "trace_cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "clock.h"
#include "follow.h"
#include "render.h"
#include "rocky/error.h"
#include "store.h"
#include "trace.h"

#define DEFAULT_WIDTH  100
#define MAX_WIDTH      1000
#define POLL_MS        200
#define EXIT_FAILURE_1 1
#define EXIT_USAGE     2

enum format { FORMAT_TEXT, FORMAT_JSON, FORMAT_CHROME, FORMAT_HTML };

struct options {
    const char *run;   /* run id or "latest" */
    const char *model; /* --model */
    const char *state; /* --state */
    enum format format;
    long width; /* 0: detect */
    int follow;
    int help;
};

static const char usage_text[] =
    "usage: %s <run_id|latest> [options]\n"
    "\n"
    "Show a recorded run's timeline.\n"
    "\n"
    "options:\n"
    "  --model NAME       only this model's executions\n"
    "  --json             same as --format json\n"
    "  --format FORMAT    text (default), json, chrome (Perfetto /\n"
    "                     chrome://tracing) or html (self-contained page)\n"
    "  --state PATH       state store (default: $ROCKY_STATE, else\n"
    "                     " ROCKY_STORE_DEFAULT_FILE ")\n"
    "  --width N          columns of the text view (default: terminal)\n"
    "  --follow           live view of a running run; exits when it ends\n"
    "  -h, --help         this help\n";

static int set_model(struct options *o, const char *v)
{
    o->model = v;
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
    fprintf(stderr,
            "rocky trace: unknown format '%s' (use text, json, chrome or "
            "html)\n",
            v);
    return ROCKY_EINVAL;
}

static int set_width(struct options *o, const char *v)
{
    char *end;
    errno = 0;
    long w = strtol(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0' || w < ROCKY_TRACE_MIN_WIDTH ||
        w > MAX_WIDTH) {
        fprintf(stderr,
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
    int takes_value;
    int (*apply)(struct options *o, const char *value);
} option_specs[] = {
    {"--model", 1, set_model},   {"--state", 1, set_state},
    {"--format", 1, set_format}, {"--width", 1, set_width},
    {"--json", 0, set_json},     {"--follow", 0, set_follow},
    {"--help", 0, set_help},     {"-h", 0, set_help},
};

/* Parse argv[1..]; accepts "--opt value" and "--opt=value". */
static int parse(int argc, char **argv, struct options *o)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (arg[0] != '-' || arg[1] == '\0') {
            if (o->run != NULL) {
                fprintf(stderr,
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
                (arg[len] == '=' && option_specs[k].takes_value)) {
                spec = &option_specs[k];
                value = arg[len] == '=' ? arg + len + 1 : NULL;
                break;
            }
        }
        if (spec == NULL) {
            fprintf(stderr, "rocky trace: unknown option '%s'\n", arg);
            return ROCKY_EINVAL;
        }
        if (spec->takes_value && value == NULL) {
            if (i + 1 >= argc) {
                fprintf(stderr, "rocky trace: %s needs a value\n", spec->name);
                return ROCKY_EINVAL;
            }
            value = argv[++i];
        }
        int rc = spec->apply(o, value);
        if (rc != 0)
            return rc;
    }
    if (o->run == NULL)
        o->run = "latest";
    if (o->follow && o->format != FORMAT_TEXT) {
        fprintf(stderr, "rocky trace: --follow shows the text view only; "
                        "drop --json/--format to follow a run\n");
        return ROCKY_EINVAL;
    }
    return 0;
}

static size_t detect_width(const struct options *o)
{
    if (o->width > 0)
        return (size_t)o->width;
    struct winsize ws;
    if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 &&
        ws.ws_col > 0)
        return ws.ws_col;
    const char *columns = getenv("COLUMNS");
    if (columns != NULL) {
        long c = strtol(columns, NULL, 10);
        if (c > 0 && c <= MAX_WIDTH)
            return (size_t)c;
    }
    return DEFAULT_WIDTH;
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
    fprintf(stderr, "rocky trace: %s\n", msg);
    if (hint == NULL)
        hint = hint_for(code);
    if (hint != NULL)
        fprintf(stderr, "hint: %s\n", hint);
    return EXIT_FAILURE_1;
}

/* Load the run, turning "no runs at all" into the message users expect. */
static int load(struct rocky_store *store, const char *path, const char *run_id,
                struct rocky_run_record **rec)
{
    char err[1024] = "";
    int rc = rocky_store_run_load(store, run_id, rec, err, sizeof err);
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
            return fail(err, rc, "");
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

static int show(const struct options *o, struct rocky_store *store,
                const char *path)
{
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

int rocky_trace_cli_main(int argc, char **argv)
{
    struct options o = {0};
    /* The runner passes "trace"; show the command the user typed. */
    const char *prog = argc > 0 && argv[0] ? argv[0] : "rocky-trace";
    if (strcmp(prog, "trace") == 0)
        prog = "rocky trace";
    if (parse(argc, argv, &o) != 0) {
        fprintf(stderr, "run `%s --help` for usage\n", prog);
        return EXIT_USAGE;
    }
    if (o.help) {
        printf(usage_text, prog);
        return 0;
    }
    const char *path = o.state;
    if (path == NULL)
        path = getenv("ROCKY_STATE");
    if (path == NULL || path[0] == '\0')
        path = ROCKY_STORE_DEFAULT_FILE;

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
