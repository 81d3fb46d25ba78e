/** A transaction: what it is, then its swaps, token transfers and decoded program events. */
import { gql } from "../api.js";
import { h, stat, table } from "../dom.js";
import { short, usd } from "../format.js";
import { TRANSACTION } from "../queries.js";
import { type PageContext, amount, poolLink, section, tokenLink, walletLink, when } from "./common.js";

export async function transactionPage(ctx: PageContext): Promise<Node> {
  const { transaction: t } = await gql<{ transaction: any }>(TRANSACTION, { signature: ctx.arg }, ctx.signal);
  if (!t) return h("div", { class: "page" }, h("h1", {}, "Transaction not stored"), h("p", { class: "mono" }, ctx.arg));
  return h(
    "div",
    { class: "page", "data-page": "transaction" },
    h("h1", {}, "Transaction"),
    h("p", { class: "mono" }, t.signature),
    h(
      "div",
      { class: "stats" },
      stat("Status", t.success ? "success" : "failed", t.err ? JSON.stringify(t.err) : undefined),
      stat("Slot", t.slot),
      stat("Time", when(t.blockTime)),
      stat("Fee payer", walletLink(t.feePayer)),
      stat("Fee (SOL)", t.fee == null ? "–" : amount(lamportsToSol(t.fee), t.fee)),
      stat("Compute units", t.computeUnits ?? "–"),
      stat("Programs", t.programIds.length, t.programIds.join("\n")),
    ),
    section(
      "Swaps",
      table(
        ["Instruction", "Pool", "DEX", "Trader", "In", "Out", "Value"],
        t.swaps.map((s: any) => [
          s.instructionPath,
          poolLink(s.poolAddress),
          s.dex,
          walletLink(s.trader),
          h("span", {}, amount(s.amountInUi, s.amountIn), " ", tokenLink(s.mintIn, s.tokenIn)),
          h("span", {}, amount(s.amountOutUi, s.amountOut), " ", tokenLink(s.mintOut, s.tokenOut)),
          usd(s.valueUsd),
        ]),
        "No swap.",
      ),
    ),
    section(
      "Transfers",
      table(
        ["Instruction", "Kind", "Token", "From", "To", "Amount"],
        t.transfers.map((x: any) => [
          x.instructionPath,
          x.kind,
          tokenLink(x.mint, x.token),
          walletLink(x.sourceOwner ?? x.source),
          walletLink(x.destinationOwner ?? x.destination),
          amount(x.amountUi, x.amount),
        ]),
        "No token transfer.",
      ),
    ),
    section(
      "Events",
      table(
        ["Instruction", "Program", "Kind", "Name", "Data"],
        t.events.map((e: any) => [
          e.instructionPath,
          h("span", { title: e.programId }, short(e.programId)),
          e.kind,
          e.name,
          h("code", { class: "json" }, JSON.stringify(e.data).slice(0, 300)),
        ]),
        "No decoded program event.",
      ),
    ),
  );
}

/** Lamports as SOL (9 decimals), exact. */
function lamportsToSol(lamports: string): string {
  const d = lamports.padStart(10, "0");
  return `${d.slice(0, -9)}.${d.slice(-9)}`;
}
