/* otlp_capture.c — see otlp_capture.h. */
#include "otlp_capture.h"

#include <arpa/inet.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/time.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest
    trace_req;
typedef Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest
    metrics_req;
typedef Opentelemetry__Proto__Common__V1__KeyValue kv;

struct body {
    int is_trace;
    uint8_t *buf;
    size_t len;
};

struct otlp_capture {
    grpc_server *server;
    grpc_completion_queue *cq;
    pthread_t thread;
    atomic_int quit;
    char endpoint[64];
    pthread_mutex_t mu;
    struct body *bodies; /* under mu */
    size_t n, cap;
};

struct call {
    int stage; /* 0: waiting for a call, 1: reading it, 2: answering */
    grpc_call *call;
    grpc_call_details details;
    grpc_metadata_array md;
    grpc_byte_buffer *msg;
    int cancelled;
};

static void request(struct otlp_capture *c)
{
    struct call *k = calloc(1, sizeof *k);
    if (!k)
        abort();
    grpc_call_details_init(&k->details);
    grpc_metadata_array_init(&k->md);
    grpc_server_request_call(c->server, &k->call, &k->details, &k->md, c->cq,
                             c->cq, k);
}

static void keep(struct otlp_capture *c, struct call *k)
{
    if (!k->msg)
        return;
    grpc_byte_buffer_reader r;
    if (!grpc_byte_buffer_reader_init(&r, k->msg))
        return;
    grpc_slice s = grpc_byte_buffer_reader_readall(&r);
    grpc_byte_buffer_reader_destroy(&r);
    struct body b = {0};
    b.len = GRPC_SLICE_LENGTH(s);
    b.buf = malloc(b.len ? b.len : 1);
    memcpy(b.buf, GRPC_SLICE_START_PTR(s), b.len);
    grpc_slice_unref(s);
    char method[160] = "";
    size_t mlen = GRPC_SLICE_LENGTH(k->details.method);
    if (mlen >= sizeof method)
        mlen = sizeof method - 1;
    memcpy(method, GRPC_SLICE_START_PTR(k->details.method), mlen);
    b.is_trace = strstr(method, "TraceService") != NULL;
    pthread_mutex_lock(&c->mu);
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 16;
        c->bodies = realloc(c->bodies, c->cap * sizeof *c->bodies);
    }
    c->bodies[c->n++] = b;
    pthread_mutex_unlock(&c->mu);
}

static void free_call(struct call *k)
{
    if (k->msg)
        grpc_byte_buffer_destroy(k->msg);
    if (k->call)
        grpc_call_unref(k->call);
    grpc_call_details_destroy(&k->details);
    grpc_metadata_array_destroy(&k->md);
    free(k);
}

static void *serve(void *arg)
{
    struct otlp_capture *c = arg;
    for (int i = 0; i < 4; i++)
        request(c);
    while (!atomic_load(&c->quit)) {
        grpc_event ev = grpc_completion_queue_next(
            c->cq,
            gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                         gpr_time_from_millis(20, GPR_TIMESPAN)),
            NULL);
        if (ev.type != GRPC_OP_COMPLETE)
            continue;
        struct call *k = ev.tag;
        /* A body is kept BEFORE the call is answered: a client that saw
         * OK (an exporter's stop returning) must find it here, as with a
         * real collector that acknowledges what it stored. */
        if (k->stage == 0) {
            if (!ev.success) {
                free_call(k);
                continue;
            }
            request(c);
            k->stage = 1;
            grpc_op op;
            memset(&op, 0, sizeof op);
            op.op = GRPC_OP_RECV_MESSAGE;
            op.data.recv_message.recv_message = &k->msg;
            grpc_call_start_batch(k->call, &op, 1, k, NULL);
        } else if (k->stage == 1) {
            if (!ev.success) {
                free_call(k);
                continue;
            }
            keep(c, k);
            k->stage = 2;
            grpc_op ops[3];
            memset(ops, 0, sizeof ops);
            ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
            ops[1].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
            ops[1].data.send_status_from_server.status = GRPC_STATUS_OK;
            ops[2].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
            ops[2].data.recv_close_on_server.cancelled = &k->cancelled;
            grpc_call_start_batch(k->call, ops, 3, k, NULL);
        } else {
            free_call(k);
        }
    }
    return NULL;
}

