'use strict';
// What a collector turns the OTLP metrics it received into, on the
// Prometheus side, and whether a query only reads what exists.
//
// The naming is that of the collector's prometheus exporters (remote write
// and scrape) and of upstream rocky's Alloy `otelcol.exporter.prometheus`,
// all with add_metric_suffixes = false:
//   - metric name: every character outside [a-zA-Z0-9_:] becomes `_`, a
//     leading digit gets a `_` prefix; no `_total`, no unit suffix;
//   - sum and gauge: one series name; histogram: NAME_bucket (with `le`),
//     NAME_sum, NAME_count; summary: NAME (with `quantile`), NAME_sum, NAME_count;
//   - labels: the data point attributes, names sanitized the same way;
//     `job` from service.name (service.namespace/service.name), `instance`
//     from service.instance.id, when the resource has them;
//   - delta sums and delta histograms are dropped by remote write: they are
//     left out here (they would never reach Prometheus).
// Spans: name -> attribute keys, and the resource attribute keys.
const { extract: extractPromQL } = require('./promql');
const { extract: extractTraceQL } = require('./traceql');

function promName(otelName) {
  const s = otelName.replace(/[^a-zA-Z0-9_:]/g, '_');
  return /^[0-9]/.test(s) ? `_${s}` : s;
}

function promLabel(key) {
  const s = key.replace(/[^a-zA-Z0-9_]/g, '_');
  return /^[0-9]/.test(s) ? `key_${s}` : s;
}

function attrValue(v) {
  if (!v || !v.value) return undefined;
  const x = v[v.value];
  return typeof x === 'object' && x !== null ? JSON.stringify(x) : String(x);
}

function attrMap(list) {
  const out = new Map();
  for (const kv of list || []) out.set(kv.key, attrValue(kv.value));
  return out;
}

const DELTA = 'AGGREGATION_TEMPORALITY_DELTA';

// metrics: receiver.metrics() ([{resource, scope, metric}]).
// Returns Map(promSeriesName -> {otel, kind, labels: Map(label -> Set(values))}).
function seriesCatalogue(metrics) {
  const out = new Map();
  const add = (name, otel, kind, labelSets) => {
    const entry = out.get(name) || { otel, kind, labels: new Map() };
    for (const labels of labelSets) {
      for (const [k, v] of labels) {
        if (!entry.labels.has(k)) entry.labels.set(k, new Set());
        entry.labels.get(k).add(v);
      }
    }
    out.set(name, entry);
  };
  for (const { resource, metric } of metrics) {
    const res = attrMap(resource && resource.attributes);
    const base = new Map();
    if (res.has('service.name')) {
      base.set('job', res.has('service.namespace') ? `${res.get('service.namespace')}/${res.get('service.name')}` : res.get('service.name'));
    }
    if (res.has('service.instance.id')) base.set('instance', res.get('service.instance.id'));
    const data = metric[metric.data];
    if (!data) continue;
    if (['sum', 'histogram'].includes(metric.data) && data.aggregationTemporality === DELTA) continue;
    const points = data.dataPoints || [];
    const labelSets = points.map((dp) => {
      const m = new Map(base);
      for (const [k, v] of attrMap(dp.attributes)) m.set(promLabel(k), v);
      return m;
    });
    if (labelSets.length === 0) labelSets.push(new Map(base));
    const name = promName(metric.name);
    switch (metric.data) {
      case 'sum':
      case 'gauge':
        add(name, metric.name, metric.data, labelSets);
        break;
      case 'histogram': {
        const withLe = points.flatMap((dp, i) => [...(dp.explicitBounds || []).map(String), '+Inf']
          .map((le) => new Map([...labelSets[i], ['le', le]])));
        add(`${name}_bucket`, metric.name, 'histogram', withLe.length ? withLe : labelSets);
        add(`${name}_sum`, metric.name, 'histogram', labelSets);
        add(`${name}_count`, metric.name, 'histogram', labelSets);
        break;
      }
      case 'summary':
        add(name, metric.name, 'summary', labelSets.map((l) => new Map([...l, ['quantile', '']])));
        add(`${name}_sum`, metric.name, 'summary', labelSets);
        add(`${name}_count`, metric.name, 'summary', labelSets);
        break;
      default:
        // exponential histograms become native histograms: not queried here
        break;
    }
  }
  return out;
}

