'use strict';
// The image's layout, produced for real: `cmake --install` of the build
// tree into a temp prefix standing in for the Dockerfile's /opt/rocky, then
// the installed runner started the way the image starts it (PATH, and
// ROCKY_PLUGINS naming the installed plugin) must load that plugin and get
// a run's spans to an OTLP receiver. A wrong install rule, a plugin path the
// image does not have, or an installed file that cannot load fails here.
// Needs ROCKY_BUILD_DIR and ROCKY_CMAKE (ctest sets them) and `npm ci` in
// tests/e2e/receiver.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync, spawn } = require('node:child_process');
const { readText, repoPath } = require('./lib/load');
const D = require('./lib/dockerfile');
const { startReceiver, scaleMs } = require('../e2e/receiver/harness');

const BUILD = process.env.ROCKY_BUILD_DIR;
const CMAKE = process.env.ROCKY_CMAKE || 'cmake';
if (!BUILD) throw new Error('set ROCKY_BUILD_DIR (ctest does)');

const { instrs, stages } = D.parseDockerfile(readText('deploy/docker/Dockerfile'));
const BUILD_STAGE = stages.findIndex((s) => s.name === 'build');
const RUNTIME = stages.length - 1;
const defines = D.cmakeDefines(instrs, BUILD_STAGE);
const imageEnv = D.envOf(instrs, RUNTIME);
const PREFIX = defines.CMAKE_INSTALL_PREFIX; // /opt/rocky

// The build tree's LIBDIR (the image pins `lib`; a build tree configured
// with another one installs there, and the test follows it).
function cacheValue(name) {
  const m = new RegExp(`^${name}:[A-Z]+=(.*)$`, 'm').exec(fs.readFileSync(path.join(BUILD, 'CMakeCache.txt'), 'utf8'));
  return m ? m[1] : undefined;
}

function inPrefix(root, imagePath, libdir) {
  assert.ok(imagePath.startsWith(`${PREFIX}/`), `${imagePath} is not under ${PREFIX}`);
  let rel = imagePath.slice(PREFIX.length + 1);
  if (libdir !== defines.CMAKE_INSTALL_LIBDIR && rel.startsWith(`${defines.CMAKE_INSTALL_LIBDIR}/`)) {
    rel = `${libdir}/${rel.slice(defines.CMAKE_INSTALL_LIBDIR.length + 1)}`;
  }
  return path.join(root, rel);
}

test('cmake --install lays out what the image runs, and the installed runner loads the installed plugin', async (t) => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rocky-install-'));
  const rx = await startReceiver({});
  t.after(async () => {
    await rx.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });
  const root = path.join(tmp, 'opt-rocky');
  const inst = spawnSync(CMAKE, ['--install', BUILD, '--prefix', root], { encoding: 'utf8', timeout: scaleMs(60000) });
  assert.equal(inst.status, 0, `cmake --install failed:\n${inst.stdout}\n${inst.stderr}`);

  const libdir = cacheValue('CMAKE_INSTALL_LIBDIR') || 'lib';
  const plugin = inPrefix(root, imageEnv.ROCKY_PLUGINS, libdir);
  assert.ok(fs.existsSync(plugin), `no ${plugin}: the image's ROCKY_PLUGINS (${imageEnv.ROCKY_PLUGINS}) would name nothing`);
  const bindir = imageEnv.PATH.split(':').find((p) => p.startsWith(`${PREFIX}/`));
  const rocky = path.join(inPrefix(root, bindir, libdir), 'rocky');
  assert.ok(fs.existsSync(rocky), `no ${rocky}: the runner has no install(TARGETS rocky RUNTIME ...) rule`);

  const project = path.join(tmp, 'project');
  fs.cpSync(repoPath(instrs.find((i) => i.instr === 'ARG' && i.args.startsWith('ROCKY_PROJECT=')).args.split('=')[1]), project, {
    recursive: true,
    filter: (src) => !src.split(path.sep).includes('.rocky'),
  });
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_') && !k.startsWith('ROCKY_')));
  const env = {
    ...base,
    PATH: `${path.dirname(rocky)}:${base.PATH}`,
    ROCKY_PLUGINS: plugin,
    ROCKY_STATE: path.join(tmp, 'state.db'),
    OTEL_EXPORTER_OTLP_ENDPOINT: rx.endpoint,
    OTEL_SERVICE_NAME: 'rocky-install-check',
  };
  // ENTRYPOINT ["rocky"] + CMD ["run", <project>]: by name, through PATH.
  const child = spawn('rocky', ['run', project], { env });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const code = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`installed rocky did not exit in time; stderr:\n${stderr}`));
    }, scaleMs(60000));
    child.on('close', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  assert.equal(code, 0, `installed rocky exited ${code}; stderr:\n${stderr}`);
  const span = await rx.waitFor((r) => r.spans().find((s) => s.span.name === 'run'), 10000, 'the run span from the installed plugin');
  const svc = span.resource.attributes.find((a) => a.key === 'service.name');
  assert.equal(svc.value.stringValue, 'rocky-install-check');
});
