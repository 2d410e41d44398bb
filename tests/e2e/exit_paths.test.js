'use strict';
// Every way a run of the real runner ends (README "How a run ends"), end to
// end: `rocky run` with rocky_otel.so against the independent receiver.
// Each test asserts the spans that arrived (by span id, against what
// `rocky trace --json` says is stored), the exit status and a time bound
// (scaled by ROCKY_TEST_TIME_SCALE); every wait is bounded.
//
// Each test also prints one `exit-table |` diagnostic: exit path | exit
// status | spans delivered (of the run's spans) | time to exit.
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('crypto');
const fs = require('fs');
const { spawnSync } = require('child_process');
const { scaleMs } = require('./receiver/harness');
const { attrs, PLUGIN } = require('./common');
const {
  ROCKY, NO_RUNNER, esc, lines, fixture, counting, slowModels, fastModels, runArgs, traceSpans, assertRunArrived,
} = require('./runner_fixture');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function table(t, row) {
  t.diagnostic(`exit-table | ${row.path} | ${row.status} | ${row.spans} | ${row.ms}`);
}

/** How the process ended, as a shell would say it. */
function statusOf(res) {
  return res.signal ? `killed by ${res.signal}` : `exit ${res.code}`;
}

/** Wall-clock ms (the receiver's clock) at which the stored run finished. */
function runEndMs(tj) {
  return Date.parse(tj.started_at) + tj.run_duration_ms;
}

/** How many of the run's spans (started models + the run span) arrived. */
function spansLine(r, tj) {
  const want = new Set([...tj.models.filter((m) => m.started).map((m) => m.span_id)]);
  const got = new Set(traceSpans(r, tj.trace_id).map((s) => s.spanIdHex));
  let n = [...want].filter((id) => got.has(id)).length;
  if (traceSpans(r, tj.trace_id).some((s) => s.name === 'run')) n++;
  return `${n} of ${want.size + 1}`;
}

function exportPending(fx, p, r) {
  return fx.run(ROCKY, ['trace', '--export-pending', '--state', p.state, '--plugin', PLUGIN],
    { OTEL_EXPORTER_OTLP_ENDPOINT: r.endpoint }, 20000);
}

async function assertNothingPending(fx, p, r) {
  const pend = await exportPending(fx, p, r);
  assert.equal(pend.code, 0, pend.stderr);
  assert.match(pend.stdout, /no runs awaiting delivery/, 'the runner confirmed delivery');
}

async function integrity(fx, p) {
  const res = await fx.run('sqlite3', [p.state, 'PRAGMA integrity_check'], {}, 10000);
  assert.equal(res.code, 0, res.stderr);
  assert.equal(res.stdout.trim(), 'ok', `integrity_check of ${p.state}`);
}

// ---------------------------------------------------------------------------
// 1-2. The output goes away: the run goes on, is recorded and delivered.

test('`rocky run | head -1`: the run goes on and is recorded as success, every span arrives, the runner exits 0', { skip: NO_RUNNER }, async (t) => {
  const fx = fixture(t);
  const p = fx.project(slowModels(300000), 2);
  const r = await fx.receiver();
  // A real pipeline; bash hands back the runner's own status.
  const res = await fx.run('bash', ['-c', '"$@" | head -1; exit "${PIPESTATUS[0]}"', 'bash', ROCKY, ...runArgs(p)],
    { OTEL_EXPORTER_OTLP_ENDPOINT: r.endpoint });
  assert.equal(res.signal, null, res.stderr);
  assert.equal(res.code, 0, `the runner's status (141 would be SIGPIPE): ${res.stderr}`);
  assert.match(res.stdout, /^\[ 1\/8\] OK {3}s0 .*\n$/, 'head printed the first line, and only it');
  const tj = await fx.trace(p.state);
  assert.equal(tj.status, 'success');
  assert.equal(tj.models.filter((m) => m.status === 'success').length, p.count);
  // head was gone long before the run ended: the runner wrote into a closed pipe.
  assert.ok(tj.run_duration_ms >= 100, `the run went on after the first line (${tj.run_duration_ms} ms)`);
  assertRunArrived(r, tj);
  assert.equal(lines(res.stderr, /error|broken pipe|EPIPE/i).length, 0, `output stopped quietly:\n${res.stderr}`);
  const bound = scaleMs(tj.run_duration_ms + 3000);
  assert.ok(res.ms <= bound, `took ${res.ms} ms (bound ${bound})`);
  await assertNothingPending(fx, p, r);
  table(t, { path: '`rocky run | head -1`', status: statusOf(res), spans: spansLine(r, tj),
    ms: `${res.exitAt - runEndMs(tj)} after the run's end` });
});

