/**
 * `fstrm replay`: sends the data frames of Frame Streams files to a
 * collector over a Unix socket, TCP or TLS, as fstrm-bin's `fstrm_replay`
 * does (same flags), with a rate limit, looping, unidirectional streams and
 * a progress line.
 *
 * @module
 */
import type { ConnectTarget } from "../frame_writer.ts";
import { FrameWriter } from "../frame_writer.ts";
import { FrameReader } from "../frame_reader.ts";
import { openFrameReader } from "../file.ts";
import {
  HandshakeError,
  SessionTimeoutError,
  TruncatedFrameError,
} from "../errors.ts";
import { contentTypeOption, integerOption, parseCommandArgs } from "./_args.ts";
import { CliError, usageError } from "./_cli_error.ts";
import { checkReplayFile, readReplayStdin } from "./_replay_files.ts";
import { PrefixedSource } from "./_file_input.ts";
import { ReplayProgress } from "./_replay_progress.ts";
import {
  describeTarget,
  plainError,
  readOptionFile,
  type SocketTarget,
  socketTarget,
} from "./_targets.ts";
import { writeAll } from "./_write_all.ts";
import { dataRunEnd } from "../_wire.ts";

const HELP = `\
Usage: fstrm replay -t TYPE (-u PATH | -a ADDRESS -p PORT) -r FILE... [options]

Sends the data frames of Frame Streams files, in order, to a collector (a
dnstap collector, fstrm_capture, fstrm capture) as one stream: READY,
ACCEPT, START, the frames, STOP, FINISH; as fstrm_replay does. Every file is
checked before anything is sent: it must begin with START naming TYPE (or
no content type); with -r -, standard input's START is read and checked
before connecting.

Options (those of fstrm_replay):
  -t, --type TYPE         the content type to offer (required), e.g.
                          protobuf:dnstap.Dnstap
  -u, --unix PATH         connect to this Unix socket
  -a, --tcp ADDRESS       connect to this TCP address, with -p
  -p, --port PORT         the TCP port
  -r, --read-file FILE    a file to send (repeatable; files may also follow
                          the options); - reads standard input, once, as
                          its frames come (a relay: fstrm capture -w - |
                          fstrm replay ... -r -)

More:
      --rate N            send at most N frames per second (decimals allowed)
      --loop              send the files again and again, until --limit or
                          SIGINT/SIGTERM (then exit 0)
      --limit N           stop after N frames
      --unidirectional    send START … STOP only, expect nothing back (as
                          unbound with dnstap-bidirectional: no); fstrm_capture
                          does not take this, fstrm capture does
      --tls               TLS over TCP (-a, -p)
      --tls-ca FILE       trust this PEM certificate (or CA) besides the
                          system's roots
      --tls-hostname NAME the name the server's certificate must carry; the
                          connection goes to NAME too (it replaces -a)
      --tls-server-name NAME
                          the name the server's certificate must carry
                          (and SNI), while the connection goes to -a (an
                          IP address, say); not with --tls-cert (Deno 2.9
                          cannot: denoland/deno#21496)
      --tls-cert FILE     present this PEM client certificate chain (to a
                          collector that requires one), with --tls-key
      --tls-key FILE      the client certificate's PEM private key
  -d, --debug             a summary line at the end
  -h, --help              show this help

A progress line is drawn on stderr when stderr is a terminal.

Exit status: 0 when every frame was sent and the stream closed (STOP, and
FINISH when bidirectional); 1 when a file is missing, not Frame Streams, of
another content type, cut short (the frames before the cut are sent first),
or the collector refuses the content type, cannot be reached or goes away;
2 on a usage error; 130 (SIGINT) or 143 (SIGTERM) when interrupted, after
closing the stream cleanly (with --loop an interruption is the normal end:
0).
`;

/** The options of `fstrm replay`, for `parseCommandArgs` (exported for tests). */
export const OPTIONS = {
  type: { type: "string", short: "t", multiple: true },
  unix: { type: "string", short: "u" },
  tcp: { type: "string", short: "a" },
  port: { type: "string", short: "p" },
  "read-file": { type: "string", short: "r", multiple: true },
  rate: { type: "string" },
  loop: { type: "boolean" },
  limit: { type: "string" },
  unidirectional: { type: "boolean" },
  tls: { type: "boolean" },
  "tls-ca": { type: "string" },
  "tls-hostname": { type: "string" },
  "tls-server-name": { type: "string" },
  "tls-cert": { type: "string" },
  "tls-key": { type: "string" },
  debug: { type: "boolean", short: "d", multiple: true },
  help: { type: "boolean", short: "h" },
} as const;

