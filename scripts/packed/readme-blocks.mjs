/**
 * The fenced code blocks of the repository's READMEs (the root README and every
 * packages/<name>/README.md), as test/packed runs them against the packed packages.
 *
 * A block is code when its fence names ts/typescript, js/javascript/mjs, or sh/bash/shell. Each is
 * run unless an HTML comment just above it (only blank lines and other comments between) says
 *
 *   <!-- not run: the reason -->
 *
 * In a shell block, an `npm install …` / `npm i …` / `pnpm add …` line is checked rather than run:
 * every package it names must be one the test app installed, at the version it names.
 *
 *   node scripts/packed/readme-blocks.mjs    # lists every block: file:line, language, run or why not
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transform } from 'esbuild';

export const repositoryRoot = fileURLToPath(new URL('../../', import.meta.url));

const languages = new Map([
  ['ts', 'ts'],
  ['typescript', 'ts'],
  ['js', 'js'],
  ['javascript', 'js'],
  ['mjs', 'js'],
  ['sh', 'sh'],
  ['bash', 'sh'],
  ['shell', 'sh'],
]);

/** The READMEs whose blocks are run: the root one and each package's, in a stable order. */
export function readmeFiles(root = repositoryRoot) {
  const packages = join(root, 'packages');
  const files = [join(root, 'README.md')];
  for (const name of readdirSync(packages).sort()) {
    const readme = join(packages, name, 'README.md');
    if (existsSync(readme)) files.push(readme);
  }
  return files;
}

/**
 * Parses one README.
 * @returns every fenced block whose language is code: `{ file, line, lang, code, skip }`, where
 *   `file` is relative to the repository, `line` the fence's 1-based line, `lang` 'ts' | 'js' | 'sh'
 *   and `skip` the reason of a `<!-- not run: … -->` marker (or null).
 */
export function parseReadme(text, file) {
  const lines = text.split('\n');
  const blocks = [];
  for (let i = 0; i < lines.length; i += 1) {
    const open = /^ {0,3}(`{3,}|~{3,})\s*([\w-]*)/.exec(lines[i]);
    if (open === null) continue;
    const fence = open[1];
    let end = i + 1;
    while (end < lines.length && !(lines[end].trim().startsWith(fence) && lines[end].trim().replace(/[`~]/g, '') === '')) end += 1;
    const body = lines.slice(i + 1, end).join('\n');
    const lang = languages.get(open[2].toLowerCase());
    if (lang !== undefined) blocks.push({ file, line: i + 1, lang, code: body + '\n', skip: markerAbove(lines, i) });
    i = end;
  }
  return blocks;
}

function markerAbove(lines, fenceIndex) {
  for (let j = fenceIndex - 1; j >= 0; j -= 1) {
    const line = lines[j].trim();
    if (line === '') continue;
    if (!(line.startsWith('<!--') && line.endsWith('-->'))) return null;
    const marker = /^<!--\s*not run:\s*([\s\S]+?)\s*-->$/.exec(line);
    if (marker !== null) return marker[1];
  }
  return null;
}

/** Every code block of every README (see `parseReadme`). */
export function collectReadmeBlocks(root = repositoryRoot) {
  return readmeFiles(root).flatMap((path) => parseReadme(readFileSync(path, 'utf8'), relative(root, path)));
}

/**
 * Splits a shell block into commands: `\`-continued lines joined, comments and blank lines dropped.
 * @returns `{ installs, commands }`: the install commands (to check) and the rest (to run), in order.
 */
export function shellCommands(code) {
  const joined = code.replace(/\\\n\s*/g, ' ');
  const installs = [];
  const commands = [];
  for (const raw of joined.split('\n')) {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (line === '') continue;
    if (installCommand(line) !== null) installs.push(line);
    else commands.push(line);
  }
  return { installs, commands };
}

/**
 * The packages an install command names, or null when the line is not an install command.
 * Understands `[VAR=value …] npm install|i|add [flags] spec…` and `pnpm add [flags] spec…`;
 * several commands joined with `&&` must all be installs.
 * @returns `[{ name, version }]`, version null where the line names none.
 */
