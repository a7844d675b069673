import type { TestProject } from 'vitest/node';
// @ts-expect-error -- a plain .mjs script without type declarations
import { createPackedApp, removePackedApp } from '../../scripts/packed/create-app.mjs';
import type { PackedApp } from './packed-app.js';

/**
 * Packs every package and installs the tarballs into one fresh app, shared by the tests of this
 * project. `LEVELSKIP_PACKED_KEEP=1` keeps the app (its path is printed); `LEVELSKIP_PACKED_APP`
 * reuses one.
 */
export default async function setup(project: TestProject): Promise<() => void> {
  const app = (await createPackedApp({ log: (line: string) => console.log(`[packed] ${line}`) })) as PackedApp;
  const stale = app.packages.filter((p) => p.stale).map((p) => p.name);
  if (stale.length > 0) console.warn(`[packed] src/ is newer than dist/ in ${stale.join(', ')}: run \`pnpm build\` to test the latest code`);
  console.log(
    `[packed] ${app.directory}: ${app.packages.map((p) => `${p.name} ${(p.bytes / 1e6).toFixed(2)} MB`).join(', ')}; ` +
      `pack ${(app.packMs / 1000).toFixed(1)} s, \`${app.install}\` ${(app.installMs / 1000).toFixed(1)} s`,
  );
  project.provide('packedApp', app);
  return () => {
    if (process.env.LEVELSKIP_PACKED_KEEP === '1') console.log(`[packed] kept ${app.directory}`);
    else removePackedApp(app);
  };
}
