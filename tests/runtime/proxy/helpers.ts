/**
 * A FooInit served over a UNIX socket in this process, for the proxy tests.
 *
 * @module
 */
import { connect, IpcLog, listen, type Remote } from "../../../mod.ts";
import { FooInit } from "../../../examples/schemas/gen/conformance.mp.ts";
import type { Foo } from "../../../examples/schemas/gen/conformance.mp.ts";
import { type FooCounters, fooInit, registerPoint } from "../../../examples/foo/foo.ts";
import { tempDir } from "../../helpers.ts";

/** A served FooInit, a client's Init and one Foo; disposing stops everything. */
export interface FooPair extends AsyncDisposable {
  readonly counters: FooCounters;
  readonly init: Remote<FooInit>;
  readonly foo: Remote<Foo>;
  /**
   * Stops the listener and closes its connections (the server side goes
   * away), and removes the folder of its socket.
   */
  stopServer(): Promise<void>;
}

/** Listens with `server` (default: a fresh fooInit) and connects one client. */
export async function fooPair(
  options: { server?: FooInit; serverLog?: IpcLog; clientLog?: IpcLog } = {},
): Promise<FooPair> {
  registerPoint();
  const dir = tempDir();
  const datadir = dir.path;
  const served = options.server ?? fooInit();
  const quiet = new IpcLog({ level: "off" });
  const listener = listen(FooInit, "unix", served, {
    datadir,
    component: "foo",
    name: "server",
    log: options.serverLog ?? quiet,
  });
  const init = await connect(FooInit, "unix", {
    datadir,
    component: "foo",
    name: "client",
    log: options.clientLog ?? quiet,
  });
  const foo = (await init.makeFoo()) as Remote<Foo>;
  let stopped = false;
  const stopServer = async () => {
    if (stopped) return;
    stopped = true;
    await listener[Symbol.asyncDispose]();
    dir[Symbol.dispose]();
  };
  return {
    counters: (served as { counters?: FooCounters }).counters ?? { live: 0 },
    init,
    foo,
    stopServer,
    async [Symbol.asyncDispose]() {
      await foo[Symbol.asyncDispose]();
      await init[Symbol.asyncDispose]();
      await stopServer();
    },
  };
}
