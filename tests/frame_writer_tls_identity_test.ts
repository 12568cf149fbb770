// FrameWriter's TLS identity: a server name apart from the address
// (`serverName`), and a client certificate (`cert`, `key`) that a collector
// requiring one verifies (openssl s_server -Verify, since Deno's own TLS
// listener cannot ask for one: docs/sockets.md). Certificates from a test
// CA made with openssl.
import assert from "node:assert/strict";
import { withTempDir } from "./_support.ts";
import { FrameWriter } from "../src/frame_writer.ts";
import { FrameReceiver } from "../src/frame_receiver.ts";
import { interopTest } from "./_peers.ts";
import { MutualTlsServer, testPki } from "./_tls.ts";
import { DNSTAP, take } from "./_receiver.ts";

interopTest(
  "FrameWriter connects to an address and checks serverName in the certificate",
  ["openssl"],
  async () => {
    await withTempDir(async (dir) => {
      const pki = await testPki(dir, "collector.test");
      const receiver = await FrameReceiver.listen(
        { transport: "tls", port: 0, ...pki.server },
        { contentTypes: [DNSTAP] },
      );
      const port = (receiver.addr as Deno.NetAddr).port;
      const frames = take(receiver[Symbol.asyncIterator](), 2);
      // 127.0.0.1 is where; collector.test (which does not resolve) is the
      // name its certificate carries.
      const writer = await FrameWriter.connect({
        transport: "tls",
        hostname: "127.0.0.1",
        port,
        serverName: "collector.test",
        caCerts: [pki.ca],
      }, { contentTypes: [DNSTAP], reconnect: false });
      await writer.write(new TextEncoder().encode("a"));
      await writer.write(new TextEncoder().encode("bc"));
      await writer.close();
      assert.deepEqual((await frames).map((f) => f.data.length), [1, 2]);
      // Without serverName the address is the name checked: refused.
      await assert.rejects(
        FrameWriter.connect(
          { transport: "tls", hostname: "127.0.0.1", port, caCerts: [pki.ca] },
          { contentTypes: [DNSTAP], reconnect: false },
        ),
        /Cannot connect to tls:127\.0\.0\.1:\d+: .*(certificate|NotValidForName)/i,
      );
      // A name the certificate does not carry: refused.
      await assert.rejects(
        FrameWriter.connect({
          transport: "tls",
          hostname: "127.0.0.1",
          port,
          serverName: "other.test",
          caCerts: [pki.ca],
        }, { contentTypes: [DNSTAP], reconnect: false }),
        /Cannot connect to tls:127\.0\.0\.1:\d+: .*(certificate|NotValidForName)/i,
      );
      await receiver.close();
    });
  },
);

interopTest(
  "FrameWriter presents its client certificate to a collector that requires one",
  ["openssl"],
  async () => {
    await withTempDir(async (dir) => {
      const pki = await testPki(dir, "localhost");
      const server = await MutualTlsServer.start(pki);
      const writer = await FrameWriter.connect({
        transport: "tls",
        hostname: "localhost",
        port: server.port,
        caCerts: [pki.ca],
        cert: pki.client.cert,
        key: pki.client.key,
      }, { contentTypes: [DNSTAP], bidirectional: false, reconnect: false });
      await writer.write(new TextEncoder().encode("frame-one"));
      await writer.close();
      const out = await server.stop();
      // s_server verified the chain of the certificate presented...
      assert.match(out, /depth=0 CN = dns-server-1\s+verify return:1/);
      assert.doesNotMatch(out, /peer did not return a certificate/);
      // ...and got the stream over it (it prints what it reads).
      assert.ok(out.includes(DNSTAP), out);
      assert.ok(out.includes("frame-one"), out);
    });
  },
);

interopTest(
  "FrameWriter without a client certificate is refused by a collector that requires one",
  ["openssl"],
  async () => {
    await withTempDir(async (dir) => {
      const pki = await testPki(dir, "localhost");
      const server = await MutualTlsServer.start(pki);
      // TLS 1.3: the client may finish its handshake before the server
      // checks; the server then ends the connection. Either way nothing
      // is taken.
      await FrameWriter.connect({
        transport: "tls",
        hostname: "localhost",
        port: server.port,
        caCerts: [pki.ca],
      }, { contentTypes: [DNSTAP], bidirectional: false, reconnect: false })
        .then(async (w) => {
          await w.write(new TextEncoder().encode("x")).catch(() => {});
          await w.close().catch(() => {});
        }, () => {});
      const out = await server.stop();
      assert.match(out, /peer did not return a certificate/);
      assert.ok(!out.includes(DNSTAP));
    });
  },
);

Deno.test("FrameWriter.connect checks cert, key and serverName", async () => {
  const base = { transport: "tls", port: 1 } as const;
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ cert: "C" }, /cert and key go together/],
    [{ key: "K" }, /cert and key go together/],
    [{ serverName: "" }, /serverName must be a non-empty string/],
    [{ cert: 5, key: "K" }, /cert must be a non-empty string/],
    [
      { serverName: "collector.test", cert: "C", key: "K" },
      /serverName with a client certificate .*denoland\/deno#21496/,
    ],
  ];
  for (const [extra, message] of cases) {
    await assert.rejects(
      FrameWriter.connect({ ...base, ...extra } as never, { reconnect: false }),
      (e: unknown) => e instanceof TypeError && message.test(e.message),
      JSON.stringify(extra),
    );
  }
});

// What Deno 2.9 cannot do, as docs/sockets.md says; these fail when a
// Deno can, and the docs (and the refusals in the code) should change.

interopTest(
  "Deno.listenTls asks no client certificate, whatever the options (docs/sockets.md)",
  ["openssl"],
  async () => {
    await withTempDir(async (dir) => {
      const pki = await testPki(dir, "localhost");
      // Options other runtimes take; Deno ignores them.
      const listener = Deno.listenTls(
        {
          hostname: "127.0.0.1",
          port: 0,
          cert: pki.server.cert,
          key: pki.server.key,
          ...{
            requestClientCert: true,
            requireClientCert: true,
            caCerts: [pki.ca],
          },
        } as Deno.ListenTlsOptions & Deno.TlsCertifiedKeyPem,
      );
      const served = listener.accept().then(async (conn) => {
        await conn.handshake().catch(() => {});
        await conn.read(new Uint8Array(16)).catch(() => {});
        conn.close();
      });
      const { stdout } = await new Deno.Command("openssl", {
        args: [
          "s_client",
          "-connect",
          `127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
          "-servername",
          "localhost",
          "-CAfile",
          pki.caFile,
        ],
        stdin: "null",
        stdout: "piped",
        stderr: "null",
      }).output();
      const out = new TextDecoder().decode(stdout);
      assert.match(out, /No client certificate CA names sent/);
      assert.match(out, /Verify return code: 0 \(ok\)/);
      await served;
      listener.close();
    });
  },
);

interopTest(
  "Deno.startTls presents no client certificate even when given one (denoland/deno#21496)",
  ["openssl"],
  async () => {
    await withTempDir(async (dir) => {
      const pki = await testPki(dir, "localhost");
      const server = await MutualTlsServer.start(pki);
      const tcp = await Deno.connect({
        hostname: "127.0.0.1",
        port: server.port,
      });
      await Deno.startTls(tcp, {
        hostname: "localhost",
        caCerts: [pki.ca],
        ...{ cert: pki.client.cert, key: pki.client.key },
      } as Deno.StartTlsOptions).then(async (conn) => {
        await conn.handshake().catch(() => {});
        conn.close();
      }, () => {});
      assert.match(await server.stop(), /peer did not return a certificate/);
    });
  },
);
