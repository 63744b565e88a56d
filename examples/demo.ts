/**
 * The quick-start demonstration: two Deno processes. A child serves the
 * Tester interface on a UNIX socket (with read, write and net grants for
 * that one socket and nothing else); this process calls it with promise
 * pipelining, a callback and an error.
 *
 * @example
 * ```sh
 * deno task start
 * ```
 * @module
 */
import { callbackOf, TesterClient } from "./tester.ts";
import { RpcConnection } from "../runtime/rpc/connection.ts";
import { RpcError } from "../runtime/rpc/errors.ts";

if (import.meta.main) {
  const dir = await Deno.makeTempDir({ prefix: "capdeno-demo-" });
  const path = `${dir}/tester.sock`;
  const serverArgs = [
    "run",
    "--no-prompt",
    `--allow-read=${path}`,
    `--allow-write=${path}`,
    `--allow-net=unix:${path}`,
    new URL("./tester_server.ts", import.meta.url).pathname,
    path,
  ];
  console.log(`server: deno ${serverArgs.join(" ")}`);
  const server = new Deno.Command(Deno.execPath(), { args: serverArgs, stdout: "piped" }).spawn();
  const ready = server.stdout.pipeThrough(new TextDecoderStream()).getReader();
  while (!(await ready.read()).value?.includes("READY"));
  ready.releaseLock();

  const rpc = new RpcConnection(await Deno.connect({ transport: "unix", path }));
  const tester = new TesterClient(rpc.bootstrap());
  try {
    console.log(`server pid ${server.pid}, client pid ${Deno.pid}`);
    console.log(`add(2, 40) = ${await tester.add(2, 40)}`);

    // Pipelining: next() goes out before makeCounter has returned.
    const { counter, done } = tester.makeCounter(100n);
    const [first, second] = await Promise.all([counter.next(), counter.next()]);
    await done;
    console.log(`pipelined counter: next() = ${first}, then ${second}`);
    counter.dispose();

    // A callback: the server calls back into this process.
    using callback = callbackOf((value) => {
      console.log(`  callback(${value}) called by pid ${server.pid}, running in pid ${Deno.pid}`);
      return value * value;
    });
    console.log(`callBack(square, 3) = ${await tester.callBack(callback, 3)}`);

    // An error crosses the boundary with its type.
    try {
      await tester.fail(1, "the server is busy");
    } catch (error) {
      if (!(error instanceof RpcError)) throw error;
      console.log(`fail(): RpcError type=${error.type} message="${error.message}"`);
    }
  } finally {
    tester.dispose();
    await rpc.close();
    server.kill();
    await server.status;
    await Deno.remove(dir, { recursive: true });
  }
}
