// Private: the shape of the sinks the decoding loops hand data frames to
// (FrameDecoder's ChunkDecoder, FrameReader's WindowLoop, a FrameReceiver
// connection): the public DataCallback and RunCallback without their
// connection argument. A sink may return anything; where a loop awaits, a
// promise returned is awaited, elsewhere it is ignored.

/** Called for each data frame: its payload is window[offset, offset + length). */
export type DataSink = (
  window: Uint8Array,
  offset: number,
  length: number,
) => unknown;

/** Called for each run of `frames` whole data frames at window[start, end). */
export type RunSink = (
  window: Uint8Array,
  start: number,
  end: number,
  frames: number,
) => unknown;
