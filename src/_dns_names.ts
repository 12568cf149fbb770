/**
 * The names miekg/dns 1.1.50 prints for DNS types, classes, rcodes and
 * opcodes, with its rules for numbers it has no name for.
 *
 * @module
 */

const TYPE_NAMES: ReadonlyMap<number, string> = new Map<number, string>([
  [0, "None"],
  [1, "A"],
  [2, "NS"],
  [3, "MD"],
  [4, "MF"],
  [5, "CNAME"],
  [6, "SOA"],
  [7, "MB"],
  [8, "MG"],
  [9, "MR"],
  [10, "NULL"],
  [12, "PTR"],
  [13, "HINFO"],
  [14, "MINFO"],
  [15, "MX"],
  [16, "TXT"],
  [17, "RP"],
  [18, "AFSDB"],
  [19, "X25"],
  [20, "ISDN"],
  [21, "RT"],
  [23, "NSAP-PTR"],
  [24, "SIG"],
  [25, "KEY"],
  [26, "PX"],
  [27, "GPOS"],
  [28, "AAAA"],
  [29, "LOC"],
  [30, "NXT"],
  [31, "EID"],
  [32, "NIMLOC"],
  [33, "SRV"],
  [34, "ATMA"],
  [35, "NAPTR"],
  [36, "KX"],
  [37, "CERT"],
  [39, "DNAME"],
  [41, "OPT"],
  [42, "APL"],
  [43, "DS"],
  [44, "SSHFP"],
  [46, "RRSIG"],
  [47, "NSEC"],
  [48, "DNSKEY"],
  [49, "DHCID"],
  [50, "NSEC3"],
  [51, "NSEC3PARAM"],
  [52, "TLSA"],
  [53, "SMIMEA"],
  [55, "HIP"],
  [56, "NINFO"],
  [57, "RKEY"],
  [58, "TALINK"],
  [59, "CDS"],
  [60, "CDNSKEY"],
  [61, "OPENPGPKEY"],
  [62, "CSYNC"],
  [63, "ZONEMD"],
  [64, "SVCB"],
  [65, "HTTPS"],
  [99, "SPF"],
  [100, "UINFO"],
  [101, "UID"],
  [102, "GID"],
  [103, "UNSPEC"],
  [104, "NID"],
  [105, "L32"],
  [106, "L64"],
  [107, "LP"],
  [108, "EUI48"],
  [109, "EUI64"],
  [249, "TKEY"],
  [250, "TSIG"],
  [251, "IXFR"],
  [252, "AXFR"],
  [253, "MAILB"],
  [254, "MAILA"],
  [255, "ANY"],
  [256, "URI"],
  [257, "CAA"],
  [258, "AVC"],
  [32768, "TA"],
  [32769, "DLV"],
  [65535, "Reserved"],
]);

// Names by number below 256 (every one but TA, DLV, Reserved and the 25x-
// meta types past 255 fits), for the hot path.
const TYPE_BY_NUMBER: (string | undefined)[] = [];
for (const [n, s] of TYPE_NAMES) if (n < 260) TYPE_BY_NUMBER[n] = s;

/**
 * A DNS type as miekg/dns `Type.String()` prints it: its mnemonic
 * (`"AAAA"`, `"NSAP-PTR"`, `"None"` for 0) or `"TYPE"` and the number.
 *
 * @param type The 16-bit type.
 * @returns Its name.
 */
export function typeName(type: number): string {
  const s = type < 260 ? TYPE_BY_NUMBER[type] : TYPE_NAMES.get(type);
  return s ?? "TYPE" + type;
}

/**
 * Whether miekg/dns has a mnemonic for a type (`Type.String()` is not
 * `TYPEn`).
 *
 * @param type The 16-bit type.
 * @returns `true` when `typeName` gives a mnemonic.
 */
export function hasTypeName(type: number): boolean {
  return TYPE_NAMES.has(type);
}

/**
 * The type for a mnemonic, `undefined` for none (`"TYPE65280"` is not
 * parsed here).
 *
 * @param name The mnemonic, as `typeName` prints it.
 * @returns The number.
 */
export function typeNumber(name: string): number | undefined {
  for (const [n, s] of TYPE_NAMES) if (s === name) return n;
  return undefined;
}

const CLASS_NAMES: readonly (string | undefined)[] = [
  undefined,
  "IN",
  "CS",
  "CH",
  "HS",
];

/**
 * A DNS class as miekg/dns `Class.String()` prints it: `IN`, `CS`, `CH`,
 * `HS`, `NONE` (254), else `"CLASS"` and the number, 255 included (its
 * mnemonic ANY is also a type's, so miekg/dns does not print it).
 *
 * @param cls The 16-bit class.
 * @returns Its name.
 */
export function className(cls: number): string {
  if (cls < 5) return CLASS_NAMES[cls] ?? "CLASS" + cls;
  return cls === 254 ? "NONE" : "CLASS" + cls;
}

const RCODE_NAMES: ReadonlyMap<number, string> = new Map<number, string>([
  [0, "NOERROR"],
  [1, "FORMERR"],
  [2, "SERVFAIL"],
  [3, "NXDOMAIN"],
  [4, "NOTIMP"],
  [5, "REFUSED"],
  [6, "YXDOMAIN"],
  [7, "YXRRSET"],
  [8, "NXRRSET"],
  [9, "NOTAUTH"],
  [10, "NOTZONE"],
  [16, "BADSIG"],
  [17, "BADKEY"],
  [18, "BADTIME"],
  [19, "BADMODE"],
  [20, "BADNAME"],
  [21, "BADALG"],
  [22, "BADTRUNC"],
  [23, "BADCOOKIE"],
]);

/**
 * A response code as miekg/dns `RcodeToString[rcode]` gives it: the mnemonic,
 * or `""` for a code it does not name (it prints `status: ` and nothing).
 *
 * @param rcode The rcode, extended bits included (0 to 4095).
 * @returns Its name or `""`.
 */
export function rcodeName(rcode: number): string {
  return RCODE_NAMES.get(rcode) ?? "";
}

const OPCODE_NAMES: readonly string[] = [
  "QUERY",
  "IQUERY",
  "STATUS",
  "",
  "NOTIFY",
  "UPDATE",
];

/**
 * An opcode as miekg/dns `OpcodeToString[opcode]` gives it: `QUERY`,
 * `IQUERY`, `STATUS`, `NOTIFY`, `UPDATE`, or `""` for the others.
 *
 * @param opcode The 4-bit opcode.
 * @returns Its name or `""`.
 */
export function opcodeName(opcode: number): string {
  return OPCODE_NAMES[opcode] ?? "";
}
