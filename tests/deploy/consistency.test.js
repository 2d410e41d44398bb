'use strict';
// Values shared between deploy/ files agree: the collector config embedded
// in the manifests is the committed one, the runner's endpoint is where the
// collector listens, the service name is one name, the grace period covers
// the exit flush and the collector's drain, the state store is on the PVC.
// Every check also runs on a deliberately broken copy and must fail there.
const test = require('node:test');
const assert = require('node:assert/strict');
const { allManifestDocs, loadYaml, readText, parseYamlOne } = require('./lib/load');
const P = require('./lib/pods');
const C = require('./lib/checks');
const { loadContribComponents } = require('./lib/collector');
const { parseDockerfile } = require('./lib/dockerfile');

const docs = allManifestDocs();
const sidecarCfg = loadYaml('deploy/collector/sidecar.yaml');
const nodeCfg = loadYaml('deploy/collector/node.yaml');
const pods = P.pipelinePods(docs);
const byKind = (kind) => docs.filter((d) => d.doc.kind === kind);
const daemonSet = byKind('DaemonSet')[0].doc;
const pvcNames = new Set(byKind('PersistentVolumeClaim').map((d) => d.doc.metadata.name));
const ownerName = (pod) => pod.name;
const cfgFor = (pod) => (P.variantOf(pod) === 'node' ? nodeCfg : sidecarCfg);
const clone = (x) => structuredClone(x);

function imageUid() {
  const { instrs } = parseDockerfile(readText('deploy/docker/Dockerfile'));
  const users = instrs.filter((i) => i.instr === 'USER');
  return Number(users[users.length - 1].args.split(':')[0]);
}

test('there is a pipeline pod of every variant', () => {
  const variants = new Set(pods.map(P.variantOf));
  assert.deepEqual([...variants].sort(), ['node', 'operator', 'sidecar']);
  assert.ok(pods.some((p) => p.kind === 'Job') && pods.some((p) => p.kind === 'CronJob'));
});

test('ConfigMaps embed the committed collector configs byte for byte', () => {
  const cms = Object.fromEntries(byKind('ConfigMap').map((d) => [d.doc.metadata.name, d.doc]));
  assert.equal(cms['rocky-otel-collector'].data['collector.yaml'], readText('deploy/collector/sidecar.yaml'));
  assert.equal(cms['rocky-otel-node-collector'].data['collector.yaml'], readText('deploy/collector/node.yaml'));
});

test('the OpenTelemetryCollector carries the sidecar config and is the one the pods ask for', () => {
  const col = byKind('OpenTelemetryCollector')[0].doc;
  assert.equal(col.spec.mode, 'sidecar');
  assert.deepEqual(col.spec.config, sidecarCfg);
  for (const pod of pods.filter((p) => P.variantOf(p) === 'operator')) {
    assert.equal(pod.meta.annotations['sidecar.opentelemetry.io/inject'], col.metadata.name, pod.file);
    assert.ok(!(pod.spec.initContainers || []).some((c) => c.name === 'otel-collector'), `${pod.file}: collector twice`);
  }
});

test('every configMapKeyRef and configMap volume names a ConfigMap and key that exist', () => {
  const cms = Object.fromEntries(byKind('ConfigMap').map((d) => [d.doc.metadata.name, d.doc.data]));
  const refs = [];
  const walk = (x, where) => {
    if (Array.isArray(x)) x.forEach((y) => walk(y, where));
    else if (x && typeof x === 'object') {
      if (x.configMapKeyRef) refs.push([where, x.configMapKeyRef.name, x.configMapKeyRef.key]);
      if (x.configMap && x.configMap.name) {
        for (const it of x.configMap.items || []) refs.push([where, x.configMap.name, it.key]);
      }
      Object.values(x).forEach((y) => walk(y, where));
    }
  };
  docs.forEach((d) => walk(d.doc, d.file));
  assert.ok(refs.length >= 10, 'found too few references: the walker is broken');
  for (const [where, name, key] of refs) {
    assert.ok(cms[name], `${where}: ConfigMap ${name} is defined nowhere`);
    assert.ok(Object.hasOwn(cms[name], key), `${where}: ConfigMap ${name} has no key ${key}`);
  }
});

