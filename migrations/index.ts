import { Initial1732400000000 } from './1732400000000-Initial';

/** Every migration in order; a new migration file adds its class here. */
export const migrations = [Initial1732400000000];
