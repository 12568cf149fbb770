// Shared by the tests of live commands (`fstrm top -u/-l`, `fstrm dnstap
// -l --allow`): a running command whose stderr is read as it comes, and a
// peer that connects and waits to be closed.
import { fstrmArgs } from "./_cli.ts";

const dec = new TextDecoder();

/** A running `fstrm ...args`, stdout collected, stderr read as it comes. */
export class LiveCommand {
  readonly child: Deno.ChildProcess;
  #stderr = "";
  #stdout: Promise<Uint8Array>;
  #errDone: Promise<void>;

  constructor(args: string[]) {
    const child = new Deno.Command(Deno.execPath(), {
      args: fstrmArgs(args),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.child = child;
    this.#stdout = new Response(child.stdout).bytes();
    this.#errDone = (async () => {
      for await (const chunk of child.stderr) {
        this.#stderr += dec.decode(chunk, { stream: true });
      }
    })();
  }

  /** Stderr so far. */
  get stderr(): string {
    return this.#stderr;
  }

  /** Waits (up to 15 s) for stderr to match `re`; its match. */
  async line(re: RegExp): Promise<RegExpMatchArray> {
    for (let i = 0; i < 600; i++) {
      const m = this.#stderr.match(re);
      if (m !== null) return m;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`no ${re} on stderr: ${this.#stderr}`);
  }

  /** The TCP port of a `listening on tcp HOST:PORT` line. */
  async port(): Promise<number> {
    const m = await this.line(/listening on tcp .*:(\d+)\n/);
    return Number(m[1]);
  }

  /** Waits for the end; code, stdout, stderr. */
  async end(): Promise<{ code: number; stdout: Uint8Array; stderr: string }> {
    const [status, stdout] = await Promise.all([
      this.child.status,
      this.#stdout,
    ]);
    await this.#errDone;
    return { code: status.code, stdout, stderr: this.#stderr };
  }

  /** Kills it (SIGKILL) if it runs, and waits for its end. */
  async kill(): Promise<void> {
    try {
      this.child.kill("SIGKILL");
    } catch {
      // gone
    }
    await this.end();
  }
}

/**
 * Connects to 127.0.0.1:`port` and says whether the peer closed the
 * connection within `ms` without a byte sent (a refusal), or kept it open.
 * The connection is closed before it returns.
 */
export async function closedAtOnce(port: number, ms = 2000): Promise<boolean> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const read = conn.read(new Uint8Array(16)).then(
      (n) => n === null,
      () => true,
    );
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    });
    const closed = await Promise.race([read, timeout]);
    clearTimeout(timer);
    return closed;
  } finally {
    try {
      conn.close();
    } catch {
      // closed already
    }
  }
}