test('stdout closed (`>&-`): the run is recorded as success, the store is intact, every span arrives, exit 0', { skip: NO_RUNNER }, async (t) => {
  const fx = fixture(t);
  const p = fx.project(slowModels(300000), 2);
  const r = await fx.receiver();
  const res = await fx.run('sh', ['-c', 'exec "$@" >&-', 'sh', ROCKY, ...runArgs(p)], { OTEL_EXPORTER_OTLP_ENDPOINT: r.endpoint });
  assert.equal(res.signal, null, res.stderr);
  assert.equal(res.code, 0, res.stderr);
  assert.equal(res.stdout, '');
  // Nothing meant for stdout landed in a file that took descriptor 1.
  await integrity(fx, p);
  const tj = await fx.trace(p.state);
  assert.equal(tj.status, 'success');
  assert.equal(tj.models.filter((m) => m.status === 'success').length, p.count);
  assertRunArrived(r, tj);
  assert.equal(lines(res.stderr, /error/i).length, 0, `output stopped quietly:\n${res.stderr}`);
  const bound = scaleMs(tj.run_duration_ms + 3000);
  assert.ok(res.ms <= bound, `took ${res.ms} ms (bound ${bound})`);
  await assertNothingPending(fx, p, r);
  table(t, { path: 'stdout closed (`>&-`)', status: statusOf(res), spans: spansLine(r, tj),
    ms: `${res.exitAt - runEndMs(tj)} after the run's end` });
});

// ---------------------------------------------------------------------------
// 3-4. SIGHUP and SIGQUIT mid-run (SIGTERM and SIGINT: otel_faults.test.js).

for (const [sig, code] of [['SIGHUP', 129], ['SIGQUIT', 131]]) {
  const how = sig === 'SIGQUIT' ? 'exit 131 (`_exit`, no core dump)' : `dies by ${sig} (${code} to a shell)`;
  test(`${sig} to the runner mid-run: ${how}, run interrupted, every model that ended is delivered, and the run span`, { skip: NO_RUNNER }, async (t) => {
    const fx = fixture(t);
    const p = fx.project(slowModels(), 2);
    const r = await fx.receiver();
    const { proc, seen } = await fx.startMidRun(p, r);
    const killAt = Date.now();
    proc.child.kill(sig);
    const res = await proc.done;
    if (sig === 'SIGQUIT') {
      assert.equal(res.signal, null, `SIGQUIT ends with _exit(131), not a core dump: ${res.stderr}`);
      assert.equal(res.code, code, res.stderr);
    } else {
      assert.equal(res.code, null, `the runner re-raises ${sig}: ${res.stderr}`);
      assert.equal(res.signal, sig, res.stderr);
    }
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
    await assertNothingPending(fx, p, r);
    table(t, { path: `${sig} mid-run`, status: statusOf(res), spans: spansLine(r, tj),
      ms: `${res.exitAt - killAt} after the signal` });
  });
}

// ---------------------------------------------------------------------------
// 5. Ctrl-C twice while the exit flush waits on a collector that never
// answers (exit_guard.h, owner mode: the 1st signal during the drain lets it
// go on; the 2nd abandons it at once).

