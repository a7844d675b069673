/**
 * kill -9 during `levelskip sample --out x.png` over an existing PNG (issue 21, fault suite):
 * after every kill the PNG is the previous image or the new one, complete (it decodes, ends with
 * IEND, and equals one of the two reference images byte for byte), and the next run removes the
 * temporary files killed runs left.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pngjs from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
// The vitest config has no alias for @levelskip/core/testing/faults; its sources are imported directly.
import { killLoop } from '../../core/src/testing/faults/index.js';
import { runInProcess } from './helpers/run-in-process.js';
import { bundleCliScript, packageRoot } from './helpers/source-cli.js';

const directory = mkdtempSync(join(tmpdir(), 'levelskip-cli-png-kill-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const specPath = join(directory, 'tiny.json');
writeFileSync(specPath, JSON.stringify({ imageSize: 8, inChannels: 1, baseChannels: 8, channelMults: [1, 2], resBlocks: 1, attentionLevels: [], midAttention: false, groups: 4 }));

/** A PNG's last 12 bytes: the IEND chunk (length 0, type IEND, its CRC). */
const iend = Buffer.from([0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]);

describe('kill -9 while sample overwrites a PNG', () => {
  it('after each of 20 random kills and 5 kills during the write the PNG is the old or the new image, whole; the next run leaves no temporary file', async () => {
    const script = await bundleCliScript(fileURLToPath(new URL('./helpers/sample-loop-child.ts', import.meta.url)));
    try {
      // The two images the loop alternates between, written by the same bundled code.
      const references = [0, 1].map((seed) => {
        const path = join(directory, `reference-${seed}.png`);
        execFileSync(process.execPath, [script, specPath, path, '--once', String(seed)], { cwd: packageRoot, stdio: 'ignore' });
        return readFileSync(path);
      });
      expect(references[0]!.equals(references[1]!)).toBe(false);
      const outDir = join(directory, 'out');
      const out = join(outDir, 'samples.png');
      execFileSync(process.execPath, [script, specPath, out, '--once', '0'], { cwd: packageRoot, stdio: 'ignore' });

      const seen = [0, 0];
      let trialsWithTemporaries = 0;
      const check = (): void => {
        const bytes = readFileSync(out);
        expect(bytes.subarray(-12).equals(iend), 'the PNG does not end with IEND').toBe(true);
        const image = pngjs.PNG.sync.read(bytes);
        expect([image.width, image.height]).toEqual([1178, 1178]);
        const which = references.findIndex((reference) => reference.equals(bytes));
        expect(which, 'the PNG is neither the old nor the new image').toBeGreaterThanOrEqual(0);
        seen[which]! += 1;
        if (readdirSync(outDir).some((name) => name.endsWith('.tmp'))) trialsWithTemporaries += 1;
      };
      const report = await killLoop({
        script,
        args: [specPath, out],
        cwd: packageRoot,
        trials: 20,
        seed: 10,
        minDelayMs: 0,
        maxDelayMs: 800,
        check,
      });
      expect(report.killed).toBe(20);
      // Kills at random moments rarely land inside the few milliseconds of the write itself; these do.
      for (let trial = 0; trial < 5; trial++) {
        await killWhileWriting(script, [specPath, out], outDir);
        check();
      }
      expect(trialsWithTemporaries).toBeGreaterThanOrEqual(5);
      // The next run writes the image and removes what the killed runs left.
      const run = await runInProcess(['sample', '--spec', specPath, '--random-weights', '--steps', '1', '--batch', '4', '--out', out, '--no-progress']);
      expect(run.code, run.stderr).toBe(0);
      expect(readdirSync(outDir)).toEqual(['samples.png']);
      console.info(`PNG kill loop: 25 kills; ${seen[0]} left image 0, ${seen[1]} image 1, none partial; ${trialsWithTemporaries} left a temporary file, removed by the next run`);
    } finally {
      rmSync(script, { force: true });
    }
  }, 300_000);
});

/** Starts the sample loop and SIGKILLs it as soon as a new temporary file appears in `dir` (a write in progress). */
function killWhileWriting(script: string, args: readonly string[], dir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const earlier = new Set(readdirSync(dir));
    const child = spawn(process.execPath, [script, ...args], { cwd: packageRoot, stdio: 'ignore' });
    const deadline = Date.now() + 60_000;
    const poll = setInterval(() => {
      if (readdirSync(dir).some((name) => name.endsWith('.tmp') && !earlier.has(name))) {
        child.kill('SIGKILL');
        clearInterval(poll);
      } else if (Date.now() > deadline) {
        child.kill('SIGKILL');
        clearInterval(poll);
        reject(new Error('the sample loop wrote no temporary file within 60 s'));
      }
    }, 1);
    child.on('close', () => {
      clearInterval(poll);
      resolve();
    });
  });
}
