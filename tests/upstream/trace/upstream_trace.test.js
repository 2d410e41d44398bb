// upstream_trace.test.js — what upstream rocky's own consumers read from our
// `rocky trace`, checked with their own artifacts (vendored here, README.md):
//   - schemas/trace.schema.json validates REAL output of the real `rocky`
//     binary for every run status (success, partial failure, failure,
//     running, crashed by SIGKILL, interrupted by SIGINT; incomplete from a
//     store written through lib/store.h, since a full disk cannot be had on
//     demand here), and so does our own schema;
//   - the VS Code panel: the command it runs (read from trace.ts) works, and
//     its status badge (the regex read from runTracePanel.ts) flags every run
//     that did not end well, and only those;
//   - the Python SDK's pydantic model (trace_schema.py) accepts every
//     document (skipped, with the reason, where pydantic 2 is not installed);
//   - upstream's CLI flags: -o/--output json|table on trace and run, and
//     --state-path, -c/--config before the command; usage errors exit 2
//     naming the argument.
// Env (set by ctest): ROCKY_BIN, TRACE_MAKE_STORE, TRACE_SCHEMA, and
// ROCKY_TEST_TIME_SCALE (multiplies every wait).
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');
const { createRequire } = require('node:module');

// ajv is pinned in tests/trace/package.json (scripts/install-deps: npm ci).
const traceRequire = createRequire(path.join(__dirname, '..', '..', 'trace', 'package.json'));
const Ajv = traceRequire('ajv');
const Ajv2020 = traceRequire('ajv/dist/2020');
const addFormats = traceRequire('ajv-formats');

const ROCKY = process.env.ROCKY_BIN;
const MAKE_STORE = process.env.TRACE_MAKE_STORE;
const SCALE = Number(process.env.ROCKY_TEST_TIME_SCALE || '1') || 1;
const scaleMs = (ms) => Math.ceil(ms * SCALE);

// --- upstream's artifacts --------------------------------------------------

const UPSTREAM_SCHEMA = JSON.parse(fs.readFileSync(path.join(__dirname, 'trace.schema.json'), 'utf8'));
// Upstream's schema is draft-07 (schemars). Its integer formats are not
// standard JSON Schema formats; they say what they mean, so check that.
const upstreamAjv = new Ajv({ allErrors: true, strict: false });
upstreamAjv.addFormat('uint64', { type: 'number', validate: (n) => Number.isInteger(n) && n >= 0 });
upstreamAjv.addFormat('uint', { type: 'number', validate: (n) => Number.isInteger(n) && n >= 0 });
upstreamAjv.addFormat('int64', { type: 'number', validate: (n) => Number.isInteger(n) });
const validateUpstream = upstreamAjv.compile(UPSTREAM_SCHEMA);

const ourAjv = new Ajv2020({ allErrors: true, strict: true });
addFormats(ourAjv);
const validateOurs = ourAjv.compile(JSON.parse(fs.readFileSync(process.env.TRACE_SCHEMA, 'utf8')));

// What the panel runs: the argument array in upstream's trace.ts.
const PANEL_SOURCE = fs.readFileSync(path.join(__dirname, 'trace.ts'), 'utf8');
const PANEL_ARGS = JSON.parse(PANEL_SOURCE.match(/\[\s*("trace"[^\]]*)\]/)[0]);
// The panel's badge: statusClass() in upstream's runTracePanel.ts,
// `return /fail|error/i.test(status) ? "fail" : "ok";` — the regex is read
// from the vendored file so the test follows upstream, not a copy of it.
const PANEL_TS = fs.readFileSync(path.join(__dirname, 'runTracePanel.ts'), 'utf8');
const badgeSrc = PANEL_TS.match(/function statusClass\([^)]*\)[^{]*\{\s*return \/(.+?)\/([a-z]*)\.test\(status\) \? "fail" : "ok";/);
assert.ok(badgeSrc, 'statusClass() not found in runTracePanel.ts: the vendored panel changed shape');
const BADGE_RE = new RegExp(badgeSrc[1], badgeSrc[2]);
const statusClass = (status) => (BADGE_RE.test(status) ? 'fail' : 'ok');

// --- processes and projects (killed by PID, dirs removed in t.after) --------

function cleanEnv() {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('OTEL_') || k === 'ROCKY_STATE' || k === 'ROCKY_PLUGINS' || k === 'TRACEPARENT') continue;
    env[k] = v;
  }
  env.NO_COLOR = '1';
  return env;
}

