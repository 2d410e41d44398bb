'use strict';
// rocky_otel.so against the independent receiver: what a run looks like in
// OTLP (spans, links, attributes, statuses, resource, metrics), TRACEPARENT,
// headers, gzip, UTF-8 repair, queue overflow, delta temporality.
const test = require('node:test');
const assert = require('node:assert/strict');
const { startReceiver } = require('./receiver/harness');
const { drive, attrs } = require('./common');

async function withReceiver(opts, fn) {
  const r = await startReceiver(opts);
  try {
    return await fn(r);
  } finally {
    await r.stop();
  }
}

function checkHistogram(name, dp) {
  const bounds = dp.explicitBounds;
  assert.equal(dp.bucketCounts.length, bounds.length + 1, `${name}: buckets = bounds + 1`);
  const total = dp.bucketCounts.reduce((a, b) => a + BigInt(b), 0n);
  assert.equal(total, BigInt(dp.count), `${name}: bucket counts sum to count`);
  for (let i = 1; i < bounds.length; i++) assert.ok(bounds[i] > bounds[i - 1], `${name}: bounds increase`);
}

test('a run arrives as one trace: run span, every model span, links, attributes, statuses, resource', async () => {
  await withReceiver({}, async (r) => {
    const res = await drive({ OTEL_EXPORTER_OTLP_ENDPOINT: r.endpoint, OTEL_SERVICE_NAME: 'etl-nightly',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod,team=data%20eng' },
    ['--models', '30', '--threads', '4', '--fail-every', '7', '--skip-every', '11']);
    assert.equal(res.code, 0, res.stderr);
    const s = res.summary;
    // Skipped models reach the plugin as MODEL_END (ABI 2.0) but get no
    // span: they never ran, and a zero-length span would distort duration
    // views; they are counted in rocky.tables_processed{skipped} and on
    // the run span.
    assert.ok(s.skipped > 0);
    assert.equal(s.accepted, 31 - s.skipped);
    assert.equal(s.delivered, 31 - s.skipped, res.stderr);
    assert.equal(s.dropped, 0);
    assert.equal(s.pending, 0);

    const spans = r.spans();
    const runs = spans.filter((x) => x.span.name === 'pipeline.run');
    const models = spans.filter((x) => x.span.name === 'materialize.table');
    assert.equal(runs.length, 1);
    assert.equal(models.length, 30 - s.skipped);
    const run = runs[0].span;
    assert.equal(run.traceIdHex, s.trace_id);
    assert.equal(run.spanIdHex, s.run_span_id);
    assert.equal(run.parentSpanIdHex, '');
    const ra = attrs(run.attributes);
    assert.equal(ra['rocky.run.id'], s.run_id);
    assert.equal(ra['rocky.project'], 'drive_project');
    assert.equal(ra['rocky.run.trigger'], 'manual');
    assert.equal(ra['rocky.run.status'], 'partial_failure');
    assert.equal(ra['rocky.run.models_total'], '30');
    assert.equal(ra['rocky.run.models_failed'], String(s.failed));
    assert.equal(ra['rocky.version'], '0.1.0-test');
    assert.equal(run.status.code, 'STATUS_CODE_ERROR');

    const ids = new Set();
    let failedSeen = 0;
    let skippedSeen = 0;
    for (const { span } of models) {
      assert.equal(span.traceIdHex, s.trace_id, 'same trace');
      assert.equal(span.parentSpanIdHex, s.run_span_id, 'child of the run span');
      ids.add(span.spanIdHex);
      const a = attrs(span.attributes);
      assert.match(a['rocky.model.name'], /^model_\d{3}$/);
      assert.match(a['rocky.model.sql_hash'], /^[0-9a-f]{64}$/);
      assert.equal(a['rocky.model.attempt'], '1');
      assert.equal(a['rocky.run.id'], s.run_id);
      assert.ok(BigInt(span.endTimeUnixNano) >= BigInt(span.startTimeUnixNano));
      assert.ok(BigInt(span.startTimeUnixNano) >= BigInt(run.startTimeUnixNano));
      if (a['rocky.model.status'] === 'failed') {
        failedSeen++;
        assert.equal(span.status.code, 'STATUS_CODE_ERROR');
        assert.match(span.status.message, /^no such table: upstream_\d+$/);
        assert.equal(a['rocky.model.rows_affected'], undefined, 'unknown rows are left out');
      } else if (a['rocky.model.status'] === 'skipped') {
        skippedSeen++;
        assert.equal(span.status.code, 'STATUS_CODE_UNSET');
      } else {
        assert.equal(a['rocky.model.status'], 'success');
        assert.equal(span.status.code, 'STATUS_CODE_UNSET');
        const i = Number(a['rocky.model.name'].slice(6));
        assert.equal(a['rocky.model.rows_affected'], String(100 + i));
        assert.equal(a['rocky.model.bytes_written'], String(4096 + i));
      }
    }
    assert.equal(ids.size, 30 - s.skipped, 'distinct span ids');
    assert.equal(failedSeen, s.failed);
    assert.equal(skippedSeen, 0, 'no span for a model that never ran');

    const res0 = attrs(runs[0].resource.attributes);
    assert.equal(res0['service.name'], 'etl-nightly');
    assert.equal(res0['service.version'], '0.1.0-test');
    assert.equal(res0['telemetry.sdk.name'], 'rocky-otel');
    assert.equal(res0['telemetry.sdk.language'], 'c');
    assert.ok(res0['host.name']);
    assert.ok(Number(res0['process.pid']) > 0);
    assert.equal(res0['deployment.environment'], 'prod');
    assert.equal(res0.team, 'data eng');
    assert.equal(runs[0].scope.name, 'rocky_otel');
  });
});

test('metrics arrive once at shutdown, valid: counters, histograms, cumulative start times', async () => {
  await withReceiver({}, async (r) => {
    const res = await drive({ OTEL_EXPORTER_OTLP_ENDPOINT: r.endpoint },
      ['--models', '20', '--fail-every', '5', '--skip-every', '0']);
    assert.equal(res.code, 0, res.stderr);
    await r.waitFor((x) => x.metricRequests.length >= 1, 5000, 'a metrics export');
    const byName = {};
    for (const { metric } of r.metrics()) byName[metric.name] = metric;
    for (const n of ['rocky.tables_processed', 'rocky.tables_failed', 'rocky.statements_executed',
      'rocky.rows_affected', 'rocky.bytes_written', 'rocky.table_duration_ms', 'rocky.run_duration_ms',
      'rocky.models_in_flight', 'rocky.otel.spans_queued', 'rocky.otel.spans_exported',
      'rocky.otel.spans_dropped', 'rocky.otel.exports_failed']) {
      assert.ok(byName[n], `metric ${n} present`);
    }
    const proc = byName['rocky.tables_processed'];
    assert.equal(proc.data, 'sum');
    assert.equal(proc.sum.isMonotonic, true);
    assert.equal(proc.sum.aggregationTemporality, 'AGGREGATION_TEMPORALITY_CUMULATIVE');
    const byStatus = {};
    for (const dp of proc.sum.dataPoints) byStatus[attrs(dp.attributes)['rocky.model.status']] = Number(dp.asInt);
    assert.deepEqual(byStatus, { success: 16, failed: 4 });
    assert.equal(Number(byName['rocky.tables_failed'].sum.dataPoints[0].asInt), 4);
    assert.equal(Number(byName['rocky.statements_executed'].sum.dataPoints[0].asInt), 20);
    assert.equal(byName['rocky.models_in_flight'].sum.isMonotonic, false);
    assert.equal(Number(byName['rocky.models_in_flight'].sum.dataPoints[0].asInt), 0);
    const hist = byName['rocky.table_duration_ms'];
    assert.equal(hist.unit, 'ms');
    assert.equal(hist.histogram.aggregationTemporality, 'AGGREGATION_TEMPORALITY_CUMULATIVE');
    const dp = hist.histogram.dataPoints[0];
    checkHistogram('rocky.table_duration_ms', dp);
    assert.equal(Number(dp.count), 20);
    assert.ok(dp.sum > 0 && dp.min > 0 && dp.max >= dp.min);
    checkHistogram('rocky.run_duration_ms', byName['rocky.run_duration_ms'].histogram.dataPoints[0]);
    for (const { metric } of r.metrics()) {
      const pts = metric[metric.data].dataPoints;
      for (const p of pts) {
        const start = BigInt(p.startTimeUnixNano);
        assert.ok(start > 0n, `${metric.name}: start time set`);
        assert.ok(start < BigInt(p.timeUnixNano), `${metric.name}: start before time`);
      }
    }
  });
});

test('TRACEPARENT makes the run span a child of the caller, same trace; TRACESTATE kept', async () => {
  await withReceiver({}, async (r) => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parent = '00f067aa0ba902b7';
    const res = await drive({ OTEL_EXPORTER_OTLP_ENDPOINT: r.endpoint,
      TRACEPARENT: `00-${traceId}-${parent}-01`, TRACESTATE: 'dagster=run-42' }, ['--models', '3']);
    assert.equal(res.code, 0, res.stderr);
    const run = r.spans().find((x) => x.span.name === 'pipeline.run').span;
    assert.equal(run.traceIdHex, traceId);
    assert.equal(run.parentSpanIdHex, parent);
    assert.equal(run.traceState, 'dagster=run-42');
    for (const { span } of r.spans()) assert.equal(span.traceIdHex, traceId);
  });
});

