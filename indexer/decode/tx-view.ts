/**
 * One transaction, seen the way every program decoder needs it: the full account key list, the
 * instructions flattened in execution order with their paths, and the token balances by account.
 * @dev built once per transaction; every field is computed from the raw RPC shape only.
 */
import type {
  Lamports,
  RawBlockTransaction,
  RawCompiledInstruction,
  RawTokenBalance,
} from "../../core/solana-types.js";

/** One instruction (top level or inner), in execution order. */
export type FlatIx = {
  /**
   * "2" for top-level instruction 2 (0-based, as meta.innerInstructions[].index), "2.1" for its first CPI, "2.1.1"
   * below that
   */
  path: string;
  programId: string;
  /** indexes into `TxView.keys` */
  accounts: number[];
  /** base58, as the RPC gives it */
  data: string;
  /** 1 for top level, 2 for a first-level CPI, ... */
  depth: number;
  /** index in `TxView.ixs` of the instruction that invoked this one, -1 for top level */
  parent: number;
  /** index in `TxView.ixs` one past the last instruction of this one's subtree */
  end: number;
  /** `data` decoded, filled by ixBytes on first use (null: not base58) */
  bytes?: Uint8Array | null;
};

/** A token account the transaction touched, from pre/postTokenBalances (a missing side counts as 0). */
export type TokenAccount = {
  index: number;
  mint: string;
  owner: string | undefined;
  programId: string | undefined;
  decimals: number;
  pre: bigint;
  post: bigint;
  /** false when the account has no post balance (closed in the transaction) */
  hasPost: boolean;
};

/** A transaction with its keys resolved and its instructions flattened. */
export type TxView = {
  signature: string;
  keys: string[];
  ixs: FlatIx[];
  tokenAccounts: Map<number, TokenAccount>;
  /** accounts whose token balance has an amount that is not an integer, left out of `tokenAccounts` */
  malformedBalances: number[];
  /** account index by address (first occurrence) */
  indexOf: Map<string, number>;
  preLamports: Lamports[];
  postLamports: Lamports[];
  logs: string[];
};

/** Full account list: static keys, then loadedAddresses.writable, then loadedAddresses.readonly. */
export function accountKeys(tx: RawBlockTransaction): string[] {
  const stat = tx.transaction.message.accountKeys;
  const loaded = tx.meta?.loadedAddresses;
  if (!loaded || (loaded.writable.length === 0 && loaded.readonly.length === 0)) return stat;
  return [...stat, ...loaded.writable, ...loaded.readonly];
}

function flatten(tx: RawBlockTransaction, keys: string[]): FlatIx[] {
  const out: FlatIx[] = [];
  const inner = new Map<number, RawCompiledInstruction[]>();
  for (const group of tx.meta?.innerInstructions ?? [])
    if (Array.isArray(group?.instructions)) inner.set(group.index, group.instructions);
  const top = tx.transaction.message.instructions;
  for (let i = 0; i < top.length; i++) {
    const ix = top[i]!;
    if (!ix || typeof ix !== "object") continue;
    const rootIdx = out.length;
    out.push({
      path: String(i),
      programId: keys[ix.programIdIndex] ?? "",
      accounts: accountsOf(ix),
      data: dataOf(ix),
      depth: 1,
      parent: -1,
      end: 0,
      bytes: undefined,
    });
    // stack[d] = index in `out` of the latest instruction at depth d+1; childCount[d] = its CPIs so far
    const stack: number[] = [rootIdx];
    const childCount: number[] = [0];
    for (const cix of inner.get(i) ?? []) {
      if (!cix || typeof cix !== "object") continue;
      // missing stackHeight (old ledger data): treat every CPI as a direct child of the top-level instruction
      let depth = typeof cix.stackHeight === "number" && cix.stackHeight >= 2 ? cix.stackHeight : 2;
      if (depth > stack.length + 1) depth = stack.length + 1;
      stack.length = depth - 1;
      childCount.length = depth - 1;
      const parent = stack[depth - 2]!;
      const n = childCount[depth - 2] ?? 0;
      childCount[depth - 2] = n + 1;
      const idx = out.length;
      out.push({
        // inner positions count from 1, as the data model names them ("2.1" = first CPI of top-level 2)
        path: `${out[parent]!.path}.${n + 1}`,
        programId: keys[cix.programIdIndex] ?? "",
        accounts: accountsOf(cix),
        data: dataOf(cix),
        depth,
        parent,
        end: 0,
        bytes: undefined,
      });
      stack.push(idx);
      childCount.push(0);
    }
  }
  // subtree ends: an instruction's subtree runs until the next one at the same or a lower depth
  const open: number[] = [];
  for (let i = 0; i < out.length; i++) {
    const d = out[i]!.depth;
    while (open.length > 0 && out[open[open.length - 1]!]!.depth >= d) out[open.pop()!]!.end = i;
    open.push(i);
  }
  for (const i of open) out[i]!.end = out.length;
  return out;
}

// malformed input (e.g. a jsonParsed instruction) is read as an instruction without accounts or data
const accountsOf = (ix: RawCompiledInstruction): number[] => (Array.isArray(ix?.accounts) ? ix.accounts : []);
const dataOf = (ix: RawCompiledInstruction): string => (typeof ix?.data === "string" ? ix.data : "");

