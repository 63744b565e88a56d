/**
 * Address parsing, socket-path preparation and the IPC command-line options.
 *
 * @module
 */
import { assertEquals, assertRejects, assertThrows } from "../../assert.ts";
import { AddressError, connect, listen, parseAddress, parseIpcArgs } from "../../../mod.ts";
import { ipcFdOf } from "../../../runtime/process/process.ts";
import { FooInit } from "../../../examples/schemas/gen/conformance.mp.ts";
import { fooInit } from "../../../examples/foo/foo.ts";
import { tempDir } from "../../helpers.ts";

/** Leaves a socket file behind, as a process killed while listening does. */
async function leaveStaleSocket(path: string): Promise<void> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `Deno.listen({ transport: "unix", path: ${
        JSON.stringify(path)
      } }); console.log("up"); setInterval(() => {}, 1000)`,
    ],
    stdout: "piped",
  }).spawn();
  const reader = child.stdout.getReader();
  await reader.read();
  child.kill("SIGKILL");
  await child.status;
  reader.releaseLock();
  await child.stdout.cancel();
}

const context = { datadir: "/data/regtest", component: "node" };

Deno.test("address: Bitcoin Core's unix syntax", () => {
  const cases: [string, string][] = [
    ["unix", "/data/regtest/node.sock"],
    ["unix:", "/data/regtest/node.sock"],
    ["unix:other.sock", "/data/regtest/other.sock"],
    ["unix:sub/dir/x.sock", "/data/regtest/sub/dir/x.sock"],
    ["unix:/run/abs.sock", "/run/abs.sock"],
  ];
  for (const [address, path] of cases) assertEquals(parseAddress(address, context).path, path);
});

Deno.test("address: bad addresses name themselves", () => {
  assertThrows(
    () => parseAddress("invalid", context),
    AddressError,
    "Unrecognized address 'invalid'",
  );
  assertThrows(
    () => parseAddress("tcp:1.2.3.4", context),
    AddressError,
    "Unrecognized address 'tcp:1.2.3.4'",
  );
  const long = `unix:/${"x".repeat(120)}`;
  assertThrows(
    () => parseAddress(long, context),
    AddressError,
    "exceeded maximum socket path length",
  );
});

Deno.test("listen: replaces a stale socket, creates a private directory", async () => {
  using dir = tempDir();
  const datadir = dir.path;
  const path = `${datadir}/deep/er/foo.sock`;
  Deno.mkdirSync(`${datadir}/deep/er`, { recursive: true, mode: 0o700 });
  await leaveStaleSocket(path);
  assertEquals(Deno.lstatSync(path).isSocket, true);
  await using _second = listen(FooInit, `unix:${path}`, fooInit(), { datadir });
  const fresh = `${datadir}/new/dir/foo.sock`;
  await using _third = listen(FooInit, `unix:${fresh}`, fooInit(), { datadir });
  assertEquals(Deno.statSync(`${datadir}/new/dir`).mode! & 0o777, 0o700);
  await using init = await connect(FooInit, `unix:${path}`, { datadir });
  assertEquals(await (await init.makeFoo())!.add(1, 2), 3);
});

Deno.test("listen: refuses a directory other users may write, naming the address", () => {
  using temp = tempDir();
  const dir = temp.path;
  Deno.chmodSync(dir, 0o777);
  assertThrows(
    () => listen(FooInit, `unix:${dir}/x.sock`, fooInit()),
    AddressError,
    `Unable to bind to IPC address 'unix:${dir}/x.sock'. directory ${dir} is writable by other users`,
  );
  Deno.writeTextFileSync(`${dir}/file.sock`, "not a socket");
  Deno.chmodSync(dir, 0o700);
  assertThrows(
    () => listen(FooInit, `unix:${dir}/file.sock`, fooInit()),
    AddressError,
    "is not a socket",
  );
  assertEquals(Deno.readTextFileSync(`${dir}/file.sock`), "not a socket");
});

Deno.test("connect: a missing socket fails naming the address", async () => {
  using dir = tempDir();
  await assertRejects(
    () => connect(FooInit, "unix", { datadir: dir.path, component: "gui" }),
    AddressError,
    "Unable to connect to IPC address 'unix'.",
  );
});

Deno.test("options: -ipcbind repeats, -ipcconnect, -noipcconnect, -ipcfd", () => {
  assertEquals(parseIpcArgs(["-ipcbind=unix", "--ipcbind=unix:/x.sock", "-other"]), {
    bind: ["unix", "unix:/x.sock"],
    connect: null,
  });
  assertEquals(parseIpcArgs(["-ipcconnect=unix"]).connect, "unix");
  assertEquals(parseIpcArgs(["-ipcconnect=unix", "-noipcconnect"]).connect, null);
  assertThrows(() => parseIpcArgs(["-ipcbind"]), Error, "-ipcbind needs an address");
  assertEquals(ipcFdOf(["-ipcfd=3"]), 3);
  assertEquals(ipcFdOf(["-ipcfd", "7"]), 7);
  assertEquals(ipcFdOf(["x"]), null);
  assertThrows(() => ipcFdOf(["-ipcfd=three"]), Error, "Invalid -ipcfd number 'three'");
});
