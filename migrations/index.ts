import { Initial1732400000000 } from './1732400000000-Initial';
import { Workbench1796303580000 } from './1796303580000-Workbench';
import { ScriptLibrary1796312120000 } from './1796312120000-ScriptLibrary';

/** Every migration in order; a new migration file adds its class here. */
export const migrations = [Initial1732400000000, Workbench1796303580000, ScriptLibrary1796312120000];
