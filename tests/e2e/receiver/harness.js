'use strict';
// Independent OTLP/gRPC receiver for rocky-otel's end-to-end and fault tests.
// grpc-js + the OFFICIAL OTLP protos from npm (never our own proto/), so a
// wire-format mistake in the C exporter cannot be hidden by sharing it here.
// Contract: README.md in this folder.

const net = require('net');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const wire = require('./wire');

const PROTO_DIR = path.join(
  path.dirname(require.resolve('@opentelemetry/otlp-grpc-exporter-base/package.json')),
  'build',
  'protos',
);

const LOADER_OPTIONS = { keepCase: false, longs: String, enums: String, defaults: true, oneofs: true };

const TRACE_SERVICE = 'opentelemetry.proto.collector.trace.v1.TraceService';
const METRICS_SERVICE = 'opentelemetry.proto.collector.metrics.v1.MetricsService';

let packageDefinition = null;

/** The official OTLP protos, loaded once per process. */
function loadProtos() {
  if (!packageDefinition) {
    packageDefinition = protoLoader.loadSync(
      [
        'opentelemetry/proto/collector/trace/v1/trace_service.proto',
        'opentelemetry/proto/collector/metrics/v1/metrics_service.proto',
      ],
      { ...LOADER_OPTIONS, includeDirs: [PROTO_DIR] },
    );
  }
  return packageDefinition;
}

/** ROCKY_TEST_TIME_SCALE (default 1): multiplies every timeout a test waits on. */
function timeScale() {
  const raw = process.env.ROCKY_TEST_TIME_SCALE;
  if (raw === undefined || raw === '') return 1;
  const v = Number(raw);
  if (!Number.isFinite(v) || v <= 0) {
    throw new Error(`ROCKY_TEST_TIME_SCALE=${JSON.stringify(raw)} is not a positive number (e.g. 1 or 3)`);
  }
  return v;
}

function scaleMs(ms) {
  return Math.ceil(ms * timeScale());
}

const STATUS_NAMES = Object.fromEntries(Object.entries(grpc.status).map(([k, v]) => [v, k]));

const KNOWN_OPTIONS = new Set([
  'port',
  'host',
  'unavailableFirst',
  'resourceExhausted',
  'partialSuccess',
  'delayMs',
  'neverAnswer',
  'faultsOn',
  'onCall',
]);

function isCount(v) {
  return Number.isInteger(v) && v >= 0;
}

/** Check the options up front so a typo fails loudly instead of injecting no fault. */
function validateOptions(opts) {
  if (opts === null || typeof opts !== 'object') throw new TypeError('startReceiver: opts must be an object');
  for (const key of Object.keys(opts)) {
    if (!KNOWN_OPTIONS.has(key)) {
      throw new TypeError(
        `startReceiver: unknown option "${key}" (known: ${[...KNOWN_OPTIONS].join(', ')})`,
      );
    }
  }
  const bad = (what) => {
    throw new TypeError(`startReceiver: ${what}`);
  };
  if (opts.port !== undefined && !(isCount(opts.port) && opts.port <= 65535)) bad('port must be an integer 0..65535');
  if (opts.host !== undefined && opts.host !== '127.0.0.1') bad('host must be 127.0.0.1 (tests bind loopback only)');
  if (opts.unavailableFirst !== undefined && !isCount(opts.unavailableFirst)) {
    bad('unavailableFirst must be a non-negative integer');
  }
  if (opts.resourceExhausted !== undefined) {
    const re = opts.resourceExhausted;
    if (re === null || typeof re !== 'object' || !isCount(re.count)) {
      bad('resourceExhausted must be {count: N, retryDelayMs?: ms}');
    }
    if (re.retryDelayMs !== undefined && re.retryDelayMs !== null) {
      if (typeof re.retryDelayMs !== 'number' || !(re.retryDelayMs >= 0)) {
        bad('resourceExhausted.retryDelayMs must be a non-negative number (or absent for no RetryInfo)');
      }
    }
    if (re.retryDelay !== undefined && re.retryDelay !== null) {
      // A raw google.protobuf.Duration, for delays no collector should send
      // (int64 seconds as a decimal string, nanos as a number).
      const d = re.retryDelay;
      if (typeof d !== 'object' || typeof d.seconds !== 'string' || !/^-?\d+$/.test(d.seconds) ||
          !Number.isInteger(d.nanos || 0)) {
        bad('resourceExhausted.retryDelay must be {seconds: "<int64 decimal>", nanos: N}');
      }
      if (re.retryDelayMs !== undefined && re.retryDelayMs !== null) bad('give retryDelayMs or retryDelay, not both');
    }
  }
  if (opts.partialSuccess !== undefined) {
    const ps = opts.partialSuccess;
    if (ps === null || typeof ps !== 'object' || !isCount(ps.rejectedSpans)) {
      bad('partialSuccess must be {rejectedSpans: N, message?: string}');
    }
    if (ps.message !== undefined && typeof ps.message !== 'string') bad('partialSuccess.message must be a string');
  }
  if (opts.delayMs !== undefined && !(typeof opts.delayMs === 'number' && opts.delayMs >= 0)) {
    bad('delayMs must be a non-negative number');
  }
  if (opts.neverAnswer !== undefined && typeof opts.neverAnswer !== 'boolean') bad('neverAnswer must be a boolean');
  if (opts.faultsOn !== undefined && !['all', 'trace', 'metrics'].includes(opts.faultsOn)) {
    bad('faultsOn must be "all", "trace" or "metrics"');
  }
  if (opts.onCall !== undefined && typeof opts.onCall !== 'function') bad('onCall must be a function');
}

