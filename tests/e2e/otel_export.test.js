'use strict';
// rocky_otel.so against the independent receiver: what a run looks like in
// OTLP (spans, links, attributes, statuses, resource, metrics), TRACEPARENT,
// headers, gzip, UTF-8 repair, queue overflow, delta temporality.
const test = require('node:test');
const assert = require('node:assert/strict');
const { startReceiver } = require('./receiver/harness');
const { drive, attrs } = require('./common');
const { ROCKY, NO_RUNNER, fixture, runArgs } = require('./runner_fixture');

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
    // views; they are counted in rocky.model.executions{skipped} and on
    // the run span.
    assert.ok(s.skipped > 0);
    assert.equal(s.accepted, 31 - s.skipped);
    assert.equal(s.delivered, 31 - s.skipped, res.stderr);
    assert.equal(s.dropped, 0);
    assert.equal(s.pending, 0);

    const spans = r.spans();
    const runs = spans.filter((x) => x.span.name === 'run');
    const models = spans.filter((x) => x.span.name === 'materialize.table');
    assert.equal(runs.length, 1);
    assert.equal(models.length, 30 - s.skipped);
    const run = runs[0].span;
    assert.equal(run.traceIdHex, s.trace_id);
    assert.equal(run.spanIdHex, s.run_span_id);
    assert.equal(run.parentSpanIdHex, '');
    const ra = attrs(run.attributes);
    assert.equal(ra.run_id, s.run_id, "upstream's run_id");
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
      assert.equal(a['rocky.model.fqn'], `transformation:${a['rocky.model.name']}`);
      assert.equal(a['rocky.model.kind'], 'transformation');
      assert.equal(a['rocky.warehouse.table_ref'], `main.${a['rocky.model.name']}`);
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
        const ev = Object.fromEntries((span.events || []).map((e) => [e.name, attrs(e.attributes)]));
        assert.equal(ev.exception['exception.type'], 'rocky.ModelFailed');
        assert.equal(ev.exception['exception.message'], span.status.message);
        assert.equal(ev.materialize_error['rocky.event.error'], span.status.message);
        assert.equal(ev.materialize_error['rocky.event.target'], a['rocky.model.name']);
      } else if (a['rocky.model.status'] === 'skipped') {
        skippedSeen++;
        assert.equal(span.status.code, 'STATUS_CODE_UNSET');
      } else {
        assert.equal(a['rocky.model.status'], 'success');
        assert.equal(span.status.code, 'STATUS_CODE_UNSET');
        assert.equal((span.events || []).length, 0, 'no event on a success');
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
      'rocky.retries_attempted', 'rocky.retries_succeeded', 'rocky.error_rate_pct', 'rocky.query_duration_ms',
      'rocky.model.executions', 'rocky.runs_completed', 'rocky.rows_affected', 'rocky.bytes_written', 'rocky.table_duration_ms', 'rocky.run_duration_ms',
      'rocky.models_in_flight', 'rocky.otel.spans_queued', 'rocky.otel.spans_exported',
      'rocky.otel.spans_dropped', 'rocky.otel.exports_failed']) {
      assert.ok(byName[n], `metric ${n} present`);
    }
    // Upstream's: gauges of this run, no attributes, so its dashboard's
    // sum(rocky_tables_processed) reads the successes.
    const gauge = (n) => {
      const m = byName[n];
      assert.equal(m.data, 'gauge', `${n} is a gauge`);
      assert.equal(m.gauge.dataPoints.length, 1, n);
      assert.deepEqual(m.gauge.dataPoints[0].attributes, [], `${n} has no attributes`);
      const dp = m.gauge.dataPoints[0];
      return dp.asDouble !== undefined && dp.asDouble !== null ? Number(dp.asDouble) : Number(dp.asInt);
    };
    assert.equal(gauge('rocky.tables_processed'), 16);
    assert.equal(gauge('rocky.tables_failed'), 4);
    assert.equal(gauge('rocky.error_rate_pct'), 20);
    assert.equal(gauge('rocky.statements_executed'), 0, 'the driver reports no statement');
    assert.equal(gauge('rocky.retries_attempted'), 0);
    assert.equal(gauge('rocky.retries_succeeded'), 0);
    const proc = byName['rocky.model.executions'];
    assert.equal(proc.data, 'sum');
    assert.equal(proc.sum.isMonotonic, true);
    assert.equal(proc.sum.aggregationTemporality, 'AGGREGATION_TEMPORALITY_CUMULATIVE');
    const byStatus = {};
    for (const dp of proc.sum.dataPoints) byStatus[attrs(dp.attributes)['rocky.model.status']] = Number(dp.asInt);
    assert.deepEqual(byStatus, { success: 16, failed: 4 });
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
    const run = r.spans().find((x) => x.span.name === 'run').span;
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
    const runs = r.spans().filter((x) => x.span.name === 'run');
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
      return ms.find((m) => m.name === 'rocky.rows_affected').sum;
    });
    let total = 0;
    for (let i = 0; i < series.length; i++) {
      assert.equal(series[i].aggregationTemporality, 'AGGREGATION_TEMPORALITY_DELTA');
      const dp = series[i].dataPoints[0];
      total += Number(dp.asInt);
      if (i > 0) assert.equal(dp.startTimeUnixNano, series[i - 1].dataPoints[0].timeUnixNano, 'contiguous intervals');
    }
    // rows of model i are 100 + i
    assert.equal(total, 40 * 100 + (39 * 40) / 2, 'deltas add up to the total');
  });
});

