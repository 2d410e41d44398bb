/*
 * human_units.h — numbers for people: "5.6 MiB", "12.0k rows", "2m03s".
 *
 * Text views only; JSON documents keep the exact values. Every function
 * writes a NUL-terminated string of at most ROCKY_HUMAN_MAX - 1 bytes
 * into `buf` (`size` bytes, truncated when smaller) and returns `buf`.
 * The widths below are upper bounds, so columns can be laid out in advance.
 */
#ifndef ROCKY_HUMAN_UNITS_H
#define ROCKY_HUMAN_UNITS_H

#include <stddef.h>
#include <stdint.h>

#define ROCKY_HUMAN_MAX 32

/* Bytes in IEC units: "0 B", "1023 B", "1.0 KiB", "5.6 MiB", … "8.0 EiB".
 * At most 10 columns. Negative: "-". */
char *rocky_human_bytes(int64_t bytes, char *buf, size_t size);

/* A count with its noun, singular or plural: "1 row", "999 rows",
 * "12.0k rows", "3.4M rows", "1.2G rows" (k = 10^3, M = 10^6, G = 10^9).
 * `one` and `many` are the noun's two forms. At most 6 columns plus the
 * noun and a space. Negative: "-". */
char *rocky_human_count(int64_t n, const char *one, const char *many, char *buf,
                        size_t size);

/* A duration: "0.00s" … "59.99s", "1m00s" … "59m59s", "1h00m" …; at most
 * 8 columns below 10,000 hours. Negative: "-". */
char *rocky_human_duration(int64_t ns, char *buf, size_t size);

/* `one` when n == 1, else `many`: "1 model", "2 models", "0 models". */
const char *rocky_plural(int64_t n, const char *one, const char *many);

#endif
