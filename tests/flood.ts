/**
 * Hostile writers for the resource tests and benchmarks: framed RPC
 * messages patched in place, and a peer that writes without ever reading.
 *
 * @module
 */
import * as capnp from "capnp-es";
import type { Message as RpcMessage } from "capnp-es/capnp/rpc";
import { Tester$Client, Tester_Echo$Params } from "../examples/schemas/gen/testing.ts";
import { buildMessage } from "./wire_peer.ts";

/**
 * Framed bytes of the message `fill` builds, with the u32 `marker` it wrote
 * replaceable in place by {@linkcode Template.set}.
 */
export class Template {
  /** The framed message. */
  readonly bytes: Uint8Array;
  readonly #offset: number;

  constructor(marker: number, fill: (root: RpcMessage) => void) {
    this.bytes = new Uint8Array(buildMessage(fill).toArrayBuffer());
    const view = new DataView(this.bytes.buffer);
    let offset = -1;
    for (let i = 0; i + 4 <= this.bytes.byteLength; i += 4) {
      if (view.getUint32(i, true) !== marker) continue;
      if (offset >= 0) throw new Error("marker found twice");
      offset = i;
    }
    if (offset < 0) throw new Error("marker not found");
    this.#offset = offset;
  }

  /** The bytes with `value` in place of the marker (the same buffer each time). */
  set(value: number): Uint8Array {
    new DataView(this.bytes.buffer).setUint32(this.#offset, value, true);
    return this.bytes;
  }
}

/** A u32 no message here holds by chance, to mark a field of a template. */
export const MARKER = 0x5eed_f00d;

/**
 * A Call of Tester.echo with `bytes` of data on the Bootstrap answer 0; its
 * question id is the marker.
 */
export function echoTemplate(bytes: number): Template {
  return new Template(MARKER, (root) => {
    const call = root._initCall();
    call.questionId = MARKER;
    call._initTarget()._initPromisedAnswer().questionId = 0;
    call.interfaceId = Tester$Client.interfaceId;
    call.methodId = 1;
    const content = call._initParams().content;
    capnp.utils.initStruct(Tester_Echo$Params._capnp.size, content);
    capnp.utils.getAs(Tester_Echo$Params, content)._initData(bytes).toUint8Array().fill(0xab);
  });
}

/** Whether a write or read failed because the server closed the connection. */
export function cutOff(error: unknown): boolean {
  return error instanceof Deno.errors.BrokenPipe || error instanceof Deno.errors.ConnectionReset;
}

/**
 * A peer that never reads: connects to `path` and writes `next(i)` for
 * i = 0, 1, … until the server cuts it off (true), or until `maxBytes` are
 * written or `signal` aborts (false).
 */
export async function writeWithoutReading(
  path: string,
  next: (i: number) => Uint8Array,
  maxBytes = Infinity,
  signal?: AbortSignal,
): Promise<boolean> {
  using conn = await Deno.connect({ transport: "unix", path });
  let written = 0;
  for (let i = 0; written < maxBytes && !signal?.aborted; i++) {
    const bytes = next(i);
    try {
      for (let at = 0; at < bytes.byteLength;) at += await conn.write(bytes.subarray(at));
    } catch (error) {
      if (cutOff(error)) return true;
      throw error;
    }
    written += bytes.byteLength;
  }
  return false;
}
