// Flat config. The architectural rules: only backend packages may import compute runtimes (and
// the tfjs trainer, @levelskip/train-tfjs, TensorFlow.js), and the package-boundary rules (issue
// 26, items 4 and 5; eslint/package-boundaries.js) say which @levelskip package may import which:
// core imports none, samplers import no backend, a backend imports no other backend, no samplers
// and no trainer (tests and scripts included: cross-backend tests live in test/integration), the
// trainer imports only core, backend-tfjs and datasets, and only packages/cli imports the CLI.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import packageBoundaries from './eslint/package-boundaries.js';

const code = ['**/*.{js,mjs,cjs,jsx,ts,mts,cts,tsx}'];

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
    // The tfjs trainer drives tfjs itself (tf.Variable, tf.grad, the optimiser), on the engine
    // backend-tfjs selects; it has no business with ONNX Runtime.
    files: ['packages/train-tfjs/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['onnxruntime-*'], message: '@levelskip/train-tfjs trains on TensorFlow.js only; ONNX Runtime belongs to packages/backend-onnx.' }] },
      ],
    },
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
        { forbid: ['@levelskip/backend-*', '@levelskip/train-*'], because: 'samplers run on any backend through core interfaces (Denoiser, TensorOps); test them with the reference backend from @levelskip/core/testing' },
      ],
    },
  },
  {
    // Every file of a backend package, tests and scripts included.
    files: ['packages/backend-*/**'],
    rules: {
      'levelskip/backends-stand-alone': [
        'error',
        {
          forbid: ['@levelskip/backend-*', '@levelskip/samplers', '@levelskip/train-*'],
          because:
            'a backend depends only on core (a trainer depends on its backend, not the reverse); cross-backend tests and benchmarks belong in test/integration, not inside a backend',
        },
      ],
    },
  },
  {
    files: ['packages/train-tfjs/**'],
    rules: {
      'levelskip/trainer-imports-only-its-backend': [
        'error',
        {
          forbid: ['@levelskip/*'],
          allow: ['@levelskip/core', '@levelskip/backend-tfjs', '@levelskip/datasets'],
          because: 'the tfjs trainer trains backend-tfjs models: it builds on core, backend-tfjs and datasets only; code that also needs samplers or another backend belongs in test/integration',
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
