/**
 * A sandboxed component runtime for Deno: components run as separate Deno
 * processes and call each other through Cap'n Proto RPC over UNIX sockets,
 * wire-compatible with Bitcoin Core's libmultiprocess and the C++ reference
 * implementation.
 *
 * Everything public, in one module. Each audience has an entry point of its
 * own, which is what code should import:
 *
 * - `@capdeno/runtime/component` (`component.ts`): a component's code —
 *   serving its Init, proxies and their ownership, strands, errors,
 *   `registerType`;
 * - `@capdeno/runtime/host` (`host.ts`): a launcher — manifests, the spawn
 *   contract, the supervisor, the audit;
 * - `@capdeno/runtime/engine` (`engine.ts`): the Cap'n Proto RPC engine
 *   below the proxies ({@linkcode RpcConnection}, {@linkcode Capability}).
 *
 * @example Listen on a UNIX socket and call through a proxy
 * ```ts
 * import { connect, listen } from "./mod.ts";
 * import { FooInit } from "./examples/schemas/gen/conformance.mp.ts";
 * import { fooInit } from "./examples/foo/foo.ts";
 *
 * const datadir = await Deno.makeTempDir();
 * {
 *   await using _listener = listen(FooInit, "unix", fooInit(), { datadir, component: "foo" });
 *   await using init = await connect(FooInit, "unix", { datadir, component: "foo" });
 *   await using foo = (await init.makeFoo())!;
 *   if (await foo.add(2, 3) !== 5) throw new Error("2 + 3 is 5");
 * }
 * await Deno.remove(datadir, { recursive: true });
 * ```
 *
 * @example Serve an object with the raw engine
 * ```ts
 * import { Capability, RpcConnection, serverFromMethods } from "./mod.ts";
 * import { Tester$Client } from "./examples/schemas/gen/testing.ts";
 *
 * const add = Tester$Client.methods[0];
 * const tester = Capability.fromServer(serverFromMethods(new Map([
 *   [Tester$Client.interfaceId, [(call) => {
 *     const { a, b } = call.params(add.ParamsClass);
 *     call.results(add.ResultsClass).result = a + b;
 *   }]],
 * ])));
 *
 * const dir = await Deno.makeTempDir();
 * const listener = Deno.listen({ transport: "unix", path: `${dir}/example.sock` });
 * listener.accept().then((conn) => new RpcConnection(conn, { bootstrap: tester }));
 * {
 *   await using client = new RpcConnection(
 *     await Deno.connect({ transport: "unix", path: `${dir}/example.sock` }),
 *   );
 *   using remote = client.bootstrap();
 *   const request = remote.request(add);
 *   request.params.a = 2;
 *   request.params.b = 3;
 *   using response = await request.send();
 *   if (response.results(add.ResultsClass).result !== 5) throw new Error("2 + 3 is 5");
 * }
 * listener.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 * @module
 */
export * from "./component.ts";
export * from "./host.ts";
export * from "./engine.ts";
