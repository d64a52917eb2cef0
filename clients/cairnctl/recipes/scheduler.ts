// cairnctl commands of the scheduler recipe.
import type { RecipeCommand } from '../recipe-command.js';

export const commands: Readonly<Record<string, RecipeCommand>> = {};
