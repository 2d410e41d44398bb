'use strict';
// Fault tests of rocky_otel.so, end to end: real processes (the runner
// `rocky run` / `rocky trace --export[-pending]`, or the test host
// drive_plugin) against the independent receiver with one fault injected.
// Every test asserts what arrived (span names and ids), the exit status and
// a time bound; every wait is bounded and multiplied by
// ROCKY_TEST_TIME_SCALE (scaleMs), nothing sleeps and hopes.
const test = require('node:test');
const assert = require('node:assert/strict');
const { unusedPort, scaleMs } = require('./receiver/harness');
const { attrs, DRIVE, PLUGIN } = require('./common');
const {
  ROCKY, NO_RUNNER, esc, lines, fixture, counting, fastModels, slowModels, runArgs, traceSpans, assertRunArrived,
  liveSpans,
} = require('./runner_fixture');

// The spans: summary warning the exporter prints at shutdown when anything
// was dropped.
const SUMMARY_RE =
  /spans: (\d+) delivered, (\d+) dropped \(queue_full (\d+), export_failed (\d+), rejected (\d+), shutdown (\d+)\)/;

/** The one summary warning of a stderr, parsed (asserts there is exactly one). */
function summaryOf(stderr) {
  const found = lines(stderr, SUMMARY_RE);
  assert.equal(found.length, 1, `exactly one spans summary warning:\n${stderr}`);
  assert.match(found[0], /warning/);
  const m = SUMMARY_RE.exec(found[0]);
  const [delivered, dropped, queueFull, exportFailed, rejected, shutdown] = m.slice(1).map(Number);
  return { line: found[0], delivered, dropped, queueFull, exportFailed, rejected, shutdown };
}

// ---------------------------------------------------------------------------
// 1. Collector down for the whole run, then late delivery.

test('collector down the whole run: exit 0 within run + deadline + 1 s, one summary warning; --export later delivers every span with the stored ids', { skip: NO_RUNNER }, async (t) => {
  const fx = fixture(t);
  const p = fx.project(
    { a: counting(300000), b: counting(300000, ['a']), c: 'SELECT c * 2 AS c FROM a', d: 'SELECT b.c + c.c AS c FROM b, c' },
    2,
  );
  const port = await unusedPort();
  const deadlineMs = 2000;
  const res = await fx.run(ROCKY, runArgs(p), {
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
    ROCKY_OTEL_EXIT_TIMEOUT_MS: String(deadlineMs),
  });
  assert.equal(res.code, 0, res.stderr);
  const tj = await fx.trace(p.state);
  assert.equal(tj.status, 'success');
  const started = tj.models.filter((m) => m.started);
  assert.equal(started.length, 4);
  const bound = scaleMs(tj.run_duration_ms + deadlineMs + 1000);
  assert.ok(res.ms <= bound, `rocky run took ${res.ms} ms (bound ${bound} ms)`);
  const sum = summaryOf(res.stderr);
  assert.equal(sum.delivered, 0, sum.line);
  // live: the run, each model and its statements; the replay below has no
  // statement spans (the store keeps none)
  assert.equal(sum.dropped, liveSpans(started.length), sum.line);

  // Later, with a collector: the stored run, same ids.
  const r = await fx.receiver();
  const collector = { OTEL_EXPORTER_OTLP_ENDPOINT: r.endpoint };
  const ex = await fx.run(ROCKY, ['trace', tj.run_id, '--export', '--state', p.state, '--plugin', PLUGIN], collector, 20000);
  assert.equal(ex.code, 0, ex.stderr);
  assert.match(ex.stdout, new RegExp(`exported run ${esc(tj.run_id)}: ${started.length + 1} spans delivered`));
  assert.ok(ex.ms <= scaleMs(5000), `--export took ${ex.ms} ms`);
  assertRunArrived(r, tj);
  const before = r.spans().length;
  const again = await fx.run(ROCKY, ['trace', '--export-pending', '--state', p.state, '--plugin', PLUGIN], collector, 20000);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /no runs awaiting delivery/);
  assert.equal(r.spans().length, before, 'nothing sent again');
});

