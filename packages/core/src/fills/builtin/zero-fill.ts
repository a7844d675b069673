/**
 * The zero fill (Giladi et al., "Accelerating Diffusion Models using Adaptive Neural Network
 * Architecture"): the missing deep features h are replaced by zeros of their shape, so decoder
 * level L's first block sees concat(0, skip).
 */
import { defineFill } from './fill-definition.js';

/** Zero tensor of the missing input's shape (the paper's zero fill). */
export interface ZeroFill {
  readonly kind: 'zero';
}

export const zeroFill: ZeroFill = Object.freeze({ kind: 'zero' });

/** The zero fill's registry entry. */
export const zeroFillDefinition = defineFill<ZeroFill, true>({
  kind: 'zero',
  description: 'zeros in place of the skipped levels (the paper\'s zero fill)',
  syntax: ['zero'],
  parse: (text: string) => (text === 'zero' ? zeroFill : undefined),
  label: () => 'zero',
  check: () => undefined,
  supports: () => undefined,
  trainable: true,
  stateful: false,
  graphFusable: true,
  exportedByDefault: true,
  apply: (context, ops) => ops.zeros(context.shape),
});