int otlp_capture_start(struct otlp_capture **out)
{
    struct otlp_capture *c = calloc(1, sizeof *c);
    if (!c)
        return -1;
    pthread_mutex_init(&c->mu, NULL);
    grpc_init();
    c->server = grpc_server_create(NULL, NULL);
    c->cq = grpc_completion_queue_create_for_next(NULL);
    grpc_server_register_completion_queue(c->server, c->cq, NULL);
    grpc_server_credentials *creds = grpc_insecure_server_credentials_create();
    int port = grpc_server_add_http2_port(c->server, "127.0.0.1:0", creds);
    grpc_server_credentials_release(creds);
    if (port <= 0) {
        fprintf(stderr, "otlp_capture: cannot listen\n");
        return -1;
    }
    snprintf(c->endpoint, sizeof c->endpoint, "http://127.0.0.1:%d", port);
    grpc_server_start(c->server);
    if (pthread_create(&c->thread, NULL, serve, c) != 0)
        return -1;
    *out = c;
    return 0;
}

const char *otlp_capture_endpoint(const struct otlp_capture *c)
{
    return c->endpoint;
}

void otlp_capture_stop(struct otlp_capture *c)
{
    if (!c)
        return;
    atomic_store(&c->quit, 1);
    pthread_join(c->thread, NULL);
    grpc_server_shutdown_and_notify(c->server, c->cq, NULL);
    grpc_server_cancel_all_calls(c->server);
    for (;;) {
        grpc_event ev = grpc_completion_queue_next(
            c->cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
        if (ev.type != GRPC_OP_COMPLETE)
            continue;
        if (ev.tag == NULL)
            break;
        free_call(ev.tag);
    }
    grpc_server_destroy(c->server);
    grpc_completion_queue_shutdown(c->cq);
    while (grpc_completion_queue_next(c->cq,
                                      gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL)
               .type != GRPC_QUEUE_SHUTDOWN) {
    }
    grpc_completion_queue_destroy(c->cq);
    grpc_shutdown();
    for (size_t i = 0; i < c->n; i++)
        free(c->bodies[i].buf);
    free(c->bodies);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

static const char *str_attr(kv **attrs, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(attrs[i]->key, key) == 0 && attrs[i]->value &&
            attrs[i]->value->value_case ==
                OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE)
            return attrs[i]->value->string_value;
    return NULL;
}

/* Count spans matching (name, model) over every trace request. */
static size_t count_spans(struct otlp_capture *c, const char *name,
                          const char *model)
{
    size_t total = 0;
    pthread_mutex_lock(&c->mu);
    for (size_t b = 0; b < c->n; b++) {
        if (!c->bodies[b].is_trace)
            continue;
        trace_req *q =
            opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
                NULL, c->bodies[b].len, c->bodies[b].buf);
        if (!q)
            continue;
        for (size_t r = 0; r < q->n_resource_spans; r++)
            for (size_t s = 0; s < q->resource_spans[r]->n_scope_spans; s++) {
                Opentelemetry__Proto__Trace__V1__ScopeSpans *ss =
                    q->resource_spans[r]->scope_spans[s];
                for (size_t i = 0; i < ss->n_spans; i++) {
                    Opentelemetry__Proto__Trace__V1__Span *sp = ss->spans[i];
                    if (name && strcmp(sp->name, name) != 0)
                        continue;
                    const char *m = str_attr(sp->attributes, sp->n_attributes,
                                             "rocky.model.name");
                    if (model && (!m || strcmp(m, model) != 0))
                        continue;
                    total++;
                }
            }
        opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(
            q, NULL);
    }
    pthread_mutex_unlock(&c->mu);
    return total;
}

size_t otlp_capture_span_count(struct otlp_capture *c)
{
    return count_spans(c, NULL, NULL);
}

