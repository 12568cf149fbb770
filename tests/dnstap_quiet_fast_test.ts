// The quiet line written straight from the bytes (the path `fstrm dnstap
// -q` takes) against the object path it stands for, formatDnstapQuiet of
// decodeDnstap: the same bytes on every record of the four real-server
// captures, on random records, and on mutated ones (protobuf and DNS
// bytes), or a fallback to the object path.
import assert from "node:assert/strict";
import fc from "fast-check";
import { decodeFrames } from "../mod.ts";
import {
  decodeDnstap,
  encodeDnstap,
  formatDnstapQuiet,
} from "../src/dnstap.ts";
import {
  QUIET_FALLBACK,
  QUIET_LINE_MAX,
  quietLineInto,
} from "../src/_dnstap_quiet_fast.ts";
import { dnstapArb } from "./_dnstap_arbitrary.ts";
import { mutate, prng, randomMessage } from "./_dns_random.ts";

const TEXT = new TextDecoder();

/** The object path: the line, or null (malformed, or Go prints nothing). */
function slow(bytes: Uint8Array): string | null {
  try {
    return formatDnstapQuiet(decodeDnstap(bytes));
  } catch {
    return null;
  }
}

/** The fast path at an offset inside a larger buffer, or null (fallback). */
function fast(bytes: Uint8Array): string | null {
  const padded = new Uint8Array(bytes.length + 7);
  padded.set(bytes, 3);
  const out = new Uint8Array(QUIET_LINE_MAX + 5).fill(0x7e);
  const end = quietLineInto(padded, 3, 3 + bytes.length, out, 5);
  if (end === QUIET_FALLBACK) return null;
  assert.ok(end > 5 && end - 5 <= QUIET_LINE_MAX);
  return TEXT.decode(out.subarray(5, end));
}

/** Checks one record; returns whether the fast path printed it. */
function check(bytes: Uint8Array): boolean {
  const f = fast(bytes);
  if (f === null) return false;
  assert.equal(f, slow(bytes), `record ${Array.from(bytes).join(",")}`);
  return true;
}

const CAPTURES = ["knot", "bind", "unbound", "dnsdist"];

async function captureRecords(name: string): Promise<Uint8Array[]> {
  const file = await Deno.readFile(
    new URL(`./data/dnstap/${name}.fstrm`, import.meta.url),
  );
  return [...decodeFrames(file)].flatMap((f) =>
    f.kind === "data" ? [f.data] : []
  );
}

for (const name of CAPTURES) {
  Deno.test(`quietLineInto equals formatDnstapQuiet on every ${name} capture record`, async () => {
    const records = await captureRecords(name);
    let printed = 0;
    for (const r of records) if (check(r)) printed++;
    // Every real-server record takes the fast path (escaped names too).
    assert.equal(printed, records.length);
  });
}

Deno.test("quietLineInto equals formatDnstapQuiet on random records, or falls back", () => {
  let printed = 0;
  fc.assert(
    fc.property(
      dnstapArb(
        fc.oneof(
          fc.uint8Array({ maxLength: 40 }),
          fc.integer({ min: 1, max: 2 ** 31 }).map((s) =>
            randomMessage(prng(s))
          ),
        ),
      ),
      (d) => {
        if (check(encodeDnstap(d))) printed++;
      },
    ),
    { numRuns: 3000 },
  );
  assert.ok(printed > 50, `only ${printed} took the fast path`);
});

Deno.test("quietLineInto equals formatDnstapQuiet on mutated capture records", async () => {
  const records = (await Promise.all(CAPTURES.map(captureRecords))).flat();
  const rand = prng(13);
  let printed = 0;
  let x = 0;
  for (let i = 0; i < 20_000; i++) {
    const base = records[Math.floor(rand() * records.length)]!;
    const d = decodeDnstap(base);
    let bytes: Uint8Array;
    if (i % 2 === 0 && d.message !== undefined) {
      // The DNS message mutated, the protobuf intact.
      const m = d.message;
      if (m.queryMessage) m.queryMessage = mutate(m.queryMessage, rand);
      if (m.responseMessage) {
        m.responseMessage = mutate(m.responseMessage, rand);
      }
      bytes = encodeDnstap(d);
    } else {
      // The protobuf bytes mutated (some fall back, some are malformed).
      bytes = mutate(base, rand);
    }
    if (check(bytes)) {
      printed++;
      if (fast(bytes)!.endsWith(" X \n")) x++;
    }
  }
  assert.ok(printed > 10_000, `only ${printed} took the fast path`);
  assert.ok(x > 1000, `only ${x} lines with X`);
});

Deno.test("quietLineInto falls back on a record it does not handle", () => {
  const base = {
    type: "MESSAGE" as const,
    message: { type: "CLIENT_QUERY" as const },
  };
  // Handled: no address, no time, no message.
  assert.equal(
    fast(encodeDnstap(base)),
    "??:??:??.?????? CQ MISSING_ADDRESS  0b X \n",
  );
  // A question name with escapes, the root: handled.
  const q = (name: number[]) =>
    encodeDnstap({
      type: "MESSAGE",
      message: {
        type: "CLIENT_QUERY",
        queryMessage: new Uint8Array([
          ...[0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0],
          ...name,
          ...[0, 16, 0, 1],
        ]),
      },
    });
  // a . space 0x80 " in one label, a backslash in the next
  assert.equal(
    fast(q([5, 0x61, 0x2e, 0x20, 0x80, 0x22, 1, 0x5c, 0])),
    String
      .raw`??:??:??.?????? CQ MISSING_ADDRESS  25b "a\.\ \128\".\\." IN TXT` +
      "\n",
  );
  assert.equal(
    fast(q([0])),
    '??:??:??.?????? CQ MISSING_ADDRESS  17b "." IN TXT\n',
  );
  // A STUB type, an address of 5 bytes, a policy, not MESSAGE: fallback.
  for (
    const d of [
      { type: "MESSAGE", message: { type: "STUB_QUERY" } },
      {
        type: "MESSAGE",
        message: { type: "CLIENT_QUERY", queryAddress: new Uint8Array(5) },
      },
      {
        type: "MESSAGE",
        message: { type: "CLIENT_QUERY", policy: { rule: new Uint8Array(1) } },
      },
      { type: 2 },
    ] as const
  ) {
    assert.equal(fast(encodeDnstap(d)), null, JSON.stringify(d));
  }
});
