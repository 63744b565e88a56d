/**
 * The spawn contract: the exact command of every component, what a spawned
 * child really runs with, code provenance, planted links, the lifeline.
 *
 * @module
 */
import { assert, assertEquals, assertRejects } from "../assert.ts";
import { processGone, waitFor } from "../helpers.ts";
import { type Component, loadComponent } from "../../sandbox/manifest.ts";
import {
  PROJECT_ROOT,
  type RunPaths,
  sandboxCommand,
  SandboxError,
  spawnComponent,
} from "../../sandbox/contract.ts";
import { ProvenanceError } from "../../sandbox/provenance.ts";
import { FooInit } from "../../schemas/gen/conformance.mp.ts";

const deno = Deno.execPath();
const components = {
  foo: await loadComponent(`${PROJECT_ROOT}/examples/foo`),
  node: await loadComponent(`${PROJECT_ROOT}/components/node`),
  wallet: await loadComponent(`${PROJECT_ROOT}/components/wallet`),
  gui: await loadComponent(`${PROJECT_ROOT}/components/gui`),
};

function pathsOf(name: string, extra: Partial<RunPaths> = {}): RunPaths {
  return {
    bundle: "/s/code/h.js",
    dataDir: `/s/data/${name}`,
    denoDir: `/s/run/${name}.r/deno`,
    auditLog: `/s/logs/${name}.r.audit.jsonl`,
    ...extra,
  };
}

/** The fixed part every command shares, before the grants. */
function prefix(name: string, limits: { cpu: number; files: number; heap: number }): string[] {
  return [
    `--cpu=${limits.cpu}:${limits.cpu + 1}`,
    `--nofile=${limits.files}`,
    "--core=0",
    "--",
    "setpriv",
    "--no-new-privs",
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
  ];
}

Deno.test("contract: the exact command of each component", () => {
  const env = (name: string) => ({
    DENO_DIR: `/s/run/${name}.r/deno`,
    DENO_AUDIT_PERMISSIONS: `/s/logs/${name}.r.audit.jsonl`,
    DENO_NO_UPDATE_CHECK: "1",
    DENO_NO_PACKAGE_JSON: "1",
    NO_COLOR: "1",
  });
  const tail = (name: string) => ["/s/code/h.js", `-datadir=/s/data/${name}`, "-lifeline"];
  const expected: Record<keyof typeof components, string[]> = {
    foo: [...prefix("foo", { cpu: 600, files: 64, heap: 128 }), "--deny-run", ...tail("foo")],
    node: [
      ...prefix("node", { cpu: 3600, files: 64, heap: 256 }),
      "--allow-read=/s/data/node/blocks,/s/sockets/node/node.sock",
      "--allow-write=/s/data/node/blocks,/s/sockets/node/node.sock",
      "--allow-net=unix:/s/sockets/node/node.sock",
      "--deny-run",
      ...tail("node"),
      "-ipcbind=unix:/s/sockets/node/node.sock",
    ],
    wallet: [
      ...prefix("wallet", { cpu: 3600, files: 64, heap: 256 }),
      "--allow-read=/s/data/wallet/wallets",
      "--allow-write=/s/data/wallet/wallets",
      "--deny-run",
      ...tail("wallet"),
    ],
    gui: [
      ...prefix("gui", { cpu: 3600, files: 128, heap: 128 }),
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
    const command = sandboxCommand(component, paths, { root: true });
    assertEquals(command.executable, "prlimit", name);
    assertEquals(command.args, expected[name as keyof typeof components], name);
    assertEquals(command.env, env(name), name);
    assertEquals(command.cwd, `/s/data/${name}`, name);
  }
});

Deno.test("contract: a connecting component gets exactly its socket, a token and nothing more", () => {
  const command = sandboxCommand(
    components.wallet,
    pathsOf("wallet", { connectSocket: "/s/sockets/node/node.sock" }),
    { root: false, args: ["-debug=ipc"], env: { HOME: "/root" } },
  );
  assertEquals(command.args.slice(4, 7), ["setpriv", "--no-new-privs", "--"]);
  assertEquals(command.args.filter((arg) => arg.startsWith("--allow-")), [
    "--allow-read=/s/data/wallet/wallets,/s/sockets/node/node.sock",
    "--allow-write=/s/data/wallet/wallets,/s/sockets/node/node.sock",
    "--allow-net=unix:/s/sockets/node/node.sock",
  ]);
  assertEquals(command.args.slice(-3), [
    "-lifeline",
    "-ipcconnect=unix:/s/sockets/node/node.sock",
    "-debug=ipc",
  ]);
  assert(!("HOME" in command.env), "only variables the manifest names are passed");
});

Deno.test("contract: environment variables the manifest names are passed, others not", () => {
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
});

Deno.test("contract: hardened mode wraps Deno in bubblewrap without naming Deno's binary twice", () => {
  const command = sandboxCommand(components.gui, pathsOf("gui"), { hardened: true, root: true });
  const bwrap = command.args.indexOf("--unshare-all") - 1;
  assert(command.args[bwrap].endsWith("bwrap"));
  assert(command.args.includes("--die-with-parent"));
  assert(command.args.includes("--share-net"), "gui is granted a host, so it keeps the network");
  assertEquals(command.args.filter((arg) => arg === deno).length, 1);
  assertEquals(command.args[command.args.indexOf(deno) + 1], "run");
  const node = sandboxCommand(components.node, pathsOf("node"), { hardened: true, root: true });
  assert(!node.args.includes("--share-net"), "node has no host grant: empty network namespace");
});

Deno.test("contract: a spawned child runs exactly that command, environment and nothing else", async () => {
  const stateDir = Deno.makeTempDirSync();
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
    assertEquals(/CapEff:\s*(\w+)/.exec(status)![1], "0000000000000000");
    assertEquals(/CapBnd:\s*(\w+)/.exec(status)![1], "0000000000000000");
  }
  assertEquals(/NoNewPrivs:\s*(\d)/.exec(status)![1], "1");
  const limits = Deno.readTextFileSync(`/proc/${child.pid}/limits`);
  assert(/Max cpu time\s+600\s+601\s+seconds/.test(limits), limits);
  assert(/Max open files\s+64\s+64/.test(limits), limits);
  assert(/Max core file size\s+0\s+0/.test(limits), limits);
});