test('collector containers read the mounted config file', () => {
  const cols = [
    ...pods.filter((p) => P.variantOf(p) === 'sidecar').map((p) => [p.file, p.spec]),
    ['daemonset', daemonSet.spec.template.spec],
  ];
  for (const [file, spec] of cols) {
    const c = P.container(spec, 'otel-collector');
    const arg = c.args.find((a) => a.startsWith('--config='));
    const conf = arg.slice('--config='.length);
    const mount = c.volumeMounts.find((m) => conf.startsWith(`${m.mountPath}/`));
    assert.ok(mount, `${file}: ${conf} is on no mount`);
    const vol = spec.volumes.find((v) => v.name === mount.name);
    const item = vol.configMap.items.find((i) => `${mount.mountPath}/${i.path}` === conf);
    assert.ok(item, `${file}: ${conf} is not an item of ConfigMap ${vol.configMap.name}`);
  }
});

test('runner endpoint is where the collector listens (port 4317 on loopback, or the node)', () => {
  for (const pod of pods) assert.deepEqual(C.checkEndpoint(pod, cfgFor(pod), daemonSet), []);
  const sidecarPod = pods.find((p) => P.variantOf(p) === 'sidecar');
  const broken = clone(sidecarPod);
  P.envEntry(P.container(broken.spec, 'rocky'), 'OTEL_EXPORTER_OTLP_ENDPOINT').value = 'http://localhost:4318';
  assert.match(C.checkEndpoint(broken, sidecarCfg, daemonSet).join('\n'), /port 4318 != collector receiver port 4317/);
  assert.match(C.checkEndpoint(broken, sidecarCfg, daemonSet).join('\n'), /host localhost != collector bind address 127.0.0.1/);
  const nodePod = clone(pods.find((p) => P.variantOf(p) === 'node'));
  P.envEntry(P.container(nodePod.spec, 'rocky'), 'K8S_NODE_IP').valueFrom.fieldRef.fieldPath = 'status.podIP';
  assert.match(C.checkEndpoint(nodePod, nodeCfg, daemonSet).join('\n'), /not the node IP/);
});

test('one service name everywhere, also in the deploy README', () => {
  const names = new Set(pods.map((p) => P.envValue(P.container(p.spec, 'rocky'), 'OTEL_SERVICE_NAME')));
  assert.equal(names.size, 1, `service names differ: ${[...names]}`);
  const [name] = names;
  assert.match(name, /^[a-z][a-z0-9-]*$/);
  assert.ok(readText('deploy/README.md').includes(name), `deploy/README.md never names the service '${name}'`);
});

test('terminationGracePeriodSeconds >= exit-flush deadline + collector drain', () => {
  for (const pod of pods) assert.deepEqual(C.checkGrace(pod, cfgFor(pod)), [], pod.file);
  // The numbers the manifests' comments quote: guard 10 s, runner bound 15 s, drain 11 s.
  const sidecarPod = pods.find((p) => P.variantOf(p) === 'sidecar');
  assert.equal(C.flushDeadlineSeconds(P.container(sidecarPod.spec, 'rocky')), 10);
  assert.equal(C.runnerShutdownBoundSeconds(), 15);
  assert.equal(C.collectorDrainSeconds(sidecarCfg), 11);
  assert.throws(() => C.runnerShutdownBoundSeconds('int main(void) { return 0; }'), /no longer defines PLUGIN_SHUTDOWN_MS/);
  // The DaemonSet's own grace covers its drain.
  assert.ok(daemonSet.spec.template.spec.terminationGracePeriodSeconds >= C.collectorDrainSeconds(nodeCfg) + 1);

  const short = clone(sidecarPod);
  short.spec.terminationGracePeriodSeconds = 15;
  assert.match(C.checkGrace(short, sidecarCfg).join('\n'), /15 < flush 15s \+ collector drain 11s/);
  // A runner that waited longer for its plugins would no longer fit.
  assert.match(C.checkGrace(sidecarPod, sidecarCfg, 20).join('\n'), /30 < flush 20s \+ collector drain 11s/);
  const longFlush = clone(sidecarPod);
  P.envEntry(P.container(longFlush.spec, 'rocky'), 'ROCKY_OTEL_EXIT_TIMEOUT_MS').value = '25000';
  assert.match(C.checkGrace(longFlush, sidecarCfg).join('\n'), /flush 25s/);
  const slowExport = clone(sidecarCfg);
  slowExport.exporters['otlp/gateway'].timeout = '30s';
  assert.match(C.checkGrace(sidecarPod, slowExport).join('\n'), /collector drain 31s/);
});