/**
 * gRPC metadata as a plain object: key -> string (Buffer for -bin keys);
 * a key sent more than once maps to an array of its values.
 */
function metadataToObject(md) {
  const out = {};
  for (const [key, values] of Object.entries(md.toJSON())) {
    out[key] = values.length === 1 ? values[0] : values.slice();
  }
  return out;
}

function hex(buf) {
  return Buffer.isBuffer(buf) || buf instanceof Uint8Array ? Buffer.from(buf).toString('hex') : '';
}

/**
 * Decode one OTLP AnyValue (as proto-loader gives it, `oneofs: true`) to plain
 * JS: strings, booleans and doubles as is, ints as decimal strings (longs:
 * String), bytes as Buffers, arrays as arrays, kvlists as objects; an unset
 * value is undefined.
 */
function anyValue(v) {
  if (!v || !v.value) return undefined;
  const x = v[v.value];
  if (v.value === 'arrayValue') return (x.values || []).map(anyValue);
  if (v.value === 'kvlistValue') return attributesToObject(x.values);
  return x;
}

/** OTLP attributes ([KeyValue]) as a plain object {key: value} (see anyValue). */
function attributesToObject(list) {
  const out = {};
  for (const kv of list || []) out[kv.key] = anyValue(kv.value);
  return out;
}

function countSpans(req) {
  let n = 0;
  for (const rs of req.resourceSpans || []) for (const ss of rs.scopeSpans || []) n += (ss.spans || []).length;
  return n;
}

function dataPointsOf(metric) {
  const body = metric.data ? metric[metric.data] : null;
  return body && Array.isArray(body.dataPoints) ? body.dataPoints : [];
}

function countDataPoints(req) {
  let n = 0;
  for (const rm of req.resourceMetrics || []) {
    for (const sm of rm.scopeMetrics || []) for (const m of sm.metrics || []) n += dataPointsOf(m).length;
  }
  return n;
}

/**
 * Server interceptor that records how the request arrived: the value of its
 * `grpc-encoding` header, whether its message carried the compressed flag, and
 * its size. grpc-js strips grpc-encoding from the metadata handed to handlers,
 * so the only place it can be seen is the base intercepting call (grpc-js >=
 * 1.10, version pinned in package.json); the self-test proves every reading.
 * It also reports calls that grpc-js refuses before the handler runs (e.g. a
 * message over the 4 MiB receive limit), so tests can see them in `calls`.
 */