// The real runner: a statement.execute span for every SQL statement it ran,
// each a child of its model's materialize.table span; upstream's gauges and
// query_duration_ms as its dashboard and alerts read them.
test('real run: statement.execute per statement under its model, exception event, upstream gauges', { skip: NO_RUNNER }, async (t) => {
  const fx = fixture(t);
  const r = await fx.receiver();
  const p = fx.project({
    a: 'SELECT 1 AS x UNION ALL SELECT 2',
    b: 'SELECT x + 1 AS x FROM a',
    bad: 'SELECT abs(-9223372036854775808) AS x', // fails at run time: integer overflow
    after_bad: 'SELECT x FROM bad', // skipped
  }, 1);
  const res = await fx.run(ROCKY, runArgs(p), { OTEL_EXPORTER_OTLP_ENDPOINT: r.endpoint });
  assert.equal(res.code, 1, res.stderr);
  await r.waitFor((x) => x.metricRequests.length >= 1 && x.spans().some((s) => s.span.name === 'run'), 10000,
    'the run span and a metrics export');
  const spans = r.spans().map((x) => x.span);
  const run = spans.find((s) => s.name === 'run');
  assert.ok(attrs(run.attributes).run_id);
  const models = new Map(spans.filter((s) => s.name === 'materialize.table')
    .map((s) => [s.spanIdHex, s]));
  assert.deepEqual([...models.values()].map((s) => attrs(s.attributes)['rocky.model.name']).sort(),
    ['a', 'b', 'bad'], 'no span for the skipped model');
  const stmts = spans.filter((s) => s.name === 'statement.execute');
  const perModel = {};
  for (const s of stmts) {
    const m = models.get(s.parentSpanIdHex);
    assert.ok(m, 'a statement is a child of a materialize.table span');
    assert.equal(s.traceIdHex, run.traceIdHex);
    const a = attrs(s.attributes);
    const name = attrs(m.attributes)['rocky.model.name'];
    assert.equal(a['rocky.model.name'], name);
    assert.equal(a['rocky.adapter.name'], 'sqlite');
    assert.ok(['ddl', 'dml', 'query', 'other'].includes(a['rocky.statement.kind']), a['rocky.statement.kind']);
    assert.ok(BigInt(s.startTimeUnixNano) >= BigInt(m.startTimeUnixNano), 'inside its model');
    assert.ok(BigInt(s.endTimeUnixNano) <= BigInt(m.endTimeUnixNano), 'inside its model');
    (perModel[name] = perModel[name] || []).push(s);
  }
  const seq = (name) => perModel[name].map((s) => attrs(s.attributes))
    .sort((x, y) => Number(x['rocky.statement.sequence']) - Number(y['rocky.statement.sequence']));
  // A success: DROP temp, CREATE TEMP AS, count, BEGIN, DROP main, CREATE
  // main AS, size, COMMIT, DROP temp.
  assert.deepEqual(seq('a').map((x) => x['rocky.statement.kind']),
    ['ddl', 'ddl', 'query', 'other', 'ddl', 'ddl', 'query', 'other', 'ddl']);
  assert.equal(seq('b').length, 9);
  assert.deepEqual(seq('a').map((x) => x['rocky.statement.sequence']), ['0', '1', '2', '3', '4', '5', '6', '7', '8']);
  // The failure: DROP temp, the CREATE TEMP AS that failed, cleanup.
  const bad = perModel.bad.sort((x, y) => Number(attrs(x.attributes)['rocky.statement.sequence']) -
    Number(attrs(y.attributes)['rocky.statement.sequence']));
  assert.equal(bad.length, 3);
  assert.equal(bad[1].status.code, 'STATUS_CODE_ERROR');
  assert.match(bad[1].status.message, /integer overflow/);
  assert.equal(attrs(bad[1].attributes)['rocky.warehouse.table_ref'], 'temp.rocky_tmp_bad');
  assert.equal(bad[0].status.code, 'STATUS_CODE_UNSET');
  const badModel = models.get(bad[0].parentSpanIdHex);
  assert.equal(badModel.status.code, 'STATUS_CODE_ERROR');
  const ev = Object.fromEntries((badModel.events || []).map((e) => [e.name, attrs(e.attributes)]));
  assert.equal(ev.exception['exception.type'], 'rocky.ModelFailed');
  assert.match(ev.exception['exception.message'], /integer overflow/);
  assert.equal(ev.materialize_error['rocky.event.target'], 'bad');

  const byName = {};
  for (const { metric } of r.metrics()) byName[metric.name] = metric;
  const gauge = (n) => {
    const dp = byName[n].gauge.dataPoints[0];
    return dp.asDouble !== undefined && dp.asDouble !== null ? Number(dp.asDouble) : Number(dp.asInt);
  };
  assert.equal(gauge('rocky.tables_processed'), 2);
  assert.equal(gauge('rocky.tables_failed'), 1);
  assert.equal(gauge('rocky.error_rate_pct'), 33, 'round(1 / (2 + 1) * 100)');
  assert.equal(gauge('rocky.statements_executed'), stmts.length);
  assert.equal(stmts.length, 9 + 9 + 3);
  assert.equal(gauge('rocky.retries_attempted'), 0);
  const q = byName['rocky.query_duration_ms'];
  assert.equal(q.unit, 'ms');
  assert.equal(Number(q.histogram.dataPoints[0].count), stmts.length, 'one sample per statement');
  checkHistogram('rocky.query_duration_ms', q.histogram.dataPoints[0]);
});
