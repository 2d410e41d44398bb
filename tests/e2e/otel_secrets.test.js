'use strict';
// No secret leaves where it belongs. A canary bearer token (a header value)
// and a canary URL password are configured in every failure mode we can
// produce; EVERY byte the process writes (stdout and stderr of drive_plugin
// and of `rocky run` with the plugin) is searched for them, raw, as hex
// (gRPC dumps metadata as "42 65 61 ...") and as base64. Each mode also
// checks what the user is told instead: one line saying what is wrong.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const tls = require('tls');
const { execFileSync } = require('child_process');
const { startReceiver, unusedPort, grpc, loadProtos } = require('./receiver/harness');
const { drive, runProcess, PLUGIN } = require('./common');

const ROCKY = process.env.ROCKY_BIN;
const TOKEN = 'CANARY-7f3a91c2e4b5';
const PW = 'CANARYPW';
const AUTH = `authorization=Bearer%20${TOKEN}`;
const FAST = { OTEL_EXPORTER_OTLP_TIMEOUT: '1000', ROCKY_OTEL_EXIT_TIMEOUT_MS: '1500', OTEL_BSP_SCHEDULE_DELAY: '100' };

// Every form of the canaries we know of; a match anywhere is a leak.
const FORMS = (() => {
  const hexSpaced = (s) => [...Buffer.from(s)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  const raw = ['CANARY', TOKEN, PW];
  const forms = [
    ...raw,
    ...raw.map((s) => Buffer.from(s).toString('hex')),
    ...raw.map(hexSpaced),
    Buffer.from(`Bearer ${TOKEN}`).toString('base64'),
    Buffer.from(`user:${PW}`).toString('base64'),
  ];
  return forms.map((f) => f.toLowerCase());
})();

function leaks(text) {
  const t = text.toLowerCase();
  return FORMS.filter((f) => t.includes(f));
}

function assertNoLeak(res, what) {
  const all = `${res.stdout}\n${res.stderr}`;
  const found = leaks(all);
  assert.deepEqual(found, [], `${what}: a canary leaked (${found.join(', ')}):\n${all}`);
}

function warnLines(stderr) {
  return stderr.split('\n').filter((l) => /warn/i.test(l));
}

function makeProject(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rocky-secrets-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.mkdirSync(path.join(dir, 'p', 'models'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'p', 'models', 'a.sql'), 'SELECT 1 AS x\n');
  fs.writeFileSync(path.join(dir, 'p', 'models', 'b.sql'), 'SELECT x FROM a\n');
  fs.writeFileSync(path.join(dir, 'p', 'rocky.json'), JSON.stringify({ name: 'secrets', threads: 2 }));
  return dir;
}

// drive_plugin, and `rocky run` with the plugin, in the same environment.
async function runBoth(t, env, what) {
  const out = [];
  out.push({ who: 'drive_plugin', ...(await drive({ ...FAST, ...env }, ['--models', '3', '--deadline-ms', '2500'])) });
  if (ROCKY) {
    const dir = makeProject(t);
    const res = await runProcess(ROCKY, ['run', path.join(dir, 'p'), '--state', path.join(dir, 'state.db'),
      '--plugin', PLUGIN], { ...FAST, ...env }, 30000);
    out.push({ who: 'rocky run', ...res });
  }
  for (const r of out) {
    assert.equal(r.signal, null, `${what}: ${r.who} killed by ${r.signal}\n${r.stderr}`);
    assertNoLeak(r, `${what} (${r.who})`);
  }
  return out;
}

// A TLS server that completes handshakes with a self-signed certificate and
// then hangs up: a collector whose certificate the exporter must not trust.
function startSelfSignedTls(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rocky-secrets-tls-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert,
    '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore', timeout: 30000 });
  const server = tls.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert), ALPNProtocols: ['h2'] },
    (c) => c.destroy());
  server.on('tlsClientError', () => {});
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    t.after(() => new Promise((r) => server.close(r)));
    resolve(server.address().port);
  }));
}

