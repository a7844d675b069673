import { defineProject } from 'vitest/config';

// The packed packages as a user gets them: `pnpm pack` of every package (after `pnpm build`),
// installed into a fresh app outside the repository (global-setup.ts), which then runs every
// README code block and type-checks user code against them.
export default defineProject({
  test: {
    name: 'packed',
    include: ['*.test.ts'],
    globalSetup: ['./global-setup.ts'],
    testTimeout: 300_000,
    hookTimeout: 600_000,
  },
});
