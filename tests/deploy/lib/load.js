'use strict';
// Loading deploy/ files: paths, YAML documents (strict: any parse error or
// warning fails), the manifests of every folder under deploy/k8s.
const fs = require('node:fs');
const path = require('node:path');
const YAML = require('yaml');

const REPO = path.resolve(__dirname, '..', '..', '..');
const DEPLOY = path.join(REPO, 'deploy');

function repoPath(...parts) {
  return path.join(REPO, ...parts);
}

function readText(rel) {
  return fs.readFileSync(repoPath(rel), 'utf8');
}

// Parse every document of a YAML stream. Throws with the file name and the
// parser's message (line/column) on the first error or warning, so a
// duplicated key or a tab indentation is a failure, not a silent override.
function parseYamlDocs(text, where) {
  const docs = YAML.parseAllDocuments(text, { uniqueKeys: true, prettyErrors: true });
  const out = [];
  for (const doc of docs) {
    const problems = [...doc.errors, ...doc.warnings];
    if (problems.length > 0) {
      throw new Error(`${where}: YAML: ${problems.map((p) => p.message).join('; ')}`);
    }
    const value = doc.toJS({ maxAliasCount: 0 });
    if (value !== null && value !== undefined) out.push(value);
  }
  return out;
}

function parseYamlOne(text, where) {
  const docs = parseYamlDocs(text, where);
  if (docs.length !== 1) throw new Error(`${where}: expected 1 YAML document, found ${docs.length}`);
  return docs[0];
}

function loadYaml(rel) {
  return parseYamlOne(readText(rel), rel);
}

// Every *.yaml / *.yml under deploy/k8s, relative to the repo, sorted.
function manifestFiles() {
  const out = [];
  const walk = (dir) => {
    for (const ent of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, ent.name);
      if (ent.isDirectory()) walk(full);
      else if (/\.ya?ml$/.test(ent.name)) out.push(path.relative(REPO, full));
    }
  };
  walk(path.join(DEPLOY, 'k8s'));
  return out.sort();
}

// [{file, doc}] for every document of every manifest (kustomizations too).
function allManifestDocs() {
  const out = [];
  for (const file of manifestFiles()) {
    for (const doc of parseYamlDocs(readText(file), file)) out.push({ file, doc });
  }
  return out;
}

module.exports = {
  REPO,
  DEPLOY,
  repoPath,
  readText,
  parseYamlDocs,
  parseYamlOne,
  loadYaml,
  manifestFiles,
  allManifestDocs,
};