/** Thrown from the frame callback to end reading early. */
class EndOfReplay extends Error {}

/**
 * `fstrm replay`: sends the data frames of Frame Streams files to a
 * collector.
 *
 * @param args The arguments after `replay`.
 * @returns The exit code: 0 when every frame was sent, 1 on a runtime
 * error, 2 on a usage error, 130 or 143 when interrupted.
 */
export async function replay(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs("replay", args, OPTIONS);
  if (values.help === true) {
    await writeAll(Deno.stdout, HELP);
    return 0;
  }
  const cmd = "replay";
  const contentType = contentTypeOption(cmd, values);
  const typeBytes = new TextEncoder().encode(contentType);
  const files = [
    ...((values["read-file"] as string[] | undefined) ?? []),
    ...positionals,
  ];
  if (files.length === 0) {
    throw usageError(cmd, "no file to send: give -r FILE (--read-file)");
  }
  const tls = values.tls === true;
  const tlsHostname = values["tls-hostname"] as string | undefined;
  const tlsCa = values["tls-ca"] as string | undefined;
  const tlsServerName = values["tls-server-name"] as string | undefined;
  const tlsCert = values["tls-cert"] as string | undefined;
  const tlsKey = values["tls-key"] as string | undefined;
  if (
    !tls &&
    [tlsHostname, tlsCa, tlsServerName, tlsCert, tlsKey].some((v) =>
      v !== undefined
    )
  ) {
    throw usageError(
      cmd,
      "--tls-ca, --tls-hostname, --tls-server-name, --tls-cert and --tls-key go with --tls",
    );
  }
  if ((tlsCert === undefined) !== (tlsKey === undefined)) {
    throw usageError(cmd, "--tls-cert and --tls-key go together");
  }
  if (tlsServerName !== undefined && tlsHostname !== undefined) {
    throw usageError(
      cmd,
      "give --tls-hostname or --tls-server-name, not both",
    );
  }
  if (tlsServerName === "") {
    throw usageError(cmd, "--tls-server-name wants a name");
  }
  if (tlsServerName !== undefined && tlsCert !== undefined) {
    throw usageError(
      cmd,
      "--tls-server-name with --tls-cert: Deno 2.9 cannot present a client certificate with a server name apart from the address (denoland/deno#21496); connect by the name (--tls-hostname)",
    );
  }
  if (tlsHostname !== undefined) {
    const a = values.tcp as string | undefined;
    if (a !== undefined && a !== tlsHostname) {
      throw usageError(
        cmd,
        "give -a or --tls-hostname, not both: the TLS connection goes to the name it checks",
      );
    }
    if (values.unix === undefined) values.tcp = tlsHostname;
  }
  const socket = socketTarget(cmd, values, 1);
  if (tls && socket.transport === "unix") {
    throw usageError(cmd, "--tls needs -a and -p, not -u");
  }
  const rate = values.rate === undefined
    ? 0
    : rateOption(values.rate as string);
  const limit = values.limit === undefined
    ? Infinity
    : integerOption(cmd, "--limit", values.limit as string, 1);
  const loop = values.loop === true;
  const bidirectional = values.unidirectional !== true;
  const verbosity = (values.debug as boolean[] | undefined)?.length ?? 0;

  if (files.filter((f) => f === "-").length > 1) {
    throw usageError(cmd, "give -r - (standard input) once");
  }
  if (loop && files.includes("-")) {
    throw usageError(
      cmd,
      "--loop sends the files again, and standard input (-r -) can be read once",
    );
  }
  let total = 0;
  let stdinHead: Uint8Array | null = null;
  for (const file of files) {
    if (file === "-") stdinHead = await readReplayStdin(typeBytes);
    else total += await checkReplayFile(file, typeBytes);
  }

  const target = await connectTarget(socket, tls, {
    ca: tlsCa,
    serverName: tlsServerName,
    cert: tlsCert,
    key: tlsKey,
  });
  const where = describeTarget(socket, tls);
  return await send({
    files,
    target,
    where,
    contentType,
    bidirectional,
    rate,
    limit,
    loop,
    // Standard input's size is unknown: no percentage.
    total: stdinHead === null ? total : 0,
    stdinHead,
    verbosity,
  });
}

