/**
 * Rdata of the DNSSEC and key types as miekg/dns 1.1.50 unpacks and prints
 * them: DS and its kin, DNSKEY and its kin, RRSIG/SIG with their times,
 * NSEC/NSEC3 with type bitmaps, TLSA, SMIMEA, SSHFP, CERT, HIP, TKEY, TSIG,
 * CSYNC, ZONEMD and the base64-only types.
 *
 * @module
 */

import {
  readName,
  readU16,
  readU32,
  readU8,
  type WireCursor,
} from "./_dns_wire.ts";
import { typeName } from "./_dns_names.ts";
import {
  base32hex,
  base64,
  goTime,
  hex,
  opt16,
  opt32,
  opt8,
  readTypeBitmap,
  take,
} from "./_dns_rdata_format.ts";
import { optName, type RdataReader } from "./_dns_rdata_basic.ts";

function restBase64(msg: Uint8Array, cur: WireCursor): string {
  const s = base64(msg, cur.off, cur.end);
  cur.off = cur.end;
  return s;
}

function restHex(msg: Uint8Array, cur: WireCursor, upper: boolean): string {
  const s = hex(msg, cur.off, cur.end, upper);
  cur.off = cur.end;
  return s;
}

/** DS, CDS, DLV, TA: key tag, algorithm, digest type, upper-case digest. */
export const ds: RdataReader = (msg, cur) => {
  const tag = opt16(msg, cur);
  const alg = opt8(msg, cur);
  const dt = opt8(msg, cur);
  return tag + " " + alg + " " + dt + " " + restHex(msg, cur, true);
};

/** DNSKEY, CDNSKEY, KEY, RKEY: flags, protocol, algorithm, base64 key. */
export const dnskey: RdataReader = (msg, cur) => {
  const flags = opt16(msg, cur);
  const proto = opt8(msg, cur);
  const alg = opt8(msg, cur);
  return flags + " " + proto + " " + alg + " " + restBase64(msg, cur);
};

/** DHCID, OPENPGPKEY: the rest as base64. */
export const b64: RdataReader = restBase64;

/**
 * RRSIG, SIG: type covered, algorithm, labels, original TTL, expiration
 * and inception, key tag, signer, base64 signature. miekg's `TimeToString`
 * shifts a time by its serial arithmetic against the clock
 * (`dnssecTime`), which never moves a 32-bit time after 1970: `goTime`.
 */
export const rrsig: RdataReader = (msg, cur) => {
  const covered = opt16(msg, cur);
  const alg = opt8(msg, cur);
  const labels = opt8(msg, cur);
  const ttl = opt32(msg, cur);
  const exp = opt32(msg, cur);
  const inc = opt32(msg, cur);
  const tag = opt16(msg, cur);
  const signer = optName(msg, cur);
  return typeName(covered) + " " + alg + " " + labels + " " + ttl + " " +
    goTime(exp) + " " + goTime(inc) + " " + tag + " " + signer + " " +
    restBase64(msg, cur);
};

/** NSEC: next name and the type bitmap. */
export const nsec: RdataReader = (msg, cur) => {
  const next = optName(msg, cur);
  return next + readTypeBitmap(msg, cur, typeName);
};

function salt(msg: Uint8Array, cur: WireCursor, n: number): string {
  const from = cur.off;
  take(cur, n, "hex");
  return n === 0 ? "-" : hex(msg, from, from + n, true);
}

/** NSEC3: hash, flags, iterations, salt, base32hex next hash, bitmap. */
export const nsec3: RdataReader = (msg, cur) => {
  let hash = 0, flags = 0, iter = 0, s = "-", next = "", types = "";
  read: {
    if (cur.off === cur.end) break read;
    hash = readU8(msg, cur);
    if (cur.off === cur.end) break read;
    flags = readU8(msg, cur);
    if (cur.off === cur.end) break read;
    iter = readU16(msg, cur);
    if (cur.off === cur.end) break read;
    const saltLen = readU8(msg, cur);
    if (cur.off === cur.end) break read;
    s = salt(msg, cur, saltLen);
    // No early stop after the salt: the hash length must be there.
    const hashLen = readU8(msg, cur);
    if (cur.off === cur.end) break read;
    const from = cur.off;
    take(cur, hashLen, "base32");
    next = base32hex(msg, from, from + hashLen);
    types = readTypeBitmap(msg, cur, typeName);
  }
  return hash + " " + flags + " " + iter + " " + s + " " + next + types;
};

