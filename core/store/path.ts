// Key cleaning as etcd v2 does it: every key is made absolute and run through Go's path.Clean,
// so `a//b/`, `/a/./b` and `/x/../a/b` all name `/a/b`. Pure string work, no I/O.

/** Go's path.Clean applied to "/" + key: the canonical form of a store key. */
export function cleanKey(key: string): string {
  if (isClean(key)) return key; // most keys are: every command carries one, cleaned before
  const out: string[] = [];
  for (const seg of ('/' + key).split('/')) {
    if (seg === '' || seg === '.') continue;
    // `..` above the root stays at the root, as in path.Clean on a rooted path.
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  return '/' + out.join('/');
}

const SLASH = 0x2f;

/**
 * Whether `key` is already its own clean form: rooted, with no trailing slash, no empty
 * segment and no segment starting with a dot (so no `.` or `..`). Names like `.hidden` fail
 * the test, and cleaning returns them unchanged.
 */
function isClean(key: string): boolean {
  if (key.charCodeAt(0) !== SLASH) return false;
  if (key.length === 1) return true;
  return key.charCodeAt(key.length - 1) !== SLASH && !key.includes('//') && !key.includes('/.');
}

/** The segments of a cleaned key; the root has none. */
export function segments(cleaned: string): string[] {
  return cleaned === '/' ? [] : cleaned.slice(1).split('/');
}

/** The parent directory of a cleaned key (the root is its own parent). */
export function parentKey(cleaned: string): string {
  const i = cleaned.lastIndexOf('/');
  return i <= 0 ? '/' : cleaned.slice(0, i);
}

/** Joins a cleaned directory key and a child name. */
export function joinKey(dir: string, name: string): string {
  return dir === '/' ? '/' + name : dir + '/' + name;
}

/** A key is hidden when its last segment starts with `_` (left out of listings). */
export function isHidden(cleaned: string): boolean {
  const name = cleaned.slice(cleaned.lastIndexOf('/') + 1);
  return name.startsWith('_');
}

/** True when `key` is `ancestor` or lies below it (path-wise, not string-prefix-wise). */
export function isUnder(key: string, ancestor: string): boolean {
  if (ancestor === '/') return true;
  return key === ancestor || key.startsWith(ancestor + '/');
}
