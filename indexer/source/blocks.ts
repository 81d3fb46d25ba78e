/**
 * Block fetching: getBlocks for the set of produced slots (never slot + 1), getBlock in JSON-RPC batches,
 * and the error codes that tell a skipped slot from a block that is not available yet.
 */
import { MalformedResponseError, RetryableError, RpcResponseError } from "../../core/errors.js";
import type {
  LazyBlock,
  RawBlock,
  RawBlockTransaction,
  RawCompiledInstruction,
  RawTokenBalance,
  RawTransaction,
  TransactionList,
} from "../../core/solana-types.js";
import { LazyTransactions, parseBlockAnswers, ReleasedBodyError } from "./block-json.js";
import { filteredBlock } from "./geyser-block.js";
import { FATAL_CODES, RpcFatalError, type RpcClient } from "./rpc.js";

/** The slot was skipped (or is missing from long-term storage as skipped): record it, never retry. */
export const SKIPPED_CODES = new Set([-32007, -32009]);
/** Not available yet: retry with backoff, never record as skipped. */
export const NOT_YET_CODES = new Set([-32004, -32014]);

/** The widest range one getBlocks call may ask for (Agave's MAX_GET_CONFIRMED_BLOCKS_RANGE). */
export const GET_BLOCKS_MAX_RANGE = 500_000;
/** The range producedSlots asks per call: well below the limit (a dense range answers one number per slot). */
const GET_BLOCKS_SPAN = GET_BLOCKS_MAX_RANGE / 10;

/** Produced slots in [from, to] at `commitment`, in order, via getBlocks in chunks. */
export async function producedSlots(rpc: RpcClient, from: number, to: number, commitment: string): Promise<number[]> {
  const out: number[] = [];
  for (let a = from; a <= to; a += GET_BLOCKS_SPAN) {
    const b = Math.min(to, a + GET_BLOCKS_SPAN - 1);
    const slots = await rpc.call<unknown>("getBlocks", [a, b, { commitment }]);
    if (!Array.isArray(slots) || slots.some((s) => typeof s !== "number"))
      throw new MalformedResponseError("getBlocks: expected an array of slot numbers");
    out.push(...(slots as number[]).filter((s) => s >= a && s <= b));
  }
  return out;
}

const isInt = (v: unknown): boolean => typeof v === "number" && Number.isInteger(v);
/** A slot, height, time or fee: a JS number is exact only up to 2^53, so anything past it is out of range. */
const isSafe = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
/**
 * Lamport balances: whole and not negative, a u64. One above 2^53 (an account may hold more than 9M SOL) is parsed
 * as its decimal text (parseExact), never rounded; decoders read each balance as bigint.
 */
const allBalances = (v: unknown): boolean =>
  Array.isArray(v) &&
  v.every((x) => (isInt(x) && x >= 0) || (typeof x === "string" && x.length > 15 && isU64String(x)));
/** base58 of 32 bytes (keys, hashes) is 32..44 characters; of 64 bytes (signatures) 64..88. Length only: hot path. */
const isKey = (v: unknown): boolean => typeof v === "string" && v.length >= 32 && v.length <= 44;
const isSignature = (v: unknown): boolean => typeof v === "string" && v.length >= 64 && v.length <= 88;
const BASE58 = /^[1-9A-HJ-NP-Za-km-z]{32,44}$/;
const U64_MAX = "18446744073709551615";
/** A u64 as a decimal string (token amounts): digits only, no sign, at most 2^64 - 1. */
const isU64String = (v: unknown): boolean =>
  typeof v === "string" && /^(0|[1-9]\d{0,19})$/.test(v) && (v.length < U64_MAX.length || v <= U64_MAX);

/**
 * Throws MalformedResponseError unless `b` has the shape decoding relies on: the block's numbers are numbers
 * (not strings), every transaction has signatures, account keys and a meta with numeric fee and balances.
 */
