// Which tasks a method merges when it is picked: the tasks the user last chose, cut or
// filled to the number the method takes (the catalogue's models.min/max). SLERP takes one
// fine-tune, NuSLERP two; switching back to a method that takes any number restores the
// user's own choice.
import * as Methods from '../methods.js';

// method: the catalogue entry; preferred: the task names the user chose, in order; all:
// every task name, in order -> the names to check.
function fitTasks(method, preferred, all) {
  if (Methods.takes(method, preferred.length)) return preferred.slice();
  const { min, max } = method.models;
  if (max !== null && preferred.length > max) return preferred.slice(0, max);
  const more = all.filter((t) => !preferred.includes(t));
  return [...preferred, ...more].slice(0, Math.min(all.length, min));
}

export { fitTasks };
