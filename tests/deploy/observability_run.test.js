'use strict';
// Every query of the dashboards and alert rules reads only what rocky_otel.so
// really exports. The list of series is not kept by hand: it is what the
// independent OTLP receiver got from one real `rocky run` with the plugin
// (lib/real_run.js: a model succeeds, one depends on it, one fails, one is
// skipped), named the way the collector's Prometheus exporters name it with
// add_metric_suffixes=false (lib/series.js). Per query, one test:
//   - PromQL: every metric name is a series of the run; every label matched
//     on or grouped by is a label of it; a value matched with = (or a literal
//     =~ alternation) was seen;
//   - TraceQL: every span name arrived; every attribute is on a span of that
//     name (resource attributes on a resource).
// Ours: deploy/observability/. Upstream rocky's (tests/upstream/observability/):
// all but its scheduler rules, listed below by uid.
// Needs ROCKY_BIN and ROCKY_OTEL_PLUGIN (ctest sets them) and `npm ci` in
// tests/e2e/receiver.
const { test, before } = require('node:test');
const assert = require('node:assert/strict');
const { loadYaml, readText } = require('./lib/load');
const G = require('./lib/grafana');
const S = require('./lib/series');
const { extract } = require('./lib/promql');
const { realRun } = require('./lib/real_run');

const OURS = {
  dashboard: JSON.parse(readText('deploy/observability/grafana/dashboards/rocky-otel.json')),
  alerts: loadYaml('deploy/observability/grafana/provisioning/alerting/rocky-otel-alerts.yaml'),
};
const UPSTREAM = {
  dashboard: JSON.parse(readText('tests/upstream/observability/rocky-runs.json')),
  alerts: loadYaml('tests/upstream/observability/rocky-alerts.yaml'),
};
// Upstream rules we do not check: they read `rocky serve --scheduler`'s
// metrics (rocky_scheduler_*), and we have no scheduler.
const UPSTREAM_EXCLUDED_RULES = [
  'rocky-scheduler-tick-errors',
  'rocky-scheduler-consecutive-failures',
  'rocky-scheduler-lag',
];

let run;
let series;
let spans;
before(async () => {
  run = await realRun();
  series = S.seriesCatalogue(run.metrics);
  spans = S.spanCatalogue(run.spans);
});

function check(q) {
  const problems = q.lang === 'traceql' ? S.checkTraceQL(q.query, spans) : S.checkPromQL(q.query, series);
  assert.deepEqual(problems, [], `${q.where}: ${q.query}\n  ${problems.join('\n  ')}\n  series of the run: ${[...series.keys()].sort().join(', ')}`);
}

test('the run is the one the queries are checked against: a partial failure with success, failed and skipped models', () => {
  assert.equal(run.code, 1, `rocky run exit code; stderr:\n${run.stderr}`);
  assert.match(run.stdout, /partial_failure: 2 succeeded, 1 failed, 1 skipped of 4 models/);
  assert.ok(series.size >= 10, `series: ${[...series.keys()].join(', ')}`);
  // What the collector's transform/instance builds `instance` from.
  for (const { resource } of run.metrics) {
    const keys = new Set(resource.attributes.map((a) => a.key));
    for (const k of ['service.name', 'host.name', 'process.pid']) assert.ok(keys.has(k), `metrics resource lacks ${k}`);
  }
  // Every series carries job (service.name): the dashboard's $service filter.
  for (const [name, e] of series) assert.ok(e.labels.has('job'), `${name} has no job label`);
});

test('the check can fail on this run: a suffixed name, an unknown label, a missing span', () => {
  assert.match(S.checkPromQL('sum(rocky_runs_completed_total)', series).join('\n'), /no series 'rocky_runs_completed_total'/);
  assert.match(S.checkPromQL('sum by (no_such_label) (rocky_runs_completed)', series).join('\n'), /no_such_label/);
  assert.match(S.checkTraceQL('{ name = "no.such.span" }', spans).join('\n'), /no span named 'no.such.span'/);
});

for (const q of G.dashboardQueries(OURS.dashboard)) {
  test(`ours: dashboard ${q.where} reads only what a run exports: ${q.query}`, () => check(q));
}
for (const q of G.alertQueries(OURS.alerts)) {
  test(`ours: alert ${q.where} reads only what a run exports: ${q.query}`, () => check(q));
}

const upstreamAlertQueries = G.alertQueries(UPSTREAM.alerts);

test('upstream: the excluded rules exist and read only rocky_scheduler_* series; no other query does', () => {
  for (const uid of UPSTREAM_EXCLUDED_RULES) {
    const qs = upstreamAlertQueries.filter((q) => q.uid === uid);
    assert.ok(qs.length > 0, `upstream has no rule ${uid} any more: drop it from the exclusions`);
    for (const q of qs) {
      for (const m of extract(q.query).metrics) assert.match(m.name, /^rocky_scheduler_/, `${q.where}: ${q.query}`);
    }
  }
  for (const q of [...G.dashboardQueries(UPSTREAM.dashboard), ...upstreamAlertQueries]) {
    if (q.lang !== 'promql' || UPSTREAM_EXCLUDED_RULES.includes(q.uid)) continue;
    for (const m of extract(q.query).metrics) assert.doesNotMatch(m.name, /^rocky_scheduler_/, `${q.where} is not excluded`);
  }
});

for (const q of G.dashboardQueries(UPSTREAM.dashboard)) {
  test(`upstream: rocky-runs.json ${q.where} reads only what a run exports: ${q.query}`, () => check(q));
}
for (const q of upstreamAlertQueries) {
  if (UPSTREAM_EXCLUDED_RULES.includes(q.uid)) continue;
  test(`upstream: rocky-alerts.yaml ${q.where} reads only what a run exports: ${q.query}`, () => check(q));
}