function makeInterceptor(infoByMetadata, onRefused) {
  return (methodDescriptor, call) => {
    const info = { encoding: null, messageCompressed: null, bytes: null, wireBytes: null, metadata: null, record: null };
    if (typeof call.incomingEncoding === 'string') info.encoding = call.incomingEncoding;
    if (typeof call.decompressMessage === 'function') {
      const original = call.decompressMessage.bind(call);
      call.decompressMessage = (message, encoding) => {
        // Byte 0 of the 5-byte gRPC message prefix is the Compressed-Flag.
        info.messageCompressed = message.length > 0 && message.readUInt8(0) === 1;
        info.wireBytes = Math.max(0, message.length - 5);
        const result = original(message, encoding);
        Promise.resolve(result).then(
          (buf) => {
            info.bytes = buf.length;
          },
          () => {},
        );
        return result;
      };
    }
    if (typeof call.sendStatus === 'function') {
      const originalSend = call.sendStatus.bind(call);
      call.sendStatus = (status) => {
        if (!info.record) onRefused(methodDescriptor.path, info, status);
        return originalSend(status);
      };
    }
    return new grpc.ServerInterceptingCall(call, {
      start(next) {
        next({
          onReceiveMetadata(metadata, nextMd) {
            info.metadata = metadata;
            infoByMetadata.set(metadata, info);
            nextMd(metadata);
          },
        });
      },
    });
  };
}

/**
 * A TCP port on 127.0.0.1 that nothing listens on right now (bound, then
 * released): for "collector down" tests, or to start a receiver there later
 * with startReceiver({port}). Another process could take it meanwhile; tests
 * on one machine make that unlikely, not impossible.
 */
function unusedPort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Start a receiver on 127.0.0.1. See README.md for the object it resolves to.
 */
async function startReceiver(opts = {}) {
  validateOptions(opts);
  const receiver = new Receiver(opts);
  await receiver._listen(opts.port || 0, 0);
  return receiver;
}

class Receiver {
  constructor(opts) {
    this.port = 0;
    this.endpoint = '';
    this.traceRequests = [];
    this.metricRequests = [];
    this.calls = [];
    this._server = null;
    this._held = new Set(); // calls parked by delayMs / neverAnswer, answered or cancelled on stop()
    this._infoByMetadata = new WeakMap();
    this._faultedCalls = 0;
    this._stopped = false;
    this.setFaults(opts);
    this._onCall = opts.onCall || null;
  }

  /**
   * Replace the fault options at run time (same keys as startReceiver's) and
   * reset the call counter the unavailableFirst / resourceExhausted counts use.
   */
  setFaults(opts = {}) {
    const faults = {};
    for (const k of ['unavailableFirst', 'resourceExhausted', 'partialSuccess', 'delayMs', 'neverAnswer', 'faultsOn']) {
      if (opts[k] !== undefined) faults[k] = opts[k];
    }
    validateOptions(faults);
    this.faults = faults;
    this._faultedCalls = 0;
  }

  _buildServer() {
    const protos = loadProtos();
    const server = new grpc.Server({
      interceptors: [makeInterceptor(this._infoByMetadata, (p, info, status) => this._recordRefused(p, info, status))],
    });
    // The 0.34.0 protos declare empty responses (pre OTLP 0.19); swap in a
    // serializer that can carry partial_success, keep the official request side.
    const traceDef = { ...protos[TRACE_SERVICE] };
    traceDef.Export = { ...traceDef.Export, responseSerialize: (r) => wire.encodeTraceResponse(r.partial) };
    const metricsDef = { ...protos[METRICS_SERVICE] };
    metricsDef.Export = { ...metricsDef.Export, responseSerialize: (r) => wire.encodeMetricsResponse(r.partial) };
    server.addService(traceDef, { Export: (call, cb) => this._handle('trace', call, cb) });
    server.addService(metricsDef, { Export: (call, cb) => this._handle('metrics', call, cb) });
    return server;
  }

  async _listen(port, retryForMs) {
    const deadline = Date.now() + retryForMs;
    let lastErr = null;
    // A port just released by stop() can take a moment to be bindable again.
    for (;;) {
      const server = this._buildServer();
      try {
        const bound = await new Promise((resolve, reject) => {
          server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) =>
            err ? reject(err) : resolve(p),
          );
        });
        this._server = server;
        this._stopped = false;
        this.port = bound;
        this.endpoint = `http://127.0.0.1:${bound}`;
        return;
      } catch (err) {
        lastErr = err;
        server.forceShutdown();
        if (port === 0 || Date.now() >= deadline) break;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    throw new Error(`receiver: cannot listen on 127.0.0.1:${port}: ${lastErr && lastErr.message}`);
  }

