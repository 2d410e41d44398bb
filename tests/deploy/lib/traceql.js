'use strict';
// A tiny TraceQL reader, the trace counterpart of promql.js: which span
// names and attributes does a query use? Per spanset `{ ... }` it collects
// the names compared with `name = "..."` and the attributes referenced as
// `span.x`, `resource.x` or `.x` (either scope); outside spansets (`select(...)`,
// `by(...)`) the attributes count for every spanset of the query.
// Intrinsics (name, status, kind, duration, rootName, ...) are not attributes.

const INTRINSICS = new Set(['name', 'status', 'kind', 'duration', 'statusMessage', 'rootName',
  'rootServiceName', 'traceDuration', 'nestedSetLeft', 'nestedSetRight', 'nestedSetParent',
  'event', 'link', 'instrumentation', 'trace', 'span', 'parent']);
const WORDS = new Set(['true', 'false', 'nil', 'ok', 'error', 'unset', 'select', 'by', 'count', 'avg',
  'min', 'max', 'sum', 'internal', 'server', 'client', 'producer', 'consumer', 'coalesce']);

class TraceQLError extends Error {}

function tokenize(src) {
  const out = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) i++;
    else if (c === '"' || c === '`') {
      let v = '';
      const start = i++;
      while (i < src.length && src[i] !== c) {
        if (src[i] === '\\') {
          v += src[i + 1];
          i += 2;
        } else v += src[i++];
      }
      if (i >= src.length) throw new TraceQLError(`unterminated string at ${start} in: ${src}`);
      i++;
      out.push({ t: 'str', v });
    } else if (c === '$') {
      const m = /^\$(\{[^}]*\}|[A-Za-z0-9_]+)/.exec(src.slice(i));
      if (!m) throw new TraceQLError(`bad variable at ${i} in: ${src}`);
      out.push({ t: 'var', v: m[0] });
      i += m[0].length;
    } else if (/[A-Za-z_.]/.test(c)) {
      const m = /^[A-Za-z_.][A-Za-z0-9_.:]*/.exec(src.slice(i));
      out.push({ t: 'ident', v: m[0] });
      i += m[0].length;
    } else if (/[0-9]/.test(c)) {
      const m = /^[0-9.]+[a-z]*/.exec(src.slice(i));
      out.push({ t: 'num', v: m[0] });
      i += m[0].length;
    } else {
      const two = src.slice(i, i + 2);
      if (['!=', '=~', '!~', '>=', '<=', '&&', '||', '>>', '<<', '!>', '!<', '~'].includes(two)) {
        out.push({ t: 'punct', v: two });
        i += 2;
      } else {
        out.push({ t: 'punct', v: c });
        i++;
      }
    }
  }
  return out;
}

// {spansets: [{names: [..], spanAttrs: [..], resourceAttrs: [..], anyAttrs: [..]}],
//  outside: {spanAttrs, resourceAttrs, anyAttrs}}
function extract(src) {
  const toks = tokenize(src);
  const blank = () => ({ names: [], spanAttrs: [], resourceAttrs: [], anyAttrs: [] });
  const spansets = [];
  const outside = blank();
  let cur = null;
  for (let i = 0; i < toks.length; i++) {
    const tok = toks[i];
    if (tok.t === 'punct' && tok.v === '{') {
      if (cur) throw new TraceQLError(`nested '{' in: ${src}`);
      cur = blank();
      continue;
    }
    if (tok.t === 'punct' && tok.v === '}') {
      if (!cur) throw new TraceQLError(`unbalanced '}' in: ${src}`);
      spansets.push(cur);
      cur = null;
      continue;
    }
    if (tok.t !== 'ident') continue;
    const into = cur || outside;
    const v = tok.v;
    if (v === 'name' && cur) {
      const op = toks[i + 1];
      const val = toks[i + 2];
      if (op && op.v === '=' && val && val.t === 'str') into.names.push(val.v);
      continue;
    }
    if (v.startsWith('span.')) into.spanAttrs.push(v.slice(5));
    else if (v.startsWith('resource.')) into.resourceAttrs.push(v.slice(9));
    else if (v.startsWith('.')) into.anyAttrs.push(v.slice(1));
    else if (!INTRINSICS.has(v.split(':')[0]) && !WORDS.has(v)) {
      throw new TraceQLError(`'${v}' is neither an intrinsic nor a scoped attribute in: ${src}`);
    }
  }
  if (cur) throw new TraceQLError(`unterminated '{' in: ${src}`);
  return { spansets, outside };
}

module.exports = { extract, tokenize, TraceQLError };
