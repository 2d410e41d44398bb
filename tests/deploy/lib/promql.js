'use strict';
// A tiny PromQL reader: which metric names and which labels does a query
// use? Not a parser of the whole language, only enough to tell the
// identifiers apart:
//   - a function or aggregation (a name PromQL knows, followed by `(`, or an
//     aggregation followed by `by (...)`/`without (...)` and then `(`);
//   - a keyword (`by`, `without`, `on`, `ignoring`, `group_left`,
//     `group_right`, `bool`, `and`, `or`, `unless`, `offset`, `atan2`, `inf`,
//     `nan`) — case-insensitive, as in PromQL;
//   - a label: inside `{...}` before its operator, or in the list after
//     `by`/`without`/`on`/`ignoring`/`group_left`/`group_right`;
//   - anything else is a metric name (a vector selector), with the matchers
//     of the `{...}` right after it. `{__name__="x"}` names metric x.
// Strings are skipped (a matcher keeps its value), `[...]` (range,
// subquery) is skipped whole, numbers and durations are not identifiers,
// Grafana variables (`$__range`, `${service}`, `[[var]]`) are not either.
// An identifier followed by `(` that is no PromQL function is an error, so a
// typo in a function name does not pass for a metric.

const FUNCTIONS = new Set(`
abs absent absent_over_time acos acosh asin asinh atan atanh avg_over_time ceil changes clamp
clamp_max clamp_min cos cosh count_over_time day_of_month day_of_week day_of_year days_in_month
deg delta deriv double_exponential_smoothing exp floor histogram_avg histogram_count
histogram_fraction histogram_quantile histogram_stddev histogram_stdvar histogram_sum
holt_winters hour idelta increase info irate label_join label_replace last_over_time ln log10
log2 mad_over_time max_over_time min_over_time minute month pi predict_linear
present_over_time quantile_over_time rad rate resets round scalar sgn sin sinh sort
sort_by_label sort_by_label_desc sort_desc sqrt stddev_over_time stdvar_over_time
sum_over_time tan tanh time timestamp vector year
`.trim().split(/\s+/));
const AGGREGATIONS = new Set(`
sum avg min max count stddev stdvar topk bottomk quantile count_values group limitk limit_ratio
`.trim().split(/\s+/));
const KEYWORDS = new Set(`
by without on ignoring group_left group_right bool and or unless offset atan2 inf nan
`.trim().split(/\s+/));
const LABEL_LIST_KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
// `@ start()` / `@ end()`: modifiers that look like calls.
const AT_FUNCTIONS = new Set(['start', 'end']);

class PromQLError extends Error {}

// Tokens: {t: 'ident'|'str'|'num'|'var'|'punct', v, pos}
function tokenize(src) {
  const out = [];
  let i = 0;
  const err = (msg) => {
    throw new PromQLError(`${msg} at ${i} in: ${src}`);
  };
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === '#') {
      while (i < src.length && src[i] !== '\n') i++;
    } else if (c === '"' || c === "'" || c === '`') {
      const start = i++;
      let v = '';
      while (i < src.length && src[i] !== c) {
        if (src[i] === '\\' && c !== '`') {
          v += src[i + 1];
          i += 2;
        } else v += src[i++];
      }
      if (i >= src.length) err('unterminated string');
      i++;
      out.push({ t: 'str', v, pos: start });
    } else if (c === '$') {
      const m = /^\$(\{[^}]*\}|[A-Za-z0-9_]+)/.exec(src.slice(i));
      if (!m) err('bad variable');
      out.push({ t: 'var', v: m[0], pos: i });
      i += m[0].length;
    } else if (src.startsWith('[[', i)) {
      const end = src.indexOf(']]', i);
      if (end < 0) err('unterminated [[variable]]');
      out.push({ t: 'var', v: src.slice(i, end + 2), pos: i });
      i = end + 2;
    } else if (/[0-9.]/.test(c) && /^(0x[0-9a-f]+|[0-9]*\.?[0-9]+(e[+-]?[0-9]+)?([a-z]+[0-9]*)*)/i.test(src.slice(i))) {
      // numbers, and durations such as 5m or 1h30m (offset 5m)
      const m = /^(0x[0-9a-f]+|[0-9]*\.?[0-9]+(e[+-]?[0-9]+)?([a-z]+[0-9]*)*)/i.exec(src.slice(i));
      out.push({ t: 'num', v: m[0], pos: i });
      i += m[0].length;
    } else if (/[A-Za-z_:]/.test(c)) {
      const m = /^[A-Za-z_:][A-Za-z0-9_:.]*/.exec(src.slice(i));
      // A dot is not part of a classic PromQL name: report it rather than
      // silently splitting (`rocky.tables_failed` is the OTel name, not the
      // Prometheus one).
      if (m[0].includes('.')) err(`'${m[0]}' is not a Prometheus name (dots are not allowed)`);
      out.push({ t: 'ident', v: m[0], pos: i });
      i += m[0].length;
    } else {
      const two = src.slice(i, i + 2);
      if (['==', '!=', '>=', '<=', '=~', '!~'].includes(two)) {
        out.push({ t: 'punct', v: two, pos: i });
        i += 2;
      } else if ('(){}[],=<>+-*/%^@'.includes(c)) {
        out.push({ t: 'punct', v: c, pos: i });
        i++;
      } else err(`unexpected '${c}'`);
    }
  }
  return out;
}

