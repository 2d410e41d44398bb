/*
 * model_strings.h — a model span's two strings measured on the runner's
 * thread as the queue packs them: the name's length, and the SQL hash, 64
 * lowercase hex digits (a SHA-256, what the runner records), as its 32
 * bytes, so that a queued span holds half the bytes.
 *
 * One call does both, chosen once at load: AVX2 where the CPU has it, else
 * SSE2 (every x86-64), else plain C. All give the same answer for every
 * input (test_otel_model_strings).
 */
#ifndef ROCKY_OTEL_MODEL_STRINGS_H
#define ROCKY_OTEL_MODEL_STRINGS_H

#include <stdint.h>

/*
 * Returns 0 when the NUL-terminated `name` is shorter than 128 bytes (its
 * length into *name_len) and the NUL-terminated `hash` is exactly 64
 * lowercase hex digits (its bytes into `hash_out`, 32 of them); else -1,
 * and the outputs hold nothing of use (the caller packs the general way).
 * Both strings non-NULL. Thread-safe, no allocation.
 */
typedef int (*rocky_otel_model_strings_fn)(const char *name, const char *hash,
                                           uint32_t *name_len,
                                           uint8_t *hash_out);

/* The one this CPU runs; set before any caller can run (a constructor, at
 * load). */
extern rocky_otel_model_strings_fn rocky_otel_model_strings_impl;

static inline int rocky_otel_model_strings(const char *name, const char *hash,
                                           uint32_t *name_len,
                                           uint8_t *hash_out)
{
    return rocky_otel_model_strings_impl(name, hash, name_len, hash_out);
}

/* Each by number, for tests: NULL when this build or CPU lacks it. Index 0
 * is plain C and always there. */
#define ROCKY_OTEL_MODEL_STRINGS_IMPLS 3
rocky_otel_model_strings_fn rocky_otel_model_strings_impl_at(int i);

#endif
