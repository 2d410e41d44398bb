/*
 * grpc_log_filter.h — what of gRPC core's own log lines may reach the host,
 * and the registry of secrets no line may carry.
 *
 * gRPC logs text we do not control from its own threads, through one
 * process-wide hook: an illegal metadata value is dumped in full and in
 * hex, and a failed TLS handshake is logged once per connection attempt
 * (eight lines in a 1.5 s export). Every line passes this filter first:
 *
 *   1. Secrets. A line that holds a registered secret (a header value) is
 *      withheld whole: the value itself, any 8-byte piece of it (a cut
 *      quote), or its hex dump (gRPC's raw_bytes form: "42 65 61", spaced
 *      or not, either case).
 *   2. Metadata. A line about request metadata ("raw_bytes", "metadata",
 *      "header") is withheld whole: it may quote a value in a form rule 1
 *      cannot recognise. The config refuses illegal headers before gRPC
 *      sees them, so this is the second line of defence.
 *   3. TLS handshakes. Withheld: gRPC puts the same reason in the call's
 *      status, and the exporter warns once per failure streak with it.
 *   4. What is forwarded has control and non-ASCII bytes as '?' and is cut
 *      at ROCKY_OTEL_GRPC_LINE_MAX bytes.
 *   5. Each site (file:line) is forwarded once; at most
 *      ROCKY_OTEL_GRPC_LINES_MAX lines per process, then one line saying
 *      that further lines are suppressed.
 * A line withheld by rules 1 or 2 is replaced, once per process and rule,
 * by a line saying so (never what it held).
 *
 * Threads: everything here may be called from any thread (gRPC's, the
 * exporter's, the host's); one mutex guards the registry and counters.
 */
#ifndef ROCKY_OTEL_GRPC_LOG_FILTER_H
#define ROCKY_OTEL_GRPC_LOG_FILTER_H

#include <stddef.h>

#define ROCKY_OTEL_GRPC_LINE_MAX  240
#define ROCKY_OTEL_GRPC_LINES_MAX 16
#define ROCKY_OTEL_SECRET_MIN_LEN 4  /* shorter values are not secrets   */
#define ROCKY_OTEL_SECRETS_MAX    64 /* then every gRPC line is withheld */

/*
 * Register `value` (copied) as a secret; a value registered twice is
 * counted. Values shorter than ROCKY_OTEL_SECRET_MIN_LEN bytes are ignored
 * (a line holding "1" is not a leak, and withholding every line with a
 * digit in it would hide every diagnostic). When the registry is full, the
 * filter withholds every gRPC line from then on (safe, not silent: one line
 * says so). Returns 0, or ROCKY_ENOMEM (the same withhold-all fallback).
 */
int rocky_otel_secret_add(const char *value);

/* Undo one rocky_otel_secret_add of an equal value. */
void rocky_otel_secret_remove(const char *value);

/* 1 when `text` holds a registered secret in any form rule 1 knows. */
int rocky_otel_secret_in(const char *text);

/*
 * Decide about one gRPC log line from `file`:`line`. Returns 1 and writes
 * the line to forward into `out` (a filtered copy of `message`, or a
 * summary of what was withheld), or 0 when nothing is to be forwarded.
 */
int rocky_otel_grpc_log_filter(const char *file, int line, const char *message,
                               char *out, size_t out_size);

/* Forget the sites and counters (not the secrets); for tests. */
void rocky_otel_grpc_log_filter_reset(void);

#endif
