/**
 * The layering rules, checked over the real import graph (runtime imports; `import type` is free):
 * - no cycle between folders (server/<folder>, each top-level server file on its own, scripts…);
 * - a route or event handler never imports a database driver or the ORM: it calls a service or repo;
 * - the sidebar app imports server code only as types (no server code in the bundle), except
 *   the few leaf modules in SHARED_WITH_SIDEBAR: pure constants and functions that import nothing
 *   at runtime, so one definition (e.g. the stage cap) serves both sides at the cost of its own lines;
 * - server code never imports operator scripts or tests.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../..');
const DRIVERS = /^(typeorm|mysql2|better-sqlite3)(\/|$)/;
/** Server modules the sidebar app may import at runtime (without extension; each must be a leaf). */
const SHARED_WITH_SIDEBAR = ['server/lib/china-day', 'server/playbook/stages', 'server/sidebar/touch-label'];

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (/\.(ts|vue)$/.test(name) && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

interface Import {
  from: string;
  spec: string;
  typeOnly: boolean;
  /** Absolute path without extension, for relative specifiers. */
  target: string | null;
}

// import … from '…' / export … from '…' / import '…', with `import type` / `export type` told apart.
const IMPORT = /^\s*(import|export)\s+(type\s+)?(?:[\s\S]*?\s+from\s+)?['"]([^'"]+)['"]/gm;

function importsOf(file: string): Import[] {
  const src = readFileSync(file, 'utf8');
  const out: Import[] = [];
  for (const m of src.matchAll(IMPORT)) {
    const spec = m[3];
    // `import { type A, type B } from` is type-only too.
    const clause = m[0].slice(0, m[0].lastIndexOf(spec));
    const names = clause.match(/\{([^}]*)\}/)?.[1];
    const allTypeNames =
      !!names &&
      !/^\s*(import|export)\s+[\w$]+\s*,/.test(clause) &&
      names
        .split(',')
        .map((n) => n.trim())
        .filter(Boolean)
        .every((n) => n.startsWith('type '));
    out.push({
      from: file,
      spec,
      typeOnly: !!m[2] || allTypeNames,
      target: spec.startsWith('.') ? resolve(dirname(file), spec) : null,
    });
  }
  return out;
}

/** The unit a file belongs to: a server folder, a top-level server file, scripts/commands, … */
function unitOf(abs: string): string {
  const rel = relative(ROOT, abs).replace(/\.(ts|vue|js)$/, '');
  const parts = rel.split('/');
  if (parts[0] === 'server') return parts.length > 2 ? `server/${parts[1]}` : `server/${parts[1]}.ts`;
  if (parts[0] === 'scripts') return parts.length > 2 ? `scripts/${parts[1]}` : 'scripts';
  return parts[0];
}

const serverFiles = [...walk(join(ROOT, 'server')), ...walk(join(ROOT, 'scripts')), ...walk(join(ROOT, 'migrations'))];
const serverImports = serverFiles.flatMap(importsOf);

/** Strongly connected components (Tarjan) with more than one unit: each is a cycle. */
function cycles(edges: Map<string, Set<string>>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1) out.push(comp.sort());
    }
  };
  for (const v of edges.keys()) if (!idx.has(v)) visit(v);
  return out;
}

describe('import graph', () => {
  it('sees the code it checks (guards against a walker that finds nothing)', () => {
    expect(serverFiles.length).toBeGreaterThan(100);
    expect(serverImports.filter((i) => i.target).length).toBeGreaterThan(300);
  });

  it('has no cycle between folders', () => {
    const edges = new Map<string, Set<string>>();
    for (const i of serverImports) {
      if (!i.target || i.typeOnly) continue;
      const a = unitOf(i.from);
      const b = unitOf(i.target);
      if (a === b) continue;
      if (!edges.has(a)) edges.set(a, new Set());
      edges.get(a)!.add(b);
    }
    expect(cycles(edges)).toEqual([]);
  });

  it('keeps drivers and the ORM out of routes and event handlers', () => {
    const offenders = serverImports
      .filter((i) => /(^|\/)(routes|handlers)(\/|\.ts$)|\/routes\.ts$/.test(relative(ROOT, i.from)))
      .filter((i) => !i.typeOnly && DRIVERS.test(i.spec))
      .map((i) => `${relative(ROOT, i.from)} imports ${i.spec}`);
    expect(offenders).toEqual([]);
  });

  it('keeps server code out of scripts/ and test/', () => {
    const offenders = serverImports
      .filter((i) => relative(ROOT, i.from).startsWith('server/') && i.target)
      .filter((i) => /^(scripts|test)\//.test(relative(ROOT, i.target!)))
      .map((i) => `${relative(ROOT, i.from)} imports ${i.spec}`);
    expect(offenders).toEqual([]);
  });

  it('lets the sidebar app import server code as types only (leaf modules shared on purpose aside)', () => {
    const app = walk(join(ROOT, 'sidebar-app', 'src')).flatMap(importsOf);
    expect(app.length).toBeGreaterThan(20);
    const offenders = app
      .filter((i) => i.target && relative(ROOT, i.target).startsWith('server/') && !i.typeOnly)
      .filter((i) => !SHARED_WITH_SIDEBAR.includes(relative(ROOT, i.target!)))
      .map((i) => `${relative(ROOT, i.from)} imports ${i.spec}`);
    expect(offenders).toEqual([]);
  });

  it('keeps the modules shared with the sidebar free of runtime imports', () => {
    const runtime = SHARED_WITH_SIDEBAR.flatMap((m) => importsOf(join(ROOT, `${m}.ts`)))
      .filter((i) => !i.typeOnly)
      .map((i) => `${relative(ROOT, i.from)} imports ${i.spec}`);
    expect(runtime).toEqual([]);
  });
});
