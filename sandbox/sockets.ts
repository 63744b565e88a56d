/**
 * Socket files of listening components: who may bind, connect, replace or
 * chmod them.
 *
 * A listener binds `<state>/sockets/<name>/<name>.sock` in a directory it
 * may write; once bound ({@linkcode lockListenSocket}) the directory is
 * made 0500, so nobody without privileges can delete the socket and listen
 * in its place.
 *
 * Under a root supervisor every component has its own user
 * (`identity.ts`), and more holds:
 * - once bound, the directory and the socket belong to root (the listener
 *   cannot chmod either any more), and the directory is reachable by root
 *   only;
 * - each component that connects reaches the socket through a hard link of
 *   its own, `<state>/sockets/<listener>.<connector>/<listener>.sock`, in a
 *   directory owned by root with group search for the connector's group
 *   only (0710). The socket is 0666 so that the connector may connect, but
 *   only root and the connector can reach it, neither it nor the listener
 *   owns it (no chmod), and neither may write the directories (no delete or
 *   replace).
 *
 * Without root all components share the supervisor's user: the connector
 * uses the listener's path, and what separates them is Deno's grants (each
 * is granted only its own socket path) and the 0500 directory; a connector
 * could chmod the socket it is granted.
 *
 * @example
 * ```ts
 * import {
 *   connectorSocket,
 *   lockListenSocket,
 *   prepareListenDirectory,
 *   removeSocket,
 * } from "./sockets.ts";
 * const state = await Deno.makeTempDir();
 * const socket = `${state}/sockets/node/node.sock`;
 * prepareListenDirectory(socket); // under root: (socket, nodeIdentity)
 * const listener = Deno.listen({ transport: "unix", path: socket }); // the node binds it
 * lockListenSocket(socket, false); // under root: true
 * if ((Deno.statSync(`${state}/sockets/node`).mode! & 0o777) !== 0o500) throw new Error();
 * const path = connectorSocket(socket, "wallet"); // under root: a link only the wallet reaches
 * (await Deno.connect({ transport: "unix", path })).close();
 * listener.close();
 * removeSocket(socket); // once its run ended
 * if (Deno.readDirSync(`${state}/sockets`).some(() => true)) throw new Error("left behind");
 * await Deno.remove(state, { recursive: true });
 * ```
 * @module
 */
import { basename, dirname, join } from "node:path";
import type { Identity } from "./identity.ts";

/**
 * Makes the listener's socket directory writable by the listener only (its
 * own user under root) and removes a stale socket file.
 */
export function prepareListenDirectory(socket: string, listener?: Identity): void {
  const dir = dirname(socket);
  Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (listener) Deno.chownSync(dir, listener.uid, listener.gid);
  Deno.chmodSync(dir, 0o700);
  try {
    Deno.removeSync(socket);
  } catch { /* no stale socket */ }
}

/**
 * Once `socket` is bound: its directory becomes 0500 and, under root, the
 * directory and the socket belong to root, the socket mode 0666 (reached
 * only through {@linkcode connectorSocket} links). The directory is locked
 * first, so that the listener can no longer swap the socket for a link
 * before it is checked and given away.
 */
export function lockListenSocket(socket: string, root: boolean): void {
  const dir = dirname(socket);
  if (root) Deno.chownSync(dir, 0, 0);
  Deno.chmodSync(dir, 0o500);
  if (!Deno.lstatSync(socket).isSocket) throw new Error(`${socket} is no longer a socket`);
  if (root) {
    Deno.chownSync(socket, 0, 0);
    Deno.chmodSync(socket, 0o666);
  }
}

/**
 * The path a connecting component is given for `socket`: under root a hard
 * link only it can reach (made afresh, as the listener may have bound a new
 * socket since), else `socket` itself.
 */
export function connectorSocket(socket: string, connector: string, owner?: Identity): string {
  if (!owner) return socket;
  const listenDir = dirname(socket);
  const dir = join(dirname(listenDir), `${basename(listenDir)}.${connector}`);
  Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
  Deno.chownSync(dir, 0, owner.gid);
  Deno.chmodSync(dir, 0o710);
  const link = join(dir, basename(socket));
  try {
    Deno.removeSync(link);
  } catch { /* first connection */ }
  Deno.linkSync(socket, link);
  return link;
}

/**
 * Removes `socket` and its directory once the run that made them ended: a
 * listener's (locked, unlocked here) or a connector's link.
 */
export function removeSocket(socket: string): void {
  const dir = dirname(socket);
  try {
    Deno.chmodSync(dir, 0o700);
    Deno.removeSync(dir, { recursive: true });
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}