// spans: receiver.spans() ([{resource, scope, span}]).
function spanCatalogue(spans) {
  const names = new Map();
  const resourceAttrs = new Set();
  for (const { resource, span } of spans) {
    if (!names.has(span.name)) names.set(span.name, new Set());
    for (const kv of span.attributes || []) names.get(span.name).add(kv.key);
    for (const kv of (resource && resource.attributes) || []) resourceAttrs.add(kv.key);
  }
  return { names, resourceAttrs };
}

// Literal alternatives of a simple regex matcher value (`a|b|c`), or null
// when it is not that simple (then values are not checked).
function literalAlternatives(re) {
  return /^[A-Za-z0-9_-]+(\|[A-Za-z0-9_-]+)*$/.test(re) ? re.split('|') : null;
}

// Problems (strings) of one PromQL expression against a catalogue; empty
// when every metric it names exists and every label it uses exists on the
// metrics it selects (matcher values compared with `=` or a literal `=~`
// alternation must have been seen, unless they are Grafana variables).
function checkPromQL(expr, catalogue) {
  const problems = [];
  let parsed;
  try {
    parsed = extractPromQL(expr);
  } catch (err) {
    return [err.message];
  }
  if (parsed.metrics.length === 0) problems.push('selects no metric by name');
  for (const sel of parsed.selectorsWithoutName) {
    problems.push(`a selector without a metric name ({${sel.map((m) => m.label).join(', ')}}) cannot be checked`);
  }
  const selected = [];
  for (const { name, matchers } of parsed.metrics) {
    const entry = catalogue.get(name);
    if (!entry) {
      problems.push(`no series '${name}' in the run's metrics`);
      continue;
    }
    selected.push(entry);
    for (const m of matchers) {
      const values = entry.labels.get(m.label);
      if (!values) {
        problems.push(`'${name}' has no label '${m.label}' (labels: ${[...entry.labels.keys()].join(', ') || 'none'})`);
        continue;
      }
      if (m.value === null || m.value.includes('$')) continue;
      const wanted = m.op === '=' ? [m.value] : m.op === '=~' ? literalAlternatives(m.value) : null;
      for (const v of wanted || []) {
        if (!values.has(v)) problems.push(`'${name}' never had ${m.label}="${v}" (seen: ${[...values].join(', ')})`);
      }
    }
  }
  for (const label of parsed.groupingLabels) {
    if (selected.length > 0 && !selected.some((e) => e.labels.has(label))) {
      problems.push(`label '${label}' (by/without/on) is on none of the selected series`);
    }
  }
  return problems;
}

// Problems of one TraceQL query against a span catalogue.
function checkTraceQL(query, spans) {
  let parsed;
  try {
    parsed = extractTraceQL(query);
  } catch (err) {
    return [err.message];
  }
  const problems = [];
  const allNames = [];
  const checkSet = (set, names) => {
    const pool = names.length > 0 ? names.filter((n) => spans.names.has(n)) : [...spans.names.keys()];
    const has = (a) => pool.some((n) => spans.names.get(n).has(a));
    for (const a of set.spanAttrs) {
      if (!has(a)) problems.push(`no span${names.length ? ` named ${names.join('/')}` : ''} has attribute '${a}'`);
    }
    for (const a of set.resourceAttrs) {
      if (!spans.resourceAttrs.has(a)) problems.push(`no span's resource has attribute '${a}'`);
    }
    for (const a of set.anyAttrs) {
      if (!has(a) && !spans.resourceAttrs.has(a)) problems.push(`attribute '${a}' is on no span or resource`);
    }
  };
  for (const set of parsed.spansets) {
    for (const n of set.names) {
      if (!spans.names.has(n)) problems.push(`no span named '${n}' in the run (spans: ${[...spans.names.keys()].join(', ')})`);
    }
    allNames.push(...set.names);
    checkSet(set, set.names);
  }
  checkSet(parsed.outside, allNames);
  return problems;
}

module.exports = { promName, promLabel, seriesCatalogue, spanCatalogue, checkPromQL, checkTraceQL, literalAlternatives };
