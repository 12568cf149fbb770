/**
 * The columnar dnstap scan's table: one row per frame of a window, typed
 * columns, no object per message. Shared by the TypeScript scanner
 * (`_dnstap_scan.ts`) and the WebAssembly one (`wasm/dnstap_scan.ts`), which
 * lay the columns out identically: the TS engine in an `ArrayBuffer` of its
 * own, the WASM engine in its memory at `COLUMNS`.
 *
 * Input: a window of bytes and the frame scanner's result table over it
 * (`_scan.ts`: entries `[frameOffset, length, kind]`), `n` entries. Row `i`
 * describes entry `i`: a data frame's payload (`frameOffset + 4`, `length`
 * bytes) read as a `dnstap.Dnstap` protobuf message, or a control frame
 * (status {@linkcode SCAN_CONTROL}, nothing else).
 *
 * Layout for a capacity of `N` rows, each column a contiguous array of `N`
 * values, in this order (byte offsets from the start of the region are
 * multiples of the element size; `columnsBytes(N)` is the total):
 *
 * | column                 | type   | what                                          |
 * | ---------------------- | ------ | --------------------------------------------- |
 * | queryTimeSec           | f64    | Message.query_time_sec (uint64, rounded to f64) |
 * | responseTimeSec        | f64    | Message.response_time_sec                     |
 * | present                | u32    | presence bits, `HAS_*`                        |
 * | queryTimeNsec          | u32    | Message.query_time_nsec                       |
 * | responseTimeNsec       | u32    | Message.response_time_nsec                    |
 * | queryPort              | u32    | Message.query_port                            |
 * | responsePort           | u32    | Message.response_port                         |
 * | queryAddressLength     | u32    | length of Message.query_address (any)         |
 * | responseAddressLength  | u32    | length of Message.response_address            |
 * | identityOffset         | u32    | window offset of Dnstap.identity              |
 * | identityLength         | u32    | its length                                    |
 * | queryMessageOffset     | u32    | window offset of Message.query_message        |
 * | queryMessageLength     | u32    | its length                                    |
 * | responseMessageOffset  | u32    | window offset of Message.response_message     |
 * | responseMessageLength  | u32    | its length                                    |
 * | dnsSize                | u32    | length of the DNS message read (see below)    |
 * | qnameOffset            | u32    | window offset of the question name            |
 * | dnstapType             | i32    | Dnstap.type                                   |
 * | messageType            | i32    | Message.type                                  |
 * | socketFamily           | i32    | Message.socket_family                         |
 * | socketProtocol         | i32    | Message.socket_protocol                       |
 * | id                     | u16    | DNS header ID                                 |
 * | flags                  | u16    | DNS header word 2 (QR, opcode, AA .. CD, rcode) |
 * | qdcount .. arcount     | u16 ×4 | the header's four counts                      |
 * | qtype                  | u16    | QTYPE of the first question                   |
 * | qclass                 | u16    | QCLASS of the first question                  |
 * | qnameLength            | u16    | bytes of the name in place (to its first pointer) |
 * | ednsUdpSize            | u16    | the OPT record's class (the UDP payload size) |
 * | ednsFlags              | u16    | the low 16 bits of its TTL (DO is 0x8000)     |
 * | status                 | u8     | `SCAN_*`                                      |
 * | opcode                 | u8     | header opcode (4 bits)                        |
 * | rcode                  | u8     | header rcode (4 bits; no EDNS extension)      |
 * | qnameLabels            | u8     | labels of the name, pointers followed         |
 * | ednsRcode              | u8     | the OPT TTL's top 8 bits (the extended rcode) |
 * | ednsVersion            | u8     | the OPT TTL's next 8 bits (the EDNS version)  |
 * | queryAddress           | 16 B   | first 16 bytes of query_address, 0-padded     |
 * | responseAddress        | 16 B   | first 16 bytes of response_address            |
 *
 * Values are exactly what {@linkcode decodeDnstap} gives (enums as int32,
 * uint32 fields as their low 32 bits, a field that appears twice keeps its
 * last value, repeated Message fields merge); an absent field is 0 with its
 * `HAS_*` bit clear. Offsets are offsets in the caller's window buffer.
 *
 * The DNS message read is the response_message for a response (a message
 * type that is even and positive: AUTH_RESPONSE 2 .. UPDATE_RESPONSE 14 and
 * any later even number), else the query_message. Its header fills id,
 * flags, opcode, rcode and the counts when it has 12 bytes or more; the
 * first question fills qname, qtype and qclass exactly when
 * `parseDnsMessage(bytes).question` is not null. The rcode column is the
 * header's 4 bits. The EDNS columns come from the last OPT record of the
 * additional section, found by a walk of the remaining questions and of
 * every record's name, type, class, TTL and rdlength that checks their
 * bounds as miekg/dns does but not the rdata itself (nor the OPT options):
 * checking rdata type by type is not a scan. So they equal
 * `parseDnsMessage(bytes).edns` (and `(ednsRcode << 4) | rcode` its
 * `rcode`) whenever its `error` is null; on a message miekg/dns rejects for
 * its rdata they may hold an OPT record it does not reach.
 *
 * Every row is written whole (zeros where absent), so two engines' tables
 * are equal byte for byte.
 *
 * @module
 */

