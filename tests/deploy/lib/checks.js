'use strict';
// Cross-file agreement checks over the deploy/ manifests. Each takes parsed
// documents and returns a list of problems (empty = good), so the tests can
// run them on the real files and on deliberately broken copies.
const P = require('./pods');
const { readText } = require('./load');

const DEFAULT_OTLP_TIMEOUT_MS = 10000; // OTEL_EXPORTER_OTLP_TIMEOUT default (spec)
const PROCESS_EXIT_MARGIN_S = 1; // process teardown after the flush returns

// The plugin guard's exit-flush deadline in seconds, as the plugin computes
// it: ROCKY_OTEL_EXIT_TIMEOUT_MS, else OTEL_EXPORTER_OTLP_TIMEOUT, else 10000.
function flushDeadlineSeconds(runner) {
  const raw =
    P.envValue(runner, 'ROCKY_OTEL_EXIT_TIMEOUT_MS') ??
    P.envValue(runner, 'OTEL_EXPORTER_OTLP_TIMEOUT') ??
    String(DEFAULT_OTLP_TIMEOUT_MS);
  if (!/^\d+$/.test(raw)) throw new Error(`flush deadline '${raw}' is not a number of ms`);
  return Number(raw) / 1000;
}

// The runner bounds plugin shutdown itself (host/run.c PLUGIN_SHUTDOWN_MS),
// and on its normal and SIGTERM paths that bound, not the guard's, is what
// the exit waits for (measured by pod_run.test.js).
function runnerShutdownBoundSeconds(runSource = readText('host/run.c')) {
  const m = /#define\s+PLUGIN_SHUTDOWN_MS\s+(\d+)/.exec(runSource);
  if (!m) {
    throw new Error('host/run.c no longer defines PLUGIN_SHUTDOWN_MS: teach tests/deploy/lib/checks.js the runner\'s plugin-shutdown bound');
  }
  return Number(m[1]) / 1000;
}

// The longest the runner may take to exit after SIGTERM because of the plugin.
function exitFlushSeconds(runner, runnerBoundS = runnerShutdownBoundSeconds()) {
  return Math.max(flushDeadlineSeconds(runner), runnerBoundS);
}

// How long a collector may need to drain at shutdown: the batch processor's
// timeout plus one export attempt per exporter with a timeout (exports run
// in parallel, so the longest counts).
function collectorDrainSeconds(cfg) {
  const batch = Object.entries(cfg.processors || {}).find(([id]) => id.split('/')[0] === 'batch');
  const batchS = batch && batch[1] && batch[1].timeout ? P.durationSeconds(batch[1].timeout) : 0.2;
  let exportS = 0;
  for (const [id, e] of Object.entries(cfg.exporters || {})) {
    if (id.split('/')[0] === 'debug') continue;
    exportS = Math.max(exportS, e && e.timeout ? P.durationSeconds(e.timeout) : 5);
  }
  return batchS + exportS;
}

// terminationGracePeriodSeconds covers the runner's flush, then (when the
// collector dies with the pod) the collector's drain.
function checkGrace(pod, collectorCfg, runnerBoundS = runnerShutdownBoundSeconds()) {
  const problems = [];
  const runner = P.container(pod.spec, 'rocky');
  const grace = pod.spec.terminationGracePeriodSeconds;
  if (!Number.isInteger(grace)) return [`${pod.file}: terminationGracePeriodSeconds not set`];
  const flush = exitFlushSeconds(runner, runnerBoundS);
  const drain = P.variantOf(pod) === 'node' ? 0 : collectorDrainSeconds(collectorCfg);
  const need = flush + drain + PROCESS_EXIT_MARGIN_S;
  if (grace < need) {
    problems.push(
      `${pod.file}: terminationGracePeriodSeconds ${grace} < flush ${flush}s + collector drain ${drain}s + ${PROCESS_EXIT_MARGIN_S}s`,
    );
  }
  return problems;
}

// $(VAR) in an env value must name a variable defined earlier in the list,
// or Kubernetes leaves the text as is.
function checkEnvReferences(c, where) {
  const problems = [];
  const seen = new Set();
  for (const e of c.env || []) {
    for (const m of String(e.value || '').matchAll(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g)) {
      if (!seen.has(m[1])) problems.push(`${where}: ${e.name} uses $(${m[1]}) before it is defined`);
    }
    seen.add(e.name);
  }
  return problems;
}

const RESOURCE_FIELD = {
  'k8s.pod.name': 'metadata.name',
  'k8s.pod.uid': 'metadata.uid',
  'k8s.namespace.name': 'metadata.namespace',
  'k8s.node.name': 'spec.nodeName',
};

