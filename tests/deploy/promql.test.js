'use strict';
// The query readers on their own: lib/promql.js (metric names vs functions,
// keywords and labels), lib/traceql.js (span names and attributes), and
// lib/series.js (OTLP metrics -> Prometheus series with
// add_metric_suffixes=false, and the checks of a query against them).
const test = require('node:test');
const assert = require('node:assert/strict');
const { extract, metricNames, PromQLError } = require('./lib/promql');
const traceql = require('./lib/traceql');
const S = require('./lib/series');

test('promql: a bare metric and a metric with matchers', () => {
  assert.deepEqual(metricNames('rocky_tables_failed'), ['rocky_tables_failed']);
  const r = extract('rocky_otel_spans_dropped{reason="queue_full", job=~"$service"}');
  assert.deepEqual(r.metrics, [{
    name: 'rocky_otel_spans_dropped',
    matchers: [
      { label: 'reason', op: '=', value: 'queue_full', variable: null },
      { label: 'job', op: '=~', value: '$service', variable: null },
    ],
  }]);
});

test('promql: functions, aggregations and keywords are not metrics', () => {
  const q = 'histogram_quantile(0.95, sum by (le, job) (rate(rocky_table_duration_ms_bucket[5m])))';
  assert.deepEqual(metricNames(q), ['rocky_table_duration_ms_bucket']);
  assert.deepEqual(extract(q).groupingLabels, ['le', 'job']);
  assert.deepEqual(metricNames('sum(max_over_time(a_b[$__range])) / sum(max_over_time(c_d[$__range]))'), ['a_b', 'c_d']);
  assert.deepEqual(metricNames('sum(x) by (reason) > bool 0 and on (job) y unless z or w'), ['x', 'y', 'z', 'w']);
  assert.deepEqual(metricNames('topk(5, x) offset 5m'), ['x']);
  assert.deepEqual(metricNames('count_values("v", x) * on (job) group_left (reason) y'), ['x', 'y']);
  assert.deepEqual(metricNames('absent_over_time(rocky_runs_completed[2h])'), ['rocky_runs_completed']);
  assert.deepEqual(metricNames('vector(1) + scalar(x) + time()'), ['x']);
  assert.deepEqual(metricNames('x @ start()'), ['x']);
  assert.deepEqual(metricNames('sum without (le) (x)'), ['x']);
});

test('promql: labels in by/without/on/ignoring/group_* lists are labels, not metrics', () => {
  const r = extract('sum without (instance) (x) / ignoring (reason) group_right (job) y');
  assert.deepEqual(r.metrics.map((m) => m.name), ['x', 'y']);
  assert.deepEqual(r.groupingLabels, ['instance', 'reason', 'job']);
  // aggregation with the grouping clause after the argument
  const r2 = extract('max(rocky_scheduler_consecutive_failures) by (pipeline)');
  assert.deepEqual(r2.metrics.map((m) => m.name), ['rocky_scheduler_consecutive_failures']);
  assert.deepEqual(r2.groupingLabels, ['pipeline']);
});

test('promql: ranges, subqueries, durations, numbers and Grafana variables are skipped', () => {
  assert.deepEqual(metricNames('max_over_time(rate(x[5m])[1h:1m])'), ['x']);
  assert.deepEqual(metricNames('x > 1e3 and y < 0x10 and z != Inf and w == NaN'), ['x', 'y', 'z', 'w']);
  assert.deepEqual(metricNames('sum(max_over_time(x{job=~"${service}"}[$__interval])) * $scale'), ['x']);
  assert.deepEqual(metricNames('x[[interval]]'), ['x']);
  assert.deepEqual(metricNames('# a comment naming not_a_metric\nx'), ['x']);
});

test('promql: strings are skipped, whatever they contain', () => {
  assert.deepEqual(metricNames('label_replace(x, "dst", "$1", "src", "(not_a_metric)")'), ['x']);
  assert.deepEqual(metricNames("x{a='b\\'c', d=`e}`}"), ['x']);
});

test('promql: {__name__="..."} names a metric; a selector without a name is reported', () => {
  const r = extract('{__name__="rocky_runs_completed", job="rocky"}');
  assert.deepEqual(r.metrics, [{ name: 'rocky_runs_completed', matchers: [{ label: 'job', op: '=', value: 'rocky', variable: null }] }]);
  assert.equal(extract('{job="rocky"}').selectorsWithoutName.length, 1);
});