const REFUSED_ENDPOINTS = [
  ['credentials in an https URL', `https://user:${PW}@collector.example.com:4317`, /"https:\/\/\*\*\*@collector\.example\.com:4317" is refused: it has credentials/],
  ['credentials in an http URL with a path', `http://user:${PW}@127.0.0.1:4317/v1/${PW}`, /"http:\/\/\*\*\*@127\.0\.0\.1:4317\/\.\.\." is refused: it has credentials/],
  ['port 99999', 'http://127.0.0.1:99999', /is refused: it has a port that is not a number in 1\.\.65535/],
  ['an unknown scheme with credentials', `ftp://user:${PW}@collector:21`, /"ftp:\/\/\*\*\*@collector:21" is refused: it has credentials/],
  ['an unknown scheme', 'grpc://collector:4317', /is refused: it has a scheme other than/],
  ['an empty host', 'https://:4317', /is refused: it has no host/],
  ['garbage', 'http://collector example:4317', /is refused: it has a character a host name cannot have/],
];

for (const [what, endpoint, expected] of REFUSED_ENDPOINTS) {
  test(`endpoint with ${what}: refused with one warning, nothing exported, no canary in any output`, async (t) => {
    for (const r of await runBoth(t, { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_HEADERS: AUTH }, what)) {
      const lines = r.stderr.split('\n').filter((l) => l.includes('OTEL_EXPORTER_OTLP_ENDPOINT'));
      assert.equal(lines.length, 1, `${r.who}: one warning:\n${r.stderr}`);
      assert.match(lines[0], expected, r.who);
      assert.match(lines[0], /traces and metrics are not exported/, r.who);
      assert.doesNotMatch(r.stderr, /localhost|4317 failed/, `${r.who}: no fallback:\n${r.stderr}`);
    }
  });
}

test('an endpoint that was refused never falls back to 127.0.0.1:4317: nothing connects there', async (t) => {
  const got = [];
  const server = net.createServer((c) => { got.push(c.remoteAddress); c.on('data', () => {}); c.on('error', () => {}); });
  const bound = await new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(4317, '127.0.0.1', () => resolve(true));
  });
  if (!bound) {
    t.skip('127.0.0.1:4317 is in use on this machine');
    return;
  }
  t.after(() => new Promise((r) => server.close(r)));
  for (const endpoint of [`https://user:${PW}@collector.example.com:4317`, 'http://collector:99999', `ftp://u:${PW}@c:21`]) {
    const res = await drive({ ...FAST, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_HEADERS: AUTH },
      ['--models', '3', '--deadline-ms', '2500']);
    assert.deepEqual(got, [], `${endpoint}: something connected to the old fallback 127.0.0.1:4317:\n${res.stderr}`);
    assertNoLeak(res, endpoint);
  }
});

const ILLEGAL_HEADERS = [
  ['CR/LF', `authorization=Bearer%0D%0A${TOKEN}`],
  ['a percent-encoded tab', `authorization=Bearer%09${TOKEN}`],
  ['a raw tab', `authorization=Bearer\t${TOKEN}`],
  ['a non-ASCII byte', `authorization=Bearer%C3%A9${TOKEN}`],
  ['an escape sequence', `authorization=%1B%5D0%3B${TOKEN}%07`],
];

for (const [what, headers] of ILLEGAL_HEADERS) {
  test(`a header value with ${what}: refused naming the key only, nothing sent without it, no canary in any output`, async (t) => {
    const r = await startReceiver();
    t.after(() => r.stop());
    for (const res of await runBoth(t, { OTEL_EXPORTER_OTLP_ENDPOINT: r.endpoint, OTEL_EXPORTER_OTLP_HEADERS: headers }, what)) {
      const lines = res.stderr.split('\n').filter((l) => l.includes('OTEL_EXPORTER_OTLP_HEADERS'));
      assert.equal(lines.length, 1, `${res.who}: one warning:\n${res.stderr}`);
      assert.match(lines[0], /header "authorization" has a value gRPC cannot send.*traces and metrics are not exported/);
      assert.doesNotMatch(res.stderr, /grpc:/, `${res.who}: gRPC never saw it:\n${res.stderr}`);
    }
    assert.equal(r.calls.length, 0, 'nothing sent without the header');
  });
}

