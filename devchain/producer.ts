/**
 * History and slot production: turns loaded fixtures into the ledger's recorded history, then
 * produces new slots on a timer, moving processed / confirmed / finalized as a cluster does.
 * @dev Confirmed lags the newest slot by 1-2 slots (alternating), finalized by `finalityLag`
 * slots. A fork slot is produced, confirmed, never becomes a root, and is dropped (skipped) once
 * the root passes it; the next block's parent skips it.
 */
import type { FixtureBlock } from "./fixtures.js";
import { rewardsJson, slotHash, type BlockRecord, type Ledger } from "./ledger.js";
import type { TxRecord } from "./tx-record.js";

/** Adds the recorded blocks to an empty ledger, each the child of the one before, and marks them all finalized. */
export function buildHistory(ledger: Ledger, fixtures: FixtureBlock[]): void {
  const heights = estimateHeights(fixtures);
  let prev: BlockRecord | undefined;
  fixtures.forEach((f, i) => {
    // Each block chains to the one served before it, as on a cluster: recorded mainnet parents name slots this
    // chain never serves, and an indexer that verifies the chain would see a gap at every recorded block.
    // Only the first block keeps its recorded parent (a slot below the first available block).
    const parentSlot = prev?.slot ?? f.parentSlot ?? Math.max(0, f.slot - 1);
    const b: BlockRecord = {
      slot: f.slot,
      parentSlot,
      blockhash: f.blockhash ?? slotHash("block", f.slot),
      previousBlockhash: prev?.blockhash ?? f.previousBlockhash ?? slotHash("block", parentSlot),
      blockTime: f.blockTime,
      blockHeight: heights[i]!,
      rewardsJson: rewardsJson(f.rewards),
      txs: f.txs,
      synth: null,
    };
    if (f.numRewardPartitions !== undefined) b.numRewardPartitions = f.numRewardPartitions;
    ledger.add(b);
    prev = b;
  });
  const last = prev?.slot ?? 0;
  Object.assign(ledger.state, { processed: last, confirmed: last, finalized: last });
}

/**
 * Recorded heights are kept; a slot assembled from getTransaction files gets an estimate from the
 * nearest earlier height (about 0.95 blocks per slot), kept strictly increasing and below the next
 * recorded height.
 */
function estimateHeights(fixtures: FixtureBlock[]): (number | null)[] {
  const out: (number | null)[] = fixtures.map((f) => (typeof f.blockHeight === "number" ? f.blockHeight : null));
  const known = out.map((h, i) => (h === null ? -1 : i)).filter((i) => i >= 0);
  if (known.length === 0) {
    // No recorded height anywhere: count blocks from an arbitrary base derived from the first slot.
    const base = Math.floor((fixtures[0]?.slot ?? 0) * 0.93);
    return fixtures.map((_, i) => base + i);
  }
  const first = known[0]!;
  for (let i = first - 1; i >= 0; i--) {
    const next = out[i + 1]!;
    const est = next - Math.max(1, Math.round((fixtures[i + 1]!.slot - fixtures[i]!.slot) * 0.95));
    out[i] = Math.max(0, Math.min(est, next - 1));
  }
  for (let i = first + 1; i < fixtures.length; i++) {
    if (fixtures[i]!.blockHeight !== undefined && fixtures[i]!.blockHeight !== null) continue;
    const prev = out[i - 1]!;
    let est = prev + Math.max(1, Math.round((fixtures[i]!.slot - fixtures[i - 1]!.slot) * 0.95));
    const nextKnown = known.find((k) => k > i);
    if (nextKnown !== undefined) est = Math.min(est, out[nextKnown]! - (nextKnown - i));
    out[i] = Math.max(est, prev + 1);
  }
  return out;
}

/** What a producer needs to emit new slots. */
export type ProducerDeps = {
  ledger: Ledger;
  slotMs: number;
  finalityLag: number;
  syntheticTps: number;
  templateCount: number;
  /** fork slots: absolute, or relative to the first produced slot */
  forks: { slot: number; relative: boolean }[];
  /** extra explicit transactions for a new slot (LiteSVM activity) */
  activity?: (slot: number) => TxRecord[];
  events: {
    slotCreated(b: BlockRecord): void;
    confirmed(blocks: BlockRecord[]): void;
    rooted(blocks: BlockRecord[]): void;
  };
  now?: () => number;
};

