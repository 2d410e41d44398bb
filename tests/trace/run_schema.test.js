// run_schema.test.js — real `rocky run --json` output validated against
// trace/schema/run-output.schema.json by ajv (draft 2020-12), and its shared
// fields checked against the TraceOutput of the same run.
// Env (set by ctest): ROCKY_BIN, RUN_SCHEMA.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const Ajv2020 = require('ajv/dist/2020');
const addFormats = require('ajv-formats');

const bin = process.env.ROCKY_BIN;
const schema = JSON.parse(fs.readFileSync(process.env.RUN_SCHEMA, 'utf8'));
const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats(ajv);
const validate = ajv.compile(schema);

function project(files, fn) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rocky-run-schema-'));
  try {
    for (const [rel, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      fs.writeFileSync(path.join(dir, rel), text);
    }
    return fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function rocky(dir, args, want) {
  const r = spawnSync(bin, args, { cwd: dir, encoding: 'utf8', timeout: 60000 });
  assert.strictEqual(r.status, want, r.stderr);
  return JSON.parse(r.stdout);
}

function assertValid(doc) {
  assert.ok(validate(doc), JSON.stringify(validate.errors, null, 2));
}

test('a partly failing run validates and says what TraceOutput says', () => project({
  'models/a.sql': 'SELECT 1 AS x',
  'models/staging/b.sql': 'SELECT * FROM a',
  'models/bad.sql': 'SELECT abs(-9223372036854775807 - 1) AS x',
  'models/after_bad.sql': 'SELECT * FROM bad',
}, (dir) => {
  const run = rocky(dir, ['run', '--json'], 1);
  assertValid(run);
  assert.strictEqual(run.status, 'partial_failure');
  assert.strictEqual(run.models_planned, 4);
  const trace = rocky(dir, ['trace', run.run_id, '--json'], 0);
  for (const k of ['run_id', 'status', 'run_status', 'trigger', 'started_at', 'trace_id',
    'project', 'models_planned']) {
    assert.deepStrictEqual(run[k], trace[k], k);
  }
  for (const m of run.models) {
    const t = trace.models.find((x) => x.model_name === m.model_name);
    assert.ok(t, m.model_name);
    for (const k of ['status', 'sql_hash', 'rows_affected', 'bytes_written', 'span_id',
      'error', 'attempt', 'started']) {
      assert.deepStrictEqual(m[k], t[k], `${m.model_name}.${k}`);
    }
  }
  const skipped = run.models.find((m) => m.model_name === 'after_bad');
  assert.strictEqual(skipped.started, false);
  assert.strictEqual(skipped.status, 'skipped');
  // The command the run names works from here.
  assert.ok(run.trace_command.startsWith(`rocky trace ${run.run_id}`));
}));

test('a run started from the parent folder names its store', () => project({
  'shop/models/a.sql': 'SELECT 1 AS x',
}, (dir) => {
  const run = rocky(dir, ['run', 'shop', '--json'], 0);
  assertValid(run);
  assert.strictEqual(run.trace_command,
    `rocky trace ${run.run_id} --state shop/.rocky/state.db`);
}));