  _faultApplies(service) {
    const on = this.faults.faultsOn || 'all';
    return on === 'all' || on === service;
  }

  /** Decide the answer for one call from the fault options. */
  _decide(service) {
    const f = this.faults;
    if (!this._faultApplies(service)) return { code: grpc.status.OK };
    const k = ++this._faultedCalls;
    const unavailable = f.unavailableFirst || 0;
    if (k <= unavailable) {
      return { code: grpc.status.UNAVAILABLE, details: `receiver fault: unavailableFirst (call ${k} of ${unavailable})` };
    }
    const re = f.resourceExhausted;
    if (re && k <= unavailable + re.count) {
      const answer = {
        code: grpc.status.RESOURCE_EXHAUSTED,
        details: `receiver fault: resourceExhausted (call ${k - unavailable} of ${re.count})`,
      };
      if (typeof re.retryDelayMs === 'number') answer.retryDelayMs = re.retryDelayMs;
      if (re.retryDelay) answer.retryDelay = re.retryDelay;
      return answer;
    }
    if (f.partialSuccess) {
      return {
        code: grpc.status.OK,
        partial: { rejected: f.partialSuccess.rejectedSpans, message: f.partialSuccess.message || '' },
      };
    }
    return { code: grpc.status.OK };
  }

  _handle(service, call, callback) {
    const info = this._infoByMetadata.get(call.metadata) || { encoding: null, messageCompressed: null };
    const request = call.request;
    const record = {
      service,
      metadata: metadataToObject(call.metadata),
      encoding: info.encoding,
      messageCompressed: info.messageCompressed,
      bytes: info.bytes,
      wireBytes: info.wireBytes,
      statusCode: null,
      statusName: null,
      details: null,
      refused: false,
      cancelled: false,
      items: service === 'trace' ? countSpans(request) : countDataPoints(request),
      atMs: Date.now(),
      answeredAtMs: null,
    };
    info.record = record;
    this.calls.push(record);
    const answer = this._decide(service);
    const f = this.faults;
    let held = null;
    call.on('cancelled', () => {
      // grpc-js also signals this when an answered call's stream closes:
      // only a call still unanswered was really given up by the client.
      if (record.statusCode === null) record.cancelled = true;
    });

    const respond = () => {
      if (held) this._held.delete(held);
      if (this._stopped) return;
      record.statusCode = answer.code;
      record.statusName = STATUS_NAMES[answer.code];
      record.answeredAtMs = Date.now();
      if (answer.code === grpc.status.OK) {
        // Only accepted requests count as received data.
        (service === 'trace' ? this.traceRequests : this.metricRequests).push(request);
        this._notify(service, record, request);
        callback(null, { partial: answer.partial || null });
        return;
      }
      record.details = answer.details;
      const metadata = new grpc.Metadata();
      if (answer.retryDelayMs !== undefined) {
        metadata.set('grpc-status-details-bin', wire.encodeRetryStatus(answer.code, answer.details, answer.retryDelayMs));
      }
      if (answer.retryDelay !== undefined) {
        metadata.set('grpc-status-details-bin', wire.encodeRetryStatusDuration(answer.code, answer.details, answer.retryDelay));
      }
      this._notify(service, record, request);
      callback({ code: answer.code, details: answer.details, metadata });
    };

    if (f.neverAnswer) {
      held = { cancel: () => {} };
      this._held.add(held);
      return;
    }
    if (f.delayMs) {
      const timer = setTimeout(respond, f.delayMs);
      held = { cancel: () => clearTimeout(timer) };
      this._held.add(held);
      return;
    }
    respond();
  }

