'use strict';
// Grafana files read offline: the queries of a dashboard and of provisioned
// alert rules, and the fields Grafana needs to load them. Every check returns
// a list of problems (empty = good), so tests run it on the real files and on
// broken copies.

const PANEL_TYPES_WITHOUT_TARGETS = new Set(['row', 'text', 'news', 'dashlist', 'alertlist']);

function panelsOf(dash) {
  const out = [];
  for (const p of dash.panels || []) {
    out.push(p);
    for (const q of p.panels || []) out.push(q); // panels of a collapsed row
  }
  return out;
}

// [{where, ds: {type, uid}, lang: 'promql'|'traceql', query}] of a dashboard:
// every panel target (datasource: the target's, else the panel's) and every
// query variable (`label_values(metric, label)` as the PromQL `metric`, with
// the label checked separately: `labelOf`).
function dashboardQueries(dash) {
  const out = [];
  for (const p of panelsOf(dash)) {
    for (const t of p.targets || []) {
      const ds = t.datasource || p.datasource || {};
      const where = `panel "${p.title}" target ${t.refId}`;
      if (ds.type === 'tempo') out.push({ where, ds, lang: 'traceql', query: t.query });
      else out.push({ where, ds, lang: 'promql', query: t.expr });
    }
  }
  for (const v of (dash.templating && dash.templating.list) || []) {
    if (v.type !== 'query') continue;
    const q = typeof v.query === 'string' ? v.query : v.query && v.query.query;
    const m = /^\s*label_values\(\s*(.+?)\s*,\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$/.exec(q || '');
    if (m) out.push({ where: `variable $${v.name}`, ds: v.datasource || {}, lang: 'promql', query: `count by (${m[2]}) (${m[1]})` });
    else out.push({ where: `variable $${v.name}`, ds: v.datasource || {}, lang: 'promql', query: q });
  }
  return out;
}

// [{where, uid, ds: {uid}, lang: 'promql', query}] of an alert provisioning
// document; server-side expressions (`__expr__`) are not queries.
function alertQueries(doc) {
  const out = [];
  for (const g of doc.groups || []) {
    for (const r of g.rules || []) {
      for (const d of r.data || []) {
        if (d.datasourceUid === '__expr__') continue;
        out.push({ where: `rule ${r.uid} ${d.refId}`, uid: r.uid, ds: { uid: d.datasourceUid }, lang: 'promql', query: d.model && d.model.expr });
      }
    }
  }
  return out;
}

// uid -> type of a datasources provisioning document.
function provisionedDatasources(doc) {
  const out = new Map();
  for (const d of doc.datasources || []) out.set(d.uid, d.type);
  return out;
}

function checkDatasourcesDoc(doc, where) {
  const problems = [];
  if (doc.apiVersion !== 1) problems.push(`${where}: apiVersion must be 1`);
  const seen = new Set();
  let defaults = 0;
  for (const d of doc.datasources || []) {
    for (const k of ['name', 'uid', 'type', 'url', 'access']) if (!d[k]) problems.push(`${where}: datasource ${d.name || '?'} has no ${k}`);
    if (seen.has(d.uid)) problems.push(`${where}: uid ${d.uid} twice`);
    seen.add(d.uid);
    if (d.isDefault) defaults++;
  }
  if (seen.size === 0) problems.push(`${where}: no datasources`);
  if (defaults > 1) problems.push(`${where}: more than one default datasource`);
  return problems;
}

function checkDashboardProvider(doc, where) {
  const problems = [];
  if (doc.apiVersion !== 1) problems.push(`${where}: apiVersion must be 1`);
  const ps = doc.providers || [];
  if (ps.length === 0) problems.push(`${where}: no providers`);
  for (const p of ps) {
    if (!p.name) problems.push(`${where}: provider without a name`);
    if (p.type !== 'file') problems.push(`${where}: provider ${p.name} is not of type file`);
    if (!p.options || typeof p.options.path !== 'string' || !p.options.path.startsWith('/')) {
      problems.push(`${where}: provider ${p.name} has no absolute options.path`);
    }
  }
  return problems;
}

// The fields Grafana needs to load a dashboard and draw its panels.
function checkDashboard(dash, datasources, where) {
  const problems = [];
  const say = (m) => problems.push(`${where}: ${m}`);
  for (const k of ['uid', 'title']) if (typeof dash[k] !== 'string' || dash[k] === '') say(`no ${k}`);
  if (!/^[A-Za-z0-9_-]{1,40}$/.test(dash.uid || '')) say(`uid '${dash.uid}' is not a valid Grafana uid (1-40 of [A-Za-z0-9_-])`);
  if (!Number.isInteger(dash.schemaVersion)) say('no schemaVersion');
  if (!Array.isArray(dash.panels) || dash.panels.length === 0) say('no panels');
  const ids = new Set();
  const checkDs = (ds, what) => {
    if (!ds || typeof ds !== 'object') return say(`${what}: no datasource`);
    if (typeof ds.uid === 'string' && ds.uid.startsWith('$')) return undefined; // a datasource variable
    if (!datasources.has(ds.uid)) return say(`${what}: datasource uid '${ds.uid}' is not provisioned (${[...datasources.keys()].join(', ')})`);
    if (ds.type && ds.type !== datasources.get(ds.uid)) say(`${what}: datasource '${ds.uid}' is a ${datasources.get(ds.uid)}, not a ${ds.type}`);
    return undefined;
  };
  for (const p of panelsOf(dash)) {
    const what = `panel ${p.id} "${p.title}"`;
    if (!Number.isInteger(p.id)) say(`${what}: no integer id`);
    else if (ids.has(p.id)) say(`${what}: id ${p.id} twice`);
    ids.add(p.id);
    if (typeof p.type !== 'string') say(`${what}: no type`);
    if (typeof p.title !== 'string' || p.title === '') say(`panel ${p.id}: no title`);
    const g = p.gridPos || {};
    if (![g.h, g.w, g.x, g.y].every(Number.isInteger) || g.w < 1 || g.x + g.w > 24) say(`${what}: bad gridPos ${JSON.stringify(p.gridPos)}`);
    if (PANEL_TYPES_WITHOUT_TARGETS.has(p.type)) continue;
    const targets = p.targets || [];
    if (targets.length === 0) say(`${what}: no targets`);
    checkDs(p.datasource, what);
    const refIds = new Set();
    for (const t of targets) {
      if (!t.refId) say(`${what}: a target without refId`);
      if (refIds.has(t.refId)) say(`${what}: refId ${t.refId} twice`);
      refIds.add(t.refId);
      const ds = t.datasource || p.datasource;
      checkDs(ds, `${what} target ${t.refId}`);
      const type = ds && datasources.get(ds.uid);
      if (type === 'prometheus' && !(typeof t.expr === 'string' && t.expr.trim())) say(`${what} target ${t.refId}: no expr`);
      if (type === 'tempo' && !(typeof t.query === 'string' && t.query.trim())) say(`${what} target ${t.refId}: no query`);
    }
  }
  for (const v of (dash.templating && dash.templating.list) || []) {
    if (!v.name || !v.type) say('a template variable without name or type');
    if (v.type === 'query') checkDs(v.datasource, `variable $${v.name}`);
  }
  return problems;
}

// Alert provisioning (file format of Grafana's alerting provisioning).
function checkAlertRules(doc, datasources, where) {
  const problems = [];
  const say = (m) => problems.push(`${where}: ${m}`);
  if (doc.apiVersion !== 1) say('apiVersion must be 1');
  const uids = new Set();
  const groups = doc.groups || [];
  if (groups.length === 0) say('no groups');
  for (const g of groups) {
    if (!g.name || !g.folder) say('a group without name or folder');
    if (!/^\d+[smh]$/.test(String(g.interval))) say(`group ${g.name}: interval '${g.interval}'`);
    for (const r of g.rules || []) {
      const what = `rule ${r.uid}`;
      if (!r.uid || !/^[A-Za-z0-9_-]{1,40}$/.test(r.uid)) say(`${what}: bad uid`);
      if (uids.has(r.uid)) say(`${what}: uid twice`);
      uids.add(r.uid);
      if (!r.title) say(`${what}: no title`);
      if (!/^\d+[smh]$/.test(String(r.for))) say(`${what}: for '${r.for}'`);
      for (const k of ['noDataState', 'execErrState']) if (!r[k]) say(`${what}: no ${k}`);
      const refs = new Set((r.data || []).map((d) => d.refId));
      if (!refs.has(r.condition)) say(`${what}: condition '${r.condition}' names no data refId`);
      for (const d of r.data || []) {
        if (!d.model || d.model.refId !== d.refId) say(`${what} ${d.refId}: model.refId differs`);
        const rt = d.relativeTimeRange || {};
        if (!Number.isInteger(rt.from) || !Number.isInteger(rt.to) || rt.from <= rt.to) say(`${what} ${d.refId}: bad relativeTimeRange`);
        if (d.datasourceUid === '__expr__') {
          const m = d.model || {};
          if (!['threshold', 'reduce', 'math', 'classic_conditions', 'resample'].includes(m.type)) say(`${what} ${d.refId}: expression type '${m.type}'`);
          if (m.type !== 'math' && m.type !== 'classic_conditions' && !refs.has(m.expression)) say(`${what} ${d.refId}: expression '${m.expression}' names no refId`);
          continue;
        }
        if (!datasources.has(d.datasourceUid)) say(`${what} ${d.refId}: datasource '${d.datasourceUid}' is not provisioned`);
        else if (datasources.get(d.datasourceUid) === 'prometheus' && !(d.model && typeof d.model.expr === 'string')) say(`${what} ${d.refId}: no expr`);
      }
    }
  }
  return problems;
}

module.exports = {
  panelsOf,
  dashboardQueries,
  alertQueries,
  provisionedDatasources,
  checkDatasourcesDoc,
  checkDashboardProvider,
  checkDashboard,
  checkAlertRules,
};
