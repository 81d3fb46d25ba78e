/**
 * A small network of hosts on one machine: one network namespace per host, each joined by a veth pair to a bridge in
 * the root namespace (which holds the bridge's .1 address, where the test's own servers such as the local chain
 * listen). Cutting a host takes its link down: its packets are dropped, as when a cable is pulled or a machine
 * freezes, so its peers learn of it only by their timeouts.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";

const run = promisify(execFile);
const ip = (...args: string[]) => run("ip", args, { timeout: 10_000 });

/** Why namespaces cannot be used here (not root, no `ip`, no permission), or null when they can. */
export async function netnsUnavailable(): Promise<string | null> {
  if (process.getuid?.() !== 0) return "ip netns needs root";
  const probe = `slprobe${randomBytes(3).toString("hex")}`;
  try {
    await ip("netns", "add", probe);
    await ip("netns", "del", probe);
    await ip("link", "add", `${probe}b`, "type", "bridge");
    await ip("link", "del", `${probe}b`);
    return null;
  } catch (err) {
    return `ip netns unavailable: ${(err as Error).message.split("\n")[0]}`;
  }
}

/** The hosts of a network; `exec(host)` is the command prefix that runs a program on it. */
export type HostNetwork = {
  /** the root namespace's address on the bridge */
  gateway: string;
  addr(host: string): string;
  /** the namespace name of `host` */
  ns(host: string): string;
  cut(host: string): Promise<void>;
  restore(host: string): Promise<void>;
  destroy(): Promise<void>;
};

/** Creates one namespace per host name, addresses 10.231.N.2 and up in the order given, all on one bridge. */
export async function createHostNetwork(hosts: string[]): Promise<HostNetwork> {
  const id = randomBytes(2).toString("hex");
  const subnet = `10.231.${randomBytes(1)[0]! % 250}`;
  const bridge = `slb${id}`;
  const made: { ns: string[]; links: string[] } = { ns: [], links: [bridge] };
  const byHost = new Map<string, { ns: string; veth: string; addr: string }>();
  const destroy = async () => {
    for (const l of made.links.reverse()) await ip("link", "del", l).catch(() => {});
    for (const n of made.ns) await ip("netns", "del", n).catch(() => {});
  };
  try {
    await ip("link", "add", bridge, "type", "bridge");
    await ip("addr", "add", `${subnet}.1/24`, "dev", bridge);
    await ip("link", "set", bridge, "up");
    for (const [i, host] of hosts.entries()) {
      const ns = `sl${id}-${host}`;
      const veth = `slv${id}${i}`;
      const peer = `slp${id}${i}`;
      const addr = `${subnet}.${i + 2}`;
      await ip("netns", "add", ns);
      made.ns.push(ns);
      await ip("link", "add", veth, "type", "veth", "peer", "name", peer);
      made.links.push(veth);
      await ip("link", "set", peer, "netns", ns);
      await ip("link", "set", veth, "master", bridge, "up");
      await ip("netns", "exec", ns, "ip", "addr", "add", `${addr}/24`, "dev", peer);
      await ip("netns", "exec", ns, "ip", "link", "set", peer, "up");
      await ip("netns", "exec", ns, "ip", "link", "set", "lo", "up");
      byHost.set(host, { ns, veth, addr });
    }
  } catch (err) {
    await destroy();
    throw err;
  }
  const of = (host: string) => {
    const h = byHost.get(host);
    if (!h) throw new Error(`no host ${host}`);
    return h;
  };
  return {
    gateway: `${subnet}.1`,
    addr: (host) => of(host).addr,
    ns: (host) => of(host).ns,
    cut: async (host) => void (await ip("link", "set", of(host).veth, "down")),
    restore: async (host) => void (await ip("link", "set", of(host).veth, "up")),
    destroy,
  };
}
