// The primitives of cairn's wire format: unsigned LEB128 varints limited to safe integers,
// length-prefixed UTF-8 strings and byte strings. The writer fills a buffer whose size was
// computed up front (one allocation per frame); the reader checks every length against the
// bytes that are actually left, so a forged length can never make it allocate or read
// beyond the frame.
import { TransportError, badFrame } from './errors.js';

/** A varint of a safe integer (< 2^53) needs at most 8 bytes of 7 bits. */
const MAX_VARINT_BYTES = 8;
const utf8 = new TextEncoder();
// ignoreBOM keeps a leading U+FEFF in the string, so every string round-trips exactly.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Up to this length an ASCII string is built by hand: TextDecoder's fixed cost is larger. */
const SHORT_STRING_BYTES = 32;

/** The string of bytes [start, end) if they are all ASCII, else undefined. */
function asciiString(bytes: Uint8Array, start: number, end: number): string | undefined {
  let s = '';
  for (let i = start; i < end; i++) {
    const c = bytes[i]!;
    if (c >= 0x80) return undefined;
    s += String.fromCharCode(c);
  }
  return s;
}

/** Bytes a varint of `value` occupies. */
export function varintSize(value: number): number {
  let size = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 0x80);
    size++;
  }
  return size;
}

/** UTF-8 byte length of `s`, as TextEncoder would encode it (lone surrogates become U+FFFD). */
export function utf8Length(s: string): number {
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && isLowSurrogate(s.charCodeAt(i + 1))) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/** Size of a length-prefixed string field. */
export function stringFieldSize(s: string): number {
  const length = utf8Length(s);
  return varintSize(length) + length;
}

/** Size of a length-prefixed byte field. */
export function bytesFieldSize(data: Uint8Array): number {
  return varintSize(data.byteLength) + data.byteLength;
}

export class ByteWriter {
  readonly bytes: Uint8Array;
  private pos = 0;

  constructor(size: number) {
    // Not zero-filled (zeroing a 16 KiB append costs as much as encoding it): finish()
    // checks that every byte was written.
    this.bytes = Buffer.allocUnsafe(size);
  }

  get position(): number {
    return this.pos;
  }

  u8(value: number): void {
    this.bytes[this.pos++] = value;
  }

  /** Writes a non-negative safe integer; anything else is a bug in the caller's message. */
  varint(value: number, field: string): void {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new TransportError('TRANSPORT_BAD_MESSAGE', `cannot encode ${field} = ${String(value)}: not a non-negative safe integer`);
    }
    // Bit operations are only exact below 2^31; larger values take the arithmetic path.
    while (value >= 0x80) {
      this.bytes[this.pos++] = (value % 0x80) | 0x80;
      value = Math.floor(value / 0x80);
    }
    this.bytes[this.pos++] = value;
  }

  bool(value: boolean): void {
    this.bytes[this.pos++] = value ? 1 : 0;
  }

  string(s: string, maxBytes: number, field: string): void {
    const length = utf8Length(s);
    if (length > maxBytes) {
      throw new TransportError('TRANSPORT_BAD_MESSAGE', `cannot encode ${field}: ${length} bytes, at most ${maxBytes}`);
    }
    this.varint(length, field);
    if (length === s.length) {
      // Pure ASCII (the usual member id): a plain copy is faster than TextEncoder.
      for (let i = 0; i < length; i++) this.bytes[this.pos + i] = s.charCodeAt(i);
    } else {
      utf8.encodeInto(s, this.bytes.subarray(this.pos, this.pos + length));
    }
    this.pos += length;
  }

  data(data: Uint8Array, field: string): void {
    this.varint(data.byteLength, field);
    this.bytes.set(data, this.pos);
    this.pos += data.byteLength;
  }

  /** Copies bytes that are already encoded. */
  raw(bytes: Uint8Array): void {
    this.bytes.set(bytes, this.pos);
    this.pos += bytes.byteLength;
  }

  /** The written bytes; throws if the size computed up front was wrong (a bug here). */
  finish(): Uint8Array {
    if (this.pos !== this.bytes.byteLength) {
      throw new Error(`transport: encoded ${this.pos} bytes into a ${this.bytes.byteLength}-byte frame; this is a bug in cairn`);
    }
    return this.bytes;
  }
}

export class ByteReader {
  private pos: number;

  constructor(
    private readonly bytes: Uint8Array,
    start = 0,
  ) {
    this.pos = start;
  }

  get remaining(): number {
    return this.bytes.byteLength - this.pos;
  }

  get position(): number {
    return this.pos;
  }

  u8(field: string): number {
    if (this.pos >= this.bytes.byteLength) throw badFrame(`truncated at ${field}`);
    return this.bytes[this.pos++]!;
  }

  varint(field: string): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      const b = this.u8(field);
      result += (b & 0x7f) * scale;
      if (b < 0x80) {
        // A zero final byte means a longer encoding than needed: refuse, so each value has
        // exactly one encoding and a frame cannot smuggle padding.
        if (b === 0 && i > 0) throw badFrame(`${field} has an overlong varint`);
        if (!Number.isSafeInteger(result)) throw badFrame(`${field} = ${result} is not a safe integer`);
        return result;
      }
      scale *= 0x80;
    }
    throw badFrame(`${field} varint is longer than ${MAX_VARINT_BYTES} bytes`);
  }

  bool(field: string): boolean {
    const b = this.u8(field);
    if (b > 1) throw badFrame(`${field} is ${b}, expected a boolean 0 or 1`);
    return b === 1;
  }

  /** A count of items each at least `minItemBytes` long: bounded by what is left. */
  count(field: string, minItemBytes: number): number {
    const n = this.varint(field);
    if (n * minItemBytes > this.remaining) {
      throw badFrame(`${field} = ${n} items cannot fit in the ${this.remaining} bytes left`);
    }
    return n;
  }

  string(field: string, minBytes: number, maxBytes: number): string {
    const length = this.length(field);
    if (length < minBytes || length > maxBytes) {
      throw badFrame(`${field} is ${length} bytes, expected ${minBytes}..${maxBytes}`);
    }
    const start = this.pos;
    this.pos += length;
    if (length <= SHORT_STRING_BYTES) {
      const ascii = asciiString(this.bytes, start, this.pos);
      if (ascii !== undefined) return ascii;
    }
    try {
      return strictUtf8.decode(this.bytes.subarray(start, this.pos));
    } catch {
      throw badFrame(`${field} is not valid UTF-8`);
    }
  }

  /**
   * A byte field, as a view into the reader's bytes (no copy: one allocation per field would
   * triple the cost of decoding an append). Readers whose bytes are not their own must copy
   * the frame first; decodeMessages does.
   */
  data(field: string): Uint8Array {
    const length = this.length(field);
    const view = this.bytes.subarray(this.pos, this.pos + length);
    this.pos += length;
    return view;
  }

  /** The rest of the frame, copied. */
  rest(): Uint8Array {
    const copy = new Uint8Array(this.remaining);
    copy.set(this.bytes.subarray(this.pos));
    this.pos = this.bytes.byteLength;
    return copy;
  }

  /** Throws unless every byte was consumed: trailing bytes mean a mismatched encoder. */
  end(what: string): void {
    if (this.remaining !== 0) throw badFrame(`${this.remaining} trailing bytes after ${what}`);
  }

  private length(field: string): number {
    const length = this.varint(`${field} length`);
    if (length > this.remaining) {
      throw badFrame(`${field} length ${length} exceeds the ${this.remaining} bytes left`);
    }
    return length;
  }
}
