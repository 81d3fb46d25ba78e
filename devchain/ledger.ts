/**
 * The chain's state: blocks by slot, commitment levels, and the signature and address indexes.
 * @dev A block holds explicit transactions (recorded or LiteSVM) followed by an optional synthetic
 * window. Slots without a block are skipped slots. Commitment slots only move forward.
 */
import { createHash } from "node:crypto";
import bs58 from "bs58";
import { stringifyLossless } from "./lossless-json.js";
import type { SyntheticSource } from "./synthetic.js";
import type { TxRecord } from "./tx-record.js";

/** One produced block. */
export type BlockRecord = {
  slot: number;
  parentSlot: number;
  blockhash: string;
  previousBlockhash: string;
  blockTime: number | null;
  blockHeight: number | null;
  rewardsJson: string;
  numRewardPartitions?: number;
  txs: TxRecord[];
  synth: { start: number; count: number } | null;
  /** address -> indexes of explicit transactions mentioning it, built on first search */
  addrIdx?: Map<string, number[]>;
};

/** A transaction of a block as served: its record and its signatures. */
export type TxView = { rec: TxRecord; signatures: readonly string[] };

/** Commitment as the RPC names it. */
export type Commitment = "processed" | "confirmed" | "finalized";

/** Where a signature lives. */
export type TxLocation = { block: BlockRecord; idx: number; view: TxView };

/** The ledger API used by the RPC and PubSub layers. */
export type Ledger = ReturnType<typeof createLedger>;

/** Deterministic 32-byte base58 hash for produced blocks. */
export function slotHash(label: string, slot: number): string {
  return bs58.encode(createHash("sha256").update(`slotline-chain:${label}:${slot}`).digest());
}

/** Creates an empty ledger over the given synthetic source. */
export function createLedger(synthetic: SyntheticSource) {
  const blocks = new Map<number, BlockRecord>();
  const slots: number[] = [];
  const sigIndex = new Map<string, { slot: number; idx: number }>();
  const state = { processed: 0, confirmed: 0, finalized: 0, first: 0 };

  const txCount = (b: BlockRecord): number => b.txs.length + (b.synth?.count ?? 0);

  const txAt = (b: BlockRecord, i: number): TxView => {
    if (i < b.txs.length) {
      const rec = b.txs[i]!;
      return { rec, signatures: rec.raw.transaction.signatures };
    }
    const rec = synthetic.templateAt(b.synth!.start + i - b.txs.length);
    return { rec, signatures: synthetic.signatures(b.slot, i, rec) };
  };

  /** Index of the largest slot <= s in `slots`, or -1. */
  const floorIndex = (s: number): number => {
    let lo = 0;
    let hi = slots.length - 1;
    let ans = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (slots[mid]! <= s) {
        ans = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return ans;
  };

  const explicitMatches = (b: BlockRecord, address: string): number[] => {
    if (!b.addrIdx) {
      b.addrIdx = new Map();
      b.txs.forEach((t, i) => {
        for (const k of new Set(t.accountKeys)) {
          let l = b.addrIdx!.get(k);
          if (!l) b.addrIdx!.set(k, (l = []));
          l.push(i);
        }
      });
    }
    return b.addrIdx.get(address) ?? [];
  };

  return {
    state,
    blocks,
    slots,
    txCount,
    txAt,

    /** Appends a block; its slot must be above every slot already stored. */
    add(b: BlockRecord): void {
      const last = slots[slots.length - 1];
      if (last !== undefined && b.slot <= last) throw new Error(`slot ${b.slot} is not above ${last}`);
      blocks.set(b.slot, b);
      slots.push(b.slot);
      b.txs.forEach((t, idx) => sigIndex.set(t.signature, { slot: b.slot, idx }));
      if (slots.length === 1) state.first = b.slot;
    },

    /** Removes a block (a dropped fork): its slot becomes a skipped slot. */
    drop(slot: number): void {
      const b = blocks.get(slot);
      if (!b) return;
      blocks.delete(slot);
      slots.splice(slots.indexOf(slot), 1);
      for (const t of b.txs) sigIndex.delete(t.signature);
    },

    /** Highest slot visible at a commitment. */
    slotAt(c: Commitment): number {
      return c === "processed" ? state.processed : c === "confirmed" ? state.confirmed : state.finalized;
    },

    /** Newest block at or below `slot`. */
    blockAtOrBelow(slot: number): BlockRecord | undefined {
      const i = floorIndex(slot);
      return i < 0 ? undefined : blocks.get(slots[i]!);
    },

    /** Block slots in [start, end], ascending, at most `limit`. */
    range(start: number, end: number, limit = Infinity): number[] {
      const out: number[] = [];
      let i = floorIndex(start - 1) + 1;
      for (; i < slots.length && out.length < limit; i++) {
        const s = slots[i]!;
        if (s > end) break;
        out.push(s);
      }
      return out;
    },

    /** Finds a transaction by its first signature, recorded or synthetic. */
    find(signature: string): TxLocation | undefined {
      const loc = sigIndex.get(signature);
      if (loc) {
        const block = blocks.get(loc.slot);
        if (block) return { block, idx: loc.idx, view: txAt(block, loc.idx) };
        return undefined;
      }
      const syn = synthetic.decode(signature);
      if (!syn) return undefined;
      const block = blocks.get(syn.slot);
      if (!block?.synth || syn.idx < block.txs.length || syn.idx >= txCount(block)) return undefined;
      return { block, idx: syn.idx, view: txAt(block, syn.idx) };
    },

    /** Transactions mentioning `address`, newest first, strictly below `before` and strictly above `until`. */
    *mentions(
      address: string,
      maxSlot: number,
      before: { slot: number; idx: number } | null,
      until: { slot: number; idx: number } | null,
    ): Generator<{ block: BlockRecord; idx: number }> {
      const top = before ? Math.min(before.slot, maxSlot) : maxSlot;
      for (let i = floorIndex(top); i >= 0; i--) {
        const b = blocks.get(slots[i]!)!;
        if (until && b.slot < until.slot) return;
        const idxs: number[] = [];
        if (b.synth)
          for (const j of synthetic.matches(address, b.synth.start, b.synth.count)) idxs.push(j + b.txs.length);
        const ex = explicitMatches(b, address);
        for (let j = ex.length - 1; j >= 0; j--) idxs.push(ex[j]!);
        for (const idx of idxs) {
          if (before && b.slot === before.slot && idx >= before.idx) continue;
          if (until && b.slot === until.slot && idx <= until.idx) return;
          yield { block: b, idx };
        }
      }
    },

    /** Indexes of the block's transactions that mention `address`, ascending. */
    matchIn(b: BlockRecord, address: string): number[] {
      const out = [...explicitMatches(b, address)];
      if (b.synth) {
        const syn = synthetic.matches(address, b.synth.start, b.synth.count);
        for (let j = syn.length - 1; j >= 0; j--) out.push(syn[j]! + b.txs.length);
      }
      return out;
    },

    /** Whether a slot-less-than-newest gap is a skipped slot (as opposed to not yet produced). */
    isSkipped(slot: number): boolean {
      return slot >= state.first && slot <= state.finalized && !blocks.has(slot);
    },
  };
}

/** JSON of a rewards array, computed once per block. */
export function rewardsJson(rewards: unknown[] | undefined): string {
  return rewards ? stringifyLossless(rewards) : "[]";
}
