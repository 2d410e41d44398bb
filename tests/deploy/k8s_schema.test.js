'use strict';
// Every manifest under deploy/k8s parses as YAML and validates offline
// against the Kubernetes API schema (see lib/k8s_validate.js), and the
// validator really rejects broken manifests.
const test = require('node:test');
const assert = require('node:assert/strict');
const { manifestFiles, readText, parseYamlDocs, parseYamlOne, allManifestDocs } = require('./lib/load');
const { validateK8sObject } = require('./lib/k8s_validate');
const { unknownFields, unknownFieldsAs, hasRootType } = require('./lib/k8s_strict');

test('deploy/k8s holds the expected manifests', () => {
  const files = manifestFiles();
  for (const want of [
    'deploy/k8s/job.yaml',
    'deploy/k8s/cronjob.yaml',
    'deploy/k8s/pvc.yaml',
    'deploy/k8s/collector-configmap.yaml',
    'deploy/k8s/kustomization.yaml',
    'deploy/k8s/operator/opentelemetrycollector.yaml',
    'deploy/k8s/operator/cronjob.yaml',
    'deploy/k8s/node-collector/daemonset.yaml',
    'deploy/k8s/node-collector/collector-configmap.yaml',
    'deploy/k8s/node-collector/cronjob.yaml',
  ]) {
    assert.ok(files.includes(want), `missing ${want}`);
  }
});

for (const file of manifestFiles()) {
  test(`${file} parses and validates against the Kubernetes schema`, () => {
    const docs = parseYamlDocs(readText(file), file);
    assert.ok(docs.length > 0, `${file}: no YAML document`);
    for (const doc of docs) {
      try {
        validateK8sObject(doc);
      } catch (err) {
        assert.fail(`${file}: ${doc.kind} ${doc.metadata && doc.metadata.name}: ${err.message}`);
      }
    }
  });
}

test('no manifest has an unknown or misplaced field (strict field validation)', () => {
  let checked = 0;
  for (const { file, doc } of allManifestDocs()) {
    if (hasRootType(doc)) {
      assert.deepEqual(unknownFields(doc), [], file);
      checked++;
    }
    if (doc.kind === 'OpenTelemetryCollector') {
      const s = doc.spec;
      (s.env || []).forEach((e, i) => assert.deepEqual(unknownFieldsAs(e, 'v1/EnvVar.d.ts', `env[${i}]`), [], file));
      assert.deepEqual(unknownFieldsAs(s.resources, 'v1/ResourceRequirements.d.ts', 'resources'), [], file);
      assert.deepEqual(unknownFieldsAs(s.securityContext, 'v1/SecurityContext.d.ts', 'securityContext'), [], file);
      checked++;
    }
  }
  assert.ok(checked >= 9, `only ${checked} objects checked`);
});

test('strict field check catches typos and fields on the wrong level', () => {
  const job = firstDoc('deploy/k8s/job.yaml', 'Job');
  job.spec.terminationGracePeriodSeconds = 30; // belongs to the pod spec
  job.spec.template.spec.initContainers[1].restartpolicy = 'Always';
  job.spec.template.spec.containers[0].env[0].valueFrom = { fieldref: { fieldPath: 'metadata.name' } };
  job.spec.template.spec.volumes[0].persistentVolumeClaim.claim = 'rocky-state';
  const problems = unknownFields(job).join('\n');
  assert.match(problems, /Job\.spec\.terminationGracePeriodSeconds: unknown field/);
  assert.match(problems, /initContainers\[1\]\.restartpolicy: unknown field \(did you mean 'restartPolicy'\?\)/);
  assert.match(problems, /env\[0\]\.valueFrom\.fieldref: unknown field/);
  assert.match(problems, /persistentVolumeClaim\.claim: unknown field/);
  // ...which the schema validator alone lets through.
  validateK8sObject(job);
  const cron = firstDoc('deploy/k8s/cronjob.yaml', 'CronJob');
  cron.spec.jobTemplate.spec.template.spec.containers[0].resource = {};
  assert.match(unknownFields(cron).join('\n'), /containers\[0\]\.resource: unknown field/);
});

