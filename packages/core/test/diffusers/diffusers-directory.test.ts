/**
 * diffusers directories through `loadCheckpoint`, end to end on a tiny model written here: the
 * weights of `tinySpec()` under diffusers names with a hand-written config.json, as a UNet2DModel
 * directory (F32, the fp16 variant, deprecated attention names, PyTorch `.bin`) and as a pipeline
 * directory; and refusals that come before any weight is read.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serializeCheckpoint } from '../../src/checkpoint/checkpoint-format.js';
import { parseDiffusersCheckpoint } from '../../src/checkpoint/diffusers/diffusers-checkpoint.js';
import { serializeSafetensors } from '../../src/checkpoint/safetensors.js';
import { LevelskipError } from '../../src/errors/levelskip-error.js';
import { noiseScheduleFromConfig } from '../../src/noise/noise-schedule.js';
import type { HostTensor } from '../../src/backend/tensor-ops.js';
import { loadCheckpoint } from '../../src/node/checkpoint-files.js';
import { isDiffusersDirectory, loadDiffusersDirectory } from '../../src/node/diffusers-directory.js';
import { sameSpec } from '../../src/spec/unet-spec.js';
import { deterministicWeights, tinySpec } from '../checkpoint/deterministic-weights.js';

const spec = tinySpec();
const weights = deterministicWeights(spec);

/** tinySpec() as a diffusers config (imageSize 8, 1 channel, widths 8 and 16, attention at level 1 and in the middle, groups 4). */
const config = {
  _class_name: 'UNet2DModel',
  _diffusers_version: '0.31.0',
  act_fn: 'silu',
  attention_head_dim: null,
  block_out_channels: [8, 16],
  down_block_types: ['DownBlock2D', 'AttnDownBlock2D'],
  in_channels: 1,
  layers_per_block: 1,
  norm_num_groups: 4,
  out_channels: 1,
  sample_size: 8,
  up_block_types: ['AttnUpBlock2D', 'UpBlock2D'],
};

const ddimScheduler = { _class_name: 'DDIMScheduler', _diffusers_version: '0.31.0', num_train_timesteps: 1000, beta_schedule: 'squaredcos_cap_v2', clip_sample: false, steps_offset: 1, timestep_spacing: 'trailing' };
const modelIndex = { _class_name: 'DDPMPipeline', _diffusers_version: '0.31.0', scheduler: ['diffusers', 'DDIMScheduler'], unet: ['diffusers', 'UNet2DModel'] };

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));

let root: string;
let counter = 0;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'levelskip-diffusers-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

interface DirectoryFiles {
  readonly [relativePath: string]: unknown;
}

/** Writes `files` (objects as JSON, Uint8Array as is) into a fresh directory. */
async function directory(files: DirectoryFiles): Promise<string> {
  const dir = join(root, `d${counter++}`);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), content instanceof Uint8Array ? content : `${JSON.stringify(content, null, 2)}\n`);
  }
  await mkdir(dir, { recursive: true });
  return dir;
}

const f32 = serializeSafetensors(weights, { dtype: 'F32', metadata: { format: 'pt' } });
const f16 = serializeSafetensors(weights, { dtype: 'F16', metadata: { format: 'pt' } });
const garbage = new TextEncoder().encode('this is not a weights file at all');

function expectSameWeights(loaded: ReadonlyMap<string, HostTensor>): void {
  expect([...loaded.keys()].sort()).toEqual([...weights.keys()].sort());
  for (const [name, tensor] of weights) {
    expect(loaded.get(name)!.shape).toEqual(tensor.shape);
    expect(loaded.get(name)!.data).toEqual(tensor.data);
  }
}

async function loadError(dir: string, options = {}): Promise<LevelskipError> {
  try {
    await loadCheckpoint(dir, options);
  } catch (error) {
    if (LevelskipError.is(error)) return error;
    throw error;
  }
  throw new Error('expected loadCheckpoint to fail');
}

/** The tensor names with the attention weights under their deprecated names. */
function deprecatedNames(tensors: ReadonlyMap<string, HostTensor>): Map<string, HostTensor> {
  const renamed: Record<string, string> = { to_q: 'query', to_k: 'key', to_v: 'value', 'to_out.0': 'proj_attn' };
  return new Map([...tensors].map(([name, tensor]) => [name.replace(/\.attentions\.(\d+)\.(to_q|to_k|to_v|to_out\.0)\./, (_m, j: string, layer: string) => `.attentions.${j}.${renamed[layer]}.`), tensor]));
}