/** NSEC3PARAM: hash, flags, iterations, salt. */
export const nsec3param: RdataReader = (msg, cur) => {
  const hash = opt8(msg, cur);
  const flags = opt8(msg, cur);
  const iter = opt16(msg, cur);
  const saltLen = opt8(msg, cur);
  const s = cur.off === cur.end ? "-" : salt(msg, cur, saltLen);
  return hash + " " + flags + " " + iter + " " + s;
};

/** TLSA: usage, selector, matching type, lower-case hex. */
export const tlsa: RdataReader = (msg, cur) => {
  const u = opt8(msg, cur);
  const sel = opt8(msg, cur);
  const mt = opt8(msg, cur);
  return u + " " + sel + " " + mt + " " + restHex(msg, cur, false);
};

/**
 * SMIMEA: as TLSA, the hex cut in pieces of 1024 characters joined by a
 * space (a trailing space when its length is a multiple of 1024).
 */
export const smimea: RdataReader = (msg, cur) => {
  const u = opt8(msg, cur);
  const sel = opt8(msg, cur);
  const mt = opt8(msg, cur);
  const h = restHex(msg, cur, false);
  let out = h;
  if (h.length >= 1024) {
    out = "";
    for (let p = 0;; p += 1024) {
      if (p + 1024 <= h.length) out += (p ? " " : "") + h.slice(p, p + 1024);
      else {
        out += " " + h.slice(p);
        break;
      }
    }
  }
  return u + " " + sel + " " + mt + " " + out;
};

/** SSHFP: algorithm, type, upper-case fingerprint. */
export const sshfp: RdataReader = (msg, cur) => {
  const alg = opt8(msg, cur);
  const t = opt8(msg, cur);
  return alg + " " + t + " " + restHex(msg, cur, true);
};

const CERT_TYPES: ReadonlyMap<number, string> = new Map([
  [1, "PKIX"],
  [2, "SPKI"],
  [3, "PGP"],
  [4, "IPIX"],
  [5, "ISPKI"],
  [6, "IPGP"],
  [7, "ACPKIX"],
  [8, "IACPKIX"],
  [253, "URI"],
  [254, "OID"],
]);

const ALGORITHMS: ReadonlyMap<number, string> = new Map([
  [1, "RSAMD5"],
  [2, "DH"],
  [3, "DSA"],
  [5, "RSASHA1"],
  [6, "DSA-NSEC3-SHA1"],
  [7, "RSASHA1-NSEC3-SHA1"],
  [8, "RSASHA256"],
  [10, "RSASHA512"],
  [12, "ECC-GOST"],
  [13, "ECDSAP256SHA256"],
  [14, "ECDSAP384SHA384"],
  [15, "ED25519"],
  [16, "ED448"],
  [252, "INDIRECT"],
  [253, "PRIVATEDNS"],
  [254, "PRIVATEOID"],
]);

/** CERT: type and algorithm by mnemonic when miekg has one, base64. */
export const cert: RdataReader = (msg, cur) => {
  const t = opt16(msg, cur);
  const tag = opt16(msg, cur);
  const alg = opt8(msg, cur);
  return (CERT_TYPES.get(t) ?? String(t)) + " " + tag + " " +
    (ALGORITHMS.get(alg) ?? String(alg)) + " " + restBase64(msg, cur);
};

/** HIP: algorithm, hex HIT, base64 key, rendezvous servers. */
export const hip: RdataReader = (msg, cur) => {
  let alg = 0, hit = "", key = "", servers = "";
  read: {
    if (cur.off === cur.end) break read;
    const hitLen = readU8(msg, cur);
    if (cur.off === cur.end) break read;
    alg = readU8(msg, cur);
    if (cur.off === cur.end) break read;
    const keyLen = readU16(msg, cur);
    if (cur.off === cur.end) break read;
    let from = cur.off;
    take(cur, hitLen, "hex");
    hit = hex(msg, from, cur.off);
    from = cur.off;
    take(cur, keyLen, "base64");
    key = base64(msg, from, cur.off);
    while (cur.off < cur.end) servers += " " + readName(msg, cur);
  }
  return alg + " " + hit + " " + key + servers;
};

