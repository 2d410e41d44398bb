/*
 * fuzz_traceparent.c — TRACEPARENT comes from the environment of whoever
 * starts the runner: arbitrary bytes. The parser must never read out of
 * bounds, and whatever it accepts must round-trip through hex.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ids.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    struct rocky_traceparent tp;
    if (rocky_traceparent_parse(text, &tp) == 0) {
        char hex[33];
        uint8_t back[16];
        rocky_hex_encode(tp.trace_id, 16, hex);
        if (rocky_hex_decode(hex, back, 16) != 0 ||
            memcmp(back, tp.trace_id, 16) != 0 ||
            rocky_id_is_zero(tp.trace_id, 16) ||
            rocky_id_is_zero(tp.parent_span_id, 8))
            abort(); /* accepted something that is not a valid context */
    }
    free(text);
    return 0;
}
