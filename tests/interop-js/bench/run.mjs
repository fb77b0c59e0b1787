// Sync benchmark: the HomeVisit Rust client against homevisit-server, and a stock automerge-repo
// JS client against the automerge-repo JS sync server, on the same documents, in one run.
//
//   node bench/run.mjs                 # full: 5,000 docs reconnect, 1,000 first sync, 30 edits
//   node bench/run.mjs --smoke         # 50 / 50 / 5, one repetition (seconds)
//   node bench/run.mjs --docs N --first N --edits N --repeat R
//   node bench/run.mjs --hv-only       # HomeVisit rows only
//
// Every measured session goes through the same counting proxy (bench/proxy.mjs): bytes on the
// socket in each direction, WebSocket messages, and round trips (client→server traffic
// followed by server→client traffic). Wall time is measured inside the client process, from
// opening the connection to the end of the work (documents stored), so process start-up is
// not counted on either side. Prints a table with HomeVisit/JS ratios. Numbers only, no
// assertions on time; it exits non-zero only if a session did not do its work.
import { spawn, execFile } from "node:child_process";
import http from "node:http";
import { readdirSync, rmSync } from "node:fs";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";
import { createInterface } from "node:readline";
import { Server, tempDir, run, BIN_DIR } from "../lib/harness.mjs";
import { CountingProxy } from "./proxy.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const execFileP = promisify(execFile);
const BENCH_BIN = join(BIN_DIR, "sync_bench");

const { values } = parseArgs({
  options: {
    smoke: { type: "boolean", default: false },
    docs: { type: "string" },
    first: { type: "string" },
    edits: { type: "string" },
    repeat: { type: "string" },
    json: { type: "boolean", default: false },
    // Skip the JS side (HomeVisit rows only, no ratios).
    "hv-only": { type: "boolean", default: false },
  },
});
const smoke = values.smoke;
const N_DOCS = Number(values.docs ?? (smoke ? 50 : 5000));
const N_FIRST = Number(values.first ?? (smoke ? 50 : 1000));
const N_EDITS = Number(values.edits ?? (smoke ? 5 : 30));
const REPEAT = Number(values.repeat ?? (smoke ? 1 : 3));

const log = (...a) => console.error("bench:", ...a);
const root = tempDir("hv-sync-bench-");
const path = (...p) => join(root, ...p);

async function bench(...args) {
  return JSON.parse(await run(BENCH_BIN, args, { timeoutMs: 900_000 }));
}

async function jsClient(...args) {
  try {
    const { stdout } = await execFileP("node", [join(HERE, "js_client.mjs"), ...args], {
      timeout: 900_000,
      maxBuffer: 16 << 20,
    });
    return JSON.parse(stdout.trim());
  } catch (e) {
    throw new Error(`js_client ${args[0]} failed: ${e.stderr || e.message}`);
  }
}

/** Runs `session` through `proxy`; returns the client's JSON and the proxy's counts. */
async function measured(proxy, session) {
  await proxy.whenIdle();
  proxy.reset();
  const client = await session();
  await proxy.whenIdle();
  return { client, wire: { ...proxy.stats } };
}

