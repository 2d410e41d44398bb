/*
 * grpc_log_filter.c — the filter between gRPC core's log hook and the
 * host, and the secrets registry (rules in grpc_log_filter.h).
 */
#include "grpc_log_filter.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rocky/error.h"

/* One registered secret: the value and its two hex dumps ("4265" and
 * "42 65"), precomputed so a log line is scanned without allocating. */
struct secret {
    char *raw, *hex, *spaced;
    size_t len;
    unsigned refs;
};

/* Under `mu`: the registry and the per-process counters. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct secret secrets[ROCKY_OTEL_SECRETS_MAX];
static int withhold_all; /* the registry overflowed: no line is safe */
static struct {
    char file[64];
    int line;
} sites[ROCKY_OTEL_GRPC_LINES_MAX];
static size_t forwarded;
static int said_secret, said_metadata, said_all, said_cap;

/* How many bytes of a secret make a recognisable piece of it. */
#define PIECE 8

static char *hex_of(const char *s, size_t len, int spaced)
{
    static const char digits[] = "0123456789abcdef";
    char *out = malloc(len * 3 + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (spaced && i)
            out[o++] = ' ';
        out[o++] = digits[(unsigned char)s[i] >> 4];
        out[o++] = digits[(unsigned char)s[i] & 15];
    }
    out[o] = '\0';
    return out;
}

static void secret_clear(struct secret *s)
{
    free(s->raw);
    free(s->hex);
    free(s->spaced);
    memset(s, 0, sizeof *s);
}

int rocky_otel_secret_add(const char *value)
{
    size_t len = value ? strlen(value) : 0;
    if (len < ROCKY_OTEL_SECRET_MIN_LEN)
        return 0;
    int rc = 0;
    pthread_mutex_lock(&mu);
    struct secret *free_slot = NULL;
    for (size_t i = 0; i < ROCKY_OTEL_SECRETS_MAX; i++) {
        if (secrets[i].raw && strcmp(secrets[i].raw, value) == 0) {
            secrets[i].refs++;
            pthread_mutex_unlock(&mu);
            return 0;
        }
        if (!secrets[i].raw && !free_slot)
            free_slot = &secrets[i];
    }
    if (!free_slot) {
        withhold_all = 1;
        rc = ROCKY_ENOMEM;
    } else {
        free_slot->raw = strdup(value);
        free_slot->hex = hex_of(value, len, 0);
        free_slot->spaced = hex_of(value, len, 1);
        free_slot->len = len;
        free_slot->refs = 1;
        if (!free_slot->raw || !free_slot->hex || !free_slot->spaced) {
            secret_clear(free_slot);
            withhold_all = 1;
            rc = ROCKY_ENOMEM;
        }
    }
    pthread_mutex_unlock(&mu);
    return rc;
}

void rocky_otel_secret_remove(const char *value)
{
    if (!value)
        return;
    pthread_mutex_lock(&mu);
    for (size_t i = 0; i < ROCKY_OTEL_SECRETS_MAX; i++)
        if (secrets[i].raw && strcmp(secrets[i].raw, value) == 0) {
            if (--secrets[i].refs == 0)
                secret_clear(&secrets[i]);
            break;
        }
    pthread_mutex_unlock(&mu);
}

/* Is any `piece`-byte window of [s, s+n) in `text`? The whole of it when it
 * is shorter. `step` is the distance between window starts (3 for the
 * spaced hex dump, so windows start on a byte). Case-insensitive for hex. */
static int piece_in(const char *text, const char *s, size_t n, size_t piece,
                    size_t step, int nocase)
{
    if (piece > n)
        piece = n;
    size_t tlen = strlen(text);
    for (size_t i = 0; i + piece <= n; i += step) {
        for (size_t t = 0; t + piece <= tlen; t++) {
            size_t k = 0;
            if (nocase)
                while (k < piece &&
                       tolower((unsigned char)text[t + k]) == s[i + k])
                    k++;
            else
                while (k < piece && text[t + k] == s[i + k])
                    k++;
            if (k == piece)
                return 1;
        }
    }
    return 0;
}

