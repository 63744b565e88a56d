/**
 * The spawn contract: the exact command of every component, what a spawned
 * child really runs with (its own user under root), code provenance, links
 * in data directories, who may reach a socket, the lifeline.
 *
 * @module
 */
import { dirname } from "node:path";
import { assert, assertEquals, assertRejects, assertThrows } from "../assert.ts";
import { processesWith, processGone, startSandboxParent, tempDir, waitFor } from "../helpers.ts";
import { type Component, loadComponent } from "../../sandbox/manifest.ts";
import {
  KEPT_AUDITS,
  projectRoot,
  type RunPaths,
  sandboxCommand,
  SandboxError,
  spawnComponent,
} from "../../sandbox/contract.ts";
import { AUDIT_SUFFIX, GRANTS_SUFFIX, summarizeAudit } from "../../sandbox/audit.ts";
import { ProvenanceError, REFUSED_FILE_IMPORTS } from "../../sandbox/provenance.ts";
import { isMountPoint, unmountDataImage } from "../../sandbox/quota.ts";
import { lockListenSocket } from "../../sandbox/sockets.ts";
import { FooInit } from "../../examples/schemas/gen/conformance.mp.ts";
import { ProberInit } from "./fixtures/schema/gen/probe.mp.ts";

const deno = Deno.execPath();
const components = {
  foo: await loadComponent(`${projectRoot()}/examples/foo`),
  node: await loadComponent(`${projectRoot()}/components/node`),
  wallet: await loadComponent(`${projectRoot()}/components/wallet`),
  gui: await loadComponent(`${projectRoot()}/components/gui`),
};

function pathsOf(name: string, extra: Partial<RunPaths> = {}): RunPaths {
  return {
    bundle: "/s/code/h.js",
    dataDir: `/s/data/${name}`,
    dataView: `/s/view/${name}`,
    runDir: `/s/run/${name}.r`,
    denoDir: `/s/run/${name}.r/deno`,
    auditPipe: `/s/run/${name}.r/audit.pipe`,
    auditLog: `/s/logs/${name}.r.audit.jsonl`,
    ...extra,
  };
}

/** The user a root supervisor gives every component in these commands. */
const identity = { uid: 1_900_000_007, gid: 1_900_000_007 };

/** Every file module but the bundle goes to a host --no-remote refuses. */
const importMap = "data:application/json," + encodeURIComponent(JSON.stringify({
  imports: {
    "file:///": REFUSED_FILE_IMPORTS,
    "file://localhost/": REFUSED_FILE_IMPORTS,
    "file:///s/code/h.js": "file:///s/code/h.js",
  },
}));

/** The fixed part every command shares, before the grants. */
function prefix(
  name: string,
  limits: { cpu: number; files: number; heap: number; diskMb: number },
): string[] {
  return [
    `--fsize=${limits.diskMb * 1024 * 1024}`,
    `--cpu=${limits.cpu}:${limits.cpu + 1}`,
    `--nofile=${limits.files}`,
    "--core=0",
    "--",
    "setpriv",
    "--no-new-privs",
    `--reuid=${identity.uid}`,
    `--regid=${identity.gid}`,
    "--clear-groups",
    "--inh-caps=-all",
    "--ambient-caps=-all",
    "--bounding-set=-all",
    "--",
    deno,
    "run",
    "--no-prompt",
    "--no-config",
    "--no-remote",
    "--no-npm",
    "--cached-only",
    "--unstable-worker-options",
    `--location=http://${name}.component.invalid/`,
    `--v8-flags=--max-old-space-size=${limits.heap}`,
    `--import-map=${importMap}`,
  ];
}

