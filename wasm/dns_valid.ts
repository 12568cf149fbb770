// The miekg/dns `Msg.Unpack` validity walk of the WebAssembly quiet scan
// (wasm/dnstap_quiet.ts): a DNS message's questions and records checked as
// skipQuestion and skipRecord of src/_dns_record.ts check them (rdata as
// rdataValid of src/_dns_rdata_valid.ts, from the schemas it writes into
// the tables), without text; the scan's TypeScript twin calls those.
// Positions are memory addresses; a function that checks returns where it
// stopped, or 0 when the message does not unpack (never an address of the
// input).

/** u32 scratch for rdata field values (16 of them). */
const VALS: u32 = 128;
/**
 * The rdata schemas: per type below 260, a count then the field kinds
 * (at TABLES + 10688 of wasm/dnstap_quiet.ts).
 */
const SCHEMAS: u32 = 65536 + 10688;

// Rdata field kinds (as src/_dns_rdata_valid.ts).
const U8: u32 = 1;
const U16: u32 = 2;
const U32: u32 = 4;
const U48: u32 = 6;
const U64: u32 = 8;
const NAME: u32 = 10;
const STR: u32 = 11;
const A4: u32 = 12;
const A16: u32 = 13;
const REST: u32 = 20;
const SIZED_PREV: u32 = 21;
const SIZED_2BACK: u32 = 22;
const TXT: u32 = 23;
const BITMAP: u32 = 24;
const NAMES: u32 = 25;
const APL: u32 = 26;
const SVCB: u32 = 27;

/** The message's address (pointers count from it). */
let MB: u32 = 0;
/** The first question name's labels' wire length (its bytes less the 0). */
let QNAME_WIRE: u32 = 0;

/**
 * Starts on the message at `mb`, whose first question's name (labels in
 * place, checked) has `qnameWire` octets of labels.
 */
export function beginMessage(mb: u32, qnameWire: u32): void {
  MB = mb;
  QNAME_WIRE = qnameWire;
}

/** A big-endian u16 at an address. */
@inline
export function be16(a: u32): u32 {
  return (<u32>load<u8>(a) << 8) | <u32>load<u8>(a + 1);
}

/** Skips a name as readName reads it, up to `end`; pointers from MB. */
function skipName(off: u32, end: u32): u32 {
  const base = MB;
  let next: u32 = 0;
  let wire: u32 = 0;
  let pointers: u32 = 0;
  for (;;) {
    if (off >= end) return 0;
    const c = <u32>load<u8>(off++);
    if (c < 0x40) {
      if (c == 0) break;
      if (off + c > end) return 0;
      wire += c + 1;
      if (wire >= 255) return 0;
      off += c;
    } else if (c >= 0xc0) {
      if (off >= end) return 0;
      const c1 = <u32>load<u8>(off++);
      if (next == 0) next = off;
      if (++pointers > 126) return 0;
      const to = base + (((c & 0x3f) << 8) | c1);
      if (to >= end) return 0;
      if (to == base + 12) {
        // The first question's name (labels in place, checked, before
        // any end given here): its labels' wire length at once.
        wire += QNAME_WIRE;
        if (wire >= 255) return 0;
        break;
      }
      off = to;
    } else return 0;
  }
  return next == 0 ? off : next;
}

export function skipQuestion(off: u32, n: u32): u32 {
  off = skipName(off, n);
  if (off == 0 || off == n) return off;
  if (off + 2 > n) return 0;
  off += 2;
  return off + 2 > n ? n : off + 2;
}

function optCheck(from: u32, to: u32): bool {
  let off = from;
  while (off < to) {
    if (off + 4 > to) return false;
    const code = be16(off);
    const end = off + 4 + be16(off + 2);
    if (end > to) return false;
    const len = end - off - 4;
    switch (code) {
      case 1:
        if (len < 18) return false;
        break;
      case 2:
        if (len != 4 && len != 8) return false;
        break;
      case 8: {
        if (len < 4) return false;
        const family = be16(off + 4);
        const mask = <u32>load<u8>(off + 6);
        const scope = <u32>load<u8>(off + 7);
        if (family == 0) {
          if (mask != 0) return false;
        } else if (family == 1 || family == 2) {
          const bits: u32 = family == 1 ? 32 : 128;
          if (mask > bits || scope > bits) return false;
        } else return false;
        break;
      }
      case 9:
        if (len != 0 && len < 4) return false;
        break;
      case 11:
        if (len != 0 && len != 2) return false;
        break;
      case 15:
        if (len < 2) return false;
        break;
    }
    off = end;
  }
  return true;
}

function bitmap(off: u32, end: u32): u32 {
  let last: i32 = -1;
  while (off < end) {
    if (off + 2 > end) return 0;
    const window = <i32>load<u8>(off);
    const length = <u32>load<u8>(off + 1);
    if (window <= last) return 0;
    if (length == 0 || length > 32) return 0;
    off += 2;
    if (off + length > end) return 0;
    off += length;
    last = window;
  }
  return off;
}

