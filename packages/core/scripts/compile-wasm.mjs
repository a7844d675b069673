#!/usr/bin/env node
/**
 * Compiles src/random/philox.wat with wabt and writes the module's bytes (base64) into
 * src/random/philox-wasm.ts (MODULE_BASE64), atomically: `pnpm --filter @levelskip/core wasm`.
 * test/random/philox-wasm.test.ts fails when the two disagree.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const wat = fileURLToPath(new URL('../src/random/philox.wat', import.meta.url));
const target = fileURLToPath(new URL('../src/random/philox-wasm.ts', import.meta.url));
const wabt = await createRequire(import.meta.url)('wabt')();
const module = wabt.parseWat('philox.wat', readFileSync(wat, 'utf8'));
module.validate();
const bytes = Buffer.from(module.toBinary({}).buffer);
module.destroy();
const source = readFileSync(target, 'utf8');
const pattern = /(\/\*\* philox\.wat, compiled \()\d+( bytes\)\. \*\/\nconst MODULE_BASE64 =\n {2}')[A-Za-z0-9+/=]*(';)/;
if (!pattern.test(source)) throw new Error(`${target}: the MODULE_BASE64 constant is not where this script expects it`);
const updated = source.replace(pattern, `$1${bytes.length}$2${bytes.toString('base64')}$3`);
const temporary = `${target}.tmp-${process.pid}`;
writeFileSync(temporary, updated);
renameSync(temporary, target);
console.log(`${target}: ${bytes.length} bytes${updated === source ? ' (unchanged)' : ''}`);
