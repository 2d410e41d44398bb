'use strict';
// Inert unless configured: no endpoint, or OTEL_SDK_DISABLED=true, or both
// signals off -> loading the plugin starts no thread and opens no socket.
const test = require('node:test');
const assert = require('node:assert/strict');
const { startReceiver } = require('./receiver/harness');
const { drive } = require('./common');

function assertInert(res) {
  assert.equal(res.code, 0, res.stderr);
  const s = res.summary;
  assert.equal(s.threads_after_init, s.threads_before, 'init started no thread');
  assert.equal(s.threads_during, s.threads_before, 'no thread while events flow');
  assert.equal(s.sockets_after_init, s.sockets_before, 'no socket');
  assert.equal(s.sockets_during, s.sockets_before, 'no socket');
  assert.equal(s.accepted, 0);
  assert.equal(s.shutdown_rc, 0);
}

test('no endpoint: inert', async () => {
  const res = await drive({}, ['--models', '10']);
  assertInert(res);
  assert.match(res.stderr, /inactive: no OTEL_EXPORTER_OTLP_ENDPOINT set/);
});

test('OTEL_SDK_DISABLED=true with an endpoint: inert, nothing sent', async () => {
  const r = await startReceiver();
  try {
    const res = await drive({ OTEL_EXPORTER_OTLP_ENDPOINT: r.endpoint, OTEL_SDK_DISABLED: 'TRUE' }, ['--models', '10']);
    assertInert(res);
    assert.equal(r.calls.length, 0);
  } finally {
    await r.stop();
  }
});

test('both exporters none: inert', async () => {
  const res = await drive({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', OTEL_TRACES_EXPORTER: 'none',
    OTEL_METRICS_EXPORTER: 'none' }, ['--models', '3']);
  assertInert(res);
});

test('configured: the exporter does start threads (the inert checks can fail)', async () => {
  const r = await startReceiver();
  try {
    const res = await drive({ OTEL_EXPORTER_OTLP_ENDPOINT: r.endpoint }, ['--models', '3']);
    assert.equal(res.code, 0, res.stderr);
    assert.ok(res.summary.threads_after_init > res.summary.threads_before);
  } finally {
    await r.stop();
  }
});
