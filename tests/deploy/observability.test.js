'use strict';
// deploy/observability/, offline: the compose file parses, pins its images
// and mounts only files that exist; Grafana's provisioning (datasources,
// dashboard provider, alert rules) and the dashboard have what Grafana needs,
// and every datasource uid they use is a provisioned one; the collector
// config uses only otelcol-contrib components and names the metrics the way
// the queries expect; the README describes every panel and every alert.
// Which series the queries read is checked against a real run in
// observability_run.test.js.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { loadYaml, parseYamlOne, readText, repoPath } = require('./lib/load');
const { loadContribComponents, checkCollectorConfig } = require('./lib/collector');
const G = require('./lib/grafana');

const DIR = 'deploy/observability';
const compose = loadYaml(`${DIR}/compose.yaml`);
const contrib = loadContribComponents();
const DASHBOARD = `${DIR}/grafana/dashboards/rocky-otel.json`;
const ALERTS = `${DIR}/grafana/provisioning/alerting/rocky-otel-alerts.yaml`;
const DATASOURCES = `${DIR}/grafana/provisioning/datasources/datasources.yaml`;
const PROVIDER = `${DIR}/grafana/provisioning/dashboards/dashboards.yaml`;

function loadJson(rel) {
  return JSON.parse(readText(rel));
}

// [{host, container}] bind mounts of a compose service (short syntax).
function binds(service) {
  return (service.volumes || []).map((v) => {
    const [host, container] = String(v).split(':');
    return { host, container };
  }).filter((b) => b.host.startsWith('.') || b.host.startsWith('/'));
}

// The host path (relative to the repo) a container path of a service comes
// from, through its bind mounts (a mounted directory covers what is under it).
function hostPathOf(service, containerPath) {
  for (const b of binds(service)) {
    if (containerPath === b.container || containerPath.startsWith(`${b.container}/`)) {
      return path.join(DIR, b.host, containerPath.slice(b.container.length));
    }
  }
  return null;
}

function checkCompose(doc) {
  const problems = [];
  const services = doc.services || {};
  for (const name of ['collector', 'prometheus', 'tempo', 'grafana']) {
    if (!services[name]) problems.push(`no service '${name}'`);
  }
  for (const [name, s] of Object.entries(services)) {
    if (!/^[a-z0-9./-]+:v?\d+\.\d+\.\d+$/.test(s.image || '')) problems.push(`${name}: image '${s.image}' is not pinned to a version`);
    for (const b of binds(s)) {
      if (!fs.existsSync(repoPath(DIR, b.host))) problems.push(`${name}: mounts ${b.host}, which does not exist`);
    }
    for (const v of s.volumes || []) {
      const src = String(v).split(':')[0];
      if (!src.startsWith('.') && !src.startsWith('/') && !(doc.volumes && src in doc.volumes)) {
        problems.push(`${name}: named volume '${src}' is not declared`);
      }
    }
    for (const p of s.ports || []) {
      if (!/^127\.0\.0\.1:\d+:\d+$/.test(String(p))) problems.push(`${name}: port '${p}' is not published on 127.0.0.1 only`);
    }
    for (const d of s.depends_on || []) if (!services[d]) problems.push(`${name}: depends on unknown service '${d}'`);
  }
  return problems;
}

test('compose.yaml parses, pins every image, mounts only files that exist, publishes on loopback', () => {
  assert.deepEqual(checkCompose(compose), []);
});

test('compose check says no: unpinned image, missing file, unknown volume, port on every interface', () => {
  const broken = structuredClone(compose);
  broken.services.tempo.image = 'grafana/tempo:latest';
  broken.services.prometheus.volumes.push('./prometheus/nope.yml:/etc/nope.yml:ro', 'nodata:/x');
  broken.services.grafana.ports = ['3000:3000'];
  const problems = checkCompose(broken).join('\n');
  assert.match(problems, /tempo: image 'grafana\/tempo:latest' is not pinned/);
  assert.match(problems, /mounts \.\/prometheus\/nope\.yml, which does not exist/);
  assert.match(problems, /named volume 'nodata' is not declared/);
  assert.match(problems, /grafana: port '3000:3000' is not published on 127\.0\.0\.1 only/);
});

