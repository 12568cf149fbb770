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
