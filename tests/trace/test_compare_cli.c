/* test_compare_cli.c — `rocky-trace A --compare B`, the real binary on a
 * store holding two runs (trace_make_store PATH compare): text, JSON and
 * HTML, --model, and every usage error (exit 2, naming the argument). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "cli_fixture.h"
#include "format.h"

#define BEFORE "20251125T050000.000Z-bef0"
#define AFTER  "20251125T060000.000Z-aft0"

static void test_compare_cli_text_puts_regressions_first(void **state)
{
    struct cli_ctx *c = *state;
    cli_make_store(c, "compare");
    struct proc_result r;
    static const char *const widths[] = {"60", "80", "120", "200"};
    for (size_t w = 0; w < sizeof widths / sizeof *widths; w++) {
        cli_trace(c, &r, "latest", "--compare", BEFORE, "--state", c->store,
                  "--width", widths[w], NULL);
        assert_int_equal(r.exit_code, 0);
        assert_string_equal(r.err, "");
        assert_non_null(strstr(r.out, "after:    " AFTER));
        assert_non_null(strstr(r.out, "before:   " BEFORE));
        assert_non_null(strstr(r.out, "duration: 0.90s → 1.30s"));
        assert_non_null(strstr(r.out, "status:   success → partial_failure"));
        assert_non_null(strstr(r.out, "joined: slow_one"));
        assert_non_null(strstr(r.out, "1 added, 1 removed"));
        /* slowest regression, then the next, then improvements, status */
        char *slow = strstr(r.out, "  slow_one "),
             *flaky = strstr(r.out, "  flaky ");
        char *stg = strstr(r.out, "  stg "),
             *breaks = strstr(r.out, "  breaks ");
        assert_non_null(slow);
        assert_non_null(flaky);
        assert_non_null(stg);
        assert_non_null(breaks);
        assert_true(slow < flaky && flaky < stg && stg < breaks);
        size_t width = (size_t)atoi(widths[w]);
        for (char *line = strtok(r.out, "\n"); line; line = strtok(NULL, "\n"))
            if (rocky_utf8_width(line) > width)
                fail_msg("width %zu exceeded: '%s'", width, line);
        proc_result_free(&r);
    }
    /* No run argument: latest, as without --compare. */
    cli_trace(c, &r, "--compare", BEFORE, "--state", c->store, NULL);
    assert_int_equal(r.exit_code, 0);
    assert_non_null(strstr(r.out, "after:    " AFTER));
    proc_result_free(&r);
}

static void test_compare_cli_json_has_every_model(void **state)
{
    struct cli_ctx *c = *state;
    cli_make_store(c, "compare");
    struct proc_result r;
    cli_trace(c, &r, AFTER, "--compare", BEFORE, "--state", c->store, "-o",
              "json", NULL);
    assert_int_equal(r.exit_code, 0);
    cJSON *doc = cJSON_Parse(r.out);
    assert_non_null(doc);
    assert_string_equal(cJSON_GetObjectItem(doc, "version")->valuestring,
                        "1.0.0");
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "before"), "run_id")
            ->valuestring,
        BEFORE);
    cJSON *delta = cJSON_GetObjectItem(doc, "delta");
    assert_int_equal(cJSON_GetObjectItem(delta, "run_duration_ms")->valueint,
                     400);
    cJSON *models = cJSON_GetObjectItem(doc, "models");
    assert_int_equal(cJSON_GetArraySize(models), 8); /* 6 + added + removed */
    cJSON *first = cJSON_GetArrayItem(models, 0);
    assert_string_equal(cJSON_GetObjectItem(first, "model_name")->valuestring,
                        "slow_one");
    assert_string_equal(cJSON_GetObjectItem(first, "change")->valuestring,
                        "slower");
    assert_int_equal(cJSON_GetObjectItem(first, "duration_delta_ms")->valueint,
                     800);
    cJSON *summary = cJSON_GetObjectItem(doc, "summary");
    assert_int_equal(cJSON_GetObjectItem(summary, "status_changed")->valueint,
                     1);
    assert_int_equal(cJSON_GetObjectItem(summary, "removed")->valueint, 1);
    cJSON_Delete(doc);
    proc_result_free(&r);

    /* --model: that model only; the run figures stay the whole run's. */
    cli_trace(c, &r, "latest", "--compare", BEFORE, "--state", c->store,
              "--json", "--model", "breaks", NULL);
    assert_int_equal(r.exit_code, 0);
    doc = cJSON_Parse(r.out);
    assert_non_null(doc);
    models = cJSON_GetObjectItem(doc, "models");
    assert_int_equal(cJSON_GetArraySize(models), 1);
    first = cJSON_GetArrayItem(models, 0);
    assert_string_equal(cJSON_GetObjectItem(first, "change")->valuestring,
                        "status_changed");
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(first, "duration_delta_ms")));
    assert_string_equal(cJSON_GetObjectItem(doc, "model_filter")->valuestring,
                        "breaks");
    cJSON_Delete(doc);
    proc_result_free(&r);
}