test('SIGINT twice during a hung exit flush: the flush goes on after the 1st, the 2nd ends the process at once by SIGINT; the run stays pending and --export-pending delivers it', { skip: NO_RUNNER }, async (t) => {
  const fx = fixture(t);
  const p = fx.project(fastModels(), 2);
  const hung = await fx.receiver({ neverAnswer: true });
  const exitTimeoutMs = 10000;
  const proc = fx.start(ROCKY, runArgs(p), {
    OTEL_EXPORTER_OTLP_ENDPOINT: hung.endpoint,
    ROCKY_OTEL_EXIT_TIMEOUT_MS: String(exitTimeoutMs),
    OTEL_EXPORTER_OTLP_TIMEOUT: String(exitTimeoutMs),
    // No export during the run: the only trace call is the exit flush's.
    OTEL_BSP_SCHEDULE_DELAY: '600000',
  });
  // The run is over (its summary is out) and the exit flush waits on the
  // collector (its trace call is parked there, unanswered).
  await fx.waitOutput(proc, 'stdout', /\nrun \S+ recorded in .*\n/, 10000, 'the run summary');
  await hung.waitFor((x) => x.calls.some((c) => c.service === 'trace'), 10000, 'the exit flush\'s trace call');
  const tj = await fx.trace(p.state);
  assert.equal(tj.status, 'success', 'the run was recorded before the flush');
  assert.equal(proc.child.exitCode, null, 'still flushing');
  proc.child.kill('SIGINT');
  await sleep(200);
  assert.equal(proc.child.exitCode, null, `the 1st SIGINT during the flush lets it go on:\n${proc.out.stderr}`);
  assert.equal(proc.child.signalCode, null, `the 1st SIGINT during the flush lets it go on:\n${proc.out.stderr}`);
  const secondAt = Date.now();
  proc.child.kill('SIGINT');
  const res = await proc.done;
  assert.equal(res.code, null, res.stderr);
  assert.equal(res.signal, 'SIGINT', `dies by SIGINT (130 to a shell), never 0:\n${res.stderr}`);
  const bound = scaleMs(1000);
  assert.ok(res.exitAt - secondAt <= bound, `ended ${res.exitAt - secondAt} ms after the 2nd SIGINT (bound ${bound})`);
  const last = res.stderr.trimEnd().split('\n').pop();
  assert.match(last, new RegExp(`run ${esc(tj.run_id)} is recorded.*rocky trace --export-pending( --plugin \\S+)* --state ${esc(p.state)}$`),
    `the last line says how to send it:\n${res.stderr}`);
  assert.equal(traceSpans(hung, tj.trace_id).length, 0, 'nothing was confirmed by the hung collector');
  await integrity(fx, p);
  assert.equal((await fx.trace(p.state)).status, 'success', 'the record is unchanged');

  // The store still lists it: a working collector gets every span.
  const r = await fx.receiver();
  const ex = await exportPending(fx, p, r);
  assert.equal(ex.code, 0, ex.stderr);
  assert.match(ex.stdout, /1 of 1 pending runs exported/);
  assertRunArrived(r, tj);
  const again = await exportPending(fx, p, r);
  assert.match(again.stdout, /no runs awaiting delivery/);
  table(t, { path: 'SIGINT twice during a hung flush', status: statusOf(res),
    spans: `${spansLine(hung, tj)} (then ${spansLine(r, tj)} by --export-pending)`,
    ms: `${res.exitAt - secondAt} after the 2nd signal` });
});

