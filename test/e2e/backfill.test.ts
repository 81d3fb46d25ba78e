import { afterAll, afterEach, beforeAll, describe, expect, inject, test } from "vitest";
import { WSOL_MINT } from "../../core/presets.js";
import { createRpcClient } from "../../indexer/source/rpc.js";
import type { RawTransaction } from "../../core/solana-types.js";
import { fetchTransactions } from "../../indexer/source/blocks.js";
import { type Chain, createChain } from "../../devchain/index.js";
import { runCli } from "../setup/cli.js";
import { diffTable, digestTables } from "../setup/digest.js";
import { ingestEnv, query } from "../setup/ingest-env.js";
import { type SlotlineProcess, spawnSlotline, waitFor } from "../setup/processes.js";
import { trackedHistory } from "../setup/oracle.js";
import { writeReference } from "../setup/reference.js";
import { createTestDatabase, uniquePrefix } from "../setup/services.js";

const RAYDIUM_V4 = "675kPX9MHTjS2zt1qfr1NYHuzeLXfQM9H24wFSUt1Mp8";

/** Per token account: the delta the transaction's own balances show (wrapped SOL excepted). */
function tokenDeltas(tx: RawTransaction): Map<string, bigint> {
  const keys = [
    ...tx.transaction.message.accountKeys,
    ...(tx.meta?.loadedAddresses?.writable ?? []),
    ...(tx.meta?.loadedAddresses?.readonly ?? []),
  ];
  const out = new Map<string, bigint>();
  for (const [sign, list] of [
    [-1n, tx.meta?.preTokenBalances ?? []],
    [1n, tx.meta?.postTokenBalances ?? []],
  ] as const)
    for (const b of list) {
      if (b.mint === WSOL_MINT) continue;
      const k = keys[b.accountIndex]!;
      out.set(k, (out.get(k) ?? 0n) + sign * BigInt(b.uiTokenAmount.amount));
    }
  return out;
}

/** Compares every stored transfer with the token-balance deltas of the transactions, as fetched from the chain. */
async function checkDeltas(
  chain: Chain,
  dbUrl: string,
  signatures: string[],
): Promise<{ checked: number; mismatches: string[] }> {
  const rpc = createRpcClient({ url: chain.rpcUrl, maxRps: 100_000, concurrency: 4, batchSize: 50, timeoutMs: 30_000 });
  const txs = await fetchTransactions(rpc, signatures, "finalized");
  const rows = await query<{
    signature: string;
    source: string | null;
    destination: string | null;
    amount: string;
    fee: string;
    mint: string;
  }>(
    dbUrl,
    "select signature, source, destination, amount::text, fee::text, mint from token_transfers where signature = any($1::text[])",
    [signatures],
  );
  const bySig = new Map<string, typeof rows>();
  for (const x of rows) bySig.set(x.signature, [...(bySig.get(x.signature) ?? []), x]);
  let checked = 0;
  const mismatches: string[] = [];
  for (const tx of txs) {
    const sig = tx.transaction.signatures[0]!;
    const got = new Map<string, bigint>();
    for (const t of bySig.get(sig) ?? []) {
      if (t.mint === WSOL_MINT) continue;
      const amount = BigInt(t.amount);
      if (t.source) got.set(t.source, (got.get(t.source) ?? 0n) - amount);
      // The destination receives the amount less the Token-2022 fee.
      if (t.destination) got.set(t.destination, (got.get(t.destination) ?? 0n) + amount - BigInt(t.fee));
    }
    for (const [account, delta] of tokenDeltas(tx)) {
      checked++;
      if ((got.get(account) ?? 0n) !== delta)
        mismatches.push(`${sig} ${account}: stored ${got.get(account) ?? 0n}, chain ${delta}`);
    }
  }
  return { checked, mismatches };
}

