'use strict';
// Unknown-field check ("kubectl apply --validate=strict" offline): the JSON
// schema validators of kubernetes-models accept unknown fields, so a typo
// (`restartpolicy`) or a field on the wrong level (terminationGracePeriodSeconds
// on the Job spec instead of the pod spec) would pass them and be silently
// dropped by an API server without strict validation. The field lists come
// from the same package: its generated TypeScript declarations (.d.ts), one
// interface per API type, one `"field"?: Type;` line per field.
const fs = require('node:fs');
const path = require('node:path');

const MODELS_DIR = path.dirname(require.resolve('kubernetes-models/package.json'));
const APIMACHINERY_DIR = path.dirname(require.resolve('@kubernetes-models/apimachinery/package.json'));

const ROOT_TYPES = {
  'v1/ConfigMap': 'v1/ConfigMap.d.ts',
  'v1/PersistentVolumeClaim': 'v1/PersistentVolumeClaim.d.ts',
  'batch/v1/Job': 'batch/v1/Job.d.ts',
  'batch/v1/CronJob': 'batch/v1/CronJob.d.ts',
  'apps/v1/DaemonSet': 'apps/v1/DaemonSet.d.ts',
  'apps/v1/Deployment': 'apps/v1/Deployment.d.ts',
};

const cache = new Map();

function resolveImport(fromFile, spec) {
  if (spec.startsWith('.')) return path.resolve(path.dirname(fromFile), `${spec}.d.ts`);
  const m = /^@kubernetes-models\/apimachinery\/(.*)$/.exec(spec);
  if (m) return path.join(APIMACHINERY_DIR, `${m[1]}.d.ts`);
  return null; // @kubernetes-models/base etc.: not an API type
}

// {fields: Map(name -> typeText), imports: Map(typeName -> file)} or null
// when the file declares no interface (a scalar alias like Quantity).
function loadType(file) {
  if (cache.has(file)) return cache.get(file);
  const text = fs.readFileSync(file, 'utf8');
  const imports = new Map();
  for (const m of text.matchAll(/^import \{([^}]*)\} from "([^"]+)";/gm)) {
    const target = resolveImport(file, m[2]);
    if (!target) continue;
    for (const name of m[1].split(',').map((s) => s.trim()).filter(Boolean)) imports.set(name, target);
  }
  const start = /^export interface \w+(?: extends [\w, ]+)? \{$/m.exec(text);
  let result = null;
  if (start) {
    const lines = text.slice(start.index).split('\n').slice(1);
    const fields = new Map();
    for (let i = 0; i < lines.length && lines[i] !== '}'; i++) {
      const f = /^ {4}"([^"]+)"\??: (.*)$/.exec(lines[i]);
      if (!f) continue;
      let type = f[2];
      if (type === '{') {
        // Map type: `{\n [key: string]: T;\n };`
        const inner = /\[key: string\]: (.*);$/.exec(lines[i + 1].trim());
        type = inner ? `Map<${inner[1]}>` : 'unknown';
      }
      fields.set(f[1], type.replace(/;$/, ''));
    }
    result = { fields, imports };
  }
  cache.set(file, result);
  return result;
}

// Problems for `value` (at `where`) against the type named by `typeText`
// in the context of declaration `decl`.
function checkValue(value, typeText, decl, where, problems) {
  const arr = /^Array<(.*)>$/.exec(typeText);
  if (arr) {
    if (Array.isArray(value)) value.forEach((v, i) => checkValue(v, arr[1], decl, `${where}[${i}]`, problems));
    return;
  }
  const map = /^Map<(.*)>$/.exec(typeText);
  if (map) {
    if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) checkValue(v, map[1], decl, `${where}.${k}`, problems);
    }
    return;
  }
  const file = decl.imports.get(typeText);
  if (!file) return; // a scalar, a literal union or a base type
  const type = loadType(file);
  if (type) checkObject(value, type, where, problems);
}

function checkObject(obj, type, where, problems) {
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return;
  for (const [k, v] of Object.entries(obj)) {
    if (!type.fields.has(k)) {
      const near = [...type.fields.keys()].find((f) => f.toLowerCase() === k.toLowerCase());
      problems.push(`${where}.${k}: unknown field${near ? ` (did you mean '${near}'?)` : ''}`);
      continue;
    }
    checkValue(v, type.fields.get(k), type, `${where}.${k}`, problems);
  }
}

// Unknown fields in a built-in object; [] for kinds without a root type.
function unknownFields(doc) {
  const rel = ROOT_TYPES[`${doc.apiVersion}/${doc.kind}`];
  if (!rel) return [];
  const problems = [];
  checkObject(doc, loadType(path.join(MODELS_DIR, rel)), doc.kind, problems);
  return problems;
}

// Unknown fields of `value` checked as the API type declared in `rel`
// (e.g. 'v1/EnvVar.d.ts'), for objects embedded in custom resources.
function unknownFieldsAs(value, rel, where) {
  const problems = [];
  checkObject(value, loadType(path.join(MODELS_DIR, rel)), where, problems);
  return problems;
}

function hasRootType(doc) {
  return Boolean(ROOT_TYPES[`${doc.apiVersion}/${doc.kind}`]);
}

module.exports = { unknownFields, unknownFieldsAs, hasRootType };
