/* test_compare.c — the comparison of two runs (trace/compare.c) and its
 * renderers, on in-memory run records. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "compare.h"
#include "fixture.h"
#include "format.h"
#include "rocky/error.h"
#include "trace.h"

#define MS INT64_C(1000000)

/* Two records, their timelines and the comparison; freed by done(). */
struct pair {
    struct rocky_run_record *before, *after;
    struct rocky_trace tb, ta;
    struct rocky_compare cmp;
};

static void build(struct pair *p, const char *filter)
{
    char err[256] = "";
    assert_int_equal(rocky_trace_build(p->before, NULL, FX_MS(10000), &p->tb,
                                       err, sizeof err),
                     0);
    assert_int_equal(rocky_trace_build(p->after, NULL, FX_MS(10000), &p->ta,
                                       err, sizeof err),
                     0);
    assert_int_equal(
        rocky_compare_build(&p->tb, &p->ta, filter, &p->cmp, err, sizeof err),
        0);
}

static void done(struct pair *p)
{
    rocky_compare_release(&p->cmp);
    rocky_compare_release(&p->cmp); /* idempotent */
    rocky_trace_release(&p->tb);
    rocky_trace_release(&p->ta);
    rocky_run_record_free(p->before);
    rocky_run_record_free(p->after);
}

static const struct rocky_compare_model *find(const struct rocky_compare *c,
                                              const char *name)
{
    for (size_t i = 0; i < c->count; i++)
        if (strcmp(c->models[i].model_name, name) == 0)
            return &c->models[i];
    fail_msg("no row for %s", name);
    return NULL;
}

static void test_compare_duration_and_rows_deltas(void **state)
{
    struct pair p = {0};
    p.before = fx_record("B", 1000, ROCKY_RUN_SUCCESS);
    fx_model(p.before, "a", 0, 400, ROCKY_MODEL_SUCCESS, NULL);
    fx_model(p.before, "b", 0, 500, ROCKY_MODEL_SUCCESS, NULL);
    p.after = fx_record("A", 1500, ROCKY_RUN_SUCCESS);
    fx_model(p.after, "a", 0, 1000, ROCKY_MODEL_SUCCESS, NULL); /* +600 */
    fx_model(p.after, "b", 0, 250, ROCKY_MODEL_SUCCESS, NULL);  /* -250 */
    p.after->models[0].rows_affected = 25;
    p.after->models[1].rows_affected = -1; /* unknown: no rows delta */
    build(&p, NULL);

    const struct rocky_compare_model *a = find(&p.cmp, "a");
    assert_int_equal(a->change, ROCKY_COMPARE_SLOWER);
    assert_true(a->comparable);
    assert_int_equal(a->delta_ns, 600 * MS);
    assert_int_equal(a->before.duration_ns, 400 * MS);
    assert_int_equal(a->after.duration_ns, 1000 * MS);
    assert_true(a->has_rows_delta);
    assert_int_equal(a->rows_delta, 15);
    int defined;
    double pct = rocky_compare_pct(a->before.duration_ns, a->after.duration_ns,
                                   &defined);
    assert_true(defined);
    assert_true(pct > 149.99 && pct < 150.01);

    const struct rocky_compare_model *b = find(&p.cmp, "b");
    assert_int_equal(b->change, ROCKY_COMPARE_FASTER);
    assert_int_equal(b->delta_ns, -250 * MS);
    assert_false(b->has_rows_delta);

    assert_int_equal(p.cmp.before.model_count, 2);
    assert_int_equal(p.cmp.after.model_count, 2);
    assert_int_equal(p.ta.run_duration_ns - p.tb.run_duration_ns, 500 * MS);
    done(&p);
}

static void test_compare_added_and_removed(void **state)
{
    struct pair p = {0};
    p.before = fx_record("B", 1000, ROCKY_RUN_SUCCESS);
    fx_model(p.before, "kept", 0, 100, ROCKY_MODEL_SUCCESS, NULL);
    fx_model(p.before, "gone", 100, 200, ROCKY_MODEL_SUCCESS, NULL);
    p.after = fx_record("A", 1000, ROCKY_RUN_SUCCESS);
    fx_model(p.after, "kept", 0, 100, ROCKY_MODEL_SUCCESS, NULL);
    fx_model(p.after, "new1", 100, 300, ROCKY_MODEL_SUCCESS, NULL);
    fx_model(p.after, "new2", 100, 300, ROCKY_MODEL_SUCCESS, NULL);
    build(&p, NULL);
    assert_int_equal(p.cmp.count, 4);
    assert_int_equal(p.cmp.counts[ROCKY_COMPARE_ADDED], 2);
    assert_int_equal(p.cmp.counts[ROCKY_COMPARE_REMOVED], 1);
    assert_int_equal(p.cmp.counts[ROCKY_COMPARE_SAME], 1);
    const struct rocky_compare_model *g = find(&p.cmp, "gone");
    assert_int_equal(g->change, ROCKY_COMPARE_REMOVED);
    assert_null(g->after.last);
    assert_non_null(g->before.last);
    assert_false(g->comparable);
    const struct rocky_compare_model *n = find(&p.cmp, "new1");
    assert_int_equal(n->change, ROCKY_COMPARE_ADDED);
    assert_null(n->before.last);
    assert_int_equal(n->after.duration_ns, 200 * MS);
    assert_int_equal(p.cmp.after.model_count - p.cmp.before.model_count, 1);
    done(&p);
}

