'use strict';
// The manifests' runner container, run for real: bin/rocky with the exact
// args and environment the kubelet would build from deploy/k8s (downward API
// values from a simulated pod), the plugin where the image puts it (here:
// the build tree's), and the independent OTLP receiver of tests/e2e standing
// in for the sidecar on 127.0.0.1. Proves that
//   - the resource attributes the manifests assemble reach the spans;
//   - on SIGTERM with a collector that never answers, the runner exits 143
//     early enough for the collector's drain to still fit in the pod's
//     terminationGracePeriodSeconds.
// Needs ROCKY_BIN and ROCKY_OTEL_PLUGIN (ctest sets them) and `npm ci` in
// tests/e2e/receiver.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { allManifestDocs, readText, repoPath, loadYaml } = require('./lib/load');
const P = require('./lib/pods');
const C = require('./lib/checks');
const { containerEnv } = require('./lib/podenv');
const { parseDockerfile } = require('./lib/dockerfile');
const { startReceiver, scaleMs } = require('../e2e/receiver/harness');

const ROCKY_BIN = process.env.ROCKY_BIN;
const PLUGIN = process.env.ROCKY_OTEL_PLUGIN;
if (!ROCKY_BIN || !PLUGIN) throw new Error('set ROCKY_BIN and ROCKY_OTEL_PLUGIN (ctest does)');

const docs = allManifestDocs();
const sidecarCfg = loadYaml('deploy/collector/sidecar.yaml');
const PROCESS_EXIT_MARGIN_S = 1;

const SIM_POD = {
  name: 'rocky-run-x7k2p-4mzq9',
  uid: '0b7f3a8e-2c1d-4e5f-9a6b-7c8d9e0f1a2b',
  namespace: 'pipelines',
  nodeName: 'node-a1',
  podIP: '127.0.0.1',
  hostIP: '127.0.0.1',
  labels: { 'job-name': 'rocky-run-x7k2p' },
};

function podOf(file, kind) {
  const pod = P.pipelinePods(docs).find((p) => p.file === file && p.kind === kind);
  assert.ok(pod, `${file}: no ${kind} pod`);
  return pod;
}

// The project the image ships (Dockerfile ARG ROCKY_PROJECT), copied into a
// temp dir the way the seed-project init container copies it to the PVC.
function seedProject(tmp) {
  const { instrs } = parseDockerfile(readText('deploy/docker/Dockerfile'));
  const arg = instrs.find((i) => i.instr === 'ARG' && i.args.startsWith('ROCKY_PROJECT='));
  const dest = path.join(tmp, 'project');
  fs.cpSync(repoPath(arg.args.split('=')[1]), dest, {
    recursive: true,
    filter: (src) => !src.split(path.sep).includes('.rocky'),
  });
  return dest;
}

