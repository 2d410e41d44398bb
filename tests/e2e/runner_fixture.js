'use strict';
// The real runner against the independent receiver: per-test resources
// (processes, receivers, projects in temp dirs, all released in t.after),
// the projects the runner tests use, and what they assert about what
// arrived. Shared by otel_faults.test.js and exit_paths.test.js.
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');
const { startReceiver, scaleMs } = require('./receiver/harness');
const { attrs, cleanEnv, PLUGIN } = require('./common');

const ROCKY = process.env.ROCKY_BIN;
const NO_RUNNER = ROCKY ? false : 'ROCKY_BIN is not set (this build has no runner)';

function env(extra) {
  const e = cleanEnv(extra);
  // The developer's own runner settings must not leak in either.
  for (const k of ['ROCKY_PLUGINS', 'ROCKY_STATE', 'ROCKY_OTEL_EXIT_TIMEOUT_MS']) {
    if (!(k in extra)) delete e[k];
  }
  e.NO_COLOR = '1';
  e.ROCKY_LOG = 'debug'; // the tests read the exporter's debug summary line
  return e;
}

function esc(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function lines(text, re) {
  return text.split('\n').filter((l) => re.test(l));
}

/**
 * Per-test resources: processes, receivers and temp dirs, all released in
 * t.after (processes killed by PID and waited for, receivers stopped, dirs
 * removed).
 */
function fixture(t) {
  const procs = [];
  const receivers = [];
  const dirs = [];
  t.after(async () => {
    for (const p of procs) {
      if (p.child.exitCode === null && p.child.signalCode === null) {
        p.child.kill('SIGKILL');
        await p.done.catch(() => {});
      }
    }
    for (const r of receivers) await r.stop();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  /** Spawn; `done` resolves {code, signal, stdout, stderr, ms, exitAt}. */
  function start(bin, args, extra = {}, timeoutMs = 30000) {
    const t0 = Date.now();
    const child = spawn(bin, args, { env: env(extra), stdio: ['ignore', 'pipe', 'pipe'] });
    const out = { stdout: '', stderr: '' };
    child.stdout.on('data', (d) => {
      out.stdout += d;
    });
    child.stderr.on('data', (d) => {
      out.stderr += d;
    });
    let exitAt = null;
    child.on('exit', () => {
      exitAt = Date.now();
    });
    const limit = scaleMs(timeoutMs);
    const done = new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${path.basename(bin)} ${args.join(' ')} did not end in ${limit} ms; stderr:\n${out.stderr}`));
      }, limit);
      child.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        const end = exitAt || Date.now();
        resolve({ code, signal, stdout: out.stdout, stderr: out.stderr, ms: end - t0, exitAt: end });
      });
    });
    const p = { child, out, t0, done };
    procs.push(p);
    return p;
  }

  function run(bin, args, extra, timeoutMs) {
    return start(bin, args, extra, timeoutMs).done;
  }

  async function receiver(opts = {}) {
    const r = await startReceiver(opts);
    receivers.push(r);
    return r;
  }

  /** A project in a fresh temp dir: {name: sql}; state store inside it. */
  function project(models, threads) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rocky-e2e-'));
    dirs.push(dir);
    fs.mkdirSync(path.join(dir, 'models'));
    fs.writeFileSync(path.join(dir, 'rocky.json'), JSON.stringify({ name: 'e2e', threads }));
    for (const [name, sql] of Object.entries(models)) {
      fs.writeFileSync(path.join(dir, 'models', `${name}.sql`), `${sql}\n`);
    }
    return { dir, state: path.join(dir, 'state.db'), count: Object.keys(models).length };
  }

  /** `rocky trace RUN --json`; null when it fails (store not there yet). */
  async function traceOrNull(state, runId = 'latest') {
    const res = await run(ROCKY, ['trace', runId, '--json', '--state', state], {}, 10000);
    if (res.code !== 0) return null;
    return JSON.parse(res.stdout);
  }

  async function trace(state, runId = 'latest') {
    const res = await run(ROCKY, ['trace', runId, '--json', '--state', state], {}, 10000);
    assert.equal(res.code, 0, `rocky trace ${runId} --json: ${res.stderr}`);
    return JSON.parse(res.stdout);
  }

  /** Poll the store (bounded) until pred(traceJson) is truthy; returns the JSON. */
  async function pollStore(state, pred, timeoutMs, what) {
    const deadline = Date.now() + scaleMs(timeoutMs);
    let last = null;
    for (;;) {
      last = await traceOrNull(state);
      if (last && pred(last)) return last;
      if (Date.now() >= deadline) {
        throw new Error(`store never showed ${what} within ${scaleMs(timeoutMs)} ms; last: ${JSON.stringify(last)}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /**
   * Resolve (with the match, and `at`: when it was seen) as soon as the
   * process's `stream` ('stdout' or 'stderr') so far matches `re`; reject
   * when the process ends first or timeoutMs (scaled) passes.
   */
  function waitOutput(proc, stream, re, timeoutMs, what) {
    return new Promise((resolve, reject) => {
      const limit = scaleMs(timeoutMs);
      const finish = (err, m) => {
        clearTimeout(timer);
        proc.child[stream].off('data', check);
        proc.child.off('close', closed);
        if (err) reject(err);
        else resolve({ match: m, at: Date.now() });
      };
      const check = () => {
        const m = re.exec(proc.out[stream]);
        if (m) finish(null, m);
      };
      const closed = () => {
        check();
        finish(new Error(`the process ended before its ${stream} showed ${what}; stderr:\n${proc.out.stderr}`));
      };
      const timer = setTimeout(() => finish(new Error(`${stream} never showed ${what} within ${limit} ms; stderr:\n${proc.out.stderr}`)), limit);
      // After the fixture's own listener: proc.out[stream] has the chunk.
      proc.child[stream].on('data', check);
      proc.child.on('close', closed);
      check();
    });
  }

  /** Start the runner on project `p` exporting to receiver `r` (through
   * `prefix`, a wrapper command, if given), and wait until two models have
   * finished while it still runs (mid-run). */
  async function startMidRun(p, r, { prefix = [] } = {}) {
    const cmd = [...prefix, ROCKY, ...runArgs(p)];
    const proc = start(cmd[0], cmd.slice(1), { OTEL_EXPORTER_OTLP_ENDPOINT: r.endpoint });
    const seen = await pollStore(p.state, (x) => x.models.filter((m) => m.status === 'success').length >= 2,
      20000, 'two finished models');
    assert.equal(proc.child.exitCode, null, 'the runner is still running mid-run');
    return { proc, seen };
  }

  return { start, run, receiver, project, trace, traceOrNull, pollStore, waitOutput, startMidRun };
}

/** SQL that takes a while: a recursive CTE counting to n (~0.2 s per million here). */
function counting(n, deps = []) {
  const head = deps.length ? `-- depends_on: ${deps.join(', ')}\n` : '';
  return `${head}WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${n}) SELECT count(*) AS c FROM n`;
}

/** A small fast project: a -> b, a -> c, (b, c) -> d. */
function fastModels() {
  return {
    a: 'SELECT 1 AS x UNION ALL SELECT 2',
    b: 'SELECT x * 10 AS x FROM a',
    c: 'SELECT x + 1 AS x FROM a',
    d: 'SELECT b.x AS bx, c.x AS cx FROM b JOIN c ON 1 = 1',
  };
}

/** Eight models of ~0.3 s each on two threads, six levels deep (~2 s). */
function slowModels(n = 1500000) {
  return {
    s0: counting(n),
    s1: counting(n, ['s0']),
    s2: counting(n, ['s0']),
    s3: counting(n, ['s1']),
    s4: counting(n, ['s2']),
    s5: counting(n, ['s3', 's4']),
    s6: counting(n, ['s5']),
    s7: counting(n, ['s6']),
  };
}

/**
 * Statements a successful materialization runs, each a statement.execute
 * span of a live run (plugin ABI 2.1): DROP temp, CREATE TEMP AS, count,
 * BEGIN, DROP main, CREATE main AS, dbstat size, COMMIT, DROP temp.
 */
const STATEMENTS_PER_MODEL = 9;

/** Spans of a live run in which `succeeded` models all succeeded: the run,
 * each model, its statements. (A replay has no statement spans.) */
function liveSpans(succeeded) {
  return 1 + succeeded * (1 + STATEMENTS_PER_MODEL);
}

function runArgs(p, extra = []) {
  return ['run', p.dir, '--plugin', PLUGIN, '--state', p.state, ...extra];
}

function traceSpans(r, traceId) {
  return r.spans().filter((x) => x.span.traceIdHex === traceId).map((x) => x.span);
}

/**
 * What arrived for one stored run (tj: `rocky trace --json`): exactly one
 * distinct run span with the run's id, and model spans whose span ids are
 * exactly those of `want` (default: every model of the run that started),
 * each a child of the run span and named as stored, none twice (no fault
 * where this is used could justify a span arriving twice).
 */
function assertRunArrived(r, tj, { want = null } = {}) {
  const spans = traceSpans(r, tj.trace_id);
  const runs = spans.filter((s) => s.name === 'run');
  assert.ok(runs.length >= 1, `the run span arrived: ${r.describe()}`);
  assert.equal(new Set(runs.map((s) => s.spanIdHex)).size, 1, 'one run span id');
  const run = runs[0];
  assert.equal(attrs(run.attributes)['rocky.run.id'], tj.run_id);
  assert.equal(run.parentSpanIdHex, '');
  const models = spans.filter((s) => s.name === 'materialize.table');
  const expected = want || tj.models.filter((m) => m.started);
  const byId = new Map(expected.map((m) => [m.span_id, m]));
  const got = new Set(models.map((s) => s.spanIdHex));
  assert.deepEqual([...got].sort(), [...byId.keys()].sort(), `model span ids as stored: ${r.describe()}`);
  for (const s of models) {
    assert.equal(s.parentSpanIdHex, run.spanIdHex, 'child of the run span');
    assert.equal(attrs(s.attributes)['rocky.model.name'], byId.get(s.spanIdHex).model_name);
  }
  assert.equal(runs.length, 1, 'the run span arrived once');
  assert.equal(models.length, got.size, 'no model span arrived twice');
  return { run, models };
}

module.exports = {
  ROCKY,
  NO_RUNNER,
  env,
  esc,
  lines,
  fixture,
  counting,
  fastModels,
  slowModels,
  runArgs,
  STATEMENTS_PER_MODEL,
  liveSpans,
  traceSpans,
  assertRunArrived,
};
