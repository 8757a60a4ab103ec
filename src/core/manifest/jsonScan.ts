/**
 * A strict JSON validator for one manifest line that materializes only the line's top-level
 * keys. The index calls it on every line of files that are gigabytes long, so it never builds
 * the values (no JSON.parse, no strings for nested keys): it walks the bytes once with a tight
 * loop and an explicit container stack (so a line of 100k '[' cannot overflow the call stack).
 *
 * It accepts exactly what `JSON.parse(new TextDecoder().decode(line))` accepts when the result
 * is an object, with one documented exception: bytes are not checked for valid UTF-8 (the
 * decoder would replace bad sequences with U+FFFD, which JSON.parse then accepts too, so the
 * verdict is the same).
 */

/** One top-level member of a line's object; offsets index the scanned byte array. */
export interface TopLevelMember {
  /** The decoded key (escapes resolved). */
  readonly key: string;
  /** Offset of the key's opening quote. */
  readonly keyStart: number;
  /** Offset of the value's first byte. */
  readonly valueStart: number;
  /** Offset just past the value's last byte. */
  readonly valueEnd: number;
}

/** The verdict on one line: its top-level members, or why it is not a JSON object. */
export type TopLevelScan =
  | { readonly ok: true; readonly members: TopLevelMember[] }
  | { readonly ok: false; readonly message: string; /** 1-based byte column in the line. */ readonly column: number };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

/** 1 for the bytes JSON allows after a backslash (u is handled apart). */
const SIMPLE_ESCAPE = new Uint8Array(256);
for (const c of '"\\/bfnrt') SIMPLE_ESCAPE[c.charCodeAt(0)] = 1;
/** 1 for hex digits. */
const HEX = new Uint8Array(256);
for (const c of '0123456789abcdefABCDEF') HEX[c.charCodeAt(0)] = 1;

// The scanner reports failures through these module-level slots instead of allocating a
// result object per nested value: the hot path returns plain numbers (-1 = failed).
let errorPos = 0;
let errorMessage = '';

function fail(pos: number, message: string): number {
  errorPos = pos;
  errorMessage = message;
  return -1;
}

/** Container kinds on the explicit stack. */
const IN_ARRAY = 1;
const IN_OBJECT = 2;
let stack = new Uint8Array(256);

/** Skips JSON whitespace from `i`; returns the first other position (or `end`). */
export function skipWs(b: Uint8Array, i: number, end: number): number {
  while (i < end) {
    const c = b[i]!;
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
    i++;
  }
  return i;
}

/**
 * Skips a string body starting just after its opening quote; returns the offset past the
 * closing quote, or -1. Checks escapes and rejects raw control characters.
 */
export function skipStringBody(b: Uint8Array, i: number, end: number): number {
  while (i < end) {
    const c = b[i++]!;
    if (c === QUOTE) return i;
    if (c === BACKSLASH) {
      if (i >= end) break;
      const e = b[i]!;
      if (SIMPLE_ESCAPE[e] === 1) {
        i++;
      } else if (e === 0x75 /* u */) {
        if (i + 5 > end) return fail(i - 1, 'truncated \\u escape');
        if (HEX[b[i + 1]!] !== 1 || HEX[b[i + 2]!] !== 1 || HEX[b[i + 3]!] !== 1 || HEX[b[i + 4]!] !== 1) {
          return fail(i - 1, 'bad \\u escape');
        }
        i += 5;
      } else {
        return fail(i - 1, 'bad escape in string');
      }
    } else if (c < 0x20) {
      return fail(i - 1, 'control character in string');
    }
  }
  return fail(end, 'unterminated string');
}

/** Skips a number starting at i (a '-' or digit); returns the offset past it, or -1. */
export function skipNumber(b: Uint8Array, i: number, end: number): number {
  const start = i;
  if (b[i] === MINUS) i++;
  if (i >= end) return fail(start, 'bad number');
  let c = b[i]!;
  if (c === ZERO) {
    i++;
  } else if (c > ZERO && c <= NINE) {
    i++;
    while (i < end && (c = b[i]!) >= ZERO && c <= NINE) i++;
  } else {
    return fail(start, 'bad number');
  }
  if (i < end && b[i] === DOT) {
    i++;
    const digits = i;
    while (i < end && (c = b[i]!) >= ZERO && c <= NINE) i++;
    if (i === digits) return fail(start, 'bad number');
  }
  if (i < end && (b[i] === 0x65 || b[i] === 0x45)) {
    i++;
    if (i < end && (b[i] === PLUS || b[i] === MINUS)) i++;
    const digits = i;
    while (i < end && (c = b[i]!) >= ZERO && c <= NINE) i++;
    if (i === digits) return fail(start, 'bad number');
  }
  return i;
}