// ---------------------------------------------------------------------------
// 2. SIGKILL mid-run, then --export-pending.

test('runner killed with SIGKILL mid-run: --export-pending delivers every finished model and a run span, then nothing is pending', { skip: NO_RUNNER }, async (t) => {
  const fx = fixture(t);
  const p = fx.project(slowModels(), 2);
  const live = await fx.receiver();
  const { proc, seen } = await fx.startMidRun(p, live);
  const killAt = Date.now();
  proc.child.kill('SIGKILL');
  const res = await proc.done;
  assert.equal(res.signal, 'SIGKILL');
  assert.ok(res.exitAt - killAt <= scaleMs(1000), `gone ${res.exitAt - killAt} ms after SIGKILL`);

  const tj = await fx.trace(p.state, seen.run_id);
  assert.equal(tj.run_status, 'crashed'); // TraceOutput 2.0: status is crashed_failure
  const finished = tj.models.filter((m) => m.status === 'success');
  assert.ok(finished.length < p.count, `killed mid-run (${finished.length} of ${p.count} finished)`);
  for (const m of seen.models.filter((x) => x.status === 'success')) {
    assert.ok(finished.some((f) => f.span_id === m.span_id), `${m.model_name}, finished before the kill, is on record`);
  }
  // Every model is on record from its start: those still running when the
  // runner died read as interrupted (no end is known), not as finished.
  for (const m of tj.models.filter((x) => x.started && x.status !== 'success')) {
    assert.equal(m.status, 'interrupted_failure', `${m.model_name} was running when the runner died`);
    assert.match(m.error || '', /runner died/);
  }

  const r = await fx.receiver();
  const collector = { OTEL_EXPORTER_OTLP_ENDPOINT: r.endpoint };
  const ex = await fx.run(ROCKY, ['trace', '--export-pending', '--state', p.state, '--plugin', PLUGIN], collector, 20000);
  assert.equal(ex.code, 0, ex.stderr);
  assert.match(ex.stdout, /1 of 1 pending runs exported/);
  assert.ok(ex.ms <= scaleMs(5000), `--export-pending took ${ex.ms} ms`);
  assertRunArrived(r, tj); // every model that started, finished or cut short
  const again = await fx.run(ROCKY, ['trace', '--export-pending', '--state', p.state, '--plugin', PLUGIN], collector, 20000);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /no runs awaiting delivery/);
});

// ---------------------------------------------------------------------------
// 3. UNAVAILABLE, then OK.

test('UNAVAILABLE to the first 3 trace calls: retried, every span delivered, exit 0, run confirmed', { skip: NO_RUNNER }, async (t) => {
  const fx = fixture(t);
  const p = fx.project(fastModels(), 2);
  const r = await fx.receiver({ unavailableFirst: 3, faultsOn: 'trace' });
  const res = await fx.run(ROCKY, runArgs(p), { OTEL_EXPORTER_OTLP_ENDPOINT: r.endpoint });
  assert.equal(res.code, 0, res.stderr);
  const tj = await fx.trace(p.state);
  assertRunArrived(r, tj);
  const calls = r.calls.filter((c) => c.service === 'trace');
  assert.deepEqual(calls.slice(0, 3).map((c) => c.statusName), ['UNAVAILABLE', 'UNAVAILABLE', 'UNAVAILABLE'], r.describe());
  assert.ok(calls.slice(3).length >= 1 && calls.slice(3).every((c) => c.statusName === 'OK'), r.describe());
  assert.equal(lines(res.stderr, SUMMARY_RE).length, 0, `nothing dropped:\n${res.stderr}`);
  assert.match(res.stderr, new RegExp(`spans: ${liveSpans(p.count)} delivered, none dropped`));
  const bound = scaleMs(tj.run_duration_ms + 3000);
  assert.ok(res.ms <= bound, `took ${res.ms} ms (bound ${bound})`);
  const pend = await fx.run(ROCKY, ['trace', '--export-pending', '--state', p.state, '--plugin', PLUGIN],
    { OTEL_EXPORTER_OTLP_ENDPOINT: r.endpoint }, 20000);
  assert.match(pend.stdout, /no runs awaiting delivery/, 'the runner confirmed delivery');
});

