/*
 * sql_hash.h — a model's SQL hash as the queue keeps it: 64 lowercase hex
 * digits (a SHA-256, what the runner records) turned into their 32 bytes,
 * on the runner's thread, so a queued span holds half the bytes.
 *
 * The conversion is chosen once, at load: AVX2 where the CPU has it (about
 * half the instructions), else SSE2 (every x86-64), else plain C. All give
 * the same answer for every input (test_otel_sql_hash).
 */
#ifndef ROCKY_OTEL_SQL_HASH_H
#define ROCKY_OTEL_SQL_HASH_H

#include <stdint.h>

/* A conversion: 0 with `out` (32 bytes) filled when the NUL-terminated `s`
 * is exactly 64 lowercase hex digits, else -1 (`out` then holds nothing of
 * use). Thread-safe, no allocation. */
typedef int (*rocky_otel_sql_hash_fn)(const char *s, uint8_t *out);

/* The conversion this CPU runs; set before any caller can run (a
 * constructor, at load). */
extern rocky_otel_sql_hash_fn rocky_otel_sql_hash_impl;

static inline int rocky_otel_sql_hash_to_binary(const char *s, uint8_t *out)
{
    return rocky_otel_sql_hash_impl(s, out);
}

/* Each conversion by name, for tests: NULL when this build or CPU lacks
 * it. Index 0 is plain C and always there. */
#define ROCKY_OTEL_SQL_HASH_IMPLS 3
rocky_otel_sql_hash_fn rocky_otel_sql_hash_impl_at(int i);

#endif
