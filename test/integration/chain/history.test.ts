/**
 * The local chain serving recorded mainnet data, driven only through @solana/web3.js v1 Connection.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import bs58 from "bs58";
import { unpackMint } from "@solana/spl-token";
import { Connection, Message, MessageV0, PublicKey, SolanaJSONRPCError, VersionedTransaction } from "@solana/web3.js";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createChain, defaultFixturePaths, sharedFixturesDir, type Chain } from "../../../devchain/index.js";
import { expectSameTx, readRecorded, type RecordedTx } from "./recorded.js";

const WHOLE_BLOCKS = path.join(sharedFixturesDir(), "blocks/getBlock-json-mainnet-converted");
const RAYDIUM_AMM_V4 = "675kPX9MHTjS2zt1qfr1NYHuzeLXfQM9H24wFSUt1Mp8";

let chain: Chain;
let conn: Connection;
const recorded = readRecorded(defaultFixturePaths());

beforeAll(async () => {
  chain = await createChain({ port: 0, once: true });
  conn = new Connection(chain.rpcUrl, { commitment: "confirmed", wsEndpoint: chain.wsUrl });
});
afterAll(() => chain?.close());

const problemFiles = (): Set<string> => new Set(chain.problems.map((p) => p.file));
/** Recorded transactions from files the chain accepted, one per signature. */
const servedTxs = (): RecordedTx[] => {
  const bad = problemFiles();
  const seen = new Set<string>();
  return recorded.txs.filter(
    (t) =>
      !bad.has(t.file) &&
      !seen.has(t.result.transaction.signatures[0]!) &&
      seen.add(t.result.transaction.signatures[0]!),
  );
};
/** Every recorded (signature, slot, keys) the chain serves, whole blocks and loose files together. */
const allServed = (): { sig: string; slot: number; keys: string[] }[] => {
  const out = new Map<string, { sig: string; slot: number; keys: string[] }>();
  const keysOf = (t: {
    transaction: { message: { accountKeys: string[] } };
    meta: { loadedAddresses?: { writable: string[]; readonly: string[] } } | null;
  }) => [
    ...t.transaction.message.accountKeys,
    ...(t.meta?.loadedAddresses?.writable ?? []),
    ...(t.meta?.loadedAddresses?.readonly ?? []),
  ];
  for (const b of recorded.blocks)
    for (const t of b.result.transactions)
      out.set(t.transaction.signatures[0]!, { sig: t.transaction.signatures[0]!, slot: b.slot, keys: keysOf(t) });
  for (const t of servedTxs())
    if (!out.has(t.result.transaction.signatures[0]!))
      out.set(t.result.transaction.signatures[0]!, {
        sig: t.result.transaction.signatures[0]!,
        slot: t.result.slot,
        keys: keysOf(t.result),
      });
  return [...out.values()];
};

