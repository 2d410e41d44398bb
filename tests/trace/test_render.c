/* test_render.c — the text, JSON, Chrome and HTML renderers
 * (trace/render_*.c, trace/format.c) on in-memory runs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "fixture.h"
#include "format.h"
#include "render.h"
#include "trace.h"

typedef int (*renderer)(FILE *, const struct rocky_trace *);

/* Render into a heap string. */
static char *render_to_string(const struct rocky_run_record *rec, renderer fn,
                              size_t width)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    struct rocky_trace t;
    assert_int_equal(rocky_trace_build(rec, NULL, 0, &t, NULL, 0), 0);
    if (fn != NULL)
        assert_int_equal(fn(f, &t), 0);
    else
        assert_int_equal(rocky_trace_render_text(f, &t, width), 0);
    rocky_trace_release(&t);
    fclose(f);
    return buf;
}

/* The line of `text` whose model column holds `name`, copied. */
static char *row_of(const char *text, const char *name)
{
    const char *line = text;
    while (line && *line) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (len > 2 && strncmp(line + 2, name, strlen(name)) == 0 &&
            memchr(line, '[', len) != NULL) {
            char *copy = malloc(len + 1);
            memcpy(copy, line, len);
            copy[len] = '\0';
            return copy;
        }
        line = end ? end + 1 : NULL;
    }
    return NULL;
}

static struct rocky_run_record *sample(void)
{
    static const char *const on_a[] = {"alpha", NULL};
    struct rocky_run_record *rec =
        fx_record("run-1", 2000, ROCKY_RUN_PARTIAL_FAILURE);
    fx_model(rec, "alpha", 0, 1000, ROCKY_MODEL_SUCCESS, NULL);
    fx_model(rec, "beta", 1000, 2000, ROCKY_MODEL_FAILED, on_a);
    fx_model(rec, "instant", 500, 500, ROCKY_MODEL_SUCCESS, NULL);
    fx_model(rec, "gamma", -1, -1, ROCKY_MODEL_SKIPPED, on_a);
    return rec;
}

static void test_text_row_fills_requested_width(void **state)
{
    size_t widths[] = {60, 100, 137};
    struct rocky_run_record *rec = sample();
    for (size_t k = 0; k < 3; k++) {
        char *text = render_to_string(rec, NULL, widths[k]);
        char *row = row_of(text, "alpha");
        assert_non_null(row);
        /* The whole row, counters included, is the width: nothing after. */
        assert_int_equal(rocky_utf8_width(row), widths[k]);
        /* Counters in human units, in columns that fit: rows from 72
         * columns, bytes from 96. */
        assert_true((strstr(row, " 10 rows") != NULL) == (widths[k] >= 72));
        assert_true((strstr(row, " 100 B") != NULL) == (widths[k] >= 96));
        assert_null(strstr(row, "rows="));
        /* The bar is half filled: alpha ran for the first half. */
        const char *open = strchr(row, '['), *close = strchr(row, ']');
        size_t cols = (size_t)(close - open - 1);
        size_t filled = 0;
        for (const char *c = open + 1; c < close; c++)
            filled += *c == '#';
        assert_true(filled >= cols / 2 - 1 && filled <= cols / 2 + 1);
        assert_int_equal(open[1], '#');
        free(row);
        free(text);
    }
    rocky_run_record_free(rec);
}

/* Every line of `text` is at most `width` display columns. */
static void assert_fits(const char *text, size_t width)
{
    const char *line = text;
    while (*line) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        char *copy = strndup(line, len);
        size_t w = rocky_utf8_width(copy);
        if (w > width)
            fail_msg("%zu columns > %zu: '%s'", w, width, copy);
        free(copy);
        line = end ? end + 1 : line + len;
    }
}

