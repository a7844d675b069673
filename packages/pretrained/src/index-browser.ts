/**
 * @levelskip/pretrained in browsers: the catalogue, and the shipped models fetched from where this
 * package's `models/` directory is served (`loadPretrained(name, { baseUrl })`). The Node entry
 * (`index.ts`) also reads them from the installed package.
 */
export { catalogue, modelPackageName, pretrainedModelNames, type CatalogueEntry } from './models/catalogue.js';
export {
  fetchPretrained as loadPretrained,
  type LoadPretrainedOptions,
  type LoadedPretrained,
  type PretrainedInfo,
} from './models/pretrained-url.js';
