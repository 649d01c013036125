import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { REPO_ROOT } from '../src/version';

/**
 * Imports run one way (house style rule 16): the contracts module imports nothing, and no module
 * of src/, activities/ or workflows/ reaches itself again through its imports (type imports count:
 * a cycle of types is still a cycle of responsibilities).
 */
describe('import graph', () => {
  const graph = importGraph(['src', 'activities', 'workflows']);

  it('keeps the contracts module free of imports', () => {
    assert.deepEqual(graph.get('src/contracts.ts'), []);
  });

  it('has no import cycle', () => {
    const cycles = findCycles(graph);
    assert.deepEqual(cycles, [], cycles.map((cycle) => cycle.join(' → ')).join('\n'));
  });
});

function importGraph(roots: string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of roots.flatMap((root) => tsFiles(join(REPO_ROOT, root)))) {
    const source = readFileSync(file, 'utf8');
    const targets = [...source.matchAll(/^(?:import|export)[^'"]*?from\s+'(\.[^']+)'/gm)]
      .map((match) => resolveModule(dirname(file), match[1]!))
      .filter((target): target is string => target !== null);
    graph.set(relative(REPO_ROOT, file), [...new Set(targets.map((target) => relative(REPO_ROOT, target)))]);
  }
  return graph;
}

function resolveModule(from: string, specifier: string): string | null {
  const base = resolve(from, specifier);
  for (const candidate of [`${base}.ts`, join(base, 'index.ts')]) if (existsSync(candidate)) return candidate;
  return null;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** Depth-first search; each cycle is reported once, from the first module found on it. */
function findCycles(graph: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const done = new Set<string>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const visit = (node: string) => {
    if (onStack.has(node)) {
      cycles.push([...stack.slice(stack.indexOf(node)), node]);
      return;
    }
    if (done.has(node)) return;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) visit(next);
    stack.pop();
    onStack.delete(node);
    done.add(node);
  };
  for (const node of graph.keys()) visit(node);
  return cycles;
}
