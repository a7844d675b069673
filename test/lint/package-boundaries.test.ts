/**
 * The package-boundary lint rules (eslint/package-boundaries.js, configured in eslint.config.js):
 * each fires on a snippet that crosses its boundary and stays silent on allowed imports, linted
 * through ESLint's Node API with the repository's own config and a file path inside each package.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
let eslint: ESLint;

beforeAll(() => {
  // The repository's eslint.config.js, as `pnpm lint` runs it; the override only silences rules
  // unrelated to imports so the snippets can stay minimal.
  eslint = new ESLint({ cwd: root, overrideConfig: { rules: { '@typescript-eslint/no-unused-vars': 'off' } } });
});

/** The import rules (the boundary rules and the runtime-import rule) that fire on `code` as the file `filePath` (relative to the root). */
async function importViolations(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, filePath) });
  const messages = result!.messages;
  // A parse error or an ignored file would make every "does not fire" case pass vacuously.
  expect(messages.filter((m) => m.fatal === true || m.ruleId === null), JSON.stringify(messages)).toEqual([]);
  return messages.filter((m) => m.ruleId?.startsWith('levelskip/') || m.ruleId === 'no-restricted-imports').map((m) => m.ruleId!);
}

/** The boundary rules that fire on `code` as the file `filePath` (relative to the root). */
async function boundaryViolations(filePath: string, code: string): Promise<string[]> {
  return (await importViolations(filePath, code)).filter((id) => id.startsWith('levelskip/'));
}

type Case = [file: string, code: string];

function rule(name: string, violations: Case[], allowed: Case[]): void {
  describe(`levelskip/${name}`, () => {
    it.each(violations)('fires: %s: %s', async (file, code) => {
      expect(await boundaryViolations(file, code)).toEqual([`levelskip/${name}`]);
    });
    it.each(allowed)('does not fire: %s: %s', async (file, code) => {
      expect(await boundaryViolations(file, code)).toEqual([]);
    });
  });
}

rule(
  'core-imports-no-package',
  [
    ['packages/core/src/backend/x.ts', "import { sample } from '@levelskip/samplers';"],
    ['packages/core/src/backend/x.ts', "export { createTfjsBackend } from '@levelskip/backend-tfjs';"],
    ['packages/core/src/backend/x.ts', "import { ddim } from '../../../samplers/src/index.js';"],
    ['packages/core/src/backend/x.ts', "export type Options = import('@levelskip/pipeline').CreatePipelineOptions;"],
    ['packages/core/test/x.test.ts', "const onnx = await import('@levelskip/backend-onnx');"],
    ['packages/core/scripts/x.mjs', "const metrics = require('@levelskip/metrics');"],
  ],
  [
    ['packages/core/src/backend/x.ts', "import { LevelskipError } from '../errors/levelskip-error.js';"],
    ['packages/core/test/x.test.ts', "import { createReferenceBackend } from '@levelskip/core/testing';"],
    ['packages/core/src/backend/x.ts', "import { z } from 'zod/mini';"],
    ['packages/core/src/backend/x.ts', "import { readFile } from 'node:fs/promises';"],
  ],
);

rule(
  'samplers-import-no-backend',
  [
    ['packages/samplers/src/x.ts', "import { createOnnxBackend } from '@levelskip/backend-onnx';"],
    ['packages/samplers/src/x.ts', "import type { TfjsBackend } from '@levelskip/backend-tfjs';"],
    ['packages/samplers/test/x.test.ts', "const tfjs = await import('@levelskip/backend-tfjs');"],
    ['packages/samplers/test/x.test.ts', "import { createTfjsBackend } from '../../backend-tfjs/src/index.js';"],
    ['packages/samplers/src/x.ts', "import { train } from '@levelskip/train-tfjs';"],
  ],
  [
    ['packages/samplers/src/x.ts', "import { LevelskipError, type TensorOps } from '@levelskip/core';"],
    ['packages/samplers/test/x.test.ts', "import { referenceOps } from '@levelskip/core/testing';"],
    ['packages/samplers/test/x.test.ts', "import { ddim } from '../src/index.js';"],
  ],
);

rule(
  'backends-stand-alone',
  [
    ['packages/backend-onnx/src/x.ts', "import { createTfjsBackend } from '@levelskip/backend-tfjs';"],
    ['packages/backend-tfjs/src/x.ts', "export * from '@levelskip/backend-onnx';"],
    ['packages/backend-tfjs/src/x.ts', "import { ddim } from '@levelskip/samplers';"],
    ['packages/backend-onnx/src/x.ts', "import { sample } from '../../samplers/src/sample.js';"],
    ['packages/backend-onnx/src/x.ts', "import tfjs = require('@levelskip/backend-tfjs');"],
    // Tests and scripts are not exempt: cross-backend ones live in test/integration.
    ['packages/backend-onnx/test/x.test.ts', "import { createTfjsBackend } from '@levelskip/backend-tfjs';"],
    ['packages/backend-tfjs/test/x.test.ts', "import { sample } from '@levelskip/samplers';"],
    ['packages/backend-onnx/test/parity-tfjs.test.ts', "import { createTfjsBackend } from '@levelskip/backend-tfjs';"],
    ['packages/backend-onnx/scripts/bench-predict.mjs', "const { ddim } = await import('@levelskip/samplers');"],
    ['packages/backend-tfjs/test/integration/samplers.test.ts', "import { ddim } from '../../../samplers/src/index.js';"],
    // The trainer depends on backend-tfjs, never the reverse (a cycle; no deprecated re-export).
    ['packages/backend-tfjs/src/index.ts', "export { train } from '@levelskip/train-tfjs';"],
    ['packages/backend-tfjs/test/x.test.ts', "import { train } from '../../train-tfjs/src/index.js';"],
    ['packages/backend-onnx/src/x.ts', "import type { TrainOptions } from '@levelskip/train-tfjs';"],
  ],
  [
    ['packages/backend-onnx/src/x.ts', "import { resolvePrediction } from '@levelskip/core';"],
    ['packages/backend-onnx/test/x.test.ts', "import { createOnnxBackend } from '@levelskip/backend-onnx';"],
    ['packages/backend-tfjs/test/x.test.ts', "import { bundleChildScript } from '../../core/src/testing/faults/index.js';"],
    ['packages/backend-tfjs/src/x.ts', "import * as tf from '@tensorflow/tfjs-core';"],
    ['packages/backend-tfjs/src/x.ts', "export { loadMnist } from '@levelskip/datasets';"],
  ],
);

