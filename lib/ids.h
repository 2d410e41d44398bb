/*
 * ids.h — trace/span ids and their text forms (W3C Trace Context).
 */
#ifndef ROCKY_LIB_IDS_H
#define ROCKY_LIB_IDS_H

#include <stddef.h>
#include <stdint.h>

#include "rocky/run_model.h"

/* Fill `out` with `len` random bytes (getrandom, falling back to
 * /dev/urandom). Never all-zero for ids (a zero id means "absent"): the
 * caller gets a non-zero result. Returns 0 or ROCKY_EIO. */
int rocky_random_id(uint8_t *out, size_t len);

/* Lowercase hex of `len` bytes into `hex`, which holds 2*len+1 bytes. */
void rocky_hex_encode(const uint8_t *bytes, size_t len, char *hex);

/* Parse exactly 2*len hex digits (either case). Returns 0 or ROCKY_EINVAL. */
int rocky_hex_decode(const char *hex, uint8_t *bytes, size_t len);

/* True when all `len` bytes are zero. */
int rocky_id_is_zero(const uint8_t *bytes, size_t len);

/* A parsed W3C `traceparent` header. */
struct rocky_traceparent {
    uint8_t trace_id[ROCKY_TRACE_ID_SIZE];
    uint8_t parent_span_id[ROCKY_SPAN_ID_SIZE];
    uint8_t trace_flags;
};

/* Parse "00-<32 hex>-<16 hex>-<2 hex>" (version 00; future versions are
 * accepted when the first four fields parse, per the spec). All-zero ids and
 * version ff are invalid. Returns 0 or ROCKY_EINVAL. */
int rocky_traceparent_parse(const char *text, struct rocky_traceparent *out);

#endif
