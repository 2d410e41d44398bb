'use strict';
// What the kubelet would hand a container as its environment: literal
// values, downward API fieldRefs filled from a simulated pod, and $(VAR)
// expanded from variables defined earlier in the list (an unknown $(VAR)
// stays as written, as in Kubernetes; `$$` escapes a `$`).

// `pod`: {name, uid, namespace, nodeName, podIP, hostIP, labels: {}}
function fieldValue(fieldPath, pod) {
  const label = /^metadata\.labels\['([^']+)'\]$/.exec(fieldPath);
  if (label) return (pod.labels || {})[label[1]] || '';
  const map = {
    'metadata.name': pod.name,
    'metadata.uid': pod.uid,
    'metadata.namespace': pod.namespace,
    'spec.nodeName': pod.nodeName,
    'status.podIP': pod.podIP,
    'status.hostIP': pod.hostIP,
  };
  if (!(fieldPath in map)) throw new Error(`simulated pod has no field ${fieldPath}`);
  return map[fieldPath];
}

function expand(value, env) {
  return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name) => {
    if (m === '$$') return '$';
    return Object.hasOwn(env, name) ? env[name] : m;
  });
}

// Returns {NAME: value} for the container's env list.
function containerEnv(container, pod) {
  const env = {};
  for (const e of container.env || []) {
    if (e.value !== undefined) env[e.name] = expand(String(e.value), env);
    else if (e.valueFrom && e.valueFrom.fieldRef) env[e.name] = fieldValue(e.valueFrom.fieldRef.fieldPath, pod);
    else throw new Error(`env ${e.name}: only value and fieldRef are simulated`);
  }
  return env;
}

module.exports = { containerEnv, expand, fieldValue };
