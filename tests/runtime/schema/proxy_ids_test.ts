/** proxy.capnp must carry libmultiprocess's ids so its peers interoperate. */
import { assertEquals } from "../../assert.ts";
import { Context, Thread, ThreadMap } from "../../../runtime/schema/gen/mp/proxy.mp.ts";

Deno.test("proxy.capnp ids match libmultiprocess's mp/proxy.capnp", () => {
  assertEquals(ThreadMap.id, 0xee5e37179ad9dc9dn);
  assertEquals(Thread.id, 0x81c1e2600d0b56c5n);
  assertEquals(Context.id, 0x9c44e6645d0b22c6n);
  assertEquals(ThreadMap.methods.map((m) => [m.ordinal, m.name]), [[0, "makeThread"], [
    1,
    "makePool",
  ]]);
  assertEquals(Context.pointers, 2);
});