Deno.test("contract: a static import outside the component's roots refuses the spawn", async () => {
  const outside = await loadComponent(`${PROJECT_ROOT}/tests/sandbox/fixtures/outside_import`);
  const stateDir = Deno.makeTempDirSync();
  const error = await assertRejects(
    () => spawnComponent(FooInit, outside, { stateDir }),
    ProvenanceError,
    "outside the component's allowed roots",
  );
  assert(error.message.includes(`${PROJECT_ROOT}/tests/assert.ts`), error.message);
  assertEquals([...Deno.readDirSync(stateDir)].some((e) => e.name === "run"), false);
});

Deno.test("contract: links planted in a data directory refuse the spawn", async () => {
  const stateDir = Deno.makeTempDirSync();
  const data = `${stateDir}/data/node/blocks`;
  Deno.mkdirSync(data, { recursive: true });
  Deno.symlinkSync("/etc/passwd", `${data}/chain.json`);
  await assertRejects(
    () => spawnComponent(FooInit, components.node, { stateDir }),
    SandboxError,
    `${data}/chain.json is a symbolic link`,
  );
  Deno.removeSync(`${data}/chain.json`);
  const outside = `${stateDir}/outside.txt`;
  Deno.writeTextFileSync(outside, "secret");
  Deno.linkSync(outside, `${data}/chain.json`);
  await assertRejects(
    () => spawnComponent(FooInit, components.node, { stateDir }),
    SandboxError,
    "is a hard link",
  );
});

Deno.test("contract: the child exits within 1 s of its parent's death", async () => {
  const parent = new Deno.Command(deno, {
    args: ["run", "--allow-all", `${PROJECT_ROOT}/tests/fixtures/sandbox_parent.ts`],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = parent.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!/CHILD \d+\n/.test(text)) text += (await reader.read()).value ?? "";
  const pid = Number(/CHILD (\d+)/.exec(text)![1]);
  parent.kill("SIGKILL");
  await parent.status;
  const killed = performance.now();
  await waitFor(() => processGone(pid), 1000, `sandboxed child ${pid} to exit`);
  assert(performance.now() - killed < 1000);
  await reader.cancel();
});
