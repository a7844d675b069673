// The package-boundary rules of eslint.config.js (issue 26, item 5): which @levelskip package may
// import which. One rule implementation, registered under one name per boundary so that each
// boundary has its own `files` and `ignores` in the flat config (a second config object setting
// the same rule name would replace the first one's options for the files both match).
//
// An import's target package is read from the specifier:
// - `@levelskip/<name>` or `@levelskip/<name>/<subpath>`: package `@levelskip/<name>`;
// - a relative specifier that resolves into `packages/<dir>/`: that package (its package.json
//   `name`), so `../../backend-tfjs/src/index.js` counts as importing @levelskip/backend-tfjs;
// - anything else (node:, npm packages, files outside packages/): not a package arrow.
// Every way to name a module is checked: import and export … from, import type, import(),
// require(), `import x = require()` and `typeof import()` types. A package importing itself is allowed.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const packagesDir = path.join(root, 'packages');

const names = new Map();

/** The package name of packages/<dir> (its package.json `name`, else `@levelskip/<dir>`). */
function packageNameOf(dir) {
  if (!names.has(dir)) {
    const manifest = path.join(packagesDir, dir, 'package.json');
    let name = `@levelskip/${dir}`;
    if (existsSync(manifest)) {
      const parsed = JSON.parse(readFileSync(manifest, 'utf8'));
      if (typeof parsed.name === 'string') name = parsed.name;
    }
    names.set(dir, name);
  }
  return names.get(dir);
}

/** The package an absolute file path lies in, or undefined outside packages/<dir>/. */
function packageOfPath(file) {
  const relative = path.relative(packagesDir, file);
  if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) return undefined;
  const dir = relative.split(path.sep)[0];
  return relative.includes(path.sep) ? packageNameOf(dir) : undefined;
}

/** The @levelskip package `specifier` names, seen from `file`; undefined when it names none. */
export function targetPackage(specifier, file) {
  const scoped = /^(@levelskip\/[^/]+)/.exec(specifier);
  if (scoped) return scoped[1];
  if (specifier.startsWith('./') || specifier.startsWith('../')) return packageOfPath(path.resolve(path.dirname(file), specifier));
  return undefined;
}

/** `@levelskip/backend-*` → a RegExp matching package names; `*` stands for any characters but `/`. */
function patternToRegExp(pattern) {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*');
  return new RegExp(`^${escaped}$`);
}

/** The string a module-naming node holds, when it is a literal. */
function literalValue(node) {
  if (!node) return undefined;
  if (node.type === 'Literal' && typeof node.value === 'string') return node.value;
  if (node.type === 'TemplateLiteral' && node.expressions.length === 0) return node.quasis[0].value.cooked;
  // typeof import('x') in a type: TSImportType's argument is a TSLiteralType.
  if (node.type === 'TSLiteralType') return literalValue(node.literal);
  return undefined;
}

/**
 * A rule that reports imports of the packages in `options.forbid` except those in `options.allow`
 * (both patterns), with `options.because` as the reason.
 */
function boundaryRule(description) {
  return {
    meta: {
      type: 'problem',
      docs: { description },
      schema: [
        {
          type: 'object',
          properties: {
            forbid: { type: 'array', items: { type: 'string' }, minItems: 1 },
            allow: { type: 'array', items: { type: 'string' } },
            because: { type: 'string' },
          },
          required: ['forbid', 'because'],
          additionalProperties: false,
        },
      ],
      messages: {
        forbidden: "{{self}} may not import {{target}} ('{{specifier}}'): {{because}}",
      },
    },
    create(context) {
      const [{ forbid, allow = [], because }] = context.options;
      const patterns = forbid.map(patternToRegExp);
      const allowed = allow.map(patternToRegExp);
      const file = context.physicalFilename ?? context.filename;
      const self = packageOfPath(file) ?? path.relative(root, file);
      const check = (node, source) => {
        const specifier = literalValue(source);
        if (specifier === undefined) return;
        const target = targetPackage(specifier, file);
        if (target === undefined || target === self) return;
        if (patterns.some((pattern) => pattern.test(target)) && !allowed.some((pattern) => pattern.test(target))) {
          context.report({ node, messageId: 'forbidden', data: { self, target, specifier, because } });
        }
      };
      return {
        ImportDeclaration: (node) => check(node, node.source),
        ExportNamedDeclaration: (node) => check(node, node.source),
        ExportAllDeclaration: (node) => check(node, node.source),
        ImportExpression: (node) => check(node, node.source),
        TSImportType: (node) => check(node, node.argument),
        TSExternalModuleReference: (node) => check(node, node.expression),
        CallExpression: (node) => {
          if (node.callee.type === 'Identifier' && node.callee.name === 'require' && node.arguments.length === 1) check(node, node.arguments[0]);
        },
      };
    },
  };
}

/** The local plugin: `levelskip/<boundary>` rules, configured in eslint.config.js. */
export default {
  meta: { name: 'levelskip-package-boundaries' },
  rules: {
    'core-imports-no-package': boundaryRule('core is the root of the package graph: it imports no other @levelskip package'),
    'samplers-import-no-backend': boundaryRule('samplers run on any backend through core interfaces, so they import no backend'),
    'backends-stand-alone': boundaryRule('a backend depends only on core: it imports no other backend, no samplers and no trainer'),
    'trainer-imports-only-its-backend': boundaryRule('the tfjs trainer imports only core, backend-tfjs and datasets'),
    'nothing-imports-cli': boundaryRule('the CLI is a leaf: nothing outside packages/cli imports @levelskip/cli'),
  },
};
