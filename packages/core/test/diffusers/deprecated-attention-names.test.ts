/**
 * The deprecated attention names, renamed as diffusers' `_convert_deprecated_attention_blocks`
 * does (v0.31.0, src/diffusers/models/modeling_utils.py, lines 1295–1337): for each attention
 * path, `query`→`to_q`, `key`→`to_k`, `value`→`to_v`, `proj_attn`→`to_out.0`, weight and bias;
 * `group_norm` unchanged; only paths of attention modules (`mid_block.attentions.j`,
 * `down_blocks.i.attentions.j`, `up_blocks.i.attentions.j`).
 */
import { describe, expect, it } from 'vitest';
import { currentAttentionName, renameDeprecatedAttention } from '../../src/checkpoint/diffusers/deprecated-attention-names.js';
import { errorOf } from '../support/level-skip-errors.js';

describe('currentAttentionName', () => {
  it.each([
    ['mid_block.attentions.0.query.weight', 'mid_block.attentions.0.to_q.weight'],
    ['mid_block.attentions.0.query.bias', 'mid_block.attentions.0.to_q.bias'],
    ['down_blocks.1.attentions.0.key.weight', 'down_blocks.1.attentions.0.to_k.weight'],
    ['down_blocks.1.attentions.1.key.bias', 'down_blocks.1.attentions.1.to_k.bias'],
    ['up_blocks.2.attentions.2.value.weight', 'up_blocks.2.attentions.2.to_v.weight'],
    ['up_blocks.12.attentions.0.value.bias', 'up_blocks.12.attentions.0.to_v.bias'],
    ['up_blocks.0.attentions.1.proj_attn.weight', 'up_blocks.0.attentions.1.to_out.0.weight'],
    ['mid_block.attentions.0.proj_attn.bias', 'mid_block.attentions.0.to_out.0.bias'],
  ])('%s → %s', (deprecated, current) => {
    expect(currentAttentionName(deprecated)).toBe(current);
  });

  it.each([
    'mid_block.attentions.0.group_norm.weight',
    'mid_block.attentions.0.to_q.weight',
    'down_blocks.0.resnets.0.conv1.weight',
    'down_blocks.1.attentions.0.query.weight.extra',
    'encoder.mid_block.attentions.0.query.weight',
    'mid_block.resnets.0.query.weight',
    'down_blocks.x.attentions.0.query.weight',
    'up_blocks.0.attentions.0.proj_out.weight',
  ])('leaves %s alone', (name) => {
    expect(currentAttentionName(name)).toBeUndefined();
  });
});

describe('renameDeprecatedAttention', () => {
  it('renames every deprecated name, keeps order and values', () => {
    const tensors = new Map<string, number>([
      ['conv_in.weight', 1],
      ['mid_block.attentions.0.group_norm.weight', 2],
      ['mid_block.attentions.0.query.weight', 3],
      ['mid_block.attentions.0.key.weight', 4],
      ['mid_block.attentions.0.value.weight', 5],
      ['mid_block.attentions.0.proj_attn.weight', 6],
      ['mid_block.attentions.0.proj_attn.bias', 7],
    ]);
    expect([...renameDeprecatedAttention(tensors)]).toEqual([
      ['conv_in.weight', 1],
      ['mid_block.attentions.0.group_norm.weight', 2],
      ['mid_block.attentions.0.to_q.weight', 3],
      ['mid_block.attentions.0.to_k.weight', 4],
      ['mid_block.attentions.0.to_v.weight', 5],
      ['mid_block.attentions.0.to_out.0.weight', 6],
      ['mid_block.attentions.0.to_out.0.bias', 7],
    ]);
  });

  it('returns a map without deprecated names as it is', () => {
    const tensors = new Map([['mid_block.attentions.0.to_q.weight', 1]]);
    expect(renameDeprecatedAttention(tensors)).toBe(tensors);
  });

  it('refuses a tensor stored under both names', () => {
    const error = errorOf(() =>
      renameDeprecatedAttention(
        new Map([
          ['up_blocks.1.attentions.0.to_k.weight', 1],
          ['up_blocks.1.attentions.0.key.weight', 2],
        ]),
        'unet/diffusion_pytorch_model.safetensors',
      ),
    );
    expect(error.code).toBe('CHECKPOINT_CORRUPT');
    expect(error.message).toBe(
      'unet/diffusion_pytorch_model.safetensors holds both "up_blocks.1.attentions.0.key.weight" and "up_blocks.1.attentions.0.to_k.weight", the deprecated and the current name of one attention weight; keep one of them',
    );
  });
});
