/**
 * safetensors reading and writing, done by hand (no dependency): an 8-byte little-endian header length,
 * a JSON header {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {...}}, then the raw
 * little-endian tensor bytes. F32, F16 and BF16 decode to Float32Array; writing re-encodes F16/BF16 with
 * round-to-nearest-even, so a value that was loaded from F16/BF16 is written back bit-exactly.
 * Tensors are read one at a time (positioned reads), so a file is never loaded whole.
 */
import { openSync, readSync, closeSync, fstatSync } from 'node:fs';
import { writeFileAtomicSync } from '../core/atomicWrite';

/** Tensor element types the engine understands as floating-point weights. */
export type FloatDtype = 'F32' | 'F16' | 'BF16';

/** One entry of a safetensors header. */
export interface TensorInfo {
  /** Element type as written in the file, e.g. "F32", "BF16", "I64". */
  dtype: string;
  shape: number[];
  /** Byte range relative to the start of the data section. */
  dataOffsets: [number, number];
}

/** A parsed header plus where the data section starts. */
export interface SafetensorsHeader {
  path: string;
  tensors: Map<string, TensorInfo>;
  metadata: Record<string, string> | undefined;
  /** Absolute file offset of the first data byte (8 + header length). */
  dataStart: number;
}

const BYTES_PER: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

/** Bytes per element of a safetensors dtype (throws for unknown ones). */
export function bytesPerElement(dtype: string): number {
  const n = BYTES_PER[dtype];
  if (n === undefined) throw new Error(`unknown safetensors dtype "${dtype}"`);
  return n;
}

/** Reads and validates the header of a .safetensors file. */
export function readHeader(path: string): SafetensorsHeader {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const lenBuf = Buffer.alloc(8);
    if (readSync(fd, lenBuf, 0, 8, 0) !== 8) throw new Error(`${path}: not a safetensors file (shorter than 8 bytes)`);
    const headerLen = Number(lenBuf.readBigUInt64LE(0));
    if (headerLen <= 0 || 8 + headerLen > size || headerLen > 100_000_000) {
      throw new Error(`${path}: not a safetensors file (header length ${headerLen} does not fit the file size ${size})`);
    }
    const hBuf = Buffer.alloc(headerLen);
    readSync(fd, hBuf, 0, headerLen, 8);
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(hBuf.toString('utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new Error(`${path}: safetensors header is not valid JSON (${(e as Error).message})`);
    }
    const tensors = new Map<string, TensorInfo>();
    let metadata: Record<string, string> | undefined;
    const dataLen = size - 8 - headerLen;
    for (const [name, v] of Object.entries(json)) {
      if (name === '__metadata__') {
        metadata = v as Record<string, string>;
        continue;
      }
      const e = v as { dtype?: string; shape?: number[]; data_offsets?: [number, number] };
      if (typeof e.dtype !== 'string' || !Array.isArray(e.shape) || !Array.isArray(e.data_offsets)) {
        throw new Error(`${path}: header entry "${name}" lacks dtype, shape or data_offsets`);
      }
      const [b, end] = e.data_offsets;
      const expected = e.shape.reduce((p, q) => p * q, 1) * bytesPerElement(e.dtype);
      if (end - b !== expected || b < 0 || end > dataLen) {
        throw new Error(`${path}: tensor "${name}" has data_offsets [${b}, ${end}] inconsistent with shape [${e.shape}] ${e.dtype} (data section ${dataLen} bytes)`);
      }
      tensors.set(name, { dtype: e.dtype, shape: e.shape, dataOffsets: [b, end] });
    }
    return { path, tensors, metadata, dataStart: 8 + headerLen };
  } finally {
    closeSync(fd);
  }
}

/** Reads one tensor's raw bytes. */
export function readTensorBytes(header: SafetensorsHeader, name: string): Uint8Array {
  const info = header.tensors.get(name);
  if (!info) throw new Error(`${header.path}: no tensor named "${name}"`);
  const [b, e] = info.dataOffsets;
  const buf = Buffer.alloc(e - b);
  const fd = openSync(header.path, 'r');
  try {
    let done = 0;
    while (done < buf.length) {
      const n = readSync(fd, buf, done, buf.length - done, header.dataStart + b + done);
      if (n <= 0) throw new Error(`${header.path}: unexpected end of file reading "${name}"`);
      done += n;
    }
  } finally {
    closeSync(fd);
  }
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
}