// OTEL_RESOURCE_ATTRIBUTES carries pod, namespace and node from the
// downward API, and the static names agree with the objects.
function checkResourceAttributes(pod, ownerName) {
  const where = `${pod.file}`;
  const runner = P.container(pod.spec, 'rocky');
  const problems = checkEnvReferences(runner, where);
  const raw = P.envValue(runner, 'OTEL_RESOURCE_ATTRIBUTES');
  if (!raw) return [...problems, `${where}: OTEL_RESOURCE_ATTRIBUTES not set`];
  let attrs;
  try {
    attrs = P.parseResourceAttributes(raw);
  } catch (err) {
    return [...problems, `${where}: ${err.message}`];
  }
  for (const [key, fieldPath] of Object.entries(RESOURCE_FIELD)) {
    if (key === 'k8s.pod.uid' && !attrs.has(key)) continue;
    const v = attrs.get(key);
    const m = v && /^\$\(([A-Za-z0-9_]+)\)$/.exec(v);
    if (!m) {
      problems.push(`${where}: ${key} must come from the downward API as $(VAR), got '${v}'`);
      continue;
    }
    const e = P.envEntry(runner, m[1]);
    const got = e && e.valueFrom && e.valueFrom.fieldRef && e.valueFrom.fieldRef.fieldPath;
    if (got !== fieldPath) problems.push(`${where}: ${key} reads ${m[1]} = fieldRef '${got}', want '${fieldPath}'`);
  }
  if (attrs.has('k8s.container.name') && attrs.get('k8s.container.name') !== runner.name) {
    problems.push(`${where}: k8s.container.name=${attrs.get('k8s.container.name')} but the container is '${runner.name}'`);
  }
  if (pod.kind === 'CronJob' && attrs.get('k8s.cronjob.name') !== ownerName) {
    problems.push(`${where}: k8s.cronjob.name=${attrs.get('k8s.cronjob.name')} but the CronJob is '${ownerName}'`);
  }
  return problems;
}

// The pod's collector is a native sidecar, started (and probed) before the
// runner, and no legacy sidecar sits among the regular containers.
function checkNativeSidecar(pod, collectorCfg) {
  const problems = [];
  const where = pod.file;
  const inits = pod.spec.initContainers || [];
  const col = inits.find((c) => c.name === 'otel-collector');
  if (!col) return [`${where}: no otel-collector init container`];
  if (col.restartPolicy !== 'Always') problems.push(`${where}: otel-collector restartPolicy must be Always (native sidecar)`);
  for (const c of pod.spec.containers) {
    if (c.name !== 'rocky' || /opentelemetry-collector/.test(c.image)) {
      problems.push(`${where}: container '${c.name}' would keep the Job from completing (legacy sidecar)`);
    }
  }
  if (!['Never', 'OnFailure'].includes(pod.spec.restartPolicy)) {
    problems.push(`${where}: pod restartPolicy '${pod.spec.restartPolicy}' is not valid for a Job`);
  }
  const probe = col.startupProbe && col.startupProbe.httpGet;
  if (!probe) return [...problems, `${where}: otel-collector has no httpGet startupProbe`];
  const port = typeof probe.port === 'number' ? probe.port : ((col.ports || []).find((p) => p.name === probe.port) || {}).containerPort;
  const hc = ((collectorCfg.extensions || {}).health_check || {}).endpoint || '';
  const hcPort = Number(hc.split(':').pop());
  if (port !== hcPort) problems.push(`${where}: startupProbe port ${port} != health_check port ${hcPort}`);
  const hcPath = ((collectorCfg.extensions || {}).health_check || {}).path || '/';
  if ((probe.path || '/') !== hcPath) problems.push(`${where}: startupProbe path ${probe.path} != health_check path ${hcPath}`);
  if (/^\$\{env:POD_IP\}/.test(hc)) {
    const e = P.envEntry(col, 'POD_IP');
    const fp = e && e.valueFrom && e.valueFrom.fieldRef && e.valueFrom.fieldRef.fieldPath;
    if (fp !== 'status.podIP') problems.push(`${where}: health_check binds POD_IP but POD_IP is '${fp}'`);
  }
  return problems;
}