describe('a UNet2DModel directory (config.json + diffusion_pytorch_model.safetensors)', () => {
  it('loads through loadCheckpoint: the translated spec, the weights, a manifest with the default noise schedule', async () => {
    const dir = await directory({ 'config.json': config, 'diffusion_pytorch_model.safetensors': f32 });
    expect(await isDiffusersDirectory(dir)).toBe(true);
    const loaded = await loadCheckpoint(dir);
    expect(sameSpec(loaded.spec, spec)).toBe(true);
    expectSameWeights(loaded.weights);
    expect(loaded.manifest).toMatchObject({ format: 'levelskip-checkpoint', formatVersion: 1, dtype: 'F32', weightsFile: 'model.safetensors' });
    expect(loaded.manifest.sampling).toBeUndefined();
    expect(loaded.manifest.training).toMatchObject({
      origin: 'diffusers UNet2DModel (diffusers 0.31.0)',
      config: join(dir, 'config.json'),
      weights: join(dir, 'diffusion_pytorch_model.safetensors'),
      noiseSchedule: { kind: 'linear', betaStart: 1e-4, betaEnd: 0.02, trainTimesteps: 1000 },
    });
    expect(Number.isNaN(Date.parse(loaded.manifest.createdAt))).toBe(false);
  });

  it("what it loads saves as a levelskip checkpoint (the manifest's spec and settings are valid)", async () => {
    const dir = await directory({ 'config.json': config, 'scheduler_config.json': ddimScheduler, 'diffusion_pytorch_model.safetensors': f32 });
    const loaded = await loadCheckpoint(dir);
    const files = serializeCheckpoint({ spec: loaded.spec, weights: loaded.weights, training: loaded.manifest.training!, sampling: loaded.manifest.sampling! });
    expect(JSON.parse(files.manifest).sampling).toEqual(loaded.manifest.sampling);
  });

  it('takes the scheduler beside the model (as google/ddpm-cifar10-32 keeps it): T, the noise schedule, the sampler settings', async () => {
    const dir = await directory({ 'config.json': config, 'scheduler_config.json': { ...ddimScheduler, num_train_timesteps: 500 }, 'diffusion_pytorch_model.safetensors': f32 });
    const loaded = await loadCheckpoint(dir);
    expect(loaded.spec.trainTimesteps).toBe(500);
    expect(loaded.manifest.training).toMatchObject({ scheduler: `DDIMScheduler (${join(dir, 'scheduler_config.json')})`, noiseSchedule: { kind: 'cosine', s: 0.008, maxBeta: 0.999, trainTimesteps: 500 } });
    expect(noiseScheduleFromConfig(loaded.manifest.training!['noiseSchedule'] as never).trainTimesteps).toBe(500);
    expect(loaded.manifest.sampling).toMatchObject({ sampler: 'ddim', steps: 50, eta: 0, clip: false, stepsOffset: 1, timestepSpacing: 'trailing' });
  });

  it('loads the fp16 variant (diffusion_pytorch_model.fp16.safetensors) when it is the only weights file', async () => {
    const dir = await directory({ 'config.json': config, 'diffusion_pytorch_model.fp16.safetensors': f16 });
    const loaded = await loadCheckpoint(dir);
    expect(loaded.manifest.dtype).toBe('F16');
    // deterministicWeights are k/64, exact in float16.
    expectSameWeights(loaded.weights);
    expect(loaded.manifest.training!['weights']).toBe(join(dir, 'diffusion_pytorch_model.fp16.safetensors'));
  });

  it('prefers full precision when both are there, and loads the variant asked for', async () => {
    const halved = new Map([...weights].map(([name, t]) => [name, { shape: t.shape, data: t.data.map((v) => v / 2) }]));
    const dir = await directory({ 'config.json': config, 'diffusion_pytorch_model.safetensors': f32, 'diffusion_pytorch_model.fp16.safetensors': serializeSafetensors(halved, { dtype: 'F16' }) });
    expect((await loadCheckpoint(dir)).manifest.dtype).toBe('F32');
    const variant = await loadCheckpoint(dir, { variant: 'fp16' });
    expect(variant.manifest.dtype).toBe('F16');
    expect(variant.weights.get('conv_in.weight')!.data).toEqual(weights.get('conv_in.weight')!.data.map((v) => v / 2));
    expect((await loadError(dir, { variant: 'bf16' })).message).toMatch(/has no weights file of variant "bf16": expected one of diffusion_pytorch_model\.bf16\.safetensors, diffusion_pytorch_model\.bf16\.bin/);
  });

  it('renames deprecated attention names (query, key, value, proj_attn) at load', async () => {
    const dir = await directory({ 'config.json': config, 'diffusion_pytorch_model.safetensors': serializeSafetensors(deprecatedNames(weights)) });
    expect([...deprecatedNames(weights).keys()].filter((name) => /\.(query|key|value|proj_attn)\./.test(name))).toHaveLength(32); // 4 attention modules (down_blocks.1: 1, up_blocks.0: 2, mid_block: 1) × 4 layers × weight and bias
    expectSameWeights((await loadCheckpoint(dir)).weights);
  });

  it('reads diffusion_pytorch_model.bin (torch.save, float16, deprecated names; written by torch, see scripts/dev/diffusers-bin-directory-fixture.py)', async () => {
    const dir = join(fixtures, 'unet-bin');
    const loaded = await loadCheckpoint(dir);
    expect(sameSpec(loaded.spec, spec)).toBe(true);
    expectSameWeights(loaded.weights);
    expect(loaded.manifest.dtype).toBe('F32');
    expect(loaded.manifest.training!['weights']).toBe(join(dir, 'diffusion_pytorch_model.bin'));
  });

  it('a levelskip checkpoint (model.json) beside a config.json is loaded as a levelskip checkpoint', async () => {
    const files = serializeCheckpoint({ spec, weights, training: { step: 7 } });
    const dir = await directory({ 'model.json': JSON.parse(files.manifest), 'model.safetensors': files.weights, 'config.json': { _class_name: 'UNet2DConditionModel' } });
    expect((await loadCheckpoint(dir)).manifest.training).toEqual({ step: 7 });
  });
});

