/**
 * @levelskip/core for Node: everything in the shared entry, plus checkpoint directories on disk
 * (`loadCheckpoint`, `saveCheckpoint`) and atomic file writes. Bundlers that target browsers pick
 * the shared entry (package.json `browser` condition), which parses the same files from bytes.
 */
export * from './index.js';
export * from './node/checkpoint-files.js';
export * from './node/write-file-atomic.js';