test('promql: an unknown function, a dotted OTel name and broken syntax are errors', () => {
  assert.throws(() => extract('sum(rates(x[5m]))'), (e) => e instanceof PromQLError && /'rates' is not a PromQL function/.test(e.message));
  assert.throws(() => extract('rocky.tables_failed'), /not a Prometheus name/);
  assert.throws(() => extract('x{job="a"'), PromQLError);
  assert.throws(() => extract('x{job}'), /matcher operator expected/);
  assert.throws(() => extract('x{job="unterminated}'), /unterminated string/);
  assert.throws(() => extract('x[5m'), /unterminated \[/);
});

test('traceql: span names per spanset, scoped attributes, intrinsics', () => {
  const r = traceql.extract('{ resource.service.name =~ "$service" && name = "materialize.table" && status = error && duration > 1s } | select(span.rocky.model.name, .rocky.run.id)');
  assert.deepEqual(r.spansets, [{ names: ['materialize.table'], spanAttrs: [], resourceAttrs: ['service.name'], anyAttrs: [] }]);
  assert.deepEqual(r.outside, { names: [], spanAttrs: ['rocky.model.name'], resourceAttrs: [], anyAttrs: ['rocky.run.id'] });
  const two = traceql.extract('{ name = "run" } >> { name = "statement.execute" && span.rocky.statement.kind = "select" }');
  assert.deepEqual(two.spansets.map((s) => s.names), [['run'], ['statement.execute']]);
  assert.deepEqual(two.spansets[1].spanAttrs, ['rocky.statement.kind']);
  assert.throws(() => traceql.extract('{ nme = "run" }'), /neither an intrinsic nor a scoped attribute/);
  assert.throws(() => traceql.extract('{ name = "run" '), /unterminated/);
});

// --- OTLP -> Prometheus series ----------------------------------------------

const kv = (key, v) => ({ key, value: typeof v === 'number' ? { intValue: String(v), value: 'intValue' } : { stringValue: v, value: 'stringValue' } });
const RESOURCE = { attributes: [kv('service.name', 'rocky'), kv('host.name', 'h'), kv('process.pid', 7)] };
const CUMULATIVE = 'AGGREGATION_TEMPORALITY_CUMULATIVE';
const m = (name, data, body) => ({ resource: RESOURCE, metric: { name, data, [data]: body } });
const SAMPLE = [
  m('rocky.otel.spans_dropped', 'sum', { aggregationTemporality: CUMULATIVE, isMonotonic: true,
    dataPoints: [{ attributes: [kv('reason', 'queue_full')] }, { attributes: [kv('reason', 'shutdown')] }] }),
  m('rocky.table_duration_ms', 'histogram', { aggregationTemporality: CUMULATIVE,
    dataPoints: [{ attributes: [], explicitBounds: [0, 5] }] }),
  m('rocky.error_rate_pct', 'gauge', { dataPoints: [{ attributes: [] }] }),
  m('rocky.delta_thing', 'sum', { aggregationTemporality: 'AGGREGATION_TEMPORALITY_DELTA', isMonotonic: true, dataPoints: [{ attributes: [] }] }),
];

test('series: names with dots made underscores, histograms split, labels from attributes and resource', () => {
  const cat = S.seriesCatalogue(SAMPLE);
  assert.deepEqual([...cat.keys()].sort(), ['rocky_error_rate_pct', 'rocky_otel_spans_dropped',
    'rocky_table_duration_ms_bucket', 'rocky_table_duration_ms_count', 'rocky_table_duration_ms_sum']);
  assert.deepEqual([...cat.get('rocky_otel_spans_dropped').labels.get('reason')], ['queue_full', 'shutdown']);
  assert.deepEqual([...cat.get('rocky_otel_spans_dropped').labels.get('job')], ['rocky']);
  assert.equal(cat.get('rocky_otel_spans_dropped').labels.has('instance'), false, 'no service.instance.id, no instance');
  assert.deepEqual([...cat.get('rocky_table_duration_ms_bucket').labels.get('le')], ['0', '5', '+Inf']);
  assert.equal(cat.get('rocky_table_duration_ms_sum').labels.has('le'), false);
  assert.equal(S.promName('rocky.otel.spans_dropped'), 'rocky_otel_spans_dropped');
  assert.equal(S.promLabel('rocky.model.status'), 'rocky_model_status');
});

test('series: a query resolves only against what exists', () => {
  const cat = S.seriesCatalogue(SAMPLE);
  assert.deepEqual(S.checkPromQL('sum by (reason) (max_over_time(rocky_otel_spans_dropped{job=~"$service"}[15m]))', cat), []);
  assert.deepEqual(S.checkPromQL('histogram_quantile(0.9, sum by (le) (rocky_table_duration_ms_bucket))', cat), []);
  assert.deepEqual(S.checkPromQL('rocky_otel_spans_dropped{reason=~"queue_full|shutdown"}', cat), []);
  assert.match(S.checkPromQL('sum(rocky_tables_failed)', cat).join('\n'), /no series 'rocky_tables_failed'/);
  assert.match(S.checkPromQL('rocky_otel_spans_dropped{status="x"}', cat).join('\n'), /has no label 'status'/);
  assert.match(S.checkPromQL('rocky_otel_spans_dropped{reason="no_such"}', cat).join('\n'), /never had reason="no_such"/);
  assert.match(S.checkPromQL('rocky_otel_spans_dropped{reason=~"queue_full|nope"}', cat).join('\n'), /never had reason="nope"/);
  assert.match(S.checkPromQL('sum by (le) (rocky_table_duration_ms_sum)', cat).join('\n'), /label 'le'.*none of the selected/);
  assert.match(S.checkPromQL('rocky_delta_thing', cat).join('\n'), /no series 'rocky_delta_thing'/, 'delta sums never reach Prometheus');
  assert.match(S.checkPromQL('{job="rocky"}', cat).join('\n'), /without a metric name/);
  assert.match(S.checkPromQL('rocky.error_rate_pct', cat).join('\n'), /not a Prometheus name/);
});

test('series: a TraceQL query resolves only against spans that arrived', () => {
  const spans = S.spanCatalogue([
    { resource: RESOURCE, span: { name: 'run', attributes: [kv('rocky.run.id', 'r1')] } },
    { resource: RESOURCE, span: { name: 'materialize.table', attributes: [kv('rocky.model.name', 'a')] } },
  ]);
  assert.deepEqual(S.checkTraceQL('{ resource.service.name = "rocky" && name = "materialize.table" } | select(span.rocky.model.name)', spans), []);
  assert.match(S.checkTraceQL('{ name = "statement.execute" }', spans).join('\n'), /no span named 'statement.execute'/);
  assert.match(S.checkTraceQL('{ name = "run" } | select(span.rocky.model.name)', spans).join('\n'), /no span named run has attribute 'rocky.model.name'/);
  assert.match(S.checkTraceQL('{ resource.k8s.pod.name = "x" }', spans).join('\n'), /resource has attribute 'k8s.pod.name'/);
});