static void test_text_never_wider_than_the_terminal(void **state)
{
    static const char *const on_long[] = {
        "a_model_with_a_name_far_longer_than_the_name_column", NULL};
    static const size_t widths[] = {40, 60, 80, 120, 200};
    struct rocky_run_record *rec = fx_record(
        "20261125T062644.402Z-06e5f8", 7265000, ROCKY_RUN_PARTIAL_FAILURE);
    free((char *)rec->run.trigger);
    rec->run.trigger = strdup("a_very_long_trigger_name_from_a_scheduler");
    fx_model(rec, "a_model_with_a_name_far_longer_than_the_name_column", 0,
             3600000, ROCKY_MODEL_SUCCESS, NULL);
    fx_model(rec, "日本語テーブル_évènement_données", 10, 7265000,
             ROCKY_MODEL_SUCCESS, on_long);
    fx_model(rec, "broken", 100, 200, ROCKY_MODEL_FAILED, NULL);
    fx_model(rec, "never", -1, -1, ROCKY_MODEL_SKIPPED, on_long);
    fx_model(rec, "r", 5, 6, ROCKY_MODEL_INTERRUPTED, NULL);
    rec->models[0].rows_affected = 999999999999;
    rec->models[0].bytes_written = 1023LL * 1024 * 1024 * 1024 * 1024;
    rec->models[1].rows_affected = 12000;
    rec->models[1].bytes_written = 5872025;
    rec->models[2].rows_affected = 1;
    free((char *)rec->models[2].error);
    rec->models[2].error =
        strdup("no such table: a_table_whose_name_goes_on_and_on_and_on_"
               "and_on_and_on_and_on_and_on_and_on_and_on_and_on\nline 2");
    for (size_t k = 0; k < sizeof widths / sizeof *widths; k++) {
        char *text = render_to_string(rec, NULL, widths[k]);
        assert_fits(text, widths[k]);
        /* Rows are exactly the width (the bars use all the room). */
        char *row = row_of(text, "never");
        assert_non_null(row);
        assert_int_equal(rocky_utf8_width(row), widths[k]);
        free(row);
        if (widths[k] >= 120) {
            assert_non_null(strstr(text, "12.0k rows"));
            assert_non_null(strstr(text, "5.6 MiB"));
            assert_non_null(strstr(text, "1 row "));
            assert_non_null(strstr(text, "1000G rows"));
            assert_non_null(strstr(text, "1023.0 TiB"));
            assert_non_null(strstr(text, "2h01m"));
            assert_non_null(strstr(text, "5 models ("));
        }
        free(text);
    }
    rocky_run_record_free(rec);
}

static void test_text_singular_and_units(void **state)
{
    struct rocky_run_record *rec = fx_record("one", 90000, ROCKY_RUN_SUCCESS);
    fx_model(rec, "only", 0, 90000, ROCKY_MODEL_SUCCESS, NULL);
    rec->models[0].rows_affected = 1;
    char *text = render_to_string(rec, NULL, 120);
    assert_non_null(strstr(text, "summary:  1 model (1 succeeded"));
    assert_non_null(strstr(text, "1 lane,"));
    assert_non_null(strstr(text, " 1 row "));
    assert_non_null(strstr(text, "duration: 1m30s"));
    assert_null(strstr(text, "1 models"));
    assert_null(strstr(text, "1 rows"));
    free(text);
    rocky_run_record_free(rec);
}

static void test_text_marks_failures_and_prints_error(void **state)
{
    struct rocky_run_record *rec = sample();
    char *text = render_to_string(rec, NULL, 100);
    char *row = row_of(text, "beta");
    assert_non_null(row);
    assert_int_equal(row[0], '!');
    assert_non_null(strchr(row, 'X'));
    assert_null(strchr(row, '#'));
    assert_non_null(strstr(row, "failed"));
    assert_non_null(strstr(text, "error: boom: relation missing"));
    free(row);
    row = row_of(text, "alpha");
    assert_int_equal(row[0], ' ');
    free(row);
    free(text);
    rocky_run_record_free(rec);
}

static void test_text_zero_length_model_still_visible(void **state)
{
    struct rocky_run_record *rec = sample();
    char *text = render_to_string(rec, NULL, 100);
    char *row = row_of(text, "instant");
    assert_non_null(row);
    const char *open = strchr(row, '[');
    size_t filled = 0;
    for (const char *c = open + 1; *c != ']'; c++)
        filled += *c == '#';
    assert_int_equal(filled, 1);
    assert_non_null(strstr(row, "   0.00s"));
    free(row);
    /* Never-started: empty bar, no duration. */
    row = row_of(text, "gamma");
    assert_non_null(row);
    assert_null(strchr(row, '#'));
    assert_non_null(strstr(row, "       -  skipped"));
    free(row);
    free(text);
    rocky_run_record_free(rec);
}