static void test_compare_orders_regressions_first(void **state)
{
    struct pair p = {0};
    p.before = fx_record("B", 5000, ROCKY_RUN_SUCCESS);
    p.after = fx_record("A", 5000, ROCKY_RUN_SUCCESS);
    /* name, before ms, after ms */
    static const struct {
        const char *name;
        int64_t b, a;
    } m[] = {{"same", 100, 100},       {"up_small", 100, 150},
             {"down_big", 900, 100},   {"up_big", 100, 1100},
             {"down_small", 300, 250}, {"up_mid", 100, 400}};
    for (size_t i = 0; i < sizeof m / sizeof *m; i++) {
        fx_model(p.before, m[i].name, 0, m[i].b, ROCKY_MODEL_SUCCESS, NULL);
        fx_model(p.after, m[i].name, 0, m[i].a, ROCKY_MODEL_SUCCESS, NULL);
    }
    fx_model(p.before, "broke", 0, 100, ROCKY_MODEL_SUCCESS, NULL);
    fx_model(p.after, "broke", 0, 100, ROCKY_MODEL_FAILED, NULL);
    fx_model(p.after, "fresh", 0, 100, ROCKY_MODEL_SUCCESS, NULL);
    fx_model(p.before, "old", 0, 100, ROCKY_MODEL_SUCCESS, NULL);
    build(&p, NULL);
    static const char *const want[] = {"up_big",   "up_mid",     "up_small",
                                       "down_big", "down_small", "broke",
                                       "fresh",    "old",        "same"};
    assert_int_equal(p.cmp.count, sizeof want / sizeof *want);
    for (size_t i = 0; i < p.cmp.count; i++)
        assert_string_equal(p.cmp.models[i].model_name, want[i]);
    done(&p);
}

static void test_compare_critical_path_change(void **state)
{
    static const char *const on_a[] = {"a", NULL};
    static const char *const on_ab[] = {"a", "b", NULL};
    struct pair p = {0};
    /* before: a (long) → c; after: b got longer than a, so b → c. */
    p.before = fx_record("B", 1000, ROCKY_RUN_SUCCESS);
    fx_model(p.before, "a", 0, 600, ROCKY_MODEL_SUCCESS, NULL);
    fx_model(p.before, "b", 0, 300, ROCKY_MODEL_SUCCESS, NULL);
    fx_model(p.before, "c", 600, 1000, ROCKY_MODEL_SUCCESS, on_ab);
    p.after = fx_record("A", 1300, ROCKY_RUN_SUCCESS);
    fx_model(p.after, "a", 0, 600, ROCKY_MODEL_SUCCESS, NULL);
    fx_model(p.after, "b", 0, 900, ROCKY_MODEL_SUCCESS, NULL);
    fx_model(p.after, "c", 900, 1300, ROCKY_MODEL_SUCCESS, on_ab);
    build(&p, NULL);
    assert_int_equal(p.cmp.joined_count, 1);
    assert_string_equal(p.cmp.joined[0]->model_name, "b");
    assert_int_equal(p.cmp.left_count, 1);
    assert_string_equal(p.cmp.left[0]->model_name, "a");
    assert_int_equal(p.ta.critical_ns - p.tb.critical_ns, 300 * MS);
    done(&p);

    /* Same path: nothing joined or left. */
    struct pair q = {0};
    q.before = fx_record("B", 1000, ROCKY_RUN_SUCCESS);
    fx_model(q.before, "a", 0, 500, ROCKY_MODEL_SUCCESS, NULL);
    fx_model(q.before, "c", 500, 1000, ROCKY_MODEL_SUCCESS, on_a);
    q.after = fx_record("A", 800, ROCKY_RUN_SUCCESS);
    fx_model(q.after, "a", 0, 300, ROCKY_MODEL_SUCCESS, NULL);
    fx_model(q.after, "c", 300, 800, ROCKY_MODEL_SUCCESS, on_a);
    build(&q, NULL);
    assert_int_equal(q.cmp.joined_count, 0);
    assert_int_equal(q.cmp.left_count, 0);
    done(&q);
}