/** The row is a dnstap message that decodes. */
export const SCAN_OK = 0;
/** The row is a control frame (its entry's kind is not data). */
export const SCAN_CONTROL = 1;
/** `decodeDnstap` rejects the payload; the row is all zeros. */
export const SCAN_BAD_PROTOBUF = 2;
/** The DNS message read is shorter than its 12-byte header. */
export const SCAN_BAD_DNS_HEADER = 3;
/** The header has a question that does not parse (`question` is null). */
export const SCAN_BAD_QUESTION = 4;

/** Dnstap.type is present. */
export const HAS_TYPE = 1 << 0;
/** Dnstap.identity is present. */
export const HAS_IDENTITY = 1 << 1;
/** Dnstap.message is present. */
export const HAS_MESSAGE = 1 << 2;
/** Message.type is present. */
export const HAS_MESSAGE_TYPE = 1 << 3;
/** Message.socket_family is present. */
export const HAS_SOCKET_FAMILY = 1 << 4;
/** Message.socket_protocol is present. */
export const HAS_SOCKET_PROTOCOL = 1 << 5;
/** Message.query_address is present. */
export const HAS_QUERY_ADDRESS = 1 << 6;
/** Message.response_address is present. */
export const HAS_RESPONSE_ADDRESS = 1 << 7;
/** Message.query_port is present. */
export const HAS_QUERY_PORT = 1 << 8;
/** Message.response_port is present. */
export const HAS_RESPONSE_PORT = 1 << 9;
/** Message.query_time_sec is present. */
export const HAS_QUERY_TIME_SEC = 1 << 10;
/** Message.query_time_nsec is present. */
export const HAS_QUERY_TIME_NSEC = 1 << 11;
/** Message.response_time_sec is present. */
export const HAS_RESPONSE_TIME_SEC = 1 << 12;
/** Message.response_time_nsec is present. */
export const HAS_RESPONSE_TIME_NSEC = 1 << 13;
/** Message.query_message is present. */
export const HAS_QUERY_MESSAGE = 1 << 14;
/** Message.response_message is present. */
export const HAS_RESPONSE_MESSAGE = 1 << 15;
/** Message.query_zone is present. */
export const HAS_QUERY_ZONE = 1 << 16;
/** Message.policy is present. */
export const HAS_POLICY = 1 << 17;
/** Message.http_protocol is present. */
export const HAS_HTTP_PROTOCOL = 1 << 18;
/** Dnstap.version is present. */
export const HAS_VERSION = 1 << 19;
/** Dnstap.extra is present. */
export const HAS_EXTRA = 1 << 20;
/** A DNS message was read: dnsSize is set (the header columns too when the
 * status is not {@linkcode SCAN_BAD_DNS_HEADER}). */
export const HAS_DNS = 1 << 24;
/** The DNS message read is the response_message (else query_message). */
export const HAS_DNS_RESPONSE = 1 << 25;
/** The first question parsed: qnameOffset, qnameLength, qnameLabels. */
export const HAS_QUESTION = 1 << 26;
/** The question has its QTYPE (miekg/dns leaves it 0 at the message end). */
export const HAS_QTYPE = 1 << 27;
/** The question has its QCLASS. */
export const HAS_QCLASS = 1 << 28;
/** The question name holds a compression pointer: the span covers the name
 * up to and including it; read the name from the message to follow it. */