static void test_text_header_and_summary(void **state)
{
    struct rocky_run_record *rec = sample();
    char *text = render_to_string(rec, NULL, 100);
    assert_non_null(strstr(text, "run:      run-1\n"));
    assert_non_null(strstr(text, "status:   partial_failure   trigger: manual"
                                 "   duration: 2.00s"));
    assert_non_null(strstr(text, "started:  2025-11-25T06:00:00.000Z"));
    assert_non_null(strstr(text, "finished: 2025-11-25T06:00:02.000Z"));
    assert_non_null(strstr(text, "trace id: a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"));
    /* instant overlaps alpha: busy 2.00s over 2 lanes x 2.00s */
    assert_non_null(strstr(text, "4 models (2 succeeded, 1 failed, 1 skipped)"
                                 ", 2 lanes, busy 2.00s, parallelism 0.50"));
    assert_non_null(strstr(text, "slowest:  alpha 1.00s, beta 1.00s"));
    assert_non_null(strstr(text, "critical path: 2.00s  alpha → beta\n"));
    free(text);
    rocky_run_record_free(rec);
}

/* Display columns of `row` before its bar. */
static size_t cols_before_bar(const char *row)
{
    char prefix[512];
    size_t len = (size_t)(strchr(row, '[') - row);
    memcpy(prefix, row, len);
    prefix[len] = '\0';
    return rocky_utf8_width(prefix);
}

static void test_text_truncates_names_on_utf8_boundaries(void **state)
{
    /* Accented letters (2 bytes, 1 column) then CJK (3 bytes, 2 columns). */
    const char *name = "évènement_données_clients_日本語テーブル_ü_final";
    struct rocky_run_record *rec = fx_record("u", 100, ROCKY_RUN_SUCCESS);
    fx_model(rec, name, 0, 100, ROCKY_MODEL_SUCCESS, NULL);
    fx_model(rec, "plain", 0, 50, ROCKY_MODEL_SUCCESS, NULL);
    char *text = render_to_string(rec, NULL, 100);
    char *row = row_of(text, "évènement");
    char *plain = row_of(text, "plain");
    assert_non_null(row);
    assert_non_null(plain);
    /* Cut before 日 (it would not fit in the 28-column name), ellipsis
     * added, and the bar still starts in the same column as the others. */
    assert_non_null(strstr(row, "évènement_données_clients_…"));
    assert_null(strstr(row, "日"));
    assert_int_equal(cols_before_bar(row), cols_before_bar(plain));
    free(row);
    free(plain);
    free(text);
    rocky_run_record_free(rec);
}

static void test_utf8_truncate_never_splits_or_passes_controls(void **state)
{
    char out[64];
    /* "aé€😀" = 1 + 2 + 3 + 4 bytes, 1 + 1 + 1 + 2 columns. */
    assert_int_equal(rocky_utf8_width("aé€😀"), 5);
    assert_int_equal(rocky_utf8_truncate("aé€😀", 3, out, sizeof out), 3);
    assert_string_equal(out, "aé…");
    assert_int_equal(rocky_utf8_truncate("aé€😀", 4, out, sizeof out), 4);
    assert_string_equal(out, "aé€…");
    assert_int_equal(rocky_utf8_truncate("aé€😀", 5, out, sizeof out), 5);
    assert_string_equal(out, "aé€😀");
    /* A wide character that does not fit whole is left out. */
    assert_int_equal(rocky_utf8_truncate("日本語", 4, out, sizeof out), 3);
    assert_string_equal(out, "日…");
    /* Controls and invalid bytes become visible escapes (term_escape.h),
     * as wide as they are long, and are never cut in half. */
    assert_int_equal(rocky_utf8_width("x\x1b[2Jy\xff"), 13);
    assert_int_equal(rocky_utf8_truncate("x\x1b[2Jy\xff", 20, out, sizeof out),
                     13);
    assert_string_equal(out, "x\\x1b[2Jy\\xff");
    assert_int_equal(rocky_utf8_truncate("x\x1b[2Jy\xff", 10, out, sizeof out),
                     10);
    assert_string_equal(out, "x\\x1b[2Jy\xe2\x80\xa6");
    assert_int_equal(rocky_utf8_truncate("x\x1by", 4, out, sizeof out), 2);
    assert_string_equal(out, "x\xe2\x80\xa6");
    /* C1 controls (raw and encoded), bidi overrides, CR. */
    assert_int_equal(rocky_utf8_truncate("a\xc2\x9b\x9b\xe2\x80\xae"
                                         "b\rc",
                                         40, out, sizeof out),
                     21);
    assert_string_equal(out, "a\\u009b\\x9b\\u202eb\\rc");
    /* A truncated multi-byte sequence at the end is invalid, not copied. */
    assert_int_equal(rocky_utf8_truncate("ab\xe2\x82", 10, out, sizeof out),
                     10);
    assert_string_equal(out, "ab\\xe2\\x82");
    /* A small output buffer never receives half a character. */
    char tiny[4];
    rocky_utf8_truncate("€€", 2, tiny, sizeof tiny);
    assert_string_equal(tiny, "€");
}

