/* Unit tests: trace and metrics encoders, decoded back with protobuf-c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encode_metrics.h"
#include "encode_trace.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"
#include "otel_test_events.h"
#include "span_build.h"
#include "span_view.h"

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest
    treq;
typedef Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest
    mreq;

static struct rocky_otel_config cfg;
static struct rocky_otel_resource res;

static int setup(void **state)
{
    memset(&cfg, 0, sizeof cfg);
    strcpy(cfg.service_name, "svc");
    return rocky_otel_resource_init(&res, &cfg, "1.2.3");
}

static int teardown(void **state)
{
    rocky_otel_resource_free(&res);
    return 0;
}

static const char *attr(Opentelemetry__Proto__Trace__V1__Span *s,
                        const char *key, int64_t *iv)
{
    for (size_t i = 0; i < s->n_attributes; i++) {
        if (strcmp(s->attributes[i]->key, key) == 0) {
            if (iv)
                *iv = s->attributes[i]->value->int_value;
            return s->attributes[i]->value->string_value
                       ? s->attributes[i]->value->string_value
                       : "";
        }
    }
    return NULL;
}

static treq *encode_decode(const struct rocky_otel_span *const *spans, size_t n,
                           int64_t limit, size_t *len_out)
{
    uint8_t *buf;
    size_t len;
    assert_int_equal(
        rocky_otel_encode_traces(&res, spans, n, limit, NULL, &buf, &len, NULL),
        0);
    treq *r =
        opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
            NULL, len, buf);
    free(buf);
    assert_non_null(r);
    if (len_out)
        *len_out = len;
    return r;
}

static void
test_model_and_run_spans_encode_with_links_and_attributes(void **state)
{
    struct test_run t;
    test_run_init(&t);
    struct rocky_otel_span run, model;
    t.run.status = ROCKY_RUN_PARTIAL_FAILURE;
    t.model.status = ROCKY_MODEL_FAILED;
    t.model.error = "boom";
    t.model.rows_affected = -1;
    assert_int_equal(rocky_otel_span_from_event(
                         test_event(&t, ROCKY_EVENT_MODEL_END), &model),
                     0);
    assert_int_equal(
        rocky_otel_span_from_event(test_event(&t, ROCKY_EVENT_RUN_END), &run),
        0);
    const struct rocky_otel_span *spans[] = {&run, &model};
    treq *r = encode_decode(spans, 2, -1, NULL);
    assert_int_equal(r->n_resource_spans, 1);
    Opentelemetry__Proto__Trace__V1__ScopeSpans *ss =
        r->resource_spans[0]->scope_spans[0];
    assert_string_equal(ss->scope->name, "rocky_otel");
    assert_int_equal(ss->n_spans, 2);
    Opentelemetry__Proto__Trace__V1__Span *rs = ss->spans[0],
                                          *ms = ss->spans[1];
    assert_string_equal(rs->name, "run");
    assert_int_equal(rs->parent_span_id.len, 0);
    assert_string_equal(ms->name, "materialize.table");
    assert_memory_equal(ms->parent_span_id.data, rs->span_id.data, 8);
    assert_memory_equal(ms->trace_id.data, rs->trace_id.data, 16);
    assert_int_equal(rs->start_time_unix_nano, 1000000000);
    assert_int_equal(rs->end_time_unix_nano, 3000000000);
    assert_int_equal(
        ms->status->code,
        OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR);
    assert_string_equal(ms->status->message, "boom");
    assert_string_equal(attr(ms, "rocky.model.name", NULL), "orders");
    assert_string_equal(attr(ms, "rocky.model.status", NULL), "failed");
    assert_null(attr(ms, "rocky.model.rows_affected", NULL));
    int64_t bytes = 0;
    assert_non_null(attr(ms, "rocky.model.bytes_written", &bytes));
    assert_int_equal(bytes, 4096);
    assert_string_equal(attr(rs, "rocky.run.status", NULL), "partial_failure");
    assert_string_equal(attr(rs, "rocky.project", NULL), "proj");
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(
        r, NULL);
}

static Opentelemetry__Proto__Trace__V1__Span__Event *
event_named(Opentelemetry__Proto__Trace__V1__Span *s, const char *name)
{
    for (size_t i = 0; i < s->n_events; i++)
        if (strcmp(s->events[i]->name, name) == 0)
            return s->events[i];
    return NULL;
}

static const char *event_attr(Opentelemetry__Proto__Trace__V1__Span__Event *e,
                              const char *key, int64_t *iv)
{
    for (size_t i = 0; i < e->n_attributes; i++)
        if (strcmp(e->attributes[i]->key, key) == 0) {
            if (iv)
                *iv = e->attributes[i]->value->int_value;
            return e->attributes[i]->value->string_value
                       ? e->attributes[i]->value->string_value
                       : "";
        }
    return NULL;
}

/* Upstream rocky's names beside ours: the root is `run` with `run_id`,
 * materialize.table has rocky.model.fqn/kind as upstream's DAG executor
 * sets them, a failed model has upstream's materialize_error event and the
 * OTel exception event. */
