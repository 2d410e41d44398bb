/*
 * config_env.c — one instance's config keys over the OTel SDK environment
 * variables, parsed per the spec (rules and precedence in otel_config.h).
 */
#include "otel_config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "rocky/error.h"

/* Every key and the variable it mirrors. The per-signal variables not
 * listed (OTEL_EXPORTER_OTLP_TRACES_TIMEOUT, ...) have no key of their own:
 * the generic key covers both signals. */
static const struct key {
    const char *key;
    const char *var;
} known[] = {
    {"endpoint", "OTEL_EXPORTER_OTLP_ENDPOINT"},
    {"traces_endpoint", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"},
    {"metrics_endpoint", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"},
    {"headers", "OTEL_EXPORTER_OTLP_HEADERS"},
    {"timeout", "OTEL_EXPORTER_OTLP_TIMEOUT"},
    {"compression", "OTEL_EXPORTER_OTLP_COMPRESSION"},
    {"insecure", "OTEL_EXPORTER_OTLP_INSECURE"},
    {"certificate", "OTEL_EXPORTER_OTLP_CERTIFICATE"},
    {"protocol", "OTEL_EXPORTER_OTLP_PROTOCOL"},
    {"service_name", "OTEL_SERVICE_NAME"},
    {"resource_attributes", "OTEL_RESOURCE_ATTRIBUTES"},
    {"exit_timeout_ms", "ROCKY_OTEL_EXIT_TIMEOUT_MS"},
    {"disabled", "OTEL_SDK_DISABLED"},
    {"traces_exporter", "OTEL_TRACES_EXPORTER"},
    {"metrics_exporter", "OTEL_METRICS_EXPORTER"},
    {"bsp_max_queue_size", "OTEL_BSP_MAX_QUEUE_SIZE"},
    {"bsp_max_export_batch_size", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE"},
    {"bsp_schedule_delay", "OTEL_BSP_SCHEDULE_DELAY"},
    {"bsp_export_timeout", "OTEL_BSP_EXPORT_TIMEOUT"},
    {"metric_export_interval", "OTEL_METRIC_EXPORT_INTERVAL"},
    {"metric_export_timeout", "OTEL_METRIC_EXPORT_TIMEOUT"},
    {"metrics_temporality_preference",
     "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE"},
    {"attribute_value_length_limit", "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT"},
};
#define NKEYS (sizeof known / sizeof known[0])

const char *rocky_otel_config_key(size_t i)
{
    return i < NKEYS ? known[i].key : NULL;
}

/* A source that was refused (an endpoint or a header list that cannot be
 * used as given) and the signals it would have fed. */
struct refusal {
    char name[64];  /* what the warning names (struct found.name)      */
    char text[448]; /* the warning without its "not exported" tail     */
    unsigned sigs;  /* SIG_TRACES | SIG_METRICS                         */
};
#define SIG_TRACES  1u
#define SIG_METRICS 2u

struct env {
    const struct rocky_otel_config_source *src;
    /* Sources already warned about: the generic settings are read once
     * per signal, but each bad one is reported once. */
    char warned[48][64];
    size_t warned_count;
    /* Refused sources: warned once each, after both signals are read, so
     * a generic variable's warning names every signal it disabled. */
    struct refusal refused[4];
    size_t refused_count;
};

/* Where a setting's value came from. */
struct found {
    const char *value; /* NULL: set nowhere                              */
    char name[64];     /* what a warning names: "OTEL_BSP_SCHEDULE_DELAY" or
                          "config key bsp_schedule_delay"                    */
};

/* Empty means unset (spec); the same for a config value. */
static const char *nonempty(const char *v)
{
    return (v && *v) ? v : NULL;
}

static const char *key_of(const char *var)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (strcmp(known[i].var, var) == 0)
            return known[i].key;
    return NULL;
}

static const char *config_value(const struct env *e, const char *key)
{
    for (size_t i = 0; i < e->src->config_count; i++) {
        const struct rocky_config_entry *c = &e->src->config[i];
        if (c->key && strcmp(c->key, key) == 0)
            return nonempty(c->value);
    }
    return NULL;
}

static const char *env_value(const struct env *e, const char *var)
{
    return nonempty(e->src->getenv ? e->src->getenv(var) : getenv(var));
}

/* The one source that decides a setting whose variables are `vars`, most
 * specific first: every config key before every variable. */
static struct found lookup(const struct env *e, const char *const *vars,
                           size_t n)
{
    struct found f = {.value = NULL, .name = ""};
    for (size_t i = 0; i < n; i++) {
        const char *key = key_of(vars[i]);
        if (key && (f.value = config_value(e, key))) {
            snprintf(f.name, sizeof f.name, "config key %s", key);
            return f;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if ((f.value = env_value(e, vars[i]))) {
            snprintf(f.name, sizeof f.name, "%s", vars[i]);
            return f;
        }
    }
    return f;
}

/* A setting with one variable (and its key). */
static struct found one(const struct env *e, const char *var)
{
    return lookup(e, &var, 1);
}

/* A per-signal setting: OTEL_EXPORTER_OTLP_<sig>_<what> and the generic
 * OTEL_EXPORTER_OTLP_<what>, and their keys. */
static struct found per_signal(const struct env *e, const char *sig,
                               const char *what)
{
    char specific[96], generic[96];
    snprintf(specific, sizeof specific, "OTEL_EXPORTER_OTLP_%s_%s", sig, what);
    snprintf(generic, sizeof generic, "OTEL_EXPORTER_OTLP_%s", what);
    const char *vars[] = {specific, generic};
    return lookup(e, vars, 2);
}

/* A value shown in a warning: bounded, control bytes replaced, so a hostile
 * environment cannot forge log lines. */
static void shown(const char *v, char *out, size_t size)
{
    size_t i = 0;
    for (; v[i] && i + 4 < size; i++) {
        unsigned char c = (unsigned char)v[i];
        out[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    if (v[i]) {
        memcpy(out + i, "...", 3);
        i += 3;
    }
    out[i] = '\0';
}

static void warn(struct env *e, const char *name, const char *val,
                 const char *what, const char *dflt)
{
    char msg[512], sv[80];
    for (size_t i = 0; i < e->warned_count; i++)
        if (strcmp(e->warned[i], name) == 0)
            return;
    if (e->warned_count < sizeof e->warned / sizeof e->warned[0])
        snprintf(e->warned[e->warned_count++], sizeof e->warned[0], "%s", name);
    if (val) {
        shown(val, sv, sizeof sv);
        snprintf(msg, sizeof msg, "%s=\"%s\" %s; using %s", name, sv, what,
                 dflt);
    } else {
        snprintf(msg, sizeof msg, "%s %s; using %s", name, what, dflt);
    }
    if (e->src->warn)
        e->src->warn(e->src->warn_ctx, msg);
}

/* Returns 1 true, 0 false, -1 unset; warns once on anything else. */
static int get_bool(struct env *e, const struct found *f)
{
    const char *v = f->value;
    if (!v)
        return -1;
    if (strcasecmp(v, "true") == 0)
        return 1;
    if (strcasecmp(v, "false") == 0)
        return 0;
    warn(e, f->name, v, "is not a boolean (true or false)",
         "the default false");
    return -1;
}

/* A non-negative integer; `min` is the smallest accepted value. Leaves
 * *out unchanged (the default) when unset or invalid. Returns 1 when set. */
static int get_int(struct env *e, const struct found *f, int64_t min,
                   int64_t max, int64_t *out)
{
    const char *v = f->value;
    if (!v)
        return 0;
    char *end = NULL;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    while (end && isspace((unsigned char)*end))
        end++;
    if (errno == 0 && end != v && *end == '\0' && n >= min && n <= max &&
        isdigit((unsigned char)v[strspn(v, " \t")])) {
        *out = n;
        return 1;
    }
    char what[96], dflt[64];
    snprintf(what, sizeof what, "is not an integer in [%lld, %lld]",
             (long long)min, (long long)max);
    snprintf(dflt, sizeof dflt, "the default %lld", (long long)*out);
    warn(e, f->name, v, what, dflt);
    return 0;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Percent-decode [s, s+n) into a new trimmed string; NULL on a bad escape
 * or an encoded NUL (which a C string would silently cut: sets *bad) or out
 * of memory. */
static char *decode(const char *s, size_t n, int *bad)
{
    while (n && isspace((unsigned char)*s)) {
        s++;
        n--;
    }
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            int hi = (i + 1 < n) ? hexval((unsigned char)s[i + 1]) : -1;
            int lo = (i + 2 < n) ? hexval((unsigned char)s[i + 2]) : -1;
            if (hi < 0 || lo < 0 || hi * 16 + lo == 0) {
                free(out);
                *bad = 1;
                return NULL;
            }
            out[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    return out;
}

/* Parse "k=v,k=v" into key/value arrays. Returns the count, or -1 when
 * malformed (an entry without '=', an empty key, a bad %-escape, too many),
 * -2 when out of memory. Nothing is kept on failure. */
static int parse_pairs(const char *v, char **keys, char **vals, size_t max,
                       int lower_keys)
{
    size_t count = 0;
    const char *p = v;
    int rc = 0;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        int bad = 0;
        if (len == 0 || strspn(p, " \t") >= len) {
            /* an empty entry ("a=b,,c=d" or a trailing comma) is skipped */
        } else if (!eq || count == max) {
            rc = -1;
            break;
        } else {
            char *k = decode(p, (size_t)(eq - p), &bad);
            char *val =
                k ? decode(eq + 1, len - (size_t)(eq - p) - 1, &bad) : NULL;
            if (!k || !val || !*k) {
                rc = bad || (k && !*k) ? -1 : -2;
                free(k);
                free(val);
                break;
            }
            if (lower_keys)
                for (char *c = k; *c; c++)
                    *c = (char)tolower((unsigned char)*c);
            keys[count] = k;
            vals[count] = val;
            count++;
        }
        p += len;
        if (*p == ',')
            p++;
    }
    if (rc < 0) {
        for (size_t i = 0; i < count; i++) {
            free(keys[i]);
            free(vals[i]);
            keys[i] = vals[i] = NULL;
        }
        return rc;
    }
    return (int)count;
}

/* Where the authority of an endpoint starts: after "scheme://", or at
 * the start when there is no "://". */
static const char *after_scheme(const char *v)
{
    const char *sep = strstr(v, "://");
    return sep ? sep + 3 : v;
}

void rocky_otel_endpoint_redact(const char *value, char *out, size_t size)
{
    if (!out || size == 0)
        return;
    if (!value) {
        out[0] = '\0';
        return;
    }
    /* Everything up to the LAST '@' is userinfo, wherever it is (a password
     * may hold '/', '?' or '#'); nothing after the authority is shown (a
     * query may carry a token). */
    const char *rest = after_scheme(value);
    const char *at = strrchr(rest, '@');
    const char *auth = at ? at + 1 : rest;
    size_t auth_len = strcspn(auth, "/?#");
    char buf[600];
    snprintf(buf, sizeof buf, "%.*s%s%.*s%s", (int)(rest - value), value,
             at ? "***@" : "", (int)(auth_len > 300 ? 300 : auth_len), auth,
             auth[auth_len] ? "/..." : "");
    shown(buf, out, size);
    for (char *c = out; *c; c++) /* an endpoint is ASCII: no UTF-8 games */
        if ((unsigned char)*c >= 0x7f)
            *c = '?';
}

static const char why_credentials[] =
    "has credentials in it (user:password@), which this exporter never sends "
    "nor prints";

static int host_char(unsigned char c)
{
    return isalnum(c) || c == '-' || c == '.' || c == '_';
}

int rocky_otel_endpoint_parse(const char *v, int insecure, char *target,
                              size_t size, int *tls, const char **why)
{
    static const char *unused;
    if (!why)
        why = &unused;
    *why = NULL;
    /* Credentials first, whatever else is wrong: the warning must say so. */
    if (strchr(after_scheme(v), '@')) {
        *why = why_credentials;
        return ROCKY_EINVAL;
    }
    const char *rest = v;
    if (strncasecmp(v, "http://", 7) == 0) {
        *tls = 0;
        rest = v + 7;
    } else if (strncasecmp(v, "https://", 8) == 0) {
        *tls = 1;
        rest = v + 8;
    } else if (strstr(v, "://")) {
        *why = "has a scheme other than http:// (plaintext) or https:// "
               "(TLS)";
        return ROCKY_EINVAL;
    } else {
        *tls = insecure == 1 ? 0 : 1;
    }
    size_t authlen = strcspn(rest, "/?#");
    if (strpbrk(rest + authlen, "?#")) {
        *why = "has a query or fragment, which gRPC cannot send";
        return ROCKY_EINVAL;
    }
    /* host: a name, an IPv4 address or a bracketed IPv6 literal. */
    const char *host = rest, *hend;
    if (authlen > 0 && rest[0] == '[') {
        hend = memchr(rest, ']', authlen);
        if (!hend || hend == rest + 1 ||
            strspn(rest + 1, "0123456789abcdefABCDEF:.") !=
                (size_t)(hend - rest - 1)) {
            *why = "has a malformed IPv6 address (want [address]:port)";
            return ROCKY_EINVAL;
        }
        hend++; /* keep the brackets: gRPC wants them */
    } else {
        hend = host;
        while (hend < rest + authlen && *hend != ':')
            hend++;
        if (hend == host) {
            *why = "has no host";
            return ROCKY_EINVAL;
        }
        for (const char *c = host; c < hend; c++)
            if (!host_char((unsigned char)*c)) {
                *why = "has a character a host name cannot have (letters, "
                       "digits, '-', '.', '_', or an IP address; an IPv6 "
                       "address in brackets)";
                return ROCKY_EINVAL;
            }
    }
    /* port: none means the OTLP/gRPC default, else 1..65535 in digits. */
    const char *aend = rest + authlen;
    long port = 4317;
    if (hend < aend) {
        const char *p = hend + 1;
        size_t digits = strspn(p, "0123456789");
        if (*hend != ':' || p == aend || p + digits != aend || digits > 5 ||
            (port = strtol(p, NULL, 10)) < 1 || port > 65535) {
            *why = "has a port that is not a number in 1..65535";
            return ROCKY_EINVAL;
        }
    }
    if ((size_t)(hend - host) + 7 > size) {
        *why = "has a host name that is too long";
        return ROCKY_EINVAL;
    }
    snprintf(target, size, "%.*s:%ld", (int)(hend - host), host, port);
    return 0;
}

int rocky_otel_header_is_legal(const char *key, const char *value,
                               const char **why)
{
    static const char *unused;
    if (!why)
        why = &unused;
    *why = NULL;
    size_t klen = strlen(key);
    for (size_t i = 0; i < klen; i++) {
        unsigned char c = (unsigned char)key[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '_' || c == '.')) {
            *why = "is not a legal gRPC metadata key (lower-case letters, "
                   "digits, '-', '_', '.')";
            return 0;
        }
    }
    if (klen == 0) {
        *why = "is empty";
        return 0;
    }
    if (strncmp(key, "grpc-", 5) == 0) {
        *why = "is reserved by gRPC (grpc-*)";
        return 0;
    }
    /* "-bin" keys carry bytes (gRPC base64-encodes them); decode() refused
     * a NUL, so the C string is the whole value. */
    if (klen > 4 && strcmp(key + klen - 4, "-bin") == 0)
        return 1;
    for (const unsigned char *c = (const unsigned char *)value; *c; c++)
        if (*c < 0x20 || *c > 0x7e) {
            *why = "has a value gRPC cannot send (only printable ASCII "
                   "0x20-0x7E: no tab, CR, LF, other control or non-ASCII "
                   "byte; the value is not shown)";
            return 0;
        }
    return 1;
}

/* Note a refused source for the signal `sig`; warned once, by refuse_all. */
static void refuse(struct env *e, const char *name, unsigned sig,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void refuse(struct env *e, const char *name, unsigned sig,
                   const char *fmt, ...)
{
    for (size_t i = 0; i < e->refused_count; i++)
        if (strcmp(e->refused[i].name, name) == 0) {
            e->refused[i].sigs |= sig;
            return;
        }
    if (e->refused_count == sizeof e->refused / sizeof e->refused[0])
        return; /* 2 signals x (endpoint, headers): cannot happen */
    struct refusal *r = &e->refused[e->refused_count++];
    snprintf(r->name, sizeof r->name, "%s", name);
    r->sigs = sig;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->text, sizeof r->text, fmt, ap);
    va_end(ap);
}

static void refuse_all(struct env *e)
{
    for (size_t i = 0; i < e->refused_count; i++) {
        const struct refusal *r = &e->refused[i];
        const char *which = r->sigs == (SIG_TRACES | SIG_METRICS)
                                ? "traces and metrics are"
                            : r->sigs == SIG_TRACES ? "traces are"
                                                    : "metrics are";
        char msg[600];
        snprintf(msg, sizeof msg, "%s; %s not exported", r->text, which);
        if (e->src->warn)
            e->src->warn(e->src->warn_ctx, msg);
    }
}

/* How a warning names the headers setting to use instead of `name`'s. */
static const char *headers_name(const char *name)
{
    return strncmp(name, "config key", 10) == 0 ? "config key headers"
                                                : "OTEL_EXPORTER_OTLP_HEADERS";
}

static int load_settings(struct env *e, struct rocky_otel_signal_config *s,
                         const char *sig, unsigned sig_bit,
                         int64_t dflt_timeout, int *any_endpoint, int *no_ep)
{
    char var[96];
    struct found f;

    snprintf(var, sizeof var, "OTEL_%s_EXPORTER", sig);
    f = one(e, var);
    s->enabled = 1;
    if (f.value) {
        if (strcasecmp(f.value, "none") == 0)
            s->enabled = 0;
        else if (strcasecmp(f.value, "otlp") != 0)
            warn(e, f.name, f.value, "is not supported (otlp or none)",
                 "the default otlp");
    }

    f = per_signal(e, sig, "PROTOCOL");
    if (f.value && strcasecmp(f.value, "grpc") != 0)
        warn(e, f.name, f.value,
             "is not supported: this exporter speaks gRPC only", "grpc");

    f = per_signal(e, sig, "INSECURE");
    int insecure = get_bool(e, &f);

    /* An endpoint that cannot be used as given turns the signal off: any
     * replacement (the default localhost:4317, plaintext) could hand the
     * headers to whoever listens there. So does an unset one: the spec's
     * default would do the same for a signal nobody pointed anywhere (only
     * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT set: metrics are not exported;
     * rocky_otel_config_load says so once). */
    f = per_signal(e, sig, "ENDPOINT");
    const char *why = NULL;
    if (f.value)
        *any_endpoint = 1;
    if (!f.value) {
        *no_ep = 1; /* off once the rest is read (load_signal) */
        s->target[0] = '\0';
    } else if (rocky_otel_endpoint_parse(f.value, insecure, s->target,
                                         sizeof s->target, &s->tls,
                                         &why) != 0) {
        char sv[160];
        rocky_otel_endpoint_redact(f.value, sv, sizeof sv);
        int creds = why == why_credentials;
        if (s->enabled)
            refuse(e, f.name, sig_bit, "%s=\"%s\" is refused: it %s; %s%s%s",
                   f.name, sv, why,
                   creds ? "drop them from the URL and put them in "
                         : "give http(s)://host:port with a port in 1..65535",
                   creds ? headers_name(f.name) : "",
                   creds ? " (e.g. authorization=Basic%20<base64 of "
                           "user:password>)"
                         : "");
        s->target[0] = '\0';
        s->enabled = 0;
    }

    s->timeout_ms = dflt_timeout;
    f = per_signal(e, sig, "TIMEOUT");
    get_int(e, &f, 1, 3600000, &s->timeout_ms);

    f = per_signal(e, sig, "COMPRESSION");
    if (f.value) {
        if (strcasecmp(f.value, "gzip") == 0)
            s->gzip = 1;
        else if (strcasecmp(f.value, "none") != 0)
            warn(e, f.name, f.value, "is not supported (gzip or none)",
                 "the default none");
    }

    /* A CA file that cannot be read is refused like an endpoint: the
     * system's roots instead would trust servers the user did not. Only
     * TLS uses it. */
    f = per_signal(e, sig, "CERTIFICATE");
    if (f.value) {
        if (strlen(f.value) < sizeof s->ca_file && access(f.value, R_OK) == 0) {
            strcpy(s->ca_file, f.value);
        } else if (s->enabled && s->tls) {
            char sv[80];
            shown(f.value, sv, sizeof sv);
            refuse(e, f.name, sig_bit,
                   "%s=\"%s\" is not a readable file: fix the path, or unset "
                   "it to trust the system's root certificates",
                   f.name, sv);
            s->enabled = 0;
        } else if (s->enabled) {
            warn(e, f.name, f.value, "is not a readable file",
                 s->target[0] ? "no CA file (the endpoint is plaintext: "
                                "none is needed)"
                              : "no CA file");
        }
    }

    /* Headers carry credentials: a list that cannot be sent as given turns
     * the signal off rather than sending without them (unauthenticated,
     * or into another tenant). Values never appear in any message. */
    f = per_signal(e, sig, "HEADERS");
    if (f.value) {
        int n = parse_pairs(f.value, s->header_keys, s->header_values,
                            ROCKY_OTEL_MAX_HEADERS, 1);
        if (n == -2)
            return ROCKY_ENOMEM;
        if (n < 0) {
            if (s->enabled)
                refuse(e, f.name, sig_bit,
                       "%s is malformed (want key=value pairs separated by "
                       "commas, values percent-encoded; the value is not "
                       "shown): fix it rather than send without these "
                       "headers",
                       f.name);
            s->enabled = 0;
            return 0;
        }
        s->header_count = (size_t)n;
        for (size_t i = 0; i < s->header_count; i++) {
            if (rocky_otel_header_is_legal(s->header_keys[i],
                                           s->header_values[i], &why))
                continue;
            char sk[48];
            shown(s->header_keys[i], sk, sizeof sk);
            if (s->enabled)
                refuse(e, f.name, sig_bit,
                       "%s: header \"%s\" %s: fix it in %s rather than send "
                       "without it",
                       f.name, sk, why, headers_name(f.name));
            s->enabled = 0;
            break;
        }
    }
    return 0;
}

/* One signal's settings. Every setting is read (and a bad one said) even
 * for a signal that ends up off for want of an endpoint, so a user who is
 * about to set one hears of the rest now. */
static int load_signal(struct env *e, struct rocky_otel_signal_config *s,
                       const char *sig, unsigned sig_bit, int64_t dflt_timeout,
                       int *any_endpoint, unsigned *no_endpoint)
{
    int no_ep = 0;
    int rc =
        load_settings(e, s, sig, sig_bit, dflt_timeout, any_endpoint, &no_ep);
    if (no_ep) {
        if (s->enabled)
            *no_endpoint |= sig_bit;
        s->enabled = 0;
    }
    return rc;
}

/* Refuse a key we do not know, so a typo is never silently ignored. */
static int check_keys(const struct rocky_otel_config_source *src, char *err,
                      size_t err_size)
{
    for (size_t i = 0; i < src->config_count; i++) {
        const char *k = src->config[i].key;
        size_t j = 0;
        while (k && j < NKEYS && strcmp(known[j].key, k) != 0)
            j++;
        if (k && j < NKEYS)
            continue;
        if (!err || err_size == 0)
            return ROCKY_EINVAL;
        char shown_key[48];
        shown(k ? k : "(null)", shown_key, sizeof shown_key);
        size_t len = (size_t)snprintf(
            err, err_size, "unknown config key \"%s\"; known keys:", shown_key);
        for (j = 0; j < NKEYS && len < err_size; j++)
            len += (size_t)snprintf(err + len, err_size - len, "%s %s",
                                    j ? "," : "", known[j].key);
        return ROCKY_EINVAL;
    }
    return 0;
}

int rocky_otel_config_load(struct rocky_otel_config *cfg,
                           const struct rocky_otel_config_source *src,
                           char *err, size_t err_size)
{
    static const struct rocky_otel_config_source none = {0};
    struct env e;
    memset(&e, 0, sizeof e);
    e.src = src ? src : &none;
    memset(cfg, 0, sizeof *cfg);
    int rc = check_keys(e.src, err, err_size);
    if (rc != 0)
        return rc;
    cfg->bsp_max_queue_size = 2048;
    cfg->bsp_max_export_batch = 512;
    cfg->bsp_schedule_delay_ms = 5000;
    cfg->bsp_export_timeout_ms = 30000;
    cfg->metric_export_interval_ms = 60000;
    cfg->metric_export_timeout_ms = 30000;
    cfg->attr_value_length_limit = -1;
    strcpy(cfg->service_name, "rocky");

    int any_endpoint = 0;
    unsigned no_endpoint = 0;
    rc = load_signal(&e, &cfg->traces, "TRACES", SIG_TRACES, 10000,
                     &any_endpoint, &no_endpoint);
    if (rc == 0)
        rc = load_signal(&e, &cfg->metrics, "METRICS", SIG_METRICS, 10000,
                         &any_endpoint, &no_endpoint);
    refuse_all(&e);
    /* One signal pointed somewhere, the other nowhere: say so once (with
     * no endpoint at all the plugin is inert, said below). */
    if (rc == 0 && any_endpoint && no_endpoint != 0 && e.src->warn) {
        const char *sig = no_endpoint == SIG_TRACES ? "TRACES" : "METRICS";
        char msg[400];
        snprintf(msg, sizeof msg,
                 "%s are not exported: no endpoint is set for them (set "
                 "OTEL_EXPORTER_OTLP_ENDPOINT or "
                 "OTEL_EXPORTER_OTLP_%s_ENDPOINT, or config key endpoint or "
                 "%s_endpoint); rocky_otel does not fall back to "
                 "localhost:4317",
                 no_endpoint == SIG_TRACES ? "traces" : "metrics", sig,
                 no_endpoint == SIG_TRACES ? "traces" : "metrics");
        e.src->warn(e.src->warn_ctx, msg);
    }
    if (rc != 0) {
        rocky_otel_config_free(cfg);
        snprintf(err, err_size, "out of memory reading the configuration");
        return rc;
    }

    struct found f = one(&e, "OTEL_SERVICE_NAME");
    if (f.value) {
        if (strlen(f.value) < sizeof cfg->service_name) {
            strcpy(cfg->service_name, f.value);
            cfg->service_name_set = 1;
        } else
            warn(&e, f.name, f.value, "is too long", "the default rocky");
    }
    f = one(&e, "OTEL_RESOURCE_ATTRIBUTES");
    if (f.value) {
        int n = parse_pairs(f.value, cfg->resource_keys, cfg->resource_values,
                            ROCKY_OTEL_MAX_RES_ATTRS, 0);
        if (n == -2) {
            rocky_otel_config_free(cfg);
            snprintf(err, err_size, "out of memory reading the configuration");
            return ROCKY_ENOMEM;
        }
        if (n < 0)
            warn(&e, f.name, f.value,
                 "is malformed (want key=value pairs separated by commas, "
                 "values percent-encoded) and is discarded whole",
                 "no extra resource attributes");
        else
            cfg->resource_attr_count = (size_t)n;
    }

    int64_t n = cfg->bsp_max_queue_size;
    f = one(&e, "OTEL_BSP_MAX_QUEUE_SIZE");
    get_int(&e, &f, 1, 1 << 20, &n);
    cfg->bsp_max_queue_size = (uint32_t)n;
    n = cfg->bsp_max_export_batch;
    f = one(&e, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE");
    if (get_int(&e, &f, 1, 1 << 20, &n) && n > cfg->bsp_max_queue_size) {
        char d[64];
        snprintf(d, sizeof d, "the queue size %u", cfg->bsp_max_queue_size);
        warn(&e, f.name, f.value, "exceeds the span queue's size", d);
        n = cfg->bsp_max_queue_size;
    }
    if (n > cfg->bsp_max_queue_size) /* the default 512 vs a small queue */
        n = cfg->bsp_max_queue_size;
    cfg->bsp_max_export_batch = (uint32_t)n;
    f = one(&e, "OTEL_BSP_SCHEDULE_DELAY");
    get_int(&e, &f, 0, 3600000, &cfg->bsp_schedule_delay_ms);
    f = one(&e, "OTEL_BSP_EXPORT_TIMEOUT");
    get_int(&e, &f, 1, 3600000, &cfg->bsp_export_timeout_ms);
    f = one(&e, "OTEL_METRIC_EXPORT_INTERVAL");
    get_int(&e, &f, 1, 86400000, &cfg->metric_export_interval_ms);
    f = one(&e, "OTEL_METRIC_EXPORT_TIMEOUT");
    get_int(&e, &f, 1, 3600000, &cfg->metric_export_timeout_ms);
    f = one(&e, "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT");
    get_int(&e, &f, 0, INT32_MAX, &cfg->attr_value_length_limit);

    cfg->exit_timeout_ms = cfg->traces.timeout_ms;
    f = one(&e, "ROCKY_OTEL_EXIT_TIMEOUT_MS");
    get_int(&e, &f, 0, 3600000, &cfg->exit_timeout_ms);

    f = one(&e, "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE");
    if (f.value) {
        if (strcasecmp(f.value, "delta") == 0)
            cfg->temporality = ROCKY_OTEL_DELTA;
        else if (strcasecmp(f.value, "lowmemory") == 0)
            cfg->temporality = ROCKY_OTEL_LOWMEMORY;
        else if (strcasecmp(f.value, "cumulative") != 0)
            warn(&e, f.name, f.value,
                 "is not supported (cumulative, delta or lowmemory)",
                 "the default cumulative");
    }

    f = one(&e, "OTEL_SDK_DISABLED");
    if (get_bool(&e, &f) == 1) {
        cfg->inert = 1;
        snprintf(cfg->inert_reason, sizeof cfg->inert_reason,
                 "disabled (%s=true)", f.name);
    } else if (!any_endpoint) {
        cfg->inert = 1;
        snprintf(cfg->inert_reason, sizeof cfg->inert_reason,
                 "no OTEL_EXPORTER_OTLP_ENDPOINT set (nor config key "
                 "endpoint)");
    } else if (!cfg->traces.enabled && !cfg->metrics.enabled &&
               e.refused_count) {
        cfg->inert = 1;
        snprintf(cfg->inert_reason, sizeof cfg->inert_reason,
                 "no signal has a usable endpoint and headers (see the "
                 "warning above)");
    } else if (!cfg->traces.enabled && !cfg->metrics.enabled) {
        cfg->inert = 1;
        snprintf(cfg->inert_reason, sizeof cfg->inert_reason,
                 "both exporters are none (traces_exporter, "
                 "metrics_exporter or OTEL_TRACES_EXPORTER, "
                 "OTEL_METRICS_EXPORTER)");
    }
    return 0;
}

static void free_signal(struct rocky_otel_signal_config *s)
{
    for (size_t i = 0; i < s->header_count; i++) {
        free(s->header_keys[i]);
        free(s->header_values[i]);
        s->header_keys[i] = s->header_values[i] = NULL;
    }
    s->header_count = 0;
}

void rocky_otel_config_free(struct rocky_otel_config *cfg)
{
    if (!cfg)
        return;
    free_signal(&cfg->traces);
    free_signal(&cfg->metrics);
    for (size_t i = 0; i < cfg->resource_attr_count; i++) {
        free(cfg->resource_keys[i]);
        free(cfg->resource_values[i]);
        cfg->resource_keys[i] = cfg->resource_values[i] = NULL;
    }
    cfg->resource_attr_count = 0;
}
