// Dependency direction: common imports nothing from node/, proxy/, dashboard/, cli/; those three
// never import each other; cli is the composition root and may import their entry points only.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const COMPONENTS = ['common', 'node', 'proxy', 'dashboard', 'cli'] as const;
type Component = (typeof COMPONENTS)[number];

/** The files cli/ may import from a component it launches. */
const ENTRY_POINTS = new Set(['node/main.ts', 'proxy/main.ts', 'dashboard/main.ts']);

function tsFiles(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return []; // a component not written yet
  }
  return entries.flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return tsFiles(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

// import … from '…', export … from '…', import '…', import('…') — type-only imports included.
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"]([^'"]+)['"]/g;

/** Relative import specifiers of a source file, resolved to repo-relative .ts paths. */
function relativeImports(file: string, source: string): string[] {
  const out: string[] = [];
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  for (const m of code.matchAll(SPECIFIER)) {
    const spec = m[1]!;
    if (!spec.startsWith('.')) continue;
    const target = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
    out.push(relative(ROOT, target).split(sep).join('/'));
  }
  return out;
}

function componentOf(repoPath: string): string {
  return repoPath.split('/')[0]!;
}

/** Why `from` may not import `to`, or null when allowed. */
function violation(from: Component, to: string): string | null {
  const target = componentOf(to);
  if (from === target || target === 'common') return null;
  if (from === 'common') return 'common imports nothing from the components';
  if (from === 'cli') return ENTRY_POINTS.has(to) ? null : 'cli may import only entry points (main.ts)';
  return `${from} must not import ${target}`;
}

describe('architecture: import direction', () => {
  it('finds the sources it checks', () => {
    expect(tsFiles(join(ROOT, 'common')).length).toBeGreaterThan(5);
    expect(tsFiles(join(ROOT, 'node')).length).toBeGreaterThan(5);
  });

  it('the import scanner sees every import form', () => {
    const f = join(ROOT, 'node/x.ts');
    const src = [
      "import { a } from '../common/a.js';", "import type { B } from '../proxy/b.js';", "export * from './c.js';",
      "import './d.js';", "const e = await import('../cli/e.js');", "// import { z } from '../proxy/commented.js';",
      "import { ioredis } from 'ioredis';",
    ].join('\n');
    expect(relativeImports(f, src)).toEqual(['common/a.ts', 'proxy/b.ts', 'node/c.ts', 'node/d.ts', 'cli/e.ts']);
  });

  it('no wrong-way import anywhere', () => {
    const problems: string[] = [];
    for (const component of COMPONENTS) {
      for (const file of tsFiles(join(ROOT, component))) {
        const from = relative(ROOT, file).split(sep).join('/');
        for (const to of relativeImports(file, readFileSync(file, 'utf8'))) {
          const why = violation(component, to);
          if (why) problems.push(`${from} → ${to}: ${why}`);
          else if (!COMPONENTS.includes(componentOf(to) as Component)) problems.push(`${from} → ${to}: outside the components`);
        }
      }
    }
    expect(problems).toEqual([]);
  });
});
