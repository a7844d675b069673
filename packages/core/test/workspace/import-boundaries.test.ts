// The workspace's one architectural lint rule: only backend packages may import compute runtimes.
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const eslint = new ESLint({ cwd: root });

async function restrictedImportErrors(code: string, filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: `${root}${filePath}` });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('runtime import boundary', () => {
  it('rejects tfjs and onnxruntime imports outside backend packages', async () => {
    const code = "import * as tf from '@tensorflow/tfjs';\nimport * as ort from 'onnxruntime-node';\nexport const x = [tf, ort];\n";
    const errors = await restrictedImportErrors(code, 'packages/samplers/src/boundary-probe.ts');
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(/Only packages\/backend-\*/);
    expect(await restrictedImportErrors(code, 'packages/core/src/boundary-probe.ts')).toHaveLength(2);
  });

  it('allows them inside backend packages', async () => {
    const code = "import * as tf from '@tensorflow/tfjs';\nexport const x = tf;\n";
    expect(await restrictedImportErrors(code, 'packages/backend-tfjs/src/boundary-probe.ts')).toEqual([]);
    expect(await restrictedImportErrors(code, 'packages/backend-onnx/src/boundary-probe.ts')).toEqual([]);
  });
});