// The runner's OTLP endpoint is where the collector listens.
function checkEndpoint(pod, collectorCfg, daemonSet) {
  const runner = P.container(pod.spec, 'rocky');
  const ep = P.envValue(runner, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  const m = /^http:\/\/([^/:]+):(\d+)$/.exec(ep || '');
  if (!m) return [`${pod.file}: OTEL_EXPORTER_OTLP_ENDPOINT '${ep}' is not http://host:port`];
  const [, host, port] = m;
  const bind = collectorCfg.receivers.otlp.protocols.grpc.endpoint;
  const [bindHost, bindPort] = [bind.slice(0, bind.lastIndexOf(':')), bind.slice(bind.lastIndexOf(':') + 1)];
  const problems = [];
  if (P.variantOf(pod) === 'node') {
    const e = P.envEntry(runner, host.replace(/^\$\((.*)\)$/, '$1'));
    const fp = e && e.valueFrom && e.valueFrom.fieldRef && e.valueFrom.fieldRef.fieldPath;
    if (fp !== 'status.hostIP') problems.push(`${pod.file}: endpoint host '${host}' is not the node IP (status.hostIP)`);
    const cport = daemonSet.spec.template.spec.containers[0].ports.find((p) => p.name === 'otlp-grpc');
    if (!cport || String(cport.hostPort) !== port || String(cport.containerPort) !== bindPort) {
      problems.push(`${pod.file}: endpoint port ${port} != DaemonSet hostPort/containerPort/receiver port`);
    }
  } else {
    if (port !== bindPort) problems.push(`${pod.file}: endpoint port ${port} != collector receiver port ${bindPort}`);
    if (host !== bindHost) problems.push(`${pod.file}: endpoint host ${host} != collector bind address ${bindHost}`);
  }
  return problems;
}

// Every container has cpu and memory requests and limits and runs without
// privileges; the pod runs as the non-root uid the image declares.
function checkResourcesAndSecurity(pod, imageUid) {
  const problems = [];
  const where = pod.file;
  const psc = pod.spec.securityContext || {};
  if (psc.runAsNonRoot !== true) problems.push(`${where}: pod securityContext.runAsNonRoot must be true`);
  if (!(psc.runAsUser > 0)) problems.push(`${where}: pod runAsUser must be a non-zero uid`);
  if (imageUid !== undefined && psc.runAsUser !== imageUid) {
    problems.push(`${where}: pod runAsUser ${psc.runAsUser} != image USER ${imageUid}`);
  }
  for (const c of [...(pod.spec.initContainers || []), ...pod.spec.containers]) {
    const r = c.resources || {};
    for (const kind of ['requests', 'limits']) {
      for (const res of ['cpu', 'memory']) {
        if (!r[kind] || r[kind][res] === undefined) problems.push(`${where}: ${c.name} has no ${kind}.${res}`);
      }
    }
    const sc = c.securityContext || {};
    if (sc.allowPrivilegeEscalation !== false) problems.push(`${where}: ${c.name} allowPrivilegeEscalation must be false`);
    if (!(sc.capabilities && (sc.capabilities.drop || []).includes('ALL'))) {
      problems.push(`${where}: ${c.name} must drop ALL capabilities`);
    }
    if (sc.runAsUser === 0 || sc.privileged === true) problems.push(`${where}: ${c.name} runs privileged/as root`);
  }
  return problems;
}

// ROCKY_STATE lies on a mounted volume backed by the PVC that pvc.yaml
// defines, and the project the runner gets is the one the seed copies.
function checkStateVolume(pod, pvcNames) {
  const problems = [];
  const where = pod.file;
  const runner = P.container(pod.spec, 'rocky');
  const state = P.envValue(runner, 'ROCKY_STATE');
  if (!state) return [`${where}: ROCKY_STATE not set`];
  const mount = (runner.volumeMounts || []).find((m) => state.startsWith(`${m.mountPath.replace(/\/$/, '')}/`));
  if (!mount) return [`${where}: ROCKY_STATE ${state} is on no volume mount (lost with the pod)`];
  const vol = (pod.spec.volumes || []).find((v) => v.name === mount.name);
  const claim = vol && vol.persistentVolumeClaim && vol.persistentVolumeClaim.claimName;
  if (!claim) problems.push(`${where}: ROCKY_STATE volume '${mount.name}' is not a PVC`);
  else if (!pvcNames.has(claim)) problems.push(`${where}: claim '${claim}' is defined by no manifest`);
  const project = runner.args && runner.args[0] === 'run' ? runner.args[1] : undefined;
  const seed = P.container(pod.spec, 'seed-project');
  if (seed) {
    const cmd = (seed.command || []).join(' ');
    if (!project || !cmd.includes(project)) problems.push(`${where}: seed-project does not fill the runner's project dir '${project}'`);
  }
  return problems;
}

module.exports = {
  flushDeadlineSeconds,
  runnerShutdownBoundSeconds,
  exitFlushSeconds,
  collectorDrainSeconds,
  checkGrace,
  checkEnvReferences,
  checkResourceAttributes,
  checkNativeSidecar,
  checkEndpoint,
  checkResourcesAndSecurity,
  checkStateVolume,
};
