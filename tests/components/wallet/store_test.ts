/**
 * The wallet database's block locator: the last 100 processed blocks and
 * every 1,024th below them, in a real SQLite file.
 *
 * @module
 */
import { assertEquals } from "../../assert.ts";
import { WalletStore } from "../../../components/wallet/store.ts";
import { tempDir } from "../../helpers.ts";

const hashOf = (height: number) => height.toString(16).padStart(64, "0");

Deno.test("wallet store: the locator keeps the last 100 blocks and every 1,024th, across a reopen", () => {
  using dir = tempDir("wallet_store_");
  const file = `${dir.path}/wallet.dat`;
  {
    using store = WalletStore.create(file);
    for (let height = 0; height <= 3000; height++) {
      store.atomically(() => store.setTip(height, hashOf(height)));
    }
  }
  using store = WalletStore.open(file);
  const expected = [
    ...Array.from({ length: 100 }, (_, i) => 3000 - i),
    2048,
    1024,
    0,
  ];
  assertEquals(store.locator().map(({ height }) => height), expected);
  assertEquals(store.locator().every(({ height, hash }) => hash === hashOf(height)), true);
  assertEquals(store.tip(), { height: 3000, hash: hashOf(3000) });

  // Back to a block below (a reorganisation): those above it are forgotten, it is kept.
  store.atomically(() => store.setTip(2000, "ab".repeat(32)));
  assertEquals(store.locator().map(({ height }) => height), [2000, 1024, 0]);
  assertEquals(store.blockAt(2000), "ab".repeat(32));
  assertEquals(store.blockAt(2950), undefined);
  // Before any block.
  store.atomically(() => store.setTip(-1, ""));
  assertEquals(store.locator(), []);
  assertEquals(store.tip(), { height: -1, hash: "" });
});