describe("slotline backfill (local chain, real processes)", () => {
  let chain: Chain;
  const cleanups: (() => Promise<unknown>)[] = [];
  beforeAll(async () => {
    chain = await createChain({ port: 0, once: true });
  });
  afterAll(() => chain.close());
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
  });

  async function freshDb() {
    const db = await createTestDatabase(inject("pgAdminUrl"), inject("templateDb"));
    cleanups.push(() => db.drop());
    return db;
  }

  test("a slot-range backfill stores every tracked transaction, and the transfers match the chain's token-balance deltas", async () => {
    const db = await freshDb();
    const env = ingestEnv(chain, db.url, inject("redisUrl"), uniquePrefix());
    const [first, last] = [chain.history.slots[0]!, chain.history.slots.at(-1)!];
    const r = await runCli(
      ["backfill", "--from-slot", String(first), "--to-slot", String(last), "--inline"],
      env,
      120_000,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/done: 59 slots, \d+ skipped slots, \d+ transactions/);
    const stored = (await query<{ signature: string }>(db.url, "select signature from transactions where success")).map(
      (x) => x.signature,
    );
    expect(stored.length).toBeGreaterThan(200);
    // Exactly the recorded transactions that invoke a tracked program (read back through web3.js).
    const { tracked } = await trackedHistory(chain);
    const all = new Set(
      (await query<{ signature: string }>(db.url, "select signature from transactions")).map((x) => x.signature),
    );
    expect([...tracked].filter((x) => !all.has(x))).toEqual([]);
    expect([...all].filter((x) => !tracked.has(x))).toEqual([]);
    // The chain's own accounting: for every stored transaction, every token account's delta equals
    // transfers in - out + mints - burns, as stored.
    const { checked, mismatches } = await checkDeltas(chain, db.url, stored);
    expect(checked).toBeGreaterThan(500);
    expect(mismatches.slice(0, 5)).toEqual([]);

    // Running the same command again finds the backfill done and changes nothing.
    const before = await digestTables(db.url);
    const again = await runCli(
      ["backfill", "--from-slot", String(first), "--to-slot", String(last), "--inline"],
      env,
      60_000,
    );
    expect(again.code, again.stderr).toBe(0);
    expect(await digestTables(db.url)).toEqual(before);
    // The live resume point is not touched by a backfill.
    expect(await query(db.url, "select 1 from cursors where id = 'live'")).toEqual([]);
    const status = await runCli(["status", "--json"], env);
    expect(JSON.parse(status.stdout).backfills).toEqual([expect.objectContaining({ status: "done" })]);
  }, 180_000);

  test("an address backfill on the queue, done by a worker process, covers every signature of the program once", async () => {
    const db = await freshDb();
    const env = ingestEnv(chain, db.url, inject("redisUrl"), uniquePrefix());
    const worker = spawnSlotline(["worker"], env);
    cleanups.push(() => worker.kill());
    const r = await runCli(["backfill", "--program", "raydium-amm-v4"], env, 120_000);
    expect(r.code, r.stderr + worker.output().slice(-2000)).toBe(0);
    const rpc = createRpcClient({
      url: chain.rpcUrl,
      maxRps: 100_000,
      concurrency: 4,
      batchSize: 50,
      timeoutMs: 30_000,
    });
    const sigs = (
      await rpc.call<{ signature: string }[]>("getSignaturesForAddress", [RAYDIUM_V4, { limit: 1000 }])
    ).map((s) => s.signature);
    const stored = new Set(
      (await query<{ signature: string }>(db.url, "select signature from transactions")).map((x) => x.signature),
    );
    const passed = new Set(
      (await query<{ signature: string }>(db.url, "select signature from passed_signatures")).map((x) => x.signature),
    );
    // Every signature of the program's history is either stored or known to invoke no tracked program.
    expect(sigs.filter((s) => !stored.has(s) && !passed.has(s))).toEqual([]);
    expect(sigs.filter((s) => stored.has(s) && passed.has(s))).toEqual([]);
    // Those that invoke Raydium AMM v4 carry it in program_ids.
    const invoking = await query<{ n: number }>(
      db.url,
      "select count(*)::int as n from transactions where $1 = any(program_ids)",
      [RAYDIUM_V4],
    );
    expect(invoking[0]!.n).toBeGreaterThan(50);
    // And what was stored matches the chain's own token-balance deltas.
    const ok = (await query<{ signature: string }>(db.url, "select signature from transactions where success")).map(
      (x) => x.signature,
    );
    const { checked, mismatches } = await checkDeltas(chain, db.url, ok);
    expect(checked).toBeGreaterThan(100);
    expect(mismatches.slice(0, 5)).toEqual([]);
  }, 180_000);

  test("bad arguments exit 2 with what to fix", async () => {
    const env = ingestEnv(chain, "postgres://postgres@127.0.0.1:5432/postgres", inject("redisUrl"), uniquePrefix());
    const cases = [
      [["--from-slot", "10", "--to-slot", "5"], /above --to-slot 5: swap them/],
      [["--program", "not-a-dex"], /unknown preset/],
      [["--address", "0OIl"], /not a base58 address/],
      [["--program", "pumpfun", "--until", "xyz"], /not a base58 transaction signature/],
      [[], /say what to backfill/],
    ] as const;
    // Independent processes: started together (each start is mostly module loading).
    const results = await Promise.all(cases.map(([args]) => runCli(["backfill", ...args], env)));
    cases.forEach(([args, msg], i) => {
      expect(results[i]!.code, args.join(" ")).toBe(2);
      expect(results[i]!.stderr).toMatch(msg);
    });
  });

  test("a range below the RPC's first available block is refused with the slot to start from", async () => {
    const db = await freshDb();
    const env = ingestEnv(chain, db.url, inject("redisUrl"), uniquePrefix());
    const r = await runCli(["backfill", "--from-slot", "1", "--to-slot", "10", "--inline"], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`run again with --from-slot ${chain.history.slots[0]}`);
  });
});

