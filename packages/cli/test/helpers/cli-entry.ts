/** The `levelskip` executable from sources, for child-process tests (see `source-cli.ts`). */
import { run } from '../../src/cli.js';

await run();
