/**
 * The probe table of the hostile component: each probe attempts ONE way out
 * of the sandbox (or, for the `allowed:` group, one thing the sandbox is
 * known to permit with zero grants) and reports it as one outcome line:
 *
 * - `denied <ErrorName>: <message>` when the attempt threw (the error's
 *   `name`, or the `code` of a plain `Error`/`TypeError` that has one, such
 *   as an import's `ERR_MODULE_NOT_FOUND` or node:dns's `EPERM`);
 * - `allowed <detail>` when it succeeded.
 *
 * Probes named `escape:…` must all be denied under the production flags;
 * probes named `allowed:…` pin what zero permissions still allow, so a Deno
 * upgrade that changes either fails loudly. Probes named `abuse:…` use what
 * the component is allowed until a limit stops it (filling its disk, a flood
 * of refused checks) or do what it may do to its own files (a hard link);
 * the tests check how the sandbox answers. Some probes take a `target` from
 * the test (a path, URL or host:port); see {@linkcode PROBE_TARGETS}.
 *
 * A probe that must first write a file in its own directory and cannot
 * answers `setup-failed …`, which is neither allowed nor denied, so a test
 * giving it the wrong directory fails instead of passing for the wrong
 * reason.
 *
 * No probe crashes or hangs the process: errors are caught, uncaught ones
 * from Node-compat callbacks are captured ({@linkcode installGuards}), and
 * network and Worker probes give up after at most 3 s.
 *
 * @module
 */
import * as nodeFs from "node:fs";
import * as nodeOs from "node:os";
import * as nodeNet from "node:net";
import * as nodeDns from "node:dns";
import * as nodeDgram from "node:dgram";
import * as childProcess from "node:child_process";
import * as workerThreads from "node:worker_threads";
import { createRequire } from "node:module";
import process from "node:process";

/** One probe: attempts its escape with the test's `target` ("" if none) and returns its outcome. */
export type Probe = (target: string) => Promise<string>;

/** Longest message kept in an outcome line. */
export const MAX_MESSAGE = 160;

/** Longest wait of a network or Worker probe, in milliseconds. */
export const PROBE_TIMEOUT_MS = 2500;

/** A path that cannot exist on the test machine; used when a probe is given no target. */
const NO_TARGET = "/nonexistent/capdeno-hostile-target";

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > MAX_MESSAGE ? `${flat.slice(0, MAX_MESSAGE - 1)}…` : flat;
}

/** The outcome line of a successful attempt. */
export function allowed(detail: string): string {
  return `allowed ${oneLine(detail)}`;
}

/** The outcome line of a refused attempt: the error's name (or import error code) and message. */
export function denied(error: unknown): string {
  if (error instanceof Error || (typeof error === "object" && error !== null)) {
    const e = error as { name?: unknown; code?: unknown; message?: unknown };
    const name = (e.name === "TypeError" || e.name === "Error") && typeof e.code === "string"
      ? e.code
      : String(e.name ?? "Error");
    return `denied ${name}: ${oneLine(String(e.message ?? error))}`;
  }
  return `denied Thrown: ${oneLine(String(error))}`;
}

/** Runs `fn`; `allowed <its detail>` when it returns, `denied …` when it throws. */
export async function attempt(fn: () => unknown): Promise<string> {
  try {
    return allowed(String(await fn()));
  } catch (error) {
    return denied(error);
  }
}

/** An error for "nothing happened in time". */
class Timeout extends Error {
  override name = "Timeout";
}

/** An error for "nothing stored by an earlier run" (the persistence probes). */
class Absent extends Error {
  override name = "absent";
}

