/* Helpers shared by the plugin unit tests: realistic events. */
#ifndef ROCKY_TEST_OTEL_EVENTS_H
#define ROCKY_TEST_OTEL_EVENTS_H

#include <string.h>

#include "rocky/plugin.h"

struct test_run {
    struct rocky_run run;
    struct rocky_model_exec model;
    struct rocky_statement stmt; /* for STATEMENT_END (ABI 2.1) */
    struct rocky_event ev;
    char name[64];
};

static inline void test_run_init(struct test_run *t)
{
    memset(t, 0, sizeof *t);
    t->run.struct_size = sizeof t->run;
    t->run.run_id = "run-1";
    t->run.project = "proj";
    t->run.trigger = "manual";
    t->run.rocky_version = "9.9.9";
    t->run.status = ROCKY_RUN_SUCCESS;
    memset(t->run.trace_id, 0xab, sizeof t->run.trace_id);
    memset(t->run.span_id, 0x11, sizeof t->run.span_id);
    t->run.started_wall_ns = 1000000000;
    t->run.finished_wall_ns = 3000000000;
    t->run.started_mono_ns = 10;
    t->run.finished_mono_ns = 2000000010;
    t->model.struct_size = sizeof t->model;
    t->model.model_name = t->name;
    strcpy(t->name, "orders");
    t->model.sql_hash = "00ff";
    t->model.status = ROCKY_MODEL_SUCCESS;
    t->model.attempt = 1;
    t->model.rows_affected = 42;
    t->model.bytes_written = 4096;
    t->model.started_wall_ns = 1100000000;
    t->model.finished_wall_ns = 1200000000;
    t->model.started_mono_ns = 100;
    t->model.finished_mono_ns = 100000100; /* 100 ms */
    memset(t->model.span_id, 0x22, sizeof t->model.span_id);
    t->stmt.struct_size = sizeof t->stmt;
    t->stmt.kind = ROCKY_STATEMENT_DDL;
    t->stmt.status = ROCKY_MODEL_SUCCESS;
    t->stmt.attempt = 1;
    t->stmt.max_attempts = 200;
    t->stmt.rows = -1;
    t->stmt.target = "main.orders";
    t->stmt.started_wall_ns = 1110000000;
    t->stmt.finished_wall_ns = 1130000000;
    t->stmt.started_mono_ns = 10000100;
    t->stmt.finished_mono_ns = 30000100; /* 20 ms */
    memset(t->stmt.span_id, 0x33, sizeof t->stmt.span_id);
    t->ev.struct_size = sizeof t->ev;
    t->ev.run = &t->run;
}

static inline const struct rocky_event *test_event(struct test_run *t,
                                                   uint32_t type)
{
    t->ev.type = type;
    t->ev.model =
        (type == ROCKY_EVENT_MODEL_START || type == ROCKY_EVENT_MODEL_END ||
         type == ROCKY_EVENT_STATEMENT_END)
            ? &t->model
            : NULL;
    t->ev.statement = type == ROCKY_EVENT_STATEMENT_END ? &t->stmt : NULL;
    t->ev.wall_ns = 1200000000;
    t->ev.mono_ns = 100000100;
    return &t->ev;
}

#endif