// ---------------------------------------------------------------------------
// 4. RESOURCE_EXHAUSTED with and without RetryInfo.

test('RESOURCE_EXHAUSTED without RetryInfo: not retried, counted as dropped, exit 0, run left pending', { skip: NO_RUNNER }, async (t) => {
  const fx = fixture(t);
  const p = fx.project(fastModels(), 2);
  const r = await fx.receiver({ resourceExhausted: { count: 1 }, faultsOn: 'trace' });
  const res = await fx.run(ROCKY, runArgs(p), { OTEL_EXPORTER_OTLP_ENDPOINT: r.endpoint });
  assert.equal(res.code, 0, res.stderr);
  const n = liveSpans(p.count);
  const calls = r.calls.filter((c) => c.service === 'trace');
  assert.equal(calls.length, 1, `one trace call, not retried: ${r.describe()}`);
  assert.equal(calls[0].statusName, 'RESOURCE_EXHAUSTED');
  assert.equal(calls[0].items, n, 'the whole batch in that call');
  assert.equal(r.spans().length, 0);
  const fail = lines(res.stderr, /exporting \d+ spans to .* failed/);
  assert.equal(fail.length, 1, res.stderr);
  assert.match(fail[0], new RegExp(`exporting ${n} spans to .* failed: RESOURCE_EXHAUSTED.*counting them as dropped`));
  const sum = summaryOf(res.stderr);
  assert.deepEqual([sum.delivered, sum.dropped, sum.exportFailed], [0, n, n], sum.line);
  const tj = await fx.trace(p.state);
  const bound = scaleMs(tj.run_duration_ms + 1500);
  assert.ok(res.ms <= bound, `took ${res.ms} ms (bound ${bound}): no retry wait`);

  // The runner recorded the run as not delivered: a later export sends it.
  const r2 = await fx.receiver();
  const ex = await fx.run(ROCKY, ['trace', '--export-pending', '--state', p.state, '--plugin', PLUGIN],
    { OTEL_EXPORTER_OTLP_ENDPOINT: r2.endpoint }, 20000);
  assert.equal(ex.code, 0, ex.stderr);
  assert.match(ex.stdout, /1 of 1 pending runs exported/);
  assertRunArrived(r2, tj);
});

test('RESOURCE_EXHAUSTED with RetryInfo 200 ms: retried after the delay, every span delivered, exit 0', { skip: NO_RUNNER }, async (t) => {
  const fx = fixture(t);
  const p = fx.project(fastModels(), 2);
  const r = await fx.receiver({ resourceExhausted: { count: 2, retryDelayMs: 200 }, faultsOn: 'trace' });
  const res = await fx.run(ROCKY, runArgs(p), { OTEL_EXPORTER_OTLP_ENDPOINT: r.endpoint });
  assert.equal(res.code, 0, res.stderr);
  const tj = await fx.trace(p.state);
  assertRunArrived(r, tj);
  const calls = r.calls.filter((c) => c.service === 'trace');
  assert.deepEqual(calls.map((c) => c.statusName), ['RESOURCE_EXHAUSTED', 'RESOURCE_EXHAUSTED', 'OK'], r.describe());
  for (let i = 1; i < calls.length; i++) {
    const gap = calls[i].atMs - calls[i - 1].answeredAtMs;
    // Our own first backoff is at most 100 ms: 180+ means RetryInfo was read.
    assert.ok(gap >= 180, `retry ${i} came ${gap} ms after the answer (RetryInfo says 200)`);
  }
  assert.equal(lines(res.stderr, SUMMARY_RE).length, 0, `nothing dropped:\n${res.stderr}`);
  const bound = scaleMs(tj.run_duration_ms + 400 + 2000);
  assert.ok(res.ms <= bound, `took ${res.ms} ms (bound ${bound})`);
});

