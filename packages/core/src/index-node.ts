/**
 * @levelskip/core for Node: everything in the shared entry, plus checkpoint directories on disk
 * (`loadCheckpoint`, `saveCheckpoint`), atomic file writes, temporary-file cleanup, directory locks
 * and the mapping of file-system errors. Bundlers that target browsers pick the shared entry
 * (package.json `browser` condition), which parses the same files from bytes.
 */
export * from './index.js';
export * from './node/checkpoint-files.js';
export * from './node/diffusers-directory.js';
export * from './node/diffusers-writer.js';
export * from './node/directory-lock.js';
export * from './node/file-system-error.js';
export * from './node/read-regular-file.js';
export * from './node/temporary-files.js';
export * from './node/writable-directory.js';
export * from './node/write-file-atomic.js';