Deno.test("contract: the exact command of each component", () => {
  const env = (name: string) => ({
    DENO_DIR: `/s/run/${name}.r/deno`,
    DENO_AUDIT_PERMISSIONS: `/s/run/${name}.r/audit.pipe`,
    DENO_NO_UPDATE_CHECK: "1",
    DENO_NO_PACKAGE_JSON: "1",
    NO_COLOR: "1",
  });
  const tail = (name: string) => ["file:///s/code/h.js", `-datadir=/s/view/${name}`, "-lifeline"];
  const expected: Record<keyof typeof components, string[]> = {
    foo: [
      ...prefix("foo", { cpu: 600, files: 64, heap: 128, diskMb: 64 }),
      "--deny-run",
      ...tail("foo"),
    ],
    node: [
      ...prefix("node", { cpu: 86400, files: 512, heap: 512, diskMb: 1024 }),
      "--allow-read=/s/view/node/regtest,/s/sockets/node",
      "--allow-write=/s/view/node/regtest,/s/sockets/node/node.sock",
      "--allow-net=[::1]:18443,127.0.0.1:18443,unix:/s/sockets/node/node.sock",
      "--deny-run",
      ...tail("node"),
      "-ipcbind=unix:/s/sockets/node/node.sock",
    ],
    wallet: [
      ...prefix("wallet", { cpu: 3600, files: 512, heap: 256, diskMb: 256 }),
      "--allow-read=/s/view/wallet/wallets,/s/view/wallet/settings",
      "--allow-write=/s/view/wallet/wallets,/s/view/wallet/settings",
      "--deny-run",
      ...tail("wallet"),
    ],
    gui: [
      ...prefix("gui", { cpu: 3600, files: 128, heap: 128, diskMb: 64 }),
      "--allow-net=127.0.0.1:18480",
      "--deny-run",
      ...tail("gui"),
    ],
  };
  for (const [name, component] of Object.entries(components)) {
    const paths = pathsOf(
      name,
      name === "node" ? { listenSocket: "/s/sockets/node/node.sock" } : {},
    );
    const command = sandboxCommand(component, paths, { identity });
    assertEquals(command.executable, "prlimit", name);
    assertEquals(command.args, expected[name as keyof typeof components], name);
    assertEquals(command.env, env(name), name);
    assertEquals(command.cwd, `/s/data/${name}`, name);
  }
});

Deno.test("contract: a connecting component gets exactly its socket, a token and nothing more", () => {
  const command = sandboxCommand(
    components.wallet,
    pathsOf("wallet", { connectSocket: "/s/sockets/node.wallet/node.sock" }),
    { args: ["-debug=ipc"], env: { HOME: "/root" } },
  );
  // Without root: the supervisor's own user, no identity switch.
  assertEquals(command.args.slice(5, 8), ["setpriv", "--no-new-privs", "--"]);
  assertEquals(command.args.filter((arg) => arg.startsWith("--allow-")), [
    "--allow-read=/s/view/wallet/wallets,/s/view/wallet/settings,/s/sockets/node.wallet/node.sock",
    "--allow-write=/s/view/wallet/wallets,/s/view/wallet/settings,/s/sockets/node.wallet/node.sock",
    "--allow-net=unix:/s/sockets/node.wallet/node.sock",
  ]);
  assertEquals(command.args.slice(-3), [
    "-lifeline",
    "-ipcconnect=unix:/s/sockets/node.wallet/node.sock",
    "-debug=ipc",
  ]);
  assert(!("HOME" in command.env), "only variables the manifest names are passed");
});

Deno.test("contract: environment variables the manifest names are passed (given, or the launcher's), others not", () => {
  const withEnv: Component = {
    ...components.foo,
    manifest: {
      ...components.foo.manifest,
      permissions: { ...components.foo.manifest.permissions, env: ["RPC_USER"] },
    },
  };
  const command = sandboxCommand(withEnv, pathsOf("foo"), {
    env: { RPC_USER: "alice", HOME: "/root" },
  });
  assert(command.args.includes("--allow-env=RPC_USER"));
  assertEquals(command.env.RPC_USER, "alice");
  assert(!("HOME" in command.env));
  // Without `env`: the launcher's own value of what the manifest names, and nothing else.
  Deno.env.set("RPC_USER", "bob");
  try {
    const inherited = sandboxCommand(withEnv, pathsOf("foo"));
    assertEquals(inherited.env.RPC_USER, "bob");
    assert(!("HOME" in inherited.env) && !("PATH" in inherited.env));
  } finally {
    Deno.env.delete("RPC_USER");
  }
  assert(!("RPC_USER" in sandboxCommand(withEnv, pathsOf("foo")).env), "unset: left out");
});