size_t otlp_capture_spans_named(struct otlp_capture *c, const char *name,
                                const char *model)
{
    return count_spans(c, name, model);
}

/* The metric named `metric` in the latest metrics request that has it,
 * handed to `fn`; returns fn's result or -1. */
static int64_t with_latest_metric(
    struct otlp_capture *c, const char *metric,
    int64_t (*fn)(const Opentelemetry__Proto__Metrics__V1__Metric *m,
                  const void *arg),
    const void *arg)
{
    int64_t result = -1;
    pthread_mutex_lock(&c->mu);
    for (size_t b = c->n; b-- > 0;) {
        if (c->bodies[b].is_trace)
            continue;
        metrics_req *q =
            opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__unpack(
                NULL, c->bodies[b].len, c->bodies[b].buf);
        if (!q)
            continue;
        const Opentelemetry__Proto__Metrics__V1__Metric *found = NULL;
        for (size_t r = 0; !found && r < q->n_resource_metrics; r++)
            for (size_t s = 0;
                 !found && s < q->resource_metrics[r]->n_scope_metrics; s++) {
                Opentelemetry__Proto__Metrics__V1__ScopeMetrics *sm =
                    q->resource_metrics[r]->scope_metrics[s];
                for (size_t i = 0; !found && i < sm->n_metrics; i++)
                    if (strcmp(sm->metrics[i]->name, metric) == 0)
                        found = sm->metrics[i];
            }
        if (found)
            result = fn(found, arg);
        opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__free_unpacked(
            q, NULL);
        if (found)
            break;
    }
    pthread_mutex_unlock(&c->mu);
    return result;
}

struct point_query {
    const char *key, *value;
    int64_t *out;
};

static int64_t sum_point(const Opentelemetry__Proto__Metrics__V1__Metric *m,
                         const void *arg)
{
    const struct point_query *pq = arg;
    if (m->data_case != OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM)
        return -1;
    for (size_t i = 0; i < m->sum->n_data_points; i++) {
        Opentelemetry__Proto__Metrics__V1__NumberDataPoint *p =
            m->sum->data_points[i];
        const char *v =
            pq->key ? str_attr(p->attributes, p->n_attributes, pq->key) : NULL;
        if (pq->key ? (v && strcmp(v, pq->value) == 0) : p->n_attributes == 0) {
            *pq->out = p->as_int;
            return 0;
        }
    }
    return -1;
}

int otlp_capture_sum(struct otlp_capture *c, const char *metric,
                     const char *attr_key, const char *attr_value, int64_t *out)
{
    struct point_query pq = {attr_key, attr_value, out};
    return with_latest_metric(c, metric, sum_point, &pq) == 0 ? 0 : -1;
}

static int64_t gauge_point(const Opentelemetry__Proto__Metrics__V1__Metric *m,
                           const void *arg)
{
    double *out = (double *)arg;
    if (m->data_case != OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE ||
        m->gauge->n_data_points != 1 ||
        m->gauge->data_points[0]->n_attributes != 0)
        return -1;
    const Opentelemetry__Proto__Metrics__V1__NumberDataPoint *p =
        m->gauge->data_points[0];
    *out =
        p->value_case ==
                OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_DOUBLE
            ? p->as_double
            : (double)p->as_int;
    return 0;
}

int otlp_capture_gauge(struct otlp_capture *c, const char *metric, double *out)
{
    return with_latest_metric(c, metric, gauge_point, out) == 0 ? 0 : -1;
}

static int64_t hist_count(const Opentelemetry__Proto__Metrics__V1__Metric *m,
                          const void *arg)
{
    (void)arg;
    if (m->data_case !=
            OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM ||
        m->histogram->n_data_points == 0)
        return -1;
    return (int64_t)m->histogram->data_points[0]->count;
}

int64_t otlp_capture_histogram_count(struct otlp_capture *c, const char *metric)
{
    return with_latest_metric(c, metric, hist_count, NULL);
}

int otlp_dead_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        if (fd >= 0)
            close(fd);
        return 9; /* discard: nothing listens there either */
    }
    close(fd);
    return ntohs(a.sin_port);
}
