'use strict';
// docs/reliability.md cannot drift from the suite: every row of its tables
// names at least one test — `path` "name or part of it" — and each named file
// must exist and still hold that text. Renaming or deleting a fault test
// without updating the table fails here.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..', '..');
const DOC = path.join(ROOT, 'docs', 'reliability.md');
const REF = /`(tests\/[^`]+)` "([^"]+)"/g;

/** The table rows of a document: {line, cells}. */
function rows(text) {
  const out = [];
  text.split('\n').forEach((line, i) => {
    if (!line.startsWith('|') || /^\|\s*(fault|---)/.test(line)) return;
    // A cell boundary is a '|' not escaped as '\|'.
    const cells = line.slice(1, -1).split(/(?<!\\)\|/).map((c) => c.trim());
    out.push({ line: i + 1, cells });
  });
  return out;
}

/** Every problem of a document's tables, as messages (none: it holds). */
function problems(text) {
  const found = [];
  const files = new Map();
  for (const r of rows(text)) {
    if (r.cells.length !== 4) {
      found.push(`line ${r.line}: ${r.cells.length} cells, not 4 (an unescaped '|'?)`);
      continue;
    }
    const refs = [...r.cells[3].matchAll(REF)];
    if (refs.length === 0) found.push(`line ${r.line}: no test named for "${r.cells[0]}"`);
    for (const [, file, name] of refs) {
      const full = path.join(ROOT, file);
      if (!files.has(full)) files.set(full, fs.existsSync(full) ? fs.readFileSync(full, 'utf8') : null);
      const src = files.get(full);
      if (src === null) found.push(`line ${r.line}: ${file} does not exist`);
      else if (!src.includes(name)) found.push(`line ${r.line}: ${file} has no test "${name}"`);
    }
  }
  return found;
}

test('docs/reliability.md: every row names tests that exist', () => {
  const text = fs.readFileSync(DOC, 'utf8');
  assert.ok(rows(text).length >= 40, `only ${rows(text).length} rows in ${DOC}`);
  assert.deepEqual(problems(text), []);
});

test('the check catches a renamed test, a missing file, a row without a test and a broken row', () => {
  const doc = [
    '| fault | what you see | what is kept | tests |',
    '| --- | --- | --- | --- |',
    '| a | b | c | `tests/e2e/otel_faults.test.js` "collector down the whole run" |',
    '| a | b | c | `tests/e2e/otel_faults.test.js` "a fault nobody tests" |',
    '| a | b | c | `tests/e2e/no_such_file.test.js` "x" |',
    '| a | b | c | nothing named |',
    '| a | b | c | d | e |',
  ].join('\n');
  const got = problems(doc);
  assert.equal(got.length, 4, got.join('\n'));
  assert.match(got[0], /has no test "a fault nobody tests"/);
  assert.match(got[1], /does not exist/);
  assert.match(got[2], /no test named/);
  assert.match(got[3], /5 cells/);
});
