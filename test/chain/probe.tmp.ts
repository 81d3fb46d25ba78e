import { createChain } from "./index.js";
const chain = await createChain({ port: 0, fixtures: ["/work/shared/fixtures/blocks/getBlock-json-mainnet-converted"], syntheticTps: 40000, slotMs: 400, finalityLag: 2, autoProduce: false });
for (let i = 0; i < 4; i++) chain.tick();
const url = chain.rpcUrl;
for (let s = 0; s < 3; s++) {
  const slot = chain.slot("confirmed") - s;
  const t0 = performance.now();
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: "1", method: "getBlock", params: [slot, { maxSupportedTransactionVersion: 0, rewards: false, commitment: "confirmed" }] }) });
  const buf = await res.arrayBuffer();
  console.log("slot", slot, "ms", Math.round(performance.now() - t0), "MB", (buf.byteLength / 1e6).toFixed(1));
}
const t1 = performance.now();
for (let i = 0; i < 5; i++) chain.tick();
console.log("tick ms", (performance.now() - t1) / 5);
await chain.close();