/** Rejects with {@linkcode Timeout} after `ms`, unless `promise` settles first. */
function within<T>(promise: Promise<T>, ms = PROBE_TIMEOUT_MS, what = "no answer"): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Timeout(`${what} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

// ---------------------------------------------------------------------------
// Uncaught errors: Node-compat APIs can throw a permission error from a
// callback, outside any try (node:net with no net grant does). The guards
// keep the process alive and hand the error to the probe that is waiting.

let uncaughtWaiter: ((error: unknown) => void) | null = null;
let guardsInstalled = false;

/**
 * Keeps uncaught errors and unhandled rejections from ending the process;
 * the one raised while a probe waits becomes that probe's outcome. Call it
 * once, before running probes.
 */
export function installGuards(): void {
  if (guardsInstalled) return;
  guardsInstalled = true;
  const hand = (error: unknown) => {
    const waiter = uncaughtWaiter;
    uncaughtWaiter = null;
    waiter?.(error);
  };
  globalThis.addEventListener("error", (event) => {
    event.preventDefault();
    hand(event.error ?? new Error(event.message));
  });
  globalThis.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    hand(event.reason);
  });
}

/**
 * Runs `start(resolve, reject)` and waits for the first of: resolve, reject,
 * a synchronous throw, an uncaught error anywhere, or the timeout; then
 * `cleanup` runs.
 */
async function settle<T>(
  start: (resolve: (value: T) => void, reject: (error: unknown) => void) => void,
  cleanup: () => void = () => {},
  ms = PROBE_TIMEOUT_MS,
): Promise<T> {
  const outcome = new Promise<T>((resolve, reject) => {
    uncaughtWaiter = reject;
    start(resolve, reject);
  });
  try {
    return await within(outcome, ms);
  } finally {
    uncaughtWaiter = null;
    try {
      cleanup();
    } catch { /* best effort */ }
  }
}

// ---------------------------------------------------------------------------
// Helpers

/** A dynamic import the bundler and Deno's module graph cannot analyse. */
function dynamicImport(specifier: string, options?: ImportCallOptions): Promise<unknown> {
  return import(specifier, options);
}

/** A file path as a `file:` URL; URLs are kept. */
function asUrl(target: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return target;
  return "file://" + target.split("/").map(encodeURIComponent).join("/");
}

/** `host:port` split, with a default. */
function hostPort(target: string, fallback = "127.0.0.1:1"): { hostname: string; port: number } {
  const text = target || fallback;
  const at = text.lastIndexOf(":");
  return { hostname: text.slice(0, at), port: Number(text.slice(at + 1)) };
}

function head(text: string, n = 40): string {
  return JSON.stringify(text.slice(0, n));
}

/** A `data:` URL of a JavaScript module. */
function dataModule(source: string): string {
  return `data:text/javascript,${encodeURIComponent(source)}`;
}

/**
 * Writes `text` to `path` in the component's own directory; the outcome
 * line `setup-failed …` when it cannot (see the module documentation).
 */
async function written(path: string, text: string): Promise<string | null> {
  try {
    await Deno.writeTextFile(path, text);
    return null;
  } catch (error) {
    return `setup-failed ${denied(error).slice("denied ".length)}`;
  }
}

/** A module that, imported or run as a Worker, proves it ran. */
const WRITTEN_MODULE = `export default "written code ran";
if (typeof globalThis.postMessage === "function") globalThis.postMessage("written code ran in a Worker");`;

/** A CommonJS module that proves it ran when required. */
const WRITTEN_COMMONJS = `module.exports = "written CommonJS ran";
try { require("node:worker_threads").parentPort?.postMessage("written code ran in a worker thread"); } catch {}`;

/** Runs a module Worker from `url` and waits for its first message or error. */
async function workerOutcome(url: string, options: WorkerOptions = { type: "module" }) {
  let worker: Worker | undefined;
  return await settle<string>((resolve, reject) => {
    worker = new Worker(url, options);
    worker.onmessage = (event) => resolve(String(event.data));
    worker.onerror = (event) => {
      event.preventDefault();
      reject(event.error ?? new Error(event.message));
    };
    worker.onmessageerror = () => reject(new Error("message could not be read"));
  }, () => worker?.terminate());
}

/** The source of a Worker body: runs `expression` and posts its outcome line. */
function reportingWorker(expression: string): string {
  return `
    const name = (e) => (e?.name === "TypeError" || e?.name === "Error") && typeof e?.code === "string" ? e.code : e?.name;
    try {
      const value = await (${expression});
      self.postMessage("allowed " + String(value).slice(0, 60).replace(/\\s+/g, " "));
    } catch (e) {
      self.postMessage("denied " + name(e) + ": " + String(e?.message ?? e).replace(/\\s+/g, " ").slice(0, 150));
    }
    self.close();
  `;
}

/**
 * Runs a `data:` Worker that reads /etc/passwd; its own outcome line is the
 * result, or `denied …` when the Worker could not run.
 */
async function readingWorker(options?: WorkerOptions): Promise<string> {
  try {
    return await workerOutcome(
      dataModule(reportingWorker(`Deno.readTextFile("/etc/passwd")`)),
      options,
    );
  } catch (error) {
    return denied(error);
  }
}

const LOCAL_STORAGE_KEY = "capdeno-hostile";
const CACHE_NAME = "capdeno-hostile";
const CACHE_URL = "http://hostile.invalid/persisted";

// ---------------------------------------------------------------------------
// The escapes: each must be denied under the production flags.

const escapes: Record<string, Probe> = {
  // --- Files -------------------------------------------------------------
  /** target: a file in another component's data directory. */
  "escape:read-other-component": (target) =>
    attempt(async () => `${(await Deno.readTextFile(target || NO_TARGET)).length} chars`),
  "escape:read-etc-passwd": () => attempt(async () => head(await Deno.readTextFile("/etc/passwd"))),
  "escape:read-proc-self-environ": () =>
    attempt(async () => `${(await Deno.readFile("/proc/self/environ")).length} bytes`),
  "escape:read-proc-self-maps": () =>
    attempt(async () => head(await Deno.readTextFile("/proc/self/maps"))),
  "escape:read-proc-1-cmdline": () =>
    attempt(async () => head(await Deno.readTextFile("/proc/1/cmdline"))),
  "escape:stat-root": () => attempt(async () => `mode ${(await Deno.stat("/")).mode?.toString(8)}`),
  "escape:readdir-root": () =>
    attempt(async () => {
      const names: string[] = [];
      for await (const entry of Deno.readDir("/")) names.push(entry.name);
      return names.join(",");
    }),
  "escape:chdir-root": () =>
    attempt(() => {
      const before = Deno.cwd();
      Deno.chdir("/");
      const after = Deno.cwd();
      try {
        Deno.chdir(before);
      } catch { /* stay */ }
      return `cwd became ${after}`;
    }),
  "escape:realpath-etc": () => attempt(async () => await Deno.realPath("/etc")),
  "escape:node-fs-read-hostname": () =>
    attempt(() => head(nodeFs.readFileSync("/etc/hostname", "utf8"))),
  "escape:node-fs-open-proc-self-mem": () =>
    attempt(() => {
      const fd = nodeFs.openSync("/proc/self/mem", "r");
      nodeFs.closeSync(fd);
      return `opened as fd ${fd}`;
    }),
  "escape:fetch-file-url": () =>
    attempt(async () => head(await (await fetch("file:///etc/passwd")).text())),
  /** target: a directory outside the component's own (another component's data directory). */
  "escape:write-target-dir": (target) =>
    attempt(async () => {
      const path = `${target || NO_TARGET}/hostile-was-here`;
      await Deno.writeTextFile(path, "hostile");
      return `wrote ${path}`;
    }),
  "escape:write-tmp": () =>
    attempt(async () => {
      await Deno.writeTextFile("/tmp/capdeno-hostile-was-here", "hostile");
      return "wrote /tmp/capdeno-hostile-was-here";
    }),
  "escape:make-temp-dir": () => attempt(async () => `made ${await Deno.makeTempDir()}`),
  /** target: a file outside the component's directory (it is deleted if this escapes). */
  "escape:remove-outside": (target) =>
    attempt(async () => {
      await Deno.remove(target || NO_TARGET);
      return `removed ${target}`;
    }),
  /** target: where to create the link, normally inside the component's own data directory. */
  "escape:symlink": (target) =>
    attempt(async () => {
      const link = target || `/tmp/capdeno-hostile-link-${Deno.pid}`;
      await Deno.symlink("/etc/passwd", link);
      return `linked ${link} -> /etc/passwd`;
    }),
  /** target: `<outside file>|<new link path in the component's own directory>`. */
  "escape:hardlink-outside": (target) =>
    attempt(async () => {
      const [from, to] = (target || `${NO_TARGET}|${NO_TARGET}.link`).split("|");
      await Deno.link(from, to);
      return `linked ${to} to ${from}: ${head(await Deno.readTextFile(to))}`;
    }),
  /** target: a file outside the component's directory (its mode becomes 0666 if this escapes). */
  "escape:chmod-outside": (target) =>
    attempt(async () => {
      await Deno.chmod(target || NO_TARGET, 0o666);
      return `chmod 0666 ${target}`;
    }),
  /** target: a symlink planted in the component's own data directory, pointing outside. */
  "escape:read-through-symlink": (target) =>
    attempt(async () => head(await Deno.readTextFile(target || NO_TARGET))),

  // --- Identity ----------------------------------------------------------
  /**
   * target: the component's own directory. A file there made setuid or
   * setgid root (owned by uid or gid 0 with the bit set) is the escape.
   */
  "escape:setuid-root-file": async (target) => {
    const path = `${target || NO_TARGET}/setuid-root`;
    const failed = await written(path, "#!/bin/sh\nid\n");
    if (failed) return failed;
    let refused: unknown = null;
    try {
      await Deno.chown(path, 0, 0);
    } catch (error) {
      refused = error;
    }
    return attempt(async () => {
      await Deno.chmod(path, 0o6755);
      const info = await Deno.stat(path);
      const setuidRoot = info.uid === 0 && (info.mode! & 0o4000) !== 0;
      const setgidRoot = info.gid === 0 && (info.mode! & 0o2000) !== 0;
      if (!setuidRoot && !setgidRoot) {
        throw refused ?? new Error(`the file is owned by ${info.uid}:${info.gid}, not root`);
      }
      return `made ${path} mode ${info.mode!.toString(8)} owned by ${info.uid}:${info.gid}`;
    });
  },
  /**
   * target: the socket the component is granted read + write + net for
   * (a node's socket, for connecting). Making it 0777 opens it to every
   * user; 0000 shuts out everyone else.
   */
  "escape:chmod-granted-socket": (target) =>
    attempt(async () => {
      await Deno.chmod(target || NO_TARGET, 0o777);
      return `chmod 0777 ${target}`;
    }),

  // --- Environment -------------------------------------------------------
  "escape:env-get-home": () => attempt(() => `HOME=${Deno.env.get("HOME")}`),
  "escape:env-to-object": () =>
    attempt(() => `${Object.keys(Deno.env.toObject()).length} variables`),
  "escape:process-env-path": () => attempt(() => `PATH=${process.env.PATH}`),
  "escape:process-env-keys": () => attempt(() => `${Object.keys(process.env).length} variables`),
  "escape:process-env-has": () => attempt(() => `"PATH" in process.env: ${"PATH" in process.env}`),

  // --- Processes and signals ---------------------------------------------
  "escape:run-id": () =>
    attempt(async () => {
      const out = await new Deno.Command("id", { stdout: "piped", stderr: "null" }).output();
      return head(new TextDecoder().decode(out.stdout), 60);
    }),
  // With a cleared environment there is no PATH, so "id" fails to resolve
  // before the run check; an absolute program reaches the check itself.
  "escape:run-bin-sh": () =>
    attempt(async () => {
      const out = await new Deno.Command("/bin/sh", {
        args: ["-c", "id"],
        stdout: "piped",
        stderr: "null",
      }).output();
      return head(new TextDecoder().decode(out.stdout), 60);
    }),
  "escape:run-proc-self-exe": () =>
    attempt(async () => {
      const out = await new Deno.Command("/proc/self/exe", {
        args: ["--version"],
        stdout: "piped",
        stderr: "null",
      }).output();
      return head(new TextDecoder().decode(out.stdout));
    }),
  "escape:run-exec-path": () =>
    attempt(async () => {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["--version"],
        stdout: "piped",
        stderr: "null",
      }).output();
      return head(new TextDecoder().decode(out.stdout));
    }),
  "escape:child-process-exec-sync": () =>
    attempt(() => head(String(childProcess.execSync("id", { stdio: "pipe" })), 60)),
  "escape:child-process-spawn-sync": () =>
    attempt(() => {
      const result = childProcess.spawnSync("id", { stdio: "pipe" });
      if (result.error) throw result.error;
      return head(String(result.stdout), 60);
    }),
  // SIGCONT and signal 0 are harmless should the check ever pass.
  "escape:kill-parent": () =>
    attempt(() => {
      Deno.kill(Deno.ppid, "SIGCONT");
      return `SIGCONT sent to ${Deno.ppid}`;
    }),
  "escape:node-process-kill-parent": () =>
    attempt(() => {
      process.kill(process.ppid, 0);
      return `signal 0 sent to ${process.ppid}`;
    }),

  // --- FFI -------------------------------------------------------------
  "escape:ffi-dlopen": () =>
    attempt(() => {
      const lib = Deno.dlopen("libc.so.6", { getpid: { parameters: [], result: "i32" } });
      try {
        return `libc getpid() = ${lib.symbols.getpid()}`;
      } finally {
        lib.close();
      }
    }),
  "escape:ffi-unsafe-pointer": () =>
    attempt(() => `pointer ${Deno.UnsafePointer.value(Deno.UnsafePointer.of(new Uint8Array(8)))}`),
  "escape:process-dlopen": () =>
    attempt(() => {
      process.dlopen({ exports: {} }, "libc.so.6");
      return "libc.so.6 loaded";
    }),

  // --- Network -----------------------------------------------------------
  /** target: a URL the test listens on (default http://127.0.0.1:1/). */
  "escape:fetch": (target) =>
    attempt(async () => {
      const response = await fetch(target || "http://127.0.0.1:1/", {
        signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
      });
      await response.body?.cancel();
      return `HTTP ${response.status}`;
    }),
  /** target: host:port the test listens on (default 127.0.0.1:1). */
  "escape:tcp-connect": (target) =>
    attempt(async () => {
      const conn = await within(Deno.connect(hostPort(target)));
      conn.close();
      return `connected to ${target}`;
    }),
  "escape:tcp-listen": () =>
    attempt(() => {
      const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const { port } = listener.addr as Deno.NetAddr;
      listener.close();
      return `listened on 127.0.0.1:${port}`;
    }),
  // Deno.listenDatagram needs --unstable-net; node:dgram is the stable way to UDP.
  "escape:node-dgram-bind": () => {
    let socket: nodeDgram.Socket | undefined;
    return attempt(() =>
      settle<string>((resolve, reject) => {
        socket = nodeDgram.createSocket("udp4");
        socket.once("error", reject);
        socket.bind(0, "127.0.0.1", () => resolve(`bound UDP port ${socket!.address().port}`));
      }, () => socket?.close())
    );
  },
  "escape:resolve-dns": () =>
    attempt(async () => (await within(Deno.resolveDns("example.org", "A"))).join(",")),
  /** target: a ws: URL (default ws://127.0.0.1:1). */
  "escape:websocket": (target) => {
    let socket: WebSocket | undefined;
    return attempt(() =>
      settle<string>((resolve, reject) => {
        socket = new WebSocket(target || "ws://127.0.0.1:1");
        socket.onopen = () => resolve(`opened ${socket!.url}`);
        socket.onerror = (event) =>
          reject((event as ErrorEvent).error ?? new Error((event as ErrorEvent).message));
        socket.onclose = (event) => reject(new Error(`closed with code ${event.code}`));
      }, () => socket?.close())
    );
  },
  /** target: host:port the test listens on (default 127.0.0.1:1). */
  "escape:node-net-connect": (target) => {
    let socket: nodeNet.Socket | undefined;
    return attempt(() =>
      settle<string>((resolve, reject) => {
        const { hostname, port } = hostPort(target);
        socket = nodeNet.createConnection({ host: hostname, port });
        socket.once("connect", () => resolve(`connected to ${hostname}:${port}`));
        socket.once("error", reject);
      }, () => socket?.destroy())
    );
  },
  /** target: another component's UNIX socket (not granted). */
  "escape:node-net-unix-connect": (target) => {
    let socket: nodeNet.Socket | undefined;
    return attempt(() =>
      settle<string>((resolve, reject) => {
        socket = nodeNet.createConnection({ path: target || NO_TARGET });
        socket.once("connect", () => resolve(`connected to ${target}`));
        socket.once("error", reject);
      }, () => socket?.destroy())
    );
  },
  "escape:node-dns-lookup": () =>
    attempt(() =>
      settle<string>((resolve, reject) => {
        nodeDns.lookup("example.org", (error, address) => error ? reject(error) : resolve(address));
      })
    ),
  /** target: another component's UNIX socket (not granted). */
  "escape:unix-connect-other": (target) =>
    attempt(async () => {
      const conn = await within(Deno.connect({ transport: "unix", path: target || NO_TARGET }));
      conn.close();
      return `connected to ${target}`;
    }),
  "escape:abstract-socket": () =>
    attempt(() => {
      const listener = Deno.listen({ transport: "unix", path: `\0capdeno-hostile-${Deno.pid}` });
      listener.close();
      return "listened on an abstract socket";
    }),
  /**
   * target: a socket path the component IS granted read + write + net for
   * (a node's socket). Removing it is already an escape (denial of
   * service); listening in its place is the hijack.
   */
  "escape:unix-hijack": async (target) => {
    const path = target || NO_TARGET;
    try {
      await Deno.remove(path);
    } catch (error) {
      return denied(error);
    }
    try {
      const listener = Deno.listen({ transport: "unix", path });
      listener.close();
      return allowed(`removed ${path} and listened in its place`);
    } catch (error) {
      return allowed(`removed ${path}; listen then failed: ${denied(error)}`);
    }
  },

  // --- Code loading -------------------------------------------------------
  /** target: a module file outside the component's roots (a path or file: URL). */
  "escape:import-outside": (target) =>
    attempt(async () => {
      const module = await dynamicImport(asUrl(target || NO_TARGET)) as Record<string, unknown>;
      return `imported, exports: ${Object.keys(module).join(",")}`;
    }),
  "escape:import-text-etc-passwd": () =>
    attempt(async () => {
      const module = await dynamicImport("file:///etc/passwd", { with: { type: "text" } });
      return head(String((module as { default: unknown }).default));
    }),
  "escape:import-npm": () =>
    attempt(async () => {
      const module = await dynamicImport(["npm:is-number", "7.0.0"].join("@"));
      return `imported npm:is-number, default is ${typeof (module as { default: unknown })
        .default}`;
    }),
  "escape:import-esm-sh": () =>
    attempt(async () => {
      await within(dynamicImport(["https:", "", "esm.sh", "is-number"].join("/")));
      return "imported https://esm.sh/is-number";
    }),
  /** target: the component's own directory; a module written there, then imported. */
  "escape:import-written": async (target) => {
    const path = `${target || NO_TARGET}/written.js`;
    return await written(path, WRITTEN_MODULE) ??
      attempt(async () => {
        const module = await dynamicImport(asUrl(path)) as { default: unknown };
        return String(module.default);
      });
  },
  /** target: the component's own directory; the same through `file://localhost/` and %-escapes. */
  "escape:import-written-respelled": async (target) => {
    const path = `${target || NO_TARGET}/respelled.mjs`;
    return await written(path, WRITTEN_MODULE) ??
      attempt(async () => {
        // file://localhost/…/%72espelled.mjs
        const url = asUrl(path).replace("file://", "file://localhost")
          .replace(
            /\/([a-z])([^/]*)$/,
            (_, first: string, rest: string) => `/%${first.charCodeAt(0).toString(16)}${rest}`,
          );
        const module = await dynamicImport(url) as { default: unknown };
        return `${url}: ${module.default}`;
      });
  },
  /** target: the component's own directory; a module written there, then run as a Worker. */
  "escape:worker-written": async (target) => {
    const path = `${target || NO_TARGET}/worker.js`;
    return await written(path, WRITTEN_MODULE) ?? attempt(() => workerOutcome(asUrl(path)));
  },
  /** target: the component's own directory; a script written there, run as a worker thread. */
  "escape:worker-threads-written": async (target) => {
    const path = `${target || NO_TARGET}/thread.cjs`;
    const failed = await written(path, WRITTEN_COMMONJS);
    if (failed) return failed;
    let worker: workerThreads.Worker | undefined;
    return attempt(() =>
      settle<string>((resolve, reject) => {
        worker = new workerThreads.Worker(path);
        worker.once("message", (text) => resolve(String(text)));
        worker.once("error", reject);
        worker.once("exit", (code) => reject(new Error(`worker exited with code ${code}`)));
      }, () => void worker?.terminate())
    );
  },
  /** target: the component's own directory; CommonJS written there, then required. */
  "escape:require-written": async (target) => {
    const path = `${target || NO_TARGET}/written.cjs`;
    return await written(path, WRITTEN_COMMONJS) ??
      attempt(() => String(createRequire(import.meta.url)(path)));
  },
  "escape:import-deno-land": () =>
    attempt(async () => {
      await within(dynamicImport(["https:", "", "deno.land", "x", "foo", "mod.ts"].join("/")));
      return "imported https://deno.land/x/foo/mod.ts";
    }),

  // --- Workers -----------------------------------------------------------
  // A Worker given more than its parent has; it reports its own outcome.
  "escape:worker-escalate": () =>
    readingWorker({ type: "module", deno: { permissions: { read: true } } } as WorkerOptions),
  /** target: a module file outside the component's roots, run as the Worker's script. */
  "escape:worker-outside-script": (target) =>
    attempt(() => workerOutcome(asUrl(target || NO_TARGET))),
  // A plain data: Worker; it reports its own outcome.
  "escape:worker-data-read": () => readingWorker(),
  "escape:worker-threads-read": () => {
    let worker: workerThreads.Worker | undefined;
    return attempt(() =>
      settle<string>((resolve, reject) => {
        worker = new workerThreads.Worker(
          `
          const { parentPort } = require("node:worker_threads");
          const fs = require("node:fs");
          parentPort.postMessage(fs.readFileSync("/etc/passwd", "utf8").slice(0, 40));
          `,
          { eval: true },
        );
        worker.once("message", (text) => resolve(`worker read ${JSON.stringify(text)}`));
        worker.once("error", reject);
        worker.once("exit", (code) => reject(new Error(`worker exited with code ${code}`)));
      }, () => void worker?.terminate())
    );
  },

  // --- System information -------------------------------------------------
  "escape:sys-hostname": () => attempt(() => Deno.hostname()),
  "escape:sys-os-release": () => attempt(() => Deno.osRelease()),
  "escape:sys-os-uptime": () => attempt(() => `${Deno.osUptime()} s`),
  "escape:sys-network-interfaces": () =>
    attempt(() => Deno.networkInterfaces().map((i) => `${i.name}=${i.address}`).join(",")),
  "escape:sys-loadavg": () => attempt(() => Deno.loadavg().join(",")),
  "escape:sys-system-memory-info": () =>
    attempt(() => `${Deno.systemMemoryInfo().total} bytes total`),
  "escape:sys-uid": () => attempt(() => `uid ${Deno.uid()}`),
  "escape:sys-gid": () => attempt(() => `gid ${Deno.gid()}`),
  "escape:os-user-info": () => attempt(() => JSON.stringify(nodeOs.userInfo())),
  "escape:os-homedir": () => attempt(() => nodeOs.homedir()),
  "escape:os-cpus": () => attempt(() => `${nodeOs.cpus().length} cpus`),

  // --- Permissions and storage ------------------------------------------
  "escape:permissions-request": async () => {
    try {
      const status = await Deno.permissions.request({ name: "read" });
      return status.state === "granted"
        ? allowed(`request({name: "read"}) was granted`)
        : `denied PermissionState: request({name: "read"}) returned "${status.state}"`;
    } catch (error) {
      return denied(error);
    }
  },
  "escape:open-kv": () =>
    attempt(async () => {
      const kv = await Deno.openKv();
      kv.close();
      return "opened a KV store";
    }),
  /** Persistence (1/2): stores a value in localStorage. */
  "escape:localStorage-write": () =>
    attempt(() => {
      const value = `stored by pid ${Deno.pid}`;
      localStorage.setItem(LOCAL_STORAGE_KEY, value);
      return value;
    }),
  /** Persistence (2/2): in a later process, finds the value an earlier run stored. */
  "escape:localStorage-read": () =>
    attempt(() => {
      const value = localStorage.getItem(LOCAL_STORAGE_KEY);
      if (value === null) throw new Absent("no value from an earlier run");
      return `${value}, read by pid ${Deno.pid}`;
    }),
  /** Persistence (1/2): stores a response in the Cache API. */
  "escape:caches-write": () =>
    attempt(async () => {
      const cache = await caches.open(CACHE_NAME);
      const value = `cached by pid ${Deno.pid}`;
      await cache.put(new Request(CACHE_URL), new Response(value));
      return value;
    }),
  // --- Descriptors ---------------------------------------------------------
  /**
   * target: descriptor numbers (`200,201`) its supervisor holds beyond 0–3.
   * Any of them open here (a pipe or socket Node can take over, or a file)
   * would be a way into whatever started the supervisor.
   */
  "escape:inherited-descriptor": (target) =>
    attempt(() => {
      const reached = [];
      for (const fd of target.split(",").filter(Boolean).map(Number)) {
        try {
          new nodeNet.Socket({ fd, readable: false, writable: true });
          reached.push(`fd ${fd} (a pipe or socket)`);
        } catch (error) {
          // Node refuses regular files, but names them: the descriptor is open.
          if (/\bFILE\b/.test((error as Error).message)) reached.push(`fd ${fd} (a file)`);
        }
      }
      if (reached.length === 0) throw new Deno.errors.BadResource(`none of ${target} is open`);
      return `reached ${reached.join(", ")}`;
    }),
  /** Persistence (2/2): in a later process, finds the response an earlier run cached. */
  "escape:caches-read": () =>
    attempt(async () => {
      const cache = await caches.open(CACHE_NAME);
      const response = await cache.match(new Request(CACHE_URL));
      if (response === undefined) throw new Absent("no response from an earlier run");
      return `${await response.text()}, read by pid ${Deno.pid}`;
    }),
};

