/**
 * Taproot script trees as Bitcoin Core's `TaprootBuilder` builds them from
 * a descriptor's leaves (each with its depth, in depth-first order): the
 * tapleaf and tapbranch hashes (BIP 341, through @scure/btc-signer's
 * tagged-hash helpers), the merkle root, the tweaked output key and each
 * leaf's control block; Core's `InferTaprootTree`, which turns what a
 * signing provider knows of an output (internal key, merkle root, leaf
 * scripts with their control blocks) back into depth-first leaves; and the
 * braces a descriptor writes such leaves with. Shared by the node and the
 * wallet (whose sandbox cannot import the node's modules).
 *
 * @example
 * ```ts
 * import { buildTaprootTree, inferTaprootTree } from "./taptree.ts";
 * import { hex } from "@scure/base";
 * // The x coordinate of the generator point, as an internal key.
 * const key = hex.decode("79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798");
 * const leaves = [
 *   { depth: 1, script: Uint8Array.of(0x51) },
 *   { depth: 2, script: Uint8Array.of(0x52) },
 *   { depth: 2, script: Uint8Array.of(0x53) },
 * ];
 * const tree = buildTaprootTree(key, leaves);
 * if (tree.leaves[1].controlBlock.length !== 33 + 2 * 32) throw new Error("two siblings");
 * const again = inferTaprootTree(tree, tree.outputKey);
 * if (again?.map((leaf) => leaf.depth).join() !== "1,2,2") throw new Error("round trip");
 * ```
 * @module
 */
import { tapLeafHash } from "@scure/btc-signer/payment.js";
import { tagSchnorr, taprootTweakPubkey } from "@scure/btc-signer/utils.js";
import { compareBytes } from "./bytes.ts";

/** Core's `TAPROOT_CONTROL_MAX_NODE_COUNT`: how deep a leaf may sit. */
export const TAPROOT_CONTROL_MAX_NODE_COUNT = 128;

/** Core's `TAPROOT_LEAF_TAPSCRIPT`: the leaf version of BIP 342 scripts. */
export const TAPROOT_LEAF_TAPSCRIPT = 0xc0;

/** A leaf as a descriptor gives it: its depth in the tree and its script. */
export interface TapLeafInput {
  readonly depth: number;
  readonly script: Uint8Array;
  /** Defaults to {@linkcode TAPROOT_LEAF_TAPSCRIPT}. */
  readonly leafVersion?: number;
}

/** A built leaf: what a PSBT's `tap_scripts` and a script-path spend need. */
export interface TapLeaf {
  readonly depth: number;
  readonly script: Uint8Array;
  readonly leafVersion: number;
  readonly leafHash: Uint8Array;
  /** Leaf version with the output key's parity, internal key, sibling hashes from the leaf up. */
  readonly controlBlock: Uint8Array;
  /** The control block's sibling hashes, from the leaf up. */
  readonly merklePath: readonly Uint8Array[];
}

/** What Core's `TaprootSpendData` holds, with the output it makes. */
export interface TaprootTree {
  readonly internalKey: Uint8Array;
  /** Empty for a tree without leaves (key path only). */
  readonly merkleRoot: Uint8Array;
  readonly outputKey: Uint8Array;
  readonly parity: number;
  /** In the depth-first order given. */
  readonly leaves: readonly TapLeaf[];
}

const equalBytes = (a: Uint8Array, b: Uint8Array) => compareBytes(a, b) === 0;

/** `ComputeTapbranchHash`: the tagged hash of the two children, smaller first. */
function branchHash(a: Uint8Array, b: Uint8Array): Uint8Array {
  return compareBytes(a, b) <= 0 ? tagSchnorr("TapBranch", a, b) : tagSchnorr("TapBranch", b, a);
}

interface Node {
  readonly hash: Uint8Array;
  /** Indexes of the leaves below, each with its sibling hashes so far (from the leaf up). */
  readonly leaves: { index: number; path: Uint8Array[] }[];
}

/**
 * Core's `TaprootBuilder` fed `leaves` (depth-first, each with its depth)
 * and finalized with `internalKey` (32 bytes, x-only): the merkle root, the
 * tweaked output key and each leaf's control block. Throws when the depths
 * do not make a complete tree.
 */