export function checkBlock(slot: number, b: unknown): RawBlock {
  const block = checkBlockHead(slot, b);
  if (!Array.isArray(block.transactions)) throw new MalformedResponseError(`getBlock ${slot}: transactions missing`);
  block.transactions.forEach((tx, i) => checkTransaction(slot, i, tx));
  return block as RawBlock;
}

/** The block's own fields (not its transactions); `transactions` must be an array or a LazyTransactions. */
function checkBlockHead(slot: number, b: unknown): Omit<RawBlock, "transactions"> & { transactions: unknown } {
  const fail = (what: string) => {
    throw new MalformedResponseError(`getBlock ${slot}: ${what}`);
  };
  if (typeof b !== "object" || b === null) fail("result is not an object");
  const block = b as Partial<RawBlock>;
  if (typeof block.blockhash !== "string") fail("blockhash missing");
  if (!BASE58.test(block.blockhash!)) fail("blockhash is not a base58 hash");
  // Live ingest checks each block names its parent's hash: a block without one cannot be placed in the chain.
  if (typeof block.previousBlockhash !== "string") fail("previousBlockhash missing");
  if (!BASE58.test(block.previousBlockhash!)) fail("previousBlockhash is not a base58 hash");
  if (block.parentSlot === undefined) fail("parentSlot missing");
  if (!isInt(block.parentSlot)) fail(`parentSlot is not a number (${typeof block.parentSlot})`);
  // A parent is below its child (genesis, slot 0, is its own parent).
  if (!isSafe(block.parentSlot) || (block.parentSlot! >= slot && slot !== 0))
    fail(`parentSlot out of range (${block.parentSlot})`);
  if (block.blockTime != null && !isInt(block.blockTime)) fail(`blockTime is not a number (${typeof block.blockTime})`);
  if (block.blockTime != null && !Number.isSafeInteger(block.blockTime))
    fail(`blockTime out of range (${block.blockTime})`);
  if (block.blockHeight != null && !isInt(block.blockHeight))
    fail(`blockHeight is not a number (${typeof block.blockHeight})`);
  if (block.blockHeight != null && !isSafe(block.blockHeight)) fail(`blockHeight out of range (${block.blockHeight})`);
  if (!Array.isArray(block.transactions) && !((block.transactions as unknown) instanceof LazyTransactions))
    fail("transactions missing");
  return block as Omit<RawBlock, "transactions"> & { transactions: unknown };
}

/** The error for a getBlock answer of `slot` without the shape decoding relies on. */
function malformed(slot: number, what: string): never {
  throw new MalformedResponseError(`getBlock ${slot}: ${what}`);
}

/** Throws MalformedResponseError unless transaction `i` of the block at `slot` has the shape decoding relies on. */
export function checkTransaction(slot: number, i: number, tx: unknown): RawBlockTransaction {
  const t = tx as Partial<RawBlockTransaction> | null;
  if (!t?.transaction || !Array.isArray(t.transaction.signatures) || !Array.isArray(t.transaction.message?.accountKeys))
    malformed(slot, `transaction ${i} has no signatures or account keys`);
  if (!t!.meta || typeof t!.meta !== "object") malformed(slot, `transaction ${i} has no meta`);
  if (!Array.isArray(t!.meta!.preBalances) || !Array.isArray(t!.meta!.postBalances))
    malformed(slot, `transaction ${i} meta has no balances`);
  if (!isInt(t!.meta!.fee) || !allBalances(t!.meta!.preBalances) || !allBalances(t!.meta!.postBalances))
    malformed(slot, `transaction ${i} meta has a fee or balance that is not a number`);
  checkRanges(slot, i, t as RawBlockTransaction);
  return t as RawBlockTransaction;
}

/**
 * The transaction's numbers and keys within their range: a field out of range is a malformed answer (retried, then
 * dead-lettered), never read as something else (an index past the keys as a missing account, a fee past 2^53
 * rounded, decimals past 255 wrapped by a u8 column).
 * @dev runs on every transaction of every block: plain loops and length checks only, no regex per key.
 */
