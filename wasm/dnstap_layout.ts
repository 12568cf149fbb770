// The memory layout of the dnstap scan module (dnstap_scan.ts, entry), shared
// with its parts (dnstap_keys.ts); the columns as src/_dnstap_scan_layout.ts
// documents them.
//
//   [OUT, OUT + 32)                out words of the frame scan (frames.ts)
//   [TABLE, TABLE + 12*CAPACITY)   the frame table, [frameOffset, length,
//                                  kind] u32 each (copied in by the caller
//                                  of scan(), or filled by scanWindow())
//   [COLUMNS, COLUMNS_END)         the columns
//   [DATA_TABLE, + 12*CAPACITY)    scanWindow's data entries of TABLE
//   [KEYS, KEYS_END)               the key lists of keys() (dnstap_keys.ts)
//   [COUNTS, COUNTS_END)           the row counts of countRows()
//                                  (dnstap_counts.ts)
//   [INPUT, memory end)            the window's bytes
import { TABLE } from "./assembly/frames";

export { TABLE };
export const CAPACITY: u32 = 4096;
export const COLUMNS: u32 = 65536;
export const ROW: u32 = 152;

export const N: u32 = CAPACITY;
// Column addresses, in layout order.
export const QUERY_TIME_SEC: u32 = COLUMNS;
export const RESPONSE_TIME_SEC: u32 = QUERY_TIME_SEC + N * 8;
export const PRESENT: u32 = RESPONSE_TIME_SEC + N * 8;
export const QUERY_TIME_NSEC: u32 = PRESENT + N * 4;
export const RESPONSE_TIME_NSEC: u32 = QUERY_TIME_NSEC + N * 4;
export const QUERY_PORT: u32 = RESPONSE_TIME_NSEC + N * 4;
export const RESPONSE_PORT: u32 = QUERY_PORT + N * 4;
export const QUERY_ADDRESS_LENGTH: u32 = RESPONSE_PORT + N * 4;
export const RESPONSE_ADDRESS_LENGTH: u32 = QUERY_ADDRESS_LENGTH + N * 4;
export const IDENTITY_OFFSET: u32 = RESPONSE_ADDRESS_LENGTH + N * 4;
export const IDENTITY_LENGTH: u32 = IDENTITY_OFFSET + N * 4;
export const QUERY_MESSAGE_OFFSET: u32 = IDENTITY_LENGTH + N * 4;
export const QUERY_MESSAGE_LENGTH: u32 = QUERY_MESSAGE_OFFSET + N * 4;
export const RESPONSE_MESSAGE_OFFSET: u32 = QUERY_MESSAGE_LENGTH + N * 4;
export const RESPONSE_MESSAGE_LENGTH: u32 = RESPONSE_MESSAGE_OFFSET + N * 4;
export const DNS_SIZE: u32 = RESPONSE_MESSAGE_LENGTH + N * 4;
export const QNAME_OFFSET: u32 = DNS_SIZE + N * 4;
export const DNSTAP_TYPE: u32 = QNAME_OFFSET + N * 4;
export const MESSAGE_TYPE: u32 = DNSTAP_TYPE + N * 4;
export const SOCKET_FAMILY: u32 = MESSAGE_TYPE + N * 4;
export const SOCKET_PROTOCOL: u32 = SOCKET_FAMILY + N * 4;
export const ID: u32 = SOCKET_PROTOCOL + N * 4;
export const FLAGS: u32 = ID + N * 2;
export const QDCOUNT: u32 = FLAGS + N * 2;
export const ANCOUNT: u32 = QDCOUNT + N * 2;
export const NSCOUNT: u32 = ANCOUNT + N * 2;
export const ARCOUNT: u32 = NSCOUNT + N * 2;
export const QTYPE: u32 = ARCOUNT + N * 2;
export const QCLASS: u32 = QTYPE + N * 2;
export const QNAME_LENGTH: u32 = QCLASS + N * 2;
export const EDNS_UDP_SIZE: u32 = QNAME_LENGTH + N * 2;
export const EDNS_FLAGS: u32 = EDNS_UDP_SIZE + N * 2;
export const STATUS: u32 = EDNS_FLAGS + N * 2;
export const OPCODE: u32 = STATUS + N;
export const RCODE: u32 = OPCODE + N;
export const QNAME_LABELS: u32 = RCODE + N;
export const EDNS_RCODE: u32 = QNAME_LABELS + N;
export const EDNS_VERSION: u32 = EDNS_RCODE + N;
export const QUERY_ADDRESS: u32 = EDNS_VERSION + N;
export const RESPONSE_ADDRESS: u32 = QUERY_ADDRESS + N * 16;
export const COLUMNS_END: u32 = RESPONSE_ADDRESS + N * 16;

export const SCAN_OK: u8 = 0;
export const SCAN_CONTROL: u8 = 1;
export const SCAN_BAD_PROTOBUF: u8 = 2;
export const SCAN_BAD_DNS_HEADER: u8 = 3;
export const SCAN_BAD_QUESTION: u8 = 4;

