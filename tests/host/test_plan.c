/* test_plan.c — loading and planning projects: order, inferred and declared
 * dependencies, cycles and unknown references named precisely. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "project.h"
#include "rocky/error.h"
#include "sqlscan.h"

struct fx {
    char dir[64];
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/rocky-plan-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    char models[96];
    snprintf(models, sizeof models, "%s/models", f->dir);
    mkdir(models, 0777);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    int rc = system(cmd);
    free(f);
    return rc == 0 ? 0 : -1;
}

static void put(const struct fx *f, const char *rel, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", f->dir, rel);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static size_t pos(const struct rocky_project *p, const char *name)
{
    long idx = rocky_project_find(p, name);
    assert_true(idx >= 0);
    for (size_t i = 0; i < p->nmodels; i++)
        if (p->order[i] == (size_t)idx)
            return i;
    fail_msg("%s not in order", name);
    return 0;
}

static void test_order_puts_dependencies_first(void **state)
{
    struct fx *f = *state;
    put(f, "models/c.sql", "SELECT * FROM b JOIN a ON a.x = b.x");
    put(f, "models/b.sql", "SELECT x FROM a");
    put(f, "models/a.sql", "SELECT 1 AS x");
    put(f, "models/d.sql", "-- depends_on: c\nSELECT 2 AS y");
    struct rocky_project *p = NULL;
    char err[512] = "";
    assert_int_equal(rocky_project_load(f->dir, &p, err, sizeof err), 0);
    assert_int_equal(p->nmodels, 4);
    assert_true(pos(p, "a") < pos(p, "b"));
    assert_true(pos(p, "b") < pos(p, "c"));
    assert_true(pos(p, "c") < pos(p, "d"));
    const struct rocky_model_def *c = &p->models[rocky_project_find(p, "c")];
    assert_int_equal(c->ndeps, 2);
    const struct rocky_model_def *d = &p->models[rocky_project_find(p, "d")];
    assert_int_equal(d->ndeps, 1);
    assert_string_equal(d->dep_names[0], "c");
    rocky_project_free(p);
}

static void test_cycle_is_named(void **state)
{
    struct fx *f = *state;
    put(f, "models/a.sql", "SELECT * FROM c");
    put(f, "models/b.sql", "SELECT * FROM a");
    put(f, "models/c.sql", "SELECT * FROM b");
    put(f, "models/z.sql", "SELECT 1 AS ok");
    struct rocky_project *p = NULL;
    char err[512] = "";
    assert_int_equal(rocky_project_load(f->dir, &p, err, sizeof err),
                     ROCKY_ECYCLE);
    assert_null(p);
    /* every member once, closing on the first */
    assert_non_null(strstr(err, "cycle"));
    assert_non_null(strstr(err, "a -> b -> c -> a"));
}

static void test_self_reference_is_a_cycle(void **state)
{
    struct fx *f = *state;
    put(f, "models/a.sql", "SELECT * FROM a");
    struct rocky_project *p = NULL;
    char err[512] = "";
    assert_int_equal(rocky_project_load(f->dir, &p, err, sizeof err),
                     ROCKY_ECYCLE);
    assert_non_null(strstr(err, "a -> a"));
}

static void test_unknown_reference_names_file_and_line(void **state)
{
    struct fx *f = *state;
    put(f, "models/a.sql", "SELECT 1 AS x");
    put(f, "models/b.sql", "SELECT *\nFROM a\nJOIN missing_table m ON 1");
    struct rocky_project *p = NULL;
    char err[512] = "";
    assert_int_equal(rocky_project_load(f->dir, &p, err, sizeof err),
                     ROCKY_EINVAL);
    assert_non_null(strstr(err, "models/b.sql:3:"));
    assert_non_null(strstr(err, "missing_table"));
}

