// Private: the dnstap fuzz target. A case is bytes for decodeDnstap (see
// _check_dnstap_arbs.ts: encodeDnstap's output, non-canonical and raw
// protobuf, random bytes, repeats; mutated, nested, with huge lengths and
// unknown fields of every wire type), perhaps inside a larger
// buffer (byteOffset > 0). The checks:
//
// - decodeDnstap throws nothing but DnstapError (a SyntaxError), with an
//   offset inside the input;
// - it agrees with the reference decoder (_check_dnstap_model.ts): the same
//   value, or an error at the same offset;
// - work linear in the input: ProtoReader.tag() runs at most 2n + 1 times on
//   n bytes (each field's tag takes a byte; each nested message ends once);
// - memory bounded: the result has only the schema's keys, its byte fields
//   are views of the input (no copies), and their lengths plus the policy
//   text's length add up to at most the input's length;
// - idempotence: a decoded value encodes (encodeDnstap does not throw), and
//   the bytes decode to the same value and encode again to the same bytes;
// - a canonical input (encodeDnstap's output, unmutated) round-trips byte
//   for byte;
// - the text forms: formatDnstapAddress never throws and a 4- or 16-byte
//   address parses back (parseDnstapAddress) to its bytes; formatDnstapTime
//   throws only its RangeError for nanoseconds of a second or more, and
//   agrees with Date for years 1970 to 9999;
// - toDnstapRecord never throws, and its record is plain JSON data (no
//   undefined, null, bigint, bytes; well-formed strings).
import type fc from "fast-check";
import {
  decodeDnstap,
  type Dnstap,
  DnstapError,
  type DnstapMessage,
  type DnstapRecord,
  encodeDnstap,
  formatDnstapAddress,
  formatDnstapTime,
  parseDnstapAddress,
  toDnstapRecord,
} from "../src/dnstap.ts";
import { ProtoReader } from "../src/_protobuf.ts";
import {
  bytesEqual,
  describeThrown,
  fail,
  FuzzFailure,
  short,
} from "./_assert.ts";
import {
  caseInput,
  type FuzzCase,
  type InputSpelling,
  toHex,
} from "./_case.ts";
import { dnstapInputArb } from "./_check_dnstap_arbs.ts";
import { modelDecode, ModelError } from "./_check_dnstap_model.ts";
import { reduceBytes } from "./_minimise.ts";
import { defineTarget, type FuzzTarget, MIB } from "./_target.ts";

/** Bytes through decodeDnstap and back through encodeDnstap. */
export interface DnstapCase extends FuzzCase, InputSpelling {
  target: "dnstap";
  /** The input is encodeDnstap's output, unmutated. */
  canonical?: boolean;
  /** Bytes of padding before (and after) the input in its buffer. */
  pad?: number;
}

/** Cases of the dnstap target. */
const dnstapCaseArb: fc.Arbitrary<DnstapCase> = dnstapInputArb.map((i) => {
  const c: DnstapCase & { bytes: Uint8Array } = {
    target: "dnstap",
    bytes: i.bytes,
  };
  if (i.canonical) c.canonical = true;
  if (i.pad > 0) c.pad = i.pad;
  return c;
});

// ---------------------------------------------------------------------------
// Checks.

/** A decoded value as plain JSON-able data, keys sorted (bigint as "Nn"). */
function plain(v: unknown): unknown {
  if (v instanceof Uint8Array) return `0x${toHex(v)}`;
  if (typeof v === "bigint") return `${v}n`;
  if (typeof v !== "object" || v === null) return v;
  const o = v as Record<string, unknown>;
  return Object.fromEntries(
    Object.keys(o).sort().map((k) => [k, plain(o[k])]),
  );
}

const same = (a: unknown, b: unknown): boolean =>
  JSON.stringify(plain(a)) === JSON.stringify(plain(b));

const KEYS: Record<string, readonly string[]> = {
  dnstap: ["identity", "version", "extra", "type", "message"],
  message: [
    "type",
    "socketFamily",
    "socketProtocol",
    "queryAddress",
    "responseAddress",
    "queryPort",
    "responsePort",
    "queryTimeSec",
    "queryTimeNsec",
    "queryMessage",
    "queryZone",
    "responseTimeSec",
    "responseTimeNsec",
    "responseMessage",
    "policy",
    "httpProtocol",
  ],
  policy: ["type", "rule", "action", "match", "value"],
};

/**
 * The size of a decoded value's payload (byte fields' and Policy.type's
 * lengths),
 * failing on a key the schema does not have or a byte field that is not a
 * view of `input`.
 */
