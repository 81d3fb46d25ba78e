/**
 * Chain verification for live ingest: each produced block must name, as its parent, the previous produced block
 * ingest knows (parentSlot and previousBlockhash), as on a cluster. A block whose parent getBlocks left out is
 * recovered (its head fetched, the parent indexed); anything that does not chain is a gap that holds the resume point.
 * @dev heads are fetched with transactionDetails "none" (a few hundred bytes each), one batch per scan.
 */
import type { Logger } from "../../core/logger.js";
import { type BlockHead, fetchBlockHeads, type RpcClient } from "../source/index.js";

/** A block that does not chain to the one before it: the resume point holds below it until it does. */
export type ChainGap = { slot: number; parent: number; expected: number; reason: string };

/** What one verification found: the slots to index, in order (recovered parents included), and the gap if any. */
export type Verified = { slots: number[]; gap?: ChainGap; recovered: number[]; complete: boolean };

/** Most parents recovered behind one block before the gap is called unverifiable. */
const MAX_HOPS = 16;
/** Recent verified heads kept to accept a fork switch (a child whose parent is an earlier block) without a fetch. */
const KNOWN_HEADS = 1_024;

/** The verifier; `anchor` is the slot ingest resumes from (its hash is unknown until a block is verified). */
export function createChainVerifier(deps: { rpc: RpcClient; commitment: string; logger: Logger }, anchorSlot: number) {
  let anchor: { slot: number; blockhash?: string } = { slot: anchorSlot };
  const known = new Map<number, string>();
  const remember = (h: BlockHead) => {
    known.set(h.slot, h.blockhash);
    if (known.size > KNOWN_HEADS) known.delete(known.keys().next().value!);
  };
  const headOf = async (slot: number): Promise<BlockHead | "skipped" | "missing"> =>
    (await fetchBlockHeads(deps.rpc, [slot], deps.commitment)).get(slot)!;

  /** Parent `p` with hash `hash` is a block ingest knows or the node serves, below the anchor (a fork switch). */
  const knownParent = async (p: number, hash: string): Promise<boolean> => {
    const k = known.get(p);
    if (k !== undefined) return k === hash;
    const h = await headOf(p);
    return typeof h === "object" && h.blockhash === hash;
  };

  /**
   * Checks `head` against the anchor; resolves the slots to index before it (parents getBlocks left out), or a gap.
   */
  async function link(head: BlockHead): Promise<{ before: number[] } | { gap: ChainGap }> {
    const gap = (reason: string): { gap: ChainGap } => ({
      gap: { slot: head.slot, parent: head.parentSlot, expected: anchor.slot, reason },
    });
    if (head.parentSlot === anchor.slot) {
      if (anchor.blockhash === undefined || anchor.blockhash === head.previousBlockhash) return { before: [] };
      return gap("previousBlockhash is not the parent's blockhash");
    }
    if (head.parentSlot < anchor.slot) {
      // Below the first block ingest verified, the chain is trusted (the resume point was verified before).
      if (anchor.blockhash === undefined) return { before: [] };
      // A fork switch: the anchor was on a fork that did not last; the finality tracker rolls it back.
      return (await knownParent(head.parentSlot, head.previousBlockhash))
        ? { before: [] }
        : gap("parent is neither the previous block nor a block the node serves");
    }
    // The parent is above the anchor: getBlocks left it out. Fetch it (and its own parent, if also left out).
    const chain: BlockHead[] = [];
    let child = head;
    for (let hop = 0; hop < MAX_HOPS; hop++) {
      const p = await headOf(child.parentSlot);
      if (typeof p !== "object") return gap(`parent left out of getBlocks and getBlock says ${p}`);
      if (p.blockhash !== child.previousBlockhash)
        return gap("parent's blockhash is not the child's previousBlockhash");
      chain.unshift(p);
      remember(p);
      if (p.parentSlot <= anchor.slot) {
        const linked = await link(p);
        if ("gap" in linked) return linked;
        return { before: chain.map((h) => h.slot) };
      }
      child = p;
    }
    return gap(`more than ${MAX_HOPS} parents left out of getBlocks`);
  }

  return {
    /** The last verified block (or the resume point ingest started from). */
    get anchor(): number {
      return anchor.slot;
    },
    /** Sets the anchor back (a rollback removed it). */
    reset(slot: number): void {
      anchor = { slot };
    },
    /** Verifies `produced` (ascending, above the anchor); stops at the first block that does not chain. */
    async verify(produced: number[]): Promise<Verified> {
      const out: Verified = { slots: [], recovered: [], complete: false };
      if (produced.length === 0) return { ...out, complete: true };
      let heads = await fetchBlockHeads(deps.rpc, produced, deps.commitment);
      for (const slot of produced) {
        let head = heads.get(slot)!;
        // Listed by getBlocks yet skipped by getBlock (a fork dropped between the calls): not a block; its child
        // (which cannot name it) is checked as usual.
        if (head === "skipped") continue;
        if (head === "missing") return out;
        let linked = await link(head);
        if ("gap" in linked) {
          // Fetch again once: a node mid-switch, or an answer mixed up in flight, is right the second time.
          heads = await fetchBlockHeads(deps.rpc, [slot], deps.commitment);
          const again = heads.get(slot)!;
          if (typeof again !== "object") return out;
          head = again;
          linked = await link(head);
          if ("gap" in linked) {
            deps.logger.warn({ ...linked.gap }, "block does not chain to the previous block; holding the resume point");
            return { ...out, gap: linked.gap };
          }
        }
        for (const s of linked.before) out.slots.push(s), out.recovered.push(s);
        out.slots.push(slot);
        remember(head);
        anchor = { slot, blockhash: head.blockhash };
      }
      return { ...out, complete: true };
    },
  };
}

/** The chain verifier of a live ingest. */
export type ChainVerifier = ReturnType<typeof createChainVerifier>;
