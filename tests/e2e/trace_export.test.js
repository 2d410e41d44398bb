'use strict';
// `rocky trace --export-pending` of runs larger than the exporter's queue:
// the replay is paced by the plugin ABI's backpressure (an exporter whose
// queue is full answers ROCKY_EAGAIN, the replay flushes it and offers the
// span again), so every span arrives (a replay that emitted everything at
// once would overflow the bounded queue and drop most of them), with the
// stored ids and times.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { startReceiver, unusedPort } = require('./receiver/harness');
const { runProcess, PLUGIN } = require('./common');

const ROCKY = process.env.ROCKY_BIN;
const MODELS = 600; // the queue below holds 200

async function rocky(args, env) {
  const res = await runProcess(ROCKY, args, env, 60000);
  return { status: res.code, stdout: res.stdout, stderr: res.stderr };
}

// A project of MODELS trivial models: one root, the rest in fan-out from it.
function makeProject(dir) {
  fs.mkdirSync(path.join(dir, 'models'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'models', 'root.sql'), 'SELECT 1 AS x\n');
  for (let i = 1; i < MODELS; i++) {
    fs.writeFileSync(path.join(dir, 'models', `m${String(i).padStart(4, '0')}.sql`), 'SELECT x FROM root\n');
  }
  fs.writeFileSync(path.join(dir, 'rocky.json'), JSON.stringify({ name: 'many', threads: 2 }));
}

test('export-pending delivers a run larger than the queue, every span with its stored ids', { skip: !ROCKY && 'no runner' }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rocky-export-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  makeProject(path.join(dir, 'p'));
  const state = path.join(dir, 'state.db');

  // 1. The collector is down: the run succeeds, its delivery stays unconfirmed.
  const down = `http://127.0.0.1:${await unusedPort()}`;
  const run = await rocky(['run', path.join(dir, 'p'), '--plugin', PLUGIN, '--state', state],
    { OTEL_EXPORTER_OTLP_ENDPOINT: down, ROCKY_OTEL_EXIT_TIMEOUT_MS: '300', ROCKY_LOG: 'warn' });
  assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
  assert.match(run.stderr, /did not confirm delivery/);

  const shown = await rocky(['trace', 'latest', '--json', '--state', state], {});
  assert.equal(shown.status, 0, shown.stderr);
  const doc = JSON.parse(shown.stdout);
  assert.equal(doc.models.length, MODELS);
  const wantIds = new Set(doc.models.map((m) => m.span_id));

  // 2. The collector is back, with a queue a third of the run.
  const rx = await startReceiver();
  t.after(() => rx.stop());
  const exp = await rocky(['trace', '--export-pending', '--state', state, '--plugin', PLUGIN],
    { OTEL_EXPORTER_OTLP_ENDPOINT: rx.endpoint, OTEL_BSP_MAX_QUEUE_SIZE: '200', ROCKY_LOG: 'warn' });
  assert.equal(exp.status, 0, `${exp.stdout}\n${exp.stderr}`);
  assert.match(exp.stdout, new RegExp(`exported run ${doc.run_id}: ${MODELS + 1} spans delivered`));
  assert.match(exp.stdout, /1 of 1 pending runs exported/);
  assert.doesNotMatch(exp.stderr, /dropped [1-9]/);

  const spans = rx.spans().map((s) => s.span);
  const runs = spans.filter((s) => s.name === 'run');
  const models = spans.filter((s) => s.name === 'materialize.table');
  assert.equal(runs.length, 1);
  assert.equal(models.length, MODELS);
  assert.equal(runs[0].traceIdHex, doc.trace_id);
  for (const m of models) {
    assert.ok(wantIds.delete(m.spanIdHex), `span ${m.spanIdHex} is one of the run's, once`);
    assert.equal(m.parentSpanIdHex, runs[0].spanIdHex);
    assert.equal(m.traceIdHex, doc.trace_id);
  }
  assert.equal(wantIds.size, 0);
  // Original times: the run span starts when the run started, not now.
  const startedNs = BigInt(Date.parse(doc.started_at)) * 1000000n;
  const runStart = BigInt(runs[0].startTimeUnixNano);
  assert.ok(runStart >= startedNs - 1000000n && runStart <= startedNs + 1000000n,
    `run span starts at ${runStart}, the run at ${startedNs}`);

  // 3. Confirmed: nothing is pending any more.
  const again = await rocky(['trace', '--export-pending', '--state', state, '--plugin', PLUGIN],
    { OTEL_EXPORTER_OTLP_ENDPOINT: rx.endpoint });
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /no runs awaiting delivery/);
});

test('a 5,000-model replay through a 64-span queue: paced by EAGAIN, nothing dropped', { skip: !process.env.TRACE_MAKE_STORE && 'no trace_make_store' }, async (t) => {
  const N = 5000;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rocky-export-wide-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const state = path.join(dir, 'state.db');
  const made = await runProcess(process.env.TRACE_MAKE_STORE, [state, 'wide', String(N)], {}, 120000);
  assert.equal(made.code, 0, made.stderr);

  const rx = await startReceiver();
  t.after(() => rx.stop());
  const exp = await rocky(['trace', '--export-pending', '--state', state, '--plugin', PLUGIN],
    { OTEL_EXPORTER_OTLP_ENDPOINT: rx.endpoint, OTEL_BSP_MAX_QUEUE_SIZE: '64',
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '64', ROCKY_LOG: 'warn' });
  assert.equal(exp.status, 0, `${exp.stdout}\n${exp.stderr}`);
  assert.match(exp.stdout, new RegExp(`: ${N + 1} spans delivered`));
  assert.doesNotMatch(exp.stderr, /dropped|queue is full/);
  const spans = rx.spans().map((s) => s.span);
  const models = spans.filter((s) => s.name === 'materialize.table');
  assert.equal(models.length, N);
  assert.equal(new Set(models.map((m) => m.spanIdHex)).size, N, 'each span once');
  assert.equal(spans.length, N + 1);
});
