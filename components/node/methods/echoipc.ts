/**
 * `echoipc` (Core's `rpc/node.cpp`, hidden): echoes a string through an
 * IPC round trip. With permission to run Deno (`--allow-run=<deno>
 * --allow-env=NODE_V8_COVERAGE`, the variable Node's child_process reads;
 * plus `/bin/bash` in `--allow-run` when the node may hold descriptors it
 * inherited, which `spawn` closes through bash), the
 * node spawns `echo_process.ts` through the runtime's `spawn`, asks its
 * Bitcoin Core `Init` for an `Echo` and calls it, as a multiprocess
 * `bitcoin-node` does; without it, it echoes through a local `Echo`, as a
 * monolithic `bitcoind` does.
 *
 * `nodeMethods` (`mod.ts`, whose example runs it) adds `echoIpcMethod(…)` to the
 * server's table with the others.
 * @module
 */
import {
  bashPath,
  denoCommand,
  holdsInheritableDescriptors,
  type IpcLog,
  spawn,
} from "../../../component.ts";
import { Init } from "../../../schemas/gen/ipc/init.mp.ts";
import { LocalEcho } from "../ipc/echo.ts";
import {
  asStr,
  defineMethod,
  helpExampleCli,
  helpExampleRpc,
  type RpcMethod,
} from "../../rpc/mod.ts";

const ECHO_PROCESS = new URL("../echo_process.ts", import.meta.url);

/** Whether this process may start Deno (the spawned echo process), as `spawn` does it. */
function maySpawn(): boolean {
  const granted = (descriptor: Deno.PermissionDescriptor) =>
    Deno.permissions.querySync(descriptor).state === "granted";
  return granted({ name: "run", command: Deno.execPath() }) &&
    granted({ name: "env", variable: "NODE_V8_COVERAGE" }) &&
    (!holdsInheritableDescriptors() || granted({ name: "run", command: bashPath() }));
}

/** Echoes `text` through a spawned process's `Echo`. */
async function echoThroughChild(text: string, log?: IpcLog): Promise<string> {
  const args = log?.debug ? ["-debug=ipc"] : [];
  await using child = await spawn(Init, denoCommand(ECHO_PROCESS, { args }), { log });
  using echo = (await child.init.makeEcho())!;
  return await echo.echo(text);
}

/** The `echoipc` method; `log` receives the IPC log lines of the round trip. */
export function echoIpcMethod(log?: IpcLog): RpcMethod {
  return defineMethod({
    name: "echoipc",
    category: "hidden",
    description:
      "Echo back the input argument, passing it through a spawned process in a multiprocess build.\n" +
      "This command is for testing.\n",
    args: [{ name: "arg", type: "str", description: "The string to echo" }],
    result: { type: "str", key: "echo", description: "The echoed string." },
    examples: helpExampleCli("echo", '"Hello world"') + helpExampleRpc("echo", '"Hello world"'),
    handler(params) {
      const text = params.arg("arg", asStr);
      return maySpawn() ? echoThroughChild(text, log) : new LocalEcho().echo(text);
    },
  });
}