function checkRanges(slot: number, i: number, t: RawBlockTransaction): void {
  const { message } = t.transaction;
  const meta = t.meta!;
  const sigs = t.transaction.signatures;
  if (sigs.length === 0) rangeError(slot, i, "has no signatures");
  for (let j = 0; j < sigs.length; j++)
    if (!isSignature(sigs[j])) rangeError(slot, i, "has a signature that is not base58 of 64 bytes");
  const keys = message.accountKeys;
  for (let j = 0; j < keys.length; j++)
    if (!isKey(keys[j])) rangeError(slot, i, "has an account key that is not base58 of 32 bytes");
  let nKeys = keys.length;
  const loaded = meta.loadedAddresses;
  if (loaded) nKeys += loadedCount(slot, i, loaded.writable) + loadedCount(slot, i, loaded.readonly);
  if (!isSafe(meta.fee)) rangeError(slot, i, `fee out of range (${meta.fee})`);
  if (meta.computeUnitsConsumed != null && !isSafe(meta.computeUnitsConsumed))
    rangeError(slot, i, `computeUnitsConsumed out of range (${String(meta.computeUnitsConsumed).slice(0, 40)})`);
  if (meta.preBalances.length !== nKeys || meta.postBalances.length !== nKeys)
    rangeError(slot, i, `has ${meta.preBalances.length}/${meta.postBalances.length} balances for ${nKeys} accounts`);
  const ixs = message.instructions;
  if (!Array.isArray(ixs)) rangeError(slot, i, "has no instructions");
  for (let j = 0; j < ixs.length; j++) {
    const why = instructionProblem(ixs[j], nKeys);
    if (why) rangeError(slot, i, `instruction ${j} ${why}`);
  }
  const inner = meta.innerInstructions;
  if (inner) {
    for (let k = 0; k < inner.length; k++) {
      const group = inner[k]!;
      if (!isSafe(group?.index) || group.index >= ixs.length)
        rangeError(slot, i, "inner instructions index out of range");
      if (!Array.isArray(group.instructions)) rangeError(slot, i, "inner instructions are not a list");
      for (let j = 0; j < group.instructions.length; j++) {
        const why = instructionProblem(group.instructions[j], nKeys);
        if (why) rangeError(slot, i, `inner instruction ${group.index}.${j} ${why}`);
      }
    }
  }
  if (meta.preTokenBalances) checkTokenBalances(slot, i, meta.preTokenBalances, nKeys);
  if (meta.postTokenBalances) checkTokenBalances(slot, i, meta.postTokenBalances, nKeys);
}

function rangeError(slot: number, i: number, what: string): never {
  return malformed(slot, `transaction ${i} ${what}`);
}

function loadedCount(slot: number, i: number, list: unknown): number {
  if (!Array.isArray(list)) rangeError(slot, i, "has loaded addresses that are not a list");
  const keys = list as unknown[];
  for (let j = 0; j < keys.length; j++)
    if (!isKey(keys[j])) rangeError(slot, i, "has a loaded address that is not base58 of 32 bytes");
  return keys.length;
}

/** Why a compiled instruction is out of range, or undefined (no message is built on the way: hot path). */
function instructionProblem(ix: RawCompiledInstruction | undefined, nKeys: number): string | undefined {
  if (!isSafe(ix?.programIdIndex) || ix.programIdIndex >= nKeys) return "program index out of range";
  const accounts = ix.accounts;
  if (!Array.isArray(accounts)) return "has no accounts";
  for (let a = 0; a < accounts.length; a++) {
    const x = accounts[a];
    if (!isSafe(x) || x >= nKeys) return `account index out of range (${x})`;
  }
  return typeof ix.data === "string" ? undefined : "has no data";
}

