'use strict';
// The collector configurations parse, use only components that exist in
// otelcol-contrib, wire every pipeline to declared components, and have the
// shape the deployment relies on (loopback OTLP/gRPC on 4317, memory_limiter
// then batch, parameterised gateway exporter, debug exporter, health_check).
const test = require('node:test');
const assert = require('node:assert/strict');
const { loadYaml, parseYamlOne, readText } = require('./lib/load');
const { loadContribComponents, checkCollectorConfig, typeOf } = require('./lib/collector');

const contrib = loadContribComponents();
const CONFIGS = [
  'deploy/collector/sidecar.yaml',
  'deploy/collector/node.yaml',
  'deploy/collector/local.yaml',
  'deploy/observability/collector/config.yaml',
];

test('component list names its source commit and version and is not trivially small', () => {
  assert.match(contrib.source.commit || '', /^[0-9a-f]{40}$/);
  assert.match(contrib.source.version || '', /^0\.\d+\.\d+$/);
  assert.ok(contrib.types.receivers.size > 50, 'receivers list looks truncated');
  for (const [section, type] of [
    ['receivers', 'otlp'],
    ['processors', 'batch'],
    ['processors', 'memory_limiter'],
    ['exporters', 'otlp'],
    ['exporters', 'debug'],
    ['extensions', 'health_check'],
  ]) {
    assert.ok(contrib.types[section].has(type), `${section} lacks ${type}`);
  }
  // The override replaced the derived name rather than adding beside it.
  assert.ok(!contrib.types.extensions.has('healthcheck'));
});

for (const file of CONFIGS) {
  test(`${file} uses only otelcol-contrib components and consistent pipelines`, () => {
    const cfg = loadYaml(file);
    assert.deepEqual(checkCollectorConfig(cfg, contrib, file), []);
    for (const [name, p] of Object.entries(cfg.service.pipelines)) {
      assert.equal(typeOf(p.processors[0]), 'memory_limiter', `${file} ${name}: memory_limiter first`);
      assert.ok(p.processors.some((x) => typeOf(x) === 'batch'), `${file} ${name}: batch processor`);
      assert.ok(p.exporters.some((x) => typeOf(x) === 'debug'), `${file} ${name}: debug exporter`);
    }
    assert.ok(cfg.service.extensions.includes('health_check'), `${file}: health_check enabled`);
    for (const signal of ['traces', 'metrics']) {
      assert.ok(cfg.service.pipelines[signal], `${file}: no ${signal} pipeline (the plugin sends both)`);
    }
  });
}

test('sidecar and local collectors listen for OTLP/gRPC on loopback port 4317 only', () => {
  for (const file of ['deploy/collector/sidecar.yaml', 'deploy/collector/local.yaml']) {
    const cfg = loadYaml(file);
    assert.equal(cfg.receivers.otlp.protocols.grpc.endpoint, '127.0.0.1:4317', file);
    assert.equal(cfg.receivers.otlp.protocols.http, undefined, `${file}: no HTTP receiver is needed`);
  }
});

test('sidecar and node collectors export to the parameterised gateway with bounded timeout and retries', () => {
  for (const file of ['deploy/collector/sidecar.yaml', 'deploy/collector/node.yaml']) {
    const cfg = loadYaml(file);
    const gw = cfg.exporters['otlp/gateway'];
    assert.ok(gw, `${file}: otlp/gateway exporter`);
    assert.equal(gw.endpoint, '${env:OTEL_GATEWAY_ENDPOINT}');
    assert.match(String(gw.timeout), /^\d+s$/);
    assert.equal(gw.retry_on_failure.enabled, true);
    assert.match(String(gw.retry_on_failure.max_elapsed_time), /^\d+s$/, 'retries must end');
    assert.equal(gw.sending_queue.enabled, true);
  }
});

// --- the checker must be able to say no -----------------------------------

const GOOD = `
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:4317
processors:
  memory_limiter: {check_interval: 1s, limit_mib: 100}
  batch: {}
exporters:
  debug: {}
service:
  pipelines:
    traces:
      receivers: [otlp]
      processors: [memory_limiter, batch]
      exporters: [debug]
`;

test('checker accepts a minimal good config', () => {
  assert.deepEqual(checkCollectorConfig(parseYamlOne(GOOD, 'good'), contrib, 'good'), []);
});

test('checker rejects a component that is not in otelcol-contrib', () => {
  const cfg = parseYamlOne(GOOD.replace('debug: {}', 'logging: {}').replace('[debug]', '[logging]'), 'bad');
  const problems = checkCollectorConfig(cfg, contrib, 'bad');
  assert.equal(problems.length, 1, problems.join('\n'));
  assert.match(problems[0], /exporters: 'logging' is not a component of otelcol-contrib/);
});

test('checker rejects undeclared pipeline members, unused components and misplaced memory_limiter', () => {
  const undeclared = parseYamlOne(GOOD.replace('exporters: [debug]', 'exporters: [debug, otlp/gateway]'), 'u');
  assert.match(checkCollectorConfig(undeclared, contrib, 'u').join('\n'), /exporter 'otlp\/gateway' is not declared/);

  const unused = parseYamlOne(GOOD.replace('  debug: {}', '  debug: {}\n  otlp: {endpoint: x:4317}'), 'n');
  assert.match(checkCollectorConfig(unused, contrib, 'n').join('\n'), /'otlp' is declared but used by no pipeline/);

  const order = parseYamlOne(GOOD.replace('[memory_limiter, batch]', '[batch, memory_limiter]'), 'o');
  assert.match(checkCollectorConfig(order, contrib, 'o').join('\n'), /memory_limiter must be the first processor/);

  const badExt = parseYamlOne(`${GOOD}  extensions: [health_check]\n`, 'e');
  assert.match(checkCollectorConfig(badExt, contrib, 'e').join('\n'), /'health_check' is not declared/);
});

test('component list parser refuses an override that names no listed module', () => {
  const text = `${readText('deploy/collector/otelcol-contrib-components.txt')}\nprocessors nosuchprocessor no_such\n`;
  assert.throws(() => loadContribComponents(text), /names no listed module/);
});
