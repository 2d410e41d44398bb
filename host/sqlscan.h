/*
 * sqlscan.h — find what a model's SQL reads, without a SQL parser.
 *
 * Dependencies are inferred: every table named right after FROM or JOIN
 * (including comma-separated FROM lists and `main.` qualified names) that
 * is not a CTE of the same statement is a reference. A model may also
 * declare dependencies explicitly in a comment line
 *     -- depends_on: a, b
 * (for reads the scanner cannot see, such as a view). Comments and string
 * literals are skipped, so a name inside them is never a reference.
 */
#ifndef ROCKY_HOST_SQLSCAN_H
#define ROCKY_HOST_SQLSCAN_H

#include <stddef.h>

enum rocky_sql_ref_kind {
    ROCKY_SQL_REF_READ = 0,    /* inferred from FROM/JOIN */
    ROCKY_SQL_REF_DECLARED = 1 /* from a depends_on comment */
};

struct rocky_sql_ref {
    char *name;      /* as written (unquoted), heap */
    int line;        /* 1-based line in the model file */
    int kind;        /* enum rocky_sql_ref_kind */
    int is_function; /* name( ... ): a table-valued function */
};

struct rocky_sql_refs {
    struct rocky_sql_ref *refs;
    size_t count;
};

/* Scan `sql`. On success `out` owns its refs (free with
 * rocky_sql_refs_free). CTE names are already removed. Returns 0 or
 * ROCKY_ENOMEM. Never fails on malformed SQL: SQLite reports that when
 * the model runs. */
int rocky_sql_scan(const char *sql, struct rocky_sql_refs *out);

void rocky_sql_refs_free(struct rocky_sql_refs *refs);

#endif
