// Private: the quiet scan fuzz target (`fstrm dnstap -q` on runs of frames).
// A case is a dnstap record's bytes (decodeDnstap's fuzz inputs), or a DNS
// message (the dns-message target's inputs, mutated) carried in a client
// response, with a second chosen at random. The record goes into a run
// twice, inside a padded window. The checks:
//
// - the WebAssembly engine and its TypeScript twin agree call by call: the
//   same status, position reached, output length and line count, the same
//   output bytes, the same second asked for; neither throws;
// - through quietRun (clocks set as asked, the object path taking what the
//   scan leaves), each engine writes exactly formatDnstapQuiet of
//   decodeDnstap, twice (nothing for a record that does not decode or
//   that Go does not print);
// - every line fits QUIET_LINE_MAX bytes.
import fc from "fast-check";
import {
  decodeDnstap,
  encodeDnstap,
  formatDnstapQuiet,
} from "../src/dnstap.ts";
import {
  type QuietEngine,
  quietRun,
  TsQuietEngine,
  WasmQuietEngine,
} from "../src/_dnstap_quiet_engine.ts";
import { QUIET_LINE_MAX } from "../src/_dnstap_quiet_fast.ts";
import {
  QS_FALLBACK,
  QS_NEED_CLOCK,
  QS_OUT_FULL,
} from "../src/_dnstap_quiet_tables.ts";
import { goLocalClock } from "../src/_go_time.ts";
import { describeThrown, fail, short } from "./_assert.ts";
import { caseInput, type FuzzCase, type InputSpelling } from "./_case.ts";
import { dnstapInputArb } from "./_check_dnstap_arbs.ts";
import { dnsBytesArb } from "./_check_dns_message_arbs.ts";
import { reduceBytes } from "./_minimise.ts";
import { defineTarget, type FuzzTarget, MIB } from "./_target.ts";

/** A record (or a DNS message to wrap in one) for the quiet scan. */
export interface DnstapQuietCase extends FuzzCase, InputSpelling {
  target: "dnstap-quiet";
  /** The input is a DNS message: wrap it in a CLIENT_RESPONSE. */
  dns?: boolean;
  /** The response's second, when wrapping. */
  sec?: number;
}

const caseArb: fc.Arbitrary<DnstapQuietCase> = fc.oneof(
  dnstapInputArb.map((i): DnstapQuietCase => ({
    target: "dnstap-quiet",
    bytes: i.bytes,
  })),
  fc.tuple(dnsBytesArb, fc.integer({ min: 0, max: 2 ** 40 })).map((
    [bytes, sec],
  ): DnstapQuietCase => ({ target: "dnstap-quiet", bytes, dns: true, sec })),
);

/** The record of a case. */
function recordOf(c: DnstapQuietCase): Uint8Array {
  const input = caseInput(c);
  if (c.dns !== true) return input;
  return encodeDnstap({
    type: "MESSAGE",
    message: {
      type: "CLIENT_RESPONSE",
      socketProtocol: "UDP",
      queryAddress: new Uint8Array([192, 0, 2, 1]),
      responseTimeSec: c.sec ?? 0,
      responseTimeNsec: 123_456_789,
      responseMessage: input,
    },
  });
}

const TEXT = new TextDecoder();
let engines: [QuietEngine, QuietEngine] | null = null;

function checkQuiet(c: DnstapQuietCase): void {
  const record = recordOf(c);
  // The record twice, in a window with 3 bytes either side.
  const window = new Uint8Array(3 + 2 * (4 + record.length) + 3).fill(0xee);
  for (const at of [3, 3 + 4 + record.length]) {
    new DataView(window.buffer).setUint32(at, record.length);
    window.set(record, at + 4);
  }
  const from = 3;
  const to = window.length - 3;
  engines ??= [new TsQuietEngine(), new WasmQuietEngine()];
  const [ts, wasm] = engines;
  const input = short(record);
  try {
    ts.load(window, from, to);
    wasm.load(window, from, to);
    let pos = from;
    for (let calls = 0; pos < to; calls++) {
      if (calls > 8) fail("hang", `the scan makes no progress on ${input}`);
      const a = ts.scan(pos, Infinity);
      const b = wasm.scan(pos, Infinity);
      const ra = Array.from(ts.results.subarray(0, 3));
      const rb = Array.from(wasm.results.subarray(0, 3));
      if (
        a !== b || ra.join() !== rb.join() ||
        (a === QS_NEED_CLOCK && ts.results[3] !== wasm.results[3])
      ) {
        fail(
          "divergence",
          `ts: ${a} [${ra}], wasm: ${b} [${rb}] at ${pos} on ${input}`,
        );
      }
      const oa = TEXT.decode(ts.output());
      const ob = TEXT.decode(wasm.output());
      if (oa !== ob) {
        fail("divergence", `ts wrote ${oa}, wasm ${ob} on ${input}`);
      }
      pos = ts.results[0]!;
      if (a === QS_NEED_CLOCK) {
        const sec = ts.results[3]!;
        ts.setClock(sec, goLocalClock(sec));
        wasm.setClock(sec, goLocalClock(sec));
      } else if (a === QS_FALLBACK) {
        pos += 4 + new DataView(window.buffer).getUint32(pos);
      } else if (a !== QS_OUT_FULL) break;
    }
  } catch (e) {
    if (e instanceof Error && e.name === "FuzzFailure") throw e;
    fail("crash", `the quiet scan threw ${describeThrown(e)} on ${input}`);
  }
  let expected: string | null;
  try {
    expected = formatDnstapQuiet(decodeDnstap(record));
  } catch {
    expected = null;
  }
  for (const engine of engines) {
    let text = "";
    quietRun(engine, window, from, to, Infinity, {
      lines(bytes) {
        text += TEXT.decode(bytes);
      },
      fallback(w, offset, length) {
        let line: string | null;
        try {
          line = formatDnstapQuiet(
            decodeDnstap(w.subarray(offset, offset + length)),
          );
        } catch {
          line = null;
        }
        if (line !== null) text += line;
        return line !== null;
      },
    });
    const want = expected === null ? "" : expected + expected;
    if (text !== want) {
      fail(
        "divergence",
        `${engine.name}: ${JSON.stringify(text)}, formatDnstapQuiet: ${
          JSON.stringify(want)
        } on ${input}`,
      );
    }
    for (const line of text.split("\n")) {
      if (line.length + 1 > QUIET_LINE_MAX) {
        fail("invariant", `a line of ${line.length + 1} bytes on ${input}`);
      }
    }
  }
}

/** The quiet scan target. */
export const dnstapQuietTarget: FuzzTarget = defineTarget<DnstapQuietCase>({
  name: "dnstap-quiet",
  about: "the -q quiet scan, WebAssembly against TypeScript and the objects",
  arb: caseArb,
  sync: true,
  check: checkQuiet,
  // The run, the engines' memory (a run grows the WebAssembly input), the
  // object path's copies.
  allowance: (c) => 16 * caseInput(c).length + 8 * MIB,
  minimise: reduceBytes,
});