/** CSYNC: serial, flags, type bitmap. */
export const csync: RdataReader = (msg, cur) => {
  const serial = opt32(msg, cur);
  const flags = opt16(msg, cur);
  return serial + " " + flags + readTypeBitmap(msg, cur, typeName);
};

/** ZONEMD: serial, scheme, hash, lower-case digest. */
export const zonemd: RdataReader = (msg, cur) => {
  const serial = opt32(msg, cur);
  const scheme = opt8(msg, cur);
  const h = opt8(msg, cur);
  return serial + " " + scheme + " " + h + " " + restHex(msg, cur, false);
};

function sized(msg: Uint8Array, cur: WireCursor, n: number): string {
  const from = cur.off;
  take(cur, n, "hex");
  return hex(msg, from, from + n);
}

/**
 * TKEY (the line starts with `;`, see `rdataLinePrefix`): algorithm, times,
 * mode, error, key and other data in lower-case hex with their sizes. The
 * text starts with a space: miekg writes one after the header's tab.
 */
export const tkey: RdataReader = (msg, cur) => {
  let alg = "", inc = 0, exp = 0, mode = 0, err = 0, keySize = 0;
  let key = "", otherLen = 0, other = "";
  read: {
    if (cur.off === cur.end) break read;
    alg = readName(msg, cur);
    if (cur.off === cur.end) break read;
    inc = readU32(msg, cur);
    if (cur.off === cur.end) break read;
    exp = readU32(msg, cur);
    if (cur.off === cur.end) break read;
    mode = readU16(msg, cur);
    if (cur.off === cur.end) break read;
    err = readU16(msg, cur);
    if (cur.off === cur.end) break read;
    keySize = readU16(msg, cur);
    if (cur.off === cur.end) break read;
    key = sized(msg, cur, keySize);
    otherLen = readU16(msg, cur);
    if (cur.off === cur.end) break read;
    other = sized(msg, cur, otherLen);
  }
  return " " + alg + " " + goTime(inc) + " " + goTime(exp) + " " + mode + " " +
    err + " " + keySize + " " +
    key + " " + otherLen + " " + other;
};

/**
 * TSIG (the line starts with a pseudosection, see `rdataLinePrefix`):
 * algorithm, 48-bit time signed, fudge, MAC in upper-case hex, original
 * id, error, other data in lower-case hex. Starts with a space.
 */
export const tsig: RdataReader = (msg, cur) => {
  let alg = "", signed = 0, fudge = 0, macSize = 0, mac = "";
  let origId = 0, err = 0, otherLen = 0, other = "";
  read: {
    if (cur.off === cur.end) break read;
    alg = readName(msg, cur);
    if (cur.off === cur.end) break read;
    let from = cur.off;
    take(cur, 6, "uint64 as uint48");
    signed = ((msg[from]! << 8) | msg[from + 1]!) * 2 ** 32 +
      ((msg[from + 2]! << 24) >>> 0) +
      ((msg[from + 3]! << 16) | (msg[from + 4]! << 8) | msg[from + 5]!);
    if (cur.off === cur.end) break read;
    fudge = readU16(msg, cur);
    if (cur.off === cur.end) break read;
    macSize = readU16(msg, cur);
    if (cur.off === cur.end) break read;
    from = cur.off;
    take(cur, macSize, "hex");
    mac = hex(msg, from, from + macSize, true);
    origId = readU16(msg, cur);
    if (cur.off === cur.end) break read;
    err = readU16(msg, cur);
    if (cur.off === cur.end) break read;
    otherLen = readU16(msg, cur);
    if (cur.off === cur.end) break read;
    other = sized(msg, cur, otherLen);
  }
  return " " + alg + " " + goTime(signed) + " " + fudge + " " + macSize +
    " " + mac + " " + origId + " " + err + " " + otherLen + " " + other;
};
