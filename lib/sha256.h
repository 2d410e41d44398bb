/* sha256.h — SHA-256 (FIPS 180-4) for sql_hash and config_hash. We carry
 * our own because the dependency set is fixed (no OpenSSL) and the hashes
 * must be stable across builds. */
#ifndef ROCKY_LIB_SHA256_H
#define ROCKY_LIB_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct rocky_sha256 {
    uint32_t state[8];
    uint64_t length_bytes;
    uint8_t block[64];
    size_t block_used;
};

void rocky_sha256_init(struct rocky_sha256 *ctx);
void rocky_sha256_update(struct rocky_sha256 *ctx, const void *data,
                         size_t len);
/* Writes the 32-byte digest; ctx must be re-initialised before reuse. */
void rocky_sha256_final(struct rocky_sha256 *ctx, uint8_t digest[32]);

/* One-shot: lowercase hex digest of `len` bytes into `hex` (65 bytes). */
void rocky_sha256_hex(const void *data, size_t len, char hex[65]);

#endif