static void test_unknown_declared_dependency_names_file_and_line(void **state)
{
    struct fx *f = *state;
    put(f, "models/a.sql", "SELECT 1 AS x\n-- depends_on: ghost\n");
    struct rocky_project *p = NULL;
    char err[512] = "";
    assert_int_equal(rocky_project_load(f->dir, &p, err, sizeof err),
                     ROCKY_EINVAL);
    assert_non_null(strstr(err, "models/a.sql:2:"));
    assert_non_null(strstr(err, "ghost"));
}

static void test_sources_ctes_comments_and_strings_are_not_models(void **st)
{
    struct fx *f = *st;
    put(f, "rocky.json", "{\"sources\": [\"raw_events\"], \"threads\": 3}");
    put(f, "models/a.sql",
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n "
        "WHERE i < 3), t AS (SELECT * FROM n)\n"
        "SELECT i, 'FROM ghost' AS s FROM t, json_each('[1]') "
        "/* FROM ghost2 */ -- FROM ghost3\n"
        "JOIN raw_events ON 1 JOIN sqlite_master ON 1");
    struct rocky_project *p = NULL;
    char err[512] = "";
    assert_int_equal(rocky_project_load(f->dir, &p, err, sizeof err), 0);
    assert_int_equal(p->threads, 3);
    assert_int_equal(p->models[0].ndeps, 0);
    rocky_project_free(p);
}

static void test_scan_finds_comma_joins_aliases_and_main_prefix(void **state)
{
    struct rocky_sql_refs refs;
    assert_int_equal(rocky_sql_scan("select * from A x, main.\"B\" AS y,\n"
                                    " [c] where 1 LEFT JOIN other.d ON 1",
                                    &refs),
                     0);
    assert_int_equal(refs.count, 3);
    assert_string_equal(refs.refs[0].name, "A");
    assert_string_equal(refs.refs[1].name, "B");
    assert_string_equal(refs.refs[2].name, "c");
    assert_int_equal(refs.refs[2].line, 2);
    rocky_sql_refs_free(&refs);
}

/* The selected models of `p`, sorted, comma-separated, into `buf`. */
static const char *chosen(const struct rocky_project *p, char *buf, size_t n)
{
    buf[0] = '\0';
    for (size_t i = 0; i < p->nmodels; i++)
        if (p->models[i].selected)
            snprintf(buf + strlen(buf), n - strlen(buf), "%s%s",
                     buf[0] ? "," : "", p->models[i].name);
    return buf;
}

static void expect_selection(struct rocky_project *p, char **sel, size_t ns,
                             char **exc, size_t ne, const char *want)
{
    char err[512] = "", got[512];
    size_t n = 0;
    assert_int_equal(
        rocky_project_select(p, sel, ns, exc, ne, &n, err, sizeof err), 0);
    assert_string_equal(chosen(p, got, sizeof got), want);
}

