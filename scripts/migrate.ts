import { loadConfig } from '../server/config';
import { createDataSource } from '../server/db/data-source';

/** `npm run migrate`: apply pending migrations and exit (the server also does this at start). */
async function main() {
  const config = loadConfig();
  const ds = createDataSource({ url: config.database.url });
  await ds.initialize();
  const applied = await ds.runMigrations({ transaction: 'each' });
  process.stdout.write(
    applied.length ? `applied: ${applied.map((m) => m.name).join(', ')}\n` : 'database is up to date\n',
  );
  await ds.destroy();
}

main().catch((err) => {
  process.stderr.write(`migration failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