test('resource attributes come from the downward API and name the right objects', () => {
  for (const pod of pods) assert.deepEqual(C.checkResourceAttributes(pod, ownerName(pod)), []);
  const cron = pods.find((p) => p.kind === 'CronJob' && P.variantOf(p) === 'sidecar');
  const attrs = P.parseResourceAttributes(P.envValue(P.container(cron.spec, 'rocky'), 'OTEL_RESOURCE_ATTRIBUTES'));
  for (const k of ['k8s.pod.name', 'k8s.namespace.name', 'k8s.node.name']) assert.ok(attrs.has(k), k);

  const wrongField = clone(cron);
  P.envEntry(P.container(wrongField.spec, 'rocky'), 'K8S_NODE_NAME').valueFrom.fieldRef.fieldPath = 'status.hostIP';
  assert.match(C.checkResourceAttributes(wrongField, cron.name).join('\n'), /k8s.node.name reads K8S_NODE_NAME = fieldRef 'status.hostIP'/);
  const order = clone(cron);
  const env = P.container(order.spec, 'rocky').env;
  const i = env.findIndex((e) => e.name === 'OTEL_RESOURCE_ATTRIBUTES');
  env.unshift(...env.splice(i, 1)); // move it before the variables it uses
  assert.match(C.checkResourceAttributes(order, cron.name).join('\n'), /uses \$\(K8S_POD_NAME\) before it is defined/);
  assert.match(C.checkResourceAttributes(cron, 'other-name').join('\n'), /k8s.cronjob.name=rocky-pipeline but the CronJob is 'other-name'/);
});

test('the collector is a native sidecar started before the runner', () => {
  for (const pod of pods.filter((p) => P.variantOf(p) === 'sidecar')) {
    assert.deepEqual(C.checkNativeSidecar(pod, sidecarCfg), []);
  }
  const pod = pods.find((p) => P.variantOf(p) === 'sidecar');
  const legacy = clone(pod);
  const col = legacy.spec.initContainers.find((c) => c.name === 'otel-collector');
  delete col.restartPolicy;
  legacy.spec.containers.push(col);
  const problems = C.checkNativeSidecar(legacy, sidecarCfg).join('\n');
  assert.match(problems, /restartPolicy must be Always/);
  assert.match(problems, /container 'otel-collector' would keep the Job from completing/);
  const wrongProbe = clone(pod);
  wrongProbe.spec.initContainers.find((c) => c.name === 'otel-collector').startupProbe.httpGet.port = 8888;
  assert.match(C.checkNativeSidecar(wrongProbe, sidecarCfg).join('\n'), /startupProbe port 8888 != health_check port 13133/);
});

test('requests, limits and a non-root securityContext on every container', () => {
  const uid = imageUid();
  for (const pod of P.podTemplates(docs)) {
    const want = pod.spec.containers.some((c) => c.name === 'rocky') ? uid : undefined;
    assert.deepEqual(C.checkResourcesAndSecurity(pod, want), [], pod.file);
  }
  const pod = clone(pods[0]);
  delete P.container(pod.spec, 'rocky').resources.limits.memory;
  pod.spec.securityContext.runAsUser = 0;
  const problems = C.checkResourcesAndSecurity(pod, uid).join('\n');
  assert.match(problems, /rocky has no limits.memory/);
  assert.match(problems, /runAsUser must be a non-zero uid/);
});

