'use strict';
// Static checks of an OpenTelemetry Collector configuration against the
// component list of the otelcol-contrib distribution committed in
// deploy/collector/otelcol-contrib-components.txt.
const { readText } = require('./load');

const COMPONENTS_FILE = 'deploy/collector/otelcol-contrib-components.txt';
const SECTIONS = ['extensions', 'exporters', 'processors', 'receivers', 'connectors'];
// A module basename ends with its section's singular (otlpreceiver); a few
// (awsproxy, filestorage, k8sobserver) carry no suffix and keep their name.
const SUFFIX = {
  extensions: 'extension',
  exporters: 'exporter',
  processors: 'processor',
  receivers: 'receiver',
  connectors: 'connector',
};

// { types: {section: Set(type)}, source: {commit, version} }
function loadContribComponents(text = readText(COMPONENTS_FILE)) {
  const types = Object.fromEntries(SECTIONS.map((s) => [s, new Set()]));
  const basenames = Object.fromEntries(SECTIONS.map((s) => [s, new Set()]));
  const overrides = [];
  let section = null;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const header = /^\[([a-z-]+)\]$/.exec(line);
    if (header) {
      section = header[1];
      if (section !== 'type-overrides' && !SECTIONS.includes(section)) {
        throw new Error(`${COMPONENTS_FILE}: unknown section [${section}]`);
      }
      continue;
    }
    if (section === null) throw new Error(`${COMPONENTS_FILE}: '${line}' before any section`);
    if (section === 'type-overrides') {
      overrides.push(line.split(/\s+/));
      continue;
    }
    if (!/^[a-z0-9]+$/.test(line)) throw new Error(`${COMPONENTS_FILE}: bad module basename '${line}'`);
    basenames[section].add(line);
    const suffix = SUFFIX[section];
    const type = line.endsWith(suffix) && line !== suffix ? line.slice(0, -suffix.length) : line;
    types[section].add(type);
  }
  for (const o of overrides) {
    const [sec, base, type] = o;
    if (o.length !== 3 || !SECTIONS.includes(sec) || !basenames[sec].has(base)) {
      throw new Error(`${COMPONENTS_FILE}: override '${o.join(' ')}' names no listed module`);
    }
    const suffix = SUFFIX[sec];
    types[sec].delete(base.endsWith(suffix) ? base.slice(0, -suffix.length) : base);
    types[sec].add(type);
  }
  const commit = /commit ([0-9a-f]{40})/.exec(text);
  const version = /dist version ([0-9.]+)/.exec(text);
  return { types, source: { commit: commit && commit[1], version: version && version[1] } };
}

function typeOf(id) {
  return String(id).split('/')[0];
}

const PIPELINE_ID = /^(traces|metrics|logs|profiles)(\/[^/]+)?$/;
const COMPONENT_ID = /^[a-z0-9_]+(\/[^/\s]+)?$/;

// Returns a list of problems (empty = good). `where` prefixes every message.
function checkCollectorConfig(cfg, contrib, where) {
  const problems = [];
  const say = (msg) => problems.push(`${where}: ${msg}`);
  if (cfg === null || typeof cfg !== 'object' || Array.isArray(cfg)) {
    return [`${where}: config is not a mapping`];
  }
  for (const key of Object.keys(cfg)) {
    if (![...SECTIONS, 'service'].includes(key)) say(`unknown top-level key '${key}'`);
  }
  for (const section of SECTIONS) {
    const comps = cfg[section];
    if (comps === undefined) continue;
    if (comps === null || typeof comps !== 'object' || Array.isArray(comps)) {
      say(`${section} is not a mapping`);
      continue;
    }
    for (const id of Object.keys(comps)) {
      if (!COMPONENT_ID.test(id)) say(`${section}: bad component id '${id}'`);
      else if (!contrib.types[section].has(typeOf(id))) {
        say(`${section}: '${typeOf(id)}' is not a component of otelcol-contrib ${contrib.source.version}`);
      }
    }
  }
  const declared = (section) => new Set(Object.keys(cfg[section] || {}));
  const used = Object.fromEntries(SECTIONS.map((s) => [s, new Set()]));
  const service = cfg.service;
  if (!service || typeof service !== 'object') {
    say('no service section');
    return problems;
  }
  for (const ext of service.extensions || []) {
    if (!declared('extensions').has(ext)) say(`service.extensions: '${ext}' is not declared under extensions`);
    used.extensions.add(ext);
  }
  const pipelines = service.pipelines || {};
  if (Object.keys(pipelines).length === 0) say('service.pipelines is empty');
  for (const [name, p] of Object.entries(pipelines)) {
    if (!PIPELINE_ID.test(name)) say(`pipeline '${name}': not traces|metrics|logs[/name]`);
    const recv = p.receivers || [];
    const proc = p.processors || [];
    const exp = p.exporters || [];
    if (recv.length === 0) say(`pipeline '${name}': no receivers`);
    if (exp.length === 0) say(`pipeline '${name}': no exporters`);
    for (const r of recv) {
      if (declared('receivers').has(r)) used.receivers.add(r);
      else if (declared('connectors').has(r)) used.connectors.add(r);
      else say(`pipeline '${name}': receiver '${r}' is not declared`);
    }
    for (const x of proc) {
      if (declared('processors').has(x)) used.processors.add(x);
      else say(`pipeline '${name}': processor '${x}' is not declared`);
    }
    for (const e of exp) {
      if (declared('exporters').has(e)) used.exporters.add(e);
      else if (declared('connectors').has(e)) used.connectors.add(e);
      else say(`pipeline '${name}': exporter '${e}' is not declared`);
    }
    const ml = proc.findIndex((x) => typeOf(x) === 'memory_limiter');
    if (ml > 0) say(`pipeline '${name}': memory_limiter must be the first processor`);
  }
  for (const section of ['receivers', 'processors', 'exporters', 'extensions']) {
    for (const id of declared(section)) {
      if (!used[section].has(id)) say(`${section}: '${id}' is declared but used by no pipeline`);
    }
  }
  return problems;
}

module.exports = { loadContribComponents, checkCollectorConfig, typeOf, COMPONENTS_FILE };
