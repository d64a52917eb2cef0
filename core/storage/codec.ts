// Little-endian binary encoding shared by the WAL and snapshot formats. Integers up to
// 2^53 - 1 (JavaScript's safe range, which covers every Raft index and term) are stored as
// 64-bit fields so the format never has to change when logs grow. The reader checks every
// length against the bytes actually present, so a damaged length cannot make it read out of
// bounds or allocate more than the input holds.

const TWO_32 = 0x1_0000_0000;

/** Thrown by Reader when the bytes do not parse; callers turn it into STORAGE_CORRUPT. */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
}

/** Appends fields to a growing buffer. */
export class Writer {
  private buf: Buffer;
  private pos = 0;

  constructor(initialBytes = 256) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  get length(): number {
    return this.pos;
  }

  u8(v: number): this {
    this.reserve(1).writeUInt8(v, this.pos);
    this.pos += 1;
    return this;
  }

  u16(v: number): this {
    this.reserve(2).writeUInt16LE(v, this.pos);
    this.pos += 2;
    return this;
  }

  u32(v: number): this {
    this.reserve(4).writeUInt32LE(v, this.pos);
    this.pos += 4;
    return this;
  }

  /** A non-negative safe integer as 64 bits (low word first). */
  u64(v: number): this {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`u64 field: ${v} is not a non-negative safe integer`);
    const b = this.reserve(8);
    b.writeUInt32LE(v % TWO_32, this.pos);
    b.writeUInt32LE(Math.floor(v / TWO_32), this.pos + 4);
    this.pos += 8;
    return this;
  }

  /** Raw bytes with a u32 length prefix. */
  bytes(v: Uint8Array): this {
    this.u32(v.byteLength);
    this.reserve(v.byteLength).set(v, this.pos);
    this.pos += v.byteLength;
    return this;
  }

  /** A UTF-8 string with a u16 length prefix (ids and names, never large). */
  str(v: string): this {
    const encoded = Buffer.from(v, 'utf8');
    if (encoded.byteLength > 0xffff) throw new RangeError(`string field longer than 65535 bytes: ${v.slice(0, 40)}…`);
    this.u16(encoded.byteLength);
    this.reserve(encoded.byteLength).set(encoded, this.pos);
    this.pos += encoded.byteLength;
    return this;
  }

  /** The bytes written so far (a view, not a copy). */
  finish(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  private reserve(n: number): Buffer {
    if (this.pos + n > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
      this.buf.copy(grown, 0, 0, this.pos);
      this.buf = grown;
    }
    return this.buf;
  }
}

/** Reads fields from a byte range, failing with DecodeError on anything out of bounds. */
export class Reader {
  private pos: number;

  constructor(
    private readonly buf: Buffer,
    start = 0,
    private readonly end = buf.length,
  ) {
    this.pos = start;
  }

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  u8(): number {
    this.need(1);
    return this.buf.readUInt8(this.pos++);
  }

  u16(): number {
    this.need(2);
    const v = this.buf.readUInt16LE(this.pos);
    this.pos += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  u64(): number {
    this.need(8);
    const lo = this.buf.readUInt32LE(this.pos);
    const hi = this.buf.readUInt32LE(this.pos + 4);
    this.pos += 8;
    const v = hi * TWO_32 + lo;
    if (!Number.isSafeInteger(v)) throw new DecodeError(`64-bit field ${v} is beyond 2^53`);
    return v;
  }

  /** Length-prefixed bytes, copied out so the result does not pin the input buffer. */
  bytes(): Uint8Array {
    const n = this.u32();
    this.need(n);
    const v = new Uint8Array(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return v;
  }

  str(): string {
    const n = this.u16();
    this.need(n);
    const v = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** Fails unless every byte was consumed: trailing bytes mean the format is not ours. */
  done(): void {
    if (this.pos !== this.end) throw new DecodeError(`${this.end - this.pos} unexpected trailing bytes`);
  }

  private need(n: number): void {
    if (n > this.end - this.pos) {
      throw new DecodeError(`field of ${n} bytes runs past the end (${this.end - this.pos} left)`);
    }
  }
}