// {metrics: [{name, matchers: [{label, op, value}]}], groupingLabels: [..],
//  selectorsWithoutName: [[matchers]]}
function extract(src) {
  const toks = tokenize(src);
  const metrics = [];
  const groupingLabels = [];
  const selectorsWithoutName = [];
  let i = 0;
  const err = (msg, tok) => {
    throw new PromQLError(`${msg}${tok ? ` at ${tok.pos}` : ''} in: ${src}`);
  };
  const is = (k, v) => toks[k] && toks[k].t === 'punct' && toks[k].v === v;

  // `{...}` starting at toks[k] (the `{`): returns [matchers, index after `}`].
  function matchers(k) {
    const list = [];
    k++;
    while (!is(k, '}')) {
      const lab = toks[k];
      if (!lab || lab.t !== 'ident') err('label name expected in {...}', lab);
      const op = toks[k + 1];
      if (!op || op.t !== 'punct' || !['=', '!=', '=~', '!~'].includes(op.v)) err('matcher operator expected', op);
      const val = toks[k + 2];
      if (!val || (val.t !== 'str' && val.t !== 'var')) err('matcher value expected', val);
      list.push({ label: lab.v, op: op.v, value: val.t === 'str' ? val.v : null, variable: val.t === 'var' ? val.v : null });
      k += 3;
      if (is(k, ',')) k++;
      else if (!is(k, '}')) err("',' or '}' expected", toks[k]);
    }
    return [list, k + 1];
  }

  // `(a, b)` label list at toks[k]: returns index after `)`.
  function labelList(k) {
    if (!is(k, '(')) return k; // group_left without a list
    k++;
    while (!is(k, ')')) {
      const lab = toks[k];
      if (!lab || lab.t !== 'ident') err('label name expected in grouping list', lab);
      groupingLabels.push(lab.v);
      k++;
      if (is(k, ',')) k++;
      else if (!is(k, ')')) err("',' or ')' expected", toks[k]);
    }
    return k + 1;
  }

  while (i < toks.length) {
    const tok = toks[i];
    if (tok.t === 'punct' && tok.v === '[') {
      // range or subquery: skip to the matching ]
      let depth = 0;
      for (; i < toks.length; i++) {
        if (is(i, '[')) depth++;
        else if (is(i, ']') && --depth === 0) break;
      }
      if (i >= toks.length) err('unterminated [');
      i++;
      continue;
    }
    if (tok.t === 'punct' && tok.v === '{') {
      const [list, next] = matchers(i);
      const byName = list.find((m) => m.label === '__name__' && m.op === '=');
      if (byName) metrics.push({ name: byName.value, matchers: list.filter((m) => m !== byName) });
      else selectorsWithoutName.push(list);
      i = next;
      continue;
    }
    if (tok.t !== 'ident') {
      i++;
      continue;
    }
    const word = tok.v;
    const lower = word.toLowerCase();
    if (LABEL_LIST_KEYWORDS.has(lower)) {
      i = labelList(i + 1);
      continue;
    }
    if (KEYWORDS.has(lower)) {
      i++;
      continue;
    }
    if (is(i - 1, '@') && AT_FUNCTIONS.has(word) && is(i + 1, '(')) {
      i++;
      continue;
    }
    if (AGGREGATIONS.has(word) && (is(i + 1, '(') || (toks[i + 1] && toks[i + 1].t === 'ident' &&
        ['by', 'without'].includes(toks[i + 1].v.toLowerCase())))) {
      i++;
      continue;
    }
    if (is(i + 1, '(')) {
      if (!FUNCTIONS.has(word)) err(`'${word}' is not a PromQL function`, tok);
      i++;
      continue;
    }
    // a metric name, perhaps with matchers
    if (is(i + 1, '{')) {
      const [list, next] = matchers(i + 1);
      metrics.push({ name: word, matchers: list });
      i = next;
    } else {
      metrics.push({ name: word, matchers: [] });
      i++;
    }
  }
  return { metrics, groupingLabels, selectorsWithoutName };
}

function metricNames(src) {
  return [...new Set(extract(src).metrics.map((m) => m.name))];
}

module.exports = { extract, metricNames, tokenize, PromQLError, FUNCTIONS, AGGREGATIONS, KEYWORDS };
