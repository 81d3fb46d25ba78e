/** Pieces the pages share: amounts with raw values on hover, address and signature links, times. */
import { h, link } from "../dom.js";
import { decimal, short, symbolOf, time } from "../format.js";

/**
 * What a page gets: the route's argument and a signal that aborts when the viewer leaves the page. A page returns its
 * node before it is attached: charts are drawn in the next frame (requestAnimationFrame), once their box has a size.
 */
export type PageContext = { arg: string; signal: AbortSignal; query: URLSearchParams };

/** An amount with decimals applied, the raw integer on hover; the raw value when decimals are unknown. */
export const amount = (ui: string | null | undefined, raw: string, unit?: string) =>
  h("span", { class: "amount", title: `${raw} (raw)` }, ui == null ? raw : decimal(ui), unit ? ` ${unit}` : "");

export const when = (iso: string | null | undefined) =>
  h("time", { datetime: iso ?? undefined, title: iso ?? undefined }, time(iso));

export const tokenLink = (mint: string, t?: { symbol?: string | null } | null) =>
  link(`token/${mint}`, symbolOf(t, mint), mint);
export const poolLink = (address: string, label?: string) => link(`pool/${address}`, label ?? short(address), address);
export const walletLink = (address: string | null | undefined) =>
  address ? link(`wallet/${address}`, short(address), address) : "–";
export const txLink = (signature: string) => link(`tx/${signature}`, short(signature, 6), signature);

/** A section with a heading. */
export const section = (title: string, ...body: (Node | string | null)[]) =>
  h("section", { "data-section": title }, h("h2", {}, title), ...body);

/** The pair's name, "A/B". */
export const pairName = (p: {
  mintA: string;
  mintB: string;
  tokenA?: { symbol?: string | null } | null;
  tokenB?: { symbol?: string | null } | null;
}) => `${symbolOf(p.tokenA, p.mintA)}/${symbolOf(p.tokenB, p.mintB)}`;
