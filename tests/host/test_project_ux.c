/* test_project_ux.c — the real `rocky` as a user meets it: the hint after
 * `rocky run` is a command that works from where the user stands, unknown
 * rocky.json keys are named with a "did you mean", models in subfolders are
 * found, and --select/--exclude take graph operators and globs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "host_test.h"

struct fx {
    char root[256]; /* parent folder, removed by teardown */
    char out[512];  /* root/out.txt, root/err.txt */
    char err[512];
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    if (f == NULL ||
        host_test_project_dir(f->root, sizeof f->root, "rocky-ux") != 0)
        return -1;
    snprintf(f->out, sizeof f->out, "%s/out.txt", f->root);
    snprintf(f->err, sizeof f->err, "%s/err.txt", f->root);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    int rc = host_test_remove_dir(f->root);
    free(f);
    return rc;
}

static void put(const struct fx *f, const char *rel, const char *text)
{
    char path[1024], cmd[1200];
    snprintf(path, sizeof path, "%s/%s", f->root, rel);
    snprintf(cmd, sizeof cmd, "mkdir -p \"$(dirname '%s')\"", path);
    assert_int_equal(system(cmd), 0);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    char *buf = calloc(1, 1 << 16);
    size_t n = fread(buf, 1, (1 << 16) - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

/* In f->root: `sh -c script` with $ROCKY the runner, bounded in time
 * (`timeout` kills the shell's process by its pid). Exit status. */
static int sh(const struct fx *f, const char *script)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && ROCKY='%s' timeout -s KILL %d sh -c '%s' "
             ">'%s' 2>'%s'",
             f->root, ROCKY_BIN, 60 * host_test_scale(), script, f->out,
             f->err);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static void test_hint_works_from_the_parent_directory(void **state)
{
    struct fx *f = *state;
    /* A project folder whose name needs quoting for the shell. */
    put(f, "my shop/models/a.sql", "SELECT 1 AS x");
    put(f, "my shop/models/b.sql", "SELECT * FROM a");
    assert_int_equal(sh(f, "NO_COLOR=1 \"$ROCKY\" run \"my shop\""), 0);
    char *out = slurp(f->out);
    const char *see = strstr(out, "see `");
    assert_non_null(see);
    see += 5;
    const char *end = strchr(see, '`');
    assert_non_null(end);
    char printed[1024];
    snprintf(printed, sizeof printed, "%.*s", (int)(end - see), see);
    assert_non_null(strstr(printed, "--state 'my shop/.rocky/state.db'"));
    assert_int_equal(strncmp(printed, "rocky trace ", 12), 0);
    free(out);
    /* Run it as printed, from the same folder: rocky is on the PATH. */
    char dir[512], script[2048];
    snprintf(dir, sizeof dir, "%s", ROCKY_BIN);
    *strrchr(dir, '/') = '\0';
    char path[1024];
    snprintf(path, sizeof path, "%s/hint.sh", f->root);
    FILE *fp = fopen(path, "w"); /* the script goes through a file: */
    assert_non_null(fp);         /* no second level of quoting */
    fprintf(fp, "PATH='%s':\"$PATH\"\n%s\n", dir, printed);
    fclose(fp);
    snprintf(script, sizeof script, "sh hint.sh");
    int rc = sh(f, script);
    char *err = slurp(f->err);
    if (rc != 0)
        print_error("%s\n", err);
    assert_int_equal(rc, 0);
    out = slurp(f->out);
    if (strstr(out, "summary:  2 models") == NULL)
        print_error("%s\n", out);
    assert_non_null(strstr(out, "summary:  2 models"));
    free(out);
    free(err);
}

static void test_unknown_config_key_warns_with_did_you_mean(void **state)
{
    struct fx *f = *state;
    put(f, "models/a.sql", "SELECT 1 AS x");
    put(f, "rocky.json", "{\"threds\": 3, \"name\": \"shop\"}");
    /* A warning, and the run goes on. */
    assert_int_equal(sh(f, "\"$ROCKY\" run"), 0);
    char *err = slurp(f->err);
    assert_non_null(strstr(err, "unknown key \"threds\""));
    assert_non_null(strstr(err, "did you mean \"threads\"?"));
    free(err);
}

static void test_models_in_subfolders_and_selectors(void **state)
{
    struct fx *f = *state;
    put(f, "models/staging/stg_orders.sql", "SELECT 1 AS id");
    put(f, "models/staging/deep/stg_items.sql", "SELECT 2 AS id");
    put(f, "models/orders.sql",
        "SELECT * FROM stg_orders JOIN stg_items USING (id)");
    put(f, "models/report.sql", "SELECT count(*) AS n FROM orders");
    put(f, "models/.hidden/skip.sql", "SELECT nonsense FROM nowhere");
    assert_int_equal(sh(f, "\"$ROCKY\" run --json"), 0);
    char *out = slurp(f->out);
    assert_non_null(strstr(out, "\"stg_items\""));
    assert_non_null(strstr(out, "\"stg_orders\""));
    assert_null(strstr(out, "\"skip\""));
    free(out);
    /* Globs on paths, graph operators, exclusion. */
    assert_int_equal(sh(f, "\"$ROCKY\" run --select \"staging/*\" --json"), 0);
    out = slurp(f->out);
    assert_non_null(strstr(out, "\"models_planned\":\t2"));
    free(out);
    assert_int_equal(sh(f, "\"$ROCKY\" run --select stg_orders+ --exclude "
                           "report --json"),
                     0);
    out = slurp(f->out);
    assert_non_null(strstr(out, "\"models_planned\":\t2"));
    assert_null(strstr(out, "\"report\""));
    free(out);
    assert_int_equal(sh(f, "\"$ROCKY\" run --select +report --select "
                           "\"stg_*\" --json"),
                     0);
    out = slurp(f->out);
    assert_non_null(strstr(out, "\"models_planned\":\t4"));
    free(out);
    /* An unknown name: exit 2, named, with a did-you-mean. */
    assert_int_equal(sh(f, "\"$ROCKY\" run --select reprot"), 2);
    char *err = slurp(f->err);
    assert_non_null(strstr(err, "--select reprot"));
    assert_non_null(strstr(err, "did you mean 'report'?"));
    free(err);
}

/* A link under models/ to a folder is not followed (no loops, no models
 * from outside the project); a link to a file is read. The loader tells
 * them apart by readdir's type, which is lstat's: this would fail if it
 * followed the link. */
static void test_linked_folder_under_models_is_not_followed(void **state)
{
    struct fx *f = *state;
    put(f, "models/a.sql", "SELECT 1 AS id");
    put(f, "outside/b.sql", "SELECT 2 AS id");
    char link[512];
    snprintf(link, sizeof link, "%s/models/linked", f->root);
    assert_int_equal(symlink("../outside", link), 0);
    snprintf(link, sizeof link, "%s/models/c.sql", f->root);
    assert_int_equal(symlink("../outside/b.sql", link), 0);
    assert_int_equal(sh(f, "\"$ROCKY\" run --json"), 0);
    char *out = slurp(f->out);
    assert_non_null(strstr(out, "\"models_planned\":\t2"));
    assert_non_null(strstr(out, "\"model_name\":\t\"a\""));
    assert_non_null(strstr(out, "\"model_name\":\t\"c\""));
    assert_null(strstr(out, "\"model_name\":\t\"b\""));
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_hint_works_from_the_parent_directory, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_unknown_config_key_warns_with_did_you_mean, setup, teardown),
        cmocka_unit_test_setup_teardown(test_models_in_subfolders_and_selectors,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_linked_folder_under_models_is_not_followed, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