static void test_compare_cli_html_has_the_section(void **state)
{
    struct cli_ctx *c = *state;
    cli_make_store(c, "compare");
    struct proc_result r;
    cli_trace(c, &r, "latest", "--compare", BEFORE, "--state", c->store,
              "--format", "html", NULL);
    assert_int_equal(r.exit_code, 0);
    assert_non_null(strstr(r.out, "<section id=\"compare\""));
    assert_non_null(
        strstr(r.out, "data-change=\"slower\" data-model=\"slow_one\""));
    assert_non_null(strstr(r.out, "&lt;i&gt;new&lt;/i&gt; &amp; co"));
    assert_null(strstr(r.out, "<i>new"));
    /* self-contained: nothing fetched (the SVG namespace is no fetch) */
    assert_null(strstr(r.out, "src="));
    assert_null(strstr(r.out, "href="));
    proc_result_free(&r);
}

static void test_compare_cli_usage_errors_exit_2(void **state)
{
    struct cli_ctx *c = *state;
    cli_make_store(c, "compare");
    struct proc_result r;
    cli_trace(c, &r, "latest", "--compare", AFTER, "--state", c->store, NULL);
    cli_expect_error(&r, 2, "are the same run (" AFTER ")", NULL);
    proc_result_free(&r);
    cli_trace(c, &r, "--compare", "latest", "--state", c->store, NULL);
    cli_expect_error(&r, 2, "--compare 'latest' names the run shown", NULL);
    proc_result_free(&r);
    cli_trace(c, &r, "--compare", BEFORE, "--follow", "--state", c->store,
              NULL);
    cli_expect_error(&r, 2, "cannot be used with --follow", NULL);
    proc_result_free(&r);
    cli_trace(c, &r, "--compare", BEFORE, "--export", "--state", c->store,
              NULL);
    cli_expect_error(&r, 2, "cannot be used with --export", NULL);
    proc_result_free(&r);
    cli_trace(c, &r, "--compare", BEFORE, "--format", "chrome", "--state",
              c->store, NULL);
    cli_expect_error(&r, 2, "cannot be used with --format chrome", NULL);
    proc_result_free(&r);
    cli_trace(c, &r, "latest", "--compare", NULL);
    cli_expect_error(&r, 2, "--compare needs a value", NULL);
    proc_result_free(&r);
}

static void test_compare_cli_unknown_run_and_model_exit_1(void **state)
{
    struct cli_ctx *c = *state;
    cli_make_store(c, "compare");
    struct proc_result r;
    cli_trace(c, &r, "latest", "--compare", "nope", "--state", c->store, NULL);
    cli_expect_error(&r, 1, "no run 'nope'", "pass `latest` or one of");
    proc_result_free(&r);
    cli_trace(c, &r, "nope", "--compare", BEFORE, "--state", c->store, NULL);
    cli_expect_error(&r, 1, "no run 'nope'", NULL);
    proc_result_free(&r);
    cli_trace(c, &r, "latest", "--compare", BEFORE, "--state", c->store,
              "--model", "missing", NULL);
    cli_expect_error(&r, 1, "model 'missing' is in neither run",
                     "drop --model");
    proc_result_free(&r);
}

#define T(name) cmocka_unit_test_setup_teardown(name, cli_setup, cli_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_compare_cli_text_puts_regressions_first),
        T(test_compare_cli_json_has_every_model),
        T(test_compare_cli_html_has_the_section),
        T(test_compare_cli_usage_errors_exit_2),
        T(test_compare_cli_unknown_run_and_model_exit_1),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