test('SIGINT twice mid-run, the collector hung: the process dies by SIGINT at once, the run is recorded interrupted and stays pending; --export-pending delivers it', { skip: NO_RUNNER }, async (t) => {
  const fx = fixture(t);
  const p = fx.project(slowModels(), 2);
  const hung = await fx.receiver({ neverAnswer: true });
  const { proc, seen } = await fx.startMidRun(p, hung);
  proc.child.kill('SIGINT');
  // The 1st was taken (a running model was interrupted) before the 2nd is
  // sent, so that the two cannot merge into one pending signal.
  await fx.waitOutput(proc, 'stdout', /\] INTR /, 10000, 'an interrupted model');
  const secondAt = Date.now();
  proc.child.kill('SIGINT');
  const res = await proc.done;
  assert.equal(res.code, null, res.stderr);
  assert.equal(res.signal, 'SIGINT', `dies by SIGINT (130 to a shell), never 0:\n${res.stderr}`);
  const bound = scaleMs(1000);
  assert.ok(res.exitAt - secondAt <= bound, `ended ${res.exitAt - secondAt} ms after the 2nd SIGINT (bound ${bound})`);
  const tj = await fx.trace(p.state, seen.run_id);
  assert.equal(tj.run_status, 'interrupted'); // TraceOutput 2.0: status is interrupted_failure
  const last = res.stderr.trimEnd().split('\n').pop();
  // Which row of the table the 2nd signal hit decides the last line.
  const beforeFlush = /SIGINT again: telemetry will not be flushed/.test(res.stderr);
  if (beforeFlush) {
    assert.match(last, new RegExp(`run ${esc(tj.run_id)} \\(a second stop signal abandoned the flush\\).*rocky trace ${esc(tj.run_id)} --export`),
      `the last line says how to send it:\n${res.stderr}`);
  } else {
    assert.match(last, new RegExp(`run ${esc(tj.run_id)} is recorded.*rocky trace --export-pending( --plugin \\S+)* --state ${esc(p.state)}$`),
      `the last line says how to send it:\n${res.stderr}`);
  }
  t.diagnostic(`the 2nd SIGINT came ${beforeFlush ? 'before' : 'during'} the flush`);
  await integrity(fx, p);
  const r = await fx.receiver();
  const ex = await exportPending(fx, p, r);
  assert.equal(ex.code, 0, ex.stderr);
  assert.match(ex.stdout, /1 of 1 pending runs exported/, 'still pending after the abandoned flush');
  assertRunArrived(r, tj);
  const again = await exportPending(fx, p, r);
  assert.match(again.stdout, /no runs awaiting delivery/);
  table(t, { path: `SIGINT twice mid-run (2nd ${beforeFlush ? 'before' : 'during'} the flush), collector hung`,
    status: statusOf(res), spans: `${spansLine(hung, tj)} (then ${spansLine(r, tj)} by --export-pending)`,
    ms: `${res.exitAt - secondAt} after the 2nd signal` });
});

// ---------------------------------------------------------------------------
// 6. The runner as PID 1 of a PID namespace (a container's entrypoint):
// a default-action signal is ignored there, so the guard ends with _exit.