rule(
  'trainer-imports-only-its-backend',
  [
    ['packages/train-tfjs/src/x.ts', "import { createOnnxBackend } from '@levelskip/backend-onnx';"],
    ['packages/train-tfjs/src/x.ts', "import { ddim } from '@levelskip/samplers';"],
    ['packages/train-tfjs/test/x.test.ts', "const { sample } = await import('../../samplers/src/index.js');"],
    ['packages/train-tfjs/scripts/x.mjs', "import { loadPretrained } from '@levelskip/pretrained';"],
    ['packages/train-tfjs/src/x.ts', "export type { Pipeline } from '@levelskip/pipeline';"],
  ],
  [
    ['packages/train-tfjs/src/x.ts', "import { createTfjsBlocks, selectEngine } from '@levelskip/backend-tfjs';"],
    ['packages/train-tfjs/src/x.ts', "import { LevelskipError, type UNetSpec } from '@levelskip/core';"],
    ['packages/train-tfjs/test/x.test.ts', "import { fixtureWeights } from '@levelskip/core/testing';\nimport { loadMnist } from '@levelskip/datasets';"],
    ['packages/train-tfjs/test/x.test.ts', "import { train } from '../src/index.js';"],
    ['packages/train-tfjs/src/x.ts', "import * as tf from '@tensorflow/tfjs';"],
  ],
);

describe('test/integration: where backends and samplers meet', () => {
  it('may import both backends and the samplers', async () => {
    const code = "import { createOnnxBackend } from '@levelskip/backend-onnx';\nimport { createTfjsBackend } from '@levelskip/backend-tfjs';\nimport { sample } from '@levelskip/samplers';";
    expect(await importViolations('test/integration/x.test.ts', code)).toEqual([]);
  });

  it('holds the tests and benchmark that moved out of the backend packages, which no longer have them', () => {
    expect(readdirSync(path.join(root, 'test/integration'))).toEqual(expect.arrayContaining(['parity-onnx-tfjs.test.ts', 'samplers-tfjs.test.ts', 'readme-onnx-browser.test.ts']));
    expect(readdirSync(path.join(root, 'test/integration/scripts'))).toContain('bench-predict.mjs');
    for (const moved of ['packages/backend-onnx/test/parity-tfjs.test.ts', 'packages/backend-tfjs/test/integration/samplers.test.ts', 'packages/backend-onnx/scripts/bench-predict.mjs']) {
      expect(existsSync(path.join(root, moved)), moved).toBe(false);
    }
  });
});

describe('compute runtimes (no-restricted-imports)', () => {
  it.each([
    ['packages/train-tfjs/src/x.ts', "import * as ort from 'onnxruntime-node';"],
    ['packages/samplers/src/x.ts', "import * as tf from '@tensorflow/tfjs';"],
    ['test/integration/x.test.ts', "import * as tf from '@tensorflow/tfjs';"],
  ])('fires: %s: %s', async (file, code) => {
    expect(await importViolations(file, code)).toEqual(['no-restricted-imports']);
  });

  it.each([
    ['packages/train-tfjs/src/x.ts', "import * as tf from '@tensorflow/tfjs';"],
    ['packages/backend-onnx/src/x.ts', "import type * as ort from 'onnxruntime-common';"],
  ])('does not fire: %s: %s', async (file, code) => {
    expect(await importViolations(file, code)).toEqual([]);
  });
});

rule(
  'nothing-imports-cli',
  [
    ['packages/pipeline/src/x.ts', "import { main } from '@levelskip/cli';"],
    ['packages/pretrained/src/x.ts', "export type Command = import('@levelskip/cli/commands').Command;"],
    ['bench/x.mjs', "const cli = require('@levelskip/cli');"],
    ['examples/web/src/x.ts', "const cli = await import('@levelskip/cli');"],
    ['packages/pipeline/test/x.test.ts', "import { parseFlags } from '../../cli/src/options/parse-flags.js';"],
  ],
  [
    ['packages/cli/src/x.ts', "import { main } from '@levelskip/cli';"],
    ['packages/cli/test/x.test.ts', "import { main } from '../src/index.js';"],
    ['packages/pipeline/src/x.ts', "const onnx = await import('@levelskip/backend-onnx');"],
    ['bench/x.mjs', "import { sample } from '@levelskip/samplers';"],
  ],
);
