/*
 * test_public_macros.c — uses every public macro and static inline of
 * include/rocky/ at least once, with -std=c11 -pedantic and no rocky library
 * linked, so a broken macro or an inline that needs linking cannot ship
 * unnoticed.
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

/* ROCKY_ABI_ASSERT at file scope and inside a function, as C11 and C++ both
 * allow; a false one would stop this file compiling. */
ROCKY_ABI_ASSERT(sizeof(struct rocky_delivery_report) == 40,
                 "ROCKY_ABI_ASSERT expands at file scope");

static void test_abi_assert_expands_in_a_block(void **s)
{
    ROCKY_ABI_ASSERT(ROCKY_PLUGIN_ABI_MAJOR == 2, "in a block too");
    assert_int_equal(ROCKY_PLUGIN_ABI_MAJOR, 2);
}

static void test_event_types_name_the_minor_that_introduced_them(void **s)
{
    assert_int_equal(rocky_event_type_since_minor(ROCKY_EVENT_RUN_START), 0);
    assert_int_equal(rocky_event_type_since_minor(ROCKY_EVENT_MODEL_START), 0);
    assert_int_equal(rocky_event_type_since_minor(ROCKY_EVENT_MODEL_END), 0);
    assert_int_equal(rocky_event_type_since_minor(ROCKY_EVENT_RUN_END), 0);
    assert_int_equal(rocky_event_type_since_minor(ROCKY_EVENT_STATEMENT_END),
                     1);
    assert_int_equal(rocky_event_type_since_minor(0), -1);
    assert_int_equal(
        rocky_event_type_since_minor(ROCKY_EVENT_STATEMENT_END + 1), -1);
    assert_int_equal(rocky_event_type_since_minor(UINT32_MAX), -1);
    assert_true(ROCKY_PLUGIN_ABI_MINOR >=
                rocky_event_type_since_minor(ROCKY_EVENT_STATEMENT_END));
}

/* Upstream rocky's rocky.statement.kind spellings; unknown is "other". */
static void test_statement_kind_names_are_upstreams(void **s)
{
    assert_string_equal(rocky_statement_kind_name(ROCKY_STATEMENT_OTHER),
                        "other");
    assert_string_equal(rocky_statement_kind_name(ROCKY_STATEMENT_QUERY),
                        "query");
    assert_string_equal(rocky_statement_kind_name(ROCKY_STATEMENT_DML), "dml");
    assert_string_equal(rocky_statement_kind_name(ROCKY_STATEMENT_DDL), "ddl");
    assert_string_equal(rocky_statement_kind_name(99), "other");
}

/* ABI 2.1 appended `statement` to struct rocky_event: an event a 2.0 host
 * allocated (struct_size of 2.0) does not have it, one of 2.1 does. */
static void test_struct_has_tells_a_2_0_event_from_a_2_1_one(void **s)
{
    struct rocky_event ev = {.struct_size = sizeof ev};
    assert_true(ROCKY_STRUCT_HAS(&ev, struct rocky_event, statement));
    ev.struct_size = (uint32_t)offsetof(struct rocky_event, statement);
    assert_false(ROCKY_STRUCT_HAS(&ev, struct rocky_event, statement));
    assert_true(ROCKY_STRUCT_HAS(&ev, struct rocky_event, model));
    struct rocky_statement st = {.struct_size = sizeof st};
    assert_true(ROCKY_STRUCT_HAS(&st, struct rocky_statement, span_id));
}

/* A report an older host allocated, ending before `dropped`: the write
 * fills what fits, leaves struct_size and everything after alone. */
static void test_report_write_stays_inside_the_readers_struct(void **s)
{
    const struct rocky_delivery_report src = {.struct_size = sizeof src,
                                              .accepted = 7,
                                              .delivered = 5,
                                              .dropped = 1,
                                              .pending = 1};
    struct rocky_delivery_report full;
    memset(&full, 0, sizeof full);
    full.struct_size = sizeof full;
    rocky_delivery_report_write(&full, &src);
    assert_int_equal(full.struct_size, sizeof full);
    assert_int_equal(full.accepted, 7);
    assert_int_equal(full.delivered, 5);
    assert_int_equal(full.dropped, 1);
    assert_int_equal(full.pending, 1);

    struct rocky_delivery_report old;
    memset(&old, 0xA5, sizeof old);
    old.struct_size = offsetof(struct rocky_delivery_report, dropped);
    rocky_delivery_report_write(&old, &src);
    assert_int_equal(old.struct_size,
                     offsetof(struct rocky_delivery_report, dropped));
    assert_int_equal(old.accepted, 7);
    assert_int_equal(old.delivered, 5);
    assert_int_equal(old.dropped, UINT64_C(0xA5A5A5A5A5A5A5A5));
    assert_int_equal(old.pending, UINT64_C(0xA5A5A5A5A5A5A5A5));

    rocky_delivery_report_write(NULL, &src); /* no report wanted: no-op */
    rocky_delivery_report_write(&full, NULL);
    assert_int_equal(full.accepted, 7);
}

static void test_host_capability_bits_are_distinct_flags(void **s)
{
    uint32_t caps = ROCKY_HOST_CAP_OWNS_EXIT;
    assert_int_equal(caps, 1u);
    assert_true((caps & ROCKY_HOST_CAP_OWNS_EXIT) != 0);
    assert_int_equal(ROCKY_EVENT_FLAG_REPLAY, 1u);
    assert_true(ROCKY_LOG_DEBUG < ROCKY_LOG_INFO &&
                ROCKY_LOG_INFO < ROCKY_LOG_WARN &&
                ROCKY_LOG_WARN < ROCKY_LOG_ERROR);
}

/* Static inline in rocky/error.h: this test links no rocky library, so
 * these resolve from the header alone (tests/unit/CMakeLists.txt). */
static void test_strerror_and_err_name_work_from_the_header(void **s)
{
    assert_string_equal(rocky_strerror(ROCKY_OK), "success");
    assert_string_equal(rocky_strerror(ROCKY_EIO), "input/output error");
    assert_string_equal(rocky_strerror(-1000), "unknown error");
    assert_string_equal(rocky_err_name(ROCKY_OK), "OK");
    assert_string_equal(rocky_err_name(ROCKY_ETIMEDOUT), "ETIMEDOUT");
    assert_string_equal(rocky_err_name(-1000), "UNKNOWN");
#define CHECK_(name, value, msg)                                               \
    assert_string_equal(rocky_err_name(value), #name);                         \
    assert_string_equal(rocky_strerror(value), msg);
    ROCKY_ERRNO_MAP(CHECK_)
#undef CHECK_
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_abi_version_macros_pack_and_unpack),
        cmocka_unit_test(test_struct_has_checks_the_producers_size),
        cmocka_unit_test(test_status_names_are_the_stored_spellings),
        cmocka_unit_test(test_errno_map_expands_in_user_code),
        cmocka_unit_test(test_abi_assert_expands_in_a_block),
        cmocka_unit_test(test_event_types_name_the_minor_that_introduced_them),
        cmocka_unit_test(test_statement_kind_names_are_upstreams),
        cmocka_unit_test(test_struct_has_tells_a_2_0_event_from_a_2_1_one),
        cmocka_unit_test(test_report_write_stays_inside_the_readers_struct),
        cmocka_unit_test(test_host_capability_bits_are_distinct_flags),
        cmocka_unit_test(test_strerror_and_err_name_work_from_the_header),
    };
    return cmocka_run_group_tests_name("public_macros", tests, NULL, NULL);
}