describe('a pipeline directory (model_index.json, unet/, scheduler/)', () => {
  it('loads the UNet with the scheduler settings', async () => {
    const dir = await directory({
      'model_index.json': modelIndex,
      'unet/config.json': config,
      'unet/diffusion_pytorch_model.safetensors': f32,
      'scheduler/scheduler_config.json': ddimScheduler,
    });
    const loaded = await loadCheckpoint(dir);
    expect(sameSpec(loaded.spec, spec)).toBe(true);
    expectSameWeights(loaded.weights);
    expect(loaded.manifest.training).toMatchObject({ pipeline: 'DDPMPipeline', config: join(dir, 'unet', 'config.json'), noiseSchedule: { kind: 'cosine' } });
    expect(loaded.manifest.sampling).toMatchObject({ sampler: 'ddim', timestepSpacing: 'trailing' });
  });

  it('also reads the older Hub layout, everything at the top beside model_index.json', async () => {
    const dir = await directory({ 'model_index.json': modelIndex, 'config.json': config, 'diffusion_pytorch_model.safetensors': f32, 'scheduler_config.json': ddimScheduler });
    expect((await loadCheckpoint(dir)).manifest.sampling?.sampler).toBe('ddim');
  });

  it('refuses a latent pipeline, naming the component, before reading any weight', async () => {
    const dir = await directory({
      'model_index.json': { _class_name: 'LDMPipeline', unet: ['diffusers', 'UNet2DModel'], vqvae: ['diffusers', 'VQModel'], scheduler: ['diffusers', 'DDIMScheduler'] },
      'unet/config.json': config,
      'unet/diffusion_pytorch_model.safetensors': garbage,
      'scheduler/scheduler_config.json': ddimScheduler,
    });
    const error = await loadError(dir);
    expect(error.code).toBe('UNSUPPORTED');
    expect(error.message).toMatch(/model_index\.json: 1 field levelskip cannot run:\n {2}vqvae: the component "vqvae" \("VQModel"\) is not supported/);
  });

  it('says when the UNet is missing', async () => {
    const dir = await directory({ 'model_index.json': modelIndex, 'scheduler/scheduler_config.json': ddimScheduler });
    const error = await loadError(dir);
    expect(error.code).toBe('CHECKPOINT_MISSING');
    expect(error.message).toContain('has model_index.json but no unet/config.json');
  });
});