function payloadSize(
  v: Record<string, unknown>,
  what: string,
  input: Uint8Array,
): number {
  let size = 0;
  for (const [k, x] of Object.entries(v)) {
    if (!KEYS[what]!.includes(k)) {
      fail("invariant", `decodeDnstap: ${what} has an unknown key ${k}`);
    }
    if (x instanceof Uint8Array) {
      const from = x.byteOffset - input.byteOffset;
      if (
        x.buffer !== input.buffer || from < 0 ||
        from + x.length > input.length
      ) {
        fail(
          "invariant",
          `decodeDnstap: ${what}.${k} is not a view of the input`,
        );
      }
      size += x.length;
    } else if (typeof x === "string" && what === "policy") {
      size += x.length; // Policy.type (enum names are shared constants)
    } else if (typeof x === "object" && x !== null) {
      size += payloadSize(x as Record<string, unknown>, k, input);
    }
  }
  return size;
}

/** The input of a case, `pad` bytes into a buffer of 0xff. */
function placed(c: DnstapCase): Uint8Array {
  const bytes = caseInput(c);
  const pad = c.pad ?? 0;
  if (pad === 0) return bytes;
  const buf = new Uint8Array(bytes.length + 2 * pad).fill(0xff);
  buf.set(bytes, pad);
  return buf.subarray(pad, pad + bytes.length);
}

/** decodeDnstap, counting ProtoReader.tag() calls. */
function decodeCounting(bytes: Uint8Array): { value: Dnstap; tags: number } {
  const proto = ProtoReader.prototype;
  const tagOf = Object.getOwnPropertyDescriptor(proto, "tag")!;
  let tags = 0;
  const original = proto.tag;
  proto.tag = function (this: ProtoReader): number {
    tags++;
    return original.call(this);
  };
  try {
    return { value: decodeDnstap(bytes), tags };
  } finally {
    Object.defineProperty(proto, "tag", tagOf);
    if (tags > 2 * bytes.length + 1) {
      fail(
        "hang",
        `decodeDnstap read ${tags} tags in ${bytes.length} bytes, bound ${
          2 * bytes.length + 1
        }`,
      );
    }
  }
}

/** Runs every check of a dnstap case. */
function checkDnstap(c: DnstapCase): void {
  const input = placed(c);
  const at = `(input ${short(input)})`;
  let expected: Record<string, unknown> | ModelError;
  try {
    expected = modelDecode(input);
  } catch (e) {
    if (!(e instanceof ModelError)) throw e;
    expected = e;
  }
  let value: Dnstap;
  try {
    value = decodeCounting(input).value;
  } catch (e) {
    if (!(e instanceof DnstapError) || !(e instanceof SyntaxError)) {
      if (e instanceof FuzzFailure) throw e;
      fail("crash", `decodeDnstap threw ${describeThrown(e)} ${at}`);
    }
    if (e.offset < 0 || e.offset > input.length) {
      fail(
        "invariant",
        `decodeDnstap: error offset ${e.offset} outside the input ${at}`,
      );
    }
    if (!(expected instanceof ModelError)) {
      fail(
        "divergence",
        `decodeDnstap threw where the model decodes: ${e.message} ${at}`,
      );
    }
    if (e.offset !== expected.offset) {
      fail(
        "divergence",
        `decodeDnstap failed at byte ${e.offset}, the model at ${expected.offset}: ${e.message}; model: ${expected.message} ${at}`,
      );
    }
    return;
  }
  if (expected instanceof ModelError) {
    fail(
      "divergence",
      `decodeDnstap decoded where the model fails: ${expected.message} ${at}`,
    );
  }
  if (!same(value, expected)) {
    fail(
      "divergence",
      `decodeDnstap and the model disagree: ${
        JSON.stringify(plain(value))
      } vs ${JSON.stringify(plain(expected))} ${at}`,
    );
  }
  const size = payloadSize(
    value as unknown as Record<string, unknown>,
    "dnstap",
    input,
  );
  if (size > input.length) {
    fail(
      "alloc",
      `decodeDnstap: ${size} bytes of fields from ${input.length} bytes ${at}`,
    );
  }
  // Idempotence: what was decoded encodes, and comes back the same.
  let encoded: Uint8Array;
  try {
    encoded = encodeDnstap(value);
  } catch (e) {
    fail(
      "crash",
      `encodeDnstap rejects a decoded value: ${describeThrown(e)} ${at}`,
    );
  }
  let again: Dnstap;
  try {
    again = decodeDnstap(encoded);
  } catch (e) {
    fail(
      "invariant",
      `decodeDnstap rejects encodeDnstap's output ${short(encoded)}: ${
        describeThrown(e)
      } ${at}`,
    );
  }
  if (!same(again, value)) {
    fail(
      "invariant",
      `decodeDnstap(encodeDnstap(v)) is not v: ${
        JSON.stringify(plain(again))
      } vs ${JSON.stringify(plain(value))} ${at}`,
    );
  }
  if (!bytesEqual(encodeDnstap(again), encoded)) {
    fail(
      "invariant",
      `encodeDnstap is not canonical: ${
        short(encoded)
      } encodes again differently ${at}`,
    );
  }
  if (c.canonical === true && !bytesEqual(encoded, input)) {
    fail(
      "invariant",
      `a canonical input does not round-trip: ${short(input)} came back as ${
        short(encoded)
      }`,
    );
  }
  if (value.message !== undefined) checkTextForms(value.message, at);
  checkRecord(value, at);
}

