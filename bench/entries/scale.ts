/**
 * The GraphQL API at scale: the 50x dataset (bench/dataset.ts: 4.26 million transactions, 1.1 million token
 * accounts, a mint with 508,000 holders), 64 concurrent keep-alive clients, the response cache off (every request
 * runs its SQL). Two balances pages (a token's holders, a wallet's portfolio), each against graphql-yoga alone in
 * the same run (its p99: what the machine allows at all) with PostGraphile's throughput for the same question
 * beside it; and the API bench's three pages at 50x against the same pages at today's size (150 copies). The
 * datasets are built once per machine and kept (a first run builds them: about an hour on 2 shared cores).
 */
import type { ChildProcess } from "node:child_process";
import pg from "pg";
import { BASE_COPIES, type Dataset, SCALE_COPIES, dataset, describe } from "../dataset.js";
import type { BenchEntry, BenchSuite } from "../harness.js";
import {
  CLIENTS,
  type Load,
  MEASURE_MS,
  POSTGRAPHILE_SQL,
  type Question,
  load,
  questions,
  startServer,
} from "./api.js";

/**
 * PostGraphile's relation for the holders (token_holders has no foreign key either), and their order by amount (it
 * orders by a column only where an index starts with it; the holders' index starts with the mint).
 */
const POSTGRAPHILE_HOLDERS_SQL = `
  comment on table token_holders is E'@foreignKey (mint) references tokens (mint)';
  comment on column token_holders.amount is E'@behavior +orderBy';`;
const FLOOR_QUERY = "{ page }";

type Servers = {
  big: Dataset;
  small: Dataset;
  /** slotline (response cache off, no rate limit) on the 50x dataset, and on today's size */
  slotline: string;
  slotlineSmall: string;
  postgraphile: string;
  floor: string;
  /** the three pages' questions on each dataset (their 24 h of candles end at each one's last swap) */
  pagesBig: Question[];
  pagesSmall: Question[];
  holders: Question;
  portfolio: Question;
  stop(): void;
};

/** The two balances questions, for both servers. */
function balancesQuestions(v: { mint: string; wallet: string }): { holders: Question; portfolio: Question } {
  return {
    holders: {
      name: "api-50x-holders-page",
      description: "a token's holder count and its top 50 holders",
      slotline: `{ token(mint: "${v.mint}") { mint decimals holderCount holders(first: 50) { edges { node { owner amount amountUi share } } } } }`,
      postgraphile: `{ tokenByMint(mint: "${v.mint}") { mint decimals holderCount tokenHoldersByMint(first: 50, orderBy: [AMOUNT_DESC, OWNER_ASC]) { nodes { owner amount } } } }`,
    },
    portfolio: {
      name: "api-50x-portfolio-page",
      description: "a wallet's SOL balance and its first 50 token balances, each with its token",
      slotline: `{ account(address: "${v.wallet}") { solBalance balances(first: 50) { edges { node { token { mint symbol decimals } amount amountUi } } } } }`,
      postgraphile: `{ walletByAddress(address: "${v.wallet}") { lamports }
        allTokenHolders(first: 50, condition: { owner: "${v.wallet}" }, orderBy: [MINT_ASC]) { nodes { tokenByMint { mint symbol decimals } amount } } }`,
    },
  };
}

async function sinceOf(url: string): Promise<string> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const r = await c.query<{ t: string }>("select max(block_time)::text as t from swaps");
  await c.end();
  return new Date(new Date(r.rows[0]!.t).getTime() - 86_400_000).toISOString();
}

async function prepare(): Promise<Servers> {
  const log = (line: string) => process.stderr.write(`  ${line}\n`);
  const small = await dataset(BASE_COPIES, log);
  // BENCH_DATASET_AS_IS=1: the 50x dataset as far as its build got (its copies are in the holders entry's details)
  const big = await dataset(SCALE_COPIES, log, { asIs: process.env.BENCH_DATASET_AS_IS === "1" });
  const c = new pg.Client({ connectionString: big.url });
  await c.connect();
  await c.query(POSTGRAPHILE_SQL + POSTGRAPHILE_HOLDERS_SQL);
  await c.end();
  const s = big.subjects;
  const pagesBig = questions({ ...s, since: await sinceOf(big.url) });
  const pagesSmall = questions({ ...s, since: await sinceOf(small.url) });
  const started = await Promise.all([
    startServer("slotline", big.url),
    startServer("slotline", small.url),
    startServer("postgraphile", big.url),
    startServer("yoga-floor", ""),
  ]);
  const children: ChildProcess[] = started.map((x) => x.child);
  const stop = () => {
    for (const x of children) x.kill("SIGTERM");
  };
  // run.ts exits without tearing down when --only picks one entry: never leave servers behind.
  process.once("exit", stop);
  const [slotline, slotlineSmall, postgraphile, floor] = started.map((x) => x.url) as [string, string, string, string];
  return {
    big,
    small,
    slotline,
    slotlineSmall,
    postgraphile,
    floor,
    pagesBig,
    pagesSmall,
    ...balancesQuestions({ mint: s.hotMint, wallet: s.portfolio }),
    stop,
  };
}

/** The server must answer the query without errors before it is measured. */
async function mustAnswer(url: string, query: string, what: string): Promise<void> {
  const r = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query }),
  });
  const text = await r.text();
  if (!r.ok || text.includes('"errors"')) throw new Error(`${url} cannot answer ${what}: ${text.slice(0, 500)}`);
}

let shared: Promise<Servers> | undefined;
const join = () => (shared ??= prepare());