static void test_spans_carry_upstreams_names_and_failure_events(void **state)
{
    struct test_run t;
    test_run_init(&t);
    t.run.adapter = "sqlite";
    struct rocky_otel_span run, model, ok;
    t.model.status = ROCKY_MODEL_SUCCESS;
    rocky_otel_span_from_event(test_event(&t, ROCKY_EVENT_MODEL_END), &ok);
    t.model.status = ROCKY_MODEL_FAILED;
    t.model.error = "no such table: x";
    rocky_otel_span_from_event(test_event(&t, ROCKY_EVENT_MODEL_END), &model);
    rocky_otel_span_from_event(test_event(&t, ROCKY_EVENT_RUN_END), &run);
    const struct rocky_otel_span *spans[] = {&run, &model, &ok};
    treq *r = encode_decode(spans, 3, -1, NULL);
    Opentelemetry__Proto__Trace__V1__ScopeSpans *ss =
        r->resource_spans[0]->scope_spans[0];
    Opentelemetry__Proto__Trace__V1__Span *rs = ss->spans[0],
                                          *ms = ss->spans[1],
                                          *oks = ss->spans[2];
    assert_string_equal(rs->name, "run");
    assert_string_equal(attr(rs, "run_id", NULL), "run-1");
    assert_string_equal(attr(rs, "rocky.run.id", NULL), "run-1");
    assert_string_equal(attr(ms, "rocky.model.fqn", NULL),
                        "transformation:orders");
    assert_string_equal(attr(ms, "rocky.model.kind", NULL), "transformation");
    assert_string_equal(attr(ms, "rocky.warehouse.table_ref", NULL),
                        "main.orders");
    assert_string_equal(attr(ms, "rocky.model.materialization", NULL), "table");
    assert_string_equal(attr(ms, "rocky.adapter.name", NULL), "sqlite");
    assert_string_equal(attr(ms, "rocky.model.name", NULL), "orders");
    Opentelemetry__Proto__Trace__V1__Span__Event *e =
        event_named(ms, "materialize_error");
    assert_non_null(e);
    assert_int_equal(e->time_unix_nano, ms->end_time_unix_nano);
    assert_string_equal(event_attr(e, "rocky.event.target", NULL), "orders");
    assert_string_equal(event_attr(e, "rocky.event.error", NULL),
                        "no such table: x");
    assert_string_equal(event_attr(e, "rocky.event.error_class", NULL),
                        "permanent");
    e = event_named(ms, "exception");
    assert_non_null(e);
    assert_string_equal(event_attr(e, "exception.type", NULL),
                        "rocky.ModelFailed");
    assert_string_equal(event_attr(e, "exception.message", NULL),
                        "no such table: x");
    assert_int_equal(ms->n_events, 2);
    assert_int_equal(oks->n_events, 0); /* success: no event */
    assert_int_equal(rs->n_events, 0);
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(
        r, NULL);
}

/* STATEMENT_END (ABI 2.1) -> statement.execute, a child of its model's
 * span, with upstream's rocky.adapter.name / rocky.statement.kind; a
 * retried statement carries upstream's statement_retry event; a failed one
 * is an error. */