/**
 * toDnstapRecord: no throw on any decoded value (malformed DNS included),
 * and a result that JSON keeps as it is (no bigint, no bytes, no undefined).
 */
function checkRecord(value: Dnstap, at: string): void {
  let record: DnstapRecord;
  try {
    record = toDnstapRecord(value);
  } catch (e) {
    fail("crash", `toDnstapRecord: ${describeThrown(e)} ${at}`);
  }
  const bad = notJson(record, "record");
  if (bad !== null) {
    fail("invariant", `toDnstapRecord: ${bad} is not plain JSON data ${at}`);
  }
}

/**
 * The path of the first value that is not plain JSON data (undefined, null,
 * bigint, bytes, a non-finite number, a string with a lone surrogate), or
 * null.
 */
function notJson(v: unknown, path: string): string | null {
  if (typeof v === "string") return v.isWellFormed() ? null : path;
  if (typeof v === "boolean") return null;
  if (typeof v === "number") return Number.isFinite(v) ? null : path;
  if (typeof v !== "object" || v === null) return path; // undefined, bigint
  const proto = Object.getPrototypeOf(v);
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const bad = notJson(v[i], `${path}[${i}]`);
      if (bad !== null) return bad;
    }
    return null;
  }
  if (proto !== Object.prototype) return path; // bytes, a class instance
  for (const [k, x] of Object.entries(v)) {
    const bad = notJson(x, `${path}.${k}`);
    if (bad !== null) return bad;
  }
  return null;
}

/**
 * The text forms of a decoded message's addresses and times: no throw but
 * formatDnstapTime's RangeError for nanoseconds of a second or more; an
 * address of 4 or 16 bytes parses back to its bytes; a time agrees with
 * Date's ISO text where Date reaches (years 1970 to 9999).
 */
function checkTextForms(m: DnstapMessage, at: string): void {
  for (const b of [m.queryAddress, m.responseAddress]) {
    if (b === undefined) continue;
    let text: string;
    let back: Uint8Array | null = null;
    try {
      text = formatDnstapAddress(b);
      if (b.length === 4 || b.length === 16) back = parseDnstapAddress(text);
    } catch (e) {
      fail("crash", `address ${short(b)}: ${describeThrown(e)} ${at}`);
    }
    if (back !== null && !bytesEqual(back, b)) {
      fail(
        "invariant",
        `address ${short(b)} prints as ${text}, which parses as ${
          short(back)
        } ${at}`,
      );
    }
  }
  const times: [number | bigint | undefined, number | undefined][] = [
    [m.queryTimeSec, m.queryTimeNsec],
    [m.responseTimeSec, m.responseTimeNsec],
  ];
  for (const [sec, nsec] of times) {
    if (sec === undefined) continue;
    let text: string;
    try {
      text = formatDnstapTime(sec, nsec);
    } catch (e) {
      if (e instanceof RangeError && (nsec ?? 0) > 999_999_999) continue;
      fail(
        "crash",
        `formatDnstapTime(${sec}, ${nsec}): ${describeThrown(e)} ${at}`,
      );
    }
    if (sec < 253_402_300_800) { // 10000-01-01
      const iso = new Date(Number(sec) * 1000).toISOString();
      if (text.slice(0, 19) !== iso.slice(0, 19)) {
        fail(
          "divergence",
          `formatDnstapTime(${sec}) is ${text}, Date says ${iso} ${at}`,
        );
      }
    }
  }
}

/** The dnstap target. */
export const dnstapTarget: FuzzTarget = defineTarget<DnstapCase>({
  name: "dnstap",
  about: "decodeDnstap and encodeDnstap on mutated protobuf",
  arb: dnstapCaseArb,
  sync: true,
  check: checkDnstap,
  // The input, its copy with padding, a few encodings of it; the writer's
  // buffer doubles.
  allowance: (c) => 16 * caseInput(c).length + 4 * MIB,
  minimise: reduceBytes,
});
