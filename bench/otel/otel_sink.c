/*
 * otel_sink.c — the benchmark's OTLP "collector": a gRPC C core server on
 * 127.0.0.1 that answers every unary call OK with an empty response
 * message, without decoding the request. The message must be sent, even
 * empty: a gRPC C++ client (opentelemetry-cpp's exporter) fails a unary
 * call answered by status alone ("No message returned for unary request").
 * Prints "listening <port>" once bound; ends on SIGTERM/SIGINT.
 *
 *   otel_sink [--never-answer] [PORT]      (0 or none: an ephemeral port)
 *
 * --never-answer takes every call and never answers it (a hung collector):
 * the call ends only when the client gives up.
 */
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/time.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct call {
    int stage; /* 0: waiting for a call, 1: answering */
    grpc_call *call;
    grpc_call_details details;
    grpc_metadata_array md;
    grpc_byte_buffer *msg;
    grpc_byte_buffer *reply; /* owned until the answering batch completes */
    int cancelled;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static void request(grpc_server *server, grpc_completion_queue *cq)
{
    struct call *c = calloc(1, sizeof *c);
    if (!c)
        abort();
    grpc_call_details_init(&c->details);
    grpc_metadata_array_init(&c->md);
    grpc_server_request_call(server, &c->call, &c->details, &c->md, cq, cq, c);
}

int main(int argc, char **argv)
{
    int never_answer = argc > 1 && strcmp(argv[1], "--never-answer") == 0;
    const char *port_arg =
        argc > 1 + never_answer ? argv[1 + never_answer] : "0";
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%s", port_arg);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    grpc_init();
    grpc_server *server = grpc_server_create(NULL, NULL);
    grpc_completion_queue *cq = grpc_completion_queue_create_for_next(NULL);
    grpc_server_register_completion_queue(server, cq, NULL);
    grpc_server_credentials *creds = grpc_insecure_server_credentials_create();
    int port = grpc_server_add_http2_port(server, addr, creds);
    grpc_server_credentials_release(creds);
    if (port <= 0) {
        fprintf(stderr, "otel_sink: cannot listen on %s\n", addr);
        return 1;
    }
    grpc_server_start(server);
    printf("listening %d\n", port);
    fflush(stdout);
    /* A few outstanding requests so concurrent calls are served too. */
    for (int i = 0; i < 4; i++)
        request(server, cq);
    while (!stop) {
        grpc_event ev = grpc_completion_queue_next(
            cq,
            gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                         gpr_time_from_millis(100, GPR_TIMESPAN)),
            NULL);
        if (ev.type != GRPC_OP_COMPLETE)
            continue;
        struct call *c = ev.tag;
        if (c->stage == 0) {
            if (!ev.success) {
                free(c);
                continue;
            }
            request(server, cq);
            c->stage = 1;
            grpc_op ops[5];
            memset(ops, 0, sizeof ops);
            ops[0].op = GRPC_OP_RECV_MESSAGE;
            ops[0].data.recv_message.recv_message = &c->msg;
            ops[1].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
            ops[1].data.recv_close_on_server.cancelled = &c->cancelled;
            if (never_answer) {
                /* Read the request, wait for the client to give up. */
                grpc_call_start_batch(c->call, ops, 2, c, NULL);
            } else {
                /* Zero bytes decode as an Export*ServiceResponse with no
                 * partial_success: "all accepted". */
                c->reply = grpc_raw_byte_buffer_create(NULL, 0);
                ops[2].op = GRPC_OP_SEND_INITIAL_METADATA;
                ops[3].op = GRPC_OP_SEND_MESSAGE;
                ops[3].data.send_message.send_message = c->reply;
                ops[4].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
                ops[4].data.send_status_from_server.status = GRPC_STATUS_OK;
                grpc_call_start_batch(c->call, ops, 5, c, NULL);
            }
        } else {
            if (c->msg)
                grpc_byte_buffer_destroy(c->msg);
            if (c->reply)
                grpc_byte_buffer_destroy(c->reply);
            grpc_call_details_destroy(&c->details);
            grpc_metadata_array_destroy(&c->md);
            grpc_call_unref(c->call);
            free(c);
        }
    }
    grpc_server_shutdown_and_notify(server, cq, NULL);
    grpc_server_cancel_all_calls(server);
    for (;;) {
        grpc_event ev = grpc_completion_queue_next(
            cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
        if (ev.type == GRPC_OP_COMPLETE && ev.tag == NULL)
            break;
        if (ev.type == GRPC_OP_COMPLETE) {
            struct call *c = ev.tag;
            if (c->stage == 1 && c->msg)
                grpc_byte_buffer_destroy(c->msg);
            if (c->reply)
                grpc_byte_buffer_destroy(c->reply);
            if (c->call)
                grpc_call_unref(c->call);
            grpc_call_details_destroy(&c->details);
            grpc_metadata_array_destroy(&c->md);
            free(c);
        }
    }
    grpc_server_destroy(server);
    grpc_completion_queue_shutdown(cq);
    while (grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_MONOTONIC),
                                      NULL)
               .type != GRPC_QUEUE_SHUTDOWN) {
    }
    grpc_completion_queue_destroy(cq);
    grpc_shutdown();
    return 0;
}