describe('refusals come before any weight is read', () => {
  it('a config levelskip cannot run is reported even when the weights file is garbage', async () => {
    const dir = await directory({ 'config.json': { ...config, down_block_types: ['DownBlock2D', 'AttnSkipDownBlock2D'] }, 'diffusion_pytorch_model.safetensors': garbage });
    const error = await loadError(dir);
    expect(error.code).toBe('UNSUPPORTED');
    expect(error.message).toBe(
      `${join(dir, 'config.json')}: 1 field levelskip cannot run:\n  down_block_types[1]: "AttnSkipDownBlock2D" is not supported; supported: "DownBlock2D", "AttnDownBlock2D"`,
    );
  });

  it('so is a scheduler levelskip cannot run', async () => {
    const dir = await directory({ 'config.json': config, 'scheduler_config.json': { _class_name: 'DDPMScheduler', variance_type: 'learned_range' }, 'diffusion_pytorch_model.safetensors': garbage });
    const error = await loadError(dir);
    expect(error.code).toBe('UNSUPPORTED');
    expect(error.message).toMatch(/scheduler_config\.json: 1 field levelskip cannot run:\n {2}variance_type: "learned_range"/);
  });

  it('and a conditional U-Net, even without weights', async () => {
    const dir = await directory({ 'config.json': { ...config, _class_name: 'UNet2DConditionModel', cross_attention_dim: 768 } });
    const error = await loadError(dir);
    expect(error.code).toBe('UNSUPPORTED');
    expect(error.message).toContain('_class_name: "UNet2DConditionModel" is not supported; levelskip loads UNet2DModel');
  });

  it('with a good config, garbage weights are a weights error naming the file', async () => {
    const dir = await directory({ 'config.json': config, 'diffusion_pytorch_model.safetensors': garbage });
    const error = await loadError(dir);
    expect(error.code).toBe('CHECKPOINT_CORRUPT');
    expect(error.message.startsWith(join(dir, 'diffusion_pytorch_model.safetensors'))).toBe(true);
  });
});