describe("recorded history over web3.js", () => {
  test("both whole mainnet blocks: every transaction equals the recorded one", async () => {
    const whole = recorded.blocks.filter((b) => b.file.startsWith(WHOLE_BLOCKS));
    expect(whole.map((b) => b.slot)).toEqual([332254855, 332254908]);
    for (const rec of whole) {
      const block = await conn.getBlock(rec.slot, { maxSupportedTransactionVersion: 0 });
      expect(block).not.toBeNull();
      const { transactions, ...head } = rec.result;
      // The parent is the block served before (the chain is coherent), not the recorded mainnet parent.
      const prevSlot = chain.history.slots[chain.history.slots.indexOf(rec.slot) - 1]!;
      const prev = await conn.getBlock(prevSlot, { maxSupportedTransactionVersion: 0, transactionDetails: "none" });
      expect({
        blockhash: block!.blockhash,
        previousBlockhash: block!.previousBlockhash,
        parentSlot: block!.parentSlot,
        blockTime: block!.blockTime,
        blockHeight: (block as unknown as { blockHeight: number | null }).blockHeight,
        rewards: block!.rewards,
      }).toEqual({
        blockhash: head.blockhash,
        previousBlockhash: prev!.blockhash,
        parentSlot: prevSlot,
        blockTime: head.blockTime,
        blockHeight: head.blockHeight,
        rewards: head.rewards,
      });
      expect(block!.transactions).toHaveLength(transactions.length);
      transactions.forEach((t, i) => expectSameTx(block!.transactions[i]!, t, `slot ${rec.slot} tx ${i}`));
    }
  });

  test("every served block chains to the one served before it: parentSlot and previousBlockhash", async () => {
    const slots = chain.history.slots;
    expect(slots.length).toBeGreaterThan(10);
    let prev: { slot: number; blockhash: string } | undefined;
    for (const slot of slots) {
      const b = await conn.getBlock(slot, { maxSupportedTransactionVersion: 0, transactionDetails: "none" });
      if (prev)
        expect({ slot, parent: b!.parentSlot, hash: b!.previousBlockhash }).toEqual({
          slot,
          parent: prev.slot,
          hash: prev.blockhash,
        });
      prev = { slot, blockhash: b!.blockhash };
    }
    // The first block keeps its recorded parent, a slot below the first available block.
    const first = await conn.getBlock(slots[0]!, { maxSupportedTransactionVersion: 0, transactionDetails: "none" });
    expect(first!.parentSlot).toBeLessThan(slots[0]!);
  });

  test("cut-down recorded blocks serve their recorded transactions in order", async () => {
    const partial = recorded.blocks.filter((b) => !b.file.startsWith(WHOLE_BLOCKS));
    expect(partial.length).toBeGreaterThan(5);
    for (const rec of partial) {
      const block = await conn.getBlock(rec.slot, { maxSupportedTransactionVersion: 0 });
      expect(block?.blockhash, rec.file).toBe(rec.result.blockhash);
      rec.result.transactions.forEach((t, i) => expectSameTx(block!.transactions[i]!, t, `${rec.file} tx ${i}`));
    }
  });

  test("getTransaction returns every recorded per-program transaction field by field", async () => {
    const txs = servedTxs();
    expect(txs.length).toBeGreaterThan(80);
    await Promise.all(
      txs.map(async ({ file, result }) => {
        const got = await conn.getTransaction(result.transaction.signatures[0]!, { maxSupportedTransactionVersion: 0 });
        expect(got, file).not.toBeNull();
        expect(got!.slot, file).toBe(result.slot);
        expect(got!.blockTime ?? null, file).toBe(result.blockTime ?? null);
        expectSameTx(got!, result, file);
      }),
    );
  });

  test("unusable files are reported by name with a reason and the rest loads", () => {
    const reasons = new Map(chain.problems.map((p) => [p.file, p.reason]));
    for (const f of recorded.jsonParsedFiles) expect(reasons.get(f)).toMatch(/jsonParsed/);
    const broken = [...reasons].filter(([f]) => !recorded.jsonParsedFiles.includes(f));
    expect(broken.map(([f, r]) => `${path.basename(f)}: ${r}`)).toEqual([
      expect.stringMatching(/^broken_data_1\.json: invalid account key/),
    ]);
    expect(chain.history.transactions).toBe(allServed().length);
  });

  test("a batch of 100 getTransaction calls returns them in request order, in one HTTP request", async () => {
    const sigs = allServed()
      .map((t) => t.sig)
      .reverse()
      .slice(0, 100);
    const requestsBefore = chain.stats().requests!;
    const got = await conn.getTransactions(sigs, { maxSupportedTransactionVersion: 0 });
    expect(chain.stats().requests! - requestsBefore).toBe(1);
    expect(got.map((t) => t?.transaction.signatures[0])).toEqual(sigs);
  });

  test("getSignaturesForAddress pages a DEX program's history newest first with before/until", async () => {
    const program = new PublicKey(RAYDIUM_AMM_V4);
    const expected = allServed().filter((t) => t.keys.includes(RAYDIUM_AMM_V4));
    expect(expected.length).toBeGreaterThan(50);
    const paged: { signature: string; slot: number }[] = [];
    let before: string | undefined;
    for (;;) {
      const page = await conn.getSignaturesForAddress(program, { limit: 7, ...(before ? { before } : {}) });
      if (page.length === 0) break;
      expect(page.length).toBeLessThanOrEqual(7);
      paged.push(...page);
      before = page[page.length - 1]!.signature;
    }
    expect(new Set(paged.map((p) => p.signature)).size).toBe(paged.length);
    expect(new Set(paged.map((p) => p.signature))).toEqual(new Set(expected.map((t) => t.sig)));
    const slots = paged.map((p) => p.slot);
    expect(slots).toEqual([...slots].sort((a, b) => b - a));
    const bySig = new Map(expected.map((t) => [t.sig, t.slot]));
    for (const p of paged) expect(p.slot).toBe(bySig.get(p.signature));

    const all = paged.map((p) => p.signature);
    const until = await conn.getSignaturesForAddress(program, { until: all[10] });
    expect(until.map((s) => s.signature)).toEqual(all.slice(0, 10));
    const window = await conn.getSignaturesForAddress(program, { before: all[3], until: all[12] });
    expect(window.map((s) => s.signature)).toEqual(all.slice(4, 12));
    const unknown = bs58.encode(new Uint8Array(64).fill(7));
    expect(await conn.getSignaturesForAddress(program, { before: unknown })).toEqual([]);
    expect((await conn.getSignaturesForAddress(program, { until: unknown })).map((s) => s.signature)).toEqual(
      all.slice(0, 1000),
    );

    const derived = JSON.parse(
      readFileSync(
        path.join(sharedFixturesDir(), `generic/getSignaturesForAddress-DERIVED/raydium-amm-v4_${RAYDIUM_AMM_V4}.json`),
        "utf8",
      ),
    );
    const list = (Array.isArray(derived) ? derived : derived.result) as { signature: string }[];
    for (const d of list) expect(all).toContain(d.signature);
  });

  test("validator errors: -32015 without maxSupportedTransactionVersion, -32007 skipped, -32001 before first, -32004 future", async () => {
    const code = async (p: Promise<unknown>) => {
      const err = await p.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(SolanaJSONRPCError);
      return (err as SolanaJSONRPCError).code;
    };
    expect(await code(conn.getBlock(332254855))).toBe(-32015);
    expect(await code(conn.getBlock(332254856, { maxSupportedTransactionVersion: 0 }))).toBe(-32007);
    expect(await code(conn.getBlock(chain.history.slots[0]! - 1, { maxSupportedTransactionVersion: 0 }))).toBe(-32001);
    expect(await code(conn.getBlock(chain.slot() + 5, { maxSupportedTransactionVersion: 0 }))).toBe(-32004);
    const legacy = servedTxs().find((t) => t.result.version === "legacy")!;
    const noVersion = await conn.getTransaction(
      legacy.result.transaction.signatures[0]!,
      {} as { maxSupportedTransactionVersion: 0 },
    );
    expect(noVersion && "version" in noVersion).toBe(false);
    expect(
      await conn.getTransaction(bs58.encode(new Uint8Array(64).fill(9)), { maxSupportedTransactionVersion: 0 }),
    ).toBeNull();
  });

  test("slots, block lists, signatures-only and accounts-only blocks", async () => {
    expect(await conn.getBlocks(332254850, 332254910)).toEqual([332254855, 332254908]);
    expect(await conn.getFirstAvailableBlock()).toBe(chain.history.slots[0]);
    expect(await conn.getMinimumLedgerSlot()).toBe(chain.history.slots[0]);
    expect(await conn.getSlot("finalized")).toBe(chain.history.slots.at(-1));
    expect(await conn.getBlockTime(332254855)).toBe(1744174462);
    const whole = recorded.blocks.find((b) => b.slot === 332254855)!;
    const sigs = await conn.getBlockSignatures(332254855);
    expect(sigs.signatures).toEqual(whole.result.transactions.map((t) => t.transaction.signatures[0]));
    const none = await conn.getBlock(332254855, { transactionDetails: "none", maxSupportedTransactionVersion: 0 });
    expect(none).not.toBeNull();
    expect("transactions" in none!).toBe(false);
    const accounts = await conn.getBlock(332254855, {
      transactionDetails: "accounts",
      maxSupportedTransactionVersion: 0,
    });
    const tx42 = accounts!.transactions[42]!.transaction as unknown as { accountKeys: { pubkey: PublicKey }[] };
    expect(tx42.accountKeys.map((k) => k.pubkey.toBase58())).toEqual([
      ...whole.result.transactions[42]!.transaction.message.accountKeys,
      ...(whole.result.transactions[42]!.meta?.loadedAddresses?.writable ?? []),
      ...(whole.result.transactions[42]!.meta?.loadedAddresses?.readonly ?? []),
    ]);
    const latest = await conn.getLatestBlockhash("finalized");
    expect(latest.blockhash).toBe(
      (await conn.getBlock(chain.slot(), { maxSupportedTransactionVersion: 0 }))!.blockhash,
    );
    expect((await conn.getVersion())["solana-core"]).toMatch(/^\d+\.\d+\.\d+$/);
    expect(await conn.getGenesisHash()).toBe("5eykt4UsFv8P8NJdTREpY1vzqKqZKvdpKuc147dw2N9d");
  });

  test("mint accounts derived from token balances unpack with spl-token", async () => {
    const t = recorded.blocks[0]!.result.transactions.find((x) => x.meta?.postTokenBalances?.length);
    const tb = (t ?? servedTxs().find((x) => x.result.meta?.postTokenBalances?.length)!.result).meta!
      .postTokenBalances![0]!;
    const mint = new PublicKey(tb.mint);
    const info = await conn.getAccountInfo(mint);
    expect(info!.owner.toBase58()).toBe(tb.programId);
    const m = unpackMint(mint, info, info!.owner);
    expect(m.decimals).toBe(tb.uiTokenAmount.decimals);
    expect(m.isInitialized).toBe(true);
    const statuses = await conn.getSignatureStatuses([allServed()[0]!.sig], { searchTransactionHistory: true });
    expect(statuses.value[0]).toMatchObject({ confirmationStatus: "finalized", confirmations: null });
  });
});