// A RetryInfo delay is the collector's to choose, any int64 of seconds:
// the arithmetic saturates (no UBSan report under the asan build), and a
// delay past the deadline means "do not retry", never a wrapped-around
// short wait (18446744073709552 s * 1000 wraps to 384 ms in int64).
for (const [what, delay] of [
  ['2^64/1000 s (wraps to 384 ms)', { seconds: '18446744073709552', nanos: 0 }],
  ['INT64_MAX s + 999999999 ns', { seconds: '9223372036854775807', nanos: 999999999 }],
]) {
  test(`RESOURCE_EXHAUSTED with RetryInfo ${what}: no overflow, not retried, counted as dropped, exit 0`, { skip: NO_RUNNER }, async (t) => {
    const fx = fixture(t);
    const p = fx.project(fastModels(), 2);
    const r = await fx.receiver({ resourceExhausted: { count: 1, retryDelay: delay }, faultsOn: 'trace' });
    const res = await fx.run(ROCKY, runArgs(p), { OTEL_EXPORTER_OTLP_ENDPOINT: r.endpoint });
    assert.equal(res.code, 0, res.stderr);
    assert.doesNotMatch(res.stderr, /runtime error|overflow/, 'no UBSan report');
    const n = liveSpans(p.count);
    const calls = r.calls.filter((c) => c.service === 'trace');
    assert.equal(calls.length, 1, `one trace call, not retried after a wrapped delay: ${r.describe()}`);
    assert.equal(calls[0].statusName, 'RESOURCE_EXHAUSTED');
    const sum = summaryOf(res.stderr);
    assert.deepEqual([sum.delivered, sum.dropped, sum.exportFailed], [0, n, n], sum.line);
    const tj = await fx.trace(p.state);
    const bound = scaleMs(tj.run_duration_ms + 1500);
    assert.ok(res.ms <= bound, `took ${res.ms} ms (bound ${bound}): no retry wait`);
  });
}

// ---------------------------------------------------------------------------
// 5. Partial success.

test('partial success (2 rejected, with a message): exactly one warning with the count and the message; counted as rejected', { skip: NO_RUNNER }, async (t) => {
  const fx = fixture(t);
  const models = {};
  for (let i = 0; i < 6; i++) models[`p${i}`] = `SELECT ${i} AS x`;
  const p = fx.project(models, 2);
  const message = 'tenant quota: 2 spans over the limit';
  const r = await fx.receiver({ partialSuccess: { rejectedSpans: 2, message }, faultsOn: 'trace' });
  // Batches of 2 models: several calls, each answered "2 rejected".
  const res = await fx.run(ROCKY, runArgs(p), { OTEL_EXPORTER_OTLP_ENDPOINT: r.endpoint, OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '2' });
  assert.equal(res.code, 0, res.stderr);
  const calls = r.calls.filter((c) => c.service === 'trace');
  assert.ok(calls.length >= 2, `several trace calls: ${r.describe()}`);
  assert.ok(calls.every((c) => c.statusName === 'OK'));
  const n = liveSpans(p.count);
  assert.equal(calls.reduce((a, c) => a + c.items, 0), n);
  const warned = lines(res.stderr, new RegExp(esc(message)));
  assert.equal(warned.length, 1, `one warning with the server's message:\n${res.stderr}`);
  assert.match(warned[0], /warning/);
  assert.match(warned[0], /rejected 2 of \d+ spans/);
  const rejected = calls.reduce((a, c) => a + Math.min(2, c.items), 0);
  const sum = summaryOf(res.stderr);
  assert.deepEqual([sum.delivered, sum.dropped, sum.rejected], [n - rejected, rejected, rejected], sum.line);
  const tj = await fx.trace(p.state);
  const bound = scaleMs(tj.run_duration_ms + 2000);
  assert.ok(res.ms <= bound, `took ${res.ms} ms (bound ${bound}): a partial success is not retried`);
});

// ---------------------------------------------------------------------------
// 6. The collector goes away mid-run and comes back.