static void test_statement_span_is_a_child_of_its_model(void **state)
{
    struct test_run t;
    test_run_init(&t);
    t.run.adapter = "sqlite";
    struct rocky_otel_span st, retried;
    assert_int_equal(rocky_otel_span_from_event(
                         test_event(&t, ROCKY_EVENT_STATEMENT_END), &st),
                     0);
    t.stmt.attempt = 3;
    t.stmt.status = ROCKY_MODEL_FAILED;
    t.stmt.error = "database is locked";
    t.stmt.kind = ROCKY_STATEMENT_OTHER;
    t.stmt.target = NULL;
    t.stmt.sequence = 3;
    assert_int_equal(rocky_otel_span_from_event(
                         test_event(&t, ROCKY_EVENT_STATEMENT_END), &retried),
                     0);
    /* no statement in the event: refused, never a span */
    struct rocky_otel_span bad;
    const struct rocky_event *ev = test_event(&t, ROCKY_EVENT_STATEMENT_END);
    t.ev.statement = NULL;
    assert_int_equal(rocky_otel_span_from_event(ev, &bad), ROCKY_EINVAL);

    const struct rocky_otel_span *spans[] = {&st, &retried};
    treq *r = encode_decode(spans, 2, -1, NULL);
    Opentelemetry__Proto__Trace__V1__Span *a =
        r->resource_spans[0]->scope_spans[0]->spans[0];
    Opentelemetry__Proto__Trace__V1__Span *b =
        r->resource_spans[0]->scope_spans[0]->spans[1];
    assert_string_equal(a->name, "statement.execute");
    assert_memory_equal(a->parent_span_id.data, t.model.span_id, 8);
    assert_memory_equal(a->span_id.data, t.stmt.span_id, 8);
    assert_int_equal(a->start_time_unix_nano, 1110000000);
    assert_int_equal(a->end_time_unix_nano, 1130000000);
    assert_string_equal(attr(a, "rocky.adapter.name", NULL), "sqlite");
    assert_string_equal(attr(a, "db.system.name", NULL), "sqlite");
    assert_string_equal(attr(a, "rocky.statement.kind", NULL), "ddl");
    assert_string_equal(attr(a, "rocky.warehouse.table_ref", NULL),
                        "main.orders");
    assert_string_equal(attr(a, "rocky.model.name", NULL), "orders");
    int64_t v = 0;
    assert_non_null(attr(a, "rocky.retry.attempt", &v));
    assert_int_equal(v, 1);
    assert_int_equal(a->n_events, 0);
    assert_int_not_equal(
        a->status->code,
        OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR);

    assert_string_equal(attr(b, "rocky.statement.kind", NULL), "other");
    assert_null(attr(b, "rocky.warehouse.table_ref", NULL));
    assert_non_null(attr(b, "rocky.statement.sequence", &v));
    assert_int_equal(v, 3);
    assert_int_equal(
        b->status->code,
        OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR);
    assert_string_equal(b->status->message, "database is locked");
    Opentelemetry__Proto__Trace__V1__Span__Event *e =
        event_named(b, "statement_retry");
    assert_non_null(e);
    assert_non_null(event_attr(e, "rocky.event.attempt", &v));
    assert_int_equal(v, 3);
    assert_non_null(event_attr(e, "rocky.event.max_attempts", &v));
    assert_int_equal(v, 200);
    assert_string_equal(event_attr(e, "rocky.event.error_class", NULL),
                        "transient");
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(
        r, NULL);
}

static void test_value_length_limit_cuts_strings(void **state)
{
    struct test_run t;
    test_run_init(&t);
    strcpy(t.name, "\xC3\xA9t\xC3\xA9_table");
    struct rocky_otel_span s;
    rocky_otel_span_from_event(test_event(&t, ROCKY_EVENT_MODEL_END), &s);
    const struct rocky_otel_span *spans[] = {&s};
    treq *r = encode_decode(spans, 1, 3, NULL);
    Opentelemetry__Proto__Trace__V1__Span *ms =
        r->resource_spans[0]->scope_spans[0]->spans[0];
    assert_string_equal(attr(ms, "rocky.model.name", NULL),
                        "\xC3\xA9t\xC3\xA9");
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(
        r, NULL);
}

/* Strings of every length the writer copies by size class (1..3, 4..7,
 * 8..15, 16..32, longer), and cut by a limit (then even the constant
 * prefixes have a length only known at run time): each arrives whole. */