function fixture(t) {
  const children = [];
  const dirs = [];
  t.after(async () => {
    for (const c of children) {
      if (c.exitCode === null && c.signalCode === null) {
        process.kill(c.pid, 'SIGKILL');
        await new Promise((r) => c.once('close', r));
      }
    }
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });
  return {
    /** A project {name: sql} in a fresh temp dir; its store is the default
     * one, DIR/.rocky/state.db, as the panel finds it. */
    project(models, threads = 2) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rocky-upstream-'));
      dirs.push(dir);
      fs.mkdirSync(path.join(dir, 'models'));
      fs.writeFileSync(path.join(dir, 'rocky.json'), JSON.stringify({ name: 'upstream', threads }));
      for (const [name, sql] of Object.entries(models)) {
        fs.writeFileSync(path.join(dir, 'models', `${name}.sql`), `${sql}\n`);
      }
      return dir;
    },
    tmpdir() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rocky-upstream-'));
      dirs.push(dir);
      return dir;
    },
    /** Start `rocky args` in `cwd`; {child, done: Promise<{code, signal,
     * stdout, stderr}>}, SIGKILLed by PID when it outlives timeoutMs. */
    start(args, cwd, timeoutMs = 60000) {
      const child = spawn(ROCKY, args, { cwd, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => { stdout += d; });
      child.stderr.on('data', (d) => { stderr += d; });
      const done = new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          process.kill(child.pid, 'SIGKILL');
          reject(new Error(`rocky ${args.join(' ')} did not end in ${scaleMs(timeoutMs)} ms:\n${stderr}`));
        }, scaleMs(timeoutMs));
        child.on('close', (code, signal) => {
          clearTimeout(timer);
          resolve({ code, signal, stdout, stderr });
        });
      });
      return { child, done };
    },
  };
}