test('collector stops mid-run and comes back: spans of models that ended after its return arrive, exit 0', { skip: NO_RUNNER }, async (t) => {
  const fx = fixture(t);
  const models = { c0: counting(1000000) };
  for (let i = 1; i < 10; i++) models[`c${i}`] = counting(1000000, [`c${i - 1}`]);
  const p = fx.project(models, 1); // a chain: one model ends every ~0.2 s
  const r = await fx.receiver();
  const proc = fx.start(ROCKY, runArgs(p), {
    OTEL_EXPORTER_OTLP_ENDPOINT: r.endpoint,
    OTEL_BSP_SCHEDULE_DELAY: '100',
    // Room for a slow reconnect, so the first subtest checks arrival and
    // the second one how soon it happened.
    ROCKY_OTEL_EXIT_TIMEOUT_MS: '15000',
  });
  await r.waitFor((x) => x.spans().some((s) => s.span.name === 'materialize.table'), 15000, 'a first model span');
  await r.stop();
  const stoppedAt = Date.now();
  const finishedNow = (x) => x.models.filter((m) => m.status === 'success').length;
  const atStop = finishedNow(await fx.pollStore(p.state, () => true, 5000, 'the run'));
  await fx.pollStore(p.state, (x) => finishedNow(x) >= atStop + 1, 15000, 'a model ending while the collector is down');
  assert.equal(proc.child.exitCode, null, 'the run is still going when the collector comes back');
  await r.restart();
  const backAt = Date.now();
  const res = await proc.done;
  assert.equal(res.code, 0, res.stderr);
  const tj = await fx.trace(p.state);
  const t0 = Date.parse(tj.started_at);
  const endOf = (m) => t0 + m.start_offset_ms + m.duration_ms;
  const during = tj.models.filter((m) => endOf(m) > stoppedAt && endOf(m) < backAt);
  assert.ok(during.length >= 1, 'models ended while the collector was down');
  const later = tj.models.filter((m) => m.started && endOf(m) > backAt + 20);
  assert.ok(later.length >= 3, `models ended after the collector came back (${later.length})`);

  await t.test('every model that ended after the return arrived, and the run span', () => {
    const got = new Set(traceSpans(r, tj.trace_id).map((s) => s.spanIdHex));
    for (const m of later) assert.ok(got.has(m.span_id), `${m.model_name} (ended after the return) arrived: ${r.describe()}`);
    assert.ok(traceSpans(r, tj.trace_id).some((s) => s.name === 'run'), 'the run span arrived');
  });
  await t.test('the exporter reaches the collector soon after its return (2 s reconnect cap + retry backoff)', () => {
    // grpc_transport.h: "its reconnect backoff is capped at 2 s so a
    // collector that starts late is reached soon".
    const first = r.calls.find((c) => c.service === 'trace' && c.atMs >= backAt && c.statusName === 'OK');
    assert.ok(first, r.describe());
    const bound = scaleMs(3500);
    assert.ok(first.atMs - backAt <= bound,
      `first delivery ${first.atMs - backAt} ms after the collector came back (bound ${bound} ms); ` +
      `the run had ended ${Math.max(0, first.atMs - (t0 + tj.run_duration_ms))} ms before it`);
  });
});

// ---------------------------------------------------------------------------
// 7. SIGTERM / SIGINT to the runner.

