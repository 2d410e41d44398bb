'use strict';
// deploy/docker/Dockerfile, checked statically (no Docker engine here):
// multi-stage, runtime without build tools, numeric non-root USER, paths
// that agree with the CMake install rules and with the manifests.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { readText, repoPath, REPO, allManifestDocs } = require('./lib/load');
const D = require('./lib/dockerfile');
const P = require('./lib/pods');

const TEXT = readText('deploy/docker/Dockerfile');
const { instrs, stages } = D.parseDockerfile(TEXT);
const BUILD = stages.findIndex((s) => s.name === 'build');
const RUNTIME = stages.length - 1;

// Debian 12 packages agreed for the build and for the runtime.
const BUILD_DEPS = [
  'build-essential', 'cmake', 'pkg-config', 'protobuf-c-compiler', 'libprotobuf-c-dev',
  'libgrpc-dev', 'libcjson-dev', 'libsqlite3-dev',
];
const RUNTIME_LIBS = ['libgrpc29', 'libprotobuf-c1', 'libcjson1', 'libsqlite3-0'];

function stagePackages(stage) {
  return instrs.filter((i) => i.stage === stage && i.instr === 'RUN').flatMap((i) => D.aptPackages(i.args));
}

test('Dockerfile passes the lint rules', () => {
  assert.deepEqual(D.lintDockerfile(TEXT), []);
  assert.ok(BUILD >= 0 && BUILD < RUNTIME, 'a stage named build before the runtime stage');
  assert.match(stages[RUNTIME].from, /debian:12|bookworm|DEBIAN_IMAGE/);
  assert.match(TEXT, /ARG DEBIAN_IMAGE=debian:12(-slim)?\n/);
});

test('build stage installs the build deps, runtime stage the runtime libs only', () => {
  const build = stagePackages(BUILD);
  for (const p of BUILD_DEPS) assert.ok(build.includes(p), `build stage lacks ${p}`);
  const runtime = stagePackages(RUNTIME);
  for (const p of RUNTIME_LIBS) assert.ok(runtime.includes(p), `runtime stage lacks ${p}`);
  assert.deepEqual(runtime.filter((p) => !RUNTIME_LIBS.includes(p)), ['ca-certificates']);
});

// Where `cmake --install` puts a file given install(... DESTINATION dest).
function installedPath(defines, dest) {
  const libdir = defines.CMAKE_INSTALL_LIBDIR || 'lib';
  const bindir = defines.CMAKE_INSTALL_BINDIR || 'bin';
  const rel = dest.replace('${CMAKE_INSTALL_LIBDIR}', libdir).replace('${CMAKE_INSTALL_BINDIR}', bindir);
  return path.posix.join(defines.CMAKE_INSTALL_PREFIX, rel);
}

// install(TARGETS <target> ... <KIND> DESTINATION <dest>) anywhere in the tree.
function installDestination(target, kind) {
  const files = [];
  const walk = (dir) => {
    for (const ent of fs.readdirSync(dir, { withFileTypes: true })) {
      if (ent.name.startsWith('.') || ent.name.startsWith('build') || ent.name === 'node_modules') continue;
      const full = path.join(dir, ent.name);
      if (ent.isDirectory()) walk(full);
      else if (ent.name === 'CMakeLists.txt' || ent.name.endsWith('.cmake')) files.push(full);
    }
  };
  walk(REPO);
  const KEYWORDS = /^(RUNTIME|LIBRARY|ARCHIVE|DESTINATION|EXPORT|COMPONENT|OPTIONAL|PERMISSIONS|CONFIGURATIONS|FRAMEWORK|BUNDLE|PUBLIC_HEADER|INCLUDES|NAMELINK_[A-Z]+|FILE_SET|OBJECTS|RESOURCE|PRIVATE_HEADER)$/;
  for (const f of files) {
    for (const m of fs.readFileSync(f, 'utf8').matchAll(/install\s*\(\s*TARGETS\s+([^)]*)\)/g)) {
      const tokens = m[1].split(/\s+/).filter(Boolean);
      const end = tokens.findIndex((t) => KEYWORDS.test(t));
      const targets = tokens.slice(0, end < 0 ? tokens.length : end);
      if (!targets.includes(target)) continue;
      const d = new RegExp(`${kind}\\s+DESTINATION\\s+(\\S+)`).exec(m[1]) || /(?:^|\s)DESTINATION\s+(\S+)/.exec(m[1]);
      if (d) return { dest: d[1], file: path.relative(REPO, f) };
    }
  }
  return null;
}

