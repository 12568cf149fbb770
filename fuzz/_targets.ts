// Private: the registry of fuzz targets. A target is a module
// fuzz/_check_<name>.ts exporting a FuzzTarget (see _target.ts); registering
// it is one line in TARGETS below. New targets go last: a target's place in
// the list seeds its batches, so that a seed keeps naming the same cases.
// `fuzz.ts --target all` runs them in this order.
import { decoderTarget } from "./_check_decoder.ts";
import { handshakeTarget } from "./_check_handshake.ts";
import { readerTarget } from "./_check_reader.ts";
import type { FuzzTarget } from "./_target.ts";
import { writerSessionTarget } from "./_check_writer_session.ts";
import { readerSessionTarget } from "./_check_reader_session.ts";
import { fail } from "./_assert.ts";
import { defineTarget } from "./_target.ts";
import { dnstapTarget } from "./_check_dnstap.ts";
import { dnsMessageTarget } from "./_check_dns_message.ts";
import { dnstapQuietTarget } from "./_check_dnstap_quiet.ts";

/** Every target, in the order `--target all` runs them. */
export const TARGETS: readonly FuzzTarget[] = [
  decoderTarget,
  readerTarget,
  handshakeTarget,
  writerSessionTarget,
  defineTarget(readerSessionTarget(fail)),
  dnstapTarget,
  dnsMessageTarget,
  dnstapQuietTarget,
];

/** The targets' names, in order. */
export const TARGET_NAMES: readonly string[] = TARGETS.map((t) => t.name);

/** The target called `name`; a TypeError if there is none. */
export function targetNamed(name: string): FuzzTarget {
  const target = TARGETS.find((t) => t.name === name);
  if (target === undefined) {
    throw new TypeError(
      `Cannot find fuzz target "${name}": the targets are ${
        TARGET_NAMES.join(", ")
      }`,
    );
  }
  return target;
}
