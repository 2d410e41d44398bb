'use strict';
// A small static reader and linter for deploy/docker/Dockerfile (no Docker
// engine here): instructions with line continuations joined, stages, and
// the rules the image must keep.

// [{stage, instr, args, line}] and [{name, from, index}]
function parseDockerfile(text) {
  const instrs = [];
  const stages = [];
  const lines = text.split('\n');
  let buf = '';
  let start = 0;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i];
    if (buf === '' && /^\s*(#|$)/.test(raw)) continue;
    if (buf !== '' && /^\s*#/.test(raw)) continue; // comment inside a continuation
    if (buf === '') start = i + 1;
    if (/\\\s*$/.test(raw)) {
      buf += `${raw.replace(/\\\s*$/, '')} `;
      continue;
    }
    buf += raw;
    const m = /^\s*([A-Za-z]+)\s+([\s\S]*)$/.exec(buf);
    buf = '';
    if (!m) throw new Error(`Dockerfile:${start}: cannot parse '${lines[start - 1]}'`);
    const instr = m[1].toUpperCase();
    const args = m[2].replace(/\s+/g, ' ').trim();
    if (instr === 'FROM') {
      const f = /^(?:--platform=\S+ )?(\S+)(?: AS (\S+))?$/i.exec(args);
      if (!f) throw new Error(`Dockerfile:${start}: bad FROM '${args}'`);
      stages.push({ from: f[1], name: f[2], index: stages.length });
    }
    instrs.push({ stage: stages.length - 1, instr, args, line: start });
  }
  if (buf !== '') throw new Error('Dockerfile: ends inside a line continuation');
  return { instrs, stages };
}

// apt-get install package names in one RUN line.
function aptPackages(runArgs) {
  const out = [];
  for (const m of runArgs.matchAll(/apt-get install ([^&;|]*)/g)) {
    for (const w of m[1].split(' ')) if (w && !w.startsWith('-')) out.push(w);
  }
  return out;
}

// ENV k=v pairs of a stage (the k=v form only).
function envOf(instrs, stage) {
  const env = {};
  for (const i of instrs.filter((x) => x.stage === stage && x.instr === 'ENV')) {
    for (const m of i.args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S*)/g)) env[m[1]] = m[2].replace(/^"|"$/g, '');
  }
  return env;
}

// -DNAME=value of the cmake configure command in a stage.
function cmakeDefines(instrs, stage) {
  const d = {};
  for (const i of instrs.filter((x) => x.stage === stage && x.instr === 'RUN')) {
    for (const m of i.args.matchAll(/-D([A-Z_]+)=(\S+)/g)) d[m[1]] = m[2];
  }
  return d;
}

// Rules: >= 2 named stages; runtime (last) stage copies from an earlier
// stage, installs no compiler or -dev package, ends as a numeric non-root
// USER and starts rocky in exec form.
function lintDockerfile(text) {
  const problems = [];
  let parsed;
  try {
    parsed = parseDockerfile(text);
  } catch (err) {
    return [err.message];
  }
  const { instrs, stages } = parsed;
  if (stages.length < 2) problems.push('needs a multi-stage build (build + runtime)');
  const names = stages.map((s) => s.name);
  stages.forEach((s, i) => {
    if (!s.name) problems.push(`stage ${i} (FROM ${s.from}) has no AS name`);
  });
  const last = stages.length - 1;
  for (const i of instrs.filter((x) => x.instr === 'COPY')) {
    const m = /--from=(\S+)/.exec(i.args);
    if (m) {
      const idx = names.indexOf(m[1]);
      if (idx < 0 || idx >= i.stage) problems.push(`line ${i.line}: COPY --from=${m[1]} names no earlier stage`);
    }
  }
  const runtime = instrs.filter((x) => x.stage === last);
  if (!runtime.some((x) => x.instr === 'COPY' && /--from=/.test(x.args))) {
    problems.push('runtime stage copies nothing from the build stage');
  }
  for (const i of runtime.filter((x) => x.instr === 'RUN')) {
    for (const p of aptPackages(i.args)) {
      if (/-dev$/.test(p) || ['build-essential', 'cmake', 'gcc', 'protobuf-c-compiler'].includes(p)) {
        problems.push(`line ${i.line}: runtime stage installs build package ${p}`);
      }
    }
  }
  const users = runtime.filter((x) => x.instr === 'USER');
  const user = users.length ? users[users.length - 1].args : undefined;
  if (!user) problems.push('runtime stage has no USER (would run as root)');
  else if (!/^[1-9]\d*(:[1-9]\d*)?$/.test(user)) {
    problems.push(`USER '${user}' must be a numeric non-root uid[:gid] (runAsNonRoot needs numbers)`);
  }
  const ep = runtime.filter((x) => x.instr === 'ENTRYPOINT').pop();
  if (!ep) problems.push('runtime stage has no ENTRYPOINT');
  else {
    let arr;
    try {
      arr = JSON.parse(ep.args);
    } catch {
      arr = null;
    }
    if (!Array.isArray(arr) || arr[0] !== 'rocky') problems.push(`ENTRYPOINT must be exec form ["rocky"], got ${ep.args}`);
  }
  return problems;
}

module.exports = { parseDockerfile, aptPackages, envOf, cmakeDefines, lintDockerfile };
