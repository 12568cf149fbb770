// `fstrm replay` over TLS with --tls-server-name (the address and the name
// apart) and --tls-cert/--tls-key (a client certificate, checked by openssl
// s_server -Verify), and the usage errors of these flags.
import assert from "node:assert/strict";
import { waitFor, withTempDir } from "./_support.ts";
import { interopTest } from "./_peers.ts";
import { MutualTlsServer, testPki } from "./_tls.ts";
import {
  assertFrames,
  closed,
  collector,
  DNSTAP,
  fstrm,
  makePayloads,
  writeStream,
} from "./_cli.ts";

interopTest(
  "replay --tls-server-name checks the name while connecting to -a",
  ["openssl"],
  async () => {
    await withTempDir(async (dir) => {
      const pki = await testPki(dir, "collector.test");
      const payloads = makePayloads(200, 7);
      const file = await writeStream(`${dir}/in.fstrm`, payloads);
      const { receiver, frames, events, where } = await collector({
        transport: "tls",
        port: 0,
        cert: pki.server.cert,
        key: pki.server.key,
      });
      const tls = ["--tls", "--tls-ca", pki.caFile];
      const r = await fstrm([
        "replay",
        "-t",
        DNSTAP,
        ...where,
        ...tls,
        "--tls-server-name",
        "collector.test",
        "-r",
        file,
      ]);
      assert.equal(r.stderr, "");
      assert.equal(r.code, 0);
      await waitFor(() => closed(events).length === 1, "the stream's end");
      assertFrames(frames, payloads);
      // The address alone (127.0.0.1) is not the certificate's name.
      const refused = await fstrm([
        "replay",
        "-t",
        DNSTAP,
        ...where,
        ...tls,
        "-r",
        file,
      ]);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /^fstrm replay: .*certificate/im);
      await receiver.close();
    });
  },
);

interopTest(
  "replay --tls-cert/--tls-key presents a client certificate the collector verifies",
  ["openssl"],
  async () => {
    await withTempDir(async (dir) => {
      const pki = await testPki(dir, "localhost");
      const payloads = [new TextEncoder().encode("replayed-frame")];
      const file = await writeStream(`${dir}/in.fstrm`, payloads);
      const server = await MutualTlsServer.start(pki);
      const r = await fstrm([
        "replay",
        "-t",
        DNSTAP,
        "-a",
        "localhost",
        "-p",
        String(server.port),
        "--unidirectional",
        "--tls",
        "--tls-ca",
        pki.caFile,
        "--tls-cert",
        pki.client.certFile,
        "--tls-key",
        pki.client.keyFile,
        "-r",
        file,
      ]);
      const out = await server.stop();
      assert.equal(r.stderr, "");
      assert.equal(r.code, 0);
      assert.match(out, /depth=0 CN = dns-server-1\s+verify return:1/);
      assert.ok(out.includes("replayed-frame"), out);
    });
  },
);

Deno.test("replay rejects bad --tls-server-name, --tls-cert and --tls-key usage", async () => {
  const see = " (see 'fstrm replay --help')";
  const base = ["-t", "a", "-a", "127.0.0.1", "-p", "1", "-r", "f"];
  // Each case: arguments, the line on stderr.
  const cases: [string[], string][] = [
    [
      [...base, "--tls-server-name", "x"],
      "--tls-ca, --tls-hostname, --tls-server-name, --tls-cert and --tls-key go with --tls",
    ],
    [
      [...base, "--tls", "--tls-cert", "c.pem"],
      "--tls-cert and --tls-key go together",
    ],
    [
      [...base, "--tls", "--tls-server-name", "x", "--tls-hostname", "x"],
      "give --tls-hostname or --tls-server-name, not both",
    ],
    [
      [
        ...base,
        "--tls",
        "--tls-server-name",
        "x",
        "--tls-cert",
        "c",
        "--tls-key",
        "k",
      ],
      "--tls-server-name with --tls-cert: Deno 2.9 cannot present a client certificate with a server name apart from the address (denoland/deno#21496); connect by the name (--tls-hostname)",
    ],
  ];
  const results = await Promise.all(
    cases.map(([args]) => fstrm(["replay", ...args])),
  );
  for (const [i, [args, line]] of cases.entries()) {
    const r = results[i]!;
    assert.equal(r.stderr, `fstrm replay: ${line}${see}\n`, args.join(" "));
    assert.equal(r.code, 2, args.join(" "));
  }
});
