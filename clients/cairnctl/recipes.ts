// Every recipe's cairnctl commands, by name. A recipe adds itself here once.
import type { RecipeCommand } from './recipe-command.js';
import { commands as discovery } from './recipes/discovery.js';
import { commands as election } from './recipes/election.js';
import { commands as scheduler } from './recipes/scheduler.js';
import { commands as semaphore } from './recipes/semaphore.js';

export const RECIPE_COMMANDS: Readonly<Record<string, RecipeCommand>> = { ...semaphore, ...election, ...scheduler, ...discovery };