test('headers arrive as gRPC metadata, percent-decoded; gzip requests decode', async () => {
  await withReceiver({}, async (r) => {
    const res = await drive({ OTEL_EXPORTER_OTLP_ENDPOINT: r.endpoint,
      OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=s3cr%3Det%20v,Tenant=acme',
      OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip' }, ['--models', '5']);
    assert.equal(res.code, 0, res.stderr);
    assert.ok(r.calls.length >= 2, r.describe());
    for (const c of r.calls) {
      assert.equal(c.metadata['x-api-key'], 's3cr=et v');
      assert.equal(c.metadata.tenant, 'acme');
      assert.equal(c.encoding, 'gzip');
      assert.equal(c.messageCompressed, true);
      assert.equal(c.statusName, 'OK');
    }
    assert.equal(r.spans().length, 6);
    assert.ok(!res.stderr.includes('s3cr'), 'header values never printed');
  });
});

test('without compression requests are identity-encoded', async () => {
  await withReceiver({}, async (r) => {
    const res = await drive({ OTEL_EXPORTER_OTLP_ENDPOINT: r.endpoint }, ['--models', '2']);
    assert.equal(res.code, 0, res.stderr);
    for (const c of r.calls) assert.notEqual(c.encoding, 'gzip');
  });
});

test('invalid UTF-8 in a model name is repaired, the batch is not lost', async () => {
  await withReceiver({}, async (r) => {
    const res = await drive({ OTEL_EXPORTER_OTLP_ENDPOINT: r.endpoint }, ['--models', '4', '--bad-utf8']);
    assert.equal(res.code, 0, res.stderr);
    const names = r.spans().filter((x) => x.span.name === 'materialize.table')
      .map((x) => attrs(x.span.attributes)['rocky.model.name']);
    assert.equal(names.length, 4);
    assert.ok(names.includes('bad_\uFFFD\uFFFD_name_000'), JSON.stringify(names));
  });
});

test('a full queue refuses model spans (EAGAIN), the host counts them dropped, never the run span; one warning', async () => {
  // The receiver holds each answer 300 ms, so the single exporter thread
  // cannot keep up with a queue of 4.
  await withReceiver({ delayMs: 300 }, async (r) => {
    const res = await drive({ OTEL_EXPORTER_OTLP_ENDPOINT: r.endpoint, OTEL_BSP_MAX_QUEUE_SIZE: '4',
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '2', OTEL_BSP_SCHEDULE_DELAY: '10' },
    ['--models', '60', '--threads', '6', '--skip-every', '0']);
    assert.equal(res.code, 0, res.stderr);
    const s = res.summary;
    // ABI 2.0: a refused span is not taken (not in the plugin's accepted);
    // a live host never waits, so it counts the refusal as dropped itself.
    assert.ok(s.dropped > 0, JSON.stringify(s));
    assert.equal(s.accepted + s.dropped, 61, JSON.stringify(s));
    assert.equal(s.delivered, s.accepted, JSON.stringify(s));
    assert.equal(s.pending, 0);
    const runs = r.spans().filter((x) => x.span.name === 'pipeline.run');
    assert.equal(runs.length, 1, 'the run span is never dropped');
    assert.equal(r.spans().length, s.delivered);
    const warnings = res.stderr.split('\n').filter((l) => /queue is full/.test(l));
    assert.equal(warnings.length, 1, res.stderr);
    assert.match(warnings[0], /plugin rocky_otel: its queue is full; events it cannot take are counted as dropped/);
  });
});

test('delta temporality: each export covers the time since the previous one', async () => {
  await withReceiver({}, async (r) => {
    const res = await drive({ OTEL_EXPORTER_OTLP_ENDPOINT: r.endpoint,
      OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'DELTA', OTEL_METRIC_EXPORT_INTERVAL: '20' },
    ['--models', '40', '--threads', '1', '--fail-every', '0', '--skip-every', '0']);
    assert.equal(res.code, 0, res.stderr);
    assert.ok(r.metricRequests.length >= 2, r.describe());
    const series = r.metricRequests.map((req) => {
      const ms = req.resourceMetrics[0].scopeMetrics[0].metrics;
      return ms.find((m) => m.name === 'rocky.statements_executed').sum;
    });
    let total = 0;
    for (let i = 0; i < series.length; i++) {
      assert.equal(series[i].aggregationTemporality, 'AGGREGATION_TEMPORALITY_DELTA');
      const dp = series[i].dataPoints[0];
      total += Number(dp.asInt);
      if (i > 0) assert.equal(dp.startTimeUnixNano, series[i - 1].dataPoints[0].timeUnixNano, 'contiguous intervals');
    }
    assert.equal(total, 40, 'deltas add up to the total');
  });
});