test('every kustomization resource exists and is a manifest of the same folder', () => {
  const path = require('node:path');
  const fs = require('node:fs');
  const { repoPath } = require('./lib/load');
  for (const { file, doc } of allManifestDocs()) {
    if (doc.kind !== 'Kustomization') continue;
    for (const res of doc.resources) {
      assert.ok(!res.includes('..'), `${file}: ${res} leaves the kustomization root (kustomize refuses it)`);
      const full = repoPath(path.dirname(file), res);
      assert.ok(fs.existsSync(full), `${file}: resource ${res} does not exist`);
    }
  }
});

// --- the validator must be able to say no ---------------------------------

function firstDoc(file, kind) {
  const found = allManifestDocs().find((d) => d.file === file && d.doc.kind === kind);
  assert.ok(found, `${file} has no ${kind}`);
  return structuredClone(found.doc);
}

function rejects(doc, pattern) {
  assert.throws(() => validateK8sObject(doc), pattern);
}

test('validator rejects a broken Job: string port, missing container name, bad pod restartPolicy', () => {
  const job = firstDoc('deploy/k8s/job.yaml', 'Job');
  validateK8sObject(job); // the unbroken copy passes

  const badPort = structuredClone(job);
  badPort.spec.template.spec.initContainers[1].ports[0].containerPort = '13133';
  rejects(badPort, /containerPort must be integer/);

  const noName = structuredClone(job);
  delete noName.spec.template.spec.containers[0].name;
  rejects(noName, /required property 'name'|required property name/);

  const badPolicy = structuredClone(job);
  badPolicy.spec.template.spec.restartPolicy = 'Sometimes';
  rejects(badPolicy, /restartPolicy/);

  const badGrace = structuredClone(job);
  badGrace.spec.template.spec.terminationGracePeriodSeconds = '30';
  rejects(badGrace, /terminationGracePeriodSeconds must be integer/);
});

test('validator rejects a manifest string with a malformed quantity', () => {
  const text = `
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: broken
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: one-gigabyte
`;
  rejects(parseYamlOne(text, 'inline'), /storage/);
});

test('validator rejects a CronJob whose jobTemplate is a list', () => {
  const text = `
apiVersion: batch/v1
kind: CronJob
metadata:
  name: broken
spec:
  schedule: "0 * * * *"
  jobTemplate:
    - spec: {}
`;
  rejects(parseYamlOne(text, 'inline'), /jobTemplate must be object/);
});

test('YAML loader rejects invalid YAML and duplicate keys', () => {
  assert.throws(() => parseYamlDocs('a: [1, 2\nb: 3\n', 'inline'), /inline: YAML/);
  assert.throws(() => parseYamlDocs('a: 1\na: 2\n', 'inline'), /inline: YAML/);
});

test('OpenTelemetryCollector check rejects a bad mode, a string config and an unknown spec field', () => {
  const col = firstDoc('deploy/k8s/operator/opentelemetrycollector.yaml', 'OpenTelemetryCollector');
  validateK8sObject(col);

  const badMode = structuredClone(col);
  badMode.spec.mode = 'sidekick';
  rejects(badMode, /mode must be equal to one of the allowed values/);

  const stringConfig = structuredClone(col);
  stringConfig.spec.config = 'receivers: {}';
  rejects(stringConfig, /config must be object/);

  const unknown = structuredClone(col);
  unknown.spec.sidecarMode = 'native';
  rejects(unknown, /property name must be valid/);

  const badEnv = structuredClone(col);
  badEnv.spec.env[0].valueFrom.fieldRef = {};
  rejects(badEnv, /fieldPath/);
});

test('validator refuses kinds it has no schema for', () => {
  rejects({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'x' } }, /no schema for example.com\/v1\/Widget/);
});