function checkTokenBalances(slot: number, i: number, list: RawTokenBalance[], nKeys: number): void {
  if (!Array.isArray(list)) rangeError(slot, i, "token balances are not a list");
  for (let j = 0; j < list.length; j++) {
    const tb = list[j]!;
    if (!isSafe(tb?.accountIndex) || tb.accountIndex >= nKeys)
      rangeError(slot, i, "token balance account index out of range");
    if (!isKey(tb.mint)) rangeError(slot, i, "token balance mint is not base58 of 32 bytes");
    if (tb.owner !== undefined && !isKey(tb.owner))
      rangeError(slot, i, "token balance owner is not base58 of 32 bytes");
    const ui = tb.uiTokenAmount;
    const d = ui?.decimals;
    if (!Number.isInteger(d) || d < 0 || d > 255) rangeError(slot, i, `token balance decimals out of range (${d})`);
    if (!isU64String(ui.amount))
      rangeError(slot, i, `token balance amount is not a u64 (${String(ui.amount).slice(0, 40)})`);
  }
}

/** A fetched block's transaction list over the lazily parsed answer. */
function transactionList(slot: number, items: unknown): TransactionList {
  const lazy = items instanceof LazyTransactions ? items : LazyTransactions.of(items as unknown[]);
  const seen = new Map<string, number>();
  return {
    length: lazy.length,
    release: () => lazy.release(),
    get(i) {
      let tx: unknown;
      try {
        tx = lazy.get(i);
      } catch (err) {
        if (err instanceof ReleasedBodyError) throw err;
        throw new MalformedResponseError(
          `getBlock ${slot}: transaction ${i} is not valid JSON (${(err as Error).message})`,
          { cause: err },
        );
      }
      const t = checkTransaction(slot, i, tx);
      // A signature is unique on chain: one twice in a block is an answer mixed up in flight, retried as malformed
      // (kept, the later copy would be stored under the wrong index).
      const sig = t.transaction.signatures[0]!;
      const at = seen.get(sig);
      if (at === undefined) seen.set(sig, i);
      else if (at !== i) malformed(slot, `transaction ${i} repeats the signature of transaction ${at}`);
      return t;
    },
  };
}

/** A getBlock result as parsed by parseBlockAnswers, checked and with its transactions read one at a time. */
export function blockFromResult(slot: number, result: unknown): LazyBlock {
  const head = checkBlockHead(slot, result);
  return { ...head, transactions: transactionList(slot, head.transactions) };
}

/** Result of fetching a set of produced slots. */
export type FetchedBlocks = { blocks: { slot: number; block: LazyBlock }[]; skipped: number[] };

/** Fetches blocks in JSON-RPC batches; a not-yet-available block throws RetryableError (the job is retried). */
export async function fetchBlocks(
  rpc: RpcClient,
  slots: number[],
  commitment: string,
  opts: { beforeParse?: () => Promise<void> } = {},
): Promise<FetchedBlocks> {
  const config = {
    encoding: "json",
    maxSupportedTransactionVersion: 0,
    transactionDetails: "full",
    rewards: false,
    commitment,
  };
  const answers = await rpc.batch<unknown>(
    slots.map((s) => ({ method: "getBlock", params: [s, config] })),
    { ...opts, parse: parseBlockAnswers },
  );
  const out: FetchedBlocks = { blocks: [], skipped: [] };
  try {
    answers.forEach((a, i) => {
      const slot = slots[i]!;
      if (a.error) {
        if (SKIPPED_CODES.has(a.error.code)) return void out.skipped.push(slot);
        if (NOT_YET_CODES.has(a.error.code))
          throw new RetryableError(`getBlock ${slot}: ${a.error.code} ${a.error.message}`);
        // -32015 (version not supported), -32601, -32602: a configuration problem, never a skipped slot; fails once.
        if (FATAL_CODES.has(a.error.code))
          throw new RpcFatalError("getBlock", a.error.code, `slot ${slot}: ${a.error.message}`);
        // Any other code (-32001 cleaned up, -32011 no history, ...): retried by the queue, then dead-lettered.
        throw new RpcResponseError("getBlock", a.error.code, `slot ${slot}: ${a.error.message}`);
      }
      if (a.result === null) throw new RetryableError(`getBlock ${slot}: null result`);
      out.blocks.push({ slot, block: blockFromResult(slot, a.result) });
    });
  } catch (err) {
    // Nothing will read this batch's answers: their receive buffer goes back to the pool.
    for (const a of answers) {
      const list = (a.result as { transactions?: unknown } | null | undefined)?.transactions;
      if (list instanceof LazyTransactions) list.release();
    }
    throw err;
  }
  return out;
}