export function buildTaprootTree(
  internalKey: Uint8Array,
  leaves: readonly TapLeafInput[],
): TaprootTree {
  let next = 0;
  const hashes = leaves.map((leaf) =>
    tapLeafHash(leaf.script, leaf.leafVersion ?? TAPROOT_LEAF_TAPSCRIPT)
  );
  // The subtree at `depth` starting with the next leaf: a leaf there, else two subtrees one deeper.
  const subtree = (depth: number): Node => {
    if (next >= leaves.length || depth > TAPROOT_CONTROL_MAX_NODE_COUNT) {
      throw new Error("incomplete taproot tree");
    }
    if (leaves[next].depth === depth) {
      const index = next++;
      return { hash: hashes[index], leaves: [{ index, path: [] }] };
    }
    if (leaves[next].depth < depth) throw new Error("incomplete taproot tree");
    const left = subtree(depth + 1);
    const right = subtree(depth + 1);
    for (const leaf of left.leaves) leaf.path.push(right.hash);
    for (const leaf of right.leaves) leaf.path.push(left.hash);
    return { hash: branchHash(left.hash, right.hash), leaves: [...left.leaves, ...right.leaves] };
  };
  const root = leaves.length > 0 ? subtree(0) : undefined;
  if (next !== leaves.length) throw new Error("incomplete taproot tree");
  const merkleRoot = root?.hash ?? new Uint8Array();
  const [outputKey, parity] = taprootTweakPubkey(internalKey, merkleRoot);
  const paths = new Map(root?.leaves.map(({ index, path }) => [index, path]));
  return {
    internalKey,
    merkleRoot,
    outputKey,
    parity,
    leaves: leaves.map((leaf, i) => {
      const leafVersion = leaf.leafVersion ?? TAPROOT_LEAF_TAPSCRIPT;
      const path = paths.get(i) ?? [];
      const controlBlock = new Uint8Array(33 + 32 * path.length);
      controlBlock[0] = leafVersion | parity;
      controlBlock.set(internalKey, 1);
      path.forEach((hash, j) => controlBlock.set(hash, 33 + 32 * j));
      return {
        depth: leaf.depth,
        script: leaf.script,
        leafVersion,
        leafHash: hashes[i],
        controlBlock,
        merklePath: path,
      };
    }),
  };
}

/** `ComputeTaprootMerkleRoot`: the root a control block proves for a leaf hash. */
function controlRoot(control: Uint8Array, leafHash: Uint8Array): Uint8Array {
  let hash = leafHash;
  for (let at = 33; at < control.length; at += 32) {
    hash = branchHash(hash, control.subarray(at, at + 32));
  }
  return hash;
}

interface InferNode {
  hash: Uint8Array | undefined;
  sub?: [InferNode, InferNode];
  leaf?: { script: Uint8Array; leafVersion: number };
  explored: boolean;
  inner: boolean;
  done: boolean;
}

/**
 * Core's `InferTaprootTree`: the depth-first leaves of the tree `tree`'s
 * scripts and control blocks describe, when `outputKey` is its output and
 * the leaves make it whole; else undefined. Scripts are visited in Core's
 * `std::map` order (by script bytes, then leaf version), control blocks in
 * byte order, so the leaves come out in the order Core prints them.
 */