  /** A call grpc-js answered itself, before any handler (bad or oversized message). */
  _recordRefused(methodPath, info, status) {
    if (this._stopped) return;
    const service = methodPath.includes('.trace.') ? 'trace' : methodPath.includes('.metrics.') ? 'metrics' : methodPath;
    const now = Date.now();
    const record = {
      service,
      metadata: info.metadata ? metadataToObject(info.metadata) : {},
      encoding: info.encoding,
      messageCompressed: info.messageCompressed,
      bytes: info.bytes,
      wireBytes: info.wireBytes,
      statusCode: status.code,
      statusName: STATUS_NAMES[status.code],
      details: status.details || null,
      refused: true,
      cancelled: false,
      items: null,
      atMs: now,
      answeredAtMs: now,
    };
    info.record = record;
    this.calls.push(record);
    this._notify(service, record, null);
  }

  _notify(service, record, request) {
    if (!this._onCall) return;
    try {
      this._onCall(record, request);
    } catch (err) {
      process.stderr.write(`receiver: onCall hook threw: ${err && err.stack}\n`);
    }
  }

  /** Flat list of every received span with hex ids added. */
  spans() {
    const out = [];
    for (const req of this.traceRequests) {
      for (const rs of req.resourceSpans || []) {
        for (const ss of rs.scopeSpans || []) {
          for (const span of ss.spans || []) {
            span.traceIdHex = hex(span.traceId);
            span.spanIdHex = hex(span.spanId);
            span.parentSpanIdHex = hex(span.parentSpanId);
            out.push({ resource: rs.resource, scope: ss.scope, span });
          }
        }
      }
    }
    return out;
  }

  /** Flat list of every received metric. */
  metrics() {
    const out = [];
    for (const req of this.metricRequests) {
      for (const rm of req.resourceMetrics || []) {
        for (const sm of rm.scopeMetrics || []) {
          for (const metric of sm.metrics || []) out.push({ resource: rm.resource, scope: sm.scope, metric });
        }
      }
    }
    return out;
  }

  /**
   * Poll `predicate(receiver)` every 10 ms until it returns truthy (resolves
   * with that value) or `timeoutMs` x ROCKY_TEST_TIME_SCALE passes (rejects
   * with what was received so far). A predicate that throws rejects at once.
   */
  async waitFor(predicate, timeoutMs = 5000, what = '') {
    if (typeof predicate !== 'function') throw new TypeError('waitFor: predicate must be a function');
    const limit = scaleMs(timeoutMs);
    const deadline = Date.now() + limit;
    for (;;) {
      const v = predicate(this);
      if (v) return v;
      if (Date.now() >= deadline) {
        const label = what || predicate.toString().replace(/\s+/g, ' ').slice(0, 160);
        throw new Error(
          `receiver.waitFor timed out after ${limit} ms waiting for: ${label}; ` + `received so far: ${this.describe()}`,
        );
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** One-line account of what arrived, for failure messages. */
  describe() {
    const byStatus = {};
    for (const c of this.calls) {
      const k = `${c.service}:${c.statusName || 'unanswered'}`;
      byStatus[k] = (byStatus[k] || 0) + 1;
    }
    const names = {};
    for (const { span } of this.spans()) names[span.name] = (names[span.name] || 0) + 1;
    return (
      `${this.calls.length} calls ${JSON.stringify(byStatus)}, ` +
      `${this.traceRequests.length} trace requests, ${this.metricRequests.length} metric requests, ` +
      `spans by name ${JSON.stringify(names)}`
    );
  }

  /** Stop listening now; calls still held (delayMs/neverAnswer) are cut off. Idempotent. */
  async stop() {
    this._stopped = true;
    for (const h of this._held) h.cancel();
    this._held.clear();
    if (this._server) {
      this._server.forceShutdown();
      this._server = null;
    }
  }

  /** Listen again on the same port, keeping everything recorded so far. */
  async restart() {
    await this.stop();
    await this._listen(this.port, scaleMs(5000));
  }
}

module.exports = {
  startReceiver,
  unusedPort,
  grpc,
  loadProtos,
  timeScale,
  scaleMs,
  PROTO_DIR,
  LOADER_OPTIONS,
  TRACE_SERVICE,
  METRICS_SERVICE,
  hex,
  attributesToObject,
  anyValue,
};
