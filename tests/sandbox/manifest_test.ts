/**
 * Manifest and grant validation: a table of bad inputs, each with its exact
 * error.
 *
 * @module
 */
import { assertEquals, assertRejects, assertThrows } from "../assert.ts";
import {
  applyGrants,
  checkConnections,
  loadComponent,
  ManifestError,
  parseGrant,
  parseManifest,
} from "../../sandbox/manifest.ts";
import { tempDir } from "../helpers.ts";

const good = {
  name: "wallet",
  entry: "main.ts",
  permissions: { read: ["wallets"], write: ["wallets"], net: [], env: [] },
  serves: ["WalletInit"],
};

Deno.test("manifest: a good one gets its defaults", () => {
  const manifest = parseManifest(good, "wallet.json");
  assertEquals(manifest.limits, {
    heapMb: 256,
    cpuSeconds: 3600,
    residentMb: 512,
    openFiles: 256,
    diskMb: 1024,
  });
  assertEquals(manifest.restart.policy, "on-failure");
  assertEquals(manifest.permissions.read, ["wallets"]);
});

Deno.test("manifest: bad manifests, each with its exact error", () => {
  const cases: [unknown, string][] = [
    [
      { ...good, name: "Wallet" },
      "m.json: name: must be lower-case letters, digits and '-', starting with a letter",
    ],
    [
      { ...good, entry: "../node/main.ts" },
      "m.json: entry: must be a relative path inside the component's data directory (no '..' or ',')",
    ],
    [
      { ...good, entry: "main.sh" },
      "m.json: entry: must be a .ts or .js module in the component's folder",
    ],
    [
      { ...good, permissions: { read: ["/etc"] } },
      "m.json: permissions.read[0]: must be a relative path inside the component's data directory (no '..' or ',')",
    ],
    [
      { ...good, permissions: { write: ["a/../../b"] } },
      "m.json: permissions.write[0]: must be a relative path inside the component's data directory (no '..' or ',')",
    ],
    [
      { ...good, permissions: { net: ["127.0.0.1:0"] } },
      "m.json: permissions.net[0]: must be host:port (IPv6 in brackets) with a port from 1 to 65535",
    ],
    [
      { ...good, permissions: { net: ["example.com"] } },
      "m.json: permissions.net[0]: must be host:port (IPv6 in brackets) with a port from 1 to 65535",
    ],
    [
      { ...good, permissions: { net: ["::1:18443"] } },
      "m.json: permissions.net[0]: must be host:port (IPv6 in brackets) with a port from 1 to 65535",
    ],
    [
      { ...good, permissions: { env: ["home"] } },
      "m.json: permissions.env[0]: must be an environment variable name (A-Z, 0-9, _)",
    ],
    [{ ...good, permissions: { run: ["deno"] } }, `m.json: permissions: Unrecognized key: "run"`],
    [
      { ...good, limits: { heapMb: 0 } },
      "m.json: limits.heapMb: Too small: expected number to be >0",
    ],
    [
      { ...good, limits: { cpuSeconds: 1.5 } },
      "m.json: limits.cpuSeconds: Invalid input: expected int, received number",
    ],
    [
      { ...good, limits: { diskMb: 0 } },
      "m.json: limits.diskMb: Too small: expected number to be >0",
    ],
    [
      { ...good, limits: { diskMb: 2 ** 20 + 1 } },
      "m.json: limits.diskMb: Too big: expected number to be <=1048576",
    ],
    [
      { ...good, restart: { policy: "sometimes" } },
      `m.json: restart.policy: Invalid option: expected one of "never"|"on-failure"|"always"`,
    ],
    [{ ...good, serves: [] }, "m.json: serves: must name at least one interface"],
    [{ ...good, extra: 1 }, `m.json: (manifest): Unrecognized key: "extra"`],
    [
      { ...good, permissions: { read: ["a,/etc"] } },
      "m.json: permissions.read[0]: must be a relative path inside the component's data directory (no '..' or ',')",
    ],
    [
      { ...good, listens: "yes" },
      "m.json: listens: Invalid input: expected boolean, received string",
    ],
    [
      { ...good, code: ["/etc"] },
      "m.json: code[0]: must be a folder beside the component's (../<name>) or inside it",
    ],
    [
      { ...good, code: ["../../outside"] },
      "m.json: code[0]: must be a folder beside the component's (../<name>) or inside it",
    ],
    [
      { ...good, connects: ["Node"] },
      "m.json: connects[0]: must be lower-case letters, digits and '-', starting with a letter",
    ],
  ];
  for (const [manifest, message] of cases) {
    const error = assertThrows(() => parseManifest(manifest, "m.json"), ManifestError);
    assertEquals(error.message, message);
  }
});