static void test_compare_failed_model_reports_status_not_duration(void **state)
{
    struct pair p = {0};
    p.before = fx_record("B", 1000, ROCKY_RUN_SUCCESS);
    fx_model(p.before, "x", 0, 900, ROCKY_MODEL_SUCCESS, NULL);
    fx_model(p.before, "y", 0, 100, ROCKY_MODEL_SUCCESS, NULL);
    fx_model(p.before, "z", 0, 100, ROCKY_MODEL_FAILED, NULL);
    p.after = fx_record("A", 1000, ROCKY_RUN_PARTIAL_FAILURE);
    fx_model(p.after, "x", 0, 50, ROCKY_MODEL_FAILED, NULL); /* failed fast */
    fx_model(p.after, "y", -1, -1, ROCKY_MODEL_SKIPPED, NULL);
    fx_model(p.after, "z", 0, 500, ROCKY_MODEL_FAILED, NULL); /* failed twice */
    build(&p, NULL);
    const struct rocky_compare_model *x = find(&p.cmp, "x");
    assert_int_equal(x->change, ROCKY_COMPARE_STATUS);
    assert_false(x->comparable);
    assert_int_equal(x->delta_ns, 0); /* not an "improvement" of 850 ms */
    const struct rocky_compare_model *y = find(&p.cmp, "y");
    assert_int_equal(y->change, ROCKY_COMPARE_STATUS);
    assert_int_equal(y->after.last->status, ROCKY_MODEL_SKIPPED);
    assert_int_equal(y->after.duration_ns, 0);
    const struct rocky_compare_model *z = find(&p.cmp, "z");
    assert_int_equal(z->change, ROCKY_COMPARE_SAME); /* failed both times */
    assert_false(z->comparable);
    assert_int_equal(p.cmp.counts[ROCKY_COMPARE_FASTER], 0);
    assert_int_equal(p.cmp.counts[ROCKY_COMPARE_STATUS], 2);
    done(&p);
}

static void test_compare_zero_durations_have_no_percentage(void **state)
{
    struct pair p = {0};
    p.before = fx_record("B", 0, ROCKY_RUN_SUCCESS);
    fx_model(p.before, "instant", 0, 0, ROCKY_MODEL_SUCCESS, NULL);
    fx_model(p.before, "flat", 0, 0, ROCKY_MODEL_SUCCESS, NULL);
    p.after = fx_record("A", 100, ROCKY_RUN_SUCCESS);
    fx_model(p.after, "instant", 0, 100, ROCKY_MODEL_SUCCESS, NULL);
    fx_model(p.after, "flat", 0, 0, ROCKY_MODEL_SUCCESS, NULL);
    build(&p, NULL);
    const struct rocky_compare_model *i = find(&p.cmp, "instant");
    assert_int_equal(i->change, ROCKY_COMPARE_SLOWER);
    assert_int_equal(i->delta_ns, 100 * MS);
    int defined = 1;
    rocky_compare_pct(i->before.duration_ns, i->after.duration_ns, &defined);
    assert_false(defined);
    assert_int_equal(find(&p.cmp, "flat")->change, ROCKY_COMPARE_SAME);
    /* The JSON says null rather than inf/NaN (which is not JSON). */
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(rocky_compare_render_json(f, &p.cmp), 0);
    fclose(f);
    cJSON *doc = cJSON_Parse(buf);
    assert_non_null(doc);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(
        cJSON_GetObjectItem(doc, "delta"), "run_duration_pct")));
    cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "models"), 0);
    assert_string_equal(cJSON_GetObjectItem(first, "model_name")->valuestring,
                        "instant");
    assert_int_equal(cJSON_GetObjectItem(first, "duration_delta_ms")->valueint,
                     100);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(first, "duration_delta_pct")));
    cJSON_Delete(doc);
    free(buf);
    done(&p);
}