static void test_json_has_upstream_fields_and_ours(void **state)
{
    struct rocky_run_record *rec = sample();
    char *text = render_to_string(rec, rocky_trace_render_json, 0);
    cJSON *doc = cJSON_Parse(text);
    assert_non_null(doc);
    assert_string_equal(cJSON_GetObjectItem(doc, "command")->valuestring,
                        "trace");
    assert_string_equal(cJSON_GetObjectItem(doc, "run_id")->valuestring,
                        "run-1");
    assert_int_equal(cJSON_GetObjectItem(doc, "run_duration_ms")->valuedouble,
                     2000);
    assert_int_equal(cJSON_GetObjectItem(doc, "lane_count")->valuedouble, 2);
    assert_string_equal(cJSON_GetObjectItem(doc, "trace_id")->valuestring,
                        "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
    cJSON *models = cJSON_GetObjectItem(doc, "models");
    assert_int_equal(cJSON_GetArraySize(models), 4);
    cJSON *beta = cJSON_GetArrayItem(models, 2);
    assert_string_equal(cJSON_GetObjectItem(beta, "model_name")->valuestring,
                        "beta");
    assert_int_equal(cJSON_GetObjectItem(beta, "start_offset_ms")->valuedouble,
                     1000);
    assert_string_equal(cJSON_GetObjectItem(beta, "error")->valuestring,
                        "boom: relation missing");
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(beta, "bytes_scanned")));
    cJSON *path = cJSON_GetObjectItem(doc, "critical_path");
    assert_int_equal(cJSON_GetArraySize(path), 2);
    cJSON_Delete(doc);
    free(text);
    rocky_run_record_free(rec);
}

static void test_chrome_has_one_complete_event_per_started_model(void **st)
{
    struct rocky_run_record *rec = sample();
    char *text = render_to_string(rec, rocky_trace_render_chrome, 0);
    cJSON *doc = cJSON_Parse(text);
    assert_non_null(doc);
    cJSON *events = cJSON_GetObjectItem(doc, "traceEvents");
    int models = 0;
    cJSON *e;
    cJSON_ArrayForEach(e, events)
    {
        cJSON *cat = cJSON_GetObjectItem(e, "cat");
        if (cat && strcmp(cat->valuestring, "model") == 0) {
            models++;
            assert_string_equal(cJSON_GetObjectItem(e, "ph")->valuestring, "X");
            if (strcmp(cJSON_GetObjectItem(e, "name")->valuestring, "beta") ==
                0) {
                assert_int_equal(cJSON_GetObjectItem(e, "ts")->valuedouble,
                                 1000000);
                assert_int_equal(cJSON_GetObjectItem(e, "dur")->valuedouble,
                                 1000000);
            }
        }
    }
    assert_int_equal(models, 3); /* gamma never ran */
    cJSON_Delete(doc);
    free(text);
    rocky_run_record_free(rec);
}

