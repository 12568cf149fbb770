// Test helper: a self-signed certificate for TLS tests, made with openssl.
import assert from "node:assert/strict";

/**
 * Writes a self-signed certificate for localhost and 127.0.0.1 into `dir`
 * and returns it with its key (PEM). It is not a CA certificate: rustls
 * refuses a CA certificate as the server's own.
 */
export async function selfSignedCert(
  dir: string,
): Promise<{ cert: string; key: string }> {
  const { code, stderr } = await new Deno.Command("openssl", {
    args: [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      `${dir}/key.pem`,
      "-out",
      `${dir}/cert.pem`,
      "-days",
      "1",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=DNS:localhost,IP:127.0.0.1",
      "-addext",
      "basicConstraints=critical,CA:FALSE",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  return {
    cert: await Deno.readTextFile(`${dir}/cert.pem`),
    key: await Deno.readTextFile(`${dir}/key.pem`),
  };
}

/** A test CA, a server certificate and a client certificate it signed. */
export interface TestPki {
  /** The CA's certificate, PEM (what both sides trust). */
  ca: string;
  /** Its file. */
  caFile: string;
  /** The server's certificate (for `serverName` only, no IP) and key. */
  server: { cert: string; key: string; certFile: string; keyFile: string };
  /** The client's certificate (CN `dns-server-1`, clientAuth) and key. */
  client: { cert: string; key: string; certFile: string; keyFile: string };
}

/**
 * Makes a CA with openssl in `dir`, and with it a server certificate that
 * names `serverName` only (DNS, no IP address) and a client certificate.
 */
export async function testPki(
  dir: string,
  serverName = "collector.test",
): Promise<TestPki> {
  const run = async (args: string[]): Promise<void> => {
    const { code, stderr } = await new Deno.Command("openssl", {
      args,
      cwd: dir,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.equal(code, 0, new TextDecoder().decode(stderr));
  };
  const newKey = ["req", "-newkey", "rsa:2048", "-nodes"];
  await run([
    ...newKey,
    "-x509",
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "1",
    "-subj",
    "/CN=fstrm test CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign",
  ]);
  const leaf = async (
    name: string,
    cn: string,
    ext: string,
  ): Promise<
    { cert: string; key: string; certFile: string; keyFile: string }
  > => {
    await Deno.writeTextFile(
      `${dir}/${name}.ext`,
      `basicConstraints=critical,CA:FALSE\n${ext}\n`,
    );
    await run([
      ...newKey,
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.csr`,
      "-subj",
      `/CN=${cn}`,
    ]);
    await run([
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-out",
      `${name}.pem`,
      "-days",
      "1",
      "-extfile",
      `${name}.ext`,
    ]);
    return {
      cert: await Deno.readTextFile(`${dir}/${name}.pem`),
      key: await Deno.readTextFile(`${dir}/${name}.key`),
      certFile: `${dir}/${name}.pem`,
      keyFile: `${dir}/${name}.key`,
    };
  };
  return {
    ca: await Deno.readTextFile(`${dir}/ca.pem`),
    caFile: `${dir}/ca.pem`,
    server: await leaf(
      "server",
      serverName,
      `subjectAltName=DNS:${serverName}\nextendedKeyUsage=serverAuth`,
    ),
    client: await leaf("client", "dns-server-1", "extendedKeyUsage=clientAuth"),
  };
}

/**
 * A TLS server that requires a client certificate signed by `caFile` and
 * verifies it (openssl s_server -Verify 1 -verify_return_error), for one
 * connection; its output tells whether and which certificate came.
 */
export class MutualTlsServer {
  readonly port: number;
  readonly #child: Deno.ChildProcess;
  readonly #output: Promise<string>;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;

  private constructor(port: number, child: Deno.ChildProcess) {
    this.port = port;
    this.#child = child;
    this.#stdin = child.stdin.getWriter();
    this.#output = new Response(child.stdout).text();
  }

  /** Starts it on a free port of 127.0.0.1; resolves once it accepts. */
  static async start(pki: TestPki): Promise<MutualTlsServer> {
    const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (probe.addr as Deno.NetAddr).port;
    probe.close();
    const child = new Deno.Command("openssl", {
      args: [
        "s_server",
        "-accept",
        `127.0.0.1:${port}`,
        "-cert",
        pki.server.certFile,
        "-key",
        pki.server.keyFile,
        "-CAfile",
        pki.caFile,
        "-Verify",
        "1",
        "-verify_return_error",
        "-naccept",
        "1",
      ],
      // s_server stops at the end of its stdin: held open until stop().
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const server = new MutualTlsServer(port, child);
    // Ready once the port takes connections (a probe is not TLS: openssl
    // counts it as its one connection, so wait on the port with a plain
    // listen attempt instead).
    for (let i = 0; i < 500; i++) {
      try {
        Deno.listen({ hostname: "127.0.0.1", port }).close();
      } catch {
        return server;
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error("openssl s_server did not start");
  }

  /**
   * Everything it printed (stdout and stderr), once it has ended: on its
   * own when its one connection ends (so that it has read all the client
   * sent), else after 3 s by the end of its stdin.
   */
  async stop(): Promise<string> {
    let wait: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.#child.status,
      new Promise((resolve) => wait = setTimeout(resolve, 3_000)),
    ]);
    clearTimeout(wait);
    await this.#stdin.close().catch(() => {});
    const timer = setTimeout(() => {
      try {
        this.#child.kill();
      } catch {
        // gone
      }
    }, 5_000);
    const [out, err] = await Promise.all([
      this.#output,
      new Response(this.#child.stderr).text(),
    ]);
    await this.#child.status;
    clearTimeout(timer);
    return out + err;
  }
}
