/**
 * A peer that ignores the schema: wrong pointer kinds, unknown enum values
 * and garbage thread handles get an exception back, and the server keeps
 * serving.
 *
 * @module
 */
import * as capnp from "capnp-es";
import { assertEquals, assertRejects } from "../../assert.ts";
import { capabilityOf, RpcError } from "../../../mod.ts";
import { Foo, FooStruct } from "../../../examples/schemas/gen/conformance.mp.ts";
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
  // An enum value the schema does not have.
  await assertRejects(
    () =>
      rawCall(pair.foo, "pass", (p) => {
        const value = capnp.utils.initStructAt(arg.offset, structClass(FooStruct), p);
        capnp.utils.setUint16(FooStruct.fields.find((f) => f.name === "color")!.offset, 99, value);
      }),
    RpcError,
    "99 is not a known Color value",
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
