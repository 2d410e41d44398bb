#!/usr/bin/env node
'use strict';
// Command-line OTLP/gRPC receiver (for ./scripts/demo and manual checks).
// Usage: see usage() below or README.md.

const fs = require('fs');
const { startReceiver } = require('./harness');

function usage() {
  return `usage: node receiver.js [options]
  --port N                            listen on 127.0.0.1:N (default 0: an ephemeral port)
  --out FILE.jsonl                    append one JSON line per received request (ids as hex)
  --fault-unavailable-first N         answer UNAVAILABLE to the first N Export calls
  --fault-resource-exhausted N[:MS]   then answer RESOURCE_EXHAUSTED to N calls
                                      (with RetryInfo of MS milliseconds when given)
  --fault-partial-success N[:MSG]     accept, answering partial_success with N rejected
  --fault-delay-ms MS                 answer every call after MS milliseconds
  --fault-never-answer                never answer (calls are held until exit)
  --faults-on all|trace|metrics       which service the faults apply to (default all)
Prints "listening <port>" once bound; on SIGINT/SIGTERM prints a summary and exits 0.`;
}

class UsageError extends Error {}

function parseCount(flag, text) {
  if (!/^\d+$/.test(text || '')) throw new UsageError(`${flag} expects a non-negative integer, got ${JSON.stringify(text)}`);
  return Number(text);
}

function parseArgs(argv) {
  const opts = {};
  let out = null;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new UsageError(`${flag} needs a value`);
      return argv[++i];
    };
    switch (flag) {
      case '-h':
      case '--help':
        return { help: true };
      case '--port': {
        const p = parseCount(flag, value());
        if (p > 65535) throw new UsageError(`--port ${p} is out of range 0..65535`);
        opts.port = p;
        break;
      }
      case '--out':
        out = value();
        break;
      case '--fault-unavailable-first':
        opts.unavailableFirst = parseCount(flag, value());
        break;
      case '--fault-resource-exhausted': {
        const [n, ms] = value().split(':');
        opts.resourceExhausted = { count: parseCount(flag, n) };
        if (ms !== undefined) opts.resourceExhausted.retryDelayMs = parseCount(`${flag} (delay after ':')`, ms);
        break;
      }
      case '--fault-partial-success': {
        const v = value();
        const colon = v.indexOf(':');
        const n = colon < 0 ? v : v.slice(0, colon);
        opts.partialSuccess = { rejectedSpans: parseCount(flag, n), message: colon < 0 ? '' : v.slice(colon + 1) };
        break;
      }
      case '--fault-delay-ms':
        opts.delayMs = parseCount(flag, value());
        break;
      case '--fault-never-answer':
        opts.neverAnswer = true;
        break;
      case '--faults-on': {
        const v = value();
        if (!['all', 'trace', 'metrics'].includes(v)) throw new UsageError(`--faults-on expects all|trace|metrics, got ${JSON.stringify(v)}`);
        opts.faultsOn = v;
        break;
      }
      default:
        throw new UsageError(`unknown argument ${JSON.stringify(flag)}`);
    }
  }
  return { opts, out };
}

/** JSON with every Buffer (ids, -bin metadata) as lowercase hex. */
function toJsonLine(obj) {
  return JSON.stringify(obj, function replacer(key, value) {
    const raw = this[key];
    return Buffer.isBuffer(raw) ? raw.toString('hex') : value;
  });
}

function serviceName(resource) {
  const attr = ((resource && resource.attributes) || []).find((a) => a.key === 'service.name');
  return attr && attr.value ? attr.value.stringValue : undefined;
}

function countBy(items) {
  const m = new Map();
  for (const k of items) m.set(k, (m.get(k) || 0) + 1);
  return [...m.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

function summary(r) {
  const lines = [];
  const calls = countBy(r.calls.map((c) => `${c.service} ${c.statusName || 'unanswered'}`));
  lines.push(`receiver summary: ${r.calls.length} calls (${calls.map(([k, n]) => `${k} ${n}`).join(', ') || 'none'})`);
  const spans = r.spans();
  const metrics = r.metrics();
  const services = new Set([...spans, ...metrics].map((x) => serviceName(x.resource)).filter(Boolean));
  lines.push(`service.name: ${[...services].join(', ') || '(none)'}`);
  lines.push(`spans by name (${spans.length}):`);
  for (const [name, n] of countBy(spans.map((s) => s.span.name))) lines.push(`  ${name}  ${n}`);
  lines.push(`metrics by name (${metrics.length}):`);
  for (const [name, n] of countBy(metrics.map((m) => m.metric.name))) lines.push(`  ${name}  ${n}`);
  return lines.join('\n') + '\n';
}

async function main() {
  let parsed;
  try {
    parsed = parseArgs(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`receiver.js: ${err.message}\n${usage()}\n`);
    process.exit(2);
  }
  if (parsed.help) {
    process.stdout.write(usage() + '\n');
    return;
  }
  const { opts, out } = parsed;
  let fd = null;
  if (out) {
    try {
      fd = fs.openSync(out, 'a');
    } catch (err) {
      process.stderr.write(`receiver.js: cannot open --out ${out}: ${err.message}\n`);
      process.exit(2);
    }
  }
  if (fd !== null) {
    opts.onCall = (record, request) => {
      fs.writeSync(fd, toJsonLine({ ...record, request }) + '\n');
    };
  }
  let r;
  try {
    r = await startReceiver(opts);
  } catch (err) {
    process.stderr.write(`receiver.js: ${err.message}\n`);
    process.exit(1);
  }
  let ending = false;
  const end = async () => {
    if (ending) return;
    ending = true;
    await r.stop();
    if (fd !== null) fs.closeSync(fd);
    process.stdout.write(summary(r), () => process.exit(0));
  };
  // Handlers first: whoever reads "listening" may signal us at once.
  process.on('SIGINT', end);
  process.on('SIGTERM', end);
  process.stdout.write(`listening ${r.port}\n`);
}

main().catch((err) => {
  process.stderr.write(`receiver.js: ${err && err.stack}\n`);
  process.exit(1);
});
