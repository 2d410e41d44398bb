'use strict';
// Encoders for the few messages the receiver sends that the official OTLP
// protos shipped by @opentelemetry/otlp-grpc-exporter-base@0.34.0 do not have:
//   - the OTLP >= 0.19 Export*ServiceResponse with partial_success (the 0.34.0
//     protos still declare the responses empty, so grpc-js would drop the field);
//   - google.rpc.Status / google.protobuf.Any / google.rpc.RetryInfo /
//     google.protobuf.Duration for the `grpc-status-details-bin` trailer.
// Field numbers and types are those of the upstream definitions
// (opentelemetry-proto collector/*/v1/*_service.proto, googleapis
// google/rpc/status.proto and error_details.proto, protobuf any.proto and
// duration.proto); the self-test decodes the bytes back with an independent
// hand-written wire reader.

const path = require('path');

// protobufjs is @grpc/proto-loader's own dependency: resolve it from there so
// the receiver uses the very copy proto-loader decodes with, hoisted or not.
const protobuf = require(
  require.resolve('protobufjs', { paths: [path.dirname(require.resolve('@grpc/proto-loader'))] }),
);

const SOURCES = [
  `syntax = "proto3";
   package opentelemetry.proto.collector.trace.v1;
   message ExportTraceServiceResponse { ExportTracePartialSuccess partial_success = 1; }
   message ExportTracePartialSuccess { int64 rejected_spans = 1; string error_message = 2; }`,
  `syntax = "proto3";
   package opentelemetry.proto.collector.metrics.v1;
   message ExportMetricsServiceResponse { ExportMetricsPartialSuccess partial_success = 1; }
   message ExportMetricsPartialSuccess { int64 rejected_data_points = 1; string error_message = 2; }`,
  `syntax = "proto3";
   package google.protobuf;
   message Any { string type_url = 1; bytes value = 2; }
   message Duration { int64 seconds = 1; int32 nanos = 2; }`,
  `syntax = "proto3";
   package google.rpc;
   message Status { int32 code = 1; string message = 2; repeated google.protobuf.Any details = 3; }
   message RetryInfo { google.protobuf.Duration retry_delay = 1; }`,
];

const root = new protobuf.Root();
for (const src of SOURCES) protobuf.parse(src, root, { keepCase: true });
root.resolveAll();

const T = {
  traceResponse: root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse'),
  metricsResponse: root.lookupType('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse'),
  any: root.lookupType('google.protobuf.Any'),
  status: root.lookupType('google.rpc.Status'),
  retryInfo: root.lookupType('google.rpc.RetryInfo'),
};

const RETRY_INFO_TYPE_URL = 'type.googleapis.com/google.rpc.RetryInfo';

/**
 * Drop proto3 default values (0, '', empty): protobufjs writes a field that is
 * present even when it holds the default, a canonical encoder does not.
 */
function nonDefault(obj) {
  const out = {};
  for (const [k, v] of Object.entries(obj)) {
    if (v === undefined || v === null || v === '' || v === 0 || v === '0') continue;
    out[k] = v;
  }
  return out;
}

function encode(type, obj) {
  const msg = type.fromObject(obj);
  const err = type.verify(msg);
  if (err) throw new Error(`receiver wire: invalid ${type.name}: ${err}`);
  return Buffer.from(type.encode(msg).finish());
}

/**
 * Serialize an ExportTraceServiceResponse. `partial` is null (full success,
 * an empty message) or {rejectedSpans, message}.
 */
function encodeTraceResponse(partial) {
  if (!partial) return Buffer.alloc(0);
  return encode(T.traceResponse, {
    partial_success: nonDefault({ rejected_spans: String(partial.rejected), error_message: partial.message }),
  });
}

/** Same for metrics: rejected counts data points. */
function encodeMetricsResponse(partial) {
  if (!partial) return Buffer.alloc(0);
  return encode(T.metricsResponse, {
    partial_success: nonDefault({ rejected_data_points: String(partial.rejected), error_message: partial.message }),
  });
}

/** Split a non-negative delay in milliseconds into a google.protobuf.Duration. */
function durationFromMs(ms) {
  const totalNanos = BigInt(Math.round(ms * 1e6));
  return { seconds: String(totalNanos / 1000000000n), nanos: Number(totalNanos % 1000000000n) };
}

/**
 * google.rpc.Status{code, message, details: [Any(RetryInfo{retry_delay})]}
 * as the value of the `grpc-status-details-bin` trailer.
 */
function encodeRetryStatus(code, message, retryDelayMs) {
  const retryInfo = encode(T.retryInfo, { retry_delay: nonDefault(durationFromMs(retryDelayMs)) });
  return encode(T.status, {
    code,
    message,
    details: [{ type_url: RETRY_INFO_TYPE_URL, value: retryInfo }],
  });
}

/** Same with a raw Duration {seconds: "<int64 decimal>", nanos}, sent as given. */
function encodeRetryStatusDuration(code, message, duration) {
  const retryInfo = encode(T.retryInfo, { retry_delay: { seconds: duration.seconds, nanos: duration.nanos || 0 } });
  return encode(T.status, {
    code,
    message,
    details: [{ type_url: RETRY_INFO_TYPE_URL, value: retryInfo }],
  });
}

module.exports = {
  RETRY_INFO_TYPE_URL,
  encodeTraceResponse,
  encodeMetricsResponse,
  encodeRetryStatus,
  encodeRetryStatusDuration,
  durationFromMs,
  types: T,
};
