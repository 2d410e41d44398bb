'use strict';
// Self-test of the e2e receiver: an independent grpc-js CLIENT built from the
// same official OTLP protos drives every behaviour the contract promises.
// Run: node --test tests/e2e/receiver/selftest.test.js

const test = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');

let grpc;
let harness;
try {
  grpc = require('@grpc/grpc-js');
  harness = require('./harness');
} catch (err) {
  throw new Error(
    `receiver self-test: dependencies missing (${err.message}); run \`npm ci\` in ${__dirname} ` +
      '(./scripts/install-deps does it)',
  );
}
const { startReceiver, loadProtos, scaleMs, TRACE_SERVICE, METRICS_SERVICE } = harness;

const T = (ms) => scaleMs(ms);

// ---------------------------------------------------------------------------
// An independent protobuf wire reader, so the receiver's own encoders
// (wire.js, protobufjs) are checked against the spec, not against themselves.
function readVarint(buf, pos) {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    if (pos >= buf.length) throw new Error('truncated varint');
    const b = buf[pos++];
    result |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return [result, pos];
    shift += 7n;
  }
}

/** Decode one message level into {fieldNumber: [values]}: varints as BigInt, length-delimited as Buffer. */
function readFields(buf) {
  const out = {};
  let pos = 0;
  while (pos < buf.length) {
    let key;
    [key, pos] = readVarint(buf, pos);
    const field = Number(key >> 3n);
    const wt = Number(key & 7n);
    let value;
    if (wt === 0) {
      [value, pos] = readVarint(buf, pos);
    } else if (wt === 2) {
      let len;
      [len, pos] = readVarint(buf, pos);
      value = buf.subarray(pos, pos + Number(len));
      pos += Number(len);
    } else {
      throw new Error(`unexpected wire type ${wt} for field ${field}`);
    }
    (out[field] = out[field] || []).push(value);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Client side.

function clients(endpointPort, channelOptions = {}) {
  const proto = grpc.loadPackageDefinition(loadProtos());
  const addr = `127.0.0.1:${endpointPort}`;
  const creds = grpc.credentials.createInsecure();
  return {
    trace: new proto.opentelemetry.proto.collector.trace.v1.TraceService(addr, creds, channelOptions),
    metrics: new proto.opentelemetry.proto.collector.metrics.v1.MetricsService(addr, creds, channelOptions),
  };
}

/** A client whose responses are the raw bytes (requests still encoded by the official protos). */
function rawResponseClient(serviceName, port) {
  const def = { ...loadProtos()[serviceName] };
  def.Export = { ...def.Export, responseDeserialize: (b) => Buffer.from(b) };
  const Ctor = grpc.makeGenericClientConstructor(def, serviceName);
  return new Ctor(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}

function exportCall(client, request, { metadata = new grpc.Metadata(), deadlineMs = 3000 } = {}) {
  const started = Date.now();
  return new Promise((resolve) => {
    client.Export(request, metadata, { deadline: Date.now() + T(deadlineMs) }, (err, response) => {
      resolve({ err, response, elapsedMs: Date.now() - started });
    });
  });
}

const TRACE_ID = Buffer.from('0af7651916cd43dd8448eb211c80319c', 'hex');
const ROOT_ID = Buffer.from('b7ad6b7169203331', 'hex');
const CHILD_ID = Buffer.from('00f067aa0ba902b7', 'hex');

function str(key, value) {
  return { key, value: { stringValue: value } };
}

function traceRequest({ padding = 0 } = {}) {
  return {
    resourceSpans: [
      {
        resource: { attributes: [str('service.name', 'rocky-selftest')] },
        scopeSpans: [
          {
            scope: { name: 'rocky_otel', version: '0.1.0' },
            spans: [
              {
                traceId: TRACE_ID,
                spanId: ROOT_ID,
                name: 'run',
                kind: 'SPAN_KIND_INTERNAL',
                startTimeUnixNano: '1700000000000000000',
                endTimeUnixNano: '1700000001000000000',
                attributes: [str('rocky.run_id', 'run-1'), str('pad', 'x'.repeat(padding))],
                status: { code: 'STATUS_CODE_OK' },
              },
              {
                traceId: TRACE_ID,
                spanId: CHILD_ID,
                parentSpanId: ROOT_ID,
                name: 'materialize.table',
                startTimeUnixNano: '1700000000100000000',
                endTimeUnixNano: '1700000000900000000',
                attributes: [{ key: 'rocky.rows_affected', value: { intValue: '42' } }],
                status: { code: 'STATUS_CODE_ERROR', message: 'boom' },
              },
            ],
          },
        ],
      },
    ],
  };
}

function metricsRequest() {
  return {
    resourceMetrics: [
      {
        resource: { attributes: [str('service.name', 'rocky-selftest')] },
        scopeMetrics: [
          {
            scope: { name: 'rocky_otel' },
            metrics: [
              {
                name: 'rocky.tables_processed',
                unit: '{table}',
                sum: {
                  aggregationTemporality: 'AGGREGATION_TEMPORALITY_CUMULATIVE',
                  isMonotonic: true,
                  dataPoints: [
                    { startTimeUnixNano: '1', timeUnixNano: '2', asInt: '7', attributes: [str('rocky.status', 'ok')] },
                  ],
                },
              },
              {
                name: 'rocky.table_duration_ms',
                unit: 'ms',
                histogram: {
                  aggregationTemporality: 'AGGREGATION_TEMPORALITY_CUMULATIVE',
                  dataPoints: [
                    {
                      startTimeUnixNano: '1',
                      timeUnixNano: '2',
                      count: '3',
                      sum: 60.5,
                      bucketCounts: ['1', '2', '0'],
                      explicitBounds: [10, 100],
                    },
                  ],
                },
              },
            ],
          },
        ],
      },
    ],
  };
}

/** Start a receiver and make sure it is stopped when the test ends. */
async function receiverFor(t, opts) {
  const r = await startReceiver(opts);
  t.after(() => r.stop());
  return r;
}

function closeAfter(t, ...cs) {
  t.after(() => cs.forEach((c) => c.close()));
}

const TEST_TIMEOUT = T(20000);

// ---------------------------------------------------------------------------

test('trace export arrives and decodes with hex ids', { timeout: TEST_TIMEOUT }, async (t) => {
  const r = await receiverFor(t);
  assert.match(r.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(r.endpoint, `http://127.0.0.1:${r.port}`);
  const c = clients(r.port);
  closeAfter(t, c.trace, c.metrics);
  const { err } = await exportCall(c.trace, traceRequest());
  assert.equal(err, null);
  assert.equal(r.traceRequests.length, 1);
  assert.equal(r.metricRequests.length, 0);
  const spans = r.spans();
  assert.equal(spans.length, 2);
  const root = spans.find((s) => s.span.name === 'run');
  const child = spans.find((s) => s.span.name === 'materialize.table');
  assert.ok(Buffer.isBuffer(root.span.traceId), 'ids decode as Buffers');
  assert.equal(root.span.traceIdHex, '0af7651916cd43dd8448eb211c80319c');
  assert.equal(root.span.spanIdHex, 'b7ad6b7169203331');
  assert.equal(root.span.parentSpanIdHex, '', 'a root span has an empty parent id');
  assert.equal(child.span.parentSpanIdHex, root.span.spanIdHex);
  assert.equal(child.span.traceIdHex, root.span.traceIdHex);
  // proto-loader options: longs as String, enums as String.
  assert.equal(root.span.startTimeUnixNano, '1700000000000000000');
  assert.equal(root.span.kind, 'SPAN_KIND_INTERNAL');
  assert.equal(child.span.status.code, 'STATUS_CODE_ERROR');
  assert.equal(child.span.status.message, 'boom');
  assert.deepEqual(child.span.attributes[0], { key: 'rocky.rows_affected', value: { intValue: '42', value: 'intValue' } });
  const svc = root.resource.attributes.find((a) => a.key === 'service.name');
  assert.equal(svc.value.stringValue, 'rocky-selftest');
  assert.equal(root.scope.name, 'rocky_otel');
  assert.equal(r.calls.length, 1);
  assert.equal(r.calls[0].service, 'trace');
  assert.equal(r.calls[0].statusCode, 0);
  assert.equal(r.calls[0].statusName, 'OK');
  assert.equal(r.calls[0].items, 2);
  const size = loadProtos()[TRACE_SERVICE].Export.requestSerialize(traceRequest()).length;
  assert.equal(r.calls[0].bytes, size, 'bytes = serialized request size');
  assert.equal(r.calls[0].wireBytes, size, 'uncompressed: the same on the wire');
  assert.equal(r.calls[0].refused, false);
  assert.ok(Math.abs(r.calls[0].atMs - Date.now()) < T(10000));
});

test('metrics export arrives and decodes', { timeout: TEST_TIMEOUT }, async (t) => {
  const r = await receiverFor(t);
  const c = clients(r.port);
  closeAfter(t, c.trace, c.metrics);
  const { err } = await exportCall(c.metrics, metricsRequest());
  assert.equal(err, null);
  assert.equal(r.metricRequests.length, 1);
  assert.equal(r.traceRequests.length, 0);
  const ms = r.metrics();
  assert.deepEqual(
    ms.map((m) => m.metric.name),
    ['rocky.tables_processed', 'rocky.table_duration_ms'],
  );
  const sum = ms[0].metric;
  assert.equal(sum.data, 'sum');
  assert.equal(sum.sum.aggregationTemporality, 'AGGREGATION_TEMPORALITY_CUMULATIVE');
  assert.equal(sum.sum.dataPoints[0].asInt, '7');
  const hist = ms[1].metric.histogram.dataPoints[0];
  assert.deepEqual(hist.bucketCounts, ['1', '2', '0']);
  assert.deepEqual(hist.explicitBounds, [10, 100]);
  assert.equal(hist.count, '3');
  assert.equal(hist.sum, 60.5);
  assert.equal(r.calls[0].service, 'metrics');
  assert.equal(r.calls[0].items, 2);
  assert.equal(ms[0].resource.attributes[0].value.stringValue, 'rocky-selftest');
});

test('request metadata is recorded as a plain object', { timeout: TEST_TIMEOUT }, async (t) => {
  const r = await receiverFor(t);
  const c = clients(r.port);
  closeAfter(t, c.trace, c.metrics);
  const md = new grpc.Metadata();
  md.set('x-api-key', 'se cret=1');
  md.set('authorization', 'Bearer abc');
  md.add('x-multi', 'a');
  md.add('x-multi', 'b');
  const { err } = await exportCall(c.trace, traceRequest(), { metadata: md });
  assert.equal(err, null);
  const got = r.calls[0].metadata;
  assert.equal(got['x-api-key'], 'se cret=1');
  assert.equal(got.authorization, 'Bearer abc');
  // HTTP/2 joins a repeated header into one value.
  assert.equal(got['x-multi'], 'a, b');
  assert.equal(typeof got['user-agent'], 'string');
  assert.equal(got['grpc-encoding'], undefined, 'transport headers are not metadata');
});

test('a gzip-compressed request is seen as gzip, a plain one as identity', { timeout: TEST_TIMEOUT }, async (t) => {
  const r = await receiverFor(t);
  const plain = clients(r.port);
  // grpc-js: 2 = gzip in grpc.default_compression_algorithm.
  const gz = clients(r.port, { 'grpc.default_compression_algorithm': 2 });
  closeAfter(t, plain.trace, plain.metrics, gz.trace, gz.metrics);
  assert.equal((await exportCall(plain.trace, traceRequest({ padding: 2000 }))).err, null);
  assert.equal((await exportCall(gz.trace, traceRequest({ padding: 2000 }))).err, null);
  assert.equal((await exportCall(gz.metrics, metricsRequest())).err, null);
  assert.equal(r.calls.length, 3);
  assert.equal(r.calls[0].encoding, 'identity');
  assert.equal(r.calls[0].messageCompressed, false);
  assert.equal(r.calls[1].encoding, 'gzip');
  assert.equal(r.calls[1].messageCompressed, true);
  assert.equal(r.calls[2].encoding, 'gzip');
  assert.ok(r.calls[1].wireBytes < r.calls[1].bytes / 2, `gzip shrank ${r.calls[1].bytes} to ${r.calls[1].wireBytes}`);
  assert.equal(r.calls[1].bytes, r.calls[0].bytes, 'same request, same decompressed size');
  // The compressed request decoded to the same content.
  assert.equal(r.traceRequests.length, 2);
  assert.equal(r.spans()[2].span.attributes[1].value.stringValue.length, 2000);
  assert.equal(r.metrics().length, 2);
});

test('unavailableFirst: first N calls answer UNAVAILABLE, then accepted', { timeout: TEST_TIMEOUT }, async (t) => {
  const r = await receiverFor(t, { unavailableFirst: 2 });
  const c = clients(r.port);
  closeAfter(t, c.trace, c.metrics);
  const a = await exportCall(c.trace, traceRequest());
  const b = await exportCall(c.metrics, metricsRequest());
  const d = await exportCall(c.trace, traceRequest());
  assert.equal(a.err && a.err.code, grpc.status.UNAVAILABLE);
  assert.equal(b.err && b.err.code, grpc.status.UNAVAILABLE);
  assert.equal(d.err, null);
  assert.deepEqual(
    r.calls.map((x) => x.statusCode),
    [grpc.status.UNAVAILABLE, grpc.status.UNAVAILABLE, 0],
  );
  assert.equal(r.traceRequests.length, 1, 'refused requests are not counted as received');
  assert.equal(r.metricRequests.length, 0);
  assert.equal(r.spans().length, 2);
});

test('faultsOn restricts faults to one service', { timeout: TEST_TIMEOUT }, async (t) => {
  const r = await receiverFor(t, { unavailableFirst: 1, faultsOn: 'trace' });
  const c = clients(r.port);
  closeAfter(t, c.trace, c.metrics);
  assert.equal((await exportCall(c.metrics, metricsRequest())).err, null);
  assert.equal((await exportCall(c.trace, traceRequest())).err.code, grpc.status.UNAVAILABLE);
  assert.equal((await exportCall(c.trace, traceRequest())).err, null);
});

test('resourceExhausted with retryDelayMs attaches a RetryInfo that decodes back to the delay', { timeout: TEST_TIMEOUT }, async (t) => {
  const r = await receiverFor(t, { resourceExhausted: { count: 1, retryDelayMs: 1500 } });
  const c = clients(r.port);
  closeAfter(t, c.trace, c.metrics);
  const first = await exportCall(c.trace, traceRequest());
  assert.equal(first.err && first.err.code, grpc.status.RESOURCE_EXHAUSTED);
  const raw = first.err.metadata.get('grpc-status-details-bin');
  assert.equal(raw.length, 1, 'exactly one grpc-status-details-bin trailer');
  assert.ok(Buffer.isBuffer(raw[0]));
  // google.rpc.Status { int32 code = 1; string message = 2; repeated Any details = 3; }
  const status = readFields(raw[0]);
  assert.equal(status[1][0], BigInt(grpc.status.RESOURCE_EXHAUSTED));
  assert.equal(status[2][0].toString(), first.err.details);
  assert.equal(status[3].length, 1);
  // google.protobuf.Any { string type_url = 1; bytes value = 2; }
  const any = readFields(status[3][0]);
  assert.equal(any[1][0].toString(), 'type.googleapis.com/google.rpc.RetryInfo');
  // google.rpc.RetryInfo { Duration retry_delay = 1; } Duration { int64 seconds = 1; int32 nanos = 2; }
  const duration = readFields(readFields(any[2][0])[1][0]);
  assert.equal(duration[1][0], 1n);
  assert.equal(duration[2][0], 500000000n);
  const second = await exportCall(c.trace, traceRequest());
  assert.equal(second.err, null, 'after count calls the receiver accepts');
  assert.equal(r.traceRequests.length, 1);
});

test('RetryInfo duration encoding: whole seconds and sub-millisecond parts', () => {
  const wire = require('./wire');
  assert.deepEqual(wire.durationFromMs(0), { seconds: '0', nanos: 0 });
  assert.deepEqual(wire.durationFromMs(2000), { seconds: '2', nanos: 0 });
  assert.deepEqual(wire.durationFromMs(250), { seconds: '0', nanos: 250000000 });
  const buf = wire.encodeRetryStatus(8, 'slow down', 3000);
  const dur = readFields(readFields(readFields(readFields(buf)[3][0])[2][0])[1][0]);
  assert.equal(dur[1][0], 3n);
  assert.equal(dur[2], undefined, 'zero nanos is omitted on the wire (proto3 default)');
});

test('resourceExhausted without retryDelayMs sends no RetryInfo', { timeout: TEST_TIMEOUT }, async (t) => {
  const r = await receiverFor(t, { resourceExhausted: { count: 2 } });
  const c = clients(r.port);
  closeAfter(t, c.trace, c.metrics);
  const a = await exportCall(c.trace, traceRequest());
  assert.equal(a.err && a.err.code, grpc.status.RESOURCE_EXHAUSTED);
  assert.deepEqual(a.err.metadata.get('grpc-status-details-bin'), []);
  const b = await exportCall(c.trace, traceRequest());
  assert.equal(b.err && b.err.code, grpc.status.RESOURCE_EXHAUSTED);
  assert.equal((await exportCall(c.trace, traceRequest())).err, null);
  assert.equal(r.calls.length, 3);
});

test('unavailableFirst then resourceExhausted apply in sequence', { timeout: TEST_TIMEOUT }, async (t) => {
  const r = await receiverFor(t, { unavailableFirst: 1, resourceExhausted: { count: 1 } });
  const c = clients(r.port);
  closeAfter(t, c.trace, c.metrics);
  const codes = [];
  for (let i = 0; i < 3; i++) {
    const { err } = await exportCall(c.trace, traceRequest());
    codes.push(err ? err.code : 0);
  }
  assert.deepEqual(codes, [grpc.status.UNAVAILABLE, grpc.status.RESOURCE_EXHAUSTED, 0]);
});

test('partialSuccess answers OK with partial_success fields for traces and metrics', { timeout: TEST_TIMEOUT }, async (t) => {
  const r = await receiverFor(t, { partialSuccess: { rejectedSpans: 3, message: 'too many attributes' } });
  const traceClient = rawResponseClient(TRACE_SERVICE, r.port);
  const metricsClient = rawResponseClient(METRICS_SERVICE, r.port);
  closeAfter(t, traceClient, metricsClient);
  const tr = await exportCall(traceClient, traceRequest());
  assert.equal(tr.err, null);
  // ExportTraceServiceResponse { ExportTracePartialSuccess partial_success = 1; }
  // ExportTracePartialSuccess { int64 rejected_spans = 1; string error_message = 2; }
  const ps = readFields(readFields(tr.response)[1][0]);
  assert.equal(ps[1][0], 3n);
  assert.equal(ps[2][0].toString(), 'too many attributes');
  const mr = await exportCall(metricsClient, metricsRequest());
  assert.equal(mr.err, null);
  const mps = readFields(readFields(mr.response)[1][0]);
  assert.equal(mps[1][0], 3n, 'rejected_data_points');
  assert.equal(mps[2][0].toString(), 'too many attributes');
  assert.equal(r.traceRequests.length, 1, 'a partial success is still received');
  assert.equal(r.metricRequests.length, 1);
});

test('a plain success answers an empty response', { timeout: TEST_TIMEOUT }, async (t) => {
  const r = await receiverFor(t);
  const traceClient = rawResponseClient(TRACE_SERVICE, r.port);
  closeAfter(t, traceClient);
  const tr = await exportCall(traceClient, traceRequest());
  assert.equal(tr.err, null);
  assert.equal(tr.response.length, 0);
});

test('delayMs answers every call after the delay', { timeout: TEST_TIMEOUT }, async (t) => {
  const delay = 400;
  const r = await receiverFor(t, { delayMs: delay });
  const c = clients(r.port);
  closeAfter(t, c.trace, c.metrics);
  const a = await exportCall(c.trace, traceRequest(), { deadlineMs: 5000 });
  assert.equal(a.err, null);
  assert.ok(a.elapsedMs >= delay - 20, `answered after ${a.elapsedMs} ms, expected >= ${delay}`);
  assert.ok(r.calls[0].answeredAtMs - r.calls[0].atMs >= delay - 20);
  // A client deadline shorter than the delay fails with DEADLINE_EXCEEDED.
  const started = Date.now();
  const b = await new Promise((resolve) =>
    c.metrics.Export(metricsRequest(), new grpc.Metadata(), { deadline: Date.now() + 100 }, (err) => resolve(err)),
  );
  assert.equal(b && b.code, grpc.status.DEADLINE_EXCEEDED);
  assert.ok(Date.now() - started < delay + T(1000));
  await r.waitFor((x) => x.calls.length === 2 && x.calls[1].cancelled, 3000, 'the late call to be marked cancelled');
});

test('neverAnswer holds calls until the client deadline, stop() releases them', { timeout: TEST_TIMEOUT }, async (t) => {
  const r = await receiverFor(t, { neverAnswer: true });
  const c = clients(r.port);
  closeAfter(t, c.trace, c.metrics);
  const a = await exportCall(c.trace, traceRequest(), { deadlineMs: 300 });
  assert.equal(a.err && a.err.code, grpc.status.DEADLINE_EXCEEDED);
  assert.equal(r.calls.length, 1, 'the call arrived');
  assert.equal(r.calls[0].statusCode, null, 'but was never answered');
  assert.equal(r.traceRequests.length, 0);
  // A held call without client deadline ends when the receiver stops.
  const pending = new Promise((resolve) =>
    c.trace.Export(traceRequest(), (err) => resolve({ err, at: Date.now() })),
  );
  await r.waitFor((x) => x.calls.length === 2, 3000, 'the second call to arrive');
  const stopAt = Date.now();
  await r.stop();
  const done = await pending;
  assert.ok(done.err, 'the held call fails once the receiver stops');
  assert.ok(done.at - stopAt < T(2000), `held call released ${done.at - stopAt} ms after stop()`);
  await r.stop(); // idempotent
});

test('stop() refuses connections, restart() listens again on the same port', { timeout: TEST_TIMEOUT }, async (t) => {
  const r = await receiverFor(t);
  const port = r.port;
  const c = clients(port);
  closeAfter(t, c.trace, c.metrics);
  assert.equal((await exportCall(c.trace, traceRequest())).err, null);
  await r.stop();
  const down = await exportCall(c.trace, traceRequest(), { deadlineMs: 500 });
  assert.ok(down.err, 'no answer while stopped');
  assert.ok([grpc.status.UNAVAILABLE, grpc.status.DEADLINE_EXCEEDED].includes(down.err.code), String(down.err));
  await r.restart();
  assert.equal(r.port, port);
  assert.equal(r.endpoint, `http://127.0.0.1:${port}`);
  // The client reconnects on its own backoff (about 1 s): wait for ready, one call.
  const up = await exportCall(c.trace, traceRequest(), {
    deadlineMs: 10000,
    metadata: new grpc.Metadata({ waitForReady: true }),
  });
  assert.equal(up.err, null, 'export after restart succeeds');
  assert.equal(r.traceRequests.length, 2, 'data from before the stop is kept');
  assert.equal(r.calls.length, 2, 'the refused call never reached the receiver');
});

test('waitFor resolves on the predicate and times out with a clear message', { timeout: TEST_TIMEOUT }, async (t) => {
  const r = await receiverFor(t);
  const c = clients(r.port);
  closeAfter(t, c.trace, c.metrics);
  const waiting = r.waitFor((x) => x.spans().length >= 2 && x.spans().length, 5000);
  await exportCall(c.trace, traceRequest());
  assert.equal(await waiting, 2);
  const started = Date.now();
  await assert.rejects(r.waitFor(() => false, 200, 'a span named never'), (err) => {
    assert.match(err.message, /timed out after \d+ ms waiting for: a span named never/);
    assert.match(err.message, /1 trace requests/);
    assert.match(err.message, /"run":1/);
    return true;
  });
  assert.ok(Date.now() - started >= 190);
  assert.ok(Date.now() - started < T(200) + T(2000));
});

test('a request over 4 MiB is refused like a default collector, and recorded', { timeout: TEST_TIMEOUT }, async (t) => {
  const r = await receiverFor(t);
  const c = clients(r.port);
  closeAfter(t, c.trace, c.metrics);
  const big = await exportCall(c.trace, traceRequest({ padding: 4 * 1024 * 1024 + 1 }), { deadlineMs: 10000 });
  assert.equal(big.err && big.err.code, grpc.status.RESOURCE_EXHAUSTED, String(big.err));
  assert.equal(r.traceRequests.length, 0);
  assert.equal(r.calls.length, 1);
  assert.equal(r.calls[0].service, 'trace');
  assert.equal(r.calls[0].refused, true);
  assert.equal(r.calls[0].statusName, 'RESOURCE_EXHAUSTED');
  assert.match(r.calls[0].details, /larger than/);
  assert.equal(typeof r.calls[0].metadata['user-agent'], 'string');
  // Just under the limit is accepted.
  const ok = await exportCall(c.trace, traceRequest({ padding: 4 * 1024 * 1024 - 1024 }), { deadlineMs: 10000 });
  assert.equal(ok.err, null);
  assert.ok(r.calls[1].bytes <= 4 * 1024 * 1024 && r.calls[1].bytes > 4 * 1024 * 1024 - 2048);
});

test('attributesToObject decodes every AnyValue kind', () => {
  const { attributesToObject } = harness;
  const got = attributesToObject([
    { key: 's', value: { stringValue: 'x', value: 'stringValue' } },
    { key: 'i', value: { intValue: '-9007199254740993', value: 'intValue' } },
    { key: 'd', value: { doubleValue: 1.5, value: 'doubleValue' } },
    { key: 'b', value: { boolValue: false, value: 'boolValue' } },
    { key: 'a', value: { arrayValue: { values: [{ stringValue: 'p', value: 'stringValue' }] }, value: 'arrayValue' } },
    {
      key: 'k',
      value: { kvlistValue: { values: [{ key: 'n', value: { intValue: '1', value: 'intValue' } }] }, value: 'kvlistValue' },
    },
    { key: 'u', value: {} },
  ]);
  assert.deepEqual(got, { s: 'x', i: '-9007199254740993', d: 1.5, b: false, a: ['p'], k: { n: '1' }, u: undefined });
});

test('attributes decoded from the wire read back with attributesToObject', { timeout: TEST_TIMEOUT }, async (t) => {
  const r = await receiverFor(t);
  const c = clients(r.port);
  closeAfter(t, c.trace, c.metrics);
  assert.equal((await exportCall(c.trace, traceRequest())).err, null);
  const [root, child] = r.spans();
  assert.deepEqual(harness.attributesToObject(root.resource.attributes), { 'service.name': 'rocky-selftest' });
  assert.equal(harness.attributesToObject(root.span.attributes)['rocky.run_id'], 'run-1');
  assert.deepEqual(harness.attributesToObject(child.span.attributes), { 'rocky.rows_affected': '42' });
});

test('bad options are refused with a clear message', async () => {
  await assert.rejects(startReceiver({ unavailbleFirst: 2 }), /unknown option "unavailbleFirst"/);
  await assert.rejects(startReceiver({ resourceExhausted: 2 }), /resourceExhausted must be/);
  await assert.rejects(startReceiver({ delayMs: -1 }), /delayMs must be/);
  await assert.rejects(startReceiver({ host: '0.0.0.0' }), /127\.0\.0\.1/);
});

test('unusedPort: nothing answers there, and a receiver can start on it later', { timeout: TEST_TIMEOUT }, async (t) => {
  const port = await harness.unusedPort();
  assert.ok(port > 0 && port < 65536);
  const c = clients(port);
  closeAfter(t, c.trace, c.metrics);
  const down = await exportCall(c.trace, traceRequest(), { deadlineMs: 1000 });
  assert.equal(down.err && down.err.code, grpc.status.UNAVAILABLE, String(down.err));
  const r = await receiverFor(t, { port });
  assert.equal(r.port, port);
  const up = await exportCall(c.trace, traceRequest(), {
    deadlineMs: 10000,
    metadata: new grpc.Metadata({ waitForReady: true }),
  });
  assert.equal(up.err, null);
  assert.equal(r.spans().length, 2);
});

test('two receivers cannot share a port: clear error', { timeout: TEST_TIMEOUT }, async (t) => {
  const r = await receiverFor(t);
  await assert.rejects(
    startReceiver({ port: r.port }),
    new RegExp(`cannot listen on 127\\.0\\.0\\.1:${r.port}`),
  );
});

// ---------------------------------------------------------------------------
// CLI

function startCli(t, args) {
  const child = spawn(process.execPath, [path.join(__dirname, 'receiver.js'), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const lines = readline.createInterface({ input: child.stdout });
  const listening = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`receiver.js printed no "listening" line; stderr: ${stderr}`)), T(10000));
    lines.on('line', (line) => {
      stdout += line + '\n';
      const m = /^listening (\d+)$/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`receiver.js exited ${code} before listening; stderr: ${stderr}`));
    });
  });
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return { child, listening, exited, out: () => stdout, err: () => stderr };
}

