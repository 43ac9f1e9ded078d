/**
 * Streaming JSONL line reader with byte offsets. Reads fixed-size chunks and splits on '\n', so a file of
 * any size is never held in memory whole. Handles CRLF, a UTF-8 BOM at the start, blank lines and a last
 * line without a trailing newline (reported as `terminated: false`); marks lines whose bytes are not UTF-8.
 * A directory or a UTF-16 file (byte-order mark) is refused with an error naming the path.
 */
import { isUtf8 } from 'node:buffer';
import { open, type FileHandle } from 'node:fs/promises';

/** One physical line of a JSONL file. */
export interface JsonlLine {
  /** 1-based line number. */
  line: number;
  /** Byte offset of the line's first byte (after the BOM for line 1). */
  offset: number;
  /** Length in bytes of the line's content, without the '\n' (a trailing '\r' is included here). */
  byteLength: number;
  /** Decoded text without the line ending ('\n' or '\r\n') and without a BOM. */
  text: string;
  /** False only for a last line that has no '\n' after it. */
  terminated: boolean;
  /** False when the line's bytes are not valid UTF-8 (`text` then holds U+FFFD for the bad bytes). */
  utf8: boolean;
}

/** Options of {@link readJsonlLines}. */
export interface ReadLinesOptions {
  /** Bytes read per chunk (default 64 KiB). */
  chunkSize?: number;
  /** Byte offset to start at (must be the start of a line; default 0). */
  startOffset?: number;
  /** Line number of the line at `startOffset` (default 1). */
  startLine?: number;
}

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** Decodes a line's bytes: drops a trailing '\r'. */
function decodeLine(bytes: Buffer): string {
  const end = bytes.length > 0 && bytes[bytes.length - 1] === CARRIAGE_RETURN ? bytes.length - 1 : bytes.length;
  return bytes.toString('utf8', 0, end);
}

/** Opens `path` for reading; a directory is refused with an error naming it (open() itself accepts one). */
async function openFileForReading(path: string): Promise<FileHandle> {
  const handle = await open(path, 'r');
  if ((await handle.stat()).isDirectory()) {
    await handle.close();
    throw new Error(`${path}: is a directory, not a JSONL file`);
  }
  return handle;
}

/** Streams the lines of `path` in order, with 1-based line numbers and byte offsets. */
export async function* readJsonlLines(path: string, options: ReadLinesOptions = {}): AsyncGenerator<JsonlLine> {
  const chunkSize = options.chunkSize ?? 64 * 1024;
  const handle = await openFileForReading(path);
  try {
    let position = options.startOffset ?? 0;
    let lineNumber = options.startLine ?? 1;
    let lineStart = position; // offset of the current (pending) line's first byte
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    if (position === 0) {
      // Skip a UTF-8 BOM: line 1 then starts at byte 3. A UTF-16 BOM (e.g. PowerShell's `>`) cannot be read as lines.
      const head = Buffer.alloc(3);
      const { bytesRead } = await handle.read(head, 0, 3, 0);
      if (bytesRead === 3 && head.equals(BOM)) position = lineStart = 3;
      const utf16 = bytesRead >= 2 && ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff));
      if (utf16) throw new Error(`${path}: UTF-16 text (byte-order mark ${head[0] === 0xff ? 'FF FE' : 'FE FF'}); save the file as UTF-8`);
    }
    const chunk = Buffer.allocUnsafe(chunkSize);
    for (;;) {
      const { bytesRead } = await handle.read(chunk, 0, chunkSize, position);
      if (bytesRead === 0) break;
      const data = chunk.subarray(0, bytesRead);
      position += bytesRead;
      let from = 0;
      for (;;) {
        const nl = data.indexOf(NEWLINE, from);
        if (nl < 0) break;
        const piece = data.subarray(from, nl);
        const bytes = pendingBytes > 0 ? Buffer.concat([...pending, piece]) : piece;
        yield { line: lineNumber, offset: lineStart, byteLength: bytes.length, text: decodeLine(bytes), terminated: true, utf8: isUtf8(bytes) };
        lineStart += bytes.length + 1;
        lineNumber++;
        pending = [];
        pendingBytes = 0;
        from = nl + 1;
      }
      if (from < data.length) {
        // Copy: `chunk` is reused by the next read.
        pending.push(Buffer.from(data.subarray(from)));
        pendingBytes += data.length - from;
      }
    }
    if (pendingBytes > 0) {
      const bytes = Buffer.concat(pending);
      yield { line: lineNumber, offset: lineStart, byteLength: bytes.length, text: decodeLine(bytes), terminated: false, utf8: isUtf8(bytes) };
    }
  } finally {
    await handle.close();
  }
}

/** Reads `byteLength` bytes at `offset` and decodes them as one line (random access by a line index). */
export async function readLineAt(path: string, offset: number, byteLength: number): Promise<string> {
  const handle = await openFileForReading(path);
  try {
    const bytes = Buffer.alloc(byteLength);
    let done = 0;
    while (done < byteLength) {
      const { bytesRead } = await handle.read(bytes, done, byteLength - done, offset + done);
      if (bytesRead === 0) throw new Error(`${path}: file shrank while reading bytes ${offset}..${offset + byteLength}`);
      done += bytesRead;
    }
    return decodeLine(bytes);
  } finally {
    await handle.close();
  }
}

/**
 * True when `text` looks like the start of a JSON object cut off mid-write: it opens with '{' and ends
 * before that object closes (scanning strings and escapes). A complete but malformed object returns false.
 */
export function looksTruncatedObject(text: string): boolean {
  const s = text.trimStart();
  if (!s.startsWith('{')) return false;
  let depth = 0;
  let inString = false;
  let escaped = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (c === '\\') escaped = true;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) return false;
    }
  }
  return true;
}

/** Control characters as `\uXXXX`, so a message quoting a line (binary data, escape codes) is safe to print. */
export function escapeControlCharacters(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Formats a JSON.parse failure (V8's message quotes the line; control characters are escaped). */
export function jsonErrorMessage(err: unknown): string {
  return `invalid JSON (${escapeControlCharacters(err instanceof Error ? err.message : String(err))})`;
}

/** The problem of a line that is not JSON and whose bytes are not UTF-8 either. */
export const NOT_UTF8_MESSAGE = 'not UTF-8 text (a binary file, or a file saved in another encoding?)';

/** The problem of a JSON line with bytes that are not UTF-8 (they read as U+FFFD). */
export const INVALID_UTF8_WARNING = 'invalid UTF-8 bytes, read as U+FFFD (save the file as UTF-8)';