export const HAS_TYPE: u32 = 1 << 0;
export const HAS_IDENTITY: u32 = 1 << 1;
export const HAS_MESSAGE: u32 = 1 << 2;
export const HAS_MESSAGE_TYPE: u32 = 1 << 3;
export const HAS_SOCKET_FAMILY: u32 = 1 << 4;
export const HAS_SOCKET_PROTOCOL: u32 = 1 << 5;
export const HAS_QUERY_ADDRESS: u32 = 1 << 6;
export const HAS_RESPONSE_ADDRESS: u32 = 1 << 7;
export const HAS_QUERY_PORT: u32 = 1 << 8;
export const HAS_RESPONSE_PORT: u32 = 1 << 9;
export const HAS_QUERY_TIME_SEC: u32 = 1 << 10;
export const HAS_QUERY_TIME_NSEC: u32 = 1 << 11;
export const HAS_RESPONSE_TIME_SEC: u32 = 1 << 12;
export const HAS_RESPONSE_TIME_NSEC: u32 = 1 << 13;
export const HAS_QUERY_MESSAGE: u32 = 1 << 14;
export const HAS_RESPONSE_MESSAGE: u32 = 1 << 15;
export const HAS_QUERY_ZONE: u32 = 1 << 16;
export const HAS_POLICY: u32 = 1 << 17;
export const HAS_HTTP_PROTOCOL: u32 = 1 << 18;
export const HAS_VERSION: u32 = 1 << 19;
export const HAS_EXTRA: u32 = 1 << 20;
export const HAS_DNS: u32 = 1 << 24;
export const HAS_DNS_RESPONSE: u32 = 1 << 25;
export const HAS_QUESTION: u32 = 1 << 26;
export const HAS_QTYPE: u32 = 1 << 27;
export const HAS_QCLASS: u32 = 1 << 28;
export const HAS_QNAME_POINTER: u32 = 1 << 29;
export const HAS_OPT: u32 = 1 << 30;
/** The data entries of the frame table, for scanWindow's dnstap scan. */
export const DATA_TABLE: u32 = COLUMNS_END;
/** Entries a key list holds: two batches' worth (the caller empties a list
 * holding more than one batch's worth). */
export const KEY_ROWS: u32 = 2 * CAPACITY;
/** Slots of a key list's hash table (a power of two, twice its rows). */
export const KEY_SLOTS: u32 = 2 * KEY_ROWS;
/** Key bytes a list can hold: 256 per entry (a wire name is at most 256). */
export const KEY_ARENA: u32 = 256 * KEY_ROWS;
/** Bytes of one key list: entries of 4 u32, hash slots, arena. */
export const KEY_LIST_BYTES: u32 = KEY_ROWS * 16 + KEY_SLOTS * 4 + KEY_ARENA;
/** The three key lists (names, domains, clients), then a name scratch. */
export const KEYS: u32 = DATA_TABLE + CAPACITY * 12;
/** The wire name scratch of keys(): 512 bytes, then 128 label offsets. */
export const KEY_SCRATCH: u32 = KEYS + 3 * KEY_LIST_BYTES;
/** The lists' entries (3 u32), then their arena bytes used (3 u32). */
export const KEY_COUNTS: u32 = KEY_SCRATCH + 512 + 128 * 4;
/** The caches of keys() (dnstap_keys.ts): name slots, then client slots. */
export const KEY_CACHE: u32 = (KEY_COUNTS + 24 + 63) & ~63;
export const KEY_CACHE_BYTES: u32 = 1024 * 16 + 256 * 32;
export const KEYS_END: u32 = KEY_CACHE + KEY_CACHE_BYTES;
/** The row counts of countRows(): f64 each, at these indices (as
 * src/_dnstap_counts.ts documents them; dnstap_counts.ts fills them). */
export const COUNTS: u32 = (KEYS_END + 7) & ~7;
export const C_MESSAGES: u32 = 0;
export const C_BAD_PROTOBUF: u32 = 1;
export const C_BAD_HEADER: u32 = 2;
export const C_BAD_QUESTION: u32 = 3;
export const C_NO_DNS: u32 = 4;
export const C_QUERIES: u32 = 5;
export const C_RESPONSES: u32 = 6;
export const C_NEGATIVE_LATENCY: u32 = 7;
export const C_LATENCY_COUNT: u32 = 8;
export const C_LATENCY_MIN: u32 = 9;
export const C_LATENCY_MAX: u32 = 10;
export const C_RUN_SECOND: u32 = 11;
export const C_RUN_COUNT: u32 = 12;
export const C_RUNS: u32 = 13;
export const C_OUTLIERS: u32 = 14;
export const C_USED: u32 = 15;
export const T_MESSAGE_TYPES: u32 = 32;
export const T_PROTOCOLS: u32 = T_MESSAGE_TYPES + 32;
export const T_RCODES: u32 = T_PROTOCOLS + 32;
export const T_QTYPES: u32 = T_RCODES + 4096;
export const T_LATENCY: u32 = T_QTYPES + 65536;
/** Latency buckets: 256 exact, then 128 per power of two up to 2^53. */
export const LATENCY_BUCKETS: u32 = 256 + 45 * 128;
export const L_USED: u32 = T_LATENCY + LATENCY_BUCKETS;
export const L_RUNS: u32 = L_USED + 32 + 32 + 4096 + 65536;
export const L_OUTLIERS: u32 = L_RUNS + 2 * CAPACITY;
export const COUNTS_LENGTH: u32 = L_OUTLIERS + 4 * CAPACITY;
export const COUNTS_BYTES: u32 = COUNTS_LENGTH * 8;
export const COUNTS_END: u32 = COUNTS + COUNTS_BYTES;
/** The input region: COUNTS_END rounded up to 64 KiB. */
export const INPUT: u32 = (COUNTS_END + 0xffff) & ~0xffff;