// ---------------------------------------------------------------------------
// Abuse within the grants: the sandbox must stop it or shrug it off.

const MIB = 1 << 20;

/** Writes `files` files of `mib` MiB each into `dir`; how far it got, or the error that stopped it. */
async function fill(dir: string, files: number, mib: number): Promise<string> {
  const chunk = new Uint8Array(MIB).fill(0x61);
  let total = 0;
  try {
    for (let i = 0; i < files; i++) {
      using file = await Deno.open(`${dir}/fill-${i}`, { write: true, create: true });
      for (let j = 0; j < mib; j++) {
        await file.write(chunk);
        total++;
      }
    }
    return allowed(`wrote ${total} MiB`);
  } catch (error) {
    return `${denied(error)} after ${total} MiB`;
  }
}

const abuses: Record<string, Probe> = {
  /** target: the component's own directory; 1 MiB files until something stops it (at most 4 GiB). */
  "abuse:fill-disk": (target) => fill(target || NO_TARGET, 4096, 1),
  /** target: the component's own directory; one file growing until something stops it (at most 4 GiB). */
  "abuse:fill-one-file": (target) => fill(target || NO_TARGET, 1, 4096),
  /** Cache API entries of 1 MiB (stored in the run's DENO_DIR) until something stops it. */
  "abuse:fill-caches": async () => {
    const cache = await caches.open(CACHE_NAME);
    const body = "x".repeat(MIB);
    let total = 0;
    try {
      for (; total < 4096; total++) {
        await cache.put(new Request(`${CACHE_URL}/${total}`), new Response(body));
      }
      return allowed(`cached ${total} MiB`);
    } catch (error) {
      return `${denied(error)} after ${total} MiB`;
    }
  },
  /** target: how many refused reads to make (each one audit line); 1000 by default. */
  "abuse:audit-flood": (target) => {
    const count = Number(target || 1000);
    for (let i = 0; i < count; i++) {
      try {
        Deno.readTextFileSync("/etc/passwd");
      } catch { /* refused, and audited */ }
    }
    return Promise.resolve(allowed(`made ${count} refused reads`));
  },
  /** target: the component's own directory; a file and a hard link to it, both there. */
  "abuse:hardlink-own": async (target) => {
    const path = `${target || NO_TARGET}/own`;
    return await written(path, "mine") ??
      attempt(async () => {
        await Deno.link(path, `${path}-link`);
        return `linked ${path}-link to ${path}`;
      });
  },
};

