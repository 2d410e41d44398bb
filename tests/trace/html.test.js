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