test('runner as PID 1 (unshare --pid): SIGTERM mid-run ends it with _exit(143), run interrupted, finished models delivered', { skip: NO_RUNNER }, async (t) => {
  const probe = spawnSync('unshare', ['--pid', '--fork', '--kill-child', 'true'], { encoding: 'utf8', timeout: scaleMs(10000) });
  if (probe.error || probe.status !== 0) {
    t.skip(`unshare --pid does not work here: ${probe.error ? probe.error.message : probe.stderr.trim()}`);
    return;
  }
  const fx = fixture(t);
  const p = fx.project(slowModels(), 2);
  const r = await fx.receiver();
  const { proc, seen } = await fx.startMidRun(p, r, { prefix: ['unshare', '--pid', '--fork', '--kill-child'] });
  const upid = proc.child.pid;
  const kids = fs.readFileSync(`/proc/${upid}/task/${upid}/children`, 'utf8').trim().split(/\s+/).map(Number);
  assert.equal(kids.length, 1, `unshare has one child: ${kids}`);
  const pid = kids[0];
  assert.equal(fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim(), 'rocky');
  const nspid = /^NSpid:\s+(.*)$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  assert.deepEqual(nspid[1].trim().split(/\s+/).map(Number), [pid, 1], 'the runner is PID 1 in its namespace');
  const killAt = Date.now();
  process.kill(pid, 'SIGTERM');
  const res = await proc.done;
  // unshare passes on a child's exit code, and re-raises a child's signal.
  assert.equal(res.signal, null, `the runner ended with _exit, not by the signal: ${res.stderr}`);
  assert.equal(res.code, 143, res.stderr);
  const bound = scaleMs(3000);
  assert.ok(res.exitAt - killAt <= bound, `exited ${res.exitAt - killAt} ms after SIGTERM (bound ${bound})`);
  const tj = await fx.trace(p.state, seen.run_id);
  assert.equal(tj.run_status, 'interrupted'); // TraceOutput 2.0: status is interrupted_failure
  for (const m of seen.models.filter((x) => x.status === 'success')) {
    assert.ok(tj.models.some((e) => e.span_id === m.span_id && e.status === 'success'), `${m.model_name} is on record`);
  }
  assert.ok(tj.models.filter((m) => m.started).length < p.count, 'the signal cut the run short');
  const { run } = assertRunArrived(r, tj);
  assert.equal(attrs(run.attributes)['rocky.run.status'], 'interrupted');
  await assertNothingPending(fx, p, r);
  table(t, { path: 'SIGTERM to the runner as PID 1', status: statusOf(res), spans: spansLine(r, tj),
    ms: `${res.exitAt - killAt} after the signal` });
});

// ---------------------------------------------------------------------------
// 7. Every stop signal at random times, from "the guard is installed" to
// past the exit.
//
// The clock starts when the runner logs that it loaded rocky_otel: it
// installs the exit guard before it loads plugins, so from then on every
// stop signal ends in a recorded run (a signal before it meets the default
// action, and no run exists to check). The signal comes at a uniform time
// in [0, D], D the time from that line to the exit of a run without one
// (run + flush), so it lands in setup, mid-run, in the flush, or after the
// process ended (then it is not sent). ROCKY_TEST_SEED repeats the times.

/** mulberry32: a small seeded PRNG. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const PF_EXITING = 0x4; // linux/sched.h: in exit_group, signals change nothing

/** The process is past the point where a signal could matter: gone, a
 * zombie, or exiting (read synchronously, just before the kill). */
function ending(pid) {
  let stat;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return true;
  }
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // f[0]: state, f[6]: flags
  return f[0] === 'Z' || f[0] === 'X' || (Number(f[6]) & PF_EXITING) !== 0;
}

/** Six models of ~70 ms, three levels on two threads (~0.25 s). */
function smallModels() {
  const n = 300000;
  return {
    m0: counting(n), m1: counting(n), m2: counting(n, ['m0']), m3: counting(n, ['m1']), m4: counting(n, ['m2']), m5: counting(n, ['m3']),
  };
}

/**
 * One run of the small project, `sig` sent `delayMs` after the guard is
 * known installed (none: sig null). Asserts everything the run must show
 * and returns what happened, for the tally.
 */
