/**
 * The layer rule of DESIGN.md, checked on the real import graph: dependency-cruiser reads every
 * file under src/ and workers/ with .dependency-cruiser.cjs (the layer order, no upward import,
 * no cycle). A second test feeds the same rules a graph with an upward import and a cycle, so the
 * check is shown to catch both.
 */
import { createRequire } from 'node:module';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cruise } from 'dependency-cruiser';

const require = createRequire(import.meta.url);
const config = require('../../.dependency-cruiser.cjs');

interface Violation { rule: { name: string }; from: string; to: string }

async function violations(paths: string[], baseDir?: string): Promise<Violation[]> {
  const result = await cruise(paths, { validate: true, ruleSet: { forbidden: config.forbidden }, ...config.options, ...(baseDir ? { baseDir } : {}) });
  const out = result.output as { summary: { violations: Violation[] } };
  return out.summary.violations;
}

describe('layers', () => {
  it('src/ and workers/ import only downward and have no import cycle', async () => {
    const v = await violations(['src', 'workers']);
    expect(v.map((x) => `${x.rule.name}: ${x.from} -> ${x.to}`)).toEqual([]);
  }, 120_000);

  it('the rules catch an upward import and a cycle', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'r1s-layers-'));
    try {
      for (const d of ['src/protocol', 'src/rl', 'src/ui']) mkdirSync(join(dir, d), { recursive: true });
      writeFileSync(join(dir, 'src/protocol/tags.ts'), "import { x } from '../rl/a.ts';\nexport const t = x;\n");
      writeFileSync(join(dir, 'src/rl/a.ts'), "import { b } from './b.ts';\nexport const x = b;\n");
      writeFileSync(join(dir, 'src/rl/b.ts'), "import { x } from './a.ts';\nexport const b = 1; export const y = x;\n");
      writeFileSync(join(dir, 'src/ui/view.ts'), "import { t } from '../protocol/tags.ts';\nexport const v = t;\n");
      const names = (await violations(['src'], dir)).map((x) => `${x.rule.name}: ${x.from} -> ${x.to}`);
      expect(names).toContain('layer-protocol: src/protocol/tags.ts -> src/rl/a.ts');
      expect(names.some((n) => n.startsWith('no-circular: src/rl/'))).toBe(true);
      expect(names.some((n) => n.includes('src/ui/view.ts'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
