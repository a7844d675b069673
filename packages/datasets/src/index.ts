/**
 * @levelskip/datasets: the data levelskip trains and measures on, with no compute runtime (it
 * depends on @levelskip/core only, and on the optional `mnist` package for the digits). Runs in
 * Node.js and in browsers (there, pass the imported `mnist` package as `loadMnist({ mnist })`).
 */
export type { LabelledImageDataset, LabelledImages } from './labelled-images.js';
export { importMnist, mnistDigitSide, mnistDigitsFrom, type MnistDigit, type MnistDigits } from './mnist/mnist-package.js';
export { mnistImageSide, mnistImages, type MnistSample } from './mnist/mnist-images.js';
export { loadMnist, mnistSplits, mnistTestPerDigit, type MnistDataset, type MnistOptions, type MnistSplit } from './mnist/load-mnist.js';