Deno.test("contract: hardened mode wraps Deno in bubblewrap without naming Deno's binary twice", () => {
  // Without root: a user namespace too.
  const command = sandboxCommand(components.gui, pathsOf("gui"), { hardened: true });
  const bwrap = command.args.indexOf("--unshare-all") - 1;
  assert(command.args[bwrap].endsWith("bwrap"));
  assert(command.args.includes("--die-with-parent"));
  assert(command.args.includes("--share-net"), "gui is granted a host, so it keeps the network");
  assertEquals(command.args.filter((arg) => arg === deno).length, 1);
  assertEquals(command.args[command.args.indexOf(deno) + 1], "run");
  // The data directory is there, and its view as a link to it.
  const symlink = command.args.indexOf("--symlink", command.args.indexOf("/s/data/gui") - 2);
  assertEquals(command.args.slice(symlink, symlink + 3), [
    "--symlink",
    "/s/data/gui",
    "/s/view/gui",
  ]);
  // Under root: no user namespace (it would map only root); setpriv switches to the component's user.
  const node = sandboxCommand(components.node, pathsOf("node"), { hardened: true, identity });
  assert(!node.args.includes("--unshare-all") && !node.args.includes("--unshare-user"));
  assert(node.args.includes("--unshare-pid") && node.args.includes("--unshare-ipc"));
  assert(!node.args.includes("--unshare-net"), "node is granted its RPC endpoints: the network");
  const wallet = sandboxCommand(components.wallet, pathsOf("wallet"), { hardened: true, identity });
  assert(
    wallet.args.includes("--unshare-net"),
    "wallet has no host grant: empty network namespace",
  );
  assert(!wallet.args.includes("--share-net"));
  assert(node.args.indexOf(`--reuid=${identity.uid}`) > node.args.indexOf("--"));
});

Deno.test("contract: a directory outside the data directory is granted through its own view only, bound at its real path under bubblewrap", () => {
  const outside = [{ real: "/home/u/wallets", view: "/s/view/wallet.walletdir" }];
  const paths = pathsOf("wallet", { outside });
  const command = sandboxCommand(components.wallet, paths, { identity });
  assertEquals(command.args.filter((arg) => arg.startsWith("--allow-")), [
    "--allow-read=/s/view/wallet/wallets,/s/view/wallet/settings,/s/view/wallet.walletdir",
    "--allow-write=/s/view/wallet/wallets,/s/view/wallet/settings,/s/view/wallet.walletdir",
  ]);
  const { args } = sandboxCommand(components.wallet, paths, { hardened: true, identity });
  const bind = args.indexOf("/home/u/wallets") - 1;
  assertEquals(args.slice(bind, bind + 3), ["--bind", "/home/u/wallets", "/home/u/wallets"]);
  const link = args.indexOf("/s/view/wallet.walletdir") - 2;
  assertEquals(args.slice(link, link + 3), [
    "--symlink",
    "/home/u/wallets",
    "/s/view/wallet.walletdir",
  ]);
});

