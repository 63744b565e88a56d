/**
 * `-debug=ipc` lines in libmultiprocess' format, checked line by line for
 * one call with a callback; trace dumps; nothing at all when disabled.
 *
 * @module
 */
import { assertEquals } from "../../assert.ts";
import { IpcLog } from "../../../mod.ts";
import { escapeDump } from "../../../runtime/log.ts";
import { fooPair } from "./helpers.ts";

function capture(level: "trace" | "debug" | "info"): { log: IpcLog; lines: string[] } {
  const lines: string[] = [];
  return { log: new IpcLog({ level, sink: (line) => lines.push(line) }), lines };
}

/** Runs one `callback` call and returns what each side logged for it. */
async function logCallback(
  level: "trace" | "debug" | "info",
): Promise<{ server: string[]; client: string[] }> {
  const server = capture(level);
  const client = capture(level);
  await using pair = await fooPair({ serverLog: server.log, clientLog: client.log });
  server.lines.length = 0;
  client.lines.length = 0;
  assertEquals(await pair.foo.callback((x) => x * 2, 21), 42);
  const pid = String(Deno.pid);
  const anonymise = (lines: string[]) => lines.map((l) => l.replaceAll(pid, "PID"));
  return { server: anonymise(server.lines), client: anonymise(client.lines) };
}

Deno.test("logging: -debug=ipc lines for one call with a callback", async () => {
  const { server, client } = await logCallback("debug");
  const serverThread = "server-PID/strand-1 (from client-PID/main)";
  // #1 construct, #2 makeFoo; ThreadMap.makeThread is served by the session
  // without a request number, as libmultiprocess' ProxyServer<ThreadMap> is.
  assertEquals(server, [
    "IPC server recv request  #3 Foo.callback$Params",
    `IPC server post request  #3 {${serverThread}}`,
    `{${serverThread}} IPC client send FooCallback.call$Params`,
    `{${serverThread}} IPC client recv FooCallback.call$Results`,
    "IPC server send response #3 Foo.callback$Results",
  ]);
  assertEquals(client, [
    "{client-PID/main} IPC client send Foo.callback$Params",
    "IPC server recv request  #1 FooCallback.call$Params",
    "IPC server post request  #1 {client-PID/main}",
    "IPC server send response #1 FooCallback.call$Results",
    "{client-PID/main} IPC client recv Foo.callback$Results",
  ]);
});

Deno.test("logging: trace adds message dumps in Cap'n Proto text form", async () => {
  const { server, client } = await logCallback("trace");
  const context =
    "context = (thread = <external capability>, callbackThread = <external capability>)";
  assertEquals(server[1], `request data: (${context}, callback = <external capability>, arg = 21)`);
  assertEquals(client[1], `send data: (${context}, callback = <external capability>, arg = 21)`);
  assertEquals(client.at(-1), "recv data: (result = 42)");
  assertEquals(server.at(-1), "response data: (result = 42)");
  assertEquals(server.includes(`send data: (${context}, arg = 21)`), true);
  assertEquals(client.includes("response data: (result = 42)"), true);
});

Deno.test("logging: disabled, a call logs and formats nothing", async () => {
  const { server, client } = await logCallback("info");
  assertEquals([server, client], [[], []]);
});

Deno.test("logging: dumps are escaped and cut at 200 characters", () => {
  assertEquals(escapeDump("tab\there"), "tab\\09here");
  const long = escapeDump("x".repeat(300));
  assertEquals(long, "x".repeat(200) + "...");
  assertEquals(IpcLog.fromArgs(["-debug=ipc"]).debug, true);
  assertEquals(IpcLog.fromArgs(["-debug=ipc"]).trace, false);
  assertEquals(IpcLog.fromArgs(["-loglevel=ipc:trace"]).trace, true);
  assertEquals(IpcLog.fromArgs(["-debug=net"]).debug, false);
});