/**
 * Blocks whose getBlock answers are already at hand (gRPC mode: streamed, see source/geyser-block.ts), parsed and
 * checked as fetched ones are; the slots without an answer are fetched over RPC. Blocks come back in slot order.
 * An answer filtered on the tracked programs stands for its block only when it was filtered on every one of
 * `opts.programs` (the decoder's); otherwise the block is fetched.
 */
export async function blocksWithAnswers(
  rpc: RpcClient,
  slots: number[],
  answers: (Buffer | null)[],
  commitment: string,
  opts: { beforeParse?: () => Promise<void>; programs?: ReadonlySet<string> } = {},
): Promise<FetchedBlocks> {
  const missing = slots.filter((_, i) => !answers[i]);
  const fetched = missing.length ? await fetchBlocks(rpc, missing, commitment, opts) : { blocks: [], skipped: [] };
  if (missing.length < slots.length) await opts.beforeParse?.();
  const held: FetchedBlocks["blocks"] = [];
  const unreadable: number[] = [];
  slots.forEach((slot, i) => {
    const body = answers[i];
    if (!body) return;
    try {
      const answer = parseBlockAnswers(body) as { result?: unknown; filtered?: unknown };
      const whole = blockFromResult(slot, answer.result);
      const block = answer.filtered === undefined ? whole : filteredBlock(whole, answer.filtered, opts.programs);
      if (block) held.push({ slot, block });
      else {
        whole.transactions.release();
        unreadable.push(slot);
      }
    } catch {
      // not the shape a block answer has: the endpoint's own answer decides
      unreadable.push(slot);
    }
  });
  if (unreadable.length) {
    const again = await fetchBlocks(rpc, unreadable, commitment);
    held.push(...again.blocks);
    fetched.skipped.push(...again.skipped);
  }
  const blocks = [...fetched.blocks, ...held].sort((a, b) => a.slot - b.slot);
  return { blocks, skipped: fetched.skipped };
}

/** Says the fetched blocks' transactions will not be read again (after decoding): see TransactionList.release. */
export function releaseBlocks(fetched: FetchedBlocks): void {
  for (const { block } of fetched.blocks) block.transactions.release();
}

/**
 * Fetches transactions by signature in JSON-RPC batches (logs mode). A transaction not visible yet (null) throws
 * RetryableError, so the job is retried rather than the signature dropped.
 */
export async function fetchTransactions(
  rpc: RpcClient,
  signatures: string[],
  commitment: string,
  opts: { beforeParse?: () => Promise<void> } = {},
): Promise<RawTransaction[]> {
  const config = { encoding: "json", maxSupportedTransactionVersion: 0, commitment };
  const answers = await rpc.batch<unknown>(
    signatures.map((s) => ({ method: "getTransaction", params: [s, config] })),
    opts,
  );
  return answers.map((a, i) => {
    const sig = signatures[i]!;
    if (a.error) {
      if (NOT_YET_CODES.has(a.error.code))
        throw new RetryableError(`getTransaction ${sig}: ${a.error.code} ${a.error.message}`);
      if (FATAL_CODES.has(a.error.code))
        throw new RpcFatalError("getTransaction", a.error.code, `${sig}: ${a.error.message}`);
      throw new RpcResponseError("getTransaction", a.error.code, `${sig}: ${a.error.message}`);
    }
    if (a.result === null) throw new RetryableError(`getTransaction ${sig}: not found yet`);
    const t = a.result as Partial<RawTransaction>;
    if (typeof t.slot !== "number" || !t.transaction || !t.meta)
      throw new MalformedResponseError(`getTransaction ${sig}: missing slot, transaction or meta`);
    return t as RawTransaction;
  });
}