Deno.test("contract: a directory outside the data directory is reached through its view; one named through a link, holding a link out or labelled with other than letters refuses the spawn", async () => {
  using state = tempDir();
  using outside = tempDir();
  const stateDir = state.path;
  const real = Deno.realPathSync(outside.path);
  Deno.chmodSync(real, 0o755); // under root the component's user passes through it
  Deno.writeTextFileSync(`${real}/kept`, "mine");
  const foo = (dir: string): Component => ({ ...components.foo, outsideDirs: { dir } });
  await (await spawnComponent(FooInit, foo(real), { stateDir }))[Symbol.asyncDispose]();
  assertEquals(Deno.realPathSync(`${stateDir}/view/foo.dir`), real);
  Deno.symlinkSync(real, `${stateDir}/link`);
  await assertRejects(
    () => spawnComponent(FooInit, foo(`${stateDir}/link`), { stateDir }),
    SandboxError,
    `foo: ${stateDir}/link: not a directory named by its real path (${real})`,
  );
  Deno.symlinkSync("/etc", `${real}/out`);
  await assertRejects(
    () => spawnComponent(FooInit, foo(real), { stateDir }),
    SandboxError,
    `${real}/out: a symbolic link leading outside, to /etc`,
  );
  await assertRejects(
    () =>
      spawnComponent(FooInit, { ...components.foo, outsideDirs: { "../x": real } }, { stateDir }),
    SandboxError,
    `foo: outside directory "../x": lower-case letters only`,
  );
  // Apart from the state directory: neither it, inside it, nor holding it.
  for (const dir of [stateDir, `${stateDir}/view`, dirname(stateDir)]) {
    await assertRejects(
      () => spawnComponent(FooInit, foo(dir), { stateDir }),
      SandboxError,
      `overlaps the state directory ${stateDir}; choose one apart from it`,
    );
  }
  Deno.removeSync(`${real}/out`);
  if (Deno.uid() === 0) {
    // A root launcher gives it away only when no other user may change it meanwhile.
    Deno.chmodSync(real, 0o775);
    await assertRejects(
      () => spawnComponent(FooInit, foo(real), { stateDir }),
      SandboxError,
      `${real}: writable by users other than root (owner`,
    );
  }
  assertEquals(Deno.readTextFileSync(`${real}/kept`), "mine", "nothing in it is touched");
});

Deno.test("contract: a spawned child runs exactly that command, environment and nothing else", async () => {
  using state = tempDir();
  const stateDir = state.path;
  await using child = await spawnComponent(FooInit, components.foo, { stateDir });
  assertEquals(await (await child.init.makeFoo())!.add(20, 22), 42);
  const cmdline = Deno.readTextFileSync(`/proc/${child.pid}/cmdline`).split("\0").slice(0, -1);
  // prlimit and setpriv exec; what runs is Deno with our arguments, unrewritten.
  assertEquals(cmdline, [
    ...child.command.args.slice(child.command.args.indexOf(deno)),
    "-ipcfd=3",
  ]);
  assert(!cmdline.includes("-A"));
  const environ = Deno.readTextFileSync(`/proc/${child.pid}/environ`).split("\0").filter(Boolean);
  // Deno's child_process adds the one variable that tells the child about descriptor 3.
  assertEquals(
    environ.map((v) => v.split("=")[0]).sort(),
    [...Object.keys(child.command.env), "DENO_EXTRA_STDIO_FDS"].sort(),
  );
  const status = Deno.readTextFileSync(`/proc/${child.pid}/status`);
  if (Deno.uid() === 0) {
    // Its own user and group, no supplementary group, no capability.
    const { uid, gid } = child.identity!;
    assertEquals(/^Uid:\s*(.*)$/m.exec(status)![1].split(/\s+/).map(Number), [uid, uid, uid, uid]);
    assertEquals(/^Gid:\s*(.*)$/m.exec(status)![1].split(/\s+/).map(Number), [gid, gid, gid, gid]);
    assertEquals(/^Groups:[ \t]*(.*)$/m.exec(status)![1].trim(), "");
    assert(uid >= 1_900_000_000 && uid < 1_900_065_536, `uid ${uid} is in the reserved range`);
    assertEquals(/CapEff:\s*(\w+)/.exec(status)![1], "0000000000000000");
    assertEquals(/CapBnd:\s*(\w+)/.exec(status)![1], "0000000000000000");
    // It owns its data directory, seen through its view.
    const data = Deno.statSync(child.paths.dataDir);
    assertEquals([data.uid, data.gid, data.mode! & 0o7777], [uid, gid, 0o700]);
    assertEquals(Deno.realPathSync(child.paths.dataView), child.paths.dataDir);
  } else {
    console.log("SKIPPED the identity checks: not root, the child runs as the supervisor's user");
  }
  assertEquals(/NoNewPrivs:\s*(\d)/.exec(status)![1], "1");
  const limits = Deno.readTextFileSync(`/proc/${child.pid}/limits`);
  assert(/Max cpu time\s+600\s+601\s+seconds/.test(limits), limits);
  assert(/Max open files\s+64\s+64/.test(limits), limits);
  assert(/Max core file size\s+0\s+0/.test(limits), limits);
  assert(/Max file size\s+67108864\s+67108864\s+bytes/.test(limits), limits);
});

