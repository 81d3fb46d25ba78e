/**
 * The balanceChanges subscription: on each indexer event, an owner's (or one address's) balances as the event's slots
 * left them, read from the change logs once for every subscriber of the process.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { createEventHub } from "../../../api/server/index.js";
import { formatUnits } from "../../../api/graph/format.js";
import { eventsChannel } from "../../../core/events.js";
import { createLogger } from "../../../core/logger.js";
import { uniquePrefix } from "../../setup/services.js";
import { type AccountState, type BalanceRows, storedBalanceRows } from "./balance-rows.js";
import { type ApiHarness, setupApi } from "./harness.js";

const QUERY = `subscription($w: BalanceChangeWhere!) { balanceChanges(where: $w) {
  kind address owner mint token { mint } amount amountUi closed slot txIndex } }`;

/** An SSE subscription through the API, its data messages read as they come. */
async function subscribe(h: ApiHarness, where: { owner?: string; address?: string }, abort: AbortController) {
  const res = await h.api.fetch("http://test/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", accept: "text/event-stream" },
    body: JSON.stringify({ query: QUERY, variables: { w: where } }),
    signal: abort.signal,
  });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  const queue: any[] = [];
  return {
    /** The next `n` messages. */
    async take(n: number): Promise<any[]> {
      while (queue.length < n) {
        const { value, done } = await reader.read();
        if (done) throw new Error("stream ended");
        buf += decoder.decode(value, { stream: true });
        let i: number;
        while ((i = buf.indexOf("\n\n")) >= 0) {
          const data = buf
            .slice(0, i)
            .split("\n")
            .find((l) => l.startsWith("data:"));
          buf = buf.slice(i + 2);
          if (data && data.length > 6) queue.push(JSON.parse(data.slice(5)));
        }
      }
      return queue.splice(0, n);
    },
  };
}

describe("api balanceChanges subscription", () => {
  let h: ApiHarness;
  let rows: BalanceRows;
  let hub: ReturnType<typeof createEventHub>;
  let publisher: Redis;
  let prefix: string;
  let decimals: Map<string, number | null>;
  const aborts: AbortController[] = [];

  beforeAll(async () => {
    prefix = uniquePrefix();
    hub = createEventHub(
      new Redis(inject("redisUrl")),
      prefix,
      createLogger({ LOG_LEVEL: "silent", LOG_FORMAT: "json" }),
    );
    await hub.ready;
    h = await setupApi({ config: { QUEUE_PREFIX: prefix }, context: { events: hub } });
    rows = await storedBalanceRows(h.sql);
    publisher = new Redis(inject("redisUrl"));
    const { rows: toks } = await h.sql.query<{ mint: string; decimals: number | null }>(
      `select mint, decimals from tokens`,
    );
    decimals = new Map(toks.map((t) => [t.mint, t.decimals]));
  });
  afterAll(async () => {
    for (const a of aborts) a.abort();
    publisher.disconnect();
    await hub.close();
    await h.close();
  });

  /** What a subscriber to `pick` should get for `slot`, in chain order (the token accounts, then the wallet). */
  function expected(slot: number, pick: { owner?: string; address?: string }) {
    const token = rows.accountChanges
      .filter((a) => a.slot === slot && (pick.owner ? a.owner === pick.owner : a.address === pick.address))
      .map((a: AccountState) => ({
        kind: "TOKEN",
        address: a.address,
        owner: a.owner,
        mint: a.mint,
        token: decimals.has(a.mint) ? { mint: a.mint } : null,
        amount: a.amount.toString(),
        amountUi: decimals.get(a.mint) == null ? null : formatUnits(a.amount, decimals.get(a.mint)!),
        closed: a.closed,
        slot,
        txIndex: a.txIndex,
      }));
    const sol = rows.walletChanges
      .filter((w) => w.slot === slot && w.address === (pick.owner ?? pick.address))
      .map((w) => ({
        kind: "SOL",
        address: w.address,
        owner: w.address,
        mint: null,
        token: null,
        amount: w.lamports.toString(),
        amountUi: formatUnits(w.lamports, 9),
        closed: false,
        slot,
        txIndex: w.txIndex,
      }));
    return [...token, ...sol].sort((a, b) =>
      a.txIndex !== b.txIndex
        ? a.txIndex - b.txIndex
        : a.kind !== b.kind
          ? a.kind === "TOKEN"
            ? -1
            : 1
          : a.address < b.address
            ? -1
            : 1,
    );
  }

  test("an owner's and an address's changes arrive per event, exact, read once for all subscribers", async () => {
    const [first, second] = h.blocks.map((b) => b.slot) as [number, number];
    // the owner of the most accounts the second block changed, one account it holds, and a signer: its SOL and its
    // accounts
    const count = new Map<string, number>();
    for (const a of rows.accountChanges)
      if (a.slot === second && a.owner) count.set(a.owner, (count.get(a.owner) ?? 0) + 1);
    const OWNER = [...count.entries()].sort((a, b) => b[1] - a[1])[0]![0];
    const ownerChanges = (slot: number) => expected(slot, { owner: OWNER });
    expect(ownerChanges(second).length).toBeGreaterThan(5);
    const account = ownerChanges(second).find((c) => c.kind === "TOKEN")!.address;
    const signer = rows.walletChanges.find(
      (w) => w.slot === second && rows.accountChanges.some((a) => a.slot === second && a.owner === w.address),
    )!.address;
    expect(expected(second, { owner: signer }).map((c) => c.kind)).toContain("SOL");
    expect(expected(second, { owner: signer }).map((c) => c.kind)).toContain("TOKEN");
    const subs = await Promise.all(
      [{ owner: OWNER }, { owner: OWNER }, { owner: OWNER }, { address: account }, { owner: signer }].map((w) => {
        const abort = new AbortController();
        aborts.push(abort);
        return subscribe(h, w, abort).then((s) => ({ w, s }));
      }),
    );
    // the streams start listening on their first read
    const pending = subs.map(({ w, s }) => s.take(expected(second, w).length));
    await new Promise((r) => setTimeout(r, 200));
    h.statements.reset();
    await publisher.publish(
      eventsChannel(prefix),
      JSON.stringify({ type: "batch", slots: [second], swaps: [], transactions: [] }),
    );
    const got = await Promise.all(pending);
    got.forEach((msgs, i) => expect(msgs.map((m) => m.data.balanceChanges)).toEqual(expected(second, subs[i]!.w)));
    const changeReads = () => h.statements.texts.filter((t) => /from token_account_changes t/.test(t)).length;
    expect(changeReads()).toBe(1);
    // the next event is read again, once
    const next = subs.map(({ w, s }) => s.take(expected(first, w).length));
    await publisher.publish(
      eventsChannel(prefix),
      JSON.stringify({ type: "batch", slots: [first], swaps: [], transactions: [] }),
    );
    const got2 = await Promise.all(next);
    got2.forEach((msgs, i) => expect(msgs.map((m) => m.data.balanceChanges)).toEqual(expected(first, subs[i]!.w)));
    expect(changeReads()).toBe(2);
  });

  test("where takes exactly one of owner and address (BAD_USER_INPUT)", async () => {
    const someone = [...rows.wallets.keys()][0]!;
    for (const w of [{}, { owner: someone, address: someone }]) {
      const abort = new AbortController();
      aborts.push(abort);
      const [msg] = await (await subscribe(h, w, abort)).take(1);
      expect(msg.errors?.map((e: any) => e.extensions?.code)).toEqual(["BAD_USER_INPUT"]);
    }
  });
});