test('the collector is otelcol-contrib at the version of the component list, with the config checked below', () => {
  const c = compose.services.collector;
  assert.equal(c.image, `otel/opentelemetry-collector-contrib:${contrib.source.version}`);
  const cfgArg = (c.command || []).find((a) => a.startsWith('--config='));
  assert.ok(cfgArg, 'collector: --config=...');
  assert.equal(hostPathOf(c, cfgArg.slice('--config='.length)), `${DIR}/collector/config.yaml`);
});

test('collector config: contrib components only, each signal to its store, names as the queries expect', () => {
  const cfg = loadYaml(`${DIR}/collector/config.yaml`);
  assert.deepEqual(checkCollectorConfig(cfg, contrib, 'observability collector'), []);
  const rw = cfg.exporters.prometheusremotewrite;
  assert.equal(rw.add_metric_suffixes, false, 'the dashboard queries names without _total/unit suffixes');
  assert.equal(rw.resource_to_telemetry_conversion, undefined, 'resource attributes stay in target_info');
  // Remote write to the prometheus service, which accepts it.
  const prom = new URL(rw.endpoint);
  assert.equal(prom.hostname, 'prometheus');
  assert.equal(prom.pathname, '/api/v1/write');
  assert.ok(compose.services.prometheus.command.includes('--web.enable-remote-write-receiver'));
  const tempo = cfg.exporters['otlp/tempo'];
  const tempoCfg = loadYaml(`${DIR}/tempo/tempo.yaml`);
  const tempoPort = tempoCfg.distributor.receivers.otlp.protocols.grpc.endpoint.split(':').pop();
  assert.equal(tempo.endpoint, `tempo:${tempoPort}`);
  assert.deepEqual(cfg.service.pipelines.traces.exporters.filter((e) => e !== 'debug'), ['otlp/tempo']);
  assert.deepEqual(cfg.service.pipelines.metrics.exporters.filter((e) => e !== 'debug'), ['prometheusremotewrite']);
  // The published port is the receiver's.
  const recvPort = cfg.receivers.otlp.protocols.grpc.endpoint.split(':').pop();
  assert.ok(compose.services.collector.ports.includes(`127.0.0.1:4317:${recvPort}`));
  // One series per run: service.instance.id set from resource attributes
  // (observability_run.test.js checks the run's resource has them).
  const stmts = cfg.processors['transform/instance'].metric_statements.flatMap((s) => s.statements);
  assert.ok(stmts.some((s) => /^set\(attributes\["service\.instance\.id"\], Concat\(\[attributes\["host\.name"\], attributes\["process\.pid"\]\], ":"\)\) where attributes\["service\.instance\.id"\] == nil$/.test(s)), stmts.join('\n'));
  assert.ok(cfg.service.pipelines.metrics.processors.includes('transform/instance'));
});

const datasourcesDoc = loadYaml(DATASOURCES);
const datasources = G.provisionedDatasources(datasourcesDoc);

test('datasources provisioning: parses, prometheus and tempo with fixed uids, urls name compose services', () => {
  assert.deepEqual(G.checkDatasourcesDoc(datasourcesDoc, DATASOURCES), []);
  assert.equal(datasources.get('prometheus'), 'prometheus');
  assert.equal(datasources.get('tempo'), 'tempo');
  for (const d of datasourcesDoc.datasources) {
    const host = new URL(d.url).hostname;
    assert.ok(compose.services[host], `${d.name}: ${d.url} names no compose service`);
  }
  const tempoPort = loadYaml(`${DIR}/tempo/tempo.yaml`).server.http_listen_port;
  assert.equal(new URL(datasourcesDoc.datasources.find((d) => d.type === 'tempo').url).port, String(tempoPort));
});

test('grafana mounts each provisioning folder where Grafana reads it, and the provider finds the dashboard', () => {
  const g = compose.services.grafana;
  for (const [kind, file] of [['datasources', DATASOURCES], ['dashboards', PROVIDER], ['alerting', ALERTS]]) {
    const host = hostPathOf(g, `/etc/grafana/provisioning/${kind}/${path.basename(file)}`);
    assert.equal(host, file, `grafana does not see ${file} under /etc/grafana/provisioning/${kind}`);
  }
  const provider = loadYaml(PROVIDER);
  assert.deepEqual(G.checkDashboardProvider(provider, PROVIDER), []);
  const dir = hostPathOf(g, provider.providers[0].options.path);
  assert.ok(dir, `no mount for ${provider.providers[0].options.path}`);
  assert.ok(fs.readdirSync(repoPath(dir)).includes(path.basename(DASHBOARD)), `${DASHBOARD} is not in ${dir}`);
});