/** The example foo component, listening. */
function fooListening(): Component {
  return { ...components.foo, manifest: { ...components.foo.manifest, listens: true } };
}

Deno.test("contract: caches that cannot be carried back cost a run its warm start, never the next run", async () => {
  using state = tempDir();
  const stateDir = state.path;
  const run = async (a: number) => {
    await using child = await spawnComponent(FooInit, components.foo, { stateDir });
    assertEquals(await (await child.init.makeFoo())!.add(a, 1), a + 1);
  };
  await run(1);
  const caches = `${stateDir}/caches/foo`;
  const carried = [...Deno.readDirSync(caches)].filter((entry) => entry.isFile);
  assert(carried.length > 0, "the first run carried no caches back: nothing is tested");
  // Something else at each cache's name: carrying the next run's back fails for every one.
  for (const { name } of carried) {
    Deno.removeSync(`${caches}/${name}`);
    Deno.mkdirSync(`${caches}/${name}/taken`, { recursive: true });
  }
  await run(2);
  // That run ended whole: the next one starts, and nothing half-copied was left behind.
  await run(3);
  assertEquals(
    [...Deno.readDirSync(caches)].map((entry) => entry.name).sort(),
    carried.map((entry) => entry.name).sort(),
  );
});

Deno.test("contract: a second run of a component on one state directory is refused and leaves the first alone", async () => {
  using state = tempDir();
  const stateDir = Deno.realPathSync(state.path);
  // A listener with a disk image under root: the two things a second run would disturb.
  const listener = fooListening();
  {
    await using first = await spawnComponent(FooInit, listener, { stateDir });
    await assertRejects(
      () => spawnComponent(FooInit, listener, { stateDir }),
      SandboxError,
      `foo is already running from the state directory ${stateDir} (another run holds ` +
        `${stateDir}/locks/foo.lock)`,
    );
    // Its socket is still the one it listens on, its data directory still mounted.
    const socket = Deno.lstatSync(first.paths.listenSocket!);
    assert(socket.isSocket);
    if (first.paths.diskImage) assert(isMountPoint(first.paths.dataDir));
    assertEquals(await (await first.init.makeFoo())!.add(1, 2), 3);
  }
  // Once it has ended, the next run starts.
  await using again = await spawnComponent(FooInit, listener, { stateDir });
  assertEquals(await (await again.init.makeFoo())!.add(2, 2), 4);
});

Deno.test("contract: a listener that binds, serves and stops stays within its grants: its audit lists nothing", async () => {
  using state = tempDir();
  const stateDir = Deno.realPathSync(state.path);
  const listener = fooListening();
  {
    await using child = await spawnComponent(FooInit, listener, { stateDir });
    assertEquals(await (await child.init.makeFoo())!.add(1, 2), 3);
  }
  const [audit] = await summarizeAudit(`${stateDir}/logs`);
  assertEquals(audit!.component, "foo");
  assert(audit!.checks > 0, "the run's checks were captured");
  assertEquals(audit!.outside, []);
});

Deno.test("contract: a state directory that does not exist is made; one that cannot be is refused in one line", async () => {
  using temp = tempDir();
  Deno.chmodSync(temp.path, 0o711); // under root, the components' users pass through it
  const foo = await loadComponent(`${projectRoot()}/examples/foo`);
  const stateDir = `${temp.path}/a/b`;
  {
    await using child = await spawnComponent(FooInit, foo, { stateDir });
    assertEquals(await (await child.init.makeFoo())!.add(1, 2), 3);
  }
  assertEquals(Deno.statSync(stateDir).mode! & 0o066, 0, "nobody else reads or writes it");
  Deno.writeTextFileSync(`${temp.path}/file`, "");
  const error = await assertRejects(
    () => spawnComponent(FooInit, foo, { stateDir: `${temp.path}/file/state` }),
    SandboxError,
  );
  assert(error.message.startsWith(`state directory ${temp.path}/file/state: `), error.message);
  assertEquals(error.message.split("\n").length, 1, error.message);
  await assertRejects(
    () => spawnComponent(FooInit, foo, { stateDir: "" }),
    SandboxError,
    "no state directory: give stateDir, a folder's path",
  );
});

