/*
 * cli_fixture.h — shared by the tests that run the real rocky-trace binary:
 * a temp dir with a store path per test, stores from trace_make_store, and
 * a variadic runner. Paths come from the build (ROCKY_TRACE_BIN,
 * TRACE_MAKE_STORE compile definitions).
 */
#ifndef ROCKY_TESTS_TRACE_CLI_FIXTURE_H
#define ROCKY_TESTS_TRACE_CLI_FIXTURE_H

#include "proc.h"

#define OLD_RUN "20251125T055000.000Z-0ld0"
#define NEW_RUN "20251125T060000.000Z-5a3f"

struct cli_ctx {
    char *dir;        /* removed with everything in it by teardown */
    char store[4096]; /* dir/state.db                                */
};

/* cmocka setup/teardown: *state is a struct cli_ctx. */
int cli_setup(void **state);
int cli_teardown(void **state);

/* trace_make_store STORE SCENARIO; asserts it succeeded. */
void cli_make_store(struct cli_ctx *c, const char *scenario);

/* Run rocky-trace with the NULL-terminated arguments (at most 14). */
void cli_trace(struct cli_ctx *c, struct proc_result *r, ...);

/* Assert exit `code`, `what` (and `hint` unless NULL) on stderr, nothing
 * on stdout. */
void cli_expect_error(struct proc_result *r, int code, const char *what,
                      const char *hint);

#endif
