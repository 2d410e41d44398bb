'use strict';
// One real `rocky run` with rocky_otel.so against the independent OTLP
// receiver of tests/e2e/receiver, on a small project where one model
// succeeds, one depends on it, one fails at run time (integer overflow in
// SQLite) and one depends on the failed one (skipped): every outcome a
// dashboard shows. Resolves to what the receiver got: {metrics, spans, code,
// stdout, stderr}. Everything is bounded in time, the runner is killed by
// PID if it overruns, the receiver listens on 127.0.0.1 and is stopped, the
// temp dir removed.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { startReceiver, scaleMs } = require('../../e2e/receiver/harness');

const MODELS = {
  raw: 'SELECT 1 AS id, 10 AS amount UNION ALL SELECT 2, 20',
  totals: '-- depends_on: raw\nSELECT sum(amount) AS total FROM raw',
  broken: 'SELECT abs(-9223372036854775808) AS overflow',
  after_broken: '-- depends_on: broken\nSELECT * FROM broken',
};

function runnerEnv(extra) {
  // Nothing of the developer's OTEL_*/ROCKY_* environment leaks in.
  const env = Object.fromEntries(Object.entries(process.env)
    .filter(([k]) => !k.startsWith('OTEL_') && !k.startsWith('ROCKY_') && k !== 'TRACEPARENT' && k !== 'TRACESTATE'));
  return { ...env, NO_COLOR: '1', ...extra };
}

async function realRun({ rocky = process.env.ROCKY_BIN, plugin = process.env.ROCKY_OTEL_PLUGIN } = {}) {
  if (!rocky || !plugin) throw new Error('set ROCKY_BIN and ROCKY_OTEL_PLUGIN (ctest does)');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rocky-observability-'));
  const rx = await startReceiver({});
  try {
    fs.mkdirSync(path.join(tmp, 'models'));
    fs.writeFileSync(path.join(tmp, 'rocky.json'), JSON.stringify({ name: 'observability', threads: 2 }));
    for (const [name, sql] of Object.entries(MODELS)) fs.writeFileSync(path.join(tmp, 'models', `${name}.sql`), `${sql}\n`);
    const child = spawn(rocky, ['run', tmp, '--plugin', plugin, '--state', path.join(tmp, 'state.db')], {
      env: runnerEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: rx.endpoint }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const limit = scaleMs(30000);
    const code = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`rocky run did not end within ${limit} ms; stderr:\n${stderr}`));
      }, limit);
      child.on('error', (e) => { clearTimeout(timer); reject(e); });
      child.on('close', (c) => { clearTimeout(timer); resolve(c); });
    });
    // The final flush happened before exit; wait (bounded) for both signals.
    await rx.waitFor((r) => r.metrics().length > 0 && r.spans().length > 0, 10000, 'metrics and spans of the run');
    return { metrics: rx.metrics(), spans: rx.spans(), code, stdout, stderr };
  } finally {
    await rx.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

module.exports = { realRun, MODELS };