test('the dashboard parses and has what Grafana needs; every datasource uid is provisioned', () => {
  const dash = loadJson(DASHBOARD);
  assert.deepEqual(G.checkDashboard(dash, datasources, DASHBOARD), []);
  const queries = G.dashboardQueries(dash);
  assert.ok(queries.filter((q) => q.lang === 'promql').length >= 10);
  assert.ok(queries.filter((q) => q.lang === 'traceql').length >= 2, 'trace panels');
});

test('upstream rocky\'s dashboard would load on this stack too (same datasource uids)', () => {
  const up = JSON.parse(readText('tests/upstream/observability/rocky-runs.json'));
  assert.deepEqual(G.checkDashboard(up, datasources, 'upstream rocky-runs.json'), []);
});

test('dashboard check says no: unprovisioned uid, wrong type, no targets, duplicate id, bad gridPos', () => {
  const dash = loadJson(DASHBOARD);
  const panels = G.panelsOf(dash).filter((p) => p.targets);
  panels[0].datasource = { type: 'prometheus', uid: 'prom' };
  panels[1].targets[0].datasource = { type: 'prometheus', uid: 'tempo' };
  panels[2].targets = [];
  panels[3].id = panels[4].id;
  panels[5].gridPos.x = 20;
  delete panels[6].targets[0].expr;
  const problems = G.checkDashboard(dash, datasources, 'broken').join('\n');
  assert.match(problems, /datasource uid 'prom' is not provisioned/);
  assert.match(problems, /datasource 'tempo' is a tempo, not a prometheus/);
  assert.match(problems, /no targets/);
  assert.match(problems, /id \d+ twice/);
  assert.match(problems, /bad gridPos/);
  assert.match(problems, /no expr/);
});

test('alert rules: parse, every query on a provisioned datasource, conditions name their data', () => {
  const doc = loadYaml(ALERTS);
  assert.deepEqual(G.checkAlertRules(doc, datasources, ALERTS), []);
  assert.ok(G.alertQueries(doc).length >= 4);
  for (const q of G.alertQueries(doc)) assert.equal(datasources.get(q.ds.uid), 'prometheus', q.where);
});

test('alert check says no: unknown datasource, dangling condition, duplicate uid', () => {
  const doc = loadYaml(ALERTS);
  const rules = doc.groups[0].rules;
  rules[0].data[0].datasourceUid = 'mimir';
  rules[1].condition = 'Z';
  rules[2].uid = rules[3].uid;
  rules[3].data[1].model.expression = 'Q';
  const problems = G.checkAlertRules(doc, datasources, 'broken').join('\n');
  assert.match(problems, /datasource 'mimir' is not provisioned/);
  assert.match(problems, /condition 'Z' names no data refId/);
  assert.match(problems, /uid twice/);
  assert.match(problems, /expression 'Q' names no refId/);
});

test('the README describes every panel and every alert, and names only files that exist', () => {
  const readme = readText(`${DIR}/README.md`);
  const dash = loadJson(DASHBOARD);
  for (const p of G.panelsOf(dash)) {
    if (p.type === 'row') continue;
    assert.ok(readme.includes(`**${p.title}**`), `README: no entry for panel "${p.title}"`);
  }
  for (const g of loadYaml(ALERTS).groups) {
    for (const r of g.rules) assert.ok(readme.includes(`**${r.title}**`), `README: no entry for alert "${r.title}"`);
  }
  for (const m of readme.matchAll(/`((?:deploy|tests)\/[^`\s]+|(?:collector|prometheus|tempo|grafana)\/[^`\s]+)`/g)) {
    const rel = /^(deploy|tests)\//.test(m[1]) ? m[1] : `${DIR}/${m[1]}`;
    assert.ok(fs.existsSync(repoPath(rel)), `README names ${m[1]}, which does not exist`);
  }
  assert.ok(readme.includes(compose.services.collector.image), 'README names the pinned collector image');
});

test('a YAML mistake in a provisioning file is an error, not a silent override', () => {
  assert.throws(() => parseYamlOne('apiVersion: 1\napiVersion: 2\n', 'dup'), /dup: YAML/);
});
