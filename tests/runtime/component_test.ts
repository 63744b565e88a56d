/**
 * runtime/component.ts: the `-datadir` argument and releasing held
 * references. `runComponent` is exercised by the
 * components' process tests (tests/components/processes_test.ts).
 *
 * @module
 */
import { assertEquals, assertThrows } from "../assert.ts";
import { datadirOf, release } from "../../runtime/component.ts";

Deno.test("datadirOf: the last -datadir wins, trailing slashes dropped", () => {
  assertEquals(datadirOf(["-datadir=/a", "--datadir=/b/"]), "/b");
  assertEquals(datadirOf(["-debug=ipc", "-datadir=/"]), "/");
});

Deno.test("datadirOf: missing, empty or relative is an error naming the argument", () => {
  assertThrows(() => datadirOf(["-ipcbind=unix"]), Error, "missing -datadir=<absolute path>");
  assertThrows(() => datadirOf(["-datadir"]), Error, "-datadir must be an absolute path");
  assertThrows(() => datadirOf(["-datadir=data"]), Error, "got 'data'");
});

Deno.test("release: disposes what is disposable, ignores the rest", () => {
  let disposed = 0;
  release({ [Symbol.dispose]: () => disposed++ });
  release({ getHeight: () => 0 });
  release(null);
  assertEquals(disposed, 1);
});
