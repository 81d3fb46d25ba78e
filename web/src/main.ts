/**
 * The app: the dashboard (hash routes: #/, #/token/<mint>, #/pool/<address>, #/wallet/<address>, #/tx/<signature>)
 * and, at <base>/console, the operator console. Every link is relative, so a proxy may mount it under any prefix.
 */
import "./style.css";
import { ApiError, AuthError, apiKey } from "./api.js";
import { h } from "./dom.js";
import type { PageContext } from "./pages/common.js";
import { consolePage } from "./pages/console.js";
import { poolPage } from "./pages/pool.js";
import { searchRoute } from "./pages/search.js";
import { tokenPage } from "./pages/token.js";
import { transactionPage } from "./pages/transaction.js";
import { trendingPage } from "./pages/trending.js";
import { walletPage } from "./pages/wallet.js";

type Page = (ctx: PageContext) => Promise<Node>;
const ROUTES: Record<string, Page> = {
  "": trendingPage,
  token: tokenPage,
  pool: poolPage,
  wallet: walletPage,
  tx: transactionPage,
};

const isConsole = /\/console\/?$/.test(location.pathname);
const home = isConsole ? "./" : "#/";
const app = document.getElementById("app")!;
const main = h("main", {});
let current: AbortController | undefined;

function searchForm(): HTMLElement {
  const input = h("input", {
    name: "q",
    type: "search",
    placeholder: "Mint, pool, wallet or signature",
    "aria-label": "Search",
    spellcheck: "false",
  }) as HTMLInputElement;
  const note = h("span", { class: "search-note" });
  return h(
    "form",
    {
      class: "search",
      role: "search",
      onsubmit: async (e: Event) => {
        e.preventDefault();
        note.textContent = "";
        try {
          const route = await searchRoute(input.value);
          if (!route) note.textContent = "Not an address or a signature.";
          else location.assign(`${isConsole ? "./" : ""}#/${route}`);
        } catch (err) {
          showError(err);
        }
      },
    },
    input,
    note,
  );
}

function header(): HTMLElement {
  return h(
    "header",
    {},
    h("a", { class: "brand", href: home }, "slotline"),
    h(
      "nav",
      {},
      h("a", { href: isConsole ? "./" : "#/" }, "Trending"),
      h("a", { href: isConsole ? "console" : "console", class: isConsole ? "active" : null }, "Console"),
      h("a", { href: "graphql" }, "GraphiQL"),
      apiKey.get()
        ? h("a", { href: "#", onclick: (e: Event) => (e.preventDefault(), apiKey.clear(), render()) }, "Forget key")
        : null,
    ),
    searchForm(),
  );
}

/** The API refused the request for want of a key: ask for one, keep it, and render again. */
function keyForm(): HTMLElement {
  const input = h("input", {
    name: "key",
    type: "password",
    autocomplete: "off",
    "aria-label": "API key",
  }) as HTMLInputElement;
  return h(
    "form",
    {
      class: "key-form",
      onsubmit: (e: Event) => {
        e.preventDefault();
        if (input.value) apiKey.set(input.value.trim());
        render();
      },
    },
    h("h1", {}, "API key"),
    h(
      "p",
      {},
      apiKey.get() ? "The API refused this key. Enter another:" : "This API asks for a key (x-api-key). Enter yours:",
    ),
    input,
    h("button", { type: "submit" }, "Continue"),
  );
}

function showError(err: unknown): void {
  if (err instanceof DOMException && err.name === "AbortError") return;
  if (err instanceof AuthError) return void main.replaceChildren(keyForm());
  const code = err instanceof ApiError && err.code ? ` (${err.code})` : "";
  main.replaceChildren(
    h("div", { class: "error", role: "alert" }, `The API answered: ${(err as Error).message}${code}`),
  );
}

async function render(): Promise<void> {
  current?.abort();
  const ctrl = new AbortController();
  current = ctrl;
  app.replaceChildren(header(), main);
  main.replaceChildren(h("p", { class: "loading" }, "Loading…"));
  const hash = location.hash.replace(/^#\/?/, "");
  const [path = "", qs = ""] = hash.split("?");
  const [name = "", ...rest] = path.split("/");
  const page = isConsole && !hash ? consolePage : ROUTES[name];
  const arg = decodeURIComponent(rest.join("/"));
  if (!page) return void main.replaceChildren(h("p", {}, "No such page."));
  try {
    const node = await page({ arg, signal: ctrl.signal, query: new URLSearchParams(qs) });
    if (current === ctrl) {
      main.replaceChildren(node);
      document.title = `${(node as HTMLElement).querySelector?.("h1")?.textContent ?? "slotline"} · slotline`;
    }
  } catch (err) {
    if (current === ctrl) showError(err);
  }
}

window.addEventListener("hashchange", () => void render());
void render();