static void test_strings_of_every_short_length_arrive_whole(void **state)
{
    struct test_run t;
    test_run_init(&t);
    for (size_t len = 1; len < 60; len++) {
        for (size_t i = 0; i < len; i++)
            t.name[i] = (char)('A' + (i * 7 + len) % 26);
        t.name[len] = '\0';
        struct rocky_otel_span s;
        rocky_otel_span_from_event(test_event(&t, ROCKY_EVENT_MODEL_END), &s);
        const struct rocky_otel_span *spans[] = {&s};
        for (int64_t limit = -1; limit < 40; limit += 1 + (limit > 2) * 6) {
            treq *r = encode_decode(spans, 1, limit, NULL);
            Opentelemetry__Proto__Trace__V1__Span *ms =
                r->resource_spans[0]->scope_spans[0]->spans[0];
            char want[128];
            size_t keep =
                limit < 0 || (size_t)limit > len ? len : (size_t)limit;
            if (keep) {
                memcpy(want, t.name, keep);
                want[keep] = '\0';
                assert_string_equal(attr(ms, "rocky.model.name", NULL), want);
                snprintf(want, sizeof want, "main.%s", t.name);
                if (limit >= 0 && (size_t)limit < strlen(want))
                    want[limit] = '\0';
                assert_string_equal(attr(ms, "rocky.warehouse.table_ref", NULL),
                                    want);
            }
            opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(
                r, NULL);
        }
    }
}

/* The bound of a whole span, through its view as the exporter takes it. */
static size_t size_bound(const struct rocky_otel_span *span)
{
    struct rocky_otel_span_view view;
    rocky_otel_span_view_of(span, &view);
    return rocky_otel_span_view_bound(&view);
}

static void test_size_bound_covers_the_encoded_span(void **state)
{
    struct test_run t;
    test_run_init(&t);
    char err[2000];
    memset(err, 'e', sizeof err - 1);
    err[sizeof err - 1] = '\0';
    memset(t.name, 'n', sizeof t.name - 1);
    t.name[sizeof t.name - 1] = '\0';
    t.model.error = err;
    t.model.status = ROCKY_MODEL_FAILED;
    struct rocky_otel_span s;
    rocky_otel_span_from_event(test_event(&t, ROCKY_EVENT_MODEL_END), &s);
    const struct rocky_otel_span *one[] = {&s}, *two[] = {&s, &s};
    size_t len1, len2;
    treq *r = encode_decode(one, 1, -1, &len1);
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(
        r, NULL);
    r = encode_decode(two, 2, -1, &len2);
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(
        r, NULL);
    assert_true(len2 - len1 <= size_bound(&s));
}

/* The encoder packs each span into room reserved from the bound, so the
 * bound must hold in the worst case: every string field filled to its
 * capacity, every integer at its widest varint, parent and trace state set,
 * error status; for both span kinds. (A short bound aborts the encoder.) */
static void test_size_bound_holds_for_worst_case_spans(void **state)
{
    struct rocky_otel_span s[3];
    memset(s, 0, sizeof s);
    s[0].kind = ROCKY_OTEL_SPAN_RUN;
    s[1].kind = ROCKY_OTEL_SPAN_MODEL;
    s[2].kind = ROCKY_OTEL_SPAN_STATEMENT;
    for (int k = 0; k < 3; k++) {
        memset(s[k].trace_id, 0xff, sizeof s[k].trace_id);
        memset(s[k].span_id, 0xff, sizeof s[k].span_id);
        memset(s[k].parent_span_id, 0xff, sizeof s[k].parent_span_id);
        s[k].start_wall_ns = s[k].end_wall_ns = INT64_MAX;
        s[k].rows_affected = s[k].bytes_written = INT64_MAX;
        s[k].attempt = UINT32_MAX;
        s[k].models_total = s[k].models_failed = UINT32_MAX;
        s[k].models_succeeded = s[k].models_skipped = UINT32_MAX;
        memset(s[k].run_id, 'r', sizeof s[k].run_id - 1);
        memset(s[k].adapter, 'a', sizeof s[k].adapter - 1);
        s[k].max_attempts = s[k].sequence = UINT32_MAX;
    }
    s[0].status = ROCKY_RUN_PARTIAL_FAILURE;
    memset(s[0].project, 'p', sizeof s[0].project - 1);
    memset(s[0].trigger, 't', sizeof s[0].trigger - 1);
    memset(s[0].version, 'v', sizeof s[0].version - 1);
    memset(s[0].trace_state, 's', sizeof s[0].trace_state - 1);
    s[1].status = ROCKY_MODEL_FAILED;
    memset(s[1].name, 'n', sizeof s[1].name - 1);
    memset(s[1].sql_hash, 'h', sizeof s[1].sql_hash - 1);
    memset(s[1].error, 'e', sizeof s[1].error - 1);
    /* a retried, failed statement: status, statement_retry event */
    s[2].status = ROCKY_MODEL_FAILED;
    s[2].stmt_kind = UINT32_MAX;
    memset(s[2].stmt_model, 'n', sizeof s[2].stmt_model - 1);
    memset(s[2].target, 't', sizeof s[2].target - 1);
    memset(s[2].stmt_error, 'e', sizeof s[2].stmt_error - 1);
    for (int k = 0; k < 3; k++) {
        const struct rocky_otel_span *one[] = {&s[k]}, *two[] = {&s[k], &s[k]};
        size_t len1, len2;
        treq *r = encode_decode(one, 1, -1, &len1);
        Opentelemetry__Proto__Trace__V1__Span *sp =
            r->resource_spans[0]->scope_spans[0]->spans[0];
        assert_true(opentelemetry__proto__trace__v1__span__get_packed_size(sp) +
                        4 <=
                    size_bound(&s[k]));
        opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(
            r, NULL);
        r = encode_decode(two, 2, -1, &len2);
        opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(
            r, NULL);
        assert_true(len2 - len1 <= size_bound(&s[k]));
        /* No span's bound is over the largest (the exporter leaves the
         * batch uncut when a whole batch at it fits a request), and these
         * spans are the largest. */
        assert_true(size_bound(&s[k]) <= rocky_otel_span_bound_max());
    }
    size_t most = 0;
    for (int k = 0; k < 3; k++)
        if (size_bound(&s[k]) > most)
            most = size_bound(&s[k]);
    assert_int_equal(rocky_otel_span_bound_max(), most);
    /* The default batch (512, plus up to 64 run spans) is never cut. */
    assert_true((512 + 64) * most <= ROCKY_OTEL_MAX_REQUEST_BYTES - 64 * 1024);
}