const f1 = (x: number | undefined) => Math.round((x ?? 0) * 10) / 10;

const suite: BenchSuite = {
  name: "scale",
  async teardown() {
    if (shared) (await shared).stop();
    shared = undefined;
  },
  entries() {
    /**
     * A balances page at 50x: its p99 against graphql-yoga alone's in the same run, PostGraphile's throughput for
     * the same question measured beside it in each run.
     */
    const balancesEntry = (pick: (s: Servers) => Question, name: string, question: string): BenchEntry => {
      const last: { slotline?: Load; postgraphile?: Load; floor?: Load } = {};
      const ratios: number[] = [];
      return {
        name,
        description: `${question}, on the 50x dataset: p99 at ${CLIENTS} concurrent clients (response cache off), ${MEASURE_MS / 1000} s per run, against graphql-yoga alone's p99 in the same run (target: at most 1.5x); PostGraphile's throughput for the same question measured in each run beside it`,
        unit: "ms",
        higherIsBetter: false,
        async setup() {
          const s = await join();
          await mustAnswer(s.slotline, pick(s).slotline, name);
          await mustAnswer(s.postgraphile, pick(s).postgraphile, `${name} (PostGraphile)`);
        },
        async measure() {
          const s = await shared!;
          last.slotline = await load(s.slotline, pick(s).slotline);
          last.postgraphile = await load(s.postgraphile, pick(s).postgraphile);
          ratios.push(last.slotline.rps / last.postgraphile.rps);
          return last.slotline.p99;
        },
        reference: {
          name: "api-yoga-floor p99 (graphql-yoga alone, same run)",
          async measure() {
            last.floor = await load((await shared!).floor, FLOOR_QUERY);
            return last.floor.p99;
          },
        },
        async details() {
          const s = await shared!;
          const sorted = [...ratios].sort((a, b) => a - b);
          const out: Record<string, string | number> = {
            question: pick(s).slotline.replace(/\s+/g, " "),
            "slotline req/s (last run)": Math.round(last.slotline?.rps ?? 0),
            "slotline p50 / p99 ms (last run)": `${f1(last.slotline?.p50)} / ${f1(last.slotline?.p99)}`,
            "postgraphile req/s (last run)": Math.round(last.postgraphile?.rps ?? 0),
            "postgraphile p50 / p99 ms (last run)": `${f1(last.postgraphile?.p50)} / ${f1(last.postgraphile?.p99)}`,
            "throughput vs postgraphile, median of runs": `${sorted[Math.floor(sorted.length / 2)]?.toFixed(2)}x`,
            "yoga floor req/s, p50 / p99 ms (last run)": `${Math.round(last.floor?.rps ?? 0)}, ${f1(last.floor?.p50)} / ${f1(last.floor?.p99)}`,
            errors: (last.slotline?.errors ?? 0) + (last.postgraphile?.errors ?? 0) + (last.floor?.errors ?? 0),
          };
          return out;
        },
      };
    };
    /** One of the API bench's pages at 50x: its p99 against the same page's at today's size, in the same run. */
    const pageEntry = (i: number): BenchEntry => {
      const last: { big?: Load; small?: Load } = {};
      let name = "";
      return {
        name: ["api-50x-token-page", "api-50x-pool-page", "api-50x-wallet-swaps"][i]!,
        description: `the API bench's ${["api-token-page", "api-pool-page", "api-wallet-swaps"][i]} on the 50x dataset: p99 at ${CLIENTS} concurrent clients (response cache off), ${MEASURE_MS / 1000} s per run, against the same page on today's size (${BASE_COPIES} copies) in the same run (target: at most 1.5x)`,
        unit: "ms",
        higherIsBetter: false,
        async setup() {
          const s = await join();
          name = s.pagesBig[i]!.description;
          await mustAnswer(s.slotline, s.pagesBig[i]!.slotline, name);
          await mustAnswer(s.slotlineSmall, s.pagesSmall[i]!.slotline, name);
        },
        async measure() {
          const s = await shared!;
          last.big = await load(s.slotline, s.pagesBig[i]!.slotline);
          return last.big.p99;
        },
        reference: {
          name: `the same page at today's size (${BASE_COPIES} copies, same run)`,
          async measure() {
            const s = await shared!;
            last.small = await load(s.slotlineSmall, s.pagesSmall[i]!.slotline);
            return last.small.p99;
          },
        },
        async details() {
          return {
            question: name,
            "50x req/s, p50 / p99 ms (last run)": `${Math.round(last.big?.rps ?? 0)}, ${f1(last.big?.p50)} / ${f1(last.big?.p99)}`,
            "1x req/s, p50 / p99 ms (last run)": `${Math.round(last.small?.rps ?? 0)}, ${f1(last.small?.p50)} / ${f1(last.small?.p99)}`,
            errors: (last.big?.errors ?? 0) + (last.small?.errors ?? 0),
          };
        },
      };
    };
    const holders = balancesEntry(
      (s) => s.holders,
      "api-50x-holders-page",
      "a token's holder count and top 50 holders",
    );
    // the dataset's figures ride with the first entry: its build time and the size of each table
    const holdersDetails = holders.details!;
    holders.details = async () => {
      const s = await shared!;
      return { ...(await holdersDetails()), ...(await describe(s.big)), "1x dataset": s.small.name };
    };
    return [
      holders,
      balancesEntry(
        (s) => s.portfolio,
        "api-50x-portfolio-page",
        "a wallet's SOL balance and its first 50 token balances with their tokens",
      ),
      pageEntry(0),
      pageEntry(1),
      pageEntry(2),
    ];
  },
};

export default suite;
