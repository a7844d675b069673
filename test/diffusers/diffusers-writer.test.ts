/**
 * levelskip's diffusers writer against files diffusers itself wrote: for every fixture directory
 * (save_pretrained of diffusers v0.31.0), the spec levelskip loads from it is written back as the
 * very config.json diffusers wrote (every field but `_diffusers_version`), and saveDiffusersModel
 * writes exactly the tensor names (and shapes) of diffusers' own weights file, under the modern
 * attention names. Loading an export in diffusers itself is scripts/dev/diffusers-roundtrip.py
 * (result in fixtures/roundtrip-result.json, checked below).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  diffusersConfigFromSpec,
  loadCheckpoint,
  parseSafetensors,
  readTorchStateDict,
  saveDiffusersModel,
  type HostTensor,
} from '@levelskip/core';

const fixturesDir = fileURLToPath(new URL('./fixtures/', import.meta.url));

interface Fixture {
  readonly name: string;
  readonly directory: string;
  readonly kind: 'unet' | 'pipeline';
  readonly files: string[];
}
const fixtures = (JSON.parse(await readFile(join(fixturesDir, 'fixtures.json'), 'utf8')) as { fixtures: Fixture[] }).fixtures;

let out: string;
beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'levelskip-diffusers-export-'));
});
afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});

/** diffusers' own weights file of a fixture: tensor name → shape. */
async function diffusersTensors(fixture: Fixture): Promise<Map<string, readonly number[]>> {
  const unetDir = join(fixturesDir, fixture.directory, fixture.kind === 'pipeline' ? 'unet' : '');
  const name = fixture.files.map((f) => f.replace(/^unet\//, '')).find((f) => f.startsWith('diffusion_pytorch_model'))!;
  const bytes = new Uint8Array(await readFile(join(unetDir, name)));
  const tensors: Map<string, HostTensor> = name.endsWith('.bin') ? readTorchStateDict(bytes) : parseSafetensors(bytes).tensors;
  return new Map([...tensors].map(([key, tensor]) => [key, tensor.shape]));
}

/** diffusers' `_convert_deprecated_attention_blocks` renaming (v0.31.0 modeling_utils.py). */
function modernName(key: string): string {
  if (!key.includes('.attentions.')) return key;
  return key.replace('.query.', '.to_q.').replace('.key.', '.to_k.').replace('.value.', '.to_v.').replace('.proj_attn.', '.to_out.0.');
}

describe.each(fixtures.map((f) => [f.name, f] as const))('%s', (_name, fixture) => {
  it("diffusersConfigFromSpec(loaded spec) is diffusers' own config.json", async () => {
    const unetDir = join(fixturesDir, fixture.directory, fixture.kind === 'pipeline' ? 'unet' : '');
    const original = JSON.parse(await readFile(join(unetDir, 'config.json'), 'utf8')) as Record<string, unknown>;
    const { spec } = await loadCheckpoint(join(fixturesDir, fixture.directory));
    const written = { ...diffusersConfigFromSpec(spec) } as Record<string, unknown>;
    delete written['_diffusers_version'];
    delete original['_diffusers_version'];
    expect(written).toEqual(original);
  });

  it("saveDiffusersModel writes diffusers' tensor names and shapes (modern attention names)", async () => {
    const { spec, weights } = await loadCheckpoint(join(fixturesDir, fixture.directory));
    const dir = join(out, fixture.name);
    await saveDiffusersModel(dir, { spec, weights });
    const ours = parseSafetensors(new Uint8Array(await readFile(join(dir, 'diffusion_pytorch_model.safetensors')))).tensors;
    const theirs = new Map([...(await diffusersTensors(fixture))].map(([key, shape]) => [modernName(key), shape]));
    expect([...ours.keys()].sort()).toEqual([...theirs.keys()].sort());
    for (const [key, tensor] of ours) expect(tensor.shape).toEqual(theirs.get(key));
  });
});

describe('round trip through diffusers (scripts/dev/diffusers-roundtrip.py, run once and recorded)', () => {
  it('loaded the exported mnist-full with no missing or unexpected keys and matched levelskip to ≤ 1e-5', async () => {
    const result = JSON.parse(await readFile(join(fixturesDir, 'roundtrip-result.json'), 'utf8')) as {
      loading: Record<string, string[]>;
      maxAbsDiff: number;
      tolerance: number;
      cases: unknown[];
    };
    expect(result.loading).toEqual({ missingKeys: [], unexpectedKeys: [], mismatchedKeys: [], errorMessages: [], warnings: [] });
    expect(result.cases.length).toBeGreaterThan(0);
    expect(result.tolerance).toBe(1e-5);
    expect(result.maxAbsDiff).toBeLessThanOrEqual(1e-5);
  });
});
