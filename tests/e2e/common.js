'use strict';
// Helpers shared by the exporter's end-to-end tests: run the test host (or
// the real runner) with an environment, parse its JSON summary.
const { spawn } = require('child_process');
const { scaleMs } = require('./receiver/harness');

const DRIVE = process.env.ROCKY_DRIVE_PLUGIN;
const PLUGIN = process.env.ROCKY_OTEL_PLUGIN;

if (!DRIVE || !PLUGIN) {
  throw new Error('set ROCKY_DRIVE_PLUGIN and ROCKY_OTEL_PLUGIN (ctest does)');
}

// Only the OTEL_* variables a test sets reach the child: the developer's
// own environment must not change what a test sees.
function cleanEnv(extra) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('OTEL_') && k !== 'TRACEPARENT' && k !== 'TRACESTATE' &&
        !k.startsWith('ROCKY_OTEL_EXIT')) env[k] = v;
  }
  // Quick exports in tests: a short schedule, metrics only at shutdown.
  return { ROCKY_LOG: 'debug', ...env, ...extra };
}

/** Run `bin args` with cleanEnv(envExtra), asynchronously (a receiver may
 * live in this process's event loop); resolves {code, signal, stdout,
 * stderr, ms}; rejects when it is not done in timeoutMs (scaled; the child
 * is killed). */
function runProcess(bin, args, envExtra, timeoutMs = 30000) {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const child = spawn(bin, args, { env: cleanEnv(envExtra) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${bin} did not finish in ${scaleMs(timeoutMs)} ms; stderr:\n${stderr}`));
    }, scaleMs(timeoutMs));
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

/** Run drive_plugin; resolves {code, signal, stdout, stderr, summary, ms}. */
async function drive(envExtra, args = [], timeoutMs = 30000) {
  const res = await runProcess(DRIVE, [PLUGIN, ...args], envExtra, timeoutMs);
  let summary = null;
  try {
    summary = JSON.parse(res.stdout.trim().split('\n').pop());
  } catch (e) {
    summary = null;
  }
  return { ...res, summary };
}

function attrs(list) {
  const out = {};
  for (const kv of list || []) {
    const v = kv.value || {};
    const which = v.value;
    out[kv.key] = which ? v[which] : undefined;
  }
  return out;
}

module.exports = { drive, runProcess, attrs, cleanEnv, DRIVE, PLUGIN };