export const HAS_QNAME_POINTER = 1 << 29;
/** An OPT record was found: the EDNS columns are set. */
export const HAS_OPT = 1 << 30;

/** Rows per scan (the frame scanner's table capacity). */
export const SCAN_CAPACITY = 4096;

/** Bytes of each column's element, in layout order. */
const F64_COLUMNS = 2;
const U32_COLUMNS = 15;
const I32_COLUMNS = 4;
const U16_COLUMNS = 11;
const U8_COLUMNS = 6;
const ADDRESS_COLUMNS = 2;

/** Bytes one row takes across all columns. */
export const ROW_BYTES = F64_COLUMNS * 8 + U32_COLUMNS * 4 + I32_COLUMNS * 4 +
  U16_COLUMNS * 2 + U8_COLUMNS + ADDRESS_COLUMNS * 16;

/**
 * Bytes the columns of `capacity` rows take (capacity a multiple of 8, so
 * that every column stays aligned).
 */
export function columnsBytes(capacity: number): number {
  return capacity * ROW_BYTES;
}

/**
 * The columns of one scan: typed-array views laid out as the module doc
 * says, over an `ArrayBuffer` (the TS engine) or WebAssembly memory (the
 * WASM engine; the views then last until its memory grows, see its JSDoc).
 */
export class DnstapColumns {
  /** Rows the columns hold. */
  readonly capacity: number;
  /** The buffer the views are over. */
  readonly buffer: ArrayBufferLike;
  /** Where the region starts in `buffer`. */
  readonly byteOffset: number;
  /** The whole region, for copies and comparisons. */
  readonly bytes: Uint8Array;
  /** Every column, in layout order (each `capacity` values long, the two
   * address columns `16 * capacity` bytes). */
  readonly all: readonly (
    | Float64Array
    | Uint32Array
    | Int32Array
    | Uint16Array
    | Uint8Array
  )[];
  /** Message.query_time_sec. */
  readonly queryTimeSec: Float64Array;
  /** Message.response_time_sec. */
  readonly responseTimeSec: Float64Array;
  /** Presence bits (`HAS_*`). */
  readonly present: Uint32Array;
  /** Message.query_time_nsec. */
  readonly queryTimeNsec: Uint32Array;
  /** Message.response_time_nsec. */
  readonly responseTimeNsec: Uint32Array;
  /** Message.query_port. */
  readonly queryPort: Uint32Array;
  /** Message.response_port. */
  readonly responsePort: Uint32Array;
  /** Length of Message.query_address. */
  readonly queryAddressLength: Uint32Array;
  /** Length of Message.response_address. */
  readonly responseAddressLength: Uint32Array;
  /** Window offset of Dnstap.identity. */
  readonly identityOffset: Uint32Array;
  /** Length of Dnstap.identity. */
  readonly identityLength: Uint32Array;
  /** Window offset of Message.query_message. */
  readonly queryMessageOffset: Uint32Array;
  /** Length of Message.query_message. */
  readonly queryMessageLength: Uint32Array;
  /** Window offset of Message.response_message. */
  readonly responseMessageOffset: Uint32Array;
  /** Length of Message.response_message. */
  readonly responseMessageLength: Uint32Array;
  /** Length of the DNS message read. */
  readonly dnsSize: Uint32Array;
  /** Window offset of the first question's name. */
  readonly qnameOffset: Uint32Array;
  /** Dnstap.type. */
  readonly dnstapType: Int32Array;
  /** Message.type. */
  readonly messageType: Int32Array;
  /** Message.socket_family. */
  readonly socketFamily: Int32Array;
  /** Message.socket_protocol. */
  readonly socketProtocol: Int32Array;
  /** DNS ID. */
  readonly id: Uint16Array;
  /** DNS header word 2. */
  readonly flags: Uint16Array;
  /** QDCOUNT. */
  readonly qdcount: Uint16Array;
  /** ANCOUNT. */
  readonly ancount: Uint16Array;
  /** NSCOUNT. */
  readonly nscount: Uint16Array;
  /** ARCOUNT. */
  readonly arcount: Uint16Array;
  /** QTYPE. */
  readonly qtype: Uint16Array;
  /** QCLASS. */
  readonly qclass: Uint16Array;
  /** Bytes of the question name in place. */
  readonly qnameLength: Uint16Array;
  /** The OPT record's UDP payload size. */
  readonly ednsUdpSize: Uint16Array;
  /** The OPT record's flags (DO 0x8000). */
  readonly ednsFlags: Uint16Array;
  /** `SCAN_*`. */
  readonly status: Uint8Array;
  /** Header opcode. */
  readonly opcode: Uint8Array;
  /** Header rcode (4 bits). */
  readonly rcode: Uint8Array;
  /** Labels of the question name. */
  readonly qnameLabels: Uint8Array;
  /** The OPT record's extended rcode bits (upper 8 of 12). */
  readonly ednsRcode: Uint8Array;
  /** The OPT record's EDNS version. */
  readonly ednsVersion: Uint8Array;
  /** query_address, 16 bytes per row. */
  readonly queryAddress: Uint8Array;
  /** response_address, 16 bytes per row. */
  readonly responseAddress: Uint8Array;

