/**
 * Runs the Cap'n Proto compiler (`capnp`, Debian package `capnproto`) for
 * the generator and the schema tests, and reads what it writes: a missing
 * compiler or a schema error becomes a {@linkcode CapnpError} whose message
 * is one line (or capnp's own diagnostics), never a failed spawn.
 *
 * capnp-es reads every message under a traversal budget (64 MiB of pointers
 * followed) meant for untrusted input, and its code generator spends it
 * quadratically in the number of schema nodes: a request of about 300
 * methods exhausts it. A compiler's request is trusted input, so
 * {@linkcode readRequest} and {@linkcode messageClasses} lift the budget.
 *
 * @example
 * ```ts
 * import { capnpAvailable, compileSchemas, messageClasses } from "./capnp.ts";
 * const schemas = new URL("../../schemas", import.meta.url).pathname;
 * if (await capnpAvailable()) {
 *   const request = await compileSchemas([`${schemas}/ipc/echo.capnp`], {
 *     importPath: [schemas, new URL(".", import.meta.url).pathname],
 *     srcPrefix: schemas,
 *   });
 *   const classes = await messageClasses(request);
 *   if (!classes.has("ipc/echo.ts")) throw new Error([...classes.keys()].join());
 * }
 * ```
 * @module
 */

import * as capnp from "capnp-es";
import { compileAll } from "capnp-es/compiler";
import { CodeGeneratorRequest } from "capnp-es/capnp/schema";

/** What to install when the compiler is missing. */
export const CAPNP_MISSING =
  'the Cap\'n Proto compiler "capnp" is not installed; install it (Debian: apt-get install capnproto)';

/** The compiler is missing or refused the schemas; `message` says which. */
export class CapnpError extends Error {
  override name = "CapnpError";
}

/** Where `capnp compile` looks for imports and how it names files. */
export interface CompileOptions {
  /**
   * Folders searched for absolute imports (`import "/mp/proxy.capnp"`), before
   * the standard ones (`/usr/include`, which holds `/capnp/c++.capnp`).
   */
  readonly importPath?: readonly string[];
  /** Prefix removed from file names (so `<prefix>/ipc/init.capnp` is `ipc/init.capnp`). */
  readonly srcPrefix?: string;
  /**
   * `request` (default): the serialized `CodeGeneratorRequest` plugins read;
   * `capnp`: the schemas as text with every id written out.
   */
  readonly output?: "request" | "capnp";
}

/** Runs `capnp compile` on `files` and returns what it writes. */
export async function compileSchemas(
  files: readonly string[],
  options: CompileOptions = {},
): Promise<Uint8Array> {
  const args = [
    "compile",
    options.output === "capnp" ? "-ocapnp" : "-o-",
    ...(options.importPath ?? []).map((dir) => `--import-path=${dir}`),
    ...(options.srcPrefix === undefined ? [] : [`--src-prefix=${options.srcPrefix}`]),
    ...files,
  ];
  const { code, stdout, stderr } = await runCapnp(args);
  if (code !== 0) {
    throw new CapnpError(`capnp compile failed:\n${new TextDecoder().decode(stderr).trimEnd()}`);
  }
  return stdout;
}

/** Whether the compiler can be run. */
export async function capnpAvailable(): Promise<boolean> {
  try {
    return (await runCapnp(["--version"])).code === 0;
  } catch (error) {
    if (error instanceof CapnpError) return false;
    throw error;
  }
}

async function runCapnp(args: string[]): Promise<Deno.CommandOutput> {
  try {
    // Spawning throws synchronously when the binary is missing, so it sits inside the try.
    return await new Deno.Command("capnp", { args, stdout: "piped", stderr: "piped" }).output();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) throw new CapnpError(CAPNP_MISSING);
    throw error;
  }
}

type Budgeted = { _capnp: { traversalLimit: number } };

/** A compiler request as a message whose reads are not budgeted (trusted input only). */
export function readRequest(request: Uint8Array): capnp.Message {
  const message = new capnp.Message(request, false);
  (message as unknown as Budgeted)._capnp.traversalLimit = Infinity;
  return message;
}

/**
 * capnp-es's message classes for the files a request asks for, keyed
 * `<path>.ts` (`ipc/init.capnp` makes `ipc/init.ts`), with Node-style `.js`
 * import specifiers as capnp-es writes them.
 */
export async function messageClasses(request: Uint8Array): Promise<Map<string, string>> {
  // compileAll reads the request through Message.prototype.getRoot, synchronously, before it
  // first yields: lifting the budget of the messages read during that call reaches only it.
  const proto = capnp.Message.prototype;
  const getRoot = proto.getRoot;
  proto.getRoot = function (this: capnp.Message, ...args: Parameters<typeof getRoot>) {
    (this as unknown as Budgeted)._capnp.traversalLimit = Infinity;
    return getRoot.apply(this, args);
  } as typeof getRoot;
  let result;
  try {
    // deno-lint-ignore no-explicit-any -- compileAll is typed for Node's Buffer.
    result = compileAll(request as any, { ts: true });
  } finally {
    proto.getRoot = getRoot;
  }
  return (await result).files;
}

/**
 * The imports of the requested files that the request holds no node of:
 * capnp leaves out the file of an import nothing uses (Bitcoin Core's
 * rpc.capnp imports common.capnp that way), and capnp-es's code generator
 * fails looking it up unless that file is requested too.
 */
export function unusedImports(request: Uint8Array): { file: string; name: string }[] {
  const root = readRequest(request).getRoot(CodeGeneratorRequest);
  const present = new Set(root.nodes.map((node) => node.id));
  return root.requestedFiles.flatMap((file) =>
    file.imports.filter((i) => !present.has(i.id)).map((i) => ({
      file: file.filename,
      name: i.name,
    }))
  );
}