async function signalRun(fx, r, sig, delayMs) {
  const p = fx.project(smallModels(), 2);
  const proc = fx.start(ROCKY, runArgs(p), { OTEL_EXPORTER_OTLP_ENDPOINT: r.endpoint }, 20000);
  const mark = await fx.waitOutput(proc, 'stderr', /loaded rocky_otel/, 10000, 'the plugin loaded');
  await sleep(Math.max(0, mark.at + delayMs - Date.now()));
  let killAt = null;
  if (sig && proc.child.exitCode === null && proc.child.signalCode === null && !ending(proc.child.pid)) {
    killAt = Date.now();
    assert.ok(proc.child.kill(sig), `${sig} sent`);
  }
  const res = await proc.done;
  const why = `${sig || 'no signal'} at +${delayMs.toFixed(1)} ms (${killAt ? 'sent' : 'not sent: the process had ended'}): ${statusOf(res)}\n${res.stderr}`;
  await integrity(fx, p);
  const tj = await fx.trace(p.state);
  // The exit flush ended: rocky_otel's stop wrote its spans line.
  const flushed = /plugin rocky_otel: spans: \d+ delivered/.test(res.stderr);
  // README: dies by the signal (130, 143, 129); SIGQUIT: _exit(131).
  const asTable = sig === 'SIGQUIT' ? res.code === 131 && res.signal === null : res.code === null && res.signal === sig;
  let afterGuard = false;
  if (killAt === null) {
    assert.deepEqual([res.code, res.signal], [0, null], why);
  } else if (!asTable) {
    // Only a signal too late to matter: the run recorded and flushed, the
    // guard disarmed and its last look taken (run.h, step 5); the stop
    // signals stay blocked to the end, so it is not acted on — never a
    // default action (a core dump for SIGQUIT).
    afterGuard = true;
    assert.ok(tj.status === 'success' && flushed, `not the signal's status while the run was not over: ${why}`);
    assert.deepEqual([res.code, res.signal], [0, null], why);
  }
  if (killAt !== null) {
    const bound = scaleMs(2000);
    assert.ok(res.exitAt - killAt <= bound, `exited ${res.exitAt - killAt} ms after the signal (bound ${bound}): ${why}`);
  }

  assert.equal(tj.models.length, 6, why);
  if (tj.run_status === 'interrupted') {
    assert.ok(killAt !== null, `interrupted without a signal: ${why}`);
    // The run's end is taken after the stop is seen: the signal came before.
    assert.ok(killAt <= Date.parse(tj.finished_at) + 1, `interrupted, but the signal came after the recorded end ${tj.finished_at}: ${why}`);
    for (const m of tj.models) {
      assert.ok(['success', 'interrupted_failure', 'skipped'].includes(m.status), `${m.model_name}: ${m.status}: ${why}`);
      assert.equal(m.started, m.status !== 'skipped', `${m.model_name} ${m.status}, started ${m.started}: ${why}`);
    }
  } else {
    assert.equal(tj.status, 'success', why);
    assert.ok(tj.models.every((m) => m.status === 'success'), why);
  }

  // At least once: what arrived, or --export-pending, has every span.
  const want = [...tj.models.filter((m) => m.started).map((m) => m.span_id), 'run'];
  const arrived = () => {
    const spans = traceSpans(r, tj.trace_id);
    const got = new Set(spans.map((s) => (s.name === 'run' ? 'run' : s.spanIdHex)));
    for (const s of spans.filter((x) => x.name === 'run')) {
      assert.equal(attrs(s.attributes)['rocky.run.status'], tj.run_status, `the run span says what the store says: ${why}`);
    }
    return want.filter((id) => !got.has(id));
  };
  const missing = arrived();
  const ex = await exportPending(fx, p, r);
  assert.equal(ex.code, 0, `${ex.stderr}\n${why}`);
  let pending = false;
  if (/no runs awaiting delivery/.test(ex.stdout)) {
    assert.deepEqual(missing, [], `the store says delivered, so every span arrived: ${r.describe()}: ${why}`);
  } else {
    pending = true;
    assert.match(ex.stdout, /1 of 1 pending runs exported/, why);
    assert.deepEqual(arrived(), [], `--export-pending delivered what was missing: ${why}`);
    const again = await exportPending(fx, p, r);
    assert.match(again.stdout, /no runs awaiting delivery/, why);
  }
  const outcome = killAt === null ? 'ended before the signal'
    : afterGuard ? `after the guard: ${statusOf(res)}` : tj.run_status === 'interrupted' ? 'interrupted' : 'signal after the run';
  return { outcome, pending, delivered: want.length - missing.length, total: want.length,
    exitMs: killAt === null ? null : res.exitAt - killAt, markToExit: res.exitAt - mark.at };
}