function skipLiteral(b: Uint8Array, i: number, end: number, word: string): number {
  if (i + word.length > end) return fail(i, 'unexpected end of line');
  for (let k = 0; k < word.length; k++) {
    if (b[i + k] !== word.charCodeAt(k)) return fail(i, 'unexpected token');
  }
  return i + word.length;
}

/** Expects `"key"` then `:` at i (after whitespace); returns the offset just past the colon, or -1. */
function skipKeyColon(b: Uint8Array, i: number, end: number): number {
  i = skipWs(b, i, end);
  if (i >= end) return fail(i, 'unexpected end of line');
  if (b[i] !== QUOTE) return fail(i, 'expected a string key');
  i = skipStringBody(b, i + 1, end);
  if (i < 0) return -1;
  i = skipWs(b, i, end);
  if (i >= end) return fail(i, 'unexpected end of line');
  if (b[i] !== COLON) return fail(i, "expected ':'");
  return i + 1;
}

/** Byte classes for string bodies: 1 = ends or interrupts a plain run (quote, backslash, control). */
export const STRING_STOP = new Uint8Array(256);
for (let c = 0; c < 0x20; c++) STRING_STOP[c] = 1;
STRING_STOP[QUOTE] = 1;
STRING_STOP[BACKSLASH] = 1;

/**
 * Skips one JSON value starting at or after i (leading whitespace allowed); returns the offset
 * just past it, or -1 with the error recorded. Iterative, depth limited only by memory.
 * The common tokens (strings without escapes, plain numbers) are scanned inline: this loop is
 * where indexing a gigabyte manifest spends its time.
 */
export function skipValue(b: Uint8Array, i: number, end: number): number {
  let depth = 0;
  const stop = STRING_STOP;
  for (;;) {
    // Expecting a value.
    let c = b[i]!;
    if (c <= 0x20 && i < end) {
      i = skipWs(b, i, end);
      c = b[i]!;
    }
    if (i >= end) return fail(i, 'unexpected end of line');
    if (c === QUOTE) {
      i++;
      while (i < end && stop[b[i]!] === 0) i++;
      if (i < end && b[i] === QUOTE) i++;
      else {
        i = skipStringBody(b, i, end);
        if (i < 0) return -1;
      }
    } else if ((c >= ZERO && c <= NINE) || c === MINUS) {
      // Fast path for the usual shape -?D+(.D+)? ; anything else goes through skipNumber.
      const start = i;
      if (c === MINUS) {
        if (++i >= end) return fail(start, 'bad number');
        c = b[i]!;
      }
      if (c > ZERO && c <= NINE) {
        i++;
        while (i < end && (c = b[i]!) >= ZERO && c <= NINE) i++;
      } else if (c === ZERO) {
        c = b[++i]!;
      } else {
        return fail(start, 'bad number');
      }
      if (i < end && c === DOT) {
        const digits = ++i;
        while (i < end && (c = b[i]!) >= ZERO && c <= NINE) i++;
        if (i === digits) return fail(start, 'bad number');
      }
      if (i < end && (c === 0x65 || c === 0x45)) {
        i = skipNumber(b, start, end);
        if (i < 0) return -1;
      }
    } else if (c === LBRACE || c === LBRACKET) {
      let j = i + 1;
      if (b[j]! <= 0x20) j = skipWs(b, j, end);
      if (j < end && b[j] === (c === LBRACE ? RBRACE : RBRACKET)) {
        i = j + 1; // empty container: a complete value
      } else {
        if (depth === stack.length) {
          const grown = new Uint8Array(stack.length * 2);
          grown.set(stack);
          stack = grown;
        }
        if (c === LBRACE) {
          stack[depth++] = IN_OBJECT;
          i = skipKeyColon(b, j, end);
          if (i < 0) return -1;
        } else {
          stack[depth++] = IN_ARRAY;
          i = j;
        }
        continue;
      }
    } else if (c === 0x74 /* t */) {
      i = skipLiteral(b, i, end, 'true');
      if (i < 0) return -1;
    } else if (c === 0x66 /* f */) {
      i = skipLiteral(b, i, end, 'false');
      if (i < 0) return -1;
    } else if (c === 0x6e /* n */) {
      i = skipLiteral(b, i, end, 'null');
      if (i < 0) return -1;
    } else {
      return fail(i, c === COMMA || c === RBRACKET || c === RBRACE ? 'expected a value (trailing comma?)' : 'unexpected character');
    }
    // A value is complete: close containers until one continues with ','.
    for (;;) {
      if (depth === 0) return i;
      let d = b[i]!;
      if (d <= 0x20 && i < end) {
        i = skipWs(b, i, end);
        d = b[i]!;
      }
      if (i >= end) return fail(i, 'unexpected end of line');
      const top = stack[depth - 1]!;
      if (d === COMMA) {
        i++;
        if (top === IN_OBJECT) {
          // Inline the usual `"key":` without escapes or spaces.
          if (b[i] === QUOTE) {
            let k = i + 1;
            while (k < end && stop[b[k]!] === 0) k++;
            if (k + 1 < end && b[k] === QUOTE && b[k + 1] === COLON) {
              i = k + 2;
              break;
            }
          }
          i = skipKeyColon(b, i, end);
          if (i < 0) return -1;
        }
        break;
      }
      if ((d === RBRACKET && top === IN_ARRAY) || (d === RBRACE && top === IN_OBJECT)) {
        depth--;
        i++;
        continue;
      }
      return fail(i, top === IN_ARRAY ? "expected ',' or ']'" : "expected ',' or '}'");
    }
  }
}