/* The exporter reuses one scratch across requests: small, then larger (the
 * buffers grow), then small again; each must encode exactly as a fresh
 * buffer does, with a length limit so the cut-value scratch is used too. */
static void test_reused_scratch_encodes_like_fresh_buffers(void **state)
{
    struct test_run t;
    test_run_init(&t);
    t.model.status = ROCKY_MODEL_FAILED;
    t.model.error = "a long error text that the length limit cuts";
    struct rocky_otel_span s;
    rocky_otel_span_from_event(test_event(&t, ROCKY_EVENT_MODEL_END), &s);
    enum { MANY = 300 };
    static const struct rocky_otel_span *spans[MANY];
    for (size_t i = 0; i < MANY; i++)
        spans[i] = &s;
    const size_t sizes[] = {1, MANY, 2};
    struct rocky_otel_encode_scratch scratch = {0};
    for (size_t k = 0; k < 3; k++) {
        uint8_t *fresh, *reused;
        size_t fresh_len, reused_len;
        assert_int_equal(rocky_otel_encode_traces(&res, spans, sizes[k], 8,
                                                  NULL, &fresh, &fresh_len,
                                                  NULL),
                         0);
        assert_int_equal(rocky_otel_encode_traces(&res, spans, sizes[k], 8,
                                                  &scratch, &reused,
                                                  &reused_len, NULL),
                         0);
        assert_int_equal(reused_len, fresh_len);
        assert_memory_equal(reused, fresh, fresh_len);
        /* Inside the scratch's buffer (the envelope's framing decides
         * where the request starts). */
        assert_non_null(scratch.req);
        assert_true(reused >= scratch.req->data &&
                    reused + reused_len <=
                        scratch.req->data + scratch.req->cap);
        free(fresh);
    }
    rocky_otel_encode_scratch_free(&scratch);
    assert_null(scratch.req);
    assert_null(scratch.pool);
}

/* The envelope is framed by hand around protobuf-c-packed spans: decoding
 * and re-packing the whole request with protobuf-c must give the very same
 * bytes (same field order, lengths and encodings), for 0, 1 and many spans
 * of both kinds, including lengths that need multi-byte varints. */
