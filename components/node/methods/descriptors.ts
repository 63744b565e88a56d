/**
 * Descriptor arguments of RPC methods as Bitcoin Core reads them
 * (`rpc/util.cpp`): a descriptor parsed with its error as -5, a derivation
 * range (`ParseDescriptorRange`: an end, or `[begin,end]`, with Core's -8
 * errors), and scan objects (`EvalDescriptorStringOrObject`: a descriptor
 * string, or `{"desc": …, "range": …}`) expanded to their scripts.
 *
 * @example
 * ```ts
 * import { parseJson } from "../../rpc/mod.ts";
 * import { parseDescriptorRange } from "./descriptors.ts";
 * const [begin, end] = parseDescriptorRange(parseJson("[1,5]"));
 * if (begin !== 1 || end !== 5) throw new Error("range");
 * ```
 * @module
 */
import {
  type Descriptor,
  DescriptorError,
  parseDescriptor,
  parseDescriptors,
  type SigningProvider,
} from "../chain/mod.ts";
import {
  type ArgSpec,
  asInt64,
  asStr,
  type Json,
  JsonNumber,
  JsonObject,
  RpcError,
  RpcErrorCode,
} from "../../rpc/mod.ts";

/** The range scanned when a scan object names none (Core's default 1000). */
const DEFAULT_RANGE_END = 1000;

/**
 * The elements of a scan objects argument, as Core lists them in
 * scantxoutset's `scan_objects_arg_desc` and in getdescriptoractivity: a
 * descriptor string, or `output_descriptor_obj` (`{"desc", "range"}`).
 */
export const SCAN_OBJECT_ELEMENTS: readonly ArgSpec[] = [
  { name: "descriptor", type: "str", optional: true, description: "An output descriptor" },
  {
    name: "",
    type: "obj",
    optional: true,
    description: "An object with output descriptor and metadata",
    inner: [
      { name: "desc", type: "str", description: "An output descriptor" },
      {
        name: "range",
        type: "range",
        default: DEFAULT_RANGE_END,
        description: "The range of HD chain indexes to explore (either end or [begin,end])",
      },
    ],
  },
];

function invalidParameter(message: string): never {
  throw new RpcError(RpcErrorCode.INVALID_PARAMETER, message);
}

/** `Parse` for an RPC argument: the descriptor, or -5 with the parser's message. */
export function parseDescriptorArg(text: string, requireChecksum = false): Descriptor {
  return asRpcError(() => parseDescriptor(text, { requireChecksum }));
}

/**
 * `Parse` for an RPC argument taking multipath descriptors: one descriptor
 * per path (one when not multipath), or -5 with the parser's message.
 */
export function parseDescriptorsArg(text: string, requireChecksum = false): Descriptor[] {
  return asRpcError(() => parseDescriptors(text, { requireChecksum }));
}

/** What `parse` returns; its {@linkcode DescriptorError} as -5 with its message. */
function asRpcError<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (!(error instanceof DescriptorError)) throw error;
    throw new RpcError(RpcErrorCode.INVALID_ADDRESS_OR_KEY, error.message);
  }
}

/** `Expand` for an RPC method: -5 (`Cannot derive script without private keys`…) on failure. */
export function expandDescriptor(
  descriptor: Descriptor,
  index: number,
): { scripts: Uint8Array[]; provider: SigningProvider } {
  return asRpcError(() => descriptor.expand(index));
}

/** Core's `ParseDescriptorRange`: `[begin, end]` from an end or a `[begin,end]` pair. */
export function parseDescriptorRange(value: Json): [number, number] {
  let low: bigint;
  let high: bigint;
  if (value instanceof JsonNumber) {
    [low, high] = [0n, asInt64(value)];
  } else if (
    Array.isArray(value) && value.length === 2 && value[0] instanceof JsonNumber &&
    value[1] instanceof JsonNumber
  ) {
    [low, high] = [asInt64(value[0]), asInt64(value[1])];
    if (low > high) {
      invalidParameter("Range specified as [begin,end] must not have begin after end");
    }
  } else {
    invalidParameter("Range must be specified as end or as [begin,end]");
  }
  if (low < 0n) invalidParameter("Range should be greater or equal than 0");
  if (high >> 31n !== 0n) invalidParameter("End of range is too high");
  if (high >= low + 1_000_000n) invalidParameter("Range is too large");
  return [Number(low), Number(high)];
}

/** Keys derived per descriptor over a range at most: Core's million indexes, counted per key. */
const MAX_RANGE_KEYS = 1_000_000;

/**
 * Refuses (-8) a range over which `descriptor` would derive more than
 * {@linkcode MAX_RANGE_KEYS} keys: Core bounds a range at a million indexes;
 * a multisig of 20 keys derives twenty keys per index, and each takes about
 * half a millisecond here, on the thread that serves every call.
 */
export function checkRangeKeys(descriptor: Descriptor, [low, high]: [number, number]): void {
  const keys = (high - low + 1) * descriptor.keyCount;
  if (descriptor.isRange && keys > MAX_RANGE_KEYS) {
    invalidParameter(
      `Range is too large for a descriptor of ${descriptor.keyCount} keys: at most ${MAX_RANGE_KEYS} keys are derived per descriptor`,
    );
  }
}

/** Expansions of a ranged descriptor between chances for other work to run. */
const EXPANSIONS_PER_PAUSE = 64;

/**
 * Core's `EvalDescriptorStringOrObject`: the scripts of a scan object (a
 * descriptor, or `{"desc", "range"}`), over its range when ranged (0–1000
 * by default), with what their expansion learned merged into `provider`.
 * A range (up to a million keys) lets other work in as it is derived; a
 * node stopping (`signal`) ends it with -9 `Shutting down`.
 */
export async function evalScanObject(
  scanObject: Json,
  provider: SigningProvider,
  signal?: AbortSignal,
): Promise<Uint8Array[]> {
  let text: string;
  let range: [number, number] = [0, DEFAULT_RANGE_END];
  if (typeof scanObject === "string") {
    text = scanObject;
  } else if (scanObject instanceof JsonObject) {
    const desc = scanObject.get("desc") ?? null;
    if (desc === null) invalidParameter("Descriptor needs to be provided in scan object");
    text = asStr(desc);
    const rangeValue = scanObject.get("range") ?? null;
    if (rangeValue !== null) range = parseDescriptorRange(rangeValue);
  } else {
    invalidParameter("Scan object needs to be either a string or an object");
  }
  const descriptor = parseDescriptorArg(text);
  if (!descriptor.isRange) range = [0, 0];
  checkRangeKeys(descriptor, range);
  const scripts: Uint8Array[] = [];
  for (let i = range[0]; i <= range[1]; i++) {
    if ((i - range[0] + 1) % EXPANSIONS_PER_PAUSE === 0) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      if (signal?.aborted) throw new RpcError(RpcErrorCode.CLIENT_NOT_CONNECTED, "Shutting down");
    }
    let expanded;
    try {
      expanded = descriptor.expand(i);
    } catch (error) {
      if (!(error instanceof DescriptorError)) throw error;
      throw new RpcError(
        RpcErrorCode.INVALID_ADDRESS_OR_KEY,
        `Cannot derive script without private keys: '${text}'`,
      );
    }
    provider.merge(expanded.provider);
    scripts.push(...expanded.scripts);
  }
  return scripts;
}
