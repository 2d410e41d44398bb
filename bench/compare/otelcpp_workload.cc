/*
 * otelcpp_workload.cc — the other side of bench/compare: the workload of
 * rocky_workload.c (one `run` span, N `materialize.table` children with the
 * six rocky.* attributes and explicit start/end times) through
 * opentelemetry-cpp 1.19: TracerProvider + BatchSpanProcessor (queue N+16,
 * batch 512, default schedule delay) + OtlpGrpcExporter, insecure, to
 * OTEL_EXPORTER_OTLP_ENDPOINT (an otel_sink started by bench/compare/run).
 *
 *   otelcpp_workload hot|process|exit_flush|exit_flush_queued N
 *                                            (same modes as ours)
 *
 * Built by bench/compare/run with g++ against an opentelemetry-cpp install
 * prefix outside the repo, never by our CMake. C++17.
 */
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <thread>

#include "bench_measure.h" /* bench/otel: the same clocks as ours */
#include "opentelemetry/exporters/otlp/otlp_grpc_exporter_factory.h"
#include "opentelemetry/exporters/otlp/otlp_grpc_exporter_options.h"
#include "opentelemetry/sdk/resource/resource.h"
#include "opentelemetry/sdk/trace/batch_span_processor_factory.h"
#include "opentelemetry/sdk/trace/batch_span_processor_options.h"
#include "opentelemetry/sdk/trace/exporter.h"
#include "opentelemetry/sdk/trace/tracer_provider.h"
#include "opentelemetry/sdk/trace/tracer_provider_factory.h"
#include "opentelemetry/trace/provider.h"

namespace common = opentelemetry::common;
namespace nostd = opentelemetry::nostd;
namespace otlp = opentelemetry::exporter::otlp;
namespace sdktrace = opentelemetry::sdk::trace;
namespace trace_api = opentelemetry::trace;

namespace
{

/* The SDK has no "delivered" counter: this exporter forwards to the OTLP
 * one and counts the spans of every batch it reports as exported, the
 * figure our plugin's delivery report gives. One virtual call per batch. */
class CountingExporter final : public sdktrace::SpanExporter
{
  public:
    explicit CountingExporter(std::unique_ptr<sdktrace::SpanExporter> inner)
        : inner_(std::move(inner))
    {
    }
    std::unique_ptr<sdktrace::Recordable> MakeRecordable() noexcept override
    {
        return inner_->MakeRecordable();
    }
    opentelemetry::sdk::common::ExportResult
    Export(const nostd::span<std::unique_ptr<sdktrace::Recordable>>
               &spans) noexcept override
    {
        size_t n = spans.size();
        auto r = inner_->Export(spans);
        if (r == opentelemetry::sdk::common::ExportResult::kSuccess)
            delivered.fetch_add(n, std::memory_order_relaxed);
        return r;
    }
    bool ForceFlush(std::chrono::microseconds timeout) noexcept override
    {
        return inner_->ForceFlush(timeout);
    }
    bool Shutdown(std::chrono::microseconds timeout) noexcept override
    {
        return inner_->Shutdown(timeout);
    }
    static std::atomic<uint64_t> delivered;

  private:
    std::unique_ptr<sdktrace::SpanExporter> inner_;
};
std::atomic<uint64_t> CountingExporter::delivered{0};

std::unique_ptr<sdktrace::TracerProvider> provider;
nostd::shared_ptr<trace_api::Tracer> tracer;
nostd::shared_ptr<trace_api::Span> run_span;
trace_api::SpanContext run_ctx = trace_api::SpanContext::GetInvalid();

const int64_t kRunStartWallNs = 1700000000000000000LL;
const char kSqlHash[] =
    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

/* queued: keep every span in the queue until Shutdown. The processor wakes
 * its worker when the queue holds a batch or is half full, so both are
 * made larger than N+1, and the schedule delay longer than the run. Its
 * worker also exports at once if it finds the queue non-empty when it
 * first goes to wait, hence a pause before the first span. */
void start(uint64_t n, bool queued)
{
    if (!getenv("OTEL_EXPORTER_OTLP_ENDPOINT")) {
        fprintf(stderr, "otelcpp_workload: set OTEL_EXPORTER_OTLP_ENDPOINT "
                        "(bench/compare/run does)\n");
        exit(2);
    }
    otlp::OtlpGrpcExporterOptions eopts; // endpoint read from the environment
    eopts.use_ssl_credentials = false;
    auto exporter = std::unique_ptr<sdktrace::SpanExporter>(
        new CountingExporter(otlp::OtlpGrpcExporterFactory::Create(eopts)));
    sdktrace::BatchSpanProcessorOptions bopts;
    bopts.max_queue_size = (n + 16) * (queued ? 2 : 1);
    bopts.max_export_batch_size = queued ? bopts.max_queue_size : 512;
    if (queued)
        bopts.schedule_delay_millis = std::chrono::milliseconds(600000);
    auto processor =
        sdktrace::BatchSpanProcessorFactory::Create(std::move(exporter), bopts);
    auto resource = opentelemetry::sdk::resource::Resource::Create(
        {{"service.name", "rocky"}});
    provider =
        sdktrace::TracerProviderFactory::Create(std::move(processor), resource);
    tracer = provider->GetTracer("rocky", "0.1.0");
    trace_api::StartSpanOptions opts;
    opts.start_system_time =
        common::SystemTimestamp(std::chrono::nanoseconds(kRunStartWallNs));
    opts.start_steady_time =
        common::SteadyTimestamp(std::chrono::nanoseconds(1));
    run_span = tracer->StartSpan("run", {{"rocky.run.id", "bench-run"}}, opts);
    run_ctx = run_span->GetContext();
    if (queued)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
}

void end_run(uint64_t n)
{
    trace_api::EndSpanOptions eo;
    eo.end_steady_time = common::SteadyTimestamp(
        std::chrono::nanoseconds((int64_t)n * 1000 + 1001));
    run_span->End(eo);
    run_span = nullptr;
}

/* Shut the provider down: drains the processor's queue through the
 * exporter, then shuts the exporter down. */
void stop()
{
    provider->Shutdown();
    tracer = nullptr;
    provider = nullptr;
}

} // namespace