static void
test_compare_retries_sum_durations_and_keep_final_status(void **state)
{
    struct pair p = {0};
    p.before = fx_record("B", 1000, ROCKY_RUN_SUCCESS);
    fx_model(p.before, "flaky", 0, 300, ROCKY_MODEL_SUCCESS, NULL);
    p.after = fx_record("A", 1000, ROCKY_RUN_SUCCESS);
    fx_model(p.after, "flaky", 0, 200, ROCKY_MODEL_FAILED, NULL);
    fx_model(p.after, "flaky", 200, 500, ROCKY_MODEL_SUCCESS, NULL);
    p.after->models[1].attempt = 2;
    build(&p, NULL);
    assert_int_equal(p.cmp.count, 1);
    const struct rocky_compare_model *f = &p.cmp.models[0];
    assert_int_equal(f->after.attempts, 2);
    assert_int_equal(f->after.last->status, ROCKY_MODEL_SUCCESS);
    assert_int_equal(f->after.last->attempt, 2);
    assert_int_equal(f->after.duration_ns, 500 * MS);
    assert_int_equal(f->change, ROCKY_COMPARE_SLOWER); /* the retry cost */
    assert_int_equal(f->delta_ns, 200 * MS);
    assert_int_equal(p.cmp.after.model_count, 1);
    done(&p);
}

static void test_compare_model_filter_keeps_one_row(void **state)
{
    struct pair p = {0};
    p.before = fx_record("B", 1000, ROCKY_RUN_SUCCESS);
    fx_model(p.before, "a", 0, 100, ROCKY_MODEL_SUCCESS, NULL);
    fx_model(p.before, "b", 0, 100, ROCKY_MODEL_SUCCESS, NULL);
    p.after = fx_record("A", 1000, ROCKY_RUN_SUCCESS);
    fx_model(p.after, "a", 0, 900, ROCKY_MODEL_SUCCESS, NULL);
    fx_model(p.after, "b", 0, 100, ROCKY_MODEL_SUCCESS, NULL);
    build(&p, "b");
    assert_int_equal(p.cmp.count, 1);
    assert_string_equal(p.cmp.models[0].model_name, "b");
    assert_int_equal(p.cmp.models[0].change, ROCKY_COMPARE_SAME);
    /* The text view still shows the unchanged model asked for. */
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(rocky_compare_render_text(f, &p.cmp, 100), 0);
    fclose(f);
    assert_non_null(strstr(buf, "\n  b "));
    free(buf);
    rocky_compare_release(&p.cmp);

    char err[256] = "";
    assert_int_equal(
        rocky_compare_build(&p.tb, &p.ta, "nope", &p.cmp, err, sizeof err),
        ROCKY_ENOTFOUND);
    assert_non_null(strstr(err, "nope"));
    assert_int_equal(p.cmp.count, 0);
    done(&p);
}

/* Every line at most `width` terminal columns, at every width. */
static void test_compare_text_fits_the_width(void **state)
{
    struct pair p = {0};
    p.before = fx_record("20251125T055000.000Z-0ld0", 1000, ROCKY_RUN_SUCCESS);
    p.after =
        fx_record("20251125T060000.000Z-5a3f", 2000, ROCKY_RUN_PARTIAL_FAILURE);
    static const char *const names[] = {
        "a_rather_long_model_name_that_goes_on_and_on_and_on",
        "données_clients_日本語_très_long_nom_de_modèle", "short",
        "interrupted_one"};
    for (int i = 0; i < 4; i++) {
        fx_model(p.before, names[i], 0, 100 + i, ROCKY_MODEL_SUCCESS, NULL);
        fx_model(p.after, names[i], 0, 1000 - i,
                 i == 3 ? ROCKY_MODEL_INTERRUPTED : ROCKY_MODEL_SUCCESS, NULL);
    }
    p.after->models[0].rows_affected = INT64_C(123456789012);
    fx_model(p.after, "added_model_with_a_name_longer_than_forty_columns_x", 0,
             5, ROCKY_MODEL_SUCCESS, NULL);
    build(&p, NULL);
    static const size_t widths[] = {40, 60, 80, 120, 200};
    for (size_t w = 0; w < sizeof widths / sizeof *widths; w++) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        assert_int_equal(rocky_compare_render_text(f, &p.cmp, widths[w]), 0);
        fclose(f);
        size_t lines = 0;
        for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
            size_t cols = rocky_utf8_width(line);
            if (cols > widths[w])
                fail_msg("width %zu: %zu columns: '%s'", widths[w], cols, line);
            lines++;
        }
        assert_true(lines > 10);
        free(buf);
    }
    done(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compare_duration_and_rows_deltas),
        cmocka_unit_test(test_compare_added_and_removed),
        cmocka_unit_test(test_compare_orders_regressions_first),
        cmocka_unit_test(test_compare_critical_path_change),
        cmocka_unit_test(test_compare_failed_model_reports_status_not_duration),
        cmocka_unit_test(test_compare_zero_durations_have_no_percentage),
        cmocka_unit_test(
            test_compare_retries_sum_durations_and_keep_final_status),
        cmocka_unit_test(test_compare_model_filter_keeps_one_row),
        cmocka_unit_test(test_compare_text_fits_the_width),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
