'use strict';
// Pod templates of the deploy/k8s manifests and the values inside them.
const { allManifestDocs } = require('./load');

// [{file, kind, name, meta, spec}] for every Job, CronJob, DaemonSet and
// Deployment pod template.
function podTemplates(docs = allManifestDocs()) {
  const out = [];
  for (const { file, doc } of docs) {
    let tpl = null;
    if (doc.kind === 'Job' || doc.kind === 'DaemonSet' || doc.kind === 'Deployment') tpl = doc.spec.template;
    else if (doc.kind === 'CronJob') tpl = doc.spec.jobTemplate.spec.template;
    if (!tpl) continue;
    out.push({
      file,
      kind: doc.kind,
      name: doc.metadata.name || doc.metadata.generateName,
      meta: tpl.metadata || {},
      spec: tpl.spec,
    });
  }
  return out;
}

// Pipeline pods: those running the `rocky` container.
function pipelinePods(docs) {
  return podTemplates(docs).filter((p) => p.spec.containers.some((c) => c.name === 'rocky'));
}

// 'sidecar' (collector written into the pod), 'operator' (injected), 'node'.
function variantOf(pod) {
  if (pod.meta.annotations && pod.meta.annotations['sidecar.opentelemetry.io/inject']) return 'operator';
  if ((pod.spec.initContainers || []).some((c) => c.name === 'otel-collector')) return 'sidecar';
  return 'node';
}

function container(spec, name) {
  return [...(spec.initContainers || []), ...spec.containers].find((c) => c.name === name);
}

function envList(c) {
  return c.env || [];
}

function envValue(c, name) {
  const e = envList(c).find((x) => x.name === name);
  return e ? e.value : undefined;
}

function envEntry(c, name) {
  return envList(c).find((x) => x.name === name);
}

// Parse "k=v,k2=v2" (OTEL_RESOURCE_ATTRIBUTES) into a Map, refusing
// duplicates and empty keys.
function parseResourceAttributes(text) {
  const m = new Map();
  for (const part of String(text).split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new Error(`resource attribute '${part}' is not key=value`);
    const key = part.slice(0, eq).trim();
    if (m.has(key)) throw new Error(`resource attribute '${key}' given twice`);
    m.set(key, part.slice(eq + 1).trim());
  }
  return m;
}

// Kubernetes quantity to bytes (memory) — the suffixes used in manifests.
function memoryBytes(q) {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(String(q));
  if (!m) throw new Error(`unsupported memory quantity '${q}'`);
  const mult = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };
  return Number(m[1]) * (m[2] ? mult[m[2]] : 1);
}

// Collector duration ("10s", "500ms", "1m") to seconds.
function durationSeconds(d) {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(String(d));
  if (!m) throw new Error(`unsupported duration '${d}'`);
  return Number(m[1]) * { ms: 0.001, s: 1, m: 60 }[m[2]];
}

module.exports = {
  podTemplates,
  pipelinePods,
  variantOf,
  container,
  envValue,
  envEntry,
  parseResourceAttributes,
  memoryBytes,
  durationSeconds,
};