/** Creates the slot producer; call `start()` to run it on its timer or `tick()` to step by hand. */
export function createProducer(deps: ProducerDeps) {
  const { ledger } = deps;
  const st = ledger.state;
  const now = deps.now ?? Date.now;
  const firstProduced = st.processed + 1;
  const forkSlots = new Set(deps.forks.map((f) => (f.relative ? firstProduced + f.slot : f.slot)));
  const pendingForks = new Set<number>();
  let synthCursor = 0;
  let carry = 0;
  let confirmLag = 1;
  let timer: NodeJS.Timeout | undefined;
  let nextDue = 0;
  let produced = 0;
  let running = false;

  /** The newest block that is not on a fork that will be dropped. */
  const canonicalTip = (): BlockRecord | undefined => {
    for (let i = ledger.slots.length - 1; i >= 0; i--) {
      const s = ledger.slots[i]!;
      if (!pendingForks.has(s)) return ledger.blocks.get(s);
    }
    return undefined;
  };

  const tick = (): BlockRecord => {
    const slot = st.processed + 1;
    const parent = canonicalTip();
    let count = 0;
    if (deps.syntheticTps > 0 && deps.templateCount > 0) {
      carry += (deps.syntheticTps * deps.slotMs) / 1000;
      count = Math.floor(carry);
      carry -= count;
    }
    const b: BlockRecord = {
      slot,
      parentSlot: parent?.slot ?? Math.max(0, slot - 1),
      blockhash: slotHash("block", slot),
      previousBlockhash: parent?.blockhash ?? slotHash("block", slot - 1),
      blockTime: Math.floor(now() / 1000),
      blockHeight: (parent?.blockHeight ?? -1) + 1,
      rewardsJson: "[]",
      txs: deps.activity ? deps.activity(slot) : [],
      synth: count > 0 ? { start: synthCursor, count } : null,
    };
    synthCursor += count;
    if (forkSlots.has(slot)) pendingForks.add(slot);
    ledger.add(b);
    st.processed = slot;
    produced++;
    deps.events.slotCreated(b);

    confirmLag = confirmLag === 1 ? 2 : 1;
    const lag = Math.min(confirmLag, Math.max(0, deps.finalityLag));
    const confirmTo = Math.max(st.confirmed, slot - lag);
    const newlyConfirmed = ledger.range(st.confirmed + 1, confirmTo).map((s) => ledger.blocks.get(s)!);
    st.confirmed = confirmTo;
    deps.events.confirmed(newlyConfirmed);

    const rootTo = Math.max(st.finalized, slot - deps.finalityLag);
    if (rootTo > st.finalized) {
      for (const f of pendingForks) {
        if (f <= rootTo) {
          ledger.drop(f);
          pendingForks.delete(f);
        }
      }
      const newlyRooted = ledger.range(st.finalized + 1, rootTo).map((s) => ledger.blocks.get(s)!);
      st.finalized = rootTo;
      deps.events.rooted(newlyRooted);
    }
    return b;
  };

  const loop = (): void => {
    if (!running) return;
    try {
      tick();
    } catch (err) {
      // A failed slot must not stop the clock; the error is visible to whoever runs the chain.
      console.error("chain: slot production failed", err);
    }
    nextDue += deps.slotMs;
    const t = now();
    if (t - nextDue > 10 * deps.slotMs) nextDue = t;
    timer = setTimeout(loop, Math.max(0, nextDue - t));
  };

  return {
    tick,
    get produced(): number {
      return produced;
    },
    /** The absolute fork slots this producer will drop. */
    forkSlots: [...forkSlots],
    /**
     * A fork below the root (reliability bar C3): the cluster abandons finalized block `slot`, which becomes a
     * skipped slot. A real cluster never does this; an indexer must refuse to follow, not roll finalized data back.
     */
    dropFinalized(slot: number): void {
      if (slot > st.finalized || !ledger.blocks.has(slot)) throw new Error(`slot ${slot} is not a finalized block`);
      ledger.drop(slot);
    },
    start(): void {
      if (running) return;
      running = true;
      nextDue = now() + deps.slotMs;
      timer = setTimeout(loop, deps.slotMs);
    },
    stop(): void {
      running = false;
      if (timer) clearTimeout(timer);
    },
  };
}