static int secret_in_locked(const char *text)
{
    for (size_t i = 0; i < ROCKY_OTEL_SECRETS_MAX; i++) {
        const struct secret *s = &secrets[i];
        if (!s->raw)
            continue;
        if (piece_in(text, s->raw, s->len, PIECE, 1, 0) ||
            piece_in(text, s->hex, 2 * s->len, 2 * PIECE, 2, 1) ||
            piece_in(text, s->spaced, 3 * s->len - 1, 3 * PIECE - 1, 3, 1))
            return 1;
    }
    return 0;
}

int rocky_otel_secret_in(const char *text)
{
    if (!text)
        return 0;
    pthread_mutex_lock(&mu);
    int in = withhold_all || secret_in_locked(text);
    pthread_mutex_unlock(&mu);
    return in;
}

static int has_word(const char *text, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = text; *p; p++)
        if (strncasecmp(p, word, n) == 0)
            return 1;
    return 0;
}

/* The file's last path component, so "./src/core/x.cc" and "x.cc" match. */
static const char *base_of(const char *file)
{
    const char *slash = file ? strrchr(file, '/') : NULL;
    return slash ? slash + 1 : (file ? file : "");
}

static int is_tls_handshake(const char *base, const char *message)
{
    return strstr(base, "ssl_transport_security") ||
           strstr(base, "security_handshaker") || strstr(base, "ssl_utils") ||
           has_word(message, "handshake failed");
}

static void clean_copy(const char *message, char *out, size_t size)
{
    static const char prefix[] = "grpc: ";
    size_t cap = size < ROCKY_OTEL_GRPC_LINE_MAX + sizeof prefix
                     ? size
                     : ROCKY_OTEL_GRPC_LINE_MAX + sizeof prefix;
    size_t o = 0;
    for (const char *p = prefix; *p && o + 1 < cap; p++)
        out[o++] = *p;
    const unsigned char *m = (const unsigned char *)message;
    for (; *m && o + 1 < cap; m++)
        out[o++] = (*m < 0x20 || *m >= 0x7f) ? '?' : (char)*m;
    if (*m && cap >= 4) /* cut: say so */
        memcpy(out + cap - 4, "...", 3);
    out[o] = '\0';
}

/* Under mu: 1 when this site was forwarded before; else remembers it. */
static int seen_site(const char *base, int line)
{
    for (size_t i = 0; i < forwarded; i++)
        if (sites[i].line == line && strcmp(sites[i].file, base) == 0)
            return 1;
    if (forwarded < ROCKY_OTEL_GRPC_LINES_MAX) {
        snprintf(sites[forwarded].file, sizeof sites[0].file, "%s", base);
        sites[forwarded].line = line;
    }
    return 0;
}

int rocky_otel_grpc_log_filter(const char *file, int line, const char *message,
                               char *out, size_t out_size)
{
    if (!out || out_size == 0)
        return 0;
    out[0] = '\0';
    if (!message)
        message = "";
    const char *base = base_of(file);
    int forward = 0;
    pthread_mutex_lock(&mu);
    if (withhold_all) {
        if (!said_all++) {
            snprintf(out, out_size,
                     "grpc: its log lines are withheld: too many header "
                     "values to filter them for");
            forward = 1;
        }
    } else if (secret_in_locked(message)) {
        if (!said_secret++) {
            snprintf(out, out_size,
                     "grpc: a log line was withheld: it held a configured "
                     "header value");
            forward = 1;
        }
    } else if (has_word(message, "raw_bytes") ||
               has_word(message, "metadata") || has_word(message, "header")) {
        if (!said_metadata++) {
            snprintf(out, out_size,
                     "grpc: a log line about request metadata was withheld "
                     "(it may quote a header value)");
            forward = 1;
        }
    } else if (is_tls_handshake(base, message)) {
        /* the exporter's failure warning carries the reason, once */
    } else if (seen_site(base, line)) {
        /* said once already */
    } else if (forwarded < ROCKY_OTEL_GRPC_LINES_MAX) {
        forwarded++;
        clean_copy(message, out, out_size);
        forward = 1;
    } else if (!said_cap++) {
        snprintf(out, out_size,
                 "grpc: further log lines are suppressed (%d shown)",
                 ROCKY_OTEL_GRPC_LINES_MAX);
        forward = 1;
    }
    pthread_mutex_unlock(&mu);
    return forward;
}

void rocky_otel_grpc_log_filter_reset(void)
{
    pthread_mutex_lock(&mu);
    forwarded = 0;
    said_secret = said_metadata = said_all = said_cap = 0;
    pthread_mutex_unlock(&mu);
}
