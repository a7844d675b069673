/**
 * The zero fill (Giladi et al., "Accelerating Diffusion Models using Adaptive Neural Network
 * Architecture"): the missing deep features h are replaced by zeros of their shape, so decoder
 * level L's first block sees concat(0, skip).
 */
import { defineStatelessFill } from './fill-definition.js';

/** Zero tensor of the missing input's shape (the paper's zero fill). */
export interface ZeroFill {
  readonly kind: 'zero';
}

const zero = defineStatelessFill({
  kind: 'zero',
  description: 'zeros in place of the skipped levels (the paper\'s zero fill)',
  apply: (context, ops) => ops.zeros(context.shape),
});

export const zeroFill: ZeroFill = zero.fill;

/** The zero fill's registry entry. */
export const zeroFillDefinition = zero.definition;