/**
 * The position of each of `signatures` in its slot's block (logs mode: getTransaction does not tell it), from one
 * getBlock per distinct slot with `transactionDetails: "signatures"` (each transaction's first signature, in block
 * order), batched. A slot whose block is not available yet, or whose block does not hold the signature (it landed
 * on another fork than the one served), throws RetryableError: a position is never guessed.
 */
export async function fetchTxPositions(
  rpc: RpcClient,
  txs: { signature: string; slot: number }[],
  commitment: string,
): Promise<Map<string, number>> {
  const slots = [...new Set(txs.map((t) => t.slot))].sort((a, b) => a - b);
  const config = {
    encoding: "json",
    maxSupportedTransactionVersion: 0,
    transactionDetails: "signatures",
    rewards: false,
    commitment,
  };
  const answers = await rpc.batch<{ signatures?: unknown }>(
    slots.map((s) => ({ method: "getBlock", params: [s, config] })),
  );
  const bySlot = new Map<number, Map<string, number>>();
  answers.forEach((a, i) => {
    const slot = slots[i]!;
    if (a.error) {
      if (FATAL_CODES.has(a.error.code))
        throw new RpcFatalError("getBlock", a.error.code, `slot ${slot}: ${a.error.message}`);
      throw new RetryableError(`getBlock ${slot} (signatures): ${a.error.code} ${a.error.message}`);
    }
    const sigs = a.result?.signatures;
    if (!Array.isArray(sigs)) throw new MalformedResponseError(`getBlock ${slot} (signatures): no signatures array`);
    bySlot.set(slot, new Map(sigs.map((s, j) => [String(s), j])));
  });
  const out = new Map<string, number>();
  for (const t of txs) {
    const at = bySlot.get(t.slot)?.get(t.signature);
    if (at === undefined) throw new RetryableError(`getBlock ${t.slot} does not hold transaction ${t.signature}`);
    out.set(t.signature, at);
  }
  return out;
}

/** A block's place in the chain: what getBlock answers with transactionDetails "none". */
export type BlockHead = { slot: number; parentSlot: number; blockhash: string; previousBlockhash: string };

/**
 * Heads of `slots` (getBlock, transactionDetails "none": a few hundred bytes each) in JSON-RPC batches. A slot the
 * node calls skipped maps to "skipped", one not available yet to "missing".
 * @dev for the finality tracker's rare question "is this stored block, which getBlocks leaves out, still a block?":
 * never asked per scan.
 */
export async function fetchBlockHeads(
  rpc: RpcClient,
  slots: number[],
  commitment: string,
): Promise<Map<number, BlockHead | "skipped" | "missing">> {
  const config = { transactionDetails: "none", rewards: false, maxSupportedTransactionVersion: 0, commitment };
  const answers = await rpc.batch<unknown>(slots.map((s) => ({ method: "getBlock", params: [s, config] })));
  const out = new Map<number, BlockHead | "skipped" | "missing">();
  answers.forEach((a, i) => {
    const slot = slots[i]!;
    if (a.error) {
      if (SKIPPED_CODES.has(a.error.code)) return void out.set(slot, "skipped");
      if (NOT_YET_CODES.has(a.error.code)) return void out.set(slot, "missing");
      throw new RpcResponseError("getBlock", a.error.code, `slot ${slot}: ${a.error.message}`);
    }
    if (a.result === null) return void out.set(slot, "missing");
    const b = a.result as Partial<RawBlock>;
    if (
      typeof b?.blockhash !== "string" ||
      !BASE58.test(b.blockhash) ||
      typeof b.previousBlockhash !== "string" ||
      !BASE58.test(b.previousBlockhash) ||
      !isSafe(b.parentSlot) ||
      (b.parentSlot >= slot && slot !== 0)
    )
      throw new MalformedResponseError(`getBlock ${slot}: head without a valid blockhash, previousBlockhash or parent`);
    out.set(slot, { slot, parentSlot: b.parentSlot, blockhash: b.blockhash, previousBlockhash: b.previousBlockhash });
  });
  return out;
}