function check(cond, what) {
  if (!cond) throw new Error(`benchmark session did not do its work: ${what}`);
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Medians of wall time; bytes/messages/round trips of the median-time run. */
function summarise(runs) {
  const wall = median(runs.map((r) => r.client.wall_ms));
  const pick = runs.find((r) => r.client.wall_ms === wall);
  return { wall_ms: wall, walls: runs.map((r) => r.client.wall_ms), ...pick.wire, client: pick.client };
}

async function startJsServer(storage, imports) {
  const args = ["--storage", storage, ...imports.flatMap((d) => ["--import", d])];
  const child = spawn("node", [join(HERE, "js_server.mjs"), ...args], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const addr = await new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error("JS sync server did not start")), 300_000);
    child.on("exit", (code) => rej(new Error(`JS sync server exited (${code})`)));
    createInterface({ input: child.stdout }).on("line", (line) => {
      const m = /^listening (\S+)$/.exec(line.trim());
      if (m) {
        clearTimeout(timer);
        res(m[1]);
      }
    });
  });
  return {
    addr,
    /** Resolves when the server has finished writing the previous session's work. */
    idle: () =>
      new Promise((res, rej) => {
        http.get(`http://${addr}/idle`, (r) => r.resume().on("end", res)).on("error", rej);
      }),
    alive: () => child.exitCode === null && child.signalCode === null,
    async stop() {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

class HvOnly extends Error {}
const results = {};
let hv;
let js;
let hvProxy;
let jsProxy;
try {
  // ---------------------------------------------------------------- HomeVisit
  hv = await Server.start();
  hvProxy = await CountingProxy.start(...hv.addr.split(":").map((x, i) => (i ? Number(x) : x)));
  const viaProxy = `ws://${hvProxy.addr}/sync`;
  const A = await hv.team("Bench reconnect");
  const B = await hv.team("Bench first sync");
  const member = (m) => ["--team", m.team, "--user", m.user];

  log(`HomeVisit: seeding ${N_DOCS} + ${N_FIRST} records`);
  await bench("seed", "--store", path("hv-a.db"), ...member(A), "--count", String(N_DOCS), "--export", path("export-a"));
  const upA = await bench("sync", "--store", path("hv-a.db"), "--url", hv.url, "--token", A.token);
  check(upA.unsynced === 0 && upA.failed === 0, `upload of ${N_DOCS} records`);
  await bench("seed", "--store", path("hv-b.db"), ...member(B), "--count", String(N_FIRST), "--export", path("export-b"));
  const upB = await bench("sync", "--store", path("hv-b.db"), "--url", hv.url, "--token", B.token);
  check(upB.unsynced === 0 && upB.failed === 0, `upload of ${N_FIRST} records`);
  results.hv_upload = { docs: N_DOCS, wall_ms: upA.wall_ms };

  log("HomeVisit (a) reconnect, nothing changed");
  const hvA = [];
  for (let i = 0; i < REPEAT; i++) {
    hvA.push(await measured(hvProxy, async () => {
      const r = await bench("sync", "--store", path("hv-a.db"), "--url", viaProxy, "--token", A.token);
      check(r.docs_received === 0 && r.docs_sent === 0 && r.records === N_DOCS, "reconnect moved documents");
      return r;
    }));
  }
  results.hv_a = summarise(hvA);
  log("hv_a", JSON.stringify({ ...results.hv_a, client: undefined }));

  log("HomeVisit (b) first sync of a new device");
  const hvB = [];
  for (let i = 0; i < REPEAT; i++) {
    const token = await hv.deviceToken(B.user, `new tablet ${i}`);
    hvB.push(await measured(hvProxy, async () => {
      const r = await bench("sync", "--store", path(`hv-b-new-${i}.db`), "--url", viaProxy, "--token", token);
      check(r.records === N_FIRST && r.unsynced === 0, `new device holds ${r.records} of ${N_FIRST}`);
      return r;
    }));
  }
  results.hv_b = summarise(hvB);
  log("hv_b", JSON.stringify({ ...results.hv_b, client: undefined }));

  log(`HomeVisit (c) upload of ${N_EDITS} edited records`);
  const hvC = [];
  for (let i = 0; i < REPEAT; i++) {
    await bench("edit", "--store", path("hv-a.db"), ...member(A), "--count", String(N_EDITS), "--value", `Edited ${i + 1}`);
    hvC.push(await measured(hvProxy, async () => {
      const r = await bench("sync", "--store", path("hv-a.db"), "--url", viaProxy, "--token", A.token);
      check(r.docs_sent === N_EDITS && r.unsynced === 0, `sent ${r.docs_sent} of ${N_EDITS} edits`);
      return r;
    }));
  }
  results.hv_c = summarise(hvC);
  log("hv_c", JSON.stringify({ ...results.hv_c, client: undefined }));

  // ---------------------------------------------------------------- automerge-repo JS
  if (values["hv-only"]) throw new HvOnly();
  log(`JS: the same ${N_DOCS} + ${N_FIRST} documents into the JS server and the JS client`);
  js = await startJsServer(path("js-server"), [path("export-a"), path("export-b")]);
  jsProxy = await CountingProxy.start(...js.addr.split(":").map((x, i) => (i ? Number(x) : x)));
  const jsDirect = `ws://${js.addr}`;
  const jsVia = `ws://${jsProxy.addr}`;
  await jsClient("prime", "--storage", path("js-a"), "--import", path("export-a"));
  // One unmeasured session, as the HomeVisit device's upload was: both sides now hold sync
  // state for each other (persisted: the client and the server both have storage).
  const warm = await jsClient("reconnect", "--url", jsDirect, "--storage", path("js-a"), "--ids", path("export-a"));
  check(warm.docs === N_DOCS && warm.not_ready === 0, "JS warm-up session");

  log("JS (a) reconnect, nothing changed");
  const jsA = [];
  for (let i = 0; i < REPEAT; i++) {
    await js.idle();
    jsA.push(await measured(jsProxy, async () => {
      const r = await jsClient("reconnect", "--url", jsVia, "--storage", path("js-a"), "--ids", path("export-a"));
      check(r.docs === N_DOCS && r.not_ready === 0 && js.alive(), "JS reconnect");
      return r;
    }));
  }
  results.js_a = summarise(jsA);
  log("js_a", JSON.stringify({ ...results.js_a, client: undefined }));

  log("JS (b) first sync of a new client");
  const jsB = [];
  for (let i = 0; i < REPEAT; i++) {
    await js.idle();
    jsB.push(await measured(jsProxy, async () => {
      const r = await jsClient("first", "--url", jsVia, "--storage", path(`js-b-new-${i}`), "--ids", path("export-b"));
      check(r.docs === N_FIRST && r.not_ready === 0 && js.alive(), "JS first sync");
      return r;
    }));
  }
  results.js_b = summarise(jsB);
  log("js_b", JSON.stringify({ ...results.js_b, client: undefined }));
} catch (e) {
  if (!(e instanceof HvOnly)) throw e;
} finally {
  await hvProxy?.stop().catch(() => {});
  await jsProxy?.stop().catch(() => {});
  await js?.stop().catch(() => {});
  await hv?.stop().catch(() => {});
  rmSync(root, { recursive: true, force: true });
}

// ---------------------------------------------------------------- report
const kb = (n) => (n / 1024).toFixed(1);
const ms = (n) => n.toFixed(0);
const ratio = (a, b) => (b ? (a / b).toFixed(3) : "-");
const row = (name, r) =>
  `${name.padEnd(34)} ${kb(r.bytesUp).padStart(9)} ${kb(r.bytesDown).padStart(10)} ${String(r.msgsUp).padStart(7)} ${String(r.msgsDown).padStart(8)} ${String(r.roundTrips).padStart(11)} ${ms(r.wall_ms).padStart(8)}`;
const ratioRow = (name, h, j) =>
  `${name.padEnd(34)} ${ratio(h.bytesUp, j.bytesUp).padStart(9)} ${ratio(h.bytesDown, j.bytesDown).padStart(10)} ${ratio(h.msgsUp, j.msgsUp).padStart(7)} ${ratio(h.msgsDown, j.msgsDown).padStart(8)} ${ratio(h.roundTrips, j.roundTrips).padStart(11)} ${ratio(h.wall_ms, j.wall_ms).padStart(8)}`;

const lines = [];
lines.push(`sync_bench (${smoke ? "smoke" : "full"}; ${N_DOCS} docs reconnect, ${N_FIRST} docs first sync, ${N_EDITS} edited; median of ${REPEAT})`);
lines.push(`${"".padEnd(34)} ${"KiB up".padStart(9)} ${"KiB down".padStart(10)} ${"msgs up".padStart(7)} ${"msgs dn".padStart(8)} ${"round trips".padStart(11)} ${"wall ms".padStart(8)}`);
if (values["hv-only"]) {
  lines.push(row(`(a) HomeVisit reconnect ${N_DOCS}`, results.hv_a));
  lines.push(row(`(b) HomeVisit first sync ${N_FIRST}`, results.hv_b));
  lines.push(row(`(c) HomeVisit upload ${N_EDITS} edited`, results.hv_c));
  lines.push(`wall ms per run: HV a ${results.hv_a.walls.map(ms).join("/")}, HV b ${results.hv_b.walls.map(ms).join("/")}, HV c ${results.hv_c.walls.map(ms).join("/")}`);
  lines.push(`HomeVisit client's own count of round trips after the handshake: a ${results.hv_a.client.round_trips}, b ${results.hv_b.client.round_trips}, c ${results.hv_c.client.round_trips}`);
} else {
  lines.push(row(`(a) HomeVisit reconnect ${N_DOCS}`, results.hv_a));
  lines.push(row(`(a) automerge-repo reconnect ${N_DOCS}`, results.js_a));
  lines.push(ratioRow("(a) ratio HomeVisit / JS", results.hv_a, results.js_a));
  lines.push(row(`(b) HomeVisit first sync ${N_FIRST}`, results.hv_b));
  lines.push(row(`(b) automerge-repo first sync ${N_FIRST}`, results.js_b));
  lines.push(ratioRow("(b) ratio HomeVisit / JS", results.hv_b, results.js_b));
  lines.push(row(`(c) HomeVisit upload ${N_EDITS} edited`, results.hv_c));
  lines.push("");
  lines.push(`wall ms per run: HV a ${results.hv_a.walls.map(ms).join("/")}, JS a ${results.js_a.walls.map(ms).join("/")}, HV b ${results.hv_b.walls.map(ms).join("/")}, JS b ${results.js_b.walls.map(ms).join("/")}, HV c ${results.hv_c.walls.map(ms).join("/")}`);
  lines.push(`HomeVisit client's own count of round trips after the handshake: a ${results.hv_a.client.round_trips}, b ${results.hv_b.client.round_trips}, c ${results.hv_c.client.round_trips}`);
  lines.push(`message types (a) HV up ${JSON.stringify(results.hv_a.typesUp)} down ${JSON.stringify(results.hv_a.typesDown)}`);
  lines.push(`message types (a) JS up ${JSON.stringify(results.js_a.typesUp)} down ${JSON.stringify(results.js_a.typesDown)}`);
  lines.push(`message types (b) HV up ${JSON.stringify(results.hv_b.typesUp)} down ${JSON.stringify(results.hv_b.typesDown)}`);
  lines.push(`message types (b) JS up ${JSON.stringify(results.js_b.typesUp)} down ${JSON.stringify(results.js_b.typesDown)}`);
  lines.push(`message types (c) HV up ${JSON.stringify(results.hv_c.typesUp)} down ${JSON.stringify(results.hv_c.typesDown)}`);
  lines.push(`JS phases (ms): a connected ${ms(results.js_a.client.connected_ms)}, documents loaded ${ms(results.js_a.client.found_ms)}; b connected ${ms(results.js_b.client.connected_ms)}, documents found ${ms(results.js_b.client.found_ms)}`);
  lines.push(`setup (not compared): HomeVisit upload of ${N_DOCS} new records ${ms(results.hv_upload.wall_ms)} ms`);
}
console.log(lines.join("\n"));
if (values.json) console.log(JSON.stringify(results));