const utf8 = new TextDecoder();

/** Decodes a validated string body [start, end) (between the quotes). */
export function decodeStringBody(b: Uint8Array, start: number, end: number): string {
  let ascii = true;
  for (let i = start; i < end; i++) {
    const c = b[i]!;
    if (c === BACKSLASH || c >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) {
    // Short ASCII keys dominate; fromCharCode beats TextDecoder's call overhead for them.
    return end - start <= 64 ? String.fromCharCode.apply(null, b.subarray(start, end) as unknown as number[]) : utf8.decode(b.subarray(start, end));
  }
  // Escapes: let JSON.parse resolve them (the body is already validated).
  return JSON.parse('"' + utf8.decode(b.subarray(start, end)) + '"') as string;
}

/**
 * A specialized scanner for the value of one top-level key (the index reads `soft-labels`
 * this way, validating and parsing in one pass). `scan` gets the value's first byte offset
 * and the line end and returns the offset just past the value, or -1 when the value is not
 * in the shape it handles or is invalid; then the generic validator takes over (and decides).
 */
export interface MemberScanner {
  readonly key: string;
  scan(bytes: Uint8Array, valueStart: number, end: number): number;
}

/**
 * Validates bytes [start, end) as one JSON object (surrounding whitespace allowed) and returns
 * its top-level members, or the first problem with its 1-based byte column. Duplicate keys
 * are all listed, in order (JSON.parse keeps the last).
 */
export function scanTopLevel(bytes: Uint8Array, start: number, end: number, special?: MemberScanner): TopLevelScan {
  const members: TopLevelMember[] = [];
  const b = bytes;
  let i = skipWs(b, start, end);
  const bad = (pos: number, message: string): TopLevelScan => ({ ok: false, message, column: pos - start + 1 });
  if (i >= end) return bad(i, 'empty line');
  if (b[i] !== LBRACE) return bad(i, 'not a JSON object');
  i = skipWs(b, i + 1, end);
  if (i < end && b[i] === RBRACE) {
    i++;
  } else {
    for (;;) {
      if (i >= end) return bad(i, 'unexpected end of line');
      if (b[i] !== QUOTE) return bad(i, 'expected a string key');
      const keyStart = i;
      i = skipStringBody(b, i + 1, end);
      if (i < 0) return bad(errorPos, errorMessage);
      const key = decodeStringBody(b, keyStart + 1, i - 1);
      i = skipWs(b, i, end);
      if (i >= end) return bad(i, 'unexpected end of line');
      if (b[i] !== COLON) return bad(i, "expected ':'");
      const valueStart = skipWs(b, i + 1, end);
      const fast = special !== undefined && key === special.key ? special.scan(b, valueStart, end) : -1;
      i = fast >= 0 && fast <= end ? fast : skipValue(b, valueStart, end);
      if (i < 0) return bad(errorPos, errorMessage);
      members.push({ key, keyStart, valueStart, valueEnd: i });
      i = skipWs(b, i, end);
      if (i >= end) return bad(i, 'unexpected end of line');
      if (b[i] === RBRACE) {
        i++;
        break;
      }
      if (b[i] !== COMMA) return bad(i, "expected ',' or '}'");
      i = skipWs(b, i + 1, end);
    }
  }
  i = skipWs(b, i, end);
  if (i < end) return bad(i, 'unexpected data after the object');
  return { ok: true, members };
}
