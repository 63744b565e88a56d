/**
 * Authentication: the cookie file (contents, mode, location, lifetime),
 * -rpcuser/-rpcpassword, -rpcauth, and Basic credential parsing — checked
 * over real HTTP where it matters.
 */
import { createHmac } from "node:crypto";
import { assert, assertEquals } from "../../assert.ts";
import { Credentials, decodeBase64, timingResistantEqual } from "../../../components/rpc/auth.ts";
import { basic, cliRequest, exchange, failedStartLog, startServer } from "./raw_http.ts";

const CALL = '{"method":"getblockcount","id":1}';

async function missing(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => false, (e) => e instanceof Deno.errors.NotFound);
}

Deno.test("cookie: <datadir>/regtest/.cookie, __cookie__ + 64 hex, 75 bytes, no newline, 0600", async () => {
  await using s = await startServer();
  const path = `${s.datadir}/regtest/.cookie`;
  assertEquals(s.server.cookiePath, path);
  const bytes = await Deno.readFile(path);
  assertEquals(bytes.length, 75);
  assert(/^__cookie__:[0-9a-f]{64}$/.test(new TextDecoder().decode(bytes)));
  assertEquals((await Deno.stat(path)).mode! & 0o777, 0o600);
  assert(await missing(`${path}.tmp`), "no temporary file left");
  assertEquals((await exchange(s.port, cliRequest(CALL, s.auth))).status, 200);
});

Deno.test("cookie: a stale one is replaced at start, and removed on a clean stop", async () => {
  const datadir = await Deno.makeTempDir();
  try {
    const path = `${datadir}/regtest/.cookie`;
    await Deno.mkdir(`${datadir}/regtest`);
    const stale = `__cookie__:${"0".repeat(64)}`;
    await Deno.writeTextFile(path, stale, { mode: 0o644 });
    await Deno.chmod(path, 0o644);
    {
      await using s = await startServer({ datadir });
      assert(s.cookie !== stale);
      assertEquals((await Deno.stat(path)).mode! & 0o777, 0o600);
      assertEquals((await exchange(s.port, cliRequest(CALL, basic(stale)))).status, 401);
      await s.server.stop();
      assert(await missing(path), "the cookie is removed on stop");
    }
  } finally {
    await Deno.remove(datadir, { recursive: true }).catch(() => {});
  }
});

Deno.test("cookie: a new one on every start", async () => {
  let first: string;
  {
    await using s = await startServer();
    first = s.cookie;
  }
  await using s = await startServer();
  assert(s.cookie !== first);
});

Deno.test("-rpccookiefile (relative to <datadir>/regtest, or absolute) and -rpccookieperms", async () => {
  {
    await using s = await startServer({ cookieFile: "sub/x", cookiePerms: "all" });
    assertEquals(s.server.cookiePath, `${s.datadir}/regtest/sub/x`);
    assertEquals((await Deno.stat(`${s.datadir}/regtest/sub/x`)).mode! & 0o777, 0o644);
  }
  const dir = await Deno.makeTempDir();
  try {
    await using s = await startServer({ cookieFile: `${dir}/abs`, cookiePerms: "group" });
    assertEquals((await Deno.stat(`${dir}/abs`)).mode! & 0o777, 0o640);
    assertEquals((await exchange(s.port, cliRequest(CALL, s.auth))).status, 200);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  // Core's init then says "Unable to start HTTP server. See debug log for details.".
  assert(
    (await failedStartLog({ cookiePerms: "world" })).includes(
      "Invalid -rpccookieperms=world; must be one of 'owner', 'group', or 'all'.",
    ),
  );
});

Deno.test("-norpccookiefile: no cookie, so no credentials", async () => {
  await using s = await startServer({ cookieFile: false });
  assertEquals(s.server.cookiePath, undefined);
  assert(await missing(`${s.datadir}/regtest/.cookie`));
  assertEquals((await exchange(s.port, cliRequest(CALL, basic("__cookie__:")))).status, 401);
});

Deno.test("-rpcuser/-rpcpassword: no cookie file, only those credentials", async () => {
  await using s = await startServer({ user: "alice", password: "s3cret:with colon" });
  assert(await missing(`${s.datadir}/regtest/.cookie`));
  assertEquals(s.server.cookiePath, undefined);
  assertEquals(
    (await exchange(s.port, cliRequest(CALL, basic("alice:s3cret:with colon")))).status,
    200,
  );
  for (const wrong of ["alice:s3cret", "bob:s3cret:with colon", "alice:", ":s3cret:with colon"]) {
    assertEquals((await exchange(s.port, cliRequest(CALL, basic(wrong)))).status, 401, wrong);
  }
  assert(s.logs.some((l) => l.includes("The use of rpcuser/rpcpassword is less secure")));
});

Deno.test("-rpcauth: user:salt$hmac entries", async () => {
  const salt = "0123456789abcdef";
  const hmac = createHmac("sha256", salt).update("pw").digest("hex");
  await using s = await startServer({ rpcauth: [`carol:${salt}$${hmac}`] });
  assertEquals((await exchange(s.port, cliRequest(CALL, basic("carol:pw")))).status, 200);
  assertEquals((await exchange(s.port, cliRequest(CALL, basic("carol:px")))).status, 401);
  // The cookie works beside it.
  assertEquals((await exchange(s.port, cliRequest(CALL, s.auth))).status, 200);
  assert((await failedStartLog({ rpcauth: ["bad"] })).includes("Invalid -rpcauth argument."));
});

Deno.test("Basic credentials: strict base64 and trimming as Core", async () => {
  await using creds = await Credentials.create({
    netDir: "/nonexistent",
    user: "u",
    password: "p",
  });
  const token = btoa("u:p");
  assertEquals(creds.check(`Basic ${token}`), "u");
  assertEquals(creds.check(`Basic  \t${token} \r`), "u");
  for (
    const bad of [
      `basic ${token}`,
      `Basic${token}`,
      `Bearer ${token}`,
      `Basic ${token}=`,
      "Basic dTp",
      "Basic ",
    ]
  ) {
    assertEquals(creds.check(bad), undefined, bad);
  }
  assertEquals(decodeBase64("YQ=="), new TextEncoder().encode("a"));
  assertEquals(decodeBase64("YR=="), undefined, "stray bits are refused");
  assertEquals(decodeBase64("Y==="), undefined);
  assertEquals(decodeBase64("Y=Q="), undefined);
  assertEquals(decodeBase64(""), new Uint8Array(0));
  assert(timingResistantEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2])));
  assert(!timingResistantEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2, 1, 2])));
  assert(!timingResistantEqual(new Uint8Array([1]), new Uint8Array([])));
});
