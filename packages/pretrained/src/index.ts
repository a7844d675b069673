/**
 * @levelskip/pretrained: MNIST diffusion U-Nets trained by levelskip itself, shipped in the
 * package and loaded offline through core's checkpoint reader (or fetched by URL: see
 * `loadPretrained`'s `baseUrl`; browsers get `index-browser.ts`).
 */
export { catalogue, modelPackageName, pretrainedModelNames, type CatalogueEntry } from './models/catalogue.js';
export { listPretrained, loadPretrained, pretrainedDirectory } from './models/pretrained.js';
export type { LoadPretrainedOptions, LoadedPretrained, PretrainedInfo, PretrainedListing, UnavailablePretrained } from './models/pretrained-url.js';