for (const [sig, code] of [['SIGTERM', 143], ['SIGINT', 130]]) {
  test(`${sig} to the runner mid-run: exit ${code}, run interrupted, every model that ended is delivered`, { skip: NO_RUNNER }, async (t) => {
    const fx = fixture(t);
    const p = fx.project(slowModels(), 2);
    const r = await fx.receiver();
    const { proc, seen } = await fx.startMidRun(p, r);
    const killAt = Date.now();
    proc.child.kill(sig);
    const res = await proc.done;
    // Recorded and flushed, it dies by the signal: the shell sees `code`.
    assert.equal(res.code, null, `the runner re-raises ${sig}: ${res.stderr}`);
    assert.equal(res.signal, sig, res.stderr);
    const bound = scaleMs(3000);
    assert.ok(res.exitAt - killAt <= bound, `exited ${res.exitAt - killAt} ms after ${sig} (bound ${bound})`);
    const tj = await fx.trace(p.state, seen.run_id);
    assert.equal(tj.run_status, 'interrupted'); // TraceOutput 2.0: status is interrupted_failure
    const ended = tj.models.filter((m) => m.started);
    for (const m of seen.models.filter((x) => x.status === 'success')) {
      assert.ok(ended.some((e) => e.span_id === m.span_id), `${m.model_name} is on record`);
    }
    assert.ok(ended.length < p.count, 'the signal cut the run short');
    const { run } = assertRunArrived(r, tj);
    assert.equal(attrs(run.attributes)['rocky.run.status'], 'interrupted');
    const pend = await fx.run(ROCKY, ['trace', '--export-pending', '--state', p.state, '--plugin', PLUGIN],
      { OTEL_EXPORTER_OTLP_ENDPOINT: r.endpoint }, 20000);
    assert.match(pend.stdout, /no runs awaiting delivery/, 'delivery confirmed');
  });
}

// ---------------------------------------------------------------------------
// 8. Hosts: exit(3) in a worker, the host's own SIGTERM handler, fork().

function driveIds(stdout) {
  const line = stdout.trim().split('\n').filter((l) => l.includes('"run_id"')).pop();
  assert.ok(line, `drive_plugin printed its ids:\n${stdout}`);
  return JSON.parse(line);
}

function assertDriveArrived(r, ids, nModels) {
  const spans = traceSpans(r, ids.trace_id);
  const runs = spans.filter((s) => s.name === 'run');
  assert.equal(runs.length, 1, r.describe());
  assert.equal(runs[0].spanIdHex, ids.run_span_id);
  const models = spans.filter((s) => s.name === 'materialize.table');
  assert.equal(models.length, nModels, r.describe());
  assert.equal(new Set(models.map((s) => s.spanIdHex)).size, nModels, 'distinct span ids: nothing sent twice');
  for (const s of models) assert.equal(s.parentSpanIdHex, ids.run_span_id);
  return { run: runs[0], models };
}

test('exit(3) from a worker thread, no shutdown: the exit guard flushes every span, status 3, within the deadline', async (t) => {
  const fx = fixture(t);
  const r = await fx.receiver();
  // One worker (the one that exits): no finished-but-unjoined threads for
  // ThreadSanitizer to report at exit.
  const res = await fx.run(DRIVE, [PLUGIN, '--models', '12', '--threads', '1', '--skip-every', '0', '--exit-in-worker', '3'],
    { OTEL_EXPORTER_OTLP_ENDPOINT: r.endpoint, ROCKY_OTEL_EXIT_TIMEOUT_MS: '2000' });
  assert.equal(res.signal, null, res.stderr);
  assert.equal(res.code, 3, res.stderr);
  const ids = driveIds(res.stdout);
  assert.equal(ids.exit_in_worker, 3);
  assertDriveArrived(r, ids, 12);
  const bound = scaleMs(2000 + 1000);
  assert.ok(res.ms <= bound, `took ${res.ms} ms (bound ${bound})`);
});

test('exit(3) from a worker thread with the collector down: status 3 within the exit deadline + 1 s', async (t) => {
  const fx = fixture(t);
  const port = await unusedPort();
  const deadlineMs = 1500;
  const res = await fx.run(DRIVE, [PLUGIN, '--models', '8', '--threads', '1', '--exit-in-worker', '3'],
    { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, ROCKY_OTEL_EXIT_TIMEOUT_MS: String(deadlineMs) });
  assert.equal(res.signal, null, res.stderr);
  assert.equal(res.code, 3, res.stderr);
  driveIds(res.stdout);
  const bound = scaleMs(deadlineMs + 1000);
  assert.ok(res.ms <= bound, `took ${res.ms} ms (bound ${bound})`);
});

