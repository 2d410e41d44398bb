/* sqlscan.c — a tokenizer good enough to find FROM/JOIN targets and
 * depends_on comments (see sqlscan.h). */
#include "sqlscan.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rocky/error.h"

enum tok_type { T_IDENT, T_QIDENT, T_PUNCT, T_OTHER };

struct tok {
    int type;
    const char *start;
    size_t len;
    int line;
};

struct scan {
    struct tok *toks;
    size_t ntoks, cap;
    struct rocky_sql_refs *out;
    int oom;
};

static void push_tok(struct scan *s, int type, const char *start, size_t len,
                     int line)
{
    if (s->ntoks == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        struct tok *t = realloc(s->toks, cap * sizeof *t);
        if (t == NULL) {
            s->oom = 1;
            return;
        }
        s->toks = t;
        s->cap = cap;
    }
    s->toks[s->ntoks++] = (struct tok){type, start, len, line};
}

static void add_ref(struct scan *s, const char *name, size_t len, int line,
                    int kind, int is_function)
{
    struct rocky_sql_refs *o = s->out;
    struct rocky_sql_ref *r = realloc(o->refs, (o->count + 1) * sizeof *r);
    char *copy = strndup(name, len);
    if (r == NULL || copy == NULL) {
        free(copy);
        if (r != NULL)
            o->refs = r;
        s->oom = 1;
        return;
    }
    o->refs = r;
    o->refs[o->count++] = (struct rocky_sql_ref){copy, line, kind, is_function};
}

static int ident_char(int c)
{
    return isalnum(c) || c == '_' || c == '$';
}

/* "-- depends_on: a, b" */
static void declared(struct scan *s, const char *p, const char *end, int line)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    static const char key[] = "depends_on:";
    if ((size_t)(end - p) < sizeof key - 1 ||
        strncasecmp(p, key, sizeof key - 1) != 0)
        return;
    p += sizeof key - 1;
    while (p < end) {
        while (p < end && (isspace((unsigned char)*p) || *p == ','))
            p++;
        const char *start = p;
        while (p < end && ident_char((unsigned char)*p))
            p++;
        if (p > start)
            add_ref(s, start, (size_t)(p - start), line, ROCKY_SQL_REF_DECLARED,
                    0);
        else if (p < end)
            p++; /* skip a stray character */
    }
}

static void tokenize(struct scan *s, const char *sql)
{
    const char *p = sql;
    int line = 1;
    while (*p && !s->oom) {
        unsigned char c = (unsigned char)*p;
        if (c == '\n') {
            line++;
            p++;
        } else if (isspace(c)) {
            p++;
        } else if (c == '-' && p[1] == '-') {
            const char *end = strchr(p, '\n');
            if (end == NULL)
                end = p + strlen(p);
            declared(s, p + 2, end, line);
            p = end;
        } else if (c == '/' && p[1] == '*') {
            p += 2;
            while (*p && !(p[0] == '*' && p[1] == '/')) {
                line += *p == '\n';
                p++;
            }
            if (*p)
                p += 2;
        } else if (c == '\'') {
            p++;
            while (*p && !(p[0] == '\'' && p[1] != '\'')) {
                if (p[0] == '\'')
                    p++; /* '' escape */
                line += *p == '\n';
                p++;
            }
            if (*p)
                p++;
        } else if (c == '"' || c == '`' || c == '[') {
            char close = c == '[' ? ']' : (char)c;
            const char *start = ++p;
            int start_line = line;
            while (*p && *p != close) {
                line += *p == '\n';
                p++;
            }
            push_tok(s, T_QIDENT, start, (size_t)(p - start), start_line);
            if (*p)
                p++;
        } else if (isalpha(c) || c == '_') {
            const char *start = p;
            while (ident_char((unsigned char)*p))
                p++;
            push_tok(s, T_IDENT, start, (size_t)(p - start), line);
        } else if (isdigit(c)) {
            while (isalnum((unsigned char)*p) || *p == '.')
                p++;
            push_tok(s, T_OTHER, p, 0, line);
        } else {
            push_tok(s, T_PUNCT, p, 1, line);
            p++;
        }
    }
}

static int is_kw(const struct tok *t, const char *kw)
{
    return t->type == T_IDENT && strlen(kw) == t->len &&
           strncasecmp(t->start, kw, t->len) == 0;
}

