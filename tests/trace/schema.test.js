// schema.test.js — real rocky-trace --json output validated against the
// committed JSON Schema by an independent validator (ajv, draft 2020-12).
// Env (set by ctest): ROCKY_TRACE_BIN, TRACE_MAKE_STORE, TRACE_SCHEMA.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync, spawnSync } = require('node:child_process');
const Ajv2020 = require('ajv/dist/2020');
const addFormats = require('ajv-formats');

const bin = process.env.ROCKY_TRACE_BIN;
const makeStore = process.env.TRACE_MAKE_STORE;
const schema = JSON.parse(fs.readFileSync(process.env.TRACE_SCHEMA, 'utf8'));
const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats(ajv);
const validate = ajv.compile(schema);

function withStore(scenario, fn) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rocky-trace-schema-'));
  try {
    const store = path.join(dir, 'state.db');
    execFileSync(makeStore, [store, scenario]);
    return fn(store);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function traceJson(store, ...args) {
  const r = spawnSync(bin, [...args, '--state', store, '--json'], {
    encoding: 'utf8', timeout: 20000,
  });
  assert.strictEqual(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

function assertValid(doc) {
  const ok = validate(doc);
  assert.ok(ok, JSON.stringify(validate.errors, null, 2));
}

test('latest run output validates', () => withStore('sample', (store) => {
  const doc = traceJson(store, 'latest');
  assertValid(doc);
  assert.strictEqual(doc.models.length, 9);
  assert.strictEqual(doc.lane_count, 3);
  assert.deepStrictEqual(doc.critical_path,
    ['raw_customers', 'stg_customers', 'fct_orders', 'rpt_revenue']);
  // The never-started model is last and flagged.
  const last = doc.models[doc.models.length - 1];
  assert.strictEqual(last.started, false);
  assert.strictEqual(last.status, 'skipped');
}));

test('older run, model filter and crashed run validate', () => withStore('running', (store) => {
  assertValid(traceJson(store, '20251125T055000.000Z-0ld0'));
  const one = traceJson(store, '20251125T060000.000Z-5a3f', '--model', 'fct_orders');
  assertValid(one);
  assert.strictEqual(one.models.length, 1);
  const crashed = traceJson(store, 'latest');
  assertValid(crashed);
  // Schema 2.0: flagged as a failure, our word kept in run_status, and a
  // finished_at string (1.x wrote null): the last time on record, here the
  // end of its one model.
  assert.strictEqual(crashed.status, 'crashed_failure');
  assert.strictEqual(crashed.run_status, 'crashed');
  assert.strictEqual(typeof crashed.finished_at, 'string');
  const m = crashed.models[crashed.models.length - 1];
  assert.strictEqual(Date.parse(crashed.finished_at) - Date.parse(crashed.started_at),
    m.start_offset_ms + m.duration_ms);
  assert.strictEqual(crashed.run_duration_ms, m.start_offset_ms + m.duration_ms);
}));

test('the validator rejects output missing an upstream field', () => withStore('sample', (store) => {
  const doc = traceJson(store, 'latest');
  delete doc.models[0].lane;
  assert.strictEqual(validate(doc), false);
  const doc2 = traceJson(store, 'latest');
  doc2.models[0].start_offset_ms = -5;
  assert.strictEqual(validate(doc2), false);
}));

// `rocky-trace --list --json` (= `rocky runs --json`) against its own schema.
const runsSchema = JSON.parse(fs.readFileSync(process.env.RUNS_SCHEMA, 'utf8'));
const validateRuns = ajv.compile(runsSchema);

function runsJson(store, ...args) {
  const r = spawnSync(bin, ['--list', ...args, '--state', store, '--json'], {
    encoding: 'utf8', timeout: 20000,
  });
  assert.strictEqual(r.status, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.ok(validateRuns(doc), JSON.stringify(validateRuns.errors, null, 2));
  return doc;
}

test('runs listing validates (running, crashed, finished runs)', () => withStore('running', (store) => {
  const doc = runsJson(store);
  assert.strictEqual(doc.kind, 'runs');
  assert.strictEqual(doc.runs.length, 3);
  assert.strictEqual(doc.runs[0].status, 'crashed_failure');
  assert.strictEqual(doc.runs[0].finished_at, null);
  assert.strictEqual(doc.runs[1].status, 'partial_failure');
  // a skipped model: never started
  const h = runsJson(store, '--model', 'rpt_churn');
  assert.strictEqual(h.kind, 'model_history');
  assert.strictEqual(h.executions.length, 1);
  assert.strictEqual(h.executions[0].started_at, null);
  assert.strictEqual(h.executions[0].duration_ms, null);
}));

test('many runs and a model history validate; the validator is strict', () => withStore('sample', (store) => {
  const doc = runsJson(store, '--limit', '1');
  assert.strictEqual(doc.runs.length, 1);
  const h = runsJson(store, '--model', 'raw_orders');
  assert.strictEqual(h.executions.length, 2);
  assert.ok(h.executions[0].duration_ms > 0);
  delete doc.runs[0].telemetry;
  assert.strictEqual(validateRuns(doc), false);
  h.executions[0].status = 'fine';
  assert.strictEqual(validateRuns(h), false);
}));
