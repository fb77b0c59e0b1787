// The real HomeVisit team server binary and a Rust device (tests/src/bin/interop_device.rs),
// driven as child processes: what an operator and a tablet would run.
import { spawn, execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import { promisify } from "node:util";

const execFileP = promisify(execFile);
const HERE = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(HERE, "../../..");
/** Where the workspace's dev build put the binaries (override with HOMEVISIT_BIN_DIR). */
export const BIN_DIR = process.env.HOMEVISIT_BIN_DIR ?? join(ROOT, "target", "debug");
export const SERVER_BIN = join(BIN_DIR, "homevisit-server");
export const DEVICE_BIN = join(BIN_DIR, "interop_device");

export function tempDir(prefix) {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Runs a command; resolves with its stdout (trimmed), rejects with stderr on failure. */
export async function run(bin, args, { timeoutMs = 120_000 } = {}) {
  try {
    const { stdout } = await execFileP(bin, args, { timeout: timeoutMs, maxBuffer: 64 << 20 });
    return stdout.trim();
  } catch (e) {
    throw new Error(`${bin} ${args.join(" ")} failed: ${e.stderr || e.message}`);
  }
}

/** A `homevisit-server serve` process on a fresh data directory and a free loopback port. */
export class Server {
  static async start({ startTimeoutMs = 30_000 } = {}) {
    const dataDir = tempDir("hv-interop-server-");
    const child = spawn(SERVER_BIN, ["serve", "--data-dir", dataDir, "--listen", "127.0.0.1:0"], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? "warn" },
    });
    const stderr = [];
    child.stderr.on("data", (b) => stderr.push(b));
    const addr = await new Promise((resolveAddr, reject) => {
      const timer = setTimeout(() => reject(new Error("server did not print its address")), startTimeoutMs);
      child.on("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`server exited (${code}): ${Buffer.concat(stderr)}`));
      });
      const lines = createInterface({ input: child.stdout });
      lines.on("line", (line) => {
        const m = /^listening (\S+)$/.exec(line.trim());
        if (m) {
          clearTimeout(timer);
          resolveAddr(m[1]);
        }
      });
    });
    return new Server(child, dataDir, addr);
  }

  constructor(child, dataDir, addr) {
    this.child = child;
    this.dataDir = dataDir;
    this.addr = addr;
  }

  /** `ws://host:port/sync`. */
  get url() {
    return `ws://${this.addr}/sync`;
  }

  /** The admin command line; stdout is the new id or token alone on one line. */
  async admin(...args) {
    const out = await run(SERVER_BIN, [...args.slice(0, 2), "--data-dir", this.dataDir, ...args.slice(2)]);
    const lines = out.split("\n");
    if (lines.length !== 1 || lines[0] === "") throw new Error(`expected one line from ${args.join(" ")}, got ${JSON.stringify(out)}`);
    return lines[0];
  }

  /** A team with one HCPC-registered OT and one device token for it. */
  async team(name) {
    const team = await this.admin("team", "add", name);
    const user = await this.admin("user", "add", "--team", team, "--name", `${name} OT`, "--role", "ot",
      "--hcpc", "OT12345", "--hcpc-verified-until", "2030-01-01");
    const token = await this.admin("device", "add", "--user", user, "--name", `${name} tablet`);
    return { team, user, token };
  }

  /** A further device token for a team's user. */
  async deviceToken(user, name = "another tablet") {
    return this.admin("device", "add", "--user", user, "--name", name);
  }

  async stop() {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((r) => this.child.once("exit", r));
      this.child.kill("SIGTERM");
      await exited;
    }
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** A HomeVisit tablet: a store file driven through `interop_device`. */
export class RustDevice {
  constructor(server, member) {
    this.server = server;
    this.member = member;
    this.dir = tempDir("hv-interop-device-");
    this.store = join(this.dir, "device.db");
  }

  async cmd(command, ...args) {
    return JSON.parse(await run(DEVICE_BIN, [command, "--store", this.store, ...args]));
  }

  async createChild(givenName) {
    return this.cmd("create-child", "--team", this.member.team, "--user", this.member.user,
      "--given-name", givenName, "--url", this.server.url, "--token", this.member.token);
  }

  async sync() {
    return this.cmd("sync", "--url", this.server.url, "--token", this.member.token);
  }

  async get(id, path) {
    return this.cmd("get", "--id", id, ...(path ? ["--path", path] : []));
  }

  async status(id) {
    return (await this.cmd("status", "--id", id)).status;
  }

  remove() {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Calls `probe` until it returns a value other than undefined, at most `attempts` times with
 * `intervalMs` between tries; rejects with `what` if it never does.
 */
export async function until(what, probe, { attempts = 60, intervalMs = 100 } = {}) {
  let last;
  for (let i = 0; i < attempts; i++) {
    last = await probe();
    if (last !== undefined) return last;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out waiting for ${what}`);
}
