/**
 * The package-boundary lint rules (eslint/package-boundaries.js, configured in eslint.config.js):
 * each fires on a snippet that crosses its boundary and stays silent on allowed imports, linted
 * through ESLint's Node API with the repository's own config and a file path inside each package.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';
import { backendBoundaryExceptions } from '../../eslint.config.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
let eslint: ESLint;

beforeAll(() => {
  // The repository's eslint.config.js, as `pnpm lint` runs it; the override only silences rules
  // unrelated to imports so the snippets can stay minimal.
  eslint = new ESLint({ cwd: root, overrideConfig: { rules: { '@typescript-eslint/no-unused-vars': 'off' } } });
});

/** The boundary rules that fire on `code` as the file `filePath` (relative to the root). */
async function boundaryViolations(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, filePath) });
  const messages = result!.messages;
  // A parse error or an ignored file would make every "does not fire" case pass vacuously.
  expect(messages.filter((m) => m.fatal === true || m.ruleId === null), JSON.stringify(messages)).toEqual([]);
  return messages.filter((m) => m.ruleId?.startsWith('levelskip/')).map((m) => m.ruleId!);
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
    // Tests are not exempt as a whole: only the files listed in eslint.config.js are.
    ['packages/backend-onnx/test/x.test.ts', "import { createTfjsBackend } from '@levelskip/backend-tfjs';"],
    ['packages/backend-tfjs/test/x.test.ts', "import { sample } from '@levelskip/samplers';"],
  ],
  [
    ['packages/backend-onnx/src/x.ts', "import { resolvePrediction } from '@levelskip/core';"],
    ['packages/backend-onnx/test/x.test.ts', "import { createOnnxBackend } from '@levelskip/backend-onnx';"],
    ['packages/backend-tfjs/test/x.test.ts', "import { bundleChildScript } from '../../core/src/testing/faults/index.js';"],
    ['packages/backend-tfjs/src/x.ts', "import * as tf from '@tensorflow/tfjs-core';"],
    ['packages/backend-onnx/test/parity-tfjs.test.ts', "import { createTfjsBackend } from '@levelskip/backend-tfjs';\nimport { sample } from '@levelskip/samplers';"],
  ],
);

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

describe('the listed exceptions to levelskip/backends-stand-alone', () => {
  it.each(backendBoundaryExceptions)('%s exists and still crosses the boundary (else delete its line)', async (file) => {
    expect(existsSync(path.join(root, file))).toBe(true);
    // Its own code, linted as a sibling file that is not on the list.
    const moved = file.replace(/(\.test)?(\.[cm]?[jt]s)$/, '-moved$1$2');
    expect(moved).not.toBe(file);
    const fired = await boundaryViolations(moved, readFileSync(path.join(root, file), 'utf8'));
    expect(fired.length).toBeGreaterThan(0);
    expect(new Set(fired)).toEqual(new Set(['levelskip/backends-stand-alone']));
  });

  it('lists no src/ file', () => {
    expect(backendBoundaryExceptions.filter((file) => file.includes('/src/'))).toEqual([]);
  });
});
