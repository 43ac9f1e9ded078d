/**
 * Registry of `dap` commands. Adding a command is ONE line here: re-export the Command object from its
 * file (any export name). main.ts lists every export of this module that has the Command shape.
 */
export { command as validate } from './validate';
export { command as stats } from './stats';
export { command as exportData } from './export';
export { reviewCommand as review } from './review';
export { command as logps } from './logps';
export { command as train } from './train';
export { command as demo } from './demo';
export { command as generate } from './generate';
export { command as judge } from './judge';
export { command as env } from './env';
export { command as importData } from './import';
