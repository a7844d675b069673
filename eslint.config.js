// Flat config. The one architectural rule: only backend packages may import compute runtimes.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

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
);