function apl(off: u32, end: u32): u32 {
  while (off < end) {
    if (off + 4 > end) return 0;
    const family = be16(off);
    const prefix = <u32>load<u8>(off + 2);
    const nlen = <u32>load<u8>(off + 3);
    off += 4;
    let size: u32 = 0;
    if (family == 1) size = 4;
    else if (family == 2) size = 16;
    else return 0;
    if (prefix > 8 * size) return 0;
    const afd = nlen & 0x7f;
    if (afd > size) return 0;
    if (off + afd > end) return 0;
    if (afd > 0 && load<u8>(off + afd - 1) == 0) return 0;
    off += afd;
  }
  return off;
}

function svcbValue(key: u32, from: u32, to: u32): bool {
  const n = to - from;
  switch (key) {
    case 0:
      return n % 2 == 0;
    case 1: {
      let i = from;
      while (i < to) {
        const l = <u32>load<u8>(i++);
        if (i + l > to) return false;
        i += l;
      }
      return true;
    }
    case 2:
      return n == 0;
    case 3:
      return n == 2;
    case 4:
      return n != 0 && n % 4 == 0;
    case 6: {
      if (n == 0 || n % 16 != 0) return false;
      for (let i = from; i < to; i += 16) {
        let mapped = load<u8>(i + 10) == 0xff && load<u8>(i + 11) == 0xff;
        for (let j: u32 = 0; mapped && j < 10; j++) {
          if (load<u8>(i + j) != 0) mapped = false;
        }
        if (mapped) return false;
      }
      return true;
    }
  }
  return true;
}

function svcb(off: u32, end: u32): u32 {
  let last: i32 = -1;
  while (off < end) {
    if (off + 4 > end) return 0;
    const key = be16(off);
    const len = be16(off + 2);
    if (off + 4 + len > end) return 0;
    if (key == 65535) return 0;
    if (!svcbValue(key, off + 4, off + 4 + len)) return 0;
    if (<i32>key <= last) return 0;
    last = <i32>key;
    off += 4 + len;
  }
  return off;
}

/** Checks the rdata [off, end) of `type` as rdataValid; where it stopped. */
function rdataValid(type: u32, off: u32, end: u32): u32 {
  let schema: u32 = 0;
  if (type < 260) schema = SCHEMAS + type * 16;
  else if (type == 32768 || type == 32769) schema = SCHEMAS + 43 * 16;
  else return end;
  const count = <u32>load<u8>(schema);
  let prev: u32 = 0;
  for (let i: u32 = 0; i < count; i++) {
    const k = <u32>load<u8>(schema + 1 + i);
    // miekg's early stop: at the end before a field that follows a scalar.
    if (off == end && (i == 0 || prev < REST)) return off;
    prev = k;
    switch (k) {
      case U8:
      case U16:
      case U32:
      case U48:
      case U64: {
        if (off + k > end) return 0;
        store<u32>(
          VALS + i * 4,
          k == U8 ? <u32>load<u8>(off) : k == U16 ? be16(off) : 0,
        );
        off += k;
        break;
      }
      case A4:
        if (off + 4 > end) return 0;
        off += 4;
        break;
      case A16:
        if (off + 16 > end) return 0;
        off += 16;
        break;
      case NAME:
        off = skipName(off, end);
        if (off == 0) return 0;
        break;
      case STR: {
        if (off + 1 > end) return 0;
        const next = off + 1 + <u32>load<u8>(off);
        if (next > end) return 0;
        off = next;
        break;
      }
      case TXT:
        while (off < end) {
          const next = off + 1 + <u32>load<u8>(off);
          if (next > end) return 0;
          off = next;
        }
        break;
      case REST:
        off = end;
        break;
      case SIZED_PREV:
      case SIZED_2BACK: {
        const size = k == SIZED_PREV
          ? load<u32>(VALS + (i - 1) * 4)
          : load<u32>(VALS + (i == 3 ? 0 : 8));
        if (off + size > end) return 0;
        off += size;
        break;
      }
      case BITMAP:
        off = bitmap(off, end);
        if (off == 0) return 0;
        break;
      case NAMES:
        while (off < end) {
          off = skipName(off, end);
          if (off == 0) return 0;
        }
        break;
      case APL:
        off = apl(off, end);
        if (off == 0) return 0;
        break;
      case SVCB:
        off = svcb(off, end);
        if (off == 0) return 0;
        break;
    }
  }
  return off;
}

/** Checks one record at off (before n); past it, or 0. */
export function skipRecord(off: u32, n: u32): u32 {
  off = skipName(off, n);
  if (off == 0 || off + 2 > n) return 0;
  const type = be16(off);
  off += 2;
  if (off + 8 > n) return 0;
  const start = off + 8;
  const end = start + be16(off + 6);
  if (end > n) return 0;
  if (type == 16) {
    // TXT, the most common: its strings, as rdataValid's TXT field.
    let o = start;
    while (o < end) {
      o += 1 + <u32>load<u8>(o);
      if (o > end) return 0;
    }
  } else if (type == 46 && end - start > 18) {
    // RRSIG, with more than its fixed fields: past them, the signer's
    // name, then the rest.
    if (skipName(start + 18, end) == 0) return 0;
  } else if (type == 41) {
    if (!optCheck(start, end)) return 0;
  } else if (end != start) {
    if (rdataValid(type, start, end) != end) return 0;
  }
  return end;
}
