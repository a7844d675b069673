/**
 * @levelskip/pretrained: MNIST diffusion U-Nets trained by levelskip itself, shipped in the
 * package and loaded offline through core's checkpoint reader.
 */
export { catalogue, pretrainedModelNames, type CatalogueEntry } from './models/catalogue.js';
export { listPretrained, loadPretrained, pretrainedDirectory, type PretrainedInfo } from './models/pretrained.js';