static void test_framed_request_equals_a_full_protobuf_c_pack(void **state)
{
    struct test_run t;
    test_run_init(&t);
    t.model.status = ROCKY_MODEL_FAILED;
    t.model.error = "boom";
    struct rocky_otel_span run, model;
    rocky_otel_span_from_event(test_event(&t, ROCKY_EVENT_RUN_END), &run);
    rocky_otel_span_from_event(test_event(&t, ROCKY_EVENT_MODEL_END), &model);
    enum { MANY = 700 }; /* > 128 spans: a multi-byte length everywhere */
    static const struct rocky_otel_span *spans[MANY];
    spans[0] = &run;
    for (size_t i = 1; i < MANY; i++)
        spans[i] = &model;
    const size_t sizes[] = {0, 1, 2, MANY};
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        uint8_t *buf;
        size_t len;
        assert_int_equal(rocky_otel_encode_traces(&res, spans, sizes[k], -1,
                                                  NULL, &buf, &len, NULL),
                         0);
        treq *r =
            opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
                NULL, len, buf);
        assert_non_null(r);
        assert_int_equal(r->resource_spans[0]->scope_spans[0]->n_spans,
                         sizes[k]);
        size_t again =
            opentelemetry__proto__collector__trace__v1__export_trace_service_request__get_packed_size(
                r);
        assert_int_equal(again, len);
        uint8_t *repacked = malloc(again);
        opentelemetry__proto__collector__trace__v1__export_trace_service_request__pack(
            r, repacked);
        assert_memory_equal(repacked, buf, len);
        free(repacked);
        free(buf);
        opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(
            r, NULL);
    }
}

static void test_metrics_encode_valid_histograms_and_temporality(void **state)
{
    struct rocky_otel_metrics *m;
    assert_int_equal(rocky_otel_metrics_new(&m), 0);
    struct test_run t;
    test_run_init(&t);
    rocky_otel_metrics_record(m, test_event(&t, ROCKY_EVENT_MODEL_START));
    rocky_otel_metrics_record(m, test_event(&t, ROCKY_EVENT_MODEL_END));
    struct rocky_otel_metrics_snap cum, zero, del;
    rocky_otel_metrics_snapshot(m, &cum);
    memset(&zero, 0, sizeof zero);
    rocky_otel_metrics_delta(&cum, &zero, &del);
    struct rocky_otel_metrics_encode_opts o = {.delta_sums = 1,
                                               .delta_updown = 0,
                                               .cumulative_start_wall_ns = 5,
                                               .delta_start_wall_ns = 7,
                                               .now_wall_ns = 9};
    uint8_t *buf;
    size_t len;
    assert_int_equal(
        rocky_otel_encode_metrics(&res, &cum, &del, &o, &buf, &len), 0);
    mreq *r =
        opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__unpack(
            NULL, len, buf);
    free(buf);
    assert_non_null(r);
    Opentelemetry__Proto__Metrics__V1__ScopeMetrics *sm =
        r->resource_metrics[0]->scope_metrics[0];
    int seen_hist = 0, seen_updown = 0;
    for (size_t i = 0; i < sm->n_metrics; i++) {
        Opentelemetry__Proto__Metrics__V1__Metric *x = sm->metrics[i];
        if (strcmp(x->name, "rocky.table_duration_ms") == 0) {
            seen_hist = 1;
            Opentelemetry__Proto__Metrics__V1__HistogramDataPoint *p =
                x->histogram->data_points[0];
            assert_int_equal(
                x->histogram->aggregation_temporality,
                OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_DELTA);
            assert_int_equal(p->n_bucket_counts, p->n_explicit_bounds + 1);
            assert_int_equal(p->count, 1);
            assert_int_equal(p->bucket_counts[6],
                             1); /* 100 ms falls in (75, 100] */
            assert_int_equal(p->start_time_unix_nano, 7);
            assert_int_equal(
                p->sum_present_case,
                OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT__SUM_PRESENT_SUM);
        }
        if (strcmp(x->name, "rocky.models_in_flight") == 0) {
            seen_updown = 1;
            assert_false(x->sum->is_monotonic);
            assert_int_equal(
                x->sum->aggregation_temporality,
                OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE);
            assert_int_equal(x->sum->data_points[0]->start_time_unix_nano, 5);
        }
    }
    assert_true(seen_hist && seen_updown);
    opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__free_unpacked(
        r, NULL);
    rocky_otel_metrics_free(m);
}

/* Every instrument upstream rocky's dashboard and alerts read, with its
 * name and type: int gauges without attributes, a double error rate, ms
 * histograms; ours under names that do not collide. A delta preference
 * leaves gauges alone. */