export function inferTaprootTree(
  tree: Pick<TaprootTree, "internalKey" | "merkleRoot" | "leaves">,
  outputKey: Uint8Array,
): { depth: number; script: Uint8Array; leafVersion: number }[] | undefined {
  const [tweaked] = taprootTweakPubkey(tree.internalKey, tree.merkleRoot);
  if (!equalBytes(tweaked, outputKey)) return undefined;
  if (tree.merkleRoot.length === 0) return [];
  // Core's map from (script, leaf version) to its set of control blocks.
  const records = new Map<
    string,
    { script: Uint8Array; leafVersion: number; controls: Uint8Array[] }
  >();
  for (const leaf of tree.leaves) {
    const key = `${leaf.leafVersion}:${[...leaf.script].join(",")}`;
    const record = records.get(key) ??
      { script: leaf.script, leafVersion: leaf.leafVersion, controls: [] };
    if (!record.controls.some((c) => equalBytes(c, leaf.controlBlock))) {
      record.controls.push(leaf.controlBlock);
    }
    records.set(key, record);
  }
  const ordered = [...records.values()].sort((a, b) =>
    compareBytes(a.script, b.script) || a.leafVersion - b.leafVersion
  );
  const newNode = (hash?: Uint8Array): InferNode => ({
    hash,
    explored: false,
    inner: false,
    done: false,
  });
  const root = newNode(tree.merkleRoot);
  for (const record of ordered) {
    // Core's ShortestVectorFirstComparator: a script's shallowest occurrence first.
    record.controls.sort((a, b) => a.length - b.length || compareBytes(a, b));
    for (const control of record.controls) {
      const { leafVersion, script } = record;
      if (leafVersion < 0 || leafVersion >= 0x100 || leafVersion & 1) continue;
      if (
        control.length < 33 || control.length > 33 + 32 * TAPROOT_CONTROL_MAX_NODE_COUNT ||
        (control.length - 33) % 32 !== 0
      ) continue;
      if ((control[0] & 0xfe) !== leafVersion) continue;
      const leafHash = tapLeafHash(script, leafVersion);
      if (!equalBytes(controlRoot(control, leafHash), tree.merkleRoot)) continue;
      let node = root;
      const levels = (control.length - 33) / 32;
      for (let depth = 0; depth < levels; depth++) {
        if (node.explored && !node.inner) return undefined;
        const at = 33 + (levels - 1 - depth) * 32;
        const hash = control.subarray(at, at + 32);
        if (node.sub) {
          let descended = false;
          for (const i of [0, 1]) {
            const here = node.sub[i];
            const other = node.sub[1 - i];
            if (
              (here.hash && equalBytes(here.hash, hash)) ||
              (here.hash === undefined && !(other.hash && equalBytes(other.hash, hash)))
            ) {
              here.hash = hash;
              node = other;
              descended = true;
              break;
            }
          }
          if (!descended) return undefined;
        } else {
          node.explored = true;
          node.inner = true;
          node.sub = [newNode(), newNode(hash)];
          node = node.sub[0];
        }
      }
      if (node.sub) return undefined;
      node.explored = true;
      node.inner = false;
      node.leaf = { script, leafVersion };
      node.hash = leafHash;
    }
  }
  const out: { depth: number; script: Uint8Array; leafVersion: number }[] = [];
  const stack: InferNode[] = [root];
  while (stack.length > 0) {
    const node = stack[stack.length - 1];
    if (!node.explored) return undefined;
    if (!node.inner) {
      out.push({ depth: stack.length - 1, ...node.leaf! });
      node.done = true;
      stack.pop();
      continue;
    }
    const [left, right] = node.sub!;
    if (
      left.done && !right.done && !right.explored && right.hash !== undefined &&
      node.hash !== undefined && equalBytes(branchHash(right.hash, right.hash), node.hash)
    ) {
      // Two identical subtrees: the left one stands for both.
      left.done = false;
      right.done = true;
    } else if (left.done && right.done) {
      left.done = false;
      right.done = false;
      node.done = true;
      stack.pop();
    } else if (!left.done) {
      stack.push(left);
    } else if (!right.done) {
      stack.push(right);
    }
  }
  return out;
}

/** Core's `TRDescriptor::ToStringSubScriptHelper`: leaves already written, with their braces. */
export function treeText(leaves: readonly string[], depths: readonly number[]): string {
  let out = "";
  const path: boolean[] = [];
  leaves.forEach((leaf, pos) => {
    if (pos) out += ",";
    while (path.length <= depths[pos]) {
      if (path.length) out += "{";
      path.push(false);
    }
    out += leaf;
    while (path.length && path[path.length - 1]) {
      if (path.length > 1) out += "}";
      path.pop();
    }
    if (path.length) path[path.length - 1] = true;
  });
  return out;
}
