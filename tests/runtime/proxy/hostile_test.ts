/**
 * A peer that ignores the schema: wrong pointer kinds and garbage thread
 * handles get an exception back, and the server keeps serving. (An enum
 * value the schema does not have is no violation: a newer peer's reads as
 * its number, see `tests/runtime/schema/evolution_test.ts`.)
 *
 * @module
 */
import * as capnp from "capnp-es";
import { assertEquals, assertMatch, assertRejects } from "../../assert.ts";
import { capabilityOf, RpcError } from "../../../mod.ts";
import { Foo } from "../../../examples/schemas/gen/conformance.mp.ts";
import { Context } from "../../../runtime/schema/gen/mp/proxy.mp.ts";
import { structClass } from "../../../runtime/proxy/codec.ts";
import { TRAVERSAL_ALLOWANCE_WORDS } from "../../../runtime/validate.ts";
import { fooPair } from "./helpers.ts";

/**
 * Sends `Foo.<method>` with params written by `fill` straight on the wire
 * struct; returns what `read` makes of the results.
 */
async function rawCall<T>(
  foo: unknown,
  method: string,
  fill: (params: capnp.Struct) => void,
  read?: (results: capnp.Struct) => T,
): Promise<T | undefined> {
  const descriptor = Foo.methods.find((m) => m.name === method)!;
  const request = capabilityOf(foo)!.request({
    interfaceId: Foo.id,
    methodId: descriptor.ordinal,
    ParamsClass: structClass(descriptor.params),
  });
  fill(request.params);
  using response = await request.send();
  return read?.(response.results(structClass(descriptor.results)));
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

/** Sets pointer `offset` of `s` to a list of `length` elements of no size: Voids, or empty structs. */
function emptyElements(s: capnp.Struct, offset: number, length: number, structs: boolean): void {
  const pointer = capnp.utils.getPointer(offset, s);
  const tag = s.segment.allocate(8);
  const size = new capnp.ObjectSize(0, 0);
  if (structs) capnp.utils.setStructPointer(length, size, tag);
  const at = capnp.utils.initPointer(tag.segment, tag.byteOffset, pointer);
  const kind = structs ? capnp.ListElementSize.COMPOSITE : capnp.ListElementSize.VOID;
  capnp.utils.setListPointer(at.offsetWords, kind, length, at.pointer, structs ? size : undefined);
}

Deno.test("hostile: a few bytes of elements of no size make a few thousand values at most, and fail only their call", async () => {
  // C++ accepts a million Voids or empty structs in a message of a few words (validation charges
  // them against traversalLimitWords alone), but reads none of them; read as TextPairs, each would
  // be an object here. A message may make 4 per word it holds and 8192 more.
  await using pair = await fooPair();
  const map = Foo.methods.find((m) => m.name === "mapSize")!.params.fields[0]!;
  for (const structs of [false, true]) {
    const error = await assertRejects(
      () => rawCall(pair.foo, "mapSize", (p) => emptyElements(p, map.offset, 1_000_000, structs)),
      RpcError,
    );
    assertMatch(error.message, /1000000 elements of no size on the wire, more than this message/);
    // At the allowance, they are read: TextPairs of empty texts, which make a map of one pair.
    const size = await rawCall(
      pair.foo,
      "mapSize",
      (p) => emptyElements(p, map.offset, TRAVERSAL_ALLOWANCE_WORDS, structs),
      (results) => capnp.utils.getInt32(0, results),
    );
    assertEquals(size, 1);
  }
  assertEquals(await pair.foo.add(2, 2), 4);
});
