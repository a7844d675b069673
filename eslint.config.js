// Flat config. The architectural rules: only backend packages may import compute runtimes, and
// the package-boundary rules (issue 26, item 5; eslint/package-boundaries.js) say which
// @levelskip package may import which: core imports none, samplers import no backend, a backend
// imports no other backend and no samplers, and only packages/cli imports the CLI.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import packageBoundaries from './eslint/package-boundaries.js';

const code = ['**/*.{js,mjs,cjs,jsx,ts,mts,cts,tsx}'];

/**
 * Files allowed to cross the "a backend imports no other backend and no samplers" boundary:
 * cross-backend parity tests and benchmarks that still live inside a backend package. Issue 26
 * (item 4) plans a private integration package (or test/integration at the root) for them; move
 * each file there and delete its line here. Every src/ file stays under the rule.
 */
export const backendBoundaryExceptions = [
  'packages/backend-onnx/test/parity-tfjs.test.ts', // ONNX vs tfjs predictions and samples (imports backend-tfjs, samplers)
  'packages/backend-tfjs/test/integration/samplers.test.ts', // tfjs vs reference samples (imports samplers)
  'packages/backend-onnx/scripts/bench-predict.mjs', // predict() timings, ONNX beside tfjs (imports backend-tfjs, samplers)
];

const runtimeImports = {
  patterns: [
    {
      group: ['@tensorflow/*', 'onnxruntime-*'],
      message: 'Only packages/backend-* may import compute runtimes; use @levelskip/core interfaces instead.',
    },
  ],
};

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/coverage/**', 'out/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        Buffer: 'readonly',
        performance: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': ['error', runtimeImports],
      '@typescript-eslint/no-restricted-imports': 'off',
    },
  },
  {
    files: ['packages/backend-*/**'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    // Examples are user code: a user picks the runtime and hands it to the backend
    // (createOnnxBackend({ ort })), so importing onnxruntime-web or tfjs there is the intended use.
    files: ['examples/**'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    // Dev-only: the script that trains FD-LeNet's classifier (not shipped; the package itself runs it in plain TypeScript).
    files: ['packages/metrics/scripts/**'],
    rules: { 'no-restricted-imports': 'off' },
  },
  // Package boundaries: one rule name per boundary, so each keeps its own files and ignores.
  { files: code, plugins: { levelskip: packageBoundaries } },
  {
    files: ['packages/core/**'],
    rules: {
      'levelskip/core-imports-no-package': [
        'error',
        { forbid: ['@levelskip/*'], because: 'core is the spec-only root of the package graph; move the code that needs another package out of core' },
      ],
    },
  },
  {
    files: ['packages/samplers/**'],
    rules: {
      'levelskip/samplers-import-no-backend': [
        'error',
        { forbid: ['@levelskip/backend-*'], because: 'samplers run on any backend through core interfaces (Denoiser, TensorOps); test them with the reference backend from @levelskip/core/testing' },
      ],
    },
  },
  {
    files: ['packages/backend-*/**'],
    ignores: backendBoundaryExceptions,
    rules: {
      'levelskip/backends-stand-alone': [
        'error',
        {
          forbid: ['@levelskip/backend-*', '@levelskip/samplers'],
          because: 'a backend depends only on core; cross-backend tests belong in the integration package (issue 26), not inside a backend',
        },
      ],
    },
  },
  {
    files: code,
    ignores: ['packages/cli/**'],
    rules: {
      'levelskip/nothing-imports-cli': ['error', { forbid: ['@levelskip/cli'], because: 'the CLI is a leaf; import the library packages it is built on instead' }],
    },
  },
);
