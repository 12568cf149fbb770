// PLACEHOLDER: replaced by the dnscore branch
/**
 * DNS messages as miekg/dns 1.1.50 prints them (`Msg.Unpack` then
 * `Msg.String()`). Placeholder: header and question only; messages with
 * records are beyond it.
 *
 * @module
 */
import { className, opcodeName, rcodeName, typeName } from "./_dns_names.ts";
import { DnsMessageError, readName, readU16, WireCursor } from "./_dns_wire.ts";

interface Parsed {
  id: number;
  flags: number;
  questions: [string, number, number][];
}

function unpack(msg: Uint8Array): Parsed {
  const cur = new WireCursor();
  cur.end = msg.length;
  const id = readU16(msg, cur);
  const flags = readU16(msg, cur);
  const qd = readU16(msg, cur);
  const an = readU16(msg, cur);
  const ns = readU16(msg, cur);
  const ar = readU16(msg, cur);
  const questions: [string, number, number][] = [];
  if (cur.off === msg.length) return { id, flags, questions };
  for (let i = 0; i < qd; i++) {
    const at = cur.off;
    const name = readName(msg, cur);
    let type = 0;
    let cls = 0;
    if (cur.off !== msg.length) {
      type = readU16(msg, cur);
      if (cur.off !== msg.length) cls = readU16(msg, cur);
    }
    if (cur.off === at) break;
    questions.push([name, type, cls]);
  }
  if ((an | ns | ar) !== 0 && cur.off < msg.length) {
    throw new DnsMessageError(cur.off, "placeholder: records not supported");
  }
  return { id, flags, questions };
}

/**
 * miekg/dns `Msg.Unpack` then `Msg.String()`.
 *
 * @param msg The DNS message.
 * @returns Its text.
 */
export function dnsMessageText(msg: Uint8Array): string {
  const { id, flags, questions } = unpack(msg);
  let s = ";; opcode: " + opcodeName((flags >> 11) & 15) + ", status: " +
    rcodeName(flags & 15) + ", id: " + id + "\n;; flags:";
  if (flags & 0x8000) s += " qr";
  if (flags & 0x0400) s += " aa";
  if (flags & 0x0200) s += " tc";
  if (flags & 0x0100) s += " rd";
  if (flags & 0x0080) s += " ra";
  if (flags & 0x0040) s += " z";
  if (flags & 0x0020) s += " ad";
  if (flags & 0x0010) s += " cd";
  s += "; QUERY: " + questions.length +
    ", ANSWER: 0, AUTHORITY: 0, ADDITIONAL: 0\n";
  if (questions.length > 0) {
    s += "\n;; QUESTION SECTION:\n";
    for (const [name, type, cls] of questions) {
      s += ";" + name + "\t" + className(cls) + "\t " + typeName(type) + "\n";
    }
  }
  return s;
}

/**
 * For the Go quiet format: `"name" CLASS TYPE` of the first question, or
 * null when unpacking fails or there is no question.
 *
 * @param msg The DNS message.
 * @returns The text or null.
 */
export function quietQuestion(msg: Uint8Array): string | null {
  let p: Parsed;
  try {
    p = unpack(msg);
  } catch (e) {
    if (e instanceof DnsMessageError) return null;
    throw e;
  }
  const q = p.questions[0];
  if (q === undefined) return null;
  return '"' + q[0] + '" ' + className(q[2]) + " " + typeName(q[1]);
}