test('ROCKY_PLUGINS in the image is where CMake installs rocky_otel.so', () => {
  const defines = D.cmakeDefines(instrs, BUILD);
  assert.equal(defines.CMAKE_INSTALL_LIBDIR, 'lib', 'pin LIBDIR: GNUInstallDirs may pick lib/<multiarch>');
  const rule = installDestination('rocky_otel', 'LIBRARY');
  assert.ok(rule, 'no install(TARGETS rocky_otel ...) rule in the tree');
  const want = `${installedPath(defines, rule.dest)}/rocky_otel.so`;
  const env = D.envOf(instrs, RUNTIME);
  assert.equal(env.ROCKY_PLUGINS, want, `image ROCKY_PLUGINS vs ${rule.file}`);
  // The build stage fails early if the file is not where the image expects.
  assert.ok(TEXT.includes(`test -f ${want}`));
  // The plugin's install folder is the one the layout agreed on.
  assert.equal(rule.dest, '${CMAKE_INSTALL_LIBDIR}/rocky/plugins');
});

test('the runner binary is installed into bin/ and on the image PATH', () => {
  const defines = D.cmakeDefines(instrs, BUILD);
  const rule = installDestination('rocky', 'RUNTIME');
  assert.ok(rule, 'no install(TARGETS rocky ...) rule in the tree: `cmake --install` would not ship bin/rocky');
  const bindir = installedPath(defines, rule.dest);
  const env = D.envOf(instrs, RUNTIME);
  assert.ok(env.PATH.split(':').includes(bindir), `PATH ${env.PATH} lacks ${bindir}`);
});

test('image and manifests agree on state path, project path and uid', () => {
  const env = D.envOf(instrs, RUNTIME);
  const docs = allManifestDocs();
  for (const pod of P.pipelinePods(docs)) {
    const runner = P.container(pod.spec, 'rocky');
    assert.equal(P.envValue(runner, 'ROCKY_STATE'), env.ROCKY_STATE, pod.file);
    const seed = P.container(pod.spec, 'seed-project');
    const copy = instrs.find((i) => i.stage === RUNTIME && i.instr === 'COPY' && /ROCKY_PROJECT/.test(i.args));
    const projectInImage = copy.args.split(' ').pop().replace(/\/$/, '');
    assert.ok(seed.command.join(' ').includes(`${projectInImage}/.`), `${pod.file}: seed copies from ${projectInImage}`);
    assert.equal(pod.spec.securityContext.runAsUser, 10001);
  }
  const user = instrs.filter((i) => i.stage === RUNTIME && i.instr === 'USER').pop().args;
  assert.equal(user, '10001:10001');
});

test('the default project copied into the image exists in the repository', () => {
  const arg = instrs.find((i) => i.stage === RUNTIME && i.instr === 'ARG' && i.args.startsWith('ROCKY_PROJECT='));
  const dir = arg.args.split('=')[1];
  assert.ok(fs.existsSync(repoPath(dir)) && fs.statSync(repoPath(dir)).isDirectory(), `${dir} is not a directory`);
  // A project root: rocky.json beside models/*.sql (not a folder of projects).
  assert.ok(fs.existsSync(repoPath(dir, 'rocky.json')), `${dir} has no rocky.json: not a project root`);
  const models = repoPath(dir, 'models');
  const sql = fs.existsSync(models) ? fs.readdirSync(models).filter((f) => f.endsWith('.sql')) : [];
  assert.ok(sql.length > 0, `${dir}/models holds no .sql model: the image would ship no project`);
});

// --- the linter must be able to say no -------------------------------------

const GOOD = `FROM debian:12 AS build
RUN apt-get update && apt-get install -y cmake
FROM debian:12-slim AS runtime
COPY --from=build /opt/rocky /opt/rocky
USER 10001:10001
ENTRYPOINT ["rocky"]
`;

test('linter accepts a minimal good Dockerfile', () => {
  assert.deepEqual(D.lintDockerfile(GOOD), []);
});

test('linter rejects root, a missing USER, one stage, build tools at runtime, a shell ENTRYPOINT', () => {
  assert.match(D.lintDockerfile(GOOD.replace('USER 10001:10001', 'USER root')).join('\n'), /numeric non-root/);
  assert.match(D.lintDockerfile(GOOD.replace('USER 10001:10001\n', '')).join('\n'), /no USER/);
  assert.match(D.lintDockerfile(GOOD.replace('USER 10001:10001', 'USER 0')).join('\n'), /numeric non-root/);
  const single = 'FROM debian:12 AS build\nRUN true\nUSER 10001\nENTRYPOINT ["rocky"]\n';
  assert.match(D.lintDockerfile(single).join('\n'), /multi-stage/);
  const dev = GOOD.replace('COPY --from', 'RUN apt-get install -y \\\n    libgrpc-dev\nCOPY --from');
  assert.match(D.lintDockerfile(dev).join('\n'), /runtime stage installs build package libgrpc-dev/);
  assert.match(D.lintDockerfile(GOOD.replace('["rocky"]', 'rocky run')).join('\n'), /exec form/);
  assert.match(D.lintDockerfile(GOOD.replace('--from=build', '--from=builder')).join('\n'), /names no earlier stage/);
});