// Its own ctest entry, e2e_exit_random (this file with a name pattern),
// out of the tsan label: 80 runs take 2-5 min under TSan on 2 cores.
const RANDOM_ELSEWHERE = process.env.ROCKY_EXIT_SKIP_RANDOM ? 'runs as ctest e2e_exit_random' : false;

test('SIGINT, SIGTERM, SIGHUP and SIGQUIT, 20 each at random times: the signal\'s exit status in time, an intact store with a truthful run, no span lost for good', { skip: NO_RUNNER || RANDOM_ELSEWHERE }, async (t) => {
  const seed = process.env.ROCKY_TEST_SEED ? Number(process.env.ROCKY_TEST_SEED) : crypto.randomInt(2 ** 31);
  assert.ok(Number.isInteger(seed), `ROCKY_TEST_SEED=${process.env.ROCKY_TEST_SEED} is an integer`);
  t.diagnostic(`seed ${seed} (ROCKY_TEST_SEED=${seed} repeats these signal times)`);
  const rand = prng(seed);
  const fx = fixture(t);
  const r = await fx.receiver();
  const t0 = Date.now();

  // D: from "plugin loaded" to the exit of runs that no signal ends (the
  // mean of four), run the way the signalled ones are (two at a time, with
  // their checks).
  const base = await Promise.all([0, 1].map(async () => [await signalRun(fx, r, null, 0), await signalRun(fx, r, null, 0)]));
  const span = Math.round(base.flat().reduce((a, x) => a + x.markToExit, 0) / 4);
  for (const b of base.flat()) assert.equal(b.delivered, b.total);
  t.diagnostic(`signal times uniform in [0, ${span}] ms after the guard is installed`);

  const jobs = [];
  for (let i = 0; i < 20; i++) {
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT']) jobs.push({ sig, delayMs: rand() * span });
  }
  const results = [];
  let next = 0;
  let failed = false;
  async function worker() {
    while (!failed && next < jobs.length) {
      const job = jobs[next++];
      try {
        results.push({ ...job, ...(await signalRun(fx, r, job.sig, job.delayMs)) });
      } catch (err) {
        failed = true;
        err.message = `seed ${seed}, ${job.sig} at +${job.delayMs.toFixed(1)} ms: ${err.message}`;
        throw err;
      }
    }
  }
  await Promise.all([worker(), worker()]); // two at a time: 2 cores
  const took = Date.now() - t0;
  t.diagnostic(`80 signalled runs in ${took} ms`);

  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT']) {
    const mine = results.filter((x) => x.sig === sig);
    assert.equal(mine.length, 20);
    const by = {};
    for (const x of mine) by[x.outcome] = (by[x.outcome] || 0) + 1;
    const times = mine.filter((x) => x.exitMs !== null).map((x) => x.exitMs).sort((a, b) => a - b);
    const delivered = mine.reduce((a, x) => a + x.delivered, 0);
    const total = mine.reduce((a, x) => a + x.total, 0);
    const pending = mine.filter((x) => x.pending).length;
    const status = sig === 'SIGQUIT' ? 'exit 131' : `killed by ${sig}`;
    const other = Object.keys(by).filter((k) => k.startsWith('after the guard')).map((k) => `${by[k]}x ${k}`);
    t.diagnostic(`${sig}: ${JSON.stringify(by)}`);
    table(t, { path: `${sig} at a random time (20 runs: ${by.interrupted || 0} mid-run, ${by['signal after the run'] || 0} after it, ` +
      `${by['ended before the signal'] || 0} not sent: the process had ended)`, status: [status, ...other].join('; '),
      spans: `${delivered} of ${total} live${pending ? `, ${pending} runs pending then exported` : ''}`,
      ms: times.length ? `median ${times[times.length >> 1]}, max ${times[times.length - 1]} after the signal` : 'none sent' });
  }
  // Some signals must have landed mid-run, or this tested little.
  assert.ok(results.filter((x) => x.outcome === 'interrupted').length >= 20, JSON.stringify(results.map((x) => x.outcome)));
});