interface SendPlan {
  files: string[];
  target: ConnectTarget;
  where: string;
  contentType: string;
  bidirectional: boolean;
  rate: number;
  limit: number;
  loop: boolean;
  total: number;
  /** The START read from standard input (`-r -`), or `null`. */
  stdinHead: Uint8Array | null;
  verbosity: number;
}

async function send(plan: SendPlan): Promise<number> {
  let lastError: Error | null = null;
  let writer: FrameWriter;
  try {
    writer = await FrameWriter.connect(plan.target, {
      contentTypes: [plan.contentType],
      bidirectional: plan.bidirectional,
      reconnect: false,
      // Paced frames go out as they are due, not a second later; unpaced,
      // a file goes in socket writes of up to 1 MiB (the default).
      ...(plan.rate > 0 ? { flushInterval: 20 } : {}),
      onError: (error) => lastError = error,
    });
  } catch (error) {
    throw new CliError(
      `cannot connect to ${plan.where}: ${connectProblem(error, plan)}`,
    );
  }

  let interrupted: Deno.Signal | null = null;
  const onSignal = (signal: Deno.Signal) => () => interrupted ??= signal;
  const handlers: [Deno.Signal, () => void][] = [
    ["SIGINT", onSignal("SIGINT")],
    ["SIGTERM", onSignal("SIGTERM")],
  ];
  for (const [s, h] of handlers) Deno.addSignalListener(s, h);

  let frames = 0;
  let bytes = 0;
  let passBytes = 0;
  let current = plan.files[0]!;
  const progress = Deno.stderr.isTerminal()
    ? new ReplayProgress({
      frames: () => frames,
      bytes: () => passBytes,
      file: () => current,
      total: plan.loop ? 0 : plan.total,
    })
    : null;
  const t0 = performance.now();
  const { rate, limit } = plan;
  const msPerFrame = rate > 0 ? 1000 / rate : 0;
  let failure: CliError | null = null;

  const forward = (
    window: Uint8Array,
    offset: number,
    length: number,
  ): void | Promise<void> => {
    if (interrupted !== null || frames >= limit) throw new EndOfReplay();
    const payload = window.subarray(offset, offset + length);
    if (rate > 0) {
      const wait = t0 + frames * msPerFrame - performance.now();
      if (wait > 1) {
        return sleep(wait).then(() => {
          if (interrupted !== null) throw new EndOfReplay();
          return put(payload, length);
        });
      }
    }
    return put(payload, length);
  };
  const put = (payload: Uint8Array, length: number): void | Promise<void> => {
    frames++;
    bytes += length;
    passBytes += length + 4; // as the file holds it, for the progress line
    return writer.tryWrite(payload) ? undefined : writer.write(payload);
  };

  // Without --rate, whole runs of frames go on as the file holds them: one
  // copy per run instead of one per frame.
  const forwardRun = (
    window: Uint8Array,
    start: number,
    end: number,
    n: number,
  ): void | Promise<void> => {
    if (interrupted !== null || frames >= limit) throw new EndOfReplay();
    if (frames + n > limit) {
      // --limit ends inside this run.
      n = limit - frames;
      end = dataRunEnd(window, start, n);
    }
    frames += n;
    bytes += end - start - 4 * n;
    passBytes += end - start;
    const run = window.subarray(start, end);
    return writer.tryWriteRun(run) ? undefined : writer.writeRun(run);
  };

  try {
    passes: do {
      passBytes = 0;
      for (const path of plan.files) {
        current = path === "-" ? "stdin" : path;
        let reader: FrameReader;
        try {
          reader = await openReader(path, plan.stdinHead);
        } catch (error) {
          failure = new CliError(`cannot open ${path}: ${plainError(error)}`);
          break passes;
        }
        try {
          if (rate > 0) await reader.forEachFrame(forward);
          else await reader.forEachRun(forwardRun);
        } catch (error) {
          if (error instanceof EndOfReplay) break passes;
          failure = error instanceof TruncatedFrameError ||
              error instanceof RangeError || error instanceof SyntaxError
            ? new CliError(
              `${current}: ${
                (error as Error).message
              }; the ${frames} frames before it were sent`,
            )
            : new CliError(
              `connection to ${plan.where} lost after ${frames} frames: ${
                plainError(lastError ?? error)
              }`,
            );
          break passes;
        } finally {
          reader.close();
        }
        if (interrupted !== null || frames >= limit) break passes;
      }
      // An empty pass would loop forever without sending anything.
    } while (plan.loop && passBytes > 0);
    await writer.flush().catch(() => {});
  } finally {
    await writer.close();
    progress?.stop();
    for (const [s, h] of handlers) Deno.removeSignalListener(s, h);
  }
  const stats = writer.stats;
  if (failure === null && stats.frames < frames) {
    failure = new CliError(
      `connection to ${plan.where} lost: ${
        frames - stats.frames
      } of ${frames} frames not delivered${
        lastError === null ? "" : ` (${plainError(lastError)})`
      }`,
    );
  }
  if (failure !== null) throw failure;
  const seconds = (performance.now() - t0) / 1000;
  if (plan.verbosity > 0) {
    await writeAll(
      Deno.stderr,
      `fstrm replay: sent ${frames} frames (${bytes} bytes) to ${plan.where} in ${
        seconds.toFixed(2)
      } s (${Math.round(frames / Math.max(seconds, 1e-3))} frames/s)\n`,
    );
  }
  if (interrupted !== null && !plan.loop) {
    await writeAll(
      Deno.stderr,
      `fstrm replay: interrupted by ${interrupted} after ${frames} frames (stream closed with STOP)\n`,
    );
    return interrupted === "SIGINT" ? 130 : 143;
  }
  return 0;
}

