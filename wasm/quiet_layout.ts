// The quiet scan's memory layout (wasm/dnstap_quiet.ts describes it): the
// addresses its parts share.

export const RESULTS: u32 = 64;
// After the frame table (TABLE + 12 * TABLE_CAPACITY = 50176).
export const TABLES: u32 = 65536;
export const TYPE_NAMES: u32 = TABLES;
export const CLASS_NAMES: u32 = TABLES + 4160;
export const PROTOCOLS: u32 = TABLES + 8320;
export const EXTRA_TYPES: u32 = TABLES + 10368;
export const PLAIN: u32 = TABLES + 10432;
// SCHEMAS, at TABLES + 10688, and VALS are dns_valid.ts's.
export const DIGITS: u32 = TABLES + 14880;
export const TABLES_END: u32 = TABLES + 15904;
export const CLOCKS: u32 = 81920;
export const OUTPUT: u32 = 98304;
export const OUTPUT_SIZE: u32 = 262144;
export const INPUT: u32 = 360448;
export const INPUT_MAX: u32 = 0x7fff0000;
export const LINE_MAX: u32 = 1536;

