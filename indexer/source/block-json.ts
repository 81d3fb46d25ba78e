/**
 * getBlock answers parsed with each block's transactions left as byte ranges, parsed one at a time when decoded.
 * @dev JSON.parse of a whole 50 MB block keeps every transaction's object graph alive until the last one is
 * decoded: the young-generation collector copies all of it, twice, into the old generation, and the 50 MB string
 * itself is one more fresh allocation. Parsed one transaction at a time, each graph dies young. Measured on the
 * bench's synthetic blocks (4,000 tracked transactions each): parse + decode 210-270 us of CPU per transaction
 * whole, 145-150 us split, the split scan included.
 *
 * The scan walks the body once, skipping strings, and cuts out the `transactions` array of every answer's `result`
 * (`[{..., "result": {..., "transactions": [...]}}]` or the single-answer form), recording each element's byte
 * range. The rest, a few hundred bytes per block, is parsed with JSON.parse. Anything unexpected (an element that
 * is not an object, stray bytes between elements, duplicate keys, unbalanced brackets) falls back to parsing the
 * whole body, so the result is always what JSON.parse would give, with the arrays wrapped.
 */
import { shareRelease } from "./body-pool.js";
import { parseExact } from "./exact-json.js";
import { jsonText } from "./rpc.js";

/** Thrown by LazyTransactions.get after release(): a reader that outlived its bytes (a bug, never bad input). */
export class ReleasedBodyError extends Error {}

/**
 * A block's transactions: `length`, and `get(i)` parses item i (a SyntaxError for a malformed one). `release()`
 * says the items will not be read again: the answer's bytes go back to the receive pool (body-pool.ts).
 */
export class LazyTransactions {
  private body: Buffer | null;

  private constructor(
    body: Buffer | null,
    private readonly spans: number[],
    private readonly parsed: unknown[] | null,
    private readonly onRelease: () => void,
  ) {
    this.body = body;
  }

  /** Items already parsed (the fallback path). */
  static of(items: unknown[]): LazyTransactions {
    return new LazyTransactions(null, [], items, () => {});
  }

  /** Items as [start, end) byte ranges of `body`, flattened: start0, end0, start1, end1, ... */
  static spans(body: Buffer, spans: number[], onRelease: () => void = () => {}): LazyTransactions {
    return new LazyTransactions(body, spans, null, onRelease);
  }

  /** Done reading (idempotent): a cut list's `get` throws ReleasedBodyError from now on. */
  release(): void {
    if (this.parsed) return;
    this.body = null;
    this.onRelease();
  }

  /** True when the items are byte ranges of the body (the scan cut them); false after a whole-body parse. */
  get cut(): boolean {
    return this.parsed === null;
  }

  get length(): number {
    return this.parsed ? this.parsed.length : this.spans.length / 2;
  }

  /** Item i as JSON.parse gives it (a fresh object on every call). */
  get(i: number): unknown {
    if (this.parsed) return this.parsed[i];
    if (!this.body) throw new ReleasedBodyError(`transaction ${i} read after its answer was released`);
    return parseExact(jsonText(this.body.subarray(this.spans[2 * i]!, this.spans[2 * i + 1]!)));
  }
}

// Byte classes of the scan: 1 string, 2 open, 3 close, 4 colon, 5 comma.
const CLS = new Uint8Array(256);
CLS[0x22] = 1;
CLS[0x7b] = 2;
CLS[0x5b] = 2;
CLS[0x7d] = 3;
CLS[0x5d] = 3;
CLS[0x3a] = 4;
CLS[0x2c] = 5;

const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/**
 * Index of the closing quote of the string whose opening quote is at `i` (the length if unterminated).
 * @dev Quotes are found by Buffer.indexOf (native memchr) and an escaped one is told by the backslashes before it:
 * half the CPU of a byte loop over a getBlock answer (2.3 against 4.6 ns per byte on the bench's blocks).
 */
function stringEnd(buf: Buffer, i: number): number {
  let q = buf.indexOf(0x22, i + 1);
  while (q > 0) {
    let k = q - 1;
    while (buf[k] === 0x5c) k--;
    // An even run of backslashes escapes only itself: the quote ends the string.
    if (((q - 1 - k) & 1) === 0) return q;
    q = buf.indexOf(0x22, q + 1);
  }
  return buf.length;
}

/**
 * The elements of the array opened at `open`: their [start, end) ranges pushed on `spans`, and the index of the
 * closing bracket; -1 unless every element is an object and only commas and whitespace lie between them.
 */