describe('weights that do not fit', () => {
  it('a missing tensor is WEIGHTS_MISMATCH naming it and the file', async () => {
    const partial = new Map(weights);
    partial.delete('mid_block.attentions.0.to_q.weight');
    const dir = await directory({ 'config.json': config, 'diffusion_pytorch_model.safetensors': serializeSafetensors(partial) });
    const error = await loadError(dir);
    expect(error.code).toBe('WEIGHTS_MISMATCH');
    expect(error.message).toContain(join(dir, 'diffusion_pytorch_model.safetensors'));
    expect(error.message).toContain('mid_block.attentions.0.to_q.weight: missing tensor');
  });

  it('weights of another config are WEIGHTS_MISMATCH', async () => {
    const dir = await directory({ 'config.json': { ...config, layers_per_block: 2 }, 'diffusion_pytorch_model.safetensors': f32 });
    expect((await loadError(dir)).code).toBe('WEIGHTS_MISMATCH');
  });

  it('a file of mixed dtypes is refused, naming the tensors', async () => {
    // A valid safetensors file whose first tensor (by offset) is F16 and the others F32.
    const entries = [...weights].sort(([a], [b]) => (a < b ? -1 : 1));
    const header: Record<string, unknown> = {};
    const chunks: Uint8Array[] = [];
    let offset = 0;
    entries.forEach(([name, tensor], i) => {
      const bytes = i === 0 ? serializeSafetensors(new Map([[name, tensor]]), { dtype: 'F16' }) : new Uint8Array(tensor.data.buffer.slice(0));
      const data = i === 0 ? bytes.subarray(8 + Number(new DataView(bytes.buffer).getBigUint64(0, true))) : bytes;
      header[name] = { dtype: i === 0 ? 'F16' : 'F32', shape: tensor.shape, data_offsets: [offset, offset + data.length] };
      chunks.push(data);
      offset += data.length;
    });
    let json = JSON.stringify(header);
    while ((8 + json.length) % 8 !== 0) json += ' ';
    const file = new Uint8Array(8 + json.length + offset);
    new DataView(file.buffer).setBigUint64(0, BigInt(json.length), true);
    file.set(new TextEncoder().encode(json), 8);
    let at = 8 + json.length;
    for (const chunk of chunks) {
      file.set(chunk, at);
      at += chunk.length;
    }
    const dir = await directory({ 'config.json': config, 'diffusion_pytorch_model.safetensors': file });
    const error = await loadError(dir);
    expect(error.code).toBe('UNSUPPORTED');
    expect(error.message).toMatch(/is stored as F32 but "[^"]+" as F16; levelskip reads weights files of one dtype/);
  });

  it('no weights file: CHECKPOINT_MISSING listing the names looked for', async () => {
    const dir = await directory({ 'config.json': config });
    const error = await loadError(dir);
    expect(error.code).toBe('CHECKPOINT_MISSING');
    expect(error.message).toContain('expected one of diffusion_pytorch_model.safetensors, diffusion_pytorch_model.fp16.safetensors, diffusion_pytorch_model.bin, diffusion_pytorch_model.fp16.bin');
  });

  it('a sharded model is refused with what to do', async () => {
    const dir = await directory({ 'config.json': config, 'diffusion_pytorch_model.safetensors.index.json': { weight_map: {} } });
    const error = await loadError(dir);
    expect(error.code).toBe('UNSUPPORTED');
    expect(error.message).toContain('holds a sharded model');
  });

  it('a directory with neither model.json nor a diffusers config is still a missing checkpoint', async () => {
    const dir = await directory({ 'notes.txt': { hello: 1 } });
    expect(await isDiffusersDirectory(dir)).toBe(false);
    expect((await loadError(dir)).code).toBe('CHECKPOINT_MISSING');
  });

  it('loadDiffusersDirectory refuses a bad variant name', async () => {
    const dir = await directory({ 'config.json': config, 'diffusion_pytorch_model.safetensors': f32 });
    await expect(loadDiffusersDirectory(dir, { variant: '../x' })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
  });
});

describe('from bytes (the browser path)', () => {
  it('parseDiffusersCheckpoint gives what loadCheckpoint gives', () => {
    const loaded = parseDiffusersCheckpoint(
      { config: JSON.stringify(config), schedulerConfig: JSON.stringify(ddimScheduler), modelIndex: JSON.stringify(modelIndex) },
      f16,
      { config: 'unet/config.json', weights: 'unet/diffusion_pytorch_model.fp16.safetensors' },
    );
    expect(sameSpec(loaded.spec, spec)).toBe(true);
    expectSameWeights(loaded.weights);
    expect(loaded.manifest.dtype).toBe('F16');
    expect(loaded.manifest.sampling?.sampler).toBe('ddim');
  });
});

describe("the scheduler's prediction_type becomes the spec's prediction (what samplers read)", () => {
  it.each([
    ['epsilon', 'eps'],
    ['v_prediction', 'v'],
    ['sample', 'sample'],
  ] as const)('prediction_type %s → spec.prediction %s, with sampling settings that agree', (predictionType, expected) => {
    const loaded = parseDiffusersCheckpoint(
      { config: JSON.stringify(config), schedulerConfig: JSON.stringify({ ...ddimScheduler, prediction_type: predictionType }) },
      f32,
      { config: 'config.json', weights: 'diffusion_pytorch_model.safetensors' },
    );
    expect(loaded.spec.prediction).toBe(expected);
    expect(loaded.manifest.sampling?.prediction ?? 'epsilon').toBe(predictionType);
  });

  it('a model.json whose sampling.prediction disagrees with its spec is refused at load, naming both', async () => {
    const files = serializeCheckpoint({ spec: { ...spec, prediction: 'v' }, weights, sampling: { sampler: 'ddim', steps: 10, prediction: 'v_prediction' } });
    const edited = files.manifest.replace('"prediction": "v"', '"prediction": "eps"');
    expect(edited).not.toBe(files.manifest);
    const dir = await directory({ 'model.json': JSON.parse(edited), 'model.safetensors': files.weights });
    await expect(loadCheckpoint(dir)).rejects.toMatchObject({ code: 'CHECKPOINT_CORRUPT', message: expect.stringMatching(/sampling\.prediction is "v_prediction" but spec\.prediction is "eps"/) });
  });
});
