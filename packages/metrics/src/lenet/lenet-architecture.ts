/**
 * The architecture of FD-LeNet's classifier: LeNet-5 (LeCun et al. 1998, "Gradient-based
 * learning applied to document recognition") with ReLU, max pooling and wider layers.
 *
 *   input   1 × 32 × 32 in [-1, 1]
 *   conv1   16 filters 5×5, valid → 16 × 28 × 28, ReLU, max pool 2 → 16 × 14 × 14
 *   conv2   32 filters 5×5, valid → 32 × 10 × 10, ReLU, max pool 2 → 32 × 5 × 5 (flattened C, H, W: 800)
 *   fc1     800 → 128, ReLU
 *   fc2     128 → 84   ← the FD features: fc2's outputs BEFORE its ReLU
 *   ReLU
 *   fc3     84 → 10 logits (digits 0–9)
 *
 * Weights use PyTorch's layouts and names (`conv1.weight` OIHW, `fc1.weight` [out, in], …), so
 * `torch.nn` code with the same layer names loads `weights/lenet.safetensors` unchanged.
 */

/** Side of the (square) input image. */
export const lenetImageSize = 32;
/** Input channels. */
export const lenetInputChannels = 1;
/** Side of both convolution kernels. */
export const lenetKernelSize = 5;
/** Length of the feature vectors Fréchet distances are computed on (fc2's outputs). */
export const lenetFeatureDim = 84;
/** Number of classes. */
export const lenetClasses = 10;

/** Every weight tensor: name → shape (PyTorch layout). */
export const lenetTensorShapes: Readonly<Record<string, readonly number[]>> = {
  'conv1.weight': [16, 1, 5, 5],
  'conv1.bias': [16],
  'conv2.weight': [32, 16, 5, 5],
  'conv2.bias': [32],
  'fc1.weight': [128, 800],
  'fc1.bias': [128],
  'fc2.weight': [lenetFeatureDim, 128],
  'fc2.bias': [lenetFeatureDim],
  'fc3.weight': [lenetClasses, lenetFeatureDim],
  'fc3.bias': [lenetClasses],
};