static void test_html_escapes_every_name(void **state)
{
    const char *evil = "<script>alert(\"x\")</script>&'";
    struct rocky_run_record *rec =
        fx_record("<b>run</b>", 100, ROCKY_RUN_FAILURE);
    fx_model(rec, evil, 0, 100, ROCKY_MODEL_FAILED, NULL);
    free((char *)rec->models[0].error);
    rec->models[0].error = strdup("bad <img src=x onerror=alert(1)>");
    char *html = render_to_string(rec, rocky_trace_render_html, 0);
    assert_null(strstr(html, "<script>alert"));
    assert_null(strstr(html, "<img"));
    assert_null(strstr(html, "<b>run"));
    assert_non_null(strstr(html, "&lt;script&gt;alert(&quot;x&quot;)&lt;/"
                                 "script&gt;&amp;&#39;"));
    assert_non_null(strstr(html, "bad &lt;img src=x onerror=alert(1)&gt;"));
    /* Exactly one bar, on the critical path, coloured as failed. */
    size_t bars = 0;
    for (const char *p = html; (p = strstr(p, "<rect class=\"bar ")); p++)
        bars++;
    assert_int_equal(bars, 1);
    assert_non_null(strstr(html, "class=\"bar failed crit\""));
    /* Self-contained: nothing fetched from anywhere. */
    assert_null(strstr(html, "src=\"http"));
    assert_null(strstr(html, "href=\"http"));
    free(html);
    rocky_run_record_free(rec);
}

static void test_every_format_handles_empty_and_running_runs(void **state)
{
    renderer fns[] = {rocky_trace_render_json, rocky_trace_render_chrome,
                      rocky_trace_render_html, NULL};
    struct rocky_run_record *empty = fx_record("empty", 0, ROCKY_RUN_FAILURE);
    struct rocky_run_record *live = fx_record("live", -1, ROCKY_RUN_RUNNING);
    fx_model(live, "busy", 10, -1, ROCKY_MODEL_RUNNING, NULL);
    struct rocky_run_record *recs[] = {empty, live};
    for (size_t r = 0; r < 2; r++) {
        for (size_t k = 0; k < 4; k++) {
            char *text = render_to_string(recs[r], fns[k], 80);
            assert_non_null(text);
            assert_true(strlen(text) > 0);
            if (fns[k] == rocky_trace_render_json ||
                fns[k] == rocky_trace_render_chrome) {
                cJSON *doc = cJSON_Parse(text);
                assert_non_null(doc);
                cJSON_Delete(doc);
            }
            free(text);
        }
    }
    char *text = render_to_string(empty, NULL, 80);
    assert_non_null(strstr(text, "summary:  0 models"));
    assert_non_null(strstr(text, "critical path: 0.00s  -"));
    free(text);
    rocky_run_record_free(empty);
    rocky_run_record_free(live);
}

static void test_json_escapes_controls_and_repairs_bad_utf8(void **state)
{
    struct rocky_run_record *rec = fx_record("r", 10, ROCKY_RUN_SUCCESS);
    fx_model(rec,
             "q\"uote\\back\nnl\x01"
             "ctl\xff\xfe"
             "bad€ok",
             0, 10, ROCKY_MODEL_SUCCESS, NULL);
    char *text = render_to_string(rec, rocky_trace_render_json, 0);
    cJSON *doc = cJSON_Parse(text);
    assert_non_null(doc);
    cJSON *m = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "models"), 0);
    assert_string_equal(cJSON_GetObjectItem(m, "model_name")->valuestring,
                        "q\"uote\\back\nnl\x01"
                        "ctl\xef\xbf\xbd\xef\xbf\xbd"
                        "bad€ok");
    cJSON_Delete(doc);
    free(text);
    rocky_run_record_free(rec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_row_fills_requested_width),
        cmocka_unit_test(test_text_never_wider_than_the_terminal),
        cmocka_unit_test(test_text_singular_and_units),
        cmocka_unit_test(test_text_marks_failures_and_prints_error),
        cmocka_unit_test(test_text_zero_length_model_still_visible),
        cmocka_unit_test(test_text_header_and_summary),
        cmocka_unit_test(test_text_truncates_names_on_utf8_boundaries),
        cmocka_unit_test(test_utf8_truncate_never_splits_or_passes_controls),
        cmocka_unit_test(test_json_has_upstream_fields_and_ours),
        cmocka_unit_test(test_chrome_has_one_complete_event_per_started_model),
        cmocka_unit_test(test_html_escapes_every_name),
        cmocka_unit_test(test_every_format_handles_empty_and_running_runs),
        cmocka_unit_test(test_json_escapes_controls_and_repairs_bad_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
