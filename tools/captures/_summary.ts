// What a capture holds, counted: frames per message type, DNS messages,
// and the RR types in them. make.ts writes these into
// tests/data/dnstap/README.md; tests/dnstap_captures_test.ts recounts them
// and compares. The RR walk is deliberately tiny (header counts, names
// skipped label by label, TYPE and RDLENGTH read) so that it does not depend
// on the DNS parser it helps to test.
import { decodeFrames } from "../../mod.ts";
import { decodeDnstap } from "../../src/dnstap.ts";
import { typeName } from "../../src/_dns_names.ts";

/** One capture, counted. */
export interface CaptureSummary {
  /** Data frames. */
  frames: number;
  /** Control frames, by name, in file order (START, STOP). */
  controls: string[];
  /** Data frames per dnstap message type, in order of first appearance. */
  types: Record<string, number>;
  /** Query messages (query_message present). */
  queryMessages: number;
  /** Response messages (response_message present). */
  responseMessages: number;
  /** The largest data frame, bytes. */
  largestFrame: number;
  /** RR types found in the answer, authority and additional sections. */
  rrTypes: string[];
  /** Distinct identity and version strings. */
  identities: string[];
}

const CONTROL_NAMES: Record<number, string> = {
  1: "ACCEPT",
  2: "START",
  3: "STOP",
  4: "READY",
  5: "FINISH",
};

/** Skips a (possibly compressed) name; returns the offset after it. */
function skipName(msg: Uint8Array, off: number): number {
  for (;;) {
    const len = msg[off];
    if (len === undefined) throw new RangeError("name past the end");
    if (len === 0) return off + 1;
    if ((len & 0xc0) === 0xc0) return off + 2;
    off += 1 + len;
  }
}

/** The RR types of a DNS message's answer, authority and additional. */
export function recordTypes(msg: Uint8Array): number[] {
  const view = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
  if (msg.length < 12) return [];
  const qd = view.getUint16(4);
  const rrs = view.getUint16(6) + view.getUint16(8) + view.getUint16(10);
  let off = 12;
  const out: number[] = [];
  try {
    for (let i = 0; i < qd; i++) off = skipName(msg, off) + 4;
    for (let i = 0; i < rrs; i++) {
      off = skipName(msg, off);
      if (off + 10 > msg.length) break;
      out.push(view.getUint16(off));
      off += 10 + view.getUint16(off + 8);
    }
  } catch {
    // A cut message: what was read so far.
  }
  return out;
}

/** Counts one Frame Streams file of dnstap. */
export function summarize(bytes: Uint8Array): CaptureSummary {
  const s: CaptureSummary = {
    frames: 0,
    controls: [],
    types: {},
    queryMessages: 0,
    responseMessages: 0,
    largestFrame: 0,
    rrTypes: [],
    identities: [],
  };
  const rr = new Set<number>();
  const ids = new Set<string>();
  const text = new TextDecoder();
  for (const frame of decodeFrames(bytes)) {
    if (frame.kind === "control") {
      s.controls.push(CONTROL_NAMES[frame.type] ?? `${frame.type}`);
      continue;
    }
    s.frames++;
    s.largestFrame = Math.max(s.largestFrame, frame.data.length);
    const d = decodeDnstap(frame.data);
    if (d.identity) ids.add(`identity ${text.decode(d.identity)}`);
    if (d.version) ids.add(`version ${text.decode(d.version)}`);
    const m = d.message;
    const type = String(m?.type ?? "none");
    s.types[type] = (s.types[type] ?? 0) + 1;
    if (m?.queryMessage) s.queryMessages++;
    if (m?.responseMessage) {
      s.responseMessages++;
      for (const t of recordTypes(m.responseMessage)) rr.add(t);
    }
  }
  s.rrTypes = [...rr].sort((a, b) => a - b).map(typeName);
  s.identities = [...ids].sort();
  return s;
}
