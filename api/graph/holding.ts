/**
 * Balances: Holding (an owner's balance of one mint, a row of token_holders) and TokenAccount (one account's latest
 * state), with the batched page reads behind `Token.holders`, `Account.balances` and `Account.tokenAccounts`.
 */
import { builder } from "./builder.js";
import type { RequestContext } from "../context.js";
import { formatRatio } from "./format.js";
import {
  HOLDINGS,
  type HoldingRecord,
  TOKEN_ACCOUNTS,
  type TokenAccountRecord,
  type TokenAccountWhere,
  holdingsOfMint,
  holdingsOfOwner,
  tokenAccountFilters,
} from "../queries/index.js";
import { type NodeFields, type Order, type PageArgs, fetchPages, sql } from "../sql/index.js";
import { TokenProgramEnum } from "./inputs.js";
import { reads } from "./reads.js";
import { Holding, Token, TokenAccount } from "./refs.js";
import { uiAmount } from "./swap.js";

/** Holders by balance: amount descending, then owner ascending (the index's order). */
const BY_BALANCE: Order = { spec: HOLDINGS.orders.BALANCE!, desc: true };
const BY_MINT: Order = { spec: HOLDINGS.orders.MINT!, desc: false };
const ACCOUNTS_BY_MINT: Order = { spec: TOKEN_ACCOUNTS.orders.MINT!, desc: false };

/** The only ordering of `Token.holders`, named so that others can join it without breaking clients. */
export const HolderOrderEnum = builder.enumType("HolderOrder", {
  values: { BALANCE_DESC: { description: "largest balance first; equal balances by owner" } } as const,
});

export const TokenAccountWhereInput = builder.inputType("TokenAccountWhere", {
  fields: (t) => ({
    mint: t.string(),
    closed: t.boolean({ description: "true: the closed accounts instead of the open ones (the default)" }),
  }),
});

/** The first page of each mint's holders (positive balances, largest first), in one statement. */
export function holdersOf(ctx: RequestContext, mints: readonly string[], args: PageArgs, fields: NodeFields) {
  return fetchPages<HoldingRecord>(
    ctx.reader,
    HOLDINGS,
    mints,
    holdingsOfMint,
    [],
    BY_BALANCE,
    args,
    ctx.limits,
    fields,
  );
}

/** The first page of each owner's balances (positive, by mint), in one statement. */
export function balancesOf(ctx: RequestContext, owners: readonly string[], args: PageArgs, fields: NodeFields) {
  return fetchPages<HoldingRecord>(
    ctx.reader,
    HOLDINGS,
    owners,
    holdingsOfOwner,
    [],
    BY_MINT,
    args,
    ctx.limits,
    fields,
  );
}

/** The first page of each owner's token accounts (by mint, then address), in one statement. */
export function tokenAccountsOf(
  ctx: RequestContext,
  owners: readonly string[],
  args: PageArgs & { where?: TokenAccountWhere | null },
  fields: NodeFields,
) {
  return fetchPages<TokenAccountRecord>(
    ctx.reader,
    TOKEN_ACCOUNTS,
    owners,
    (ref) => sql`t.owner = ${ref}`,
    tokenAccountFilters(args.where),
    ACCOUNTS_BY_MINT,
    args,
    ctx.limits,
    fields,
  );
}

Holding.implement({
  description: "What one owner holds of one mint: its open token accounts of the mint together.",
  fields: (t) => ({
    owner: t.exposeString("owner"),
    mint: t.exposeString("mint"),
    token: t.field({ type: Token, nullable: true, extensions: reads<HoldingRecord>("mint"), resolve: (h) => h.mint }),
    amount: t.expose("amount", { type: "BigInt" }),
    amountUi: t.string({
      nullable: true,
      description: "amount with the token's decimals applied (null while its decimals are unknown)",
      extensions: reads<HoldingRecord>("mint", "amount"),
      resolve: (h, _a, ctx) => uiAmount(ctx, h.mint, h.amount),
    }),
    share: t.string({
      nullable: true,
      description:
        "amount / the token's supply, as an exact decimal string truncated to 18 significant digits (0.25 is a quarter of the supply); null while the supply is unknown or 0",
      extensions: reads<HoldingRecord>("mint", "amount"),
      resolve: async (h, _a, ctx) => {
        const tok = await Token.getDataloader(ctx).load(h.mint);
        return tok?.supply == null ? null : formatRatio(BigInt(h.amount), BigInt(tok.supply));
      },
    }),
    accounts: t.exposeInt("accounts", { description: "open token accounts of the mint the owner holds" }),
  }),
});

TokenAccount.implement({
  description: "A token account as the latest stored transaction touching it left it.",
  fields: (t) => ({
    address: t.exposeString("address"),
    mint: t.exposeString("mint"),
    token: t.field({
      type: Token,
      nullable: true,
      extensions: reads<TokenAccountRecord>("mint"),
      resolve: (a) => a.mint,
    }),
    owner: t.exposeString("owner", { nullable: true }),
    program: t.expose("program", { type: TokenProgramEnum }),
    amount: t.expose("amount", { type: "BigInt" }),
    amountUi: t.string({
      nullable: true,
      description: "amount with the token's decimals applied (null while its decimals are unknown)",
      extensions: reads<TokenAccountRecord>("mint", "amount"),
      resolve: (a, _a, ctx) => uiAmount(ctx, a.mint, a.amount),
    }),
    closed: t.exposeBoolean("closed", { description: "closed by that transaction (amount 0)" }),
    slot: t.exposeInt("slot", { description: "slot of the transaction that last set it" }),
    txIndex: t.exposeInt("txIndex", {
      description: "that transaction's position in its block (2147483647: the row of a snapshot taken at `slot`)",
    }),
  }),
});
