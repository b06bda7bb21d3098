import type { DataSource } from 'typeorm';

/**
 * A per-database counter bumped by every library write in this process, so in-process caches of
 * approved scripts (the welcome path) drop at once after an approval or retirement here; other
 * processes see the change when their short cache runs out.
 */
const generations = new WeakMap<DataSource, number>();

export const libraryGeneration = (db: DataSource) => generations.get(db) ?? 0;
export const bumpLibraryGeneration = (db: DataSource) => generations.set(db, libraryGeneration(db) + 1);
