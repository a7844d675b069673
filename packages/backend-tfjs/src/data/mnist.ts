/**
 * The MNIST loader moved to @levelskip/datasets (which needs no compute runtime). These aliases
 * keep user code that imports it from here working for one release; they are removed after it.
 */
import * as datasets from '@levelskip/datasets';

/**
 * MNIST digits padded to 32×32 and scaled to [-1, 1].
 *
 * @deprecated use `loadMnist` from `@levelskip/datasets` (`npm install @levelskip/datasets`); this
 *   re-export is removed in the next release.
 */
export const loadMnist: (options?: datasets.MnistOptions) => Promise<datasets.MnistDataset> = datasets.loadMnist;

/**
 * Samples of each digit reserved for the test split.
 *
 * @deprecated use `mnistTestPerDigit` from `@levelskip/datasets`; this re-export is removed in the next release.
 */
export const mnistTestPerDigit: number = datasets.mnistTestPerDigit;

/** @deprecated use `MnistDataset` from `@levelskip/datasets`; this re-export is removed in the next release. */
export type MnistDataset = datasets.MnistDataset;

/** @deprecated use `MnistOptions` from `@levelskip/datasets`; this re-export is removed in the next release. */
export type MnistOptions = datasets.MnistOptions;
