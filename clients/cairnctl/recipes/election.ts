// cairnctl commands of the election recipe.
import type { RecipeCommand } from '../recipe-command.js';

export const commands: Readonly<Record<string, RecipeCommand>> = {};
