/**
 * The conformance suite against the same implementation called directly,
 * through a UNIX socket in this process, and in a spawned child.
 *
 * @module
 */
import { connect, denoCommand, listen, spawn } from "../../../mod.ts";
import { FooInit } from "../../../examples/schemas/gen/conformance.mp.ts";
import { fooInit } from "../../../examples/foo/foo.ts";
import { tempDir } from "../../helpers.ts";
import { conformanceSuite } from "./conformance_suite.ts";

const component = new URL("../../../examples/foo/main.ts", import.meta.url);

Deno.test("conformance: local object, no IPC", async (t) => {
  await conformanceSuite(t, fooInit(), false);
});

Deno.test("conformance: over a UNIX socket (listen / connect)", async (t) => {
  using dir = tempDir();
  const datadir = dir.path;
  await using _listener = listen(FooInit, "unix", fooInit(), { datadir, component: "foo" });
  await using init = await connect(FooInit, "unix", { datadir, component: "foo" });
  await conformanceSuite(t, init, true);
});

Deno.test("conformance: spawned child component with no permissions", async (t) => {
  await using child = await spawn(FooInit, denoCommand(component));
  await conformanceSuite(t, child.init, true);
});
