/** proxy.capnp must carry libmultiprocess's ids so its peers interoperate. */
import { assertEquals } from "../assert.ts";
import * as proxy from "../../schemas/gen/mp/proxy.ts";

Deno.test("proxy.capnp ids match libmultiprocess's mp/proxy.capnp", () => {
  assertEquals(proxy._capnpFileId, 0xcc316e3f71a040fbn);
  assertEquals(proxy.ThreadMap$Client.interfaceId, 0xee5e37179ad9dc9dn);
  assertEquals(proxy.Thread$Client.interfaceId, 0x81c1e2600d0b56c5n);
  assertEquals(proxy.Context._capnp.id, "9c44e6645d0b22c6");
  assertEquals(proxy.ThreadMap$Client.methods.map((m) => m.methodName), ["makeThread", "makePool"]);
  assertEquals(proxy.Context._capnp.size.pointerLength, 2);
});
