'use strict';
// Every invalid OTel environment value: exactly one warning naming the
// variable and the default used, and the run is unaffected (its spans are
// delivered). Header values never appear in any output.
const test = require('node:test');
const assert = require('node:assert/strict');
const { startReceiver } = require('./receiver/harness');
const { drive } = require('./common');

// [variable, invalid value, the default the warning must name]
const CASES = [
  ['OTEL_EXPORTER_OTLP_TIMEOUT', 'ten', 'the default 10000'],
  ['OTEL_EXPORTER_OTLP_TRACES_TIMEOUT', '-5', 'the default 10000'],
  ['OTEL_EXPORTER_OTLP_METRICS_TIMEOUT', '1e3', 'the default 10000'],
  ['OTEL_EXPORTER_OTLP_COMPRESSION', 'brotli', 'the default none'],
  ['OTEL_EXPORTER_OTLP_TRACES_COMPRESSION', 'zstd', 'the default none'],
  ['OTEL_EXPORTER_OTLP_INSECURE', 'yes', 'the default false'],
  // Plaintext here, so the CA file is not needed (over TLS an unreadable one
  // turns the signal off: otel_secrets.test.js).
  ['OTEL_EXPORTER_OTLP_CERTIFICATE', '/nonexistent/ca.pem', 'no CA file'],
  ['OTEL_EXPORTER_OTLP_PROTOCOL', 'http/protobuf', 'grpc'],
  ['OTEL_SDK_DISABLED', '1', 'the default false'],
  ['OTEL_RESOURCE_ATTRIBUTES', 'team=data,broken', 'no extra resource attributes'],
  ['OTEL_RESOURCE_ATTRIBUTES', 'team=%zz', 'no extra resource attributes'],
  ['OTEL_SERVICE_NAME', 'x'.repeat(300), 'the default rocky'],
  ['OTEL_BSP_MAX_QUEUE_SIZE', '0', 'the default 2048'],
  ['OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 'big', 'the default 512'],
  ['OTEL_BSP_SCHEDULE_DELAY', '-1', 'the default 5000'],
  ['OTEL_BSP_EXPORT_TIMEOUT', '3s', 'the default 30000'],
  ['OTEL_METRIC_EXPORT_INTERVAL', 'hourly', 'the default 60000'],
  ['OTEL_METRIC_EXPORT_TIMEOUT', '0', 'the default 30000'],
  ['OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE', 'sometimes', 'the default cumulative'],
  ['OTEL_TRACES_EXPORTER', 'zipkin', 'the default otlp'],
  ['OTEL_METRICS_EXPORTER', 'prometheus', 'the default otlp'],
  ['OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT', 'short', 'the default -1'],
  ['ROCKY_OTEL_EXIT_TIMEOUT_MS', 'soon', 'the default 10000'],
];

for (const [name, value, dflt] of CASES) {
  test(`${name}=${JSON.stringify(value.slice(0, 20))}: one warning, default used, run unaffected`, async () => {
    const r = await startReceiver();
    try {
      const res = await drive({ OTEL_EXPORTER_OTLP_ENDPOINT: r.endpoint, [name]: value }, ['--models', '3']);
      assert.equal(res.code, 0, res.stderr);
      const lines = res.stderr.split('\n').filter((l) => l.includes(name));
      assert.equal(lines.length, 1, `exactly one warning for ${name}:\n${res.stderr}`);
      assert.match(lines[0], /warn/i);
      assert.ok(lines[0].includes(`using ${dflt}`), `names the default "${dflt}": ${lines[0]}`);
      assert.equal(res.summary.delivered, 4, `spans still delivered:\n${res.stderr}`);
    } finally {
      await r.stop();
    }
  });
}

test('a malformed header list: one warning, nothing sent without the headers, the value never printed', async () => {
  const r = await startReceiver();
  try {
    const res = await drive({ OTEL_EXPORTER_OTLP_ENDPOINT: r.endpoint,
      OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20sekrit-token,garbage-no-equals' }, ['--models', '2']);
    assert.equal(res.code, 0, res.stderr);
    const lines = res.stderr.split('\n').filter((l) => l.includes('OTEL_EXPORTER_OTLP_HEADERS'));
    assert.equal(lines.length, 1, res.stderr);
    assert.match(lines[0], /is malformed.*traces and metrics are not exported/);
    assert.ok(!res.stderr.includes('sekrit'), 'header value never printed');
    assert.equal(r.calls.length, 0, 'nothing sent unauthenticated');
  } finally {
    await r.stop();
  }
});

test('an invalid endpoint: one warning, the signal off (no default endpoint), the run unaffected', async () => {
  const res = await drive({ OTEL_EXPORTER_OTLP_ENDPOINT: 'ftp://collector:21', OTEL_EXPORTER_OTLP_TIMEOUT: '500' },
    ['--models', '2', '--deadline-ms', '2000']);
  assert.equal(res.code, 0, res.stderr);
  const lines = res.stderr.split('\n').filter((l) => l.includes('OTEL_EXPORTER_OTLP_ENDPOINT'));
  assert.equal(lines.length, 1, res.stderr);
  assert.match(lines[0], /is refused: it has a scheme other than http:\/\/ .*; traces and metrics are not exported/);
  assert.doesNotMatch(res.stderr, /localhost/);
  assert.ok(res.summary.shutdown_ms < 1000, `shutdown took ${res.summary.shutdown_ms} ms`);
});

test('valid values in odd case are accepted without warnings', async () => {
  const r = await startReceiver();
  try {
    const res = await drive({ OTEL_EXPORTER_OTLP_ENDPOINT: r.endpoint, OTEL_EXPORTER_OTLP_COMPRESSION: 'GZip',
      OTEL_EXPORTER_OTLP_INSECURE: 'TRUE', OTEL_TRACES_EXPORTER: 'OTLP', OTEL_EXPORTER_OTLP_PROTOCOL: 'GRPC',
      OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'Cumulative', OTEL_BSP_SCHEDULE_DELAY: '' },
    ['--models', '2']);
    assert.equal(res.code, 0, res.stderr);
    assert.ok(!/warn/i.test(res.stderr), res.stderr);
    assert.equal(res.summary.delivered, 3);
    for (const c of r.calls) assert.equal(c.encoding, 'gzip');
  } finally {
    await r.stop();
  }
});

test('OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT cuts string attributes by characters', async () => {
  const r = await startReceiver();
  try {
    const res = await drive({ OTEL_EXPORTER_OTLP_ENDPOINT: r.endpoint, OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '7' },
      ['--models', '2']);
    assert.equal(res.code, 0, res.stderr);
    const { attrs } = require('./common');
    const m = r.spans().find((x) => x.span.name === 'materialize.table').span;
    assert.equal(attrs(m.attributes)['rocky.model.name'], 'model_0');
    assert.equal(attrs(m.attributes)['rocky.model.sql_hash'].length, 7);
  } finally {
    await r.stop();
  }
});