Deno.test("contract: an interface the manifest does not serve is refused before anything starts", async () => {
  const outside = await loadComponent(`${projectRoot()}/tests/sandbox/fixtures/outside_import`);
  using state = tempDir();
  await assertRejects(
    () => spawnComponent(FooInit, outside, { stateDir: state.path }),
    SandboxError,
    "outside-import: its manifest serves ProberInit, not FooInit",
  );
  assertEquals([...Deno.readDirSync(state.path)], [], "nothing made");
});

Deno.test("contract: a static import outside the component's roots refuses the spawn", async () => {
  const outside = await loadComponent(`${projectRoot()}/tests/sandbox/fixtures/outside_import`);
  using state = tempDir();
  const stateDir = state.path;
  const error = await assertRejects(
    () => spawnComponent(ProberInit, outside, { stateDir }),
    ProvenanceError,
    "outside the component's allowed roots",
  );
  assert(error.message.includes(`${projectRoot()}/tests/assert.ts`), error.message);
  // The host entry is not for components; the component entry is.
  assert(error.message.includes(`${projectRoot()}/host.ts: outside`), error.message);
  assert(!error.message.includes(`${projectRoot()}/component.ts`), error.message);
  // And what to do instead: how a folder of its own code is allowed, where the runtime comes from.
  assert(error.message.includes(`relative to ${outside.folder})`), error.message);
  assert(error.message.includes("imports the runtime through component.ts"), error.message);
  // Its directories were prepared meanwhile, and undone.
  assertEquals([...Deno.readDirSync(`${stateDir}/run`)], [], "no run was left behind");
  assert(!isMountPoint(`${stateDir}/data/outside-import`), "nothing was left mounted");
});

Deno.test("contract: links inside the data directory are its own; links leading outside refuse the spawn", async () => {
  using state = tempDir();
  const stateDir = state.path;
  const data = `${stateDir}/data/node/regtest`;
  Deno.mkdirSync(data, { recursive: true });
  // Both ends inside: a hard link and a symbolic link are the component's business.
  Deno.writeTextFileSync(`${data}/a.json`, "{}");
  Deno.linkSync(`${data}/a.json`, `${data}/b.json`);
  Deno.symlinkSync(`${data}/a.json`, `${data}/c.json`);
  // A listening stand-in with the node's data grants (the real node needs options to start).
  const node: Component = {
    ...components.foo,
    manifest: {
      ...components.foo.manifest,
      name: "node",
      listens: true,
      permissions: components.node.manifest.permissions,
    },
  };
  await (await spawnComponent(FooInit, node, { stateDir }))[Symbol.asyncDispose]();
  // Leading outside: a symbolic link out, one to nothing, a hard link to a file outside.
  // (Under root the files above went into its disk image, unmounted now: these are
  // planted beside it, and refused before they could be moved in.)
  const dir = data;
  Deno.mkdirSync(dir, { recursive: true });
  Deno.symlinkSync("/etc/passwd", `${dir}/out.json`);
  Deno.symlinkSync(`${dir}/missing`, `${dir}/dangling.json`);
  Deno.writeTextFileSync(`${stateDir}/outside.txt`, "secret");
  Deno.linkSync(`${stateDir}/outside.txt`, `${dir}/hard.json`);
  const error = await assertRejects(
    () => spawnComponent(FooInit, node, { stateDir }),
    SandboxError,
    "holds links leading outside it",
  );
  for (
    const problem of [
      `${dir}/out.json: a symbolic link leading outside, to /etc/passwd`,
      `${dir}/dangling.json: a symbolic link to ${dir}/missing, which is missing`,
      `${dir}/hard.json: a hard link to a file outside (1 of its 2 names are elsewhere)`,
    ]
  ) assert(error.message.includes(problem), `${problem} in:\n${error.message}`);
  assert(!error.message.includes("a.json") && !error.message.includes("c.json"), error.message);
  assertEquals([...Deno.readDirSync(`${stateDir}/run`)], [], "no run was left behind");
  assert(!isMountPoint(`${stateDir}/data/node`), "nothing was left mounted");
});

