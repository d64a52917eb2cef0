// Form decoding as Go's net/url and net/http do it for etcd's v2 handlers: query and
// x-www-form-urlencoded bodies, strict percent-escapes, the body's values ahead of the query's,
// and Go's ParseBool and ParseUint. etcd tools depend on these exact rules (notes/etcd-v2.md §2).

/** Parsed form values: for each name, its values in order (body first, then query). */
export type Form = ReadonlyMap<string, readonly string[]>;

/** A malformed query or body, with Go's error text (etcd puts it in the 210 error's cause). */
export class FormError extends Error {}

const HEX = /^[0-9a-fA-F]{2}$/;
const utf8 = new TextDecoder('utf-8');

/** Go's url.QueryUnescape: `+` is a space and every `%` must start a valid escape. */
function unescape(text: string): string {
  if (!text.includes('%')) return text.replaceAll('+', ' ');
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '%') {
      const hex = text.slice(i + 1, i + 3);
      if (!HEX.test(hex)) throw new FormError(`invalid URL escape "${text.slice(i, i + 3)}"`);
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (c === '+') {
      bytes.push(0x20);
    } else {
      for (const b of Buffer.from(c, 'utf8')) bytes.push(b);
    }
  }
  return utf8.decode(new Uint8Array(bytes));
}

/** Go's url.ParseQuery: `&`-separated pairs; a `;` is refused as Go 1.17+ does. */
export function parseQuery(text: string, into: Map<string, string[]>): void {
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    if (pair.includes(';')) throw new FormError('invalid semicolon separator in query');
    const eq = pair.indexOf('=');
    const name = unescape(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? '' : unescape(pair.slice(eq + 1));
    const values = into.get(name);
    if (values === undefined) into.set(name, [value]);
    else values.push(value);
  }
}

/** r.ParseForm(): the body's values (PUT and POST only) ahead of the query's. */
export function parseForm(rawQuery: string, body: string | undefined): Form {
  const form = new Map<string, string[]>();
  if (body !== undefined) parseQuery(body, form);
  const query = new Map<string, string[]>();
  parseQuery(rawQuery, query);
  for (const [name, values] of query) {
    const existing = form.get(name);
    if (existing === undefined) form.set(name, values);
    else existing.push(...values);
  }
  return form;
}

/** r.FormValue: the first value, or '' when absent. */
export function formValue(form: Form, name: string): string {
  return form.get(name)?.[0] ?? '';
}

const TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** Go's strconv.ParseBool; undefined for anything else ("yes" and "" included). */
export function parseGoBool(text: string): boolean | undefined {
  if (TRUE.has(text)) return true;
  if (FALSE.has(text)) return false;
  return undefined;
}

/** Go's strconv.ParseUint(text, 10, 64), limited to what a JS number holds exactly. */
export function parseGoUint(text: string): number | undefined {
  if (!/^[0-9]+$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}
