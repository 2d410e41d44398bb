/* ids.c — see ids.h. */
#include "ids.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "rocky/error.h"

static int fill_random(uint8_t *out, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = getrandom(out + got, len - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        got += (size_t)n;
    }
    if (got == len)
        return 0;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ROCKY_EIO;
    ssize_t n = read(fd, out, len);
    close(fd);
    return n == (ssize_t)len ? 0 : ROCKY_EIO;
}

int rocky_random_id(uint8_t *out, size_t len)
{
    for (int tries = 0; tries < 8; tries++) {
        int rc = fill_random(out, len);
        if (rc != 0)
            return rc;
        if (!rocky_id_is_zero(out, len))
            return 0;
    }
    return ROCKY_EIO;
}

void rocky_hex_encode(const uint8_t *bytes, size_t len, char *hex)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        hex[2 * i] = digits[bytes[i] >> 4];
        hex[2 * i + 1] = digits[bytes[i] & 0xF];
    }
    hex[2 * len] = '\0';
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int rocky_hex_decode(const char *hex, uint8_t *bytes, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        int hi = hex_value(hex[2 * i]);
        int lo = hi < 0 ? -1 : hex_value(hex[2 * i + 1]);
        if (lo < 0)
            return ROCKY_EINVAL;
        bytes[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

int rocky_id_is_zero(const uint8_t *bytes, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (bytes[i] != 0)
            return 0;
    return 1;
}

int rocky_traceparent_parse(const char *text, struct rocky_traceparent *out)
{
    /* version(2) - trace-id(32) - parent-id(16) - flags(2) = 55 chars */
    if (text == NULL || strlen(text) < 55)
        return ROCKY_EINVAL;
    if (text[2] != '-' || text[35] != '-' || text[52] != '-')
        return ROCKY_EINVAL;
    uint8_t version;
    if (rocky_hex_decode(text, &version, 1) != 0 || version == 0xff)
        return ROCKY_EINVAL;
    /* Version 00 is exactly 55 chars; later versions may append "-...". */
    if (version == 0 && text[55] != '\0')
        return ROCKY_EINVAL;
    if (version != 0 && text[55] != '\0' && text[55] != '-')
        return ROCKY_EINVAL;
    struct rocky_traceparent tp;
    if (rocky_hex_decode(text + 3, tp.trace_id, sizeof tp.trace_id) != 0 ||
        rocky_hex_decode(text + 36, tp.parent_span_id,
                         sizeof tp.parent_span_id) != 0 ||
        rocky_hex_decode(text + 53, &tp.trace_flags, 1) != 0)
        return ROCKY_EINVAL;
    if (rocky_id_is_zero(tp.trace_id, sizeof tp.trace_id) ||
        rocky_id_is_zero(tp.parent_span_id, sizeof tp.parent_span_id))
        return ROCKY_EINVAL;
    *out = tp;
    return 0;
}
