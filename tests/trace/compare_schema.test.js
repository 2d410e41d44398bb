// compare_schema.test.js — real `rocky-trace A --compare B --json` output
// validated against the committed TraceCompare JSON Schema by an independent
// validator (ajv, draft 2020-12), and the deltas checked against the two
// documents they come from.
// Env (set by ctest): ROCKY_TRACE_BIN, TRACE_MAKE_STORE, TRACE_COMPARE_SCHEMA.
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
const schema = JSON.parse(fs.readFileSync(process.env.TRACE_COMPARE_SCHEMA, 'utf8'));
const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
addFormats(ajv);
const validate = ajv.compile(schema);
const BEFORE = '20251125T050000.000Z-bef0';

function withStore(scenario, fn) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rocky-trace-compare-'));
  try {
    const store = path.join(dir, 'state.db');
    execFileSync(makeStore, [store, scenario]);
    return fn(store);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function json(store, ...args) {
  const r = spawnSync(bin, [...args, '--state', store, '--json'], {
    encoding: 'utf8', timeout: 20000,
  });
  assert.strictEqual(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

function assertValid(doc) {
  assert.ok(validate(doc), JSON.stringify(validate.errors, null, 2));
}

test('compare output validates and its deltas add up', () => withStore('compare', (store) => {
  const doc = json(store, 'latest', '--compare', BEFORE);
  assertValid(doc);
  const before = json(store, BEFORE);
  const after = json(store, 'latest');
  assert.strictEqual(doc.before.run_id, before.run_id);
  assert.strictEqual(doc.after.run_id, after.run_id);
  assert.strictEqual(doc.delta.run_duration_ms, after.run_duration_ms - before.run_duration_ms);
  assert.deepStrictEqual(doc.after.critical_path, after.critical_path);
  assert.deepStrictEqual(doc.critical_path.joined, ['slow_one']);
  assert.deepStrictEqual(doc.critical_path.left, ['raw', 'stg']);
  for (const m of doc.models) {
    if (m.duration_delta_ms !== null)
      assert.strictEqual(m.duration_delta_ms, m.after.duration_ms - m.before.duration_ms);
  }
  // Sorted: every slower model before every faster one, largest first.
  const kinds = doc.models.map((m) => m.change);
  const order = ['slower', 'faster', 'status_changed', 'added', 'removed', 'unchanged'];
  assert.deepStrictEqual([...kinds].sort((a, b) => order.indexOf(a) - order.indexOf(b)), kinds);
  const slower = doc.models.filter((m) => m.change === 'slower').map((m) => m.duration_delta_ms);
  assert.deepStrictEqual([...slower].sort((a, b) => b - a), slower);
  const flaky = doc.models.find((m) => m.model_name === 'flaky');
  assert.strictEqual(flaky.after.attempts, 2);
  assert.strictEqual(flaky.after.status, 'success');
  const breaks = doc.models.find((m) => m.model_name === 'breaks');
  assert.strictEqual(breaks.duration_delta_ms, null);
  assert.strictEqual(breaks.status_changed, true);
}));

test('sample runs, --model, and the reverse direction validate', () => withStore('sample', (store) => {
  const old = '20251125T055000.000Z-0ld0';
  const fwd = json(store, 'latest', '--compare', old);
  assertValid(fwd);
  const rev = json(store, old, '--compare', 'latest');
  assertValid(rev);
  assert.strictEqual(rev.delta.run_duration_ms, -fwd.delta.run_duration_ms);
  assert.strictEqual(rev.summary.removed, fwd.summary.added);
  const one = json(store, 'latest', '--compare', old, '--model', 'raw_orders');
  assertValid(one);
  assert.strictEqual(one.models.length, 1);
}));

test('the validator rejects a broken document', () => withStore('compare', (store) => {
  const doc = json(store, 'latest', '--compare', BEFORE);
  delete doc.models[0].change;
  assert.strictEqual(validate(doc), false);
  const doc2 = json(store, 'latest', '--compare', BEFORE);
  doc2.version = '2.0.0';
  assert.strictEqual(validate(doc2), false);
}));
