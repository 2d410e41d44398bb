#!/usr/bin/env python3
"""Turn the scratch files bench/compare/run wrote into its one JSON object.

argv: SCRATCH GIT_REV QUICK N_CALLGRIND N_HOT N_PROCESS N_EXIT_FLUSH RUNS

Every figure is "lower is better". ratio = theirs / ours (of the medians
when there are samples): above 1 means ours costs less.
"""
import json
import os
import statistics
import sys

scratch, rev, quick, n_cg, n_hot, n_proc, n_flush, runs = sys.argv[1:9]
n_cg, n_hot, n_proc, n_flush = int(n_cg), int(n_hot), int(n_proc), int(n_flush)


def path(name):
    return os.path.join(scratch, name)


def lines(name):
    if not os.path.exists(path(name)):
        return None
    with open(path(name)) as f:
        return [json.loads(l) for l in f if l.strip()]


def number(name):
    if not os.path.exists(path(name)):
        return None
    with open(path(name)) as f:
        text = f.read().strip()
    return int(text) if text else None


def spread(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def side(s):
    hot, proc, flush = lines(s + ".hot"), lines(s + ".process"), lines(s + ".exit_flush")
    queued = lines(s + ".exit_flush_queued")
    if hot is None:
        return None
    runner_ir, process_ir = number(s + ".runner_ir"), number(s + ".process_ir")
    process_ir2, driver_ir = number(s + ".process_ir2"), number(s + ".driver_ir")
    return {
        "runner_instr_per_span": round(runner_ir / n_cg, 1) if runner_ir else None,
        "plugin_instr_per_span":
            round((runner_ir - driver_ir) / n_cg, 1)
            if runner_ir and driver_ir else None,
        "hot_ns_per_span": spread([r["ns_per_span"] for r in hot]),
        "hot_thread_cpu_ns_per_span":
            spread([r.get("thread_cpu_ns_per_span") for r in hot]),
        "process_instr_per_span": round(process_ir / n_cg, 1) if process_ir else None,
        "process_instr_marginal_per_span":
            round((process_ir2 - process_ir) / n_cg, 1)
            if process_ir and process_ir2 else None,
        "process_cpu_ns_per_span": spread([r["cpu_ns_per_span"] for r in proc]),
        "peak_rss_kb": spread([r["vmhwm_kb"] for r in proc]),
        "exit_flush_ms": spread([r["stop_ms"] for r in flush]),
        "exit_flush_all_queued_ms": spread([r["stop_ms"] for r in queued]),
        # Every run, so a short delivery (a dropped span) is visible.
        "runs": {"hot": hot, "process": proc, "exit_flush": flush,
                 "exit_flush_queued": queued},
    }


ours, theirs = side("ours"), side("theirs")

units = {
    "runner_instr_per_span": f"instructions on the runner thread per span (callgrind, N={n_cg}), "
                             "the workload's own included",
    "plugin_instr_per_span": f"of those, the plugin's: on_event x2, without the workload's "
                             f"own functions (fresh ids and times, the calls); ours only, "
                             f"theirs links the SDK into the workload (callgrind, N={n_cg})",
    "hot_ns_per_span": f"wall ns per span in workload_one_span (N={n_hot}); also holds the time "
                       "the runner thread waited for a core while the exporter and the sink "
                       "had both",
    "hot_thread_cpu_ns_per_span": f"CPU ns of the runner thread per span in workload_one_span "
                                  f"(N={n_hot}): its own cost",
    "process_instr_per_span": f"instructions of the whole process per span, init to exit, all threads (callgrind, N={n_cg})",
    "process_instr_marginal_per_span": f"instructions of the whole process per added span: "
                                       f"(Ir at N={2 * n_cg} - Ir at N={n_cg}) / {n_cg}, so "
                                       "start-up is not in it (callgrind)",
    "process_cpu_ns_per_span": f"CPU user+sys ns per span of the whole process, init included (N={n_proc})",
    "peak_rss_kb": f"peak RSS, VmHWM, kB (N={n_proc})",
    "exit_flush_ms": f"ms of the stop/Shutdown that delivers all {n_flush + 1} spans, "
                     "batches of 512 having left while they were produced",
    "exit_flush_all_queued_ms": f"ms of the stop/Shutdown that delivers all {n_flush + 1} spans, "
                                "none sent before it (one batch)",
}


def central(v):
    return v["median"] if isinstance(v, dict) else v


figures = {}
for key, unit in units.items():
    o = ours[key] if ours else None
    t = theirs[key] if theirs else None
    fig = {"unit": unit, "ours": o, "theirs": t}
    co, ct = central(o), central(t)
    if co and ct:
        fig["ratio"] = round(ct / co, 3)
        fig["better"] = "ours" if co < ct else "theirs" if ct < co else "same"
    else:
        fig["ratio"] = None
        fig["better"] = None
    figures[key] = fig

benches = {}
for name in ("bench_runner_overhead", "bench_trace", "guard_exit_delay",
             "bench_otel_hot_path", "bench_otel_exit_flush"):
    try:
        with open(path("bench." + name)) as f:
            benches[name] = json.loads(f.read())
    except (OSError, ValueError) as e:
        benches[name] = {"error": str(e)}

# Issue 14's own targets for our side, checked here rather than by eye.
def fig_ours(key):
    return central(figures[key]["ours"]) if key in figures else None


def bench_value(name, *keys):
    v = benches.get(name)
    for k in keys:
        v = v.get(k) if isinstance(v, dict) else None
    return v


targets = {}
for key, limit, value in (
        ("plugin_instr_per_span (on_event x2) <= 400", 400,
         fig_ours("plugin_instr_per_span")),
        ("hot_thread_cpu_ns_per_span <= 60", 60,
         fig_ours("hot_thread_cpu_ns_per_span")),
        ("process_instr_marginal_per_span <= 2000", 2000,
         fig_ours("process_instr_marginal_per_span")),
        ("exit_flush_all_queued_ms <= 15", 15, fig_ours("exit_flush_all_queued_ms")),
        ("runner_overhead_us_per_model < 50 (aim 20)", 50,
         bench_value("bench_runner_overhead", "overhead_us_per_model")),
        ("trace_100k_json_median_ms < 400", 400,
         bench_value("bench_trace", "json", "median_ms"))):
    targets[key] = {"ours": value,
                    "met": None if value is None else value <= limit}

print(json.dumps({
    "bench": "compare",
    "git": rev,
    "quick": quick == "1",
    "samples_per_figure": int(runs),
    "n": {"callgrind": n_cg, "hot": n_hot, "process": n_proc, "exit_flush": n_flush},
    "ratio_is": "theirs / ours, of the medians; every figure is lower-is-better, "
                "so ratio > 1 means ours costs less",
    "figures": figures,
    "targets": targets,
    "runs": {"ours": ours and ours.pop("runs"), "theirs": theirs and theirs.pop("runs")},
    "existing_benches": benches,
}, indent=1))
