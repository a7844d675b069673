/**
 * `@levelskip/core/testing/faults`: fault injection for Node tests. `killLoop` SIGKILLs a writing
 * child process at seeded random moments and checks what it left; `bundleChildScript` turns a
 * TypeScript child into a script `node` runs. Node only, and kept out of `@levelskip/core/testing`
 * (which browsers load).
 */
export { killLoop, type KillLoopOptions, type KillLoopReport, type KillTrial } from './kill-loop.js';
export { bundleChildScript, type BundleChildScriptOptions } from './bundle-child-script.js';