// ---------------------------------------------------------------------------
// Allowed with zero permissions (pinned): information leaks and covert
// channels the design budgets for. Each must return `allowed …`.

const permitted: Record<string, Probe> = {
  "allowed:pid": () => attempt(() => `pid ${Deno.pid}`),
  "allowed:ppid": () => attempt(() => `ppid ${Deno.ppid}`),
  "allowed:cwd": () => attempt(() => Deno.cwd()),
  "allowed:exec-path": () => attempt(() => Deno.execPath()),
  "allowed:build-os": () => attempt(() => `${Deno.build.os} ${Deno.build.arch}`),
  "allowed:version": () => attempt(() => `deno ${Deno.version.deno}`),
  "allowed:hardware-concurrency": () =>
    attempt(() => `${navigator.hardwareConcurrency} logical cpus`),
  "allowed:memory-usage": () => attempt(() => `rss ${Deno.memoryUsage().rss}`),
  "allowed:performance-now": () => attempt(() => `${performance.now()} ms`),
  "allowed:set-timeout": () =>
    attempt(() =>
      within(new Promise<string>((resolve) => setTimeout(() => resolve("fired after 1 ms"), 1)))
    ),
  "allowed:crypto-random": () =>
    attempt(() => `${crypto.getRandomValues(new Uint8Array(16)).length} random bytes`),
  "allowed:wasm-instantiate": () =>
    attempt(async () => {
      // (module (func (export "answer") (result i32) i32.const 42))
      const bytes = new Uint8Array([
        0x00,
        0x61,
        0x73,
        0x6d,
        0x01,
        0x00,
        0x00,
        0x00,
        0x01,
        0x05,
        0x01,
        0x60,
        0x00,
        0x01,
        0x7f,
        0x03,
        0x02,
        0x01,
        0x00,
        0x07,
        0x0a,
        0x01,
        0x06,
        0x61,
        0x6e,
        0x73,
        0x77,
        0x65,
        0x72,
        0x00,
        0x00,
        0x0a,
        0x06,
        0x01,
        0x04,
        0x00,
        0x41,
        0x2a,
        0x0b,
      ]);
      const { instance } = await WebAssembly.instantiate(bytes);
      return `answer() = ${(instance.exports.answer as () => number)()}`;
    }),
  "allowed:eval": () => attempt(() => `eval("6 * 7") = ${(0, eval)("6 * 7")}`),
  "allowed:new-function": () => attempt(() => `new Function = ${new Function("return 6 * 7")()}`),
  "allowed:data-import": () =>
    attempt(async () => {
      const module = await dynamicImport(dataModule("export default 6 * 7;"));
      return `data: module default = ${(module as { default: number }).default}`;
    }),
  "allowed:main-module": () => attempt(() => Deno.mainModule),
  "allowed:broadcast-channel": () => {
    const a = new BroadcastChannel("capdeno-hostile");
    const b = new BroadcastChannel("capdeno-hostile");
    return attempt(() =>
      settle<string>((resolve) => {
        b.onmessage = (event) => resolve(`received ${JSON.stringify(event.data)}`);
        a.postMessage("ping");
      }, () => {
        a.close();
        b.close();
      })
    );
  },
  "allowed:signal-listener": () =>
    attempt(() => {
      const handler = () => {};
      Deno.addSignalListener("SIGUSR2", handler);
      Deno.removeSignalListener("SIGUSR2", handler);
      return "added and removed a SIGUSR2 listener";
    }),
};