/** Decodes raw little-endian bytes of a float dtype into float32. */
export function decodeFloats(bytes: Uint8Array, dtype: string, where: string): Float32Array {
  const n = bytes.length / bytesPerElement(dtype);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(n);
  if (dtype === 'F32') {
    for (let i = 0; i < n; i++) out[i] = dv.getFloat32(4 * i, true);
  } else if (dtype === 'F16') {
    for (let i = 0; i < n; i++) out[i] = f16BitsToFloat(dv.getUint16(2 * i, true));
  } else if (dtype === 'BF16') {
    const u32 = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) u32[i] = dv.getUint16(2 * i, true) << 16;
  } else if (dtype === 'F64') {
    for (let i = 0; i < n; i++) out[i] = dv.getFloat64(8 * i, true);
  } else {
    throw new Error(`${where}: dtype ${dtype} is not a floating-point weight type (expected F32, F16 or BF16)`);
  }
  return out;
}

/** Encodes float32 values as little-endian bytes of dtype (F16/BF16 rounded to nearest even). */
export function encodeFloats(values: Float32Array, dtype: FloatDtype): Uint8Array {
  const n = values.length;
  const out = new Uint8Array(n * bytesPerElement(dtype));
  const dv = new DataView(out.buffer);
  if (dtype === 'F32') {
    for (let i = 0; i < n; i++) dv.setFloat32(4 * i, values[i], true);
  } else if (dtype === 'F16') {
    for (let i = 0; i < n; i++) dv.setUint16(2 * i, floatToF16Bits(values[i]), true);
  } else {
    const u32 = new Uint32Array(values.buffer, values.byteOffset, n);
    for (let i = 0; i < n; i++) dv.setUint16(2 * i, f32BitsToBf16Bits(u32[i]), true);
  }
  return out;
}

/** IEEE half → float. */
export function f16BitsToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 → IEEE half bits, round to nearest even; overflow → ±Inf, NaN stays NaN. */
export function floatToF16Bits(x: number): number {
  f32[0] = x;
  const bits = u32[0];
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  let mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign; // underflows to ±0
    mant |= 0x800000; // implicit 1
    const shift = 14 - e; // 24-bit mantissa → 10-bit subnormal
    const half = 1 << (shift - 1);
    const rest = mant & ((1 << shift) - 1);
    let m = mant >>> shift;
    if (rest > half || (rest === half && (m & 1))) m++;
    return sign | m; // a carry into bit 10 correctly yields the smallest normal
  }
  let m = mant >>> 13;
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (m & 1))) {
    m++;
    if (m === 0x400) {
      m = 0;
      e++;
      if (e >= 31) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | m;
}

/** float32 bits → bfloat16 bits, round to nearest even (NaN stays a quiet NaN). */
export function f32BitsToBf16Bits(bits: number): number {
  if ((bits & 0x7f800000) === 0x7f800000 && (bits & 0x7fffff) !== 0) return ((bits >>> 16) | 0x40) & 0xffff;
  const lsb = (bits >>> 16) & 1;
  return ((bits + 0x7fff + lsb) >>> 16) & 0xffff;
}

/** Rounds float32 values through dtype and back (what a save/load cycle does to them). */
export function quantize(values: Float32Array, dtype: FloatDtype): Float32Array {
  if (dtype === 'F32') return values.slice();
  return decodeFloats(encodeFloats(values, dtype), dtype, 'quantize');
}

/** One tensor to write. */
export interface TensorToWrite {
  name: string;
  dtype: string;
  shape: number[];
  /** Raw little-endian bytes (length = prod(shape)·bytesPerElement(dtype)). */
  bytes: Uint8Array;
}

/**
 * Writes a .safetensors file: tensors sorted by name with contiguous data offsets, the header padded with
 * spaces to a multiple of 8 bytes, and `__metadata__` (default {"format": "pt"}, which transformers expects).
 * Atomic (core/atomicWrite.ts): a crash leaves the old file or the new one, never a part.
 */
export function writeSafetensors(path: string, tensors: TensorToWrite[], metadata: Record<string, string> = { format: 'pt' }): void {
  const sorted = [...tensors].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const t of sorted) {
    const expected = t.shape.reduce((p, q) => p * q, 1) * bytesPerElement(t.dtype);
    if (t.bytes.length !== expected) throw new Error(`writing ${path}: tensor "${t.name}" has ${t.bytes.length} bytes, shape [${t.shape}] ${t.dtype} needs ${expected}`);
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.bytes.length] };
    offset += t.bytes.length;
  }
  let json = JSON.stringify(header);
  const pad = (8 - (Buffer.byteLength(json) % 8)) % 8;
  json += ' '.repeat(pad);
  const hBytes = Buffer.from(json, 'utf8');
  const lenBuf = Buffer.alloc(8);
  lenBuf.writeBigUInt64LE(BigInt(hBytes.length), 0);
  writeFileAtomicSync(path, [lenBuf, hBytes, ...sorted.map((t) => t.bytes)]);
}