export function installCommand(line) {
  const specs = [];
  for (const part of line.split('&&')) {
    const words = part.trim().split(/\s+/);
    while (words.length > 0 && /^[A-Z_][A-Z0-9_]*=/.test(words[0])) words.shift();
    const [tool, verb, ...rest] = words;
    const isInstall = (tool === 'npm' && ['install', 'i', 'add'].includes(verb)) || (tool === 'pnpm' && verb === 'add');
    if (!isInstall) return null;
    for (const word of rest) {
      if (word.startsWith('-')) continue;
      const at = word.lastIndexOf('@');
      specs.push(at > 0 ? { name: word.slice(0, at), version: word.slice(at + 1) } : { name: word, version: null });
    }
  }
  return specs;
}

/** A name for a block usable as a file name: `packages-core-README-61`. */
export function blockId(block) {
  return `${block.file.replace(/\.md$/, '').replace(/[^\w]+/g, '-')}-${block.line}`;
}

/** The environment a block runs in: the user's shell, without what the test runner added. */
function userEnvironment(app) {
  const env = { ...process.env, PATH: `${join(app, 'node_modules', '.bin')}${delimiter}${process.env.PATH ?? ''}`, npm_config_offline: 'true' };
  for (const key of Object.keys(env)) {
    if (key === 'NODE_OPTIONS' || key.startsWith('VITEST') || key === 'TEST' || (key.startsWith('npm_') && key !== 'npm_config_offline')) delete env[key];
  }
  return env;
}

function spawnCollect(command, args, options, timeoutMs) {
  return new Promise((resolve) => {
    // Its own process group, so that a timeout ends the commands a shell block started too.
    const child = spawn(command, args, { ...options, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const append = (chunk) => {
      output += chunk;
      if (output.length > 200_000) output = output.slice(-100_000);
    };
    child.stdout.on('data', append);
    child.stderr.on('data', append);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, timedOut, output });
    });
  });
}

/**
 * Runs one block in the app at `app`: TypeScript is compiled by esbuild (types stripped, nothing
 * else changed) to an ES module under `<app>/blocks/`, run with Node.js; a shell block runs in
 * bash with `set -e` and the app's `node_modules/.bin` on PATH. Each block runs in a new, empty
 * working directory `<app>/work/<id>/`. Install commands of shell blocks are not run (see
 * `installCommand`: the caller checks them).
 * @param options.code - the code to run instead of the block's (a shrunk copy)
 * @param options.setup - `(workDirectory) => void`, called before the block runs
 * @returns `{ ok, code, output, ms, file, workDirectory }`
 */
export async function runBlock(app, block, { code = block.code, setup, timeoutMs = 180_000 } = {}) {
  const id = blockId(block);
  const workDirectory = join(app, 'work', id);
  mkdirSync(workDirectory, { recursive: true });
  mkdirSync(join(app, 'blocks'), { recursive: true });
  await setup?.(workDirectory);
  let file;
  let command;
  if (block.lang === 'sh') {
    const { commands } = shellCommands(code);
    file = join(app, 'blocks', `${id}.sh`);
    writeFileSync(file, ['set -euo pipefail', ...commands].join('\n') + '\n');
    command = ['bash', [file]];
  } else {
    let compiled = code;
    if (block.lang === 'ts') {
      try {
        compiled = (await transform(code, { loader: 'ts', format: 'esm', target: 'node20', sourcefile: `${block.file}:${block.line}` })).code;
      } catch (error) {
        return { ok: false, code: null, timedOut: false, output: `esbuild could not compile the block: ${error.message}`, ms: 0, file: null, workDirectory };
      }
    }
    file = join(app, 'blocks', `${id}.mjs`);
    writeFileSync(file, compiled);
    command = ['node', [file]];
  }
  const started = performance.now();
  const result = await spawnCollect(command[0], command[1], { cwd: workDirectory, env: userEnvironment(app) }, timeoutMs);
  const ms = performance.now() - started;
  return { ok: result.code === 0, code: result.code, timedOut: result.timedOut, output: result.output, ms, file, workDirectory };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const block of collectReadmeBlocks()) {
    console.log(`${block.file}:${block.line} ${block.lang} ${block.skip === null ? 'run' : `not run: ${block.skip}`}`);
  }
}