static void test_metrics_have_upstreams_names_and_types(void **state)
{
    struct rocky_otel_metrics *m;
    assert_int_equal(rocky_otel_metrics_new(&m), 0);
    struct test_run t;
    test_run_init(&t);
    rocky_otel_metrics_record(m, test_event(&t, ROCKY_EVENT_RUN_START));
    for (int i = 0; i < 3; i++) {
        rocky_otel_metrics_record(m, test_event(&t, ROCKY_EVENT_MODEL_START));
        rocky_otel_metrics_record(m, test_event(&t, ROCKY_EVENT_STATEMENT_END));
        rocky_otel_metrics_record(m, test_event(&t, ROCKY_EVENT_MODEL_END));
    }
    t.model.status = ROCKY_MODEL_FAILED;
    rocky_otel_metrics_record(m, test_event(&t, ROCKY_EVENT_MODEL_END));
    struct rocky_otel_metrics_snap cum, zero, del;
    rocky_otel_metrics_snapshot(m, &cum);
    memset(&zero, 0, sizeof zero);
    rocky_otel_metrics_delta(&cum, &zero, &del);
    struct rocky_otel_metrics_encode_opts o = {
        .delta_sums = 1, .delta_updown = 1, .now_wall_ns = 9};
    uint8_t *buf;
    size_t len;
    assert_int_equal(
        rocky_otel_encode_metrics(&res, &cum, &del, &o, &buf, &len), 0);
    mreq *r =
        opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__unpack(
            NULL, len, buf);
    free(buf);
    assert_non_null(r);
    Opentelemetry__Proto__Metrics__V1__ScopeMetrics *sm =
        r->resource_metrics[0]->scope_metrics[0];
    static const struct {
        const char *name;
        int data_case;
        double value; /* gauges */
    } want[] = {
        {"rocky.tables_processed",
         OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE, 3},
        {"rocky.tables_failed",
         OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE, 1},
        {"rocky.statements_executed",
         OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE, 3},
        {"rocky.retries_attempted",
         OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE, 0},
        {"rocky.retries_succeeded",
         OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE, 0},
        {"rocky.error_rate_pct",
         OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE, 25},
        {"rocky.table_duration_ms",
         OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM, 0},
        {"rocky.query_duration_ms",
         OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM, 0},
        {"rocky.model.executions",
         OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM, 0},
    };
    for (size_t w = 0; w < sizeof want / sizeof want[0]; w++) {
        Opentelemetry__Proto__Metrics__V1__Metric *x = NULL;
        for (size_t i = 0; i < sm->n_metrics; i++)
            if (strcmp(sm->metrics[i]->name, want[w].name) == 0) {
                assert_null(x); /* one metric per name */
                x = sm->metrics[i];
            }
        if (x == NULL)
            fail_msg("%s is not exported", want[w].name);
        assert_int_equal(x->data_case, want[w].data_case);
        if (want[w].data_case ==
            OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE) {
            assert_int_equal(x->gauge->n_data_points, 1);
            Opentelemetry__Proto__Metrics__V1__NumberDataPoint *p =
                x->gauge->data_points[0];
            assert_int_equal(p->n_attributes, 0);
            double v =
                p->value_case ==
                        OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_DOUBLE
                    ? p->as_double
                    : (double)p->as_int;
            if (v != want[w].value)
                fail_msg("%s = %g, want %g", want[w].name, v, want[w].value);
            assert_int_equal(
                p->value_case,
                strcmp(want[w].name, "rocky.error_rate_pct") == 0
                    ? OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_DOUBLE
                    : OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT);
        }
        if (strcmp(want[w].name, "rocky.query_duration_ms") == 0) {
            assert_string_equal(x->unit, "ms");
            assert_int_equal(x->histogram->data_points[0]->count, 3);
        }
    }
    opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__free_unpacked(
        r, NULL);
    rocky_otel_metrics_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            test_model_and_run_spans_encode_with_links_and_attributes),
        cmocka_unit_test(test_value_length_limit_cuts_strings),
        cmocka_unit_test(test_spans_carry_upstreams_names_and_failure_events),
        cmocka_unit_test(test_statement_span_is_a_child_of_its_model),
        cmocka_unit_test(test_strings_of_every_short_length_arrive_whole),
        cmocka_unit_test(test_size_bound_covers_the_encoded_span),
        cmocka_unit_test(test_size_bound_holds_for_worst_case_spans),
        cmocka_unit_test(test_reused_scratch_encodes_like_fresh_buffers),
        cmocka_unit_test(test_framed_request_equals_a_full_protobuf_c_pack),
        cmocka_unit_test(test_metrics_encode_valid_histograms_and_temporality),
        cmocka_unit_test(test_metrics_have_upstreams_names_and_types),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
