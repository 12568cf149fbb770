// Private: how the live dnstap commands (`fstrm dnstap -u/-l`, `fstrm top
// -u/-l`) start listening: one FrameReceiver for dnstap, oversized frames
// skipped and counted, refusals logged, the allow-list and per-source limit
// as given, and a listen failure said as a CliError.
import { DNSTAP_CONTENT_TYPE } from "../constants.ts";
import type { RunCallback } from "../callbacks.ts";
import {
  type ConnectionInfo,
  FrameReceiver,
  type ListenTarget,
  type ReadBufferPool,
} from "../frame_receiver.ts";
import { CliError } from "./_cli_error.ts";
import { refusalLine } from "./_capture_log.ts";
import type { AccessOptions } from "./_listen_access.ts";
import { describeListen, listenProblem } from "./_targets.ts";

/** How to listen. */
export interface DnstapListenOptions extends AccessOptions {
  /** Where. */
  target: ListenTarget;
  /** The longest data frame taken (longer ones are skipped, counted). */
  maxFrameLength: number;
  /** What close() gives open streams, in milliseconds. */
  graceMs: number;
  /** Takes the runs of data frames. */
  onRun: RunCallback<ConnectionInfo>;
  /** Memory the connections read into (a scan engine's slots), if any. */
  readBuffers?: ReadBufferPool;
  /** Says a line on stderr (a refused connection). */
  log: (line: string) => unknown;
}

/**
 * A receiver listening for dnstap as the options say.
 *
 * @throws {CliError} "cannot listen on ...: ..." when it cannot listen.
 */
export async function listenForDnstap(
  o: DnstapListenOptions,
): Promise<FrameReceiver> {
  try {
    return await FrameReceiver.listen(o.target, {
      contentTypes: [DNSTAP_CONTENT_TYPE],
      maxFrameLength: o.maxFrameLength,
      oversize: "skip",
      gracePeriod: o.graceMs,
      onRun: o.onRun,
      ...(o.readBuffers === undefined ? {} : { readBuffers: o.readBuffers }),
      onRefused: (r) => void o.log(refusalLine(r)),
      ...(o.allow === undefined ? {} : { allow: o.allow }),
      ...(o.maxConnectionsPerSource === undefined
        ? {}
        : { maxConnectionsPerSource: o.maxConnectionsPerSource }),
    });
  } catch (error) {
    throw new CliError(
      `cannot listen on ${describeListen(o.target)}: ${listenProblem(error)}`,
    );
  }
}