/** The entry of `b`'s account in `map`, added (from `b`) if new. */
function tokenAccountOf(map: Map<number, TokenAccount>, b: RawTokenBalance): TokenAccount {
  let acc = map.get(b.accountIndex);
  if (!acc) {
    acc = {
      index: b.accountIndex,
      mint: b.mint,
      owner: b.owner || undefined,
      programId: b.programId || undefined,
      decimals: b.uiTokenAmount.decimals,
      pre: 0n,
      post: 0n,
      hasPost: false,
    };
    map.set(b.accountIndex, acc);
  }
  return acc;
}

/**
 * The token accounts of the balances, and the indexes of those left out because an amount is not an integer: a
 * balance read as 0 would be stored as the account's state and move its holders, so such an account is not known
 * from the balances at all (its transfers still come from the instructions).
 */
function tokenAccounts(
  pre: RawTokenBalance[],
  post: RawTokenBalance[],
): { map: Map<number, TokenAccount>; malformed: number[] } {
  const map = new Map<number, TokenAccount>();
  const malformed = new Set<number>();
  for (const b of pre) {
    const amount = parseAmount(b.uiTokenAmount?.amount);
    if (amount === undefined) malformed.add(b.accountIndex);
    else tokenAccountOf(map, b).pre = amount;
  }
  for (const b of post) {
    const amount = parseAmount(b.uiTokenAmount?.amount);
    if (amount === undefined) {
      malformed.add(b.accountIndex);
      continue;
    }
    const acc = tokenAccountOf(map, b);
    acc.post = amount;
    acc.hasPost = true;
    if (b.owner) acc.owner = b.owner;
    acc.mint = b.mint;
  }
  for (const i of malformed) map.delete(i);
  return { map, malformed: [...malformed] };
}

/** A token amount as the RPC writes it (a u64 or u128 in decimal), or undefined for anything else. */
const AMOUNT = /^\d{1,39}$/;
function parseAmount(s: unknown): bigint | undefined {
  return typeof s === "string" && AMOUNT.test(s) ? BigInt(s) : undefined;
}

/** Builds the view of one transaction. */
export function createTxView(tx: RawBlockTransaction): TxView {
  const keys = accountKeys(tx);
  const meta = tx.meta;
  const indexOf = new Map<string, number>();
  for (let i = keys.length - 1; i >= 0; i--) indexOf.set(keys[i]!, i);
  const balances = tokenAccounts(meta?.preTokenBalances ?? [], meta?.postTokenBalances ?? []);
  return {
    signature: tx.transaction.signatures[0] ?? "",
    keys,
    ixs: flatten(tx, keys),
    tokenAccounts: balances.map,
    malformedBalances: balances.malformed,
    indexOf,
    preLamports: meta?.preBalances ?? [],
    postLamports: meta?.postBalances ?? [],
    logs: meta?.logMessages ?? [],
  };
}

/** The instruction's data bytes; undefined when the data is not valid base58. */
export function ixBytes(ix: FlatIx): Uint8Array | undefined {
  // Several decoders look at the same instruction: decoded once (null = not base58).
  if (ix.bytes === undefined) ix.bytes = base58Decode(ix.data) ?? null;
  return ix.bytes ?? undefined;
}

const B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
const B58_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < B58_ALPHABET.length; i++) B58_VALUE[B58_ALPHABET.charCodeAt(i)] = i;

/**
 * Base58 (Bitcoin alphabet) to bytes, or undefined for a character outside the alphabet. Same results as `bs58`,
 * about 10x faster on instruction data: five characters per step (58^5 < 2^30) into 16-bit limbs, so every
 * intermediate stays an exact double. Decoding instruction data was a third of the decoder's time.
 */
export function base58Decode(s: string): Uint8Array | undefined {
  const n = s.length;
  let zeros = 0;
  while (zeros < n && s.charCodeAt(zeros) === 49) zeros++;
  // little-endian base-65536 limbs of the number after the leading '1's
  const limbs = new Array<number>(Math.ceil(((n - zeros) * 0.7322) / 2) + 1).fill(0);
  let len = 0;
  for (let i = zeros; i < n; ) {
    let chunk = 0;
    let mul = 1;
    for (const end = Math.min(n, i + 5); i < end; i++) {
      const c = s.charCodeAt(i);
      const d = c < 128 ? B58_VALUE[c]! : -1;
      if (d < 0) return undefined;
      chunk = chunk * 58 + d;
      mul *= 58;
    }
    let carry = chunk;
    for (let j = 0; j < len; j++) {
      const x = limbs[j]! * mul + carry;
      carry = Math.floor(x / 65536);
      limbs[j] = x - carry * 65536;
    }
    while (carry > 0) {
      const next = Math.floor(carry / 65536);
      limbs[len++] = carry - next * 65536;
      carry = next;
    }
  }
  let bytes = len * 2;
  if (len > 0 && limbs[len - 1]! < 256) bytes--;
  const out = new Uint8Array(zeros + bytes);
  let o = out.length - 1;
  for (let j = 0; j < len; j++) {
    const v = limbs[j]!;
    out[o--] = v & 0xff;
    if (o >= zeros) out[o--] = v >>> 8;
  }
  return out;
}

/** Address of the instruction's `i`-th account, or undefined when out of range. */
export function ixAccount(view: TxView, ix: FlatIx, i: number): string | undefined {
  const k = ix.accounts[i];
  return k === undefined ? undefined : view.keys[k];
}

/** Hex of the first `n` bytes, the discriminator as warnings report it. */
export function hexPrefix(bytes: Uint8Array | undefined, n: number): string {
  if (!bytes) return "";
  return Buffer.from(bytes.subarray(0, n)).toString("hex");
}