test('a host SIGTERM handler installed before the plugin still runs; the host ends the run itself and every span arrives', async (t) => {
  const fx = fixture(t);
  const r = await fx.receiver();
  const proc = fx.start(DRIVE, [PLUGIN, '--models', '60', '--threads', '2', '--model-ms', '50', '--fail-every', '0',
    '--skip-every', '0', '--host-sigterm-handler'], { OTEL_EXPORTER_OTLP_ENDPOINT: r.endpoint, OTEL_BSP_SCHEDULE_DELAY: '50' });
  await r.waitFor((x) => x.spans().some((s) => s.span.name === 'materialize.table'), 10000, 'a first model span');
  assert.equal(proc.child.exitCode, null, 'still running at the signal');
  const killAt = Date.now();
  proc.child.kill('SIGTERM');
  const res = await proc.done;
  assert.equal(lines(res.stderr, /drive_plugin: host SIGTERM handler ran/).length, 1, res.stderr);
  assert.equal(res.signal, null, 'the guard did not kill the host: its handler owns SIGTERM');
  assert.equal(res.code, 143, res.stderr);
  assert.ok(!/flushing telemetry/.test(res.stderr), 'the guard did not drain on its own');
  const s = driveIds(res.stdout);
  assert.equal(s.host_signal, 15);
  assert.ok(s.succeeded < 60, `the handler stopped the run (${s.succeeded} of 60)`);
  assert.equal(s.accepted, s.succeeded + 1);
  assert.equal(s.delivered, s.accepted, JSON.stringify(s));
  assert.equal(s.pending, 0);
  const { run } = assertDriveArrived(r, s, s.succeeded);
  assert.equal(attrs(run.attributes)['rocky.run.status'], 'interrupted');
  const bound = scaleMs(2000);
  assert.ok(res.exitAt - killAt <= bound, `exited ${res.exitAt - killAt} ms after SIGTERM (bound ${bound})`);
});

test('SIGTERM to a host without a handler: the guard flushes what ended, then the process dies by SIGTERM', async (t) => {
  const fx = fixture(t);
  const r = await fx.receiver();
  const deadlineMs = 2000;
  const proc = fx.start(DRIVE, [PLUGIN, '--models', '60', '--threads', '2', '--model-ms', '50', '--fail-every', '0',
    '--skip-every', '0'], { OTEL_EXPORTER_OTLP_ENDPOINT: r.endpoint, OTEL_BSP_SCHEDULE_DELAY: '50',
    ROCKY_OTEL_EXIT_TIMEOUT_MS: String(deadlineMs) });
  await r.waitFor((x) => x.spans().some((s) => s.span.name === 'materialize.table'), 10000, 'a first model span');
  const killAt = Date.now();
  proc.child.kill('SIGTERM');
  const res = await proc.done;
  assert.equal(res.signal, 'SIGTERM', `the guard re-raised SIGTERM: code ${res.code}\n${res.stderr}`);
  assert.match(res.stderr, /SIGTERM: flushing telemetry/);
  assert.ok(res.exitAt - killAt <= scaleMs(deadlineMs + 1000), `exited ${res.exitAt - killAt} ms after SIGTERM`);
  // The drain exports metrics last: its spans_exported is what it delivered.
  await r.waitFor((x) => x.metricRequests.length >= 1, 5000, 'the drain\'s metrics');
  const exported = r.metrics().filter(({ metric }) => metric.name === 'rocky.otel.spans_exported')
    .map(({ metric }) => Number(metric.sum.dataPoints[0].asInt));
  const models = r.spans().filter((x) => x.span.name === 'materialize.table');
  assert.ok(models.length >= 1 && models.length < 60, `${models.length} model spans`);
  assert.equal(new Set(models.map((x) => x.span.spanIdHex)).size, models.length, 'no duplicates');
  assert.equal(Math.max(...exported), models.length, 'every span the exporter counted as delivered arrived');
});