/* What a runner instrumented with opentelemetry-cpp does per model: start
 * the span with what is known up front, add what the end tells, end it.
 * extern "C" and never inlined, so callgrind's
 * --toggle-collect=workload_one_span names the same function on both
 * sides. */
extern "C" __attribute__((noinline)) void workload_one_span(uint64_t i)
{
    int64_t started_wall = kRunStartWallNs + (int64_t)i * 1000;
    int64_t started_mono = (int64_t)i * 1000 + 1;
    trace_api::StartSpanOptions opts;
    opts.start_system_time =
        common::SystemTimestamp(std::chrono::nanoseconds(started_wall));
    opts.start_steady_time =
        common::SteadyTimestamp(std::chrono::nanoseconds(started_mono));
    opts.parent = run_ctx;
    auto span =
        tracer->StartSpan("materialize.table",
                          {{"rocky.model.name", "analytics.daily_orders"},
                           {"rocky.model.sql_hash", kSqlHash},
                           {"rocky.run.id", "bench-run"}},
                          opts);
    span->SetAttribute("rocky.model.status", "success");
    span->SetAttribute("rocky.model.rows_affected", (int64_t)1234);
    span->SetAttribute("rocky.model.bytes_written", (int64_t)56789);
    trace_api::EndSpanOptions eo;
    eo.end_steady_time =
        common::SteadyTimestamp(std::chrono::nanoseconds(started_mono + 500));
    span->End(eo);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: otelcpp_workload "
                        "hot|process|exit_flush|exit_flush_queued N\n");
        return 2;
    }
    const char *mode = argv[1];
    uint64_t n = strtoull(argv[2], nullptr, 10);
    if (n == 0) {
        fprintf(stderr, "otelcpp_workload: N must be > 0\n");
        return 2;
    }
    auto &delivered = CountingExporter::delivered;
    if (strcmp(mode, "hot") == 0) {
        start(n, false);
        int64_t c0 = bench_thread_cpu_ns(), t0 = bench_now_ns();
        for (uint64_t i = 0; i < n; i++)
            workload_one_span(i);
        int64_t t1 = bench_now_ns(), c1 = bench_thread_cpu_ns();
        end_run(n);
        stop();
        printf("{\"side\":\"theirs\",\"mode\":\"hot\",\"n\":%llu,\"ns_per_"
               "span\":%.1f,\"thread_cpu_ns_per_span\":%.1f,"
               "\"delivered\":%llu}\n",
               (unsigned long long)n, (double)(t1 - t0) / (double)n,
               (double)(c1 - c0) / (double)n,
               (unsigned long long)delivered.load());
    } else if (strcmp(mode, "process") == 0) {
        start(n, false);
        for (uint64_t i = 0; i < n; i++)
            workload_one_span(i);
        end_run(n);
        stop();
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        double cpu_ns =
            ((double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec) * 1e9 +
            ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) * 1e3;
        printf("{\"side\":\"theirs\",\"mode\":\"process\",\"n\":%llu,\"cpu_"
               "ms\":%.1f,"
               "\"cpu_ns_per_span\":%.1f,\"maxrss_kb\":%ld,\"vmhwm_kb\":%ld,"
               "\"delivered\":%llu}\n",
               (unsigned long long)n, cpu_ns / 1e6, cpu_ns / (double)n,
               ru.ru_maxrss, bench_rss_kb("VmHWM"),
               (unsigned long long)delivered.load());
    } else if (strcmp(mode, "exit_flush") == 0 ||
               strcmp(mode, "exit_flush_queued") == 0) {
        start(n, strcmp(mode, "exit_flush_queued") == 0);
        for (uint64_t i = 0; i < n; i++)
            workload_one_span(i);
        end_run(n);
        /* The processor exports whenever its queue holds a batch, so some
         * spans may already be gone: say how many. */
        uint64_t before = delivered.load();
        int64_t t0 = bench_now_ns();
        stop();
        double ms = (double)(bench_now_ns() - t0) / 1e6;
        printf("{\"side\":\"theirs\",\"mode\":\"%s\",\"n\":%llu,\"spans\":%llu,"
               "\"stop_ms\":%.2f,\"delivered\":%llu,\"delivered_before_stop\":%"
               "llu}\n",
               mode, (unsigned long long)n, (unsigned long long)n + 1, ms,
               (unsigned long long)delivered.load(),
               (unsigned long long)before);
    } else {
        fprintf(stderr, "otelcpp_workload: unknown mode %s\n", mode);
        return 2;
    }
    return 0;
}
