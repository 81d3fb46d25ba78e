/**
 * web3.js Connections a test file opens, closed before its chain stops: a Connection that ever subscribed keeps
 * its socket, and after the chain closes, web3.js's socket client reconnects for ever (once a second, printing
 * "ws error: connect ECONNREFUSED" into whichever test file the vitest worker runs next).
 */
import { Connection } from "@solana/web3.js";

const opened: Connection[] = [];

/** A Connection that closeConnections() will close. */
export function connect(...args: ConstructorParameters<typeof Connection>): Connection {
  const conn = new Connection(...args);
  opened.push(conn);
  return conn;
}

/** Closes every Connection opened so far with reconnection off. */
export function closeConnections(): void {
  for (const conn of opened.splice(0)) {
    const ws = (conn as unknown as { _rpcWebSocket: { setAutoReconnect(on: boolean): void; close(): void } })
      ._rpcWebSocket;
    ws.setAutoReconnect(false);
    ws.close();
  }
}
