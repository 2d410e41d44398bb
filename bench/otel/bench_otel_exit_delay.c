/*
 * bench_otel_exit_delay — how much later `rocky run` ends because of the
 * exporter when the collector is not there, at the default settings
 * (OTEL_EXPORTER_OTLP_TIMEOUT 10 s, ROCKY_OTEL_EXIT_TIMEOUT_MS unset).
 *
 *   bench_otel_exit_delay [SAMPLES]      (default 3)
 *
 * Runs the real runner on examples/jaffle with rocky_otel.so, SAMPLES times
 * in each of: plugin inert (no endpoint: the baseline), collector down (a
 * port nothing listens on), collector hung (otel_sink --never-answer: takes
 * calls, never answers), collector up (otel_sink). The delay of a mode is
 * its median wall time minus the baseline's. Prints one JSON object; never
 * fails because the machine is slow.
 */
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_common.h"

#define MAX_SAMPLES 15

/* A loopback port nothing listens on right now. */
static int unused_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        return 1;
    int port = ntohs(a.sin_port);
    close(fd);
    return port;
}

/* One `rocky run`; returns its wall time in ms (-1 on failure). */
static double run_once(const char *endpoint, const char *dir)
{
    char state[512];
    snprintf(state, sizeof state, "%s/state.db", dir);
    int64_t t0 = bench_now_ns();
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        unsetenv("OTEL_EXPORTER_OTLP_TIMEOUT");
        unsetenv("ROCKY_OTEL_EXIT_TIMEOUT_MS");
        if (endpoint)
            setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint, 1);
        else
            unsetenv("OTEL_EXPORTER_OTLP_ENDPOINT");
        setenv("ROCKY_LOG", "error", 1);
        execl(ROCKY_BIN_PATH, "rocky", "run", ROCKY_EXAMPLE_PROJECT, "--plugin",
              ROCKY_OTEL_PLUGIN_PATH, "--state", state, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return -1;
    return (double)(bench_now_ns() - t0) / 1e6;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median_run(const char *endpoint, int samples, const char *dir)
{
    double v[MAX_SAMPLES];
    for (int i = 0; i < samples; i++) {
        v[i] = run_once(endpoint, dir);
        if (v[i] < 0)
            return -1;
    }
    qsort(v, (size_t)samples, sizeof *v, cmp);
    return v[samples / 2];
}

int main(int argc, char **argv)
{
    int samples = argc > 1 ? atoi(argv[1]) : 3;
    if (samples < 1 || samples > MAX_SAMPLES) {
        fprintf(stderr, "usage: bench_otel_exit_delay [SAMPLES 1..%d]\n",
                MAX_SAMPLES);
        return 2;
    }
    char dir[] = "/tmp/rocky-bench-exit-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    char endpoint[64];
    double inert = median_run(NULL, samples, dir);

    snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%d", unused_port());
    double down = median_run(endpoint, samples, dir);

    struct bench_sink hung, up;
    double hung_ms = -1, up_ms = -1;
    if (bench_sink_start_hung(&hung) == 0) {
        snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%d", hung.port);
        hung_ms = median_run(endpoint, samples, dir);
        bench_sink_stop(&hung);
    }
    if (bench_sink_start(&up) == 0) {
        snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%d", up.port);
        up_ms = median_run(endpoint, samples, dir);
        bench_sink_stop(&up);
    }
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench: could not remove %s\n", dir);
    printf("{\"bench\":\"otel_exit_delay\",\"project\":\"examples/jaffle\","
           "\"samples\":%d,\"settings\":\"defaults (OTLP timeout 10000 ms)\","
           "\"run_inert_ms\":%.1f,\"run_collector_up_ms\":%.1f,"
           "\"run_collector_down_ms\":%.1f,\"run_collector_hung_ms\":%.1f,"
           "\"exit_delay_up_ms\":%.1f,\"exit_delay_down_ms\":%.1f,"
           "\"exit_delay_hung_ms\":%.1f}\n",
           samples, inert, up_ms, down, hung_ms, up_ms - inert, down - inert,
           hung_ms - inert);
    return inert < 0 || down < 0 || hung_ms < 0 || up_ms < 0;
}
