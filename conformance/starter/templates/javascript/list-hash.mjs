// Capability `list-hash`: RFC 6962 Merkle tree hashes of lists (E10) and RFC 9162 proofs (E11).
// Leaves are the canonical JSON of the entries (encoding.mjs). Indexes and sizes are BigInt.
import crypto from "node:crypto";
import { Refused, canonicalBytes } from "./encoding.mjs";

const sha = (...parts) => crypto.createHash("sha256").update(Buffer.concat(parts)).digest();
const leaf = (entry) => sha(Buffer.from([0]), canonicalBytes(entry));
const node = (left, right) => sha(Buffer.from([1]), left, right);
const EMPTY = sha(Buffer.alloc(0));

function split(n) {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function mth(leaves) {
  if (leaves.length === 0) return EMPTY;
  if (leaves.length === 1) return leaves[0];
  const k = split(leaves.length);
  return node(mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

function path(m, leaves) {
  if (leaves.length <= 1) return [];
  const k = split(leaves.length);
  if (m < k) return [...path(m, leaves.slice(0, k)), mth(leaves.slice(k))];
  return [...path(m - k, leaves.slice(k)), mth(leaves.slice(0, k))];
}

function subproof(m, leaves, complete) {
  if (m === leaves.length) return complete ? [] : [mth(leaves)];
  const k = split(leaves.length);
  if (m <= k) return [...subproof(m, leaves.slice(0, k), complete), mth(leaves.slice(k))];
  return [...subproof(m - k, leaves.slice(k), false), mth(leaves.slice(0, k))];
}

function leavesOf(entries) {
  if (!Array.isArray(entries)) throw new Refused("E10", "entries must be a list");
  return entries.map(leaf);
}

const natural = (v) => typeof v === "bigint" && v >= 0n;
const hex = (list) => list.map((h) => h.toString("hex"));

export function root({ entries }) {
  return mth(leavesOf(entries)).toString("hex");
}

export function prove_inclusion({ entries, index }) {
  const leaves = leavesOf(entries);
  if (!natural(index) || index >= BigInt(leaves.length)) throw new Refused("E11", "no such leaf");
  return hex(path(Number(index), leaves));
}

export function prove_consistency({ entries, size1 }) {
  const leaves = leavesOf(entries);
  if (!natural(size1) || size1 === 0n || size1 > BigInt(leaves.length)) {
    throw new Refused("E11", "a consistency proof exists for 0 < size1 <= size only");
  }
  return hex(subproof(Number(size1), leaves, true));
}

// Lowercase hex of `size` bytes (any size if undefined), or null: a defect, and a proof with a
// defect does not verify (answered false).
function bytesOr(text, size) {
  if (typeof text !== "string" || !/^([0-9a-f]{2})*$/.test(text)) return null;
  if (size !== undefined && text.length !== 2 * size) return null;
  return Buffer.from(text, "hex");
}

function hashes(proof) {
  if (!Array.isArray(proof)) return null;
  const out = proof.map((h) => bytesOr(h, 32));
  return out.includes(null) ? null : out;
}

export function verify_inclusion({ leaf_index, tree_size, leaf_hash, proof, root: wanted }) {
  const items = hashes(proof);
  const leafHash = bytesOr(leaf_hash, 32);
  const want = bytesOr(wanted);
  if (!items || !leafHash || !want || !natural(leaf_index) || !natural(tree_size)) return false;
  if (leaf_index >= tree_size) return false;
  let fn = leaf_index;
  let sn = tree_size - 1n;
  let r = leafHash;
  for (const p of items) {
    if (sn === 0n) return false;
    if (fn & 1n || fn === sn) {
      r = node(p, r);
      if (!(fn & 1n)) {
        while (fn !== 0n && !(fn & 1n)) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      r = node(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n && r.equals(want);
}

export function verify_consistency({ size1, size2, root1, root2, proof }) {
  let items = hashes(proof);
  const first = bytesOr(root1);
  const second = bytesOr(root2);
  if (!items || !first || !second || !natural(size1) || !natural(size2)) return false;
  if (size1 > size2) return false;
  if (size1 === size2) {
    // equal sizes: the empty proof and equal roots; at size 0 the root of the empty list (E11)
    return items.length === 0 && first.equals(second) && (size1 > 0n || first.equals(EMPTY));
  }
  if (size1 === 0n || items.length === 0) return false;
  if ((size1 & (size1 - 1n)) === 0n) items = [first, ...items];
  let fn = size1 - 1n;
  let sn = size2 - 1n;
  while (fn & 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  let fr = items[0];
  let sr = items[0];
  for (const c of items.slice(1)) {
    if (sn === 0n) return false;
    if (fn & 1n || fn === sn) {
      fr = node(c, fr);
      sr = node(c, sr);
      if (!(fn & 1n)) {
        while (fn !== 0n && !(fn & 1n)) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      sr = node(sr, c);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n && fr.equals(first) && sr.equals(second);
}

export const COMMANDS = {
  "list-hash.root": root,
  "list-hash.prove_inclusion": prove_inclusion,
  "list-hash.prove_consistency": prove_consistency,
  "list-hash.verify_inclusion": verify_inclusion,
  "list-hash.verify_consistency": verify_consistency,
};
