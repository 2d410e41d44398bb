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