test('memory_limiter stays below the collector container memory limit', () => {
  const check = (cfg, limit, where) => {
    const ml = cfg.processors.memory_limiter;
    assert.ok(ml.limit_mib * 1024 * 1024 < P.memoryBytes(limit), `${where}: limit_mib ${ml.limit_mib} >= ${limit}`);
  };
  for (const pod of pods.filter((p) => P.variantOf(p) === 'sidecar')) {
    check(sidecarCfg, P.container(pod.spec, 'otel-collector').resources.limits.memory, pod.file);
  }
  check(sidecarCfg, byKind('OpenTelemetryCollector')[0].doc.spec.resources.limits.memory, 'operator');
  check(nodeCfg, daemonSet.spec.template.spec.containers[0].resources.limits.memory, 'daemonset');
  assert.throws(() => check(sidecarCfg, '128Mi', 'broken'), /limit_mib 200 >= 128Mi/);
});

test('the state store is on the PVC and the project is seeded where the runner reads it', () => {
  for (const pod of pods) assert.deepEqual(C.checkStateVolume(pod, pvcNames), []);
  const pod = clone(pods.find((p) => p.kind === 'Job'));
  P.envEntry(P.container(pod.spec, 'rocky'), 'ROCKY_STATE').value = '/data/state.db';
  assert.match(C.checkStateVolume(pod, pvcNames).join('\n'), /on no volume mount/);
  const noPvc = clone(pods.find((p) => p.kind === 'Job'));
  noPvc.spec.volumes.find((v) => v.name === 'state').persistentVolumeClaim.claimName = 'other';
  assert.match(C.checkStateVolume(noPvc, pvcNames).join('\n'), /claim 'other' is defined by no manifest/);
});

test('collector image version matches the component list; one runner image everywhere', () => {
  const contrib = loadContribComponents();
  const images = { collector: new Set(), runner: new Set() };
  const walk = (x) => {
    if (Array.isArray(x)) x.forEach(walk);
    else if (x && typeof x === 'object') {
      if (typeof x.image === 'string') {
        images[/opentelemetry-collector/.test(x.image) ? 'collector' : 'runner'].add(x.image);
      }
      Object.values(x).forEach(walk);
    }
  };
  docs.forEach((d) => walk(d.doc));
  assert.deepEqual([...images.collector], [`otel/opentelemetry-collector-contrib:${contrib.source.version}`]);
  assert.equal(images.runner.size, 1, [...images.runner].join(', '));
  const kust = parseYamlOne(readText('deploy/k8s/kustomization.yaml'), 'kustomization');
  const [runner] = images.runner;
  assert.equal(kust.images[0].name, runner.split(':')[0]);
  assert.equal(`${kust.images[0].name}:${kust.images[0].newTag}`, runner);
  assert.ok(readText('deploy/collector/local.yaml').includes(`opentelemetry-collector-contrib:${contrib.source.version}`));
});

test('the deploy README names only files that exist and the pinned collector image', () => {
  const fs = require('node:fs');
  const { repoPath } = require('./lib/load');
  const readme = readText('deploy/README.md');
  const paths = new Set([...readme.matchAll(/`((?:deploy|tests)\/[A-Za-z0-9_./-]+)`/g)].map((m) => m[1].replace(/\/$/, '')));
  assert.ok(paths.size >= 10, `found only ${paths.size} paths: the pattern is broken`);
  for (const p of paths) assert.ok(fs.existsSync(repoPath(p)), `deploy/README.md names ${p}, which does not exist`);
  const version = loadContribComponents().source.version;
  for (const m of readme.matchAll(/opentelemetry-collector-contrib:([0-9.]+)/g)) assert.equal(m[1], version);
  assert.match(readme, /^# Running in Kubernetes$/m);
});
