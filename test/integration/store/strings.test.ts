import { readFileSync, readdirSync } from "node:fs";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { createDb, type Db } from "../../../core/db.js";
import { type DecodedBlock, createDecoder } from "../../../indexer/decode/index.js";
import { PRESET_NAMES } from "../../../core/presets.js";
import { parseMetadata } from "../../../indexer/pipeline/token-enricher.js";
import type { RawBlock } from "../../../core/solana-types.js";
import { createStore } from "../../../indexer/store/index.js";
import { fixturePath } from "../../setup/fixtures.js";
import { createTestDatabase } from "../../setup/services.js";

// F5: NUL bytes, invalid UTF-8, lone surrogates and 10 KB strings in log lines and decoded string fields.
// Policy (indexer/store/strings.ts): U+0000 removed, lone surrogates -> U+FFFD, invalid UTF-8 already U+FFFD when
// decoded, length kept.
const BLOCKS_DIR = fixturePath("blocks/getBlock-json-mainnet-converted");
const INVALID_UTF8 = Buffer.from([0x61, 0xff, 0xfe, 0x62]).toString("utf8");
const LONG = "x".repeat(10_240);

describe("store: hostile strings", () => {
  let raw: RawBlock;
  let slot: number;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: Db;
  const decoder = createDecoder({ programs: PRESET_NAMES });
  beforeAll(async () => {
    const file = readdirSync(BLOCKS_DIR).find((f) => f.endsWith(".json"))!;
    const json = JSON.parse(readFileSync(`${BLOCKS_DIR}/${file}`, "utf8"));
    raw = (json.result ?? json) as RawBlock;
    slot = Number(/(\d{6,})/.exec(file)![1]);
    database = await createTestDatabase(inject("pgAdminUrl"), inject("templateDb"));
    db = createDb(database.url, { max: 2 });
  });
  afterAll(async () => {
    await db.$client.end();
    await database.drop();
  });

  test("without the policy Postgres rejects them: 22021 for text, 22P05 for jsonb", async () => {
    const c = new pg.Client({ connectionString: database.url });
    await c.connect();
    try {
      await expect(c.query("select $1::text", ["a\u0000b"])).rejects.toMatchObject({ code: "22021" });
      await expect(c.query("select $1::jsonb", [JSON.stringify({ a: "\u0000" })])).rejects.toMatchObject({
        code: "22P05",
      });
    } finally {
      await c.end();
    }
  });

  test("decoded string fields and errors with NUL, lone surrogates, invalid UTF-8 and 10 KB insert on the first try, stored per the policy", async () => {
    const block = decoder.decodeBlock(raw, slot);
    const tx = block.transactions.find((t) => t.transfers.length > 0)!;
    const sig = tx.transaction.signature;
    tx.transaction.err = { InstructionError: [0, { Custom: "x\u0000y\ud800" }] };
    tx.transaction.feePayer = `Fee\u0000Payer`;
    // What an Anchor decoder yields for a `create` instruction's borsh strings (pump.fun name/symbol/uri).
    tx.programEvents.push({
      signature: sig,
      instructionPath: "99",
      kind: "instruction",
      name: "create",
      ordinal: 0,
      programId: "6EF8rrecthR5Dkzon8Nwu78hRvfCKubJ14M5uBEwF6P",
      data: {
        name: "Pump\u0000Coin\u0000\u0000",
        symbol: "a\udc00b",
        uri: LONG,
        "k\u0000ey": "\u{1F600}\ud83d",
        invalid: INVALID_UTF8,
      },
      slot,
      txIndex: tx.transaction.txIndex,
      blockTime: tx.transaction.blockTime,
    });
    await createStore({ db }).writeBlocks([block], { commitment: "confirmed" });

    const t = await db.$client.query<{ err: string; fee_payer: string }>(
      "select err::text, fee_payer from transactions where signature = $1",
      [sig],
    );
    expect(t.rows[0]).toEqual({ err: '{"InstructionError": [0, {"Custom": "xy\ufffd"}]}', fee_payer: "FeePayer" });
    const e = await db.$client.query<{ data: Record<string, string> }>(
      "select data from program_events where signature = $1 and instruction_path = '99'",
      [sig],
    );
    expect(e.rows[0]!.data).toEqual({
      name: "PumpCoin",
      symbol: "a\ufffdb",
      uri: LONG,
      key: "\u{1F600}\ufffd",
      invalid: "a\ufffd\ufffdb",
    });
    expect(e.rows[0]!.data.uri).toHaveLength(10_240);
  });

  test("array-literal syntax inside values (quotes, backslashes, braces, commas, NULL, empty) is stored as given", async () => {
    const block = decoder.decodeBlock(raw, slot);
    const [a, b] = block.transactions.filter((t) => t.transfers.length > 0);
    a!.transaction.feePayer = 'q"u\\o{t,e}\\';
    b!.transaction.feePayer = "NULL";
    // a column whose first values are plain and whose last is not (the store builds such a column twice)
    const last = block.transactions.at(-1)!;
    last.transaction.feePayer = 'last"\\';
    last.transaction.programIds = [...last.transaction.programIds, "NULL", 'p"q\\', ""];
    a!.transfers[0]!.sourceOwner = "";
    a!.programEvents.push({
      signature: a!.transaction.signature,
      instructionPath: "98",
      kind: "instruction",
      name: '"{,}"',
      ordinal: 0,
      programId: "6EF8rrecthR5Dkzon8Nwu78hRvfCKubJ14M5uBEwF6P",
      data: { s: 'a"b\\c', n: null },
      slot,
      txIndex: a!.transaction.txIndex,
      blockTime: a!.transaction.blockTime,
    });
    await createStore({ db }).writeBlocks([block], { commitment: "confirmed" });
    const q = async (sql: string, sig: string) => (await db.$client.query(sql, [sig])).rows[0];
    expect(await q("select fee_payer from transactions where signature = $1", a!.transaction.signature)).toEqual({
      fee_payer: 'q"u\\o{t,e}\\',
    });
    expect(await q("select fee_payer from transactions where signature = $1", b!.transaction.signature)).toEqual({
      fee_payer: "NULL",
    });
    expect(
      await q("select fee_payer, program_ids from transactions where signature = $1", last.transaction.signature),
    ).toEqual({
      fee_payer: 'last"\\',
      program_ids: last.transaction.programIds,
    });
    expect(
      await q(
        `select source_owner from token_transfers where signature = $1 and instruction_path = '${a!.transfers[0]!.instructionPath}'`,
        a!.transaction.signature,
      ),
    ).toEqual({ source_owner: "" });
    expect(
      await q(
        "select name, data from program_events where signature = $1 and instruction_path = '98'",
        a!.transaction.signature,
      ),
    ).toEqual({ name: '"{,}"', data: { s: 'a"b\\c', n: null } });
  });

  test("hostile log lines change no decoded row and the block stores", async () => {
    const clean = decoder.decodeBlock(raw, slot);
    const hostile = structuredClone(raw);
    const target = hostile.transactions.findIndex((t) => (t.meta?.logMessages?.length ?? 0) > 2 && !t.meta?.err);
    const logs = hostile.transactions[target]!.meta!.logMessages!;
    logs.splice(
      1,
      0,
      "Program log: nul\u0000byte",
      `Program log: lone \ud800 surrogate`,
      `Program log: ${INVALID_UTF8}`,
      `Program log: ${LONG}`,
      "\u0000",
    );
    const decoded: DecodedBlock = decoder.decodeBlock(hostile, slot);
    const rows = (b: DecodedBlock) =>
      b.transactions.map((t) => ({
        tx: t.transaction,
        transfers: t.transfers,
        swaps: t.swaps,
        events: t.programEvents,
        pools: t.pools,
      }));
    expect(rows(decoded)).toEqual(rows(clean));
    await createStore({ db }).writeBlocks([decoded], { commitment: "confirmed" });
    const n = await db.$client.query<{ n: number }>("select count(*)::int as n from transactions where slot = $1", [
      slot,
    ]);
    expect(n.rows[0]!.n).toBe(clean.transactions.length);
  });

  test("token metadata: NUL padding and interior NULs removed, invalid UTF-8 replaced; the values store", async () => {
    const borsh = (b: Buffer) => Buffer.concat([Buffer.from(Uint32Array.of(b.length).buffer), b]);
    const data = Buffer.concat([
      Buffer.alloc(1 + 32 + 32),
      borsh(Buffer.concat([Buffer.from("Pump\u0000Coin"), Buffer.alloc(22)])),
      borsh(Buffer.from([0x50, 0xff, 0x00, 0x00])),
      borsh(Buffer.from("https://example.com/x.json")),
    ]);
    const meta = parseMetadata(data);
    expect(meta).toEqual({ name: "PumpCoin", symbol: "P\ufffd", uri: "https://example.com/x.json" });
    await db.$client.query(
      "insert into tokens (mint, program, first_seen_slot, updated_slot, name, symbol, uri) values ('M1', 'spl-token', 1, 1, $1, $2, $3)",
      [meta!.name, meta!.symbol, meta!.uri],
    );
    const r = await db.$client.query("select name, symbol from tokens where mint = 'M1'");
    expect(r.rows[0]).toEqual({ name: "PumpCoin", symbol: "P\ufffd" });
  });
});
