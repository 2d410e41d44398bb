'use strict';
// Plugin ABI 2.0 instances, end to end: one rocky_otel.so loaded twice by
// the real runner from rocky.json, each instance with its own config
// (endpoint, service name), each sending to its own independent receiver.
// Each receiver must get the whole run — every span exactly once, under
// that instance's service name — and nothing meant for the other.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { startReceiver, unusedPort } = require('./receiver/harness');
const { runProcess, attrs, PLUGIN } = require('./common');

const ROCKY = process.env.ROCKY_BIN;

function makeProject(dir, plugins) {
  fs.mkdirSync(path.join(dir, 'models'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'models', 'a.sql'), 'SELECT 1 AS x\n');
  fs.writeFileSync(path.join(dir, 'models', 'b.sql'), 'SELECT x FROM a\n');
  fs.writeFileSync(path.join(dir, 'models', 'c.sql'), 'SELECT x FROM a\n');
  fs.writeFileSync(path.join(dir, 'models', 'd.sql'), 'SELECT abs(-9223372036854775808) AS y\n');
  fs.writeFileSync(path.join(dir, 'models', 'e.sql'), 'SELECT y FROM d\n');
  fs.writeFileSync(path.join(dir, 'rocky.json'), JSON.stringify({ name: 'two', threads: 2, plugins }));
}

test('two instances of rocky_otel with their own config each deliver the whole run to their own collector', { skip: !ROCKY && 'no runner' }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rocky-instances-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const a = await startReceiver();
  t.after(() => a.stop());
  const b = await startReceiver();
  t.after(() => b.stop());
  makeProject(path.join(dir, 'p'), [
    { path: PLUGIN, name: 'otel_a', config: { endpoint: a.endpoint, service_name: 'svc-a', insecure: true } },
    { path: PLUGIN, name: 'otel_b', config: { endpoint: b.endpoint, service_name: 'svc-b', timeout: 5000 } },
  ]);
  const state = path.join(dir, 'state.db');
  // The environment points elsewhere: each instance's config must win.
  const res = await runProcess(ROCKY, ['run', path.join(dir, 'p'), '--state', state],
    { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', OTEL_SERVICE_NAME: 'from-env', ROCKY_LOG: 'info' }, 60000);
  assert.equal(res.code, 1, `partial failure expected\n${res.stdout}\n${res.stderr}`);
  assert.doesNotMatch(res.stderr, /did not confirm delivery/, res.stderr);

  const shown = await runProcess(ROCKY, ['trace', 'latest', '--json', '--state', state], {});
  const doc = JSON.parse(shown.stdout);
  const ran = doc.models.filter((m) => m.status !== 'skipped');
  for (const [rx, svc] of [[a, 'svc-a'], [b, 'svc-b']]) {
    const spans = rx.spans();
    const models = spans.filter((s) => s.span.name === 'materialize.table');
    const statements = spans.filter((s) => s.span.name === 'statement.execute');
    const others = spans.filter((s) => s.span.name !== 'materialize.table' && s.span.name !== 'statement.execute');
    assert.equal(others.length, 1, `${svc}: one run span`);
    const modelIds = new Set(models.map((s) => s.span.spanIdHex));
    assert.ok(statements.length >= models.length, `${svc}: statement spans of the live run`);
    assert.ok(statements.every((s) => modelIds.has(s.span.parentSpanIdHex)), `${svc}: each under its model`);
    assert.equal(models.length, ran.length, `${svc}: one span per model that ran`);
    assert.deepEqual(new Set(models.map((s) => s.span.spanIdHex)), new Set(ran.map((m) => m.span_id)));
    for (const s of spans) {
      assert.equal(s.span.traceIdHex, doc.trace_id);
      assert.equal(attrs(s.resource.attributes)['service.name'], svc);
    }
  }
});

test('an unknown rocky_otel config key refuses that instance by name; the run and the other instance go on', { skip: !ROCKY && 'no runner' }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rocky-instances-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const a = await startReceiver();
  t.after(() => a.stop());
  makeProject(path.join(dir, 'p'), [
    { path: PLUGIN, name: 'good', config: { endpoint: a.endpoint } },
    { path: PLUGIN, name: 'typo', config: { endpont: 'http://127.0.0.1:9' } },
  ]);
  const res = await runProcess(ROCKY, ['run', path.join(dir, 'p'), '--state', path.join(dir, 'state.db')],
    { ROCKY_LOG: 'info' }, 60000);
  assert.equal(res.code, 1, res.stderr);
  assert.match(res.stderr, /plugin .*rocky_otel\.so: create failed .*endpont/);
  assert.match(res.stderr, /continuing without it/);
  assert.ok(a.spans().length >= 4, 'the good instance delivered');
});

