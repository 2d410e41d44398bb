// html.test.js — the --format html page opened in a real headless browser
// (Debian's chromium): its script must find one bar per model in the DOM, and
// names from the store must arrive as text, never as markup.
// Env (set by ctest): ROCKY_TRACE_BIN, TRACE_MAKE_STORE, CHROMIUM,
// ROCKY_TEST_TIME_SCALE.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync, spawnSync } = require('node:child_process');

const bin = process.env.ROCKY_TRACE_BIN;
const makeStore = process.env.TRACE_MAKE_STORE;
const chromium = process.env.CHROMIUM;
const scale = Math.max(1, parseInt(process.env.ROCKY_TEST_TIME_SCALE || '1', 10));

function chromiumArgs(profile) {
  return ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
    '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync',
    `--user-data-dir=${profile}`];
}

test('the page draws one bar per model and escapes names', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rocky-trace-html-'));
  try {
    const store = path.join(dir, 'state.db');
    execFileSync(makeStore, [store, 'sample']);
    const json = JSON.parse(execFileSync(bin, ['latest', '--state', store, '--json'],
      { encoding: 'utf8' }));
    const html = execFileSync(bin, ['latest', '--state', store, '--format', 'html'],
      { encoding: 'utf8' });
    const page = path.join(dir, 'trace.html');
    fs.writeFileSync(page, html);

    const profile = fs.mkdtempSync(path.join(dir, 'profile-'));
    const r = spawnSync(chromium, [...chromiumArgs(profile), '--dump-dom',
      `file://${page}`], { encoding: 'utf8', timeout: 60000 * scale,
      killSignal: 'SIGKILL' });
    assert.strictEqual(r.error, undefined, String(r.error));
    assert.strictEqual(r.status, 0, r.stderr);
    const dom = r.stdout;

    // The page's script ran and counted the bars it found in the live DOM.
    const drawn = /<body[^>]*data-bars="(\d+)"/.exec(dom);
    assert.ok(drawn, 'page script did not run (no data-bars on <body>)');
    assert.strictEqual(Number(drawn[1]), json.models.length);
    // And the serialized DOM holds exactly one bar per model, by name.
    const bars = [...dom.matchAll(/<rect class="bar [^"]*"[^>]*data-model="([^"]*)"/g)];
    assert.strictEqual(bars.length, json.models.length);
    const critical = [...dom.matchAll(/<rect class="bar [^"]*crit[^"]*"/g)];
    assert.strictEqual(critical.length, json.critical_path.length);
    const failed = [...dom.matchAll(/<rect class="bar failed/g)];
    assert.strictEqual(failed.length, json.models.filter((m) => m.status === 'failed').length);

    // The hostile name is text, not a <b> element inside the chart or table.
    assert.ok(dom.includes('&lt;b&gt;"quoted" &amp; \'odd\'&lt;/b&gt;'), 'escaped name missing');
    assert.ok(!dom.includes('<b>"quoted"'), 'name was parsed as markup');
    assert.ok(dom.includes('données_clients_日本語'), 'UTF-8 name mangled');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('--compare adds a comparison section, rows in regression order', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rocky-trace-html-'));
  try {
    const store = path.join(dir, 'state.db');
    execFileSync(makeStore, [store, 'compare']);
    const base = '20251125T050000.000Z-bef0';
    const json = JSON.parse(execFileSync(bin, ['latest', '--compare', base, '--state', store,
      '--json'], { encoding: 'utf8' }));
    const html = execFileSync(bin, ['latest', '--compare', base, '--state', store,
      '--format', 'html'], { encoding: 'utf8' });
    const page = path.join(dir, 'compare.html');
    fs.writeFileSync(page, html);
    const profile = fs.mkdtempSync(path.join(dir, 'profile-'));
    const r = spawnSync(chromium, [...chromiumArgs(profile), '--dump-dom',
      `file://${page}`], { encoding: 'utf8', timeout: 60000 * scale,
      killSignal: 'SIGKILL' });
    assert.strictEqual(r.error, undefined, String(r.error));
    assert.strictEqual(r.status, 0, r.stderr);
    const dom = r.stdout;
    // The page is still the after run's timeline, script and all.
    const drawn = /<body[^>]*data-bars="(\d+)"/.exec(dom);
    assert.ok(drawn, 'page script did not run');
    // The section: one row per changed model, in the JSON's order.
    const section = /<section id="compare" data-compare-rows="(\d+)">([\s\S]*?)<\/section>/.exec(dom);
    assert.ok(section, 'no comparison section in the DOM');
    const changed = json.models.filter((m) => m.change !== 'unchanged');
    assert.strictEqual(Number(section[1]), changed.length);
    const rows = [...section[2].matchAll(/<tr class="([a-z_]+)" data-change="[a-z_]+" data-model="([^"]*)"/g)];
    assert.deepStrictEqual(rows.map((m) => m[1]), changed.map((m) => m.change));
    assert.strictEqual(rows[0][2], 'slow_one');
    assert.ok(section[2].includes('baseline'), 'baseline not named');
    // A hostile added name arrives as text.
    assert.ok(section[2].includes('&lt;i&gt;new&lt;/i&gt; &amp; co'), 'escaped name missing');
    assert.ok(!dom.includes('<i>new</i>'), 'name was parsed as markup');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