const root = Deno.uid() === 0;

Deno.test({
  name:
    "contract: as root, only the connecting component's user reaches a socket; none may chmod it",
  ignore: !root,
  async fn() {
    using state = tempDir();
    const stateDir = state.path;
    const listener: Component = {
      ...components.foo,
      manifest: { ...components.foo.manifest, name: "node", listens: true },
    };
    await using node = await spawnComponent(FooInit, listener, { stateDir });
    const socket = node.paths.listenSocket!;
    await using wallet = await spawnComponent(FooInit, components.foo, {
      stateDir,
      connect: { socket, tokenHex: "00".repeat(32) },
    });
    const link = wallet.paths.connectSocket!;
    assertEquals(link, `${stateDir}/sockets/node.foo/node.sock`);
    // Each user, with every Deno permission, tries to connect, chmod and replace it.
    const attempt = async (user: { uid: number; gid: number }, path: string) => {
      const script = `
        const path = ${JSON.stringify(path)};
        const done = [];
        try { (await Deno.connect({ transport: "unix", path })).close(); done.push("connect"); } catch {}
        try { Deno.chmodSync(path, 0o777); done.push("chmod"); } catch {}
        try { Deno.removeSync(path); done.push("remove"); } catch {}
        console.log(done.join(",") || "nothing");`;
      using denoDir = tempDir();
      Deno.chmodSync(denoDir.path, 0o777);
      const output = await new Deno.Command("setpriv", {
        args: [
          `--reuid=${user.uid}`,
          `--regid=${user.gid}`,
          "--clear-groups",
          "--",
          deno,
          "eval",
          script,
        ],
        env: { DENO_DIR: denoDir.path, DENO_NO_UPDATE_CHECK: "1" },
        stdout: "piped",
      }).output();
      return new TextDecoder().decode(output.stdout).trim();
    };
    const stranger = { uid: 1_900_065_535, gid: 1_900_065_535 };
    assertEquals(await attempt(wallet.identity!, link), "connect");
    assertEquals(await attempt(wallet.identity!, socket), "nothing");
    assertEquals(await attempt(node.identity!, socket), "nothing");
    assertEquals(await attempt(node.identity!, link), "nothing");
    assertEquals(await attempt(stranger, link), "nothing");
  },
});

Deno.test("contract: a listener's socket, and a connector's link to it, end with their runs", async () => {
  using state = tempDir();
  const stateDir = state.path;
  const listener: Component = {
    ...components.foo,
    manifest: { ...components.foo.manifest, name: "node", listens: true },
  };
  const node = await spawnComponent(FooInit, listener, { stateDir });
  const socket = node.paths.listenSocket!;
  const wallet = await spawnComponent(FooInit, components.foo, {
    stateDir,
    connect: { socket, tokenHex: "00".repeat(32) },
  });
  const link = wallet.paths.connectSocket!;
  assert(existsSync(socket) && existsSync(link));
  await wallet[Symbol.asyncDispose]();
  assert(existsSync(socket), "the listener's socket outlives a connector's run");
  await node[Symbol.asyncDispose]();
  assertEquals([...Deno.readDirSync(`${stateDir}/sockets`)], [], "sockets left behind");
});

Deno.test("contract: a socket swapped for a link before it is locked is refused, nothing given away", () => {
  using temp = tempDir();
  const dir = `${temp.path}/sockets/node`;
  Deno.mkdirSync(dir, { recursive: true });
  const secret = `${temp.path}/secret`;
  Deno.writeTextFileSync(secret, "secret", { mode: 0o600 });
  Deno.symlinkSync(secret, `${dir}/node.sock`);
  assertThrows(() => lockListenSocket(`${dir}/node.sock`, root), Error, "is no longer a socket");
  assertEquals(Deno.statSync(secret).mode! & 0o777, 0o600);
  assertEquals(Deno.statSync(dir).mode! & 0o777, 0o500, "the directory is locked first");
  Deno.chmodSync(dir, 0o700); // to be removed without root
});

