/**
 * A peer that ignores the schema: wrong pointer kinds and garbage thread
 * handles get an exception back, and the server keeps serving. (An enum
 * value the schema does not have is no violation: a newer peer's reads as
 * its number, see `tests/runtime/schema/evolution_test.ts`.)
 *
 * @module
 */
import * as capnp from "capnp-es";
import { assertEquals, assertRejects } from "../../assert.ts";
import { capabilityOf, RpcError } from "../../../mod.ts";
import { Foo } from "../../../examples/schemas/gen/conformance.mp.ts";
import { Context } from "../../../runtime/schema/gen/mp/proxy.mp.ts";
import { structClass } from "../../../runtime/proxy/codec.ts";
import { fooPair } from "./helpers.ts";

/** Sends `Foo.<method>` with params written by `fill` straight on the wire struct. */
async function rawCall(foo: unknown, method: string, fill: (params: capnp.Struct) => void) {
  const descriptor = Foo.methods.find((m) => m.name === method)!;
  const request = capabilityOf(foo)!.request({
    interfaceId: Foo.id,
    methodId: descriptor.ordinal,
    ParamsClass: structClass(descriptor.params),
  });
  fill(request.params);
  using _ = await request.send();
}

Deno.test("hostile: schema violations get an exception and the server keeps serving", async () => {
  await using pair = await fooPair();
  const pass = Foo.methods.find((m) => m.name === "pass")!;
  const arg = pass.params.fields.find((f) => f.name === "arg")!;
  // A Text where the FooStruct belongs.
  await assertRejects(
    () => rawCall(pair.foo, "pass", (p) => capnp.utils.setText(arg.offset, "not a struct", p)),
    RpcError,
  );
  // A Context whose thread pointer is not a capability.
  await assertRejects(
    () =>
      rawCall(pair.foo, "threadName", (p) => {
        const context = capnp.utils.initStructAt(0, structClass(Context), p);
        capnp.utils.setText(0, "not a capability", context);
      }),
    RpcError,
  );
  assertEquals(await pair.foo.add(2, 2), 4);
  assertEquals(await pair.foo.threadName() !== "", true);
});
