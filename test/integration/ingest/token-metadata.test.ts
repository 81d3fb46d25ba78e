/**
 * A Token-2022 mint whose name, symbol and uri live in its own TokenMetadata extension gets them: the local chain
 * serves the recorded mainnet Pump.fun mint account (getMultipleAccounts), and the enricher reads them from it.
 */
import path from "node:path";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { parseConfig } from "../../../core/config.js";
import { createDb, type Db } from "../../../core/db.js";
import { createLogger } from "../../../core/logger.js";
import { type Chain, createChain } from "../../../devchain/index.js";
import { createTokenEnricher } from "../../../indexer/pipeline/index.js";
import { createRpcClient } from "../../../indexer/source/index.js";
import { createStore } from "../../../indexer/store/index.js";
import { FIXTURES_DIR } from "../../setup/fixtures.js";
import { createTestDatabase } from "../../setup/services.js";

const RECORDED = path.join(FIXTURES_DIR, "pump-amm/litesvm-replay-snapshot-k13");
const PUMP_MINT = "6rR1V4h4BncYbyR7M1ZEtLYFQguCPwuS7L8j53bDpump";

describe("token enricher: Token-2022 TokenMetadata", () => {
  let chain: Chain;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: Db;

  beforeAll(async () => {
    chain = await createChain({ port: 0, once: true, recordedAccounts: [RECORDED] });
    database = await createTestDatabase(inject("pgAdminUrl"), inject("templateDb"));
    db = createDb(database.url, { max: 2 });
  });
  afterAll(async () => {
    await db?.$client.end();
    await database?.drop();
    await chain?.close();
  });

  test("a stored Pump.fun createV2 mint gets its name, symbol, uri and supply from the mint account", async () => {
    const config = parseConfig({ DATABASE_URL: database.url, SOLANA_RPC_URL: chain.rpcUrl, LOG_LEVEL: "silent" });
    const rpc = createRpcClient({ url: chain.rpcUrl, maxRps: 1000, concurrency: 4, batchSize: 10, timeoutMs: 10_000 });
    // what the chain serves is the recorded account, byte for byte
    const served = await rpc.call<{ context: { slot: number }; value: { data: [string, string]; owner: string }[] }>(
      "getMultipleAccounts",
      [[PUMP_MINT], { encoding: "base64" }],
    );
    const data = Buffer.from(served.value[0]!.data[0], "base64");
    expect(data.length).toBe(403);
    // a stored mint never looked up, as a transaction naming it leaves it
    await db.$client.query(
      "insert into tokens (mint, program, first_seen_slot, updated_slot) values ($1, 'token-2022', 1, 1)",
      [PUMP_MINT],
    );
    const enricher = createTokenEnricher({ db, rpc, logger: createLogger(config), store: createStore({ db }) });
    expect(await enricher.enrichMints([PUMP_MINT])).toBe(1);
    const r = await db.$client.query(
      "select name, symbol, uri, decimals, supply::text, mint_authority from tokens where mint = $1",
      [PUMP_MINT],
    );
    expect(r.rows[0]).toEqual({
      name: "The Olympic Stoat",
      symbol: "Tina",
      uri: "https://meta.uxento.io/data/20788851-d6c7-4353-bc7f-a5b1ce153d30",
      decimals: 6,
      supply: data.readBigUInt64LE(36).toString(),
      mint_authority: null,
    });
    // looked up once: a second call has nothing to do
    expect(await enricher.enrichMints([PUMP_MINT])).toBe(0);
  });
});
