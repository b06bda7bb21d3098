/**
 * `npm run bench [-- name …]`: runs every test/bench/*.bench.ts (or the named ones) in this
 * process, one after another, prints one table and writes test/bench/results/latest.{json,md}.
 * Figures are ratios against a baseline measured in the same run: the machine is shared and noisy.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { BenchResult, fmt, printTable } from './lib';

async function main() {
  const only = process.argv.slice(2);
  const files = readdirSync(__dirname)
    .filter((f) => f.endsWith('.bench.ts'))
    .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)))
    .sort();
  const all: (BenchResult & { suite: string })[] = [];
  for (const f of files) {
    const suite = f.replace(/\.bench\.ts$/, '');
    process.stderr.write(`\n▶ ${suite} (load average ${loadavg()[0].toFixed(1)} on ${cpus().length} cores)\n`);
    const mod = await import(join(__dirname, f));
    if (typeof mod.run !== 'function') {
      process.stderr.write(`  skipped: ${f} exports no run()\n`);
      continue;
    }
    try {
      const results: BenchResult[] = await mod.run();
      for (const r of results) all.push({ suite, ...r });
      printTable(results);
    } catch (err) {
      process.stderr.write(`  FAILED: ${(err as Error).stack ?? err}\n`);
      all.push({ suite, name: `${suite} failed: ${(err as Error).message}`, value: Number.NaN, unit: '', pass: false });
    }
  }
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const when = new Date().toISOString();
  writeFileSync(join(dir, 'latest.json'), JSON.stringify({ when, loadavg: loadavg(), results: all }, null, 2));
  const md = [
    `# Benchmark results (${when}, ${cpus().length} cores, load average ${loadavg()[0].toFixed(1)})`,
    '',
    '| suite | benchmark | value | ratio | target | |',
    '|---|---|---:|---:|---|---|',
    ...all.map(
      (r) =>
        `| ${r.suite} | ${r.name} | ${fmt(r.value)} ${r.unit} | ${r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}× ${r.baseline ?? ''}`} | ${r.target ?? ''} | ${r.pass === undefined ? '' : r.pass ? 'pass' : 'MISS'} |`,
    ),
    '',
  ].join('\n');
  writeFileSync(join(dir, 'latest.md'), md);
  process.stderr.write(`\nwrote ${join(dir, 'latest.md')}\n`);
  if (all.some((r) => r.pass === false)) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(2);
});
