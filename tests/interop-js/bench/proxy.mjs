// A loopback TCP proxy that counts what crosses it, the same way for every client and server:
// bytes in each direction (everything on the socket: HTTP upgrade, WebSocket framing and
// payload), WebSocket data messages in each direction (RFC 6455 §5.2 framing, fragments
// joined) with their automerge-repo `type`, and round trips: the number of times traffic
// turned from client→server to server→client (the HTTP upgrade counts as one exchange).
import net from "node:net";
import { decode } from "cbor-x";

/** Parses the WebSocket frames of one direction; calls onMessage(payload) per data message. */
class FrameReader {
  constructor(onHttp, onMessage) {
    this.buf = Buffer.alloc(0);
    this.http = true;
    this.onHttp = onHttp;
    this.onMessage = onMessage;
    this.fragments = [];
  }

  push(chunk) {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    if (this.http) {
      const end = this.buf.indexOf("\r\n\r\n");
      if (end < 0) return;
      this.http = false;
      this.buf = this.buf.subarray(end + 4);
      this.onHttp();
    }
    for (;;) {
      const b = this.buf;
      if (b.length < 2) return;
      const fin = (b[0] & 0x80) !== 0;
      const opcode = b[0] & 0x0f;
      const masked = (b[1] & 0x80) !== 0;
      let len = b[1] & 0x7f;
      let off = 2;
      if (len === 126) {
        if (b.length < 4) return;
        len = b.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (b.length < 10) return;
        len = Number(b.readBigUInt64BE(2));
        off = 10;
      }
      const maskOff = off;
      if (masked) off += 4;
      if (b.length < off + len) return;
      let payload = b.subarray(off, off + len);
      if (masked) {
        const key = b.subarray(maskOff, maskOff + 4);
        payload = Buffer.from(payload);
        for (let i = 0; i < payload.length; i++) payload[i] ^= key[i & 3];
      }
      this.buf = b.subarray(off + len);
      if (opcode === 0 || opcode === 1 || opcode === 2) {
        this.fragments.push(payload);
        if (fin) {
          const whole = Buffer.concat(this.fragments);
          this.fragments = [];
          this.onMessage(whole);
        }
      }
    }
  }
}

function emptyStats() {
  return { bytesUp: 0, bytesDown: 0, msgsUp: 0, msgsDown: 0, roundTrips: 0, typesUp: {}, typesDown: {} };
}

function messageType(payload) {
  try {
    const m = decode(payload);
    return typeof m?.type === "string" ? m.type : "?";
  } catch {
    return "?";
  }
}

export class CountingProxy {
  static async start(upstreamHost, upstreamPort) {
    const proxy = new CountingProxy(upstreamHost, upstreamPort);
    await new Promise((resolve) => proxy.server.listen(0, "127.0.0.1", resolve));
    proxy.port = proxy.server.address().port;
    return proxy;
  }

  constructor(host, port) {
    this.stats = emptyStats();
    this.open = 0;
    this.idleWaiters = [];
    this.server = net.createServer((client) => this.#pipe(client, host, port));
  }

  get addr() {
    return `127.0.0.1:${this.port}`;
  }

  reset() {
    this.stats = emptyStats();
  }

  /** Resolves when no connection is open (bounded). */
  whenIdle(timeoutMs = 30_000) {
    if (this.open === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("a proxied connection never closed")), timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  #pipe(client, host, port) {
    this.open++;
    const upstream = net.connect(port, host);
    const stats = () => this.stats;
    let last = null; // direction of the previous message, for round trips
    const seen = (dir) => {
      if (dir === "down" && last === "up") stats().roundTrips++;
      last = dir;
    };
    const up = new FrameReader(() => seen("up"), (p) => {
      const s = stats();
      s.msgsUp++;
      const t = messageType(p);
      s.typesUp[t] = (s.typesUp[t] ?? 0) + 1;
      seen("up");
    });
    const down = new FrameReader(() => seen("down"), (p) => {
      const s = stats();
      s.msgsDown++;
      const t = messageType(p);
      s.typesDown[t] = (s.typesDown[t] ?? 0) + 1;
      seen("down");
    });
    client.on("data", (chunk) => {
      stats().bytesUp += chunk.length;
      up.push(chunk);
      upstream.write(chunk);
    });
    upstream.on("data", (chunk) => {
      stats().bytesDown += chunk.length;
      down.push(chunk);
      client.write(chunk);
    });
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      client.destroy();
      upstream.destroy();
      this.open--;
      if (this.open === 0) for (const w of this.idleWaiters.splice(0)) w();
    };
    client.on("end", () => upstream.end());
    upstream.on("end", () => client.end());
    client.on("close", close);
    upstream.on("close", close);
    client.on("error", close);
    upstream.on("error", close);
  }

  async stop() {
    await new Promise((r) => this.server.close(r));
  }
}
