/*
 * test_public_macros.c — uses every public macro of include/rocky/ at least
 * once, with -std=c11 -pedantic, so a broken macro cannot ship unnoticed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rocky/error.h"
#include "rocky/plugin.h"
#include "rocky/run_model.h"

static void test_abi_version_macros_pack_and_unpack(void **s)
{
    uint32_t v = ROCKY_PLUGIN_ABI_MAKE(3, 17);
    assert_int_equal(ROCKY_PLUGIN_ABI_MAJOR_OF(v), 3);
    assert_int_equal(ROCKY_PLUGIN_ABI_MINOR_OF(v), 17);
    assert_int_equal(ROCKY_PLUGIN_ABI_MAJOR_OF(ROCKY_PLUGIN_ABI_VERSION),
                     ROCKY_PLUGIN_ABI_MAJOR);
    assert_int_equal(ROCKY_PLUGIN_ABI_MINOR_OF(ROCKY_PLUGIN_ABI_VERSION),
                     ROCKY_PLUGIN_ABI_MINOR);
    assert_string_equal(ROCKY_PLUGIN_ENTRY_SYMBOL, "rocky_plugin_entry");
}

static void test_struct_has_checks_the_producers_size(void **s)
{
    struct rocky_model_exec m = {.struct_size = sizeof m};
    assert_true(ROCKY_STRUCT_HAS(&m, struct rocky_model_exec, span_id));
    /* A producer from an ABI before span_id existed. */
    m.struct_size = offsetof(struct rocky_model_exec, span_id);
    assert_false(ROCKY_STRUCT_HAS(&m, struct rocky_model_exec, span_id));
    assert_true(ROCKY_STRUCT_HAS(&m, struct rocky_model_exec, attempt));
    assert_int_equal(ROCKY_TRACE_ID_SIZE, sizeof m.span_id * 2);
    assert_int_equal(ROCKY_SPAN_ID_SIZE, sizeof m.span_id);
}

static void test_status_names_are_the_stored_spellings(void **s)
{
    assert_string_equal(rocky_run_status_name(ROCKY_RUN_PARTIAL_FAILURE),
                        "partial_failure");
    assert_string_equal(rocky_run_status_name(99), "unknown");
    assert_string_equal(rocky_model_status_name(ROCKY_MODEL_SKIPPED),
                        "skipped");
    assert_string_equal(rocky_model_status_name(99), "unknown");
}

/* ROCKY_PLUGIN_EXPORT on a function of this test, and ROCKY_ERRNO_MAP in
 * a table of our own. */
ROCKY_PLUGIN_EXPORT int exported_for_macro_test(void);
ROCKY_PLUGIN_EXPORT int exported_for_macro_test(void)
{
    return ROCKY_OK;
}

static void test_errno_map_expands_in_user_code(void **s)
{
#define COUNT_(name, value, msg) +1
    int n = 0 ROCKY_ERRNO_MAP(COUNT_);
#undef COUNT_
    assert_true(n >= 14);
    assert_int_equal(exported_for_macro_test(), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_abi_version_macros_pack_and_unpack),
        cmocka_unit_test(test_struct_has_checks_the_producers_size),
        cmocka_unit_test(test_status_names_are_the_stored_spellings),
        cmocka_unit_test(test_errno_map_expands_in_user_code),
    };
    return cmocka_run_group_tests_name("public_macros", tests, NULL, NULL);
}