/** Whether anything is at `path`. */
function existsSync(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

Deno.test("contract: the child exits when its parent dies; the next start removes what that run left", async () => {
  using state = tempDir();
  const { parent, pid, dataDir, runDir } = await startSandboxParent(state.path);
  parent.kill("SIGKILL");
  await parent.status;
  // Its stdin (the lifeline) closed with the parent: nothing else tells it.
  await waitFor(() => processGone(pid), 20_000, `sandboxed child ${pid} to exit`);
  // Nobody was left to unmount its disk image (the next supervisor would use it as it is).
  assertEquals(isMountPoint(dataDir), Deno.uid() === 0);
  await unmountDataImage(dataDir);
  assert(existsSync(runDir), "the killed parent could not remove its run directory");
  const foo = await loadComponent(`${projectRoot()}/examples/foo`);
  await using again = await spawnComponent(FooInit, foo, { stateDir: state.path });
  assert(!existsSync(runDir), "the next start removed it");
  assert(existsSync(again.paths.runDir));
});

Deno.test("contract: a process an earlier run left is ended by the next start", async () => {
  using state = tempDir();
  // As a component left when its supervisor was killed while it started: its command line
  // names its data directory's view.
  const marker = `-datadir=${state.path}/view/foo`;
  const leftover = new Deno.Command(deno, {
    args: ["run", "data:text/javascript,setInterval(() => {}, 1000)", marker],
    stdout: "null",
    stderr: "null",
  }).spawn();
  await waitFor(() => processesWith(marker).length === 1, 20_000, "the leftover to start");
  const foo = await loadComponent(`${projectRoot()}/examples/foo`);
  {
    await using _foo = await spawnComponent(FooInit, foo, { stateDir: state.path });
    assertEquals((await leftover.status).signal, "SIGKILL");
  }
  assertEquals(processesWith(marker), []);
});

Deno.test("contract: a component's permission audits are kept for its latest runs only", async () => {
  using state = tempDir();
  const logs = `${state.path}/logs`;
  Deno.mkdirSync(logs, { recursive: true });
  // Earlier runs' (their ids sort before any made now), and another component's.
  const earlier = Array.from(
    { length: KEPT_AUDITS + 5 },
    (_, i) => `0000-${String(i).padStart(2, "0")}`,
  );
  for (const run of earlier) {
    Deno.writeTextFileSync(`${logs}/foo.${run}${AUDIT_SUFFIX}`, "");
    Deno.writeTextFileSync(`${logs}/foo.${run}${GRANTS_SUFFIX}`, "{}");
  }
  Deno.writeTextFileSync(`${logs}/other.0000-00${AUDIT_SUFFIX}`, "");
  const foo = await loadComponent(`${projectRoot()}/examples/foo`);
  {
    await using _foo = await spawnComponent(FooInit, foo, { stateDir: state.path });
  }
  const audits = [...Deno.readDirSync(logs)].map((entry) => entry.name)
    .filter((name) => name.endsWith(AUDIT_SUFFIX)).sort();
  const kept = earlier.slice(-(KEPT_AUDITS - 1)).map((run) => `foo.${run}${AUDIT_SUFFIX}`);
  assertEquals(audits.length, KEPT_AUDITS + 1);
  assertEquals(audits.slice(0, KEPT_AUDITS - 1), kept, "the oldest went");
  assert(audits.includes(`other.0000-00${AUDIT_SUFFIX}`), "another component's stay");
  assert(!existsSync(`${logs}/foo.${earlier[0]}${GRANTS_SUFFIX}`), "with their grants");
});

Deno.test("spawnComponent: a negative or NaN startTimeoutMs is refused before anything starts", async () => {
  for (const startTimeoutMs of [-1, Number.NaN]) {
    await assertRejects(
      // A state directory that does not exist: nothing may have been made there.
      () => spawnComponent(FooInit, components.foo, { stateDir: "/nonexistent", startTimeoutMs }),
      RangeError,
      "spawnComponent: startTimeoutMs is a number of milliseconds",
    );
  }
});