static void test_select_graph_operators_globs_and_exclude(void **state)
{
    struct fx *f = *state;
    put(f, "models/a.sql", "SELECT 1 AS x");
    put(f, "models/b.sql", "SELECT * FROM a");
    put(f, "models/c.sql", "SELECT * FROM b");
    put(f, "models/d.sql", "SELECT 2 AS y");
    put(f, "models/stg_one.sql", "SELECT 3 AS z");
    put(f, "models/stg_two.sql", "SELECT * FROM stg_one");
    struct rocky_project *p = NULL;
    char err[512] = "";
    assert_int_equal(rocky_project_load(f->dir, &p, err, sizeof err), 0);
    char *b[] = {"B"}, *up_b[] = {"+b"}, *b_down[] = {"b+"};
    char *both[] = {"+b+"}, *stg[] = {"stg_*"}, *two[] = {"a", "d"};
    char *up_c[] = {"+c"}, *ex_a[] = {"a"}, *ex_stg1[] = {"stg_one+"};
    expect_selection(p, NULL, 0, NULL, 0, "a,b,c,d,stg_one,stg_two");
    expect_selection(p, b, 1, NULL, 0, "b");
    expect_selection(p, up_b, 1, NULL, 0, "a,b");
    expect_selection(p, b_down, 1, NULL, 0, "b,c");
    expect_selection(p, both, 1, NULL, 0, "a,b,c");
    expect_selection(p, stg, 1, NULL, 0, "stg_one,stg_two");
    expect_selection(p, two, 2, NULL, 0, "a,d");
    expect_selection(p, up_c, 1, ex_a, 1, "b,c");
    expect_selection(p, NULL, 0, ex_stg1, 1, "a,b,c,d");

    size_t n = 0;
    char *typo[] = {"stg_on"}, *none[] = {"zz_*"}, *plus[] = {"+"};
    assert_int_equal(
        rocky_project_select(p, typo, 1, NULL, 0, &n, err, sizeof err),
        ROCKY_ENOTFOUND);
    assert_non_null(strstr(err, "--select stg_on"));
    assert_non_null(strstr(err, "did you mean 'stg_one'?"));
    assert_int_equal(
        rocky_project_select(p, NULL, 0, typo, 1, &n, err, sizeof err),
        ROCKY_ENOTFOUND);
    assert_non_null(strstr(err, "--exclude stg_on"));
    assert_int_equal(
        rocky_project_select(p, none, 1, NULL, 0, &n, err, sizeof err),
        ROCKY_ENOTFOUND);
    assert_non_null(strstr(err, "zz_*: no model matches"));
    assert_int_equal(
        rocky_project_select(p, plus, 1, NULL, 0, &n, err, sizeof err),
        ROCKY_EINVAL);
    assert_int_equal(
        rocky_project_select(p, stg, 1, stg, 1, &n, err, sizeof err),
        ROCKY_ENOTFOUND);
    assert_non_null(strstr(err, "left no model"));
    rocky_project_free(p);
}

static void test_bad_projects_are_clear_errors(void **state)
{
    struct fx *f = *state;
    struct rocky_project *p = NULL;
    char err[512] = "";
    assert_int_equal(
        rocky_project_load("/nonexistent/rocky", &p, err, sizeof err),
        ROCKY_ENOTFOUND);
    assert_non_null(strstr(err, "/nonexistent/rocky"));
    assert_int_equal(rocky_project_load(f->dir, &p, err, sizeof err),
                     ROCKY_ENOTFOUND);
    assert_non_null(strstr(err, "no models"));
    put(f, "models/9bad.sql", "SELECT 1");
    assert_int_equal(rocky_project_load(f->dir, &p, err, sizeof err),
                     ROCKY_EINVAL);
    assert_non_null(strstr(err, "9bad.sql"));
    char path[256];
    snprintf(path, sizeof path, "%s/models/9bad.sql", f->dir);
    unlink(path);
    put(f, "models/ok.sql", "SELECT 1");
    put(f, "rocky.json", "{\n  \"threads\": 2,\n  oops\n}");
    assert_int_equal(rocky_project_load(f->dir, &p, err, sizeof err),
                     ROCKY_EINVAL);
    assert_non_null(strstr(err, "rocky.json:3:"));
    put(f, "rocky.json", "{\"threads\": 0}");
    assert_int_equal(rocky_project_load(f->dir, &p, err, sizeof err),
                     ROCKY_EINVAL);
    assert_non_null(strstr(err, "threads"));
    assert_null(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(test_order_puts_dependencies_first),
        T(test_cycle_is_named),
        T(test_self_reference_is_a_cycle),
        T(test_unknown_reference_names_file_and_line),
        T(test_unknown_declared_dependency_names_file_and_line),
        T(test_sources_ctes_comments_and_strings_are_not_models),
        T(test_scan_finds_comma_joins_aliases_and_main_prefix),
        T(test_select_graph_operators_globs_and_exclude),
        T(test_bad_projects_are_clear_errors),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