test('a legal header reaches the collector and is never printed, even at debug level', async (t) => {
  const r = await startReceiver();
  t.after(() => r.stop());
  await runBoth(t, { OTEL_EXPORTER_OTLP_ENDPOINT: r.endpoint, OTEL_EXPORTER_OTLP_HEADERS: AUTH }, 'healthy');
  assert.ok(r.calls.length > 0, 'exported');
  for (const c of r.calls) assert.equal(c.metadata.authorization, `Bearer ${TOKEN}`);
});

test('collector down: one failure line, no canary', async (t) => {
  const port = await unusedPort();
  for (const res of await runBoth(t, { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, OTEL_EXPORTER_OTLP_HEADERS: AUTH }, 'collector down')) {
    assert.equal(res.stderr.split('\n').filter((l) => /failed: UNAVAILABLE/.test(l)).length, 1, `${res.who}:\n${res.stderr}`);
  }
});

test('a collector that echoes the token in its status message: the message is withheld', async (t) => {
  const protos = loadProtos();
  const server = new grpc.Server();
  const echo = (call, cb) => cb({ code: grpc.status.UNAUTHENTICATED,
    details: `token ${call.metadata.get('authorization')[0]} is not valid` });
  server.addService(protos['opentelemetry.proto.collector.trace.v1.TraceService'], { Export: echo });
  server.addService(protos['opentelemetry.proto.collector.metrics.v1.MetricsService'], { Export: echo });
  const port = await new Promise((resolve, reject) => server.bindAsync('127.0.0.1:0',
    grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  t.after(() => server.forceShutdown());
  for (const res of await runBoth(t, { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, OTEL_EXPORTER_OTLP_HEADERS: AUTH }, 'echoing collector')) {
    assert.match(res.stderr, /UNAUTHENTICATED: \(status message withheld: it held a configured header value\)/, res.who);
  }
});

test('TLS to a plaintext collector: ONE line saying so (not one per connection attempt), no canary', async (t) => {
  const r = await startReceiver();
  t.after(() => r.stop());
  for (const res of await runBoth(t, { OTEL_EXPORTER_OTLP_ENDPOINT: `https://127.0.0.1:${r.port}`, OTEL_EXPORTER_OTLP_HEADERS: AUTH }, 'TLS to plaintext')) {
    const tlsLines = res.stderr.split('\n').filter((l) => /ssl|tls|handshake/i.test(l));
    assert.equal(tlsLines.length, 1, `${res.who}: one TLS line:\n${res.stderr}`);
    assert.match(tlsLines[0], /wrong version number.*TLS failed: if the collector is plaintext, use http:\/\//);
  }
  assert.equal(r.calls.length, 0);
});

test('TLS to a collector with an untrusted certificate: ONE line, no canary', async (t) => {
  const port = await startSelfSignedTls(t);
  for (const res of await runBoth(t, { OTEL_EXPORTER_OTLP_ENDPOINT: `https://127.0.0.1:${port}`, OTEL_EXPORTER_OTLP_HEADERS: AUTH }, 'untrusted certificate')) {
    const tlsLines = res.stderr.split('\n').filter((l) => /ssl|tls|handshake|certificate/i.test(l));
    assert.equal(tlsLines.length, 1, `${res.who}: one TLS line:\n${res.stderr}`);
    assert.match(tlsLines[0], /certificate verify failed/);
  }
});

test('TLS with a missing certificate file: one warning naming the file, no canary', async (t) => {
  const port = await startSelfSignedTls(t);
  const res = await runBoth(t, { OTEL_EXPORTER_OTLP_ENDPOINT: `https://127.0.0.1:${port}`, OTEL_EXPORTER_OTLP_HEADERS: AUTH,
    OTEL_EXPORTER_OTLP_CERTIFICATE: '/nonexistent/ca.pem' }, 'missing certificate file');
  for (const r of res) {
    assert.equal(r.stderr.split('\n').filter((l) => l.includes('OTEL_EXPORTER_OTLP_CERTIFICATE="')).length, 1, r.stderr);
    assert.ok(warnLines(r.stderr).length <= 4, `${r.who}: a few lines, not one per attempt:\n${r.stderr}`);
  }
});