Deno.test("grants: parsed, checked and applied to the named component only", () => {
  assertEquals(parseGrant("node:net=[::1]:18500").value, "[::1]:18500");
  assertEquals(parseGrant("wallet:net=127.0.0.1:18443"), {
    component: "wallet",
    kind: "net",
    value: "127.0.0.1:18443",
  });
  const bad: [string, string][] = [
    [
      "wallet-net=1.2.3.4:1",
      `--grant "wallet-net=1.2.3.4:1": expected <component>:<read|write|net|env>=<value>`,
    ],
    [
      "wallet:run=deno",
      `--grant "wallet:run=deno": expected <component>:<read|write|net|env>=<value>`,
    ],
    [
      "wallet:read=/etc/passwd",
      `--grant "wallet:read=/etc/passwd": read: must be a relative path inside the component's data directory (no '..' or ',')`,
    ],
    [
      "wallet:net=host",
      `--grant "wallet:net=host": net: must be host:port (IPv6 in brackets) with a port from 1 to 65535`,
    ],
  ];
  for (const [text, message] of bad) {
    assertEquals(assertThrows(() => parseGrant(text), ManifestError).message, message);
  }
  const wallet = parseManifest(good, "wallet.json");
  const node = parseManifest({ ...good, name: "node", permissions: {} }, "node.json");
  const [w, n] = applyGrants([wallet, node], [parseGrant("wallet:net=127.0.0.1:18443")]);
  assertEquals(w.permissions.net, ["127.0.0.1:18443"]);
  assertEquals(n.permissions.net, []);
  assertEquals(wallet.permissions.net, [], "the input manifest is not changed");
  assertThrows(
    () => applyGrants([wallet], [parseGrant("gui:env=LANG")]),
    ManifestError,
    `no component named "gui"`,
  );
});

Deno.test("manifest: connections must name a listening component", () => {
  const node = {
    manifest: parseManifest({ ...good, name: "node", listens: true }, "n"),
    folder: "/",
  };
  const wallet = { manifest: parseManifest({ ...good, connects: ["node"] }, "w"), folder: "/" };
  checkConnections([node, wallet]);
  const quiet = { ...node, manifest: { ...node.manifest, listens: false } };
  assertEquals(
    assertThrows(() => checkConnections([quiet, wallet]), ManifestError).message,
    `wallet: connects: "node" is not a component that listens`,
  );
});

Deno.test("manifest: a component folder is read from its manifest.json, errors name the file", async () => {
  using temp = tempDir();
  const folder = temp.path;
  await assertRejects(() => loadComponent(folder), ManifestError, `${folder}/manifest.json:`);
  Deno.writeTextFileSync(`${folder}/manifest.json`, "{ not json");
  await assertRejects(() => loadComponent(folder), ManifestError, "manifest.json: ");
  Deno.writeTextFileSync(`${folder}/manifest.json`, JSON.stringify(good));
  await assertRejects(() => loadComponent(folder), ManifestError, "entry: main.ts does not exist");
  Deno.writeTextFileSync(`${folder}/main.ts`, "");
  assertEquals((await loadComponent(folder)).manifest.name, good.name);
  // A shared code folder must exist; it is handed on as an absolute path.
  Deno.writeTextFileSync(`${folder}/manifest.json`, JSON.stringify({ ...good, code: ["lib"] }));
  await assertRejects(
    () => loadComponent(folder),
    ManifestError,
    `${folder}/manifest.json: code[0]: lib is not a folder beside`,
  );
  Deno.mkdirSync(`${folder}/lib`);
  assertEquals((await loadComponent(folder)).codeFolders, [Deno.realPathSync(`${folder}/lib`)]);
  // One reached through a symbolic link is refused: the link could lead anywhere.
  Deno.removeSync(`${folder}/lib`);
  Deno.symlinkSync("/etc", `${folder}/lib`);
  await assertRejects(
    () => loadComponent(folder),
    ManifestError,
    "code[0]: lib leads through a symbolic link (to /etc); name the folder itself",
  );
});
