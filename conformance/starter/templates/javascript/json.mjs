// Lossless JSON for the Aethel conformance protocol.
//
// JSON.parse is not enough here (conformance/PROTOCOL.md, "Values"):
//   * integers above 2^53 lose digits as JS numbers: 9223372036854775807 would become
//     9223372036854775808. Here every integer is a BigInt.
//   * `2.0` and `2` are one JS number, but the spec accepts one and refuses the other (E2). Here
//     a number written with a fraction or an exponent is a JsonNumber that keeps its text.
//   * strings may hold lone surrogates ("\ud800") on purpose: JS strings keep them (they are
//     UTF-16), and stringify() writes them back as \u escapes, never as broken UTF-8.
// Objects are null-prototype objects, so a member named "__proto__" is just a member.

export class JsonNumber {
  constructor(text) {
    this.text = text;
  }
}

export class JsonSyntaxError extends Error {
  constructor(message, offset) {
    super(`${message} at offset ${offset}`);
    this.offset = offset;
  }
}

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const ESCAPES = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
const MAX_DEPTH = 512;

export function parse(text) {
  let at = 0;
  const fail = (why) => {
    throw new JsonSyntaxError(why, at);
  };
  const space = () => {
    while (at < text.length && " \t\r\n".includes(text[at])) at += 1;
  };
  const value = (depth) => {
    if (depth > MAX_DEPTH) fail("nesting too deep");
    space();
    const c = text[at];
    if (c === "{") {
      at += 1;
      const out = Object.create(null);
      space();
      if (text[at] === "}") {
        at += 1;
        return out;
      }
      for (;;) {
        space();
        if (text[at] !== '"') fail("expected a member name");
        const name = string();
        space();
        if (text[at] !== ":") fail("expected ':'");
        at += 1;
        out[name] = value(depth + 1);
        space();
        if (text[at] === ",") {
          at += 1;
          continue;
        }
        if (text[at] === "}") {
          at += 1;
          return out;
        }
        fail("expected ',' or '}'");
      }
    }
    if (c === "[") {
      at += 1;
      const out = [];
      space();
      if (text[at] === "]") {
        at += 1;
        return out;
      }
      for (;;) {
        out.push(value(depth + 1));
        space();
        if (text[at] === ",") {
          at += 1;
          continue;
        }
        if (text[at] === "]") {
          at += 1;
          return out;
        }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') return string();
    for (const [word, result] of [["true", true], ["false", false], ["null", null]]) {
      if (text.startsWith(word, at)) {
        at += word.length;
        return result;
      }
    }
    NUMBER.lastIndex = at;
    const match = NUMBER.exec(text);
    if (!match) fail("expected a value");
    at += match[0].length;
    return /[.eE]/.test(match[0]) ? new JsonNumber(match[0]) : BigInt(match[0]);
  };
  const string = () => {
    at += 1;
    let out = "";
    for (;;) {
      if (at >= text.length) fail("unterminated string");
      const c = text[at];
      if (c === '"') {
        at += 1;
        return out;
      }
      if (c < " ") fail("a control character in a string");
      if (c !== "\\") {
        out += c;
        at += 1;
        continue;
      }
      const e = text[at + 1];
      if (e === "u") {
        const hex = text.slice(at + 2, at + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail("a bad \\u escape");
        out += String.fromCharCode(parseInt(hex, 16));
        at += 6;
      } else if (e in ESCAPES) {
        out += ESCAPES[e];
        at += 2;
      } else {
        fail("a bad escape");
      }
    }
  };
  const result = value(0);
  space();
  if (at !== text.length) fail("trailing data");
  return result;
}

export function stringify(value) {
  if (value === null || value === true || value === false) return String(value);
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number") {
    if (!Number.isInteger(value)) throw new TypeError("the protocol carries integers only");
    return String(value);
  }
  if (value instanceof JsonNumber) return value.text;
  if (typeof value === "string") return JSON.stringify(value); // lone surrogates as \u escapes
  if (Array.isArray(value)) return `[${value.map(stringify).join(",")}]`;
  if (typeof value === "object") {
    const members = Object.keys(value).map((k) => `${JSON.stringify(k)}:${stringify(value[k])}`);
    return `{${members.join(",")}}`;
  }
  throw new TypeError(`not a JSON value: ${typeof value}`);
}

// JSON equality where 1, 1.0 and true are three different values.
export function same(a, b) {
  if (typeof a === "bigint" || typeof b === "bigint") return a === b;
  if (a instanceof JsonNumber || b instanceof JsonNumber) {
    return a instanceof JsonNumber && b instanceof JsonNumber && a.text === b.text;
  }
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return a === b;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) return a.length === b.length && a.every((x, i) => same(x, b[i]));
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && same(a[k], b[k]));
}