for (const childShutdown of [true, false]) {
  const how = childShutdown ? 'shuts its plugins down' : 'exits without shutdown';
  test(`fork() after init, the child ${how}: the child does not hang and sends nothing; the parent's spans arrive once`, async (t) => {
    const fx = fixture(t);
    const r = await fx.receiver();
    const args = [PLUGIN, '--models', '20', '--threads', '4', '--fail-every', '0', '--skip-every', '0', '--fork-after-init'];
    if (!childShutdown) args.push('--fork-child-no-shutdown');
    // A short schedule: the exporter thread is busy sending while we fork.
    const res = await fx.run(DRIVE, args, { OTEL_EXPORTER_OTLP_ENDPOINT: r.endpoint, OTEL_BSP_SCHEDULE_DELAY: '5' });
    assert.equal(res.code, 0, res.stderr);
    const out = res.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const child = out.find((x) => x.child === 1);
    const s = out.find((x) => x.run_id);
    assert.ok(s, res.stdout);
    assert.equal(s.child_exit, 0, `the child exited 0 (not hung: -1000, or killed by a signal: <0) after ${s.child_ms} ms\n${res.stderr}`);
    assert.ok(s.child_ms <= scaleMs(2000), `the child took ${s.child_ms} ms`);
    assert.ok(child, `the child printed its line:\n${res.stdout}`);
    if (childShutdown) {
      assert.equal(child.shutdown_rc, 0);
      assert.equal(child.accepted, 0, 'the child accepted nothing');
    }
    assert.equal(s.delivered, 21, JSON.stringify(s));
    assertDriveArrived(r, s, 20);
    assert.equal(r.spans().length, 21, `nothing else arrived (no copies from the child): ${r.describe()}`);
    assert.ok(!r.spans().some((x) => x.span.spanIdHex === child.child_span_id), 'the child\'s own model was not sent');
    assert.ok(res.ms <= scaleMs(5000), `took ${res.ms} ms`);
  });
}

// ---------------------------------------------------------------------------
// 9. A collector slower than the deadline.

test('every answer delayed past the deadline: the runner exits 0 within run + deadline + 1 s, spans counted as dropped', { skip: NO_RUNNER }, async (t) => {
  const fx = fixture(t);
  const p = fx.project(fastModels(), 2);
  const deadlineMs = 1500;
  const r = await fx.receiver({ delayMs: 8000 });
  const res = await fx.run(ROCKY, runArgs(p), { OTEL_EXPORTER_OTLP_ENDPOINT: r.endpoint, ROCKY_OTEL_EXIT_TIMEOUT_MS: String(deadlineMs) });
  assert.equal(res.code, 0, res.stderr);
  const tj = await fx.trace(p.state);
  const bound = scaleMs(tj.run_duration_ms + deadlineMs + 1000);
  assert.ok(res.ms <= bound, `took ${res.ms} ms (bound ${bound})`);
  const calls = r.calls.filter((c) => c.service === 'trace');
  assert.ok(calls.length >= 1, `the exporter tried: ${r.describe()}`);
  assert.ok(calls.every((c) => c.statusCode === null), 'no answer came in time');
  assert.equal(r.spans().length, 0);
  const sum = summaryOf(res.stderr);
  assert.equal(sum.dropped, liveSpans(p.count), sum.line);
});

test('a collector that never answers: drive_plugin ends within the OTLP timeout + 1 s, nothing delivered', async (t) => {
  const fx = fixture(t);
  const timeoutMs = 1500;
  const r = await fx.receiver({ neverAnswer: true });
  const res = await fx.run(DRIVE, [PLUGIN, '--models', '10'], { OTEL_EXPORTER_OTLP_ENDPOINT: r.endpoint,
    OTEL_EXPORTER_OTLP_TIMEOUT: String(timeoutMs) });
  assert.equal(res.code, 0, res.stderr);
  const s = driveIds(res.stdout);
  assert.equal(s.accepted, 11);
  assert.equal(s.delivered, 0);
  assert.equal(s.dropped + s.pending, 11);
  assert.ok(s.shutdown_ms <= scaleMs(timeoutMs + 1000), `shutdown took ${s.shutdown_ms} ms`);
  assert.ok(res.ms <= scaleMs(timeoutMs + 1000), `took ${res.ms} ms`);
  assert.ok(r.calls.some((c) => c.service === 'trace'), r.describe());
  summaryOf(res.stderr);
});