function splitObjects(buf: Buffer, b: Uint8Array, open: number, spans: number[]): number {
  const n = b.length;
  let depth = 0;
  let start = -1;
  let want = 0; // at depth 0: 0 = an element or "]", 1 = "," or "]", 2 = an element (after a comma)
  for (let i = open + 1; i < n; i++) {
    const c = b[i]!;
    if (depth > 0) {
      if (c === 0x22) i = stringEnd(buf, i);
      else if (c === 0x7b || c === 0x5b) depth++;
      else if ((c === 0x7d || c === 0x5d) && --depth === 0) {
        if (c !== 0x7d) return -1;
        spans.push(start, i + 1);
        want = 1;
      }
      continue;
    }
    if (isSpace(c)) continue;
    if (c === 0x7b && want !== 1) {
      start = i;
      depth = 1;
    } else if (c === 0x2c && want === 1) want = 2;
    else if (c === 0x5d && want !== 2) return i;
    else return -1;
  }
  return -1;
}

/** Cuts out the answers' `result.transactions` arrays; null when the body is not the expected shape. */
function scan(buf: Buffer): { skeleton: Buffer; lists: number[][] } | null {
  const b = new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
  const n = b.length;
  let first = 0;
  while (first < n && isSpace(b[first]!)) first++;
  const batch = b[first] === 0x5b;
  // The depth of the `result` object holding the array: answer objects are at depth 1 (single) or 2 (batch).
  const resultDepth = batch ? 3 : 2;
  const openedUnder: (string | null)[] = [null, null, null, null];
  const pieces: Buffer[] = [];
  const lists: number[][] = [];
  let copied = 0;
  let depth = 0;
  let key: string | null = null;
  let strStart = -1;
  let strEnd = -1;
  for (let i = first; i < n; i++) {
    const k = CLS[b[i]!]!;
    if (k === 0) continue;
    if (k === 1) {
      strStart = i + 1;
      i = strEnd = stringEnd(buf, i);
    } else if (k === 4) {
      key = depth <= resultDepth && strEnd - strStart <= 16 ? buf.toString("latin1", strStart, strEnd) : null;
    } else if (k === 5) {
      key = null;
    } else if (k === 2) {
      if (b[i] === 0x5b && key === "transactions" && depth === resultDepth && openedUnder[depth] === "result") {
        const spans: number[] = [];
        const close = splitObjects(buf, b, i, spans);
        if (close < 0) return null;
        pieces.push(buf.subarray(copied, i + 1));
        copied = close;
        lists.push(spans);
        i = close;
        key = null;
        continue;
      }
      depth++;
      if (depth <= resultDepth) openedUnder[depth] = key;
      key = null;
    } else {
      if (--depth < 0) return null;
      key = null;
    }
  }
  if (depth !== 0) return null;
  pieces.push(buf.subarray(copied));
  return { skeleton: Buffer.concat(pieces), lists };
}

/** The `result.transactions` arrays of a parsed body (one answer or a batch), in document order. */
function resultLists(value: unknown): { result: { transactions: unknown } }[] {
  const answers = Array.isArray(value) ? value : [value];
  const out: { result: { transactions: unknown } }[] = [];
  for (const a of answers) {
    const r = (a as { result?: unknown } | null)?.result;
    if (
      typeof r === "object" &&
      r !== null &&
      !Array.isArray(r) &&
      "transactions" in r &&
      Array.isArray((r as { transactions: unknown }).transactions)
    )
      out.push(a as { result: { transactions: unknown } });
  }
  return out;
}

/**
 * A JSON-RPC response body (one answer or a batch) as JSON.parse gives it, except that each answer's
 * `result.transactions` array is a LazyTransactions. Throws SyntaxError for a body that is not JSON. `release`
 * is called once nothing reads `body` any more: at once when nothing was cut, else when each list is released.
 */
export function parseBlockAnswers(body: Buffer, release: () => void = () => {}): unknown {
  const cut = scan(body);
  if (cut) {
    const value: unknown = parseExact(jsonText(cut.skeleton));
    const holders = resultLists(value);
    // The cut arrays were emptied: each must meet exactly one empty array where JSON.parse put it.
    if (
      holders.length === cut.lists.length &&
      holders.every((h) => (h.result.transactions as unknown[]).length === 0)
    ) {
      // The body is given back once every list is released (at once if there is none).
      const releases = shareRelease(release, holders.length);
      holders.forEach((h, i) => (h.result.transactions = LazyTransactions.spans(body, cut.lists[i]!, releases[i])));
      return value;
    }
  }
  const value: unknown = parseExact(jsonText(body));
  release();
  for (const h of resultLists(value)) h.result.transactions = LazyTransactions.of(h.result.transactions as unknown[]);
  return value;
}
