/* cli_fixture.c — see cli_fixture.h. */
#include "cli_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"

int cli_setup(void **state)
{
    struct cli_ctx *c = calloc(1, sizeof *c);
    if (c == NULL)
        return -1;
    c->dir = fx_tempdir();
    snprintf(c->store, sizeof c->store, "%s/state.db", c->dir);
    *state = c;
    return 0;
}

int cli_teardown(void **state)
{
    struct cli_ctx *c = *state;
    fx_rmtree(c->dir);
    free(c->dir);
    free(c);
    return 0;
}

void cli_make_store(struct cli_ctx *c, const char *scenario)
{
    char *argv[] = {TRACE_MAKE_STORE, c->store, (char *)scenario, NULL};
    struct proc_result r;
    proc_run(argv, c->dir, &r);
    if (r.exit_code != 0)
        fprintf(stderr, "make_store: %s\n", r.err);
    assert_int_equal(r.exit_code, 0);
    proc_result_free(&r);
}

void cli_trace(struct cli_ctx *c, struct proc_result *r, ...)
{
    char *argv[16] = {ROCKY_TRACE_BIN};
    int n = 1;
    va_list ap;
    va_start(ap, r);
    char *arg;
    while ((arg = va_arg(ap, char *)) != NULL && n < 15)
        argv[n++] = arg;
    va_end(ap);
    argv[n] = NULL;
    proc_run(argv, c->dir, r);
}

void cli_expect_error(struct proc_result *r, int code, const char *what,
                      const char *hint)
{
    if (r->exit_code != code || strstr(r->err, what) == NULL ||
        (hint && strstr(r->err, hint) == NULL))
        fprintf(stderr, "exit %d, stderr:\n%s\n", r->exit_code, r->err);
    assert_int_equal(r->exit_code, code);
    assert_non_null(strstr(r->err, what));
    if (hint != NULL)
        assert_non_null(strstr(r->err, hint));
    assert_string_equal(r->out, "");
}