describe("backfill killed with SIGKILL at random moments, 5 times, then resumed", () => {
  test("the final database equals an uninterrupted run", async () => {
    // 800 tx/s: about 19,000 transactions over the 60 slots, several thousand of them stored (the kills land mid-work).
    const chain = await createChain({ port: 0, autoProduce: false, syntheticTps: 800, slotMs: 400, finalityLag: 2 });
    const start = chain.slot("processed") + 1;
    for (let i = 0; i < 60; i++) chain.tick();
    const end = chain.slot("finalized");
    const db = await createTestDatabase(inject("pgAdminUrl"), inject("templateDb"));
    const ref = await createTestDatabase(inject("pgAdminUrl"), inject("templateDb"));
    const procs: SlotlineProcess[] = [];
    try {
      // A killed worker's jobs go back to the queue when their lock lapses: 4 s here instead of the default 30 s.
      const env = ingestEnv(chain, db.url, inject("redisUrl"), uniquePrefix(), {
        RPC_CONCURRENCY: "2",
        WORKER_LOCK_MS: "4000",
      });
      const args = ["backfill", "--from-slot", String(start), "--to-slot", String(end), "--batch-size", "2"];
      procs.push(spawnSlotline(["worker"], env));
      for (let kill = 0; kill < 5; kill++) {
        const bf = spawnSlotline(args, env);
        procs.push(bf);
        await new Promise((r) => setTimeout(r, 1_500 + Math.random() * 1_500));
        // Alternate: the backfill command, or the worker doing its jobs.
        if (kill % 2 === 0) await bf.kill("SIGKILL");
        else {
          await procs[0]!.kill("SIGKILL");
          procs[0] = spawnSlotline(["worker"], env);
          await bf.kill("SIGKILL");
        }
      }
      const final = spawnSlotline(args, env);
      procs.push(final);
      expect(await final.exited, final.output().slice(-2000)).toBe(0);
      const produced = await createRpcClient({
        url: chain.rpcUrl,
        maxRps: 100_000,
        concurrency: 2,
        batchSize: 10,
        timeoutMs: 30_000,
      }).call<number[]>("getBlocks", [start, end, { commitment: "finalized" }]);
      await writeReference(chain.rpcUrl, ref.url, produced, "finalized");
      await waitFor(
        "token lookups to settle",
        async () => JSON.stringify(await digestTables(db.url)) === JSON.stringify(await digestTables(ref.url)),
        20_000,
      ).catch(() => {});
      const [a, b] = [await digestTables(db.url), await digestTables(ref.url)];
      for (const t of Object.keys(b))
        if (a[t]?.md5 !== b[t]?.md5)
          expect.soft({ t, ...(await diffTable(db.url, ref.url, t)) }).toEqual({ t, onlyA: [], onlyB: [] });
      expect(a).toEqual(b);
      const [{ n }] = (await query<{ n: number }>(db.url, "select count(*)::int as n from transactions")) as [
        { n: number },
      ];
      expect(n).toBeGreaterThan(1_000);
    } finally {
      for (const p of procs) await p.kill("SIGKILL");
      await chain.close();
      await db.drop();
      await ref.drop();
    }
  }, 240_000);
  test("an archive without getBlocks (Old Faithful): every slot asked with getBlock, the same rows, skipped slots recorded", async () => {
    const chain = await createChain({
      port: 0,
      autoProduce: false,
      syntheticTps: 400,
      slotMs: 400,
      finalityLag: 2,
      withoutMethods: ["getBlocks", "getBlocksWithLimit"],
    });
    const last = chain.history.slots.at(-1)!;
    const start = chain.slot("processed") + 1;
    for (let i = 0; i < 12; i++) chain.tick();
    const end = chain.slot("finalized");
    // Nine skipped slots (-32007) before the last recorded block, then every produced slot.
    const from = last - 9;
    const produced = [last, ...Array.from({ length: end - start + 1 }, (_, i) => start + i)];
    const db = await createTestDatabase(inject("pgAdminUrl"), inject("templateDb"));
    const ref = await createTestDatabase(inject("pgAdminUrl"), inject("templateDb"));
    try {
      const env = ingestEnv(chain, db.url, inject("redisUrl"), uniquePrefix());
      const r = await runCli(
        ["backfill", "--from-slot", String(from), "--to-slot", String(end), "--inline"],
        env,
        120_000,
      );
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`done: ${produced.length} slots, 9 skipped slots`);
      const slots = await query<{ slot: string; status: string }>(
        db.url,
        "select slot::text, status from slots order by slot",
      );
      expect(slots.filter((x) => x.status === "skipped").map((x) => Number(x.slot))).toEqual(
        Array.from({ length: 9 }, (_, i) => from + i),
      );
      expect(slots.filter((x) => x.status === "indexed").map((x) => Number(x.slot))).toEqual(produced);
      await writeReference(chain.rpcUrl, ref.url, produced, "finalized");
      const [a, b] = [await digestTables(db.url), await digestTables(ref.url)];
      for (const t of Object.keys(b))
        if (a[t]?.md5 !== b[t]?.md5)
          expect.soft({ t, ...(await diffTable(db.url, ref.url, t)) }).toEqual({ t, onlyA: [], onlyB: [] });
      expect(a).toEqual(b);
      expect(a.transactions!.rows).toBeGreaterThan(100);
    } finally {
      await chain.close();
      await db.drop();
      await ref.drop();
    }
  }, 180_000);
});