/**
 * A reader of `path`'s frames, of any length; `-` reads standard input
 * (`head`, its START, already read), as its bytes come: by async reads, so
 * that the writer's socket keeps moving while stdin waits.
 */
async function openReader(
  path: string,
  head: Uint8Array | null,
): Promise<FrameReader> {
  if (path !== "-") {
    return await openFrameReader(path, { maxFrameLength: 0xffff_ffff });
  }
  return new FrameReader(new PrefixedSource(head!, Deno.stdin), {
    maxFrameLength: 0xffff_ffff,
    readSync: false,
  });
}

/**
 * The writer's target, with TLS if asked: its CA, server name and client
 * certificate.
 */
async function connectTarget(
  socket: SocketTarget,
  tls: boolean,
  files: {
    ca: string | undefined;
    serverName: string | undefined;
    cert: string | undefined;
    key: string | undefined;
  },
): Promise<ConnectTarget> {
  if (socket.transport === "unix" || !tls) return socket;
  const read = async (flag: string, path: string): Promise<string> => {
    try {
      return await readOptionFile(flag, path);
    } catch (error) {
      throw new CliError((error as Error).message);
    }
  };
  return {
    transport: "tls",
    hostname: socket.hostname,
    port: socket.port,
    ...(files.ca === undefined
      ? {}
      : { caCerts: [await read("--tls-ca", files.ca)] }),
    ...(files.serverName === undefined ? {} : { serverName: files.serverName }),
    ...(files.cert === undefined ? {} : {
      cert: await read("--tls-cert", files.cert),
      key: await read("--tls-key", files.key!),
    }),
  };
}

/** Why connecting failed, in a few words. */
function connectProblem(error: unknown, plan: SendPlan): string {
  const type = JSON.stringify(plan.contentType);
  if (error instanceof HandshakeError && error.reason === "closed") {
    return `the collector closed the connection before ACCEPT: does it accept content type ${type}?`;
  }
  if (error instanceof HandshakeError) {
    return error.reason === "no-common-content-type"
      ? `the collector does not accept content type ${type}`
      : plainError(error);
  }
  if (error instanceof SessionTimeoutError) {
    return "no ACCEPT within 5 s after READY";
  }
  if (error instanceof Deno.errors.NotFound) {
    return "no such socket";
  }
  if (error instanceof Deno.errors.ConnectionRefused) {
    return "connection refused";
  }
  // The writer's message names the target again ("Cannot connect to X:
  // ..."); its cause says the rest.
  const cause = error instanceof Error && error.cause instanceof Error &&
      error.message.startsWith("Cannot connect to ")
    ? error.cause
    : error;
  return plainError(cause);
}

/** Frames per second: a positive number, decimals allowed. */
function rateOption(value: string): number {
  const n = /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : NaN;
  if (!(n > 0) || n > 1e9) {
    throw usageError(
      "replay",
      `--rate wants frames per second, more than 0, got '${value}'`,
    );
  }
  return n;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