static int is_punct(const struct tok *t, char c)
{
    return t->type == T_PUNCT && t->start[0] == c;
}

static int is_name(const struct tok *t)
{
    return t->type == T_IDENT || t->type == T_QIDENT;
}

/* Keywords that can follow a table name where an alias could stand. */
static int clause_kw(const struct tok *t)
{
    static const char *const kws[] = {
        "where",     "join",    "left",   "right",  "inner",     "outer",
        "cross",     "natural", "full",   "on",     "using",     "group",
        "order",     "limit",   "union",  "except", "intersect", "having",
        "window",    "as",      "select", "from",   "indexed",   "not",
        "returning", "values",  "offset", "set",    NULL};
    for (int i = 0; kws[i]; i++)
        if (is_kw(t, kws[i]))
            return 1;
    return 0;
}

/* Index past the matching ')' of the '(' at i, or n. */
static size_t skip_parens(const struct tok *t, size_t i, size_t n)
{
    int depth = 0;
    for (; i < n; i++) {
        if (is_punct(&t[i], '('))
            depth++;
        else if (is_punct(&t[i], ')') && --depth == 0)
            return i + 1;
    }
    return n;
}

/* name AS ( ... or name(cols) AS ( ... : a common table expression. */
static int is_cte_name(const struct tok *t, size_t i, size_t n)
{
    if (!is_name(&t[i]))
        return 0;
    size_t j = i + 1;
    if (j < n && is_punct(&t[j], '('))
        j = skip_parens(t, j, n);
    if (j + 1 < n && is_kw(&t[j], "as") && is_punct(&t[j + 1], '('))
        return 1;
    /* AS MATERIALIZED ( / AS NOT MATERIALIZED ( */
    return j + 2 < n && is_kw(&t[j], "as") &&
           (is_kw(&t[j + 1], "materialized") || is_kw(&t[j + 1], "not"));
}

static int tok_eq(const struct tok *a, const struct tok *b)
{
    return a->len == b->len && strncasecmp(a->start, b->start, a->len) == 0;
}

static void find_refs(struct scan *s)
{
    const struct tok *t = s->toks;
    size_t n = s->ntoks;
    for (size_t i = 0; i < n && !s->oom; i++) {
        if (!is_kw(&t[i], "from") && !is_kw(&t[i], "join"))
            continue;
        size_t j = i + 1;
        while (j < n && is_name(&t[j]) && !clause_kw(&t[j])) {
            size_t name = j;
            /* schema.table: only main. is ours */
            int foreign = 0;
            if (j + 2 < n && is_punct(&t[j + 1], '.') && is_name(&t[j + 2])) {
                foreign =
                    !(t[j].len == 4 && strncasecmp(t[j].start, "main", 4) == 0);
                name = j + 2;
                j += 2;
            }
            j++;
            int is_fn = j < n && is_punct(&t[j], '(');
            if (is_fn)
                j = skip_parens(t, j, n);
            int cte = 0;
            for (size_t k = 0; k < n && !cte; k++)
                cte = k != name && tok_eq(&t[k], &t[name]) &&
                      is_cte_name(t, k, n);
            if (!foreign && !cte)
                add_ref(s, t[name].start, t[name].len, t[name].line,
                        ROCKY_SQL_REF_READ, is_fn);
            /* optional alias */
            if (j < n && is_kw(&t[j], "as"))
                j++;
            if (j < n && is_name(&t[j]) && !clause_kw(&t[j]))
                j++;
            if (j < n && is_punct(&t[j], ','))
                j++;
            else
                break;
        }
    }
}

int rocky_sql_scan(const char *sql, struct rocky_sql_refs *out)
{
    memset(out, 0, sizeof *out);
    struct scan s = {0};
    s.out = out;
    tokenize(&s, sql);
    if (!s.oom)
        find_refs(&s);
    free(s.toks);
    if (s.oom) {
        rocky_sql_refs_free(out);
        return ROCKY_ENOMEM;
    }
    return 0;
}

void rocky_sql_refs_free(struct rocky_sql_refs *refs)
{
    for (size_t i = 0; i < refs->count; i++)
        free(refs->refs[i].name);
    free(refs->refs);
    refs->refs = NULL;
    refs->count = 0;
}
