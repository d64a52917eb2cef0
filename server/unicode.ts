// Whether a string survives UTF-8 unchanged. JSON can carry an unpaired UTF-16 surrogate as an
// escape ("\ud800"); UTF-8, which snapshots and binary log commands use, turns it into U+FFFD.
const UNPAIRED_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** True when `s` holds no unpaired surrogate, so its UTF-8 bytes decode back to `s`. */
export function survivesUtf8(s: string): boolean {
  return !UNPAIRED_SURROGATE.test(s);
}