describe("fixture loading", () => {
  test("base64 encoding, envelopes, bare arrays; bad files named with a reason", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "chain-fixtures-"));
    try {
      const txs = servedTxs().slice(0, 6);
      const toBase64 = (r: RecordedTx["result"]): string => {
        const m = r.transaction.message;
        const msg =
          r.version === 0
            ? new MessageV0({
                header: m.header,
                staticAccountKeys: m.accountKeys.map((k) => new PublicKey(k)),
                recentBlockhash: m.recentBlockhash,
                compiledInstructions: m.instructions.map((ix) => ({
                  programIdIndex: ix.programIdIndex,
                  accountKeyIndexes: ix.accounts,
                  data: bs58.decode(ix.data),
                })),
                addressTableLookups: (m.addressTableLookups ?? []).map((l) => ({
                  ...l,
                  accountKey: new PublicKey(l.accountKey),
                })),
              })
            : new Message({
                header: m.header,
                accountKeys: m.accountKeys,
                recentBlockhash: m.recentBlockhash,
                instructions: m.instructions,
              });
        return Buffer.from(
          new VersionedTransaction(
            msg,
            r.transaction.signatures.map((s) => bs58.decode(s)),
          ).serialize(),
        ).toString("base64");
      };
      const b64 = txs.map((t) => ({ ...t.result, transaction: [toBase64(t.result), "base64"] }));
      expect(txs.some((t) => t.result.version === 0) && txs.some((t) => t.result.version !== 0)).toBe(true);
      writeFileSync(path.join(dir, "a-envelope.json"), JSON.stringify({ jsonrpc: "2.0", result: b64[0], id: 1 }));
      writeFileSync(
        path.join(dir, "b-bare-array.json"),
        JSON.stringify([b64[1], { jsonrpc: "2.0", result: b64[2], id: "x" }]),
      );
      writeFileSync(path.join(dir, "c-bare.json"), JSON.stringify(b64[3]));
      writeFileSync(path.join(dir, "d-rest.json"), JSON.stringify(b64.slice(4)));
      writeFileSync(path.join(dir, "e-truncated.json"), '{"jsonrpc":"2.0","result":{"slot":');
      writeFileSync(path.join(dir, "f-null.json"), '{"jsonrpc":"2.0","result":null,"id":1}');
      writeFileSync(path.join(dir, "g-other.json"), '{"name":"an idl"}');
      const local = await createChain({ port: 0, once: true, fixtures: [dir] });
      try {
        expect(local.problems.map((p) => path.basename(p.file))).toEqual([
          "e-truncated.json",
          "f-null.json",
          "g-other.json",
        ]);
        expect(local.problems[1]!.reason).toMatch(/result is null/);
        expect(local.problems[2]!.reason).toMatch(/not a getBlock or getTransaction result/);
        const c = new Connection(local.rpcUrl, "confirmed");
        for (const { result } of txs) {
          const got = await c.getTransaction(result.transaction.signatures[0]!, { maxSupportedTransactionVersion: 0 });
          expectSameTx(got!, result, "base64 fixture");
          expect(got!.slot).toBe(result.slot);
        }
      } finally {
        await local.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