test('an instance whose collector was down is re-sent alone, with its rocky.json config, by --export-pending without --plugin', { skip: !ROCKY && 'no runner' }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rocky-instances-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const a = await startReceiver();
  t.after(() => a.stop());
  const downPort = await unusedPort();
  makeProject(path.join(dir, 'p'), [
    { path: PLUGIN, name: 'otel_a', config: { endpoint: a.endpoint, service_name: 'svc-a' } },
    { path: PLUGIN, name: 'otel_b',
      config: { endpoint: `http://127.0.0.1:${downPort}`, service_name: 'svc-b', timeout: 500, exit_timeout_ms: 1500,
        headers: 'x-tenant=CANARY-tenant-b' } },
  ]);
  const state = path.join(dir, 'state.db');
  const res = await runProcess(ROCKY, ['run', path.join(dir, 'p'), '--state', state], { ROCKY_LOG: 'info' }, 60000);
  assert.equal(res.code, 1, `partial failure expected\n${res.stderr}`);
  // The last line names the instance that did not confirm, and only it.
  const last = res.stderr.trim().split('\n').pop();
  const m = /plugins did not confirm delivery of run (\S+) \(.*\): otel_b \(\d+ pending, \d+ dropped\); send them again with: rocky trace (\S+) --export --state (\S+)$/.exec(last);
  assert.ok(m, `last line: ${last}`);
  assert.equal(m[2], m[1]);
  assert.equal(m[3], state);
  assert.doesNotMatch(last, /otel_a/);
  // A credential in rocky.json is not copied into the state store.
  assert.ok(!fs.readFileSync(state).includes('CANARY-tenant-b'), 'the header value is not in state.db');
  const aBefore = a.spans().length;
  assert.ok(aBefore >= 4, 'otel_a delivered during the run');

  // The collector comes back; the re-send names no plugin and points the
  // environment elsewhere: the recorded config must carry it, and only
  // otel_b may send.
  const b = await startReceiver({ port: downPort });
  t.after(() => b.stop());
  // Its withheld headers come from the re-send's own environment.
  const pend = await runProcess(ROCKY, ['trace', '--export-pending', '--state', state],
    { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', OTEL_EXPORTER_OTLP_HEADERS: 'x-tenant=from-env', ROCKY_LOG: 'info' },
    60000);
  assert.equal(pend.code, 0, pend.stderr);
  assert.match(pend.stderr, /plugin instance 'otel_b': the value of its config headers was not stored \(credentials never are\)/);
  const tenants = new Set(b.calls.filter((c) => c.service === 'trace').map((c) => c.metadata['x-tenant']));
  assert.deepEqual([...tenants], ['from-env'], 'the re-send sent the environment\'s header');
  assert.match(pend.stdout, new RegExp(`exported run ${m[1]} via plugin instance 'otel_b': \\d+ spans delivered`));
  assert.match(pend.stdout, /1 of 1 pending runs exported/);
  const shown = JSON.parse((await runProcess(ROCKY, ['trace', m[1], '--json', '--state', state], {})).stdout);
  const ran = shown.models.filter((x) => x.status !== 'skipped');
  const spans = b.spans();
  const models = spans.filter((s) => s.span.name === 'materialize.table');
  assert.deepEqual(new Set(models.map((s) => s.span.spanIdHex)), new Set(ran.map((x) => x.span_id)));
  // a replay: the run and its models, no statement spans (none are stored)
  assert.equal(spans.filter((s) => s.span.name === 'statement.execute').length, 0, 'no statement span in a replay');
  assert.equal(spans.length - models.length, 1, 'one run span');
  for (const s of spans) assert.equal(attrs(s.resource.attributes)['service.name'], 'svc-b');
  assert.equal(a.spans().length, aBefore, 'otel_a had confirmed: it sent nothing again');

  const again = await runProcess(ROCKY, ['trace', '--export-pending', '--state', state], {}, 30000);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /no runs awaiting delivery/);
});
