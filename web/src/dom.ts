/** A tiny element builder: the app renders with the DOM itself (no UI library to ship or keep up to date). */
type Child = Node | string | number | null | undefined | false | Child[];
type Attrs = Record<string, string | number | boolean | null | undefined | ((e: Event) => void)>;

/** Creates an element; `on…` attributes are listeners, text children are text nodes (never parsed as HTML). */
export function h(tag: string, attrs: Attrs = {}, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (typeof v === "function") el.addEventListener(k.slice(2).toLowerCase(), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

function append(el: HTMLElement, children: Child[]): void {
  for (const c of children) {
    if (c == null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

/** A table: headers, then one row of cells per item; `empty` when there is none. */
export function table(head: string[], rows: Child[][], empty = "Nothing stored yet."): HTMLElement {
  if (!rows.length) return h("p", { class: "empty" }, empty);
  return h(
    "table",
    {},
    h("thead", {}, h("tr", {}, ...head.map((x) => h("th", {}, x)))),
    h("tbody", {}, ...rows.map((r) => h("tr", {}, ...r.map((c) => h("td", {}, c))))),
  );
}

/** A labelled figure of a stats grid; `data-stat` names it for tests and styles. */
export const stat = (label: string, value: Child, title?: string) =>
  h(
    "div",
    { class: "stat", "data-stat": label },
    h("span", { class: "label" }, label),
    h("span", { class: "value", title }, value),
  );

/** A link inside the app (hash routes: relative, so any path prefix works). */
export const link = (route: string, text: Child, title?: string) => h("a", { href: `#/${route}`, title }, text);
