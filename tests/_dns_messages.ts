// Hand-built DNS messages for the DNS tests: small builders for wire format
// and a table of messages, valid and malformed, each one comment.

/** Bytes of a wire-format name from its dotted text (no escapes). */
export function wname(text: string): number[] {
  const out: number[] = [];
  for (const label of text.split(".")) {
    if (label === "") continue;
    out.push(label.length, ...new TextEncoder().encode(label));
  }
  out.push(0);
  return out;
}

/** A label of raw bytes (no terminating zero). */
export function label(...bytes: number[]): number[] {
  return [bytes.length, ...bytes];
}

/** A compression pointer to `offset`. */
export function ptr(offset: number): number[] {
  return [0xc0 | (offset >> 8), offset & 0xff];
}

function u16(v: number): number[] {
  return [(v >> 8) & 0xff, v & 0xff];
}

function u32(v: number): number[] {
  return [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
}

/** Header fields; flags is the 16-bit second word. */
export interface Header {
  id?: number;
  flags?: number;
  qd?: number;
  an?: number;
  ns?: number;
  ar?: number;
}

/** A 12-byte header. */
export function header(h: Header): number[] {
  return [
    ...u16(h.id ?? 0x1234),
    ...u16(h.flags ?? 0),
    ...u16(h.qd ?? 0),
    ...u16(h.an ?? 0),
    ...u16(h.ns ?? 0),
    ...u16(h.ar ?? 0),
  ];
}

/** A question. */
export function question(name: number[], type = 1, cls = 1): number[] {
  return [...name, ...u16(type), ...u16(cls)];
}

/** A resource record; rdlength is the rdata's length unless given. */
export function rr(
  name: number[],
  type: number,
  cls: number,
  ttl: number,
  rdata: number[],
  rdlength = rdata.length,
): number[] {
  return [
    ...name,
    ...u16(type),
    ...u16(cls),
    ...u32(ttl),
    ...u16(rdlength),
    ...rdata,
  ];
}

/** One EDNS option: code, then data. */
export function option(code: number, data: number[], len = data.length) {
  return [...u16(code), ...u16(len), ...data];
}

/** An OPT record. */
export function opt(
  options: number[] = [],
  o: {
    udp?: number;
    ext?: number;
    version?: number;
    do?: boolean;
    z?: number;
  } = {},
): number[] {
  const ttl = ((o.ext ?? 0) << 24) + ((o.version ?? 0) << 16) +
    (o.do ? 0x8000 : 0) + (o.z ?? 0);
  return rr([0], 41, o.udp ?? 1232, ttl >>> 0, options);
}

/** A message from parts. */
export function msg(...parts: number[][]): Uint8Array {
  return new Uint8Array(parts.flat());
}

const EX = wname("example.com.");
const QR = 0x8180; // qr rd ra, NOERROR

/**
 * A typical response: one question, two answers with backward pointers, an
 * authority NS, an additional AAAA and an OPT with a cookie.
 */
export const TYPICAL: Uint8Array = msg(
  header({ id: 0xbeef, flags: QR, qd: 1, an: 2, ns: 1, ar: 2 }),
  question(wname("www.example.com."), 1, 1),
  rr(ptr(12), 5, 1, 300, [...label(0x77, 0x65, 0x62), ...ptr(16)]),
  rr(ptr(33), 1, 1, 60, [192, 0, 2, 1]),
  rr(ptr(16), 2, 1, 86400, [...label(0x6e, 0x73), ...ptr(16)]),
  rr(ptr(79), 28, 1, 86400, [
    0x20,
    1,
    0x0d,
    0xb8,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    1,
  ]),
  opt(option(10, [1, 2, 3, 4, 5, 6, 7, 8]), { udp: 1232, do: true }),
);

/** The table: name → message. */
export const CASES: Record<string, Uint8Array> = {
  // a plain query with rd
  "query": msg(header({ flags: 0x0100, qd: 1 }), question(EX, 1, 1)),
  "typical response": TYPICAL,
  // header only: counts are ignored when the message ends after the header
  "header only, counts lie": msg(header({ flags: 0x8183, qd: 1, an: 3 })),
  // empty message and a cut header
  "empty": msg(),
  "11 bytes": msg(header({}).slice(0, 11)),
  "1 byte": msg([7]),
  // every flag and z
  "all flags": msg(header({ flags: 0xffff, qd: 1 }), question(EX)),
  // unknown opcode 3 and 15, unknown rcode 11, 15
  "opcode 3 rcode 11": msg(header({ flags: 0x180b, qd: 1 }), question(EX)),
  "opcode 15 rcode 15": msg(header({ flags: 0x7f8f, qd: 1 }), question(EX)),
  // NOTIFY and UPDATE
  "notify": msg(header({ flags: 0x2400, qd: 1 }), question(EX, 6)),
  "update": msg(
    header({ flags: 0x2800, qd: 1, ns: 2 }),
    question(EX, 6),
    rr(ptr(12), 1, 255, 0, []),
    rr(ptr(12), 1, 254, 0, [10, 0, 0, 1]),
  ),
  // unknown type and classes
  "unknown type 65280 class 77": msg(
    header({ flags: QR, qd: 1, an: 1 }),
    question(EX, 65280, 77),
    rr(ptr(12), 65280, 77, 5, [0xde, 0xad, 0xbe, 0xef]),
  ),
  "unknown type empty rdata": msg(
    header({ flags: QR, qd: 1, an: 1 }),
    question(EX, 11, 3),
    rr(ptr(12), 11, 3, 5, []),
  ),
  "classes CH HS NONE ANY CS 0": msg(
    header({ flags: QR, qd: 6 }),
    question(EX, 16, 3),
    question(ptr(12), 16, 4),
    question(ptr(12), 16, 254),
    question(ptr(12), 255, 255),
    question(ptr(12), 0, 2),
    question(ptr(12), 32769, 0),
  ),
  // no question at all
  "no question": msg(
    header({ flags: QR, an: 1 }),
    rr(EX, 1, 1, 1, [1, 2, 3, 4]),
  ),
  // a forward pointer
  "forward pointer": msg(
    header({ flags: QR, qd: 1, an: 1 }),
    question(ptr(18), 1, 1),
    rr(wname("fwd.example."), 1, 1, 7, [9, 9, 9, 9]),
  ),
  // pointer loops
  "pointer to itself": msg(header({ qd: 1 }), question(ptr(12))),
  "pointer loop of two": msg(
    header({ qd: 2 }),
    question(ptr(18)),
    question(ptr(12)),
  ),
  // pointer past the end
  "pointer past the end": msg(header({ qd: 1 }), question(ptr(400))),
  // a pointer's second byte missing
  "cut pointer": msg(header({ qd: 1 }), [0xc0]),
  // reserved label types
  "label type 0x40": msg(header({ qd: 1 }), [0x41, 0x61, 0], [0, 1, 0, 1]),
  "label type 0x80": msg(header({ qd: 1 }), [0x81, 0x61, 0], [0, 1, 0, 1]),
  // a name over 255 octets
  "name 256 octets": msg(
    header({ qd: 1 }),
    ...Array.from({ length: 4 }, () => label(...new Array(63).fill(0x61))),
    [0],
    [0, 1, 0, 1],
  ),
  "name 255 octets": msg(
    header({ qd: 1 }),
    ...Array.from({ length: 3 }, () => label(...new Array(63).fill(0x61))),
    label(...new Array(61).fill(0x62)),
    [0],
    [0, 1, 0, 1],
  ),
  // escaping: dot, space, backslash, quote, specials, bytes < 0x20, > 0x7e
  "escapes": msg(
    header({ flags: QR, qd: 1, an: 1 }),
    question(
      [
        ...label(0x61, 0x2e, 0x62),
        ...label(0x20, 0x5c, 0x22, 0x27, 0x40, 0x3b, 0x28, 0x29),
        ...label(0x00, 0x1f, 0x7f, 0x80, 0xff, 0x7e, 0x2d),
        0,
      ],
      1,
      1,
    ),
    rr(ptr(12), 5, 1, 0, ptr(12)),
  ),
  // a label "\123" spelled with a backslash and digits
  "backslash digits": msg(
    header({ qd: 1 }),
    question([...label(0x5c, 0x31, 0x32, 0x33), ...label(0x01, 0x32), 0]),
  ),
  // counts too high: sections stop at the end of the message
  "ancount too high": msg(
    header({ flags: QR, qd: 1, an: 5 }),
    question(EX),
    rr(ptr(12), 1, 1, 1, [1, 1, 1, 1]),
  ),
  "arcount too high after ns": msg(
    header({ flags: QR, qd: 1, ns: 1, ar: 9 }),
    question(EX),
    rr(ptr(12), 2, 1, 1, ptr(12)),
  ),
  // qdcount too high: the next question reads past the end
  "qdcount too high": msg(header({ qd: 2 }), question(EX)),
  // counts too low: the rest is ignored
  "counts too low": msg(
    header({ flags: QR, qd: 1, an: 1 }),
    question(EX),
    rr(ptr(12), 1, 1, 1, [1, 1, 1, 1]),
    rr(ptr(12), 1, 1, 1, [2, 2, 2, 2]),
  ),
  // trailing garbage
  "trailing garbage": msg(
    header({ qd: 1 }),
    question(EX),
    [0xff, 0xff, 0xff],
  ),
  // question cut after the name, after the type, one byte into the class
  "question ends after name": msg(header({ qd: 1 }), EX),
  "question ends after type": msg(header({ qd: 1 }), EX, [0, 28]),
  "question ends in type": msg(header({ qd: 1 }), EX, [0]),
  "question ends in class": msg(header({ qd: 1 }), EX, [0, 28, 0]),
  // rdlength past the end, rdata shorter and longer than its type
  "rdlength past the end": msg(
    header({ flags: QR, qd: 1, an: 1 }),
    question(EX),
    rr(ptr(12), 1, 1, 1, [1, 2, 3, 4], 9),
  ),
  "A with 3 bytes": msg(
    header({ flags: QR, qd: 1, an: 1 }),
    question(EX),
    rr(ptr(12), 1, 1, 1, [1, 2, 3]),
  ),
  "A with 5 bytes": msg(
    header({ flags: QR, qd: 1, an: 1 }),
    question(EX),
    rr(ptr(12), 1, 1, 1, [1, 2, 3, 4, 5]),
  ),
  "A empty rdata": msg(
    header({ flags: QR, qd: 1, an: 1 }),
    question(EX),
    rr(ptr(12), 1, 1, 1, []),
  ),
  // an rdata name pointing past the rdata end (miekg cuts the message there)
  "CNAME pointing past its rdata": msg(
    header({ flags: QR, qd: 1, an: 2 }),
    question(EX),
    rr(ptr(12), 5, 1, 1, ptr(43)),
    rr(wname("x."), 1, 1, 1, [1, 2, 3, 4]),
  ),
  // TTL with the top bit set
  "ttl 2^32-1": msg(
    header({ flags: QR, qd: 1, an: 1 }),
    question(EX),
    rr(ptr(12), 28, 1, 0xffffffff, [
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0xff,
      0xff,
      10,
      0,
      0,
      1,
    ]),
  ),
  // a record header cut in its TTL
  "record cut in ttl": msg(
    header({ flags: QR, qd: 1, an: 1 }),
    question(EX),
    ptr(12),
    [0, 1, 0, 1, 0, 0],
  ),
  // EDNS: plain, DO, version, extended rcode (BADVERS = 16, BADCOOKIE 23)
  "edns plain": msg(header({ qd: 1, ar: 1 }), question(EX), opt()),
  "edns do version 1 z": msg(
    header({ qd: 1, ar: 1 }),
    question(EX),
    opt([], { do: true, version: 1, z: 0x1234, udp: 512 }),
  ),
  "extended rcode BADVERS": msg(
    header({ flags: 0x8100, qd: 1, ar: 1 }),
    question(EX),
    opt([], { ext: 1 }),
  ),
  "extended rcode BADCOOKIE": msg(
    header({ flags: 0x8107, qd: 1, ar: 1 }),
    question(EX),
    opt([], { ext: 1 }),
  ),
  "extended rcode unknown": msg(
    header({ flags: 0x8103, qd: 1, ar: 1 }),
    question(EX),
    opt([], { ext: 0xff }),
  ),
  // OPT with an additional record, two OPTs, OPT alone twice
  "opt and A in additional": msg(
    header({ flags: QR, qd: 1, ar: 2 }),
    question(EX),
    opt(option(3, [])),
    rr(ptr(12), 1, 1, 1, [1, 2, 3, 4]),
  ),
  "two opts": msg(
    header({ flags: QR, qd: 1, ar: 2 }),
    question(EX),
    opt([], { udp: 4096 }),
    opt([], { udp: 512, ext: 1 }),
  ),
  // OPT in the answer and authority sections
  "opt in answer": msg(
    header({ flags: QR, qd: 1, an: 1, ns: 1 }),
    question(EX),
    opt(option(10, [1, 2, 3, 4, 5, 6, 7, 8])),
    opt(option(3, [0x41])),
  ),
  // each option type, valid
  "options valid": msg(
    header({ flags: QR, qd: 1, ar: 1 }),
    question(EX),
    opt([
      ...option(1, [
        0,
        1,
        0,
        2,
        0,
        3,
        0xff,
        0xff,
        0xff,
        0xff,
        0xff,
        0xff,
        0xff,
        0xfe,
        0,
        0,
        1,
        0,
      ]),
      ...option(2, [0, 0, 0, 120]),
      ...option(2, [0, 0, 0, 120, 0, 0, 1, 0]),
      ...option(3, [0x6e, 0x73, 0x31, 0x00, 0xff, 0x0a]),
      ...option(3, []),
      ...option(4, [0x73, 0x69, 0x70, 0x3a, 0xc3, 0xa9, 0xff]),
      ...option(5, [8, 13, 99, 253]),
      ...option(6, [1, 2, 9]),
      ...option(7, [1, 6]),
      ...option(8, [0, 1, 24, 0, 192, 0, 2]),
      ...option(8, [0, 1, 32, 32, 192, 0, 2, 1, 9, 9]),
      ...option(8, [0, 2, 56, 0, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0]),
      ...option(8, [
        0,
        2,
        128,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0xff,
        0xff,
        1,
        2,
        3,
        4,
      ]),
      ...option(8, [0, 0, 0, 0]),
      ...option(9, []),
      ...option(9, [0, 0, 0x0e, 0x10]),
      ...option(10, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]),
      ...option(11, []),
      ...option(11, [0, 0]),
      ...option(11, [0x02, 0x8f]),
      ...option(11, [0xff, 0xff]),
      ...option(12, [0, 0, 0xab]),
      ...option(12, []),
      ...option(15, [0, 18]),
      ...option(15, [0, 6, 0x62, 0x61, 0x64, 0x20, 0xe2, 0x82]),
      ...option(15, [0, 99, 0x78]),
      ...option(0, [1]),
      ...option(13, [2]),
      ...option(65001, [0xab, 0xcd]),
    ]),
  ),
  // each option type, malformed
  "LLQ 17 bytes": ednsWith(option(1, new Array(17).fill(0))),
  "UL 5 bytes": ednsWith(option(2, [0, 0, 0, 0, 0])),
  "SUBNET 3 bytes": ednsWith(option(8, [0, 1, 0])),
  "SUBNET family 3": ednsWith(option(8, [0, 3, 0, 0])),
  "SUBNET family 0 mask 1": ednsWith(option(8, [0, 0, 1, 0])),
  "SUBNET v4 mask 33": ednsWith(option(8, [0, 1, 33, 0])),
  "SUBNET v4 scope 33": ednsWith(option(8, [0, 1, 0, 33])),
  "SUBNET v6 mask 129": ednsWith(option(8, [0, 2, 129, 0])),
  "EXPIRE 2 bytes": ednsWith(option(9, [0, 1])),
  "KEEPALIVE 1 byte": ednsWith(option(11, [1])),
  "KEEPALIVE 3 bytes": ednsWith(option(11, [1, 2, 3])),
  "EDE 1 byte": ednsWith(option(15, [0])),
  "option length past rdata": ednsWith(option(10, [1, 2], 3)),
  "option header cut": ednsWith([0, 10, 0]),
};

