// Properties of formatDnstapQuiet / formatDnstapYaml / formatDnstapJson: on
// random records they never throw and return null exactly where the Go tool
// stops; and a seeded batch of random records prints as the Go tool prints
// it, byte for byte.
import assert from "node:assert/strict";
import fc from "fast-check";
import type { Dnstap } from "../src/dnstap.ts";
import { interopTest } from "./_peers.ts";
import { dnstapArb } from "./_dnstap_arbitrary.ts";
import { firstDiff, FORMATS, goRun, ourRun } from "./_go_format.ts";

/** Whether the Go tool stops at this record, per its source. */
function goStops(d: Dnstap, flag: "-q" | "-y" | "-j"): boolean {
  const message = d.type === "MESSAGE" || d.type === 1;
  if (flag === "-q") return !message || d.message === undefined;
  if (flag === "-y") return message && d.message === undefined;
  const badAddress = (a?: Uint8Array): boolean =>
    a !== undefined && a.length !== 0 && a.length !== 4 && a.length !== 16;
  return d.message === undefined || badAddress(d.message.queryAddress) ||
    badAddress(d.message.responseAddress);
}

Deno.test("Go formats never throw and are null exactly where the tool stops", () => {
  fc.assert(
    fc.property(dnstapArb(), (d) => {
      for (const flag of ["-q", "-y", "-j"] as const) {
        const text = FORMATS[flag](d);
        assert.equal(text === null, goStops(d, flag), flag);
        if (text !== null) assert.ok(text.endsWith("\n"), flag);
      }
    }),
    { numRuns: 3000 },
  );
});

/** A DNS message with only a header and questions, or cut anywhere. */
const simpleDnsArb: fc.Arbitrary<Uint8Array> = fc.record({
  id: fc.integer({ min: 0, max: 0xffff }),
  flags: fc.integer({ min: 0, max: 0xffff }),
  questions: fc.array(
    fc.record({
      labels: fc.array(
        fc.stringMatching(/^[a-z0-9-]{1,12}$/),
        { maxLength: 4 },
      ),
      type: fc.oneof(
        fc.constantFrom(1, 2, 5, 6, 15, 16, 28, 33, 64, 65, 255),
        fc.integer({ min: 0, max: 0xffff }),
      ),
      cls: fc.oneof(
        fc.constantFrom(1, 3, 4, 254, 255),
        fc.integer({ min: 0, max: 0xffff }),
      ),
    }),
    { maxLength: 2 },
  ),
  cut: fc.option(fc.nat(40), { nil: undefined }),
}).map(({ id, flags, questions, cut }) => {
  const b = [id >> 8, id & 255, flags >> 8, flags & 255, 0, questions.length];
  b.push(0, 0, 0, 0, 0, 0);
  for (const q of questions) {
    for (const l of q.labels) b.push(l.length, ...new TextEncoder().encode(l));
    b.push(0, q.type >> 8, q.type & 255, q.cls >> 8, q.cls & 255);
  }
  return new Uint8Array(cut === undefined ? b : b.slice(0, cut));
});

for (const flag of ["-q", "-y", "-j"] as const) {
  interopTest(`format ${flag} equals dnstap ${flag} on 500 random records`, [
    "dnstap",
  ], async () => {
    const records = fc.sample(dnstapArb(simpleDnsArb), {
      seed: 20261203,
      numRuns: 500,
    });
    // The batch up to a little past the first record the tool cannot print,
    // where it stops printing (and, with more than its 32-frame channel
    // left to read, hangs).
    const stop = records.findIndex((d) => goStops(d, flag));
    const head = stop < 0 ? records : records.slice(0, stop + 4);
    const go = await goRun(head, flag);
    const ours = ourRun(head, flag);
    assert.ok(ours === go.out, `whole batch: ${firstDiff(ours, go.out)}`);
    // And every record it can print.
    const printable = records.filter((d) => !goStops(d, flag));
    assert.ok(printable.length > 300, `${printable.length} printable`);
    const go2 = await goRun(printable, flag);
    const ours2 = ourRun(printable, flag);
    assert.ok(ours2 === go2.out, firstDiff(ours2, go2.out));
  });
}
