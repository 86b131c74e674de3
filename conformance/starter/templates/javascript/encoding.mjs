// Capability `encoding`: canonical JSON (E1-E4), object hashes (E6), Ed25519 signatures over a
// domain tag (E7) with libsodium's strict verification (N1). Node's crypto only; values come
// from json.mjs (integers are BigInt, other numbers JsonNumber).
import crypto from "node:crypto";
import { JsonNumber, JsonSyntaxError, parse } from "./json.mjs";

export class Refused extends Error {
  constructor(rule, message) {
    super(message);
    this.rule = rule;
  }
}

const MIN = -(2n ** 63n);
const MAX = 2n ** 63n - 1n;
const SHORT = { '"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t" };

function checkString(s) {
  for (let i = 0; i < s.length; i += 1) {
    const u = s.charCodeAt(i);
    if (u >= 0xd800 && u <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) throw new Refused("E3", "a lone surrogate");
      i += 1;
    } else if (u >= 0xdc00 && u <= 0xdfff) {
      throw new Refused("E3", "a lone surrogate");
    }
  }
  if (s.normalize("NFC") !== s) throw new Refused("E3", "a string that is not NFC");
}

function encodeString(s) {
  checkString(s);
  let out = '"';
  for (const c of s) {
    if (c in SHORT) out += SHORT[c];
    else if (c < " ") out += `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
    else out += c;
  }
  return `${out}"`;
}

function encode(value, depth) {
  if (depth > 64) throw new Refused("E4", "nesting deeper than 64 levels");
  if (value === null || value === true || value === false) return String(value);
  if (typeof value === "bigint") {
    if (value < MIN || value > MAX) throw new Refused("E2", "an integer outside 64 bits");
    return value.toString();
  }
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new Refused("E2", "not a safe integer");
    return String(value);
  }
  if (value instanceof JsonNumber) throw new Refused("E2", `${value.text} is not an integer`);
  if (typeof value === "string") return encodeString(value);
  if (Array.isArray(value)) return `[${value.map((v) => encode(v, depth + 1)).join(",")}]`;
  if (typeof value === "object") {
    const names = Object.keys(value);
    names.forEach(checkString);
    names.sort(); // JS compares strings by UTF-16 code units: the order E1 asks for
    return `{${names.map((n) => `${encodeString(n)}:${encode(value[n], depth + 1)}`).join(",")}}`;
  }
  throw new Refused("E4", `not a JSON value: ${typeof value}`);
}

export function canonicalBytes(value) {
  return Buffer.from(encode(value, 1), "utf8");
}

export function hexBytes(text, size, rule = "E5") {
  if (typeof text !== "string" || !/^([0-9a-f]{2})*$/.test(text)) {
    throw new Refused(rule, "not lowercase hex");
  }
  if (size !== undefined && text.length !== 2 * size) {
    throw new Refused(rule, `expected ${size} bytes of hex`);
  }
  return Buffer.from(text, "hex");
}

export function canonical_json({ value }) {
  return canonicalBytes(value).toString("hex");
}

export function parse_canonical_json({ data }) {
  const bytes = hexBytes(data);
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    throw new Refused("E4", "a byte order mark");
  }
  let text;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new Refused("E4", "invalid UTF-8");
  }
  let value;
  try {
    value = parse(text);
  } catch (error) {
    if (error instanceof JsonSyntaxError) {
      // NaN and the infinities are numbers the protocol has no form for (E2), not mere non-JSON
      const word = ["NaN", "Infinity", "-Infinity"].find((w) => text.startsWith(w, error.offset));
      if (word) throw new Refused("E2", `${word} is not an integer`);
    }
    if (error instanceof JsonSyntaxError || error instanceof RangeError) {
      throw new Refused("E4", `not JSON: ${error.message}`);
    }
    throw error;
  }
  if (!canonicalBytes(value).equals(bytes)) throw new Refused("E4", "not the canonical form");
  return value;
}

export function hash_object({ value }) {
  return crypto.createHash("sha256").update(canonicalBytes(value)).digest("hex");
}

// Ed25519 keys for node:crypto: DER wrappers of a raw 32-byte seed or public key.
const PKCS8 = Buffer.from("302e020100300506032b657004220420", "hex");
const SPKI = Buffer.from("302a300506032b6570032100", "hex");

function privateKey(seedHex) {
  const seed = hexBytes(seedHex, 32);
  return crypto.createPrivateKey({ key: Buffer.concat([PKCS8, seed]), format: "der", type: "pkcs8" });
}

function signedBytes(domain, value) {
  if (typeof domain !== "string" || !/^[\x20-\x7e]+$/.test(domain)) {
    throw new Refused("E7", "a domain tag is printable ASCII");
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new Refused("E7", "a signed value is an object");
  }
  const body = Object.assign(Object.create(null), value);
  delete body.signature; // the signature member is never signed (E7)
  return Buffer.concat([Buffer.from(domain, "ascii"), Buffer.from([0]), canonicalBytes(body)]);
}

export function public_key({ seed }) {
  const spki = crypto.createPublicKey(privateKey(seed)).export({ format: "der", type: "spki" });
  return spki.subarray(SPKI.length).toString("hex");
}

export function sign({ seed, domain, value }) {
  return crypto.sign(null, signedBytes(domain, value), privateKey(seed)).toString("hex");
}

// libsodium's crypto_sign_verify_detached refuses, before the equation: S >= L, R or A of small
// order (a fixed list of encodings, sign bit ignored), and A not canonical (y >= p). OpenSSL's
// Ed25519 (node:crypto) does not make all of these checks, so they are made here (N1).
const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const SMALL_ORDER = [
  "0000000000000000000000000000000000000000000000000000000000000000",
  "0100000000000000000000000000000000000000000000000000000000000000",
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
].map((h) => Buffer.from(h, "hex"));

function littleEndian(bytes) {
  return BigInt(`0x${Buffer.from(bytes).reverse().toString("hex") || "0"}`);
}

function hasSmallOrder(point) {
  const masked = Buffer.from(point);
  masked[31] &= 0x7f;
  return SMALL_ORDER.some((bad) => bad.equals(masked));
}

function isCanonical(point) {
  const y = littleEndian(point) & (2n ** 255n - 1n);
  return y < 2n ** 255n - 19n;
}

export function verify_signature({ public_key: key, domain, value, signature }) {
  const a = hexBytes(key, 32);
  const sig = hexBytes(signature, 64);
  const message = signedBytes(domain, value);
  if (littleEndian(sig.subarray(32)) >= L || hasSmallOrder(sig.subarray(0, 32))) return false;
  if (!isCanonical(a) || hasSmallOrder(a)) return false;
  let publicKey;
  try {
    publicKey = crypto.createPublicKey({ key: Buffer.concat([SPKI, a]), format: "der", type: "spki" });
  } catch {
    return false; // not a point of the curve
  }
  try {
    return crypto.verify(null, message, publicKey, sig);
  } catch {
    return false;
  }
}

export const COMMANDS = {
  "encoding.canonical_json": canonical_json,
  "encoding.parse_canonical_json": parse_canonical_json,
  "encoding.hash_object": hash_object,
  "encoding.public_key": public_key,
  "encoding.sign": sign,
  "encoding.verify_signature": verify_signature,
};