function ednsWith(options: number[]): Uint8Array {
  return msg(header({ flags: QR, qd: 1, ar: 1 }), question(EX), opt(options));
}

/** A deterministic PRNG (mulberry32): the same seed, the same sequence. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A mutation of a message: bytes set at random, pointers written, counts
 * changed, the message cut or extended; one to three of them.
 *
 * @param base The message to mutate (not changed).
 * @param rand A PRNG from {@linkcode prng}.
 */
export function mutate(base: Uint8Array, rand: () => number): Uint8Array {
  let m = Uint8Array.from(base);
  const int = (n: number) => Math.floor(rand() * n);
  const steps = 1 + int(3);
  for (let s = 0; s < steps; s++) {
    const at = int(Math.max(m.length, 1));
    switch (int(7)) {
      case 0: // one random byte
      case 1:
        if (m.length > 0) m[at] = int(256);
        break;
      case 2: // a compression pointer anywhere, to anywhere
        if (m.length > 1) {
          const to = int(m.length + 8);
          m[Math.min(at, m.length - 2)] = 0xc0 | (to >> 8);
          m[Math.min(at, m.length - 2) + 1] = to & 0xff;
        }
        break;
      case 3: // a count
        if (m.length >= 12) m[5 + 2 * int(4)] = int(6);
        break;
      case 4: // cut
        m = m.slice(0, at);
        break;
      case 5: // trailing bytes
        m = Uint8Array.from([
          ...m,
          ...Array.from({ length: 1 + int(6) }, () => int(256)),
        ]);
        break;
      case 6: // a length or label byte made small
        if (m.length > 0) m[at] = int(8);
        break;
    }
  }
  return m;
}