  /**
   * Lays the columns out over `buffer` from `byteOffset` (a multiple of 8).
   *
   * @param capacity Rows, a multiple of 8.
   * @param buffer Where; a new `ArrayBuffer` by default.
   * @param byteOffset Where in `buffer`.
   */
  constructor(
    capacity: number = SCAN_CAPACITY,
    buffer: ArrayBufferLike = new ArrayBuffer(columnsBytes(capacity)),
    byteOffset = 0,
  ) {
    if (capacity % 8 !== 0 || byteOffset % 8 !== 0) {
      throw new RangeError(
        `Cannot lay out dnstap columns: capacity ${capacity} and offset ${byteOffset} must be multiples of 8`,
      );
    }
    const n = capacity;
    this.capacity = n;
    this.buffer = buffer;
    this.byteOffset = byteOffset;
    this.bytes = new Uint8Array(buffer, byteOffset, columnsBytes(n));
    let at = byteOffset;
    const all: DnstapColumns["all"][number][] = [];
    this.all = all;
    const f64 = (): Float64Array => {
      const a = new Float64Array(buffer, at, n);
      at += n * 8;
      all.push(a);
      return a;
    };
    const u32 = (): Uint32Array => {
      const a = new Uint32Array(buffer, at, n);
      at += n * 4;
      all.push(a);
      return a;
    };
    const i32 = (): Int32Array => {
      const a = new Int32Array(buffer, at, n);
      at += n * 4;
      all.push(a);
      return a;
    };
    const u16 = (): Uint16Array => {
      const a = new Uint16Array(buffer, at, n);
      at += n * 2;
      all.push(a);
      return a;
    };
    const u8 = (size: number): Uint8Array => {
      const a = new Uint8Array(buffer, at, n * size);
      at += n * size;
      all.push(a);
      return a;
    };
    this.queryTimeSec = f64();
    this.responseTimeSec = f64();
    this.present = u32();
    this.queryTimeNsec = u32();
    this.responseTimeNsec = u32();
    this.queryPort = u32();
    this.responsePort = u32();
    this.queryAddressLength = u32();
    this.responseAddressLength = u32();
    this.identityOffset = u32();
    this.identityLength = u32();
    this.queryMessageOffset = u32();
    this.queryMessageLength = u32();
    this.responseMessageOffset = u32();
    this.responseMessageLength = u32();
    this.dnsSize = u32();
    this.qnameOffset = u32();
    this.dnstapType = i32();
    this.messageType = i32();
    this.socketFamily = i32();
    this.socketProtocol = i32();
    this.id = u16();
    this.flags = u16();
    this.qdcount = u16();
    this.ancount = u16();
    this.nscount = u16();
    this.arcount = u16();
    this.qtype = u16();
    this.qclass = u16();
    this.qnameLength = u16();
    this.ednsUdpSize = u16();
    this.ednsFlags = u16();
    this.status = u8(1);
    this.opcode = u8(1);
    this.rcode = u8(1);
    this.qnameLabels = u8(1);
    this.ednsRcode = u8(1);
    this.ednsVersion = u8(1);
    this.queryAddress = u8(16);
    this.responseAddress = u8(16);
  }
}