/** Every probe by name: `escape:…` first, then `allowed:…`, then `abuse:…`. */
export const PROBES: Readonly<Record<string, Probe>> = { ...escapes, ...permitted, ...abuses };

/** What each probe that uses a `target` expects from the test. */
export const PROBE_TARGETS: Readonly<Record<string, string>> = {
  "escape:read-other-component": "a file in another component's data directory",
  "escape:write-target-dir": "a directory outside the component's own (files are written into it)",
  "escape:remove-outside": "a file outside the component's directory (deleted on escape)",
  "escape:symlink": "the link path to create, inside the component's own data directory",
  "escape:hardlink-outside": "<outside file>|<new link path in the component's own directory>",
  "escape:chmod-outside": "a file outside the component's directory (made 0666 on escape)",
  "escape:read-through-symlink": "a symlink planted in the component's own data directory",
  "escape:setuid-root-file": "the component's own directory (as granted)",
  "escape:chmod-granted-socket": "the socket path the component is granted (made 0777 on escape)",
  "escape:import-written": "the component's own directory (as granted)",
  "escape:import-written-respelled": "the component's own directory (as granted)",
  "escape:worker-written": "the component's own directory (as granted)",
  "escape:worker-threads-written": "the component's own directory (as granted)",
  "escape:require-written": "the component's own directory (as granted)",
  "abuse:fill-disk": "the component's own directory (as granted)",
  "abuse:fill-one-file": "the component's own directory (as granted)",
  "abuse:audit-flood": "how many refused reads to make",
  "abuse:hardlink-own": "the component's own directory (as granted)",
  "escape:fetch": "a URL the test serves (default http://127.0.0.1:1/)",
  "escape:tcp-connect": "host:port the test listens on (default 127.0.0.1:1)",
  "escape:websocket": "a ws: URL (default ws://127.0.0.1:1)",
  "escape:node-net-connect": "host:port the test listens on (default 127.0.0.1:1)",
  "escape:unix-connect-other": "another component's UNIX socket path",
  "escape:node-net-unix-connect": "another component's UNIX socket path",
  "escape:unix-hijack": "a UNIX socket path the component is granted read+write+net for",
  "escape:import-outside": "a module file outside the component's roots",
  "escape:worker-outside-script": "a module file outside the component's roots",
  "escape:inherited-descriptor": "descriptor numbers the supervisor holds beyond 0-3 (`200,201`)",
};

/** The names of all probes, in table order. */
export function probeNames(): string[] {
  return Object.keys(PROBES);
}

/**
 * Runs the probe `name` with `target`; never throws for a known probe and
 * answers within about 3 s. An unknown name is an error.
 */
export async function runProbe(name: string, target: string): Promise<string> {
  const probe = Object.hasOwn(PROBES, name) ? PROBES[name] : undefined;
  if (probe === undefined) throw new Error(`unknown probe ${JSON.stringify(name)}`);
  installGuards();
  try {
    return await within(probe(target), PROBE_TIMEOUT_MS + 500, "no outcome");
  } catch (error) {
    return denied(error);
  }
}
