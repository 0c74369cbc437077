import { createConnection, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Transform, type TransformCallback } from 'node:stream';

// Vault's clients send LIST as an HTTP method (`LIST /v1/secret/metadata/`), which Node's HTTP parser
// refuses (400) as it knows only the registered methods. So the simulated Vault listens behind a small
// loopback relay that rewrites each request line `LIST <target> HTTP/1.1` to `GET <target>` with an
// `X-Vault-Sim-Method: LIST` header, which the simulator reads as LIST. The relay follows request
// boundaries (headers, then Content-Length bytes of body); a chunked request body ends the rewriting
// for that connection (Vault clients send LIST without a body).

export const ORIGINAL_METHOD_HEADER = 'x-vault-sim-method';

class ListRewriter extends Transform {
  private buffered = Buffer.alloc(0);
  private bodyLeft = 0;
  private passThrough = false;

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (this.passThrough) return done(null, chunk);
    this.buffered = Buffer.concat([this.buffered, chunk]);
    const out: Buffer[] = [];
    for (;;) {
      if (this.bodyLeft > 0) {
        const take = Math.min(this.bodyLeft, this.buffered.length);
        out.push(this.buffered.subarray(0, take));
        this.buffered = this.buffered.subarray(take);
        this.bodyLeft -= take;
        if (this.bodyLeft > 0) break;
        continue;
      }
      const end = this.buffered.indexOf('\r\n\r\n');
      if (end < 0) {
        // Headers not complete yet (a runaway header block is passed on for the HTTP server to refuse).
        if (this.buffered.length > 65_536) {
          out.push(this.buffered);
          this.buffered = Buffer.alloc(0);
          this.passThrough = true;
        }
        break;
      }
      let head = this.buffered.subarray(0, end + 4).toString('latin1');
      this.buffered = this.buffered.subarray(end + 4);
      if (head.startsWith('LIST ')) head = head.replace(/^LIST (\S+) (HTTP\/1\.[01])\r\n/, `GET $1 $2\r\n${ORIGINAL_METHOD_HEADER}: LIST\r\n`);
      if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
        out.push(Buffer.from(head, 'latin1'), this.buffered);
        this.buffered = Buffer.alloc(0);
        this.passThrough = true;
        break;
      }
      this.bodyLeft = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
      out.push(Buffer.from(head, 'latin1'));
    }
    done(null, out.length > 0 ? Buffer.concat(out) : undefined);
  }
}

/** A loopback relay on `port` in front of the HTTP server at `upstreamPort` that lets LIST through. */
export async function listMethodRelay(upstreamPort: number, port: number, host: string): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = createConnection({ port: upstreamPort, host });
    sockets.add(client);
    sockets.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(new ListRewriter()).pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}