/** `rocky args` in `cwd`, synchronously, bounded. */
function rocky(args, cwd, timeoutMs = 20000) {
  const r = spawnSync(ROCKY, args, { cwd, env: cleanEnv(), encoding: 'utf8', timeout: scaleMs(timeoutMs), killSignal: 'SIGKILL' });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** What the panel does: run PANEL_ARGS in the project root; it rejects
 * (shows an error, no timeline) on a non-zero exit or JSON that does not
 * parse. */
function panelRead(dir) {
  const r = rocky(PANEL_ARGS, dir);
  assert.equal(r.code, 0, `the panel's \`rocky ${PANEL_ARGS.join(' ')}\` exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

function assertBothSchemas(doc, what) {
  assert.ok(validateUpstream(doc), `${what}: upstream's trace.schema.json rejects it:\n${JSON.stringify(validateUpstream.errors, null, 2)}\n${JSON.stringify(doc, null, 2)}`);
  assert.ok(validateOurs(doc), `${what}: our schema rejects it:\n${JSON.stringify(validateOurs.errors, null, 2)}`);
}

// Every document the tests validated, for the pydantic check at the end.
const collected = [];
function check(doc, what) {
  assertBothSchemas(doc, what);
  collected.push({ what, doc });
  return doc;
}

/** A model that counts to n (SQLite, ~10^7 a second): slow on purpose. */
function counting(n, deps = []) {
  const head = deps.length ? `-- depends_on: ${deps.join(', ')}\n` : '';
  return `${head}WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${n}) SELECT count(*) AS c FROM n`;
}
const FAST = {
  a: 'SELECT 1 AS x UNION ALL SELECT 2',
  b: 'SELECT x * 10 AS x FROM a',
  c: 'SELECT x + 1 AS x FROM a',
};
// `a` is quick, `slow` would count for minutes: it is stopped or killed.
const SLOW = { a: 'SELECT 1 AS x', slow: counting(4000000000, ['a']) };

/** Poll the panel's command until `pred(doc)`; bounded. */
async function pollPanel(dir, pred, timeoutMs, what) {
  const deadline = Date.now() + scaleMs(timeoutMs);
  let last = null;
  for (;;) {
    const r = rocky(PANEL_ARGS, dir);
    if (r.code === 0) {
      last = JSON.parse(r.stdout);
      if (pred(last)) return last;
    }
    if (Date.now() >= deadline) throw new Error(`never saw ${what} in ${scaleMs(timeoutMs)} ms; last: ${JSON.stringify(last)}`);
    await new Promise((res) => setTimeout(res, 20));
  }
}
// The store records a model when it ends: `a` on record while the run is
// still running means `slow` has started (it depends only on `a`).
// `a` done and `slow` on record as running (the store records a model from
// its start).
const slowRunning = (d) => d.status === 'running' && d.models.some((m) => m.model_name === 'a' && m.status === 'success') &&
  d.models.some((m) => m.model_name === 'slow' && m.status === 'running');

const SKIP = ROCKY ? false : 'ROCKY_BIN is not set (this build has no runner)';

// --- the tests ---------------------------------------------------------------

test('the panel runs `rocky trace latest --output json` (read from upstream trace.ts)', () => {
  assert.deepEqual(PANEL_ARGS, ['trace', 'latest', '--output', 'json']);
  assert.equal(statusClass('partial_failure'), 'fail');
  assert.equal(statusClass('success'), 'ok');
});

test('success: the panel reads it, both schemas validate it, badge ok', { skip: SKIP }, (t) => {
  const fx = fixture(t);
  const dir = fx.project(FAST);
  assert.equal(rocky(['run', dir], dir).code, 0);
  const doc = check(panelRead(dir), 'success');
  assert.equal(doc.status, 'success');
  assert.equal(statusClass(doc.status), 'ok');
  assert.equal(doc.models.length, 3);
  for (const m of doc.models) assert.equal(statusClass(m.status), 'ok');
  assert.equal(Date.parse(doc.finished_at) >= Date.parse(doc.started_at), true);
});

test('partial failure and failure: validated, the badge and the failed model flagged', { skip: SKIP }, (t) => {
  const fx = fixture(t);
  const dir = fx.project({ ...FAST, bad: 'SELECT no_such_function(x) AS y FROM a' });
  assert.equal(rocky(['run', dir], dir).code, 1);
  const doc = check(panelRead(dir), 'partial failure');
  assert.equal(doc.status, 'partial_failure');
  assert.equal(statusClass(doc.status), 'fail');
  const bad = doc.models.find((m) => m.model_name === 'bad');
  assert.equal(bad.status, 'failed');
  assert.equal(statusClass(bad.status), 'fail');

  const dir2 = fx.project({ only: 'SELECT no_such_function(1) AS y' });
  assert.equal(rocky(['run', dir2], dir2).code, 1);
  const doc2 = check(panelRead(dir2), 'failure');
  assert.equal(doc2.status, 'failure');
  assert.equal(statusClass(doc2.status), 'fail');
});

test('running, then crashed (runner SIGKILLed): finished_at is a string both times, the crash is flagged', { skip: SKIP }, async (t) => {
  const fx = fixture(t);
  const dir = fx.project(SLOW);
  const run = fx.start(['run', dir], dir);
  const before = Date.now();
  const live = check(await pollPanel(dir, slowRunning, 15000, 'the slow model running'), 'running');
  const after = Date.now();
  // Not ended: not flagged, and finished_at is "now", the end of the
  // interval the document shows (run_duration_ms up to it).
  assert.equal(statusClass(live.status), 'ok');
  assert.equal(live.run_status, 'running');
  const fin = Date.parse(live.finished_at);
  assert.ok(fin >= before - 1000 && fin <= after + 1000, `running finished_at ${live.finished_at} is not the time of reading`);
  assert.ok(Math.abs(fin - Date.parse(live.started_at) - live.run_duration_ms) <= 1);

  process.kill(run.child.pid, 'SIGKILL');
  const res = await run.done;
  assert.equal(res.signal, 'SIGKILL');
  const dead = check(panelRead(dir), 'crashed');
  assert.equal(dead.status, 'crashed_failure');
  assert.equal(dead.run_status, 'crashed');
  assert.equal(statusClass(dead.status), 'fail', 'a crashed run must not be a green badge');
  // The last time on record: the end of `a` or the start of `slow`, which
  // is on record from its start and reads back cut short by the crash.
  const a = dead.models.find((m) => m.model_name === 'a');
  const slow = dead.models.find((m) => m.model_name === 'slow');
  assert.equal(slow.status, 'interrupted_failure', 'the model the crash cut short');
  assert.equal(statusClass(slow.status), 'fail');
  const last = Math.max(a.start_offset_ms + a.duration_ms, slow.start_offset_ms);
  // Each of started_at, finished_at, the offset and the duration is cut to
  // whole milliseconds on its own: they agree within 2 ms, not 1.
  const fin2 = Date.parse(dead.finished_at) - Date.parse(dead.started_at);
  assert.ok(Math.abs(fin2 - last) <= 2, `crashed finished_at ${dead.finished_at} is not the last time on record (+${last} ms)`);
  assert.ok(Math.abs(dead.run_duration_ms - fin2) <= 1);
});

test('interrupted (SIGINT): validated, flagged by the badge, the stopped model too', { skip: SKIP }, async (t) => {
  const fx = fixture(t);
  const dir = fx.project(SLOW);
  const run = fx.start(['run', dir], dir);
  await pollPanel(dir, slowRunning, 15000, 'the slow model running');
  process.kill(run.child.pid, 'SIGINT');
  const res = await run.done;
  assert.ok(res.code === 130 || res.signal === 'SIGINT', `rocky run after SIGINT: code ${res.code} signal ${res.signal}`);
  const doc = check(panelRead(dir), 'interrupted');
  assert.equal(doc.status, 'interrupted_failure');
  assert.equal(doc.run_status, 'interrupted');
  assert.equal(statusClass(doc.status), 'fail', 'an interrupted run showed as a green "ok"');
  const slow = doc.models.find((m) => m.model_name === 'slow');
  assert.equal(slow.status, 'interrupted_failure');
  assert.equal(statusClass(slow.status), 'fail');
  assert.equal(doc.models.find((m) => m.model_name === 'a').status, 'success');
});

test('incomplete (the store lost a model): validated and flagged', { skip: MAKE_STORE ? SKIP : 'TRACE_MAKE_STORE is not set' }, (t) => {
  const fx = fixture(t);
  const store = path.join(fx.tmpdir(), 'state.db');
  assert.equal(spawnSync(MAKE_STORE, [store, 'incomplete']).status, 0);
  const r = rocky(['--state-path', store, 'trace', 'latest', '--output', 'json'], fx.tmpdir());
  assert.equal(r.code, 0, r.stderr);
  const doc = check(JSON.parse(r.stdout), 'incomplete');
  assert.equal(doc.status, 'incomplete_error');
  assert.equal(doc.run_status, 'incomplete');
  assert.equal(statusClass(doc.status), 'fail');
  assert.equal(doc.models_planned, 3);
  assert.equal(doc.models_recorded, 2);
});

test("the 1.x shape is what upstream's consumers rejected: finished_at null fails its schema, 'interrupted' is a green badge", () => {
  // A control: the validator and the badge can fail, and did for what
  // TraceOutput 1.x wrote for a crashed or interrupted run.
  const old = {
    version: '1.1.0', command: 'trace', run_id: 'r', status: 'crashed', trigger: 'manual',
    started_at: '2026-01-01T00:00:00.000Z', finished_at: null, run_duration_ms: 5, lane_count: 0, models: [],
  };
  assert.equal(validateUpstream(old), false);
  assert.equal(statusClass('interrupted'), 'ok');
  assert.equal(statusClass('crashed'), 'ok');
  assert.equal(statusClass('incomplete'), 'ok');
});

test("upstream's Python SDK model (pydantic 2) accepts every document above", { skip: SKIP }, (t) => {
  assert.ok(collected.length >= 6, `only ${collected.length} documents were collected (did a test above fail?)`);
  const dir = fixture(t).tmpdir();
  const files = collected.map(({ what, doc }, i) => {
    const f = path.join(dir, `${i}-${what.replace(/\W+/g, '_')}.json`);
    fs.writeFileSync(f, JSON.stringify(doc));
    return f;
  });
  const py = spawnSync('python3', [path.join(__dirname, 'validate_pydantic.py'), ...files], { encoding: 'utf8', timeout: scaleMs(60000) });
  if (py.error || py.status === 77) {
    t.skip(`not run: ${py.error ? py.error.message : py.stderr.trim()} (Debian's python3-pydantic is 1.x; the SDK's generated model needs pydantic>=2.10)`);
    return;
  }
  assert.equal(py.status, 0, py.stderr);
  // And it rejects the 1.x shape (the control).
  const bad = path.join(dir, 'old.json');
  fs.writeFileSync(bad, JSON.stringify({ ...collected[0].doc, finished_at: null }));
  const py2 = spawnSync('python3', [path.join(__dirname, 'validate_pydantic.py'), bad], { encoding: 'utf8', timeout: scaleMs(60000) });
  assert.equal(py2.status, 1, py2.stderr);
  assert.match(py2.stderr, /finished_at/);
});

test("upstream's flags: -o/--output on trace and run, --state-path and -c/--config before the command", { skip: SKIP }, (t) => {
  const fx = fixture(t);
  const dir = fx.project(FAST);
  const elsewhere = fx.tmpdir();
  const store = path.join(dir, '.rocky', 'state.db');

  // rocky run --output json = --json: one JSON result document.
  const ran = rocky(['run', dir, '--output', 'json'], dir);
  assert.equal(ran.code, 0, ran.stderr);
  const result = JSON.parse(ran.stdout);
  assert.equal(result.status, 'success');
  const ran2 = rocky(['-o', 'json', 'run', dir], dir);
  assert.equal(JSON.parse(ran2.stdout).status, 'success');
  const ran3 = rocky(['--config', path.join(dir, 'rocky.json'), 'run', '-o=json'], elsewhere);
  assert.equal(ran3.code, 0, ran3.stderr);
  assert.equal(JSON.parse(ran3.stdout).status, 'success', '-c DIR/rocky.json runs that project');
  const table = rocky(['run', dir, '-o', 'table'], dir);
  assert.equal(table.code, 0);
  assert.throws(() => JSON.parse(table.stdout));

  // trace: every spelling gives the same TraceOutput of the latest run.
  const want = JSON.parse(rocky(['trace', 'latest', '--json', '--state', store], dir).stdout).run_id;
  for (const args of [
    ['--output', 'json', 'trace', 'latest'],
    ['-o', 'json', 'trace', 'latest'],
    ['--output=json', 'trace', 'latest'],
    ['trace', 'latest', '-o', 'json'],
    ['trace', '-o=json'],
  ]) {
    const r = rocky(args, dir);
    assert.equal(r.code, 0, `rocky ${args.join(' ')}: ${r.stderr}`);
    assert.equal(check(JSON.parse(r.stdout), args.join(' ')).run_id, want);
  }
  for (const args of [
    ['--state-path', store, 'trace', 'latest', '--output', 'json'],
    ['-c', path.join(dir, 'rocky.json'), '-o', 'json', 'trace', 'latest'],
    ['--state-path', store, 'trace', 'latest', '--state', store, '-o', 'json'],
  ]) {
    const r = rocky(args, elsewhere);
    assert.equal(r.code, 0, `rocky ${args.join(' ')} (from another directory): ${r.stderr}`);
    assert.equal(JSON.parse(r.stdout).run_id, want);
  }
  // The subcommand's word wins over the global one; table is the text view.
  const text = rocky(['-o', 'json', 'trace', 'latest', '-o', 'table'], dir);
  assert.equal(text.code, 0);
  assert.match(text.stdout, /^run: /m);
  // Piped with no format: text (upstream would print JSON; docs say so).
  assert.match(rocky(['trace', 'latest'], dir).stdout, /^run: /m);

  // Usage errors: exit 2, the argument named.
  fs.writeFileSync(path.join(dir, 'rocky.toml'), '[pipeline]\n');
  for (const [args, re] of [
    [['trace', 'latest', '--output', 'xml'], /-o\/--output wants json or table, not 'xml'/],
    [['--output', 'yaml', 'trace', 'latest'], /-o\/--output wants json or table, not 'yaml'/],
    [['run', dir, '-o', 'csv'], /-o\/--output wants json or table, not 'csv'/],
    [['trace', 'latest', '--output'], /--output needs a value/],
    [['-c', path.join(dir, 'rocky.toml'), 'trace', 'latest'], /-c\/--config '.*rocky\.toml'.*rocky\.json/],
    [['-c', path.join(dir, 'rocky.toml'), 'run'], /-c\/--config '.*rocky\.toml'.*rocky\.json/],
    [['trace', 'latest', '--state-path', store], /'--state-path' goes before the command/],
    [['run', dir, '--config', path.join(dir, 'rocky.json')], /'--config' goes before the command/],
    [['--state-path', store, 'trace', '--state', '/elsewhere.db'], /--state-path '.*' and --state '\/elsewhere.db' name different stores/],
    [['-c', path.join(dir, 'rocky.json'), 'run', elsewhere], /PROJECT_DIR '.*' is not the directory of -c\/--config/],
  ]) {
    const r = rocky(args, dir);
    assert.equal(r.code, 2, `rocky ${args.join(' ')}: exit ${r.code}, want 2: ${r.stderr}`);
    assert.match(r.stderr, re);
  }
  const missing = rocky(['-c', path.join(elsewhere, 'rocky.json'), 'trace', 'latest'], dir);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /-c\/--config '.*rocky\.json': no such file/);

  // --help names the new flags.
  const help = rocky(['--help'], dir).stdout;
  for (const flag of ['--output', '--state-path', '--config']) assert.ok(help.includes(flag), `rocky --help lacks ${flag}`);
  assert.ok(rocky(['trace', '--help'], dir).stdout.includes('-o, --output json|table'));
});
