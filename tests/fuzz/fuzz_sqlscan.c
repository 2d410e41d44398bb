/*
 * fuzz_sqlscan.c — a model's SQL is written by whoever writes the project,
 * and the runner scans it for dependencies before SQLite ever sees it:
 * arbitrary text, unterminated strings, comments and quotes included.
 *
 * Invariants: the scan never fails on malformed SQL (only ROCKY_ENOMEM);
 * every reference's name is text of the SQL (a token, copied: quoted
 * names may be empty, as `from ""` is), its kind is known and its line is
 * inside the text; everything is freed (LeakSanitizer).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rocky/error.h"
#include "sqlscan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *sql = malloc(size + 1);
    if (sql == NULL)
        return 0;
    memcpy(sql, data, size);
    sql[size] = '\0';
    int lines = 1;
    for (const char *p = sql; *p; p++)
        lines += *p == '\n';

    struct rocky_sql_refs refs;
    memset(&refs, 0, sizeof refs);
    int rc = rocky_sql_scan(sql, &refs);
    if (rc != 0 && rc != ROCKY_ENOMEM)
        abort();
    if (rc == 0) {
        for (size_t i = 0; i < refs.count; i++) {
            const struct rocky_sql_ref *r = &refs.refs[i];
            if (r->name == NULL || strstr(sql, r->name) == NULL ||
                r->line < 1 || r->line > lines ||
                (r->kind != ROCKY_SQL_REF_READ &&
                 r->kind != ROCKY_SQL_REF_DECLARED))
                abort();
        }
        rocky_sql_refs_free(&refs);
    }
    free(sql);
    return 0;
}