test('CLI: listening line, JSONL per request, summary and exit 0 on SIGTERM', { timeout: TEST_TIMEOUT }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rocky-receiver-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const outFile = path.join(dir, 'requests.jsonl');
  const cli = startCli(t, ['--port', '0', '--out', outFile, '--fault-unavailable-first', '1']);
  const port = await cli.listening;
  const c = clients(port);
  closeAfter(t, c.trace, c.metrics);
  assert.equal((await exportCall(c.trace, traceRequest())).err.code, grpc.status.UNAVAILABLE);
  assert.equal((await exportCall(c.trace, traceRequest())).err, null);
  assert.equal((await exportCall(c.metrics, metricsRequest())).err, null);
  const lines = fs.readFileSync(outFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, 3);
  assert.deepEqual(
    lines.map((l) => [l.service, l.statusCode]),
    [['trace', 14], ['trace', 0], ['metrics', 0]],
  );
  const span = lines[1].request.resourceSpans[0].scopeSpans[0].spans[1];
  assert.equal(span.traceId, '0af7651916cd43dd8448eb211c80319c', 'ids are hex in JSONL');
  assert.equal(span.parentSpanId, 'b7ad6b7169203331');
  assert.equal(lines[2].request.resourceMetrics[0].scopeMetrics[0].metrics[0].name, 'rocky.tables_processed');
  cli.child.kill('SIGTERM');
  const { code, signal } = await cli.exited;
  assert.equal(signal, null);
  assert.equal(code, 0, `exit status; stderr: ${cli.err()}`);
  const out = cli.out();
  assert.match(out, /service\.name: rocky-selftest/);
  assert.match(out, /\brun\s+1/);
  assert.match(out, /materialize\.table\s+1/);
  assert.match(out, /rocky\.table_duration_ms\s+1/);
  assert.match(out, /3 calls/);
});

test('CLI: SIGINT also exits 0; bad arguments exit non-zero with a message', { timeout: TEST_TIMEOUT }, async (t) => {
  const cli = startCli(t, []);
  await cli.listening;
  cli.child.kill('SIGINT');
  assert.deepEqual(await cli.exited, { code: 0, signal: null });

  const bad = spawn(process.execPath, [path.join(__dirname, 'receiver.js'), '--fault-delay-ms', 'soon'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  bad.stderr.on('data', (d) => (stderr += d));
  const res = await new Promise((resolve) => bad.on('exit', (code) => resolve(code)));
  assert.equal(res, 2);
  assert.match(stderr, /--fault-delay-ms/);
});