// Build the child's argv and env from the manifest's runner container,
// moved onto this machine: receiver port, temp state/project, local plugin.
function runnerInvocation(pod, tmp, port) {
  const runner = P.container(pod.spec, 'rocky');
  const env = containerEnv(runner, SIM_POD);
  const ep = new URL(env.OTEL_EXPORTER_OTLP_ENDPOINT);
  assert.equal(ep.hostname, '127.0.0.1', 'the sidecar endpoint is IPv4 loopback');
  env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${port}`;
  const stateDir = path.dirname(env.ROCKY_STATE);
  env.ROCKY_STATE = path.join(tmp, path.basename(env.ROCKY_STATE));
  env.ROCKY_PLUGINS = PLUGIN; // the image's ENV, with the build tree's file
  const project = seedProject(tmp);
  const args = runner.args.map((a) => (a.startsWith(`${stateDir}/`) ? project : a));
  assert.ok(args.includes(project), `runner args ${runner.args} name no project on the state volume`);
  // Nothing of the developer's OTEL_* environment leaks in.
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_') && !k.startsWith('ROCKY_')));
  return { args, env: { ...base, ...env }, manifestEnv: containerEnv(runner, SIM_POD) };
}

function run(inv, { onStdout } = {}) {
  const child = spawn(ROCKY_BIN, inv.args, { env: inv.env });
  const res = { stdout: '', stderr: '', child };
  child.stdout.on('data', (d) => {
    res.stdout += d;
    if (onStdout) onStdout(res.stdout, child);
  });
  child.stderr.on('data', (d) => {
    res.stderr += d;
  });
  res.done = new Promise((resolve, reject) => {
    const limit = scaleMs(60000);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`rocky did not exit within ${limit} ms; stderr:\n${res.stderr}`));
    }, limit);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      res.endedAt = Date.now();
      resolve({ code, signal });
    });
  });
  return res;
}

function attrs(list) {
  const out = {};
  for (const kv of list || []) out[kv.key] = kv.value[kv.value.value];
  return out;
}

test('a Job run sends its spans with the manifest resource attributes', async (t) => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rocky-deploy-'));
  const rx = await startReceiver({});
  t.after(async () => {
    await rx.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });
  const inv = runnerInvocation(podOf('deploy/k8s/job.yaml', 'Job'), tmp, rx.port);
  const proc = run(inv);
  const { code } = await proc.done;
  assert.equal(code, 0, `rocky exited ${code}; stderr:\n${proc.stderr}`);
  const root = await rx.waitFor((r) => r.spans().find((s) => s.span.name === 'run'), 10000, 'run');
  const res = attrs(root.resource.attributes);
  assert.equal(res['service.name'], inv.manifestEnv.OTEL_SERVICE_NAME);
  assert.equal(res['k8s.pod.name'], SIM_POD.name);
  assert.equal(res['k8s.pod.uid'], SIM_POD.uid);
  assert.equal(res['k8s.namespace.name'], SIM_POD.namespace);
  assert.equal(res['k8s.node.name'], SIM_POD.nodeName);
  assert.equal(res['k8s.job.name'], SIM_POD.labels['job-name']);
  assert.equal(res['k8s.container.name'], 'rocky');
  const models = rx.spans().filter((s) => s.span.name === 'materialize.table' && s.traceIdHex === root.traceIdHex);
  assert.ok(models.length > 0, 'no materialize.table span in the run trace');
});

test('SIGTERM with a hung collector: exit 143 leaves the collector its drain time within the grace period', async (t) => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rocky-deploy-'));
  const rx = await startReceiver({ neverAnswer: true });
  t.after(async () => {
    await rx.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });
  const pod = podOf('deploy/k8s/cronjob.yaml', 'CronJob');
  const inv = runnerInvocation(pod, tmp, rx.port);
  let termAt = 0;
  // SIGTERM once the first model has finished: mid-run, spans queued.
  const proc = run(inv, {
    onStdout: (out, child) => {
      if (!termAt && / OK /.test(out)) {
        termAt = Date.now();
        child.kill('SIGTERM');
      }
    },
  });
  const { code, signal } = await proc.done;
  assert.ok(termAt > 0, `no model finished before the run ended; stdout:\n${proc.stdout}`);
  // It dies by the re-raised SIGTERM: Kubernetes reports 143.
  assert.equal(signal, 'SIGTERM', `want death by SIGTERM (143), got code ${code} signal ${signal}; stderr:\n${proc.stderr}`);
  const exitS = (proc.endedAt - termAt) / 1000;
  const grace = pod.spec.terminationGracePeriodSeconds;
  const drain = C.collectorDrainSeconds(sidecarCfg);
  const room = grace - drain - PROCESS_EXIT_MARGIN_S;
  t.diagnostic(`SIGTERM -> exit ${exitS.toFixed(2)} s; grace ${grace} s - drain ${drain} s - margin = ${room} s`);
  assert.ok(exitS <= room, `runner took ${exitS.toFixed(2)} s after SIGTERM; only ${room} s fit before the collector's drain`);
  // The state store recorded the interruption (the run is not lost).
  assert.ok(fs.existsSync(inv.env.ROCKY_STATE), 'no state store written');
});
