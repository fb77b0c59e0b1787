// The team console end to end: Debian's Chromium (headless, driven by playwright-core) against
// the real `homevisit-server serve` binary, with tablets (tests/src/bin/console_device.rs: the
// core's encrypted store, record service and SyncClient) syncing real records. Loopback only.
//
// Run by .ci/suites/45-console.sh after `cargo build`; binaries come from target/debug (or
// HOMEVISIT_BIN_DIR). Screenshots of every page go to target/console/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFile } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import { promisify } from "node:util";
import { randomUUID } from "node:crypto";
import { chromium } from "playwright-core";

const execFileP = promisify(execFile);
const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, "../..");
const BIN_DIR = process.env.HOMEVISIT_BIN_DIR ?? join(ROOT, "target", "debug");
const SERVER_BIN = join(BIN_DIR, "homevisit-server");
const DEVICE_BIN = join(BIN_DIR, "console_device");
const SHOTS = join(ROOT, "target", "console");
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const AXE = readFileSync(join(HERE, "node_modules", "axe-core", "axe.min.js"), "utf8");
const XSS_NAME = "<img src=x onerror=alert(1)>";
const PASSWORD = "a long enough console password";

async function runFull(bin, args, { input, env } = {}) {
  try {
    const p = execFileP(bin, args, { timeout: 120_000, maxBuffer: 16 << 20, env: env ?? process.env });
    if (input !== undefined) {
      p.child.stdin.end(input);
    }
    const { stdout, stderr } = await p;
    return { stdout: stdout.trim(), stderr };
  } catch (e) {
    throw new Error(`${bin} ${args.join(" ")} failed: ${e.stderr || e.message}`);
  }
}

async function run(bin, args, options = {}) {
  return (await runFull(bin, args, options)).stdout;
}

/** `homevisit-server serve` on `dataDir` and a free loopback port. */
async function startServer(dataDir, extra = []) {
  const child = spawn(SERVER_BIN, ["serve", "--data-dir", dataDir, "--listen", "127.0.0.1:0", ...extra], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? "warn" },
  });
  const stderr = [];
  child.stderr.on("data", (b) => stderr.push(b));
  const addr = await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error("server did not print its address")), 30_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      fail(new Error(`server exited (${code}): ${Buffer.concat(stderr)}`));
    });
    createInterface({ input: child.stdout }).on("line", (line) => {
      const m = /^listening (\S+)$/.exec(line.trim());
      if (m) {
        clearTimeout(timer);
        ok(m[1]);
      }
    });
  });
  return { child, addr, stderr };
}

function stop(server) {
  if (server && server.child.exitCode === null) {
    server.child.kill("SIGTERM");
  }
}

let dir;
let server;
let idleServer;
let browser;
const w = {}; // the world: teams, users, tablets, records

const admin = async (...args) => run(SERVER_BIN, [...args.slice(0, 2), "--data-dir", join(dir, "server"), ...args.slice(2)]);

/**
 * A tablet of `user` (id, role, team) with its own encrypted store, its device token and the
 * device id the server registered (from `device add`'s log line), which its changes carry.
 */
async function tablet(name, user) {
  const { stdout: token, stderr } = await runFull(
    SERVER_BIN,
    ["device", "add", "--data-dir", join(dir, "server"), "--user", user.id, "--name", name],
    { env: { ...process.env, RUST_LOG: "info", NO_COLOR: "1" } },
  );
  // The log line may carry ANSI colours: `device added device_id=<uuid>`.
  const plain = stderr.replace(/\x1b\[[0-9;]*m/g, "");
  const m = plain.match(/device added device_id=([0-9a-f-]{36})/);
  assert.ok(m, `device add logged no device id: ${plain}`);
  return { name, token, deviceId: m[1], user, store: join(dir, `${name.replace(/\W/g, "_")}.db`) };
}

async function device(cmd, t, extra = [], { sync = false } = {}) {
  const args = [cmd, "--store", t.store];
  if (cmd !== "sync" && cmd !== "audit") {
    args.push("--team", t.user.team, "--user", t.user.id, "--role", t.user.role, "--device", t.deviceId);
  }
  if (sync || cmd === "sync") {
    args.push("--url", `ws://${server.addr}/sync`, "--token", t.token);
  }
  return JSON.parse(await run(DEVICE_BIN, [...args, ...extra]));
}

async function newUser(team, name, role, login) {
  const args = ["user", "add", "--team", team, "--name", name, "--role", role];
  if (role !== "ap") {
    args.push("--hcpc", "OT12345", "--hcpc-verified-until", "2030-01-01");
  }
  const id = await admin(...args);
  await run(SERVER_BIN, ["user", "set-password", "--data-dir", join(dir, "server"), "--user", id, "--login", login], {
    input: `${PASSWORD}\n`,
  });
  return { id, team, name, role, login };
}

/** A browser context signed in as `user` at `addr`; fails the test if any dialog opens. */
async function signIn(user, addr = server.addr) {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  page.dialogs = [];
  page.on("dialog", async (d) => {
    page.dialogs.push(d.message());
    await d.dismiss();
  });
  await page.goto(`http://${addr}/console/sign-in`);
  await page.fill("#login", user.login);
  await page.fill("#password", PASSWORD);
  await Promise.all([page.waitForURL(/\/console\/requests$/), page.click("#sign-in")]);
  return { context, page };
}

/** axe-core on the current page: no serious or critical violation (WCAG 2.2 AA). */
async function accessible(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  // The page's CSP forbids every script (an injected <script> tag is refused, as a
  // test of its own would show); axe runs through the DevTools protocol instead.
  await page.evaluate(`${AXE}\n;true`);
  const violations = await page.evaluate(async () => {
    const r = await globalThis.axe.run(document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"] },
    });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length, help: v.help }));
  });
  const bad = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(bad, [], `${name}: axe violations ${JSON.stringify(bad)}`);
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "hv-console-"));
  mkdirSync(SHOTS, { recursive: true });
  const teamA = await admin("team", "add", "Riverside children's OT");
  const teamB = await admin("team", "add", "Hillview children's OT");
  w.olivia = await newUser(teamA, "Olivia Tan", "ot", "olivia");
  w.adam = await newUser(teamA, "Adam Price", "ap", "adam");
  w.bella = await newUser(teamB, "Bella Ruiz", "ot", "bella");
  w.adamTab = await tablet("Adam's tablet", w.adam);
  w.oliviaTab = await tablet("Olivia's tablet", w.olivia);
  w.bellaTab = await tablet("Bella's tablet", w.bella);
  server = await startServer(join(dir, "server"));
  // The AP submits a request for a child whose name is markup; the OT submits one of her own.
  const a = await device("seed", w.adamTab, ["--child-name", XSS_NAME], { sync: true });
  w.xssChild = a.child;
  w.adamRequest = a.request;
  const o = await device("seed", w.oliviaTab, ["--child-name", "Amy", "--family-name", "Jones"], { sync: true });
  w.oliviaRequest = o.request;
  w.amy = o.child;
  const b = await device("seed", w.bellaTab, ["--child-name", "Ben", "--family-name", "Other-Team"], { sync: true });
  w.otherChild = b.child;
  w.otherRequest = b.request;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
});

after(async () => {
  await browser?.close();
  stop(server);
  stop(idleServer);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test("sign-in page: CSRF-protected form, security headers, accessible", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const res = await page.goto(`http://${server.addr}/console/sign-in`);
  const h = res.headers();
  assert.match(h["content-security-policy"], /default-src 'none'/);
  assert.match(h["content-security-policy"], /frame-ancestors 'none'/);
  assert.doesNotMatch(h["content-security-policy"], /unsafe-inline|script-src/);
  assert.equal(h["cache-control"], "no-store");
  assert.equal(await page.locator("input[name=csrf]").count(), 1);
  await accessible(page, "sign-in");
  // A wrong password is refused with the same words as an unknown login.
  await page.fill("#login", "olivia");
  await page.fill("#password", "not the password");
  await page.click("#sign-in");
  await page.waitForSelector(".nhsuk-error-summary");
  assert.match(await page.textContent(".nhsuk-error-summary"), /login or password is not right/);
  await accessible(page, "sign-in-failed");
  await context.close();
});

test("sign in; requests awaiting decision are listed; a child named with markup shows as text and no script runs", async () => {
  const { context, page } = await signIn(w.olivia);
  const res = await page.reload();
  assert.equal(res.headers()["cache-control"], "no-store");
  const table = await page.textContent("#requests");
  assert.ok(table.includes(XSS_NAME), `the name is shown literally: ${table}`);
  assert.ok(table.includes("Amy Jones"));
  assert.ok(!table.includes("Ben"), "another team's child is not listed");
  assert.equal(await page.locator("#requests img").count(), 0, "no element was made from the name");
  await accessible(page, "requests");
  // The stylesheet is served with a long cache lifetime.
  const css = await context.request.get(
    `http://${server.addr}${await page.getAttribute("link[rel=stylesheet]", "href")}`,
  );
  assert.equal(css.status(), 200);
  assert.match(css.headers()["cache-control"], /max-age=31536000/);
  await page.goto(`http://${server.addr}/console/requests/${w.adamRequest}`);
  assert.equal(await page.textContent("#child-name"), `${XSS_NAME} Example`);
  assert.equal(await page.locator("main img").count(), 0);
  assert.deepEqual(page.dialogs, [], "no alert() ran");
  await context.close();
});

test("approve a submitted request; the AP's tablet shows it approved after its next sync", async () => {
  const { context, page } = await signIn(w.olivia);
  await page.goto(`http://${server.addr}/console/requests/${w.adamRequest}`);
  assert.match(await page.textContent("#status"), /submitted/);
  assert.match(await page.textContent("#measurements"), /550 mm/);
  assert.match(await page.textContent("#alerts"), /Dog in the house/);
  await accessible(page, "request");
  assert.equal((await device("status", w.adamTab, ["--id", w.adamRequest])).status, "submitted");
  await page.click("#action-approved");
  await page.waitForSelector("#outcome");
  assert.match(await page.textContent("#status"), /approved/);
  assert.match(await page.textContent("#transitions"), /submitted → approved\s*Olivia Tan/);
  await accessible(page, "request-approved");
  await device("sync", w.adamTab);
  assert.equal((await device("status", w.adamTab, ["--id", w.adamRequest])).status, "approved");
  await context.close();
});

test("a self-approval is refused with EQ-APPROVE-SELF and changes nothing", async () => {
  const { context, page } = await signIn(w.olivia);
  await page.goto(`http://${server.addr}/console/requests/${w.oliviaRequest}`);
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith("/transition")),
    page.click("#action-approved"),
  ]);
  assert.equal(res.status(), 403);
  const refusal = await page.textContent("#refusal");
  assert.match(refusal, /EQ-APPROVE-SELF/);
  assert.match(refusal, /requester cannot decide on their own request/);
  assert.match(await page.textContent("#status"), /submitted/);
  await accessible(page, "request-refused");
  await device("sync", w.oliviaTab);
  assert.equal((await device("status", w.oliviaTab, ["--id", w.oliviaRequest])).status, "submitted");
  await context.close();
});

test("an AP may view a request but is offered no decision, and a posted approval is refused with EQ-ROLE", async () => {
  const { context, page } = await signIn(w.adam);
  await page.goto(`http://${server.addr}/console/requests/${w.oliviaRequest}`);
  assert.equal(await page.locator("#action-approved").count(), 0);
  assert.match(await page.textContent("#no-actions"), /may view this request but not decide/);
  const csrf = await page.getAttribute("#sign-out ~ input[name=csrf], form[action='/console/sign-out'] input[name=csrf]", "value");
  const res = await context.request.post(`http://${server.addr}/console/requests/${w.oliviaRequest}/transition`, {
    form: { csrf, to: "approved" },
  });
  assert.equal(res.status(), 403);
  assert.match(await res.text(), /EQ-ROLE/);
  await device("sync", w.oliviaTab);
  assert.equal((await device("status", w.oliviaTab, ["--id", w.oliviaRequest])).status, "submitted");
  await context.close();
});

test("another team's record URL answers 404, exactly as an unknown id", async () => {
  const { context } = await signIn(w.olivia);
  const get = async (path) => {
    const r = await context.request.get(`http://${server.addr}${path}`);
    return [r.status(), await r.text()];
  };
  const unknown = await get(`/console/records/${randomUUID()}`);
  assert.equal(unknown[0], 404);
  assert.deepEqual(await get(`/console/records/${w.otherChild}`), unknown);
  assert.deepEqual(await get(`/console/requests/${w.otherRequest}`), await get(`/console/requests/${randomUUID()}`));
  assert.equal((await get(`/console/requests/${w.otherRequest}`))[0], 404);
  await context.close();
});

test("a form posted without its CSRF token answers 403 and does nothing", async () => {
  const { context } = await signIn(w.olivia);
  const res = await context.request.post(`http://${server.addr}/console/requests/${w.oliviaRequest}/transition`, {
    form: { to: "declined", reason: "no" },
  });
  assert.equal(res.status(), 403);
  const wrong = await context.request.post(`http://${server.addr}/console/sign-out`, { form: { csrf: "0".repeat(64) } });
  assert.equal(wrong.status(), 403);
  const signInWithout = await context.request.post(`http://${server.addr}/console/sign-in`, {
    form: { login: "olivia", password: PASSWORD },
  });
  assert.equal(signInWithout.status(), 403);
  await device("sync", w.oliviaTab);
  assert.equal((await device("status", w.oliviaTab, ["--id", w.oliviaRequest])).status, "submitted");
  await context.close();
});

test("the access log shows a view made on a tablet while offline, once that tablet syncs", async () => {
  // The OT's tablet has every record of the team after a sync; then, offline, she opens the
  // AP's child's record.
  await device("sync", w.oliviaTab);
  await device("view", w.oliviaTab, ["--id", w.xssChild]);
  assert.equal((await device("audit", w.oliviaTab)).pending >= 1, true);
  const { context, page } = await signIn(w.olivia);
  const url = `http://${server.addr}/console/access-log?child=${w.xssChild}`;
  await page.goto(url);
  const rowsFrom = async (deviceName) => page.locator("#access-log tbody tr", { hasText: deviceName }).count();
  assert.equal(await rowsFrom("Olivia's tablet"), 0, "not there before the tablet syncs");
  const report = await device("sync", w.oliviaTab);
  assert.equal(report.pending_audit, 0, "every entry was acknowledged");
  await page.goto(url);
  const row = page.locator("#access-log tbody tr", { hasText: "Olivia's tablet" });
  assert.equal(await row.count(), 1);
  const text = await row.textContent();
  assert.match(text, /Olivia Tan/);
  assert.match(text, /view/);
  assert.ok(text.includes(XSS_NAME));
  // A second sync uploads nothing new: still one row.
  await device("sync", w.oliviaTab);
  await page.goto(url);
  assert.equal(await page.locator("#access-log tbody tr", { hasText: "Olivia's tablet" }).count(), 1);
  // Filtered by another user: not listed.
  await page.goto(`${url}&user=${w.adam.id}`);
  assert.equal(await page.locator("#access-log tbody tr", { hasText: "Olivia's tablet" }).count(), 0);
  await page.goto(url);
  await accessible(page, "access-log");
  await context.close();
});

test("caseload, a child's record and sync health are shown read-only and are accessible", async () => {
  const { context, page } = await signIn(w.olivia);
  await page.goto(`http://${server.addr}/console/records`);
  assert.ok((await page.textContent("#caseload")).includes(XSS_NAME));
  assert.ok(!(await page.textContent("#caseload")).includes("Ben"));
  await accessible(page, "caseload");
  await page.goto(`http://${server.addr}/console/records/${w.amy}`);
  assert.match(await page.textContent("#child-records"), /Equipment request|equipment/i);
  assert.equal(await page.locator("main form[method=post]").count(), 0, "no action on a record page");
  await accessible(page, "record");
  await page.goto(`http://${server.addr}/console/health`);
  assert.ok(Number(await page.textContent("#health-sessions")) >= 3);
  // Every console action is in the server's audit trail: who, what, when, from where.
  const trail = await page.textContent("#console-events");
  assert.match(trail, /transition-refused/);
  assert.match(trail, /csrf-refused/);
  assert.match(trail, /sign-in/);
  assert.match(trail, /127\.0\.0\.1/);
  await accessible(page, "health");
  await context.close();
});

test("a record's PDF is made for a stated purpose and the print is in the access log", async () => {
  const { context, page } = await signIn(w.olivia);
  await page.goto(`http://${server.addr}/console/records/${w.amy}`);
  await page.selectOption("#purpose", "family");
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download-report")]);
  const file = join(SHOTS, "child-summary.pdf");
  await download.saveAs(file);
  const pdf = readFileSync(file);
  assert.equal(pdf.subarray(0, 5).toString(), "%PDF-");
  // The file name never carries the child's name (download folders show file names).
  assert.match(download.suggestedFilename(), /^child-summary-.*\.pdf$/);
  assert.ok(!download.suggestedFilename().includes("Amy"));
  // No purpose, or one the console does not know: refused with the rule, nothing printed.
  const none = await context.request.get(`http://${server.addr}/console/records/${w.amy}/report`);
  assert.equal(none.status(), 400);
  assert.match(await none.text(), /RK-AUDIT/);
  const other = await context.request.get(`http://${server.addr}/console/records/${w.otherChild}/report?purpose=family`);
  assert.equal(other.status(), 404, "another team's record");
  await page.goto(`http://${server.addr}/console/access-log?child=${w.amy}`);
  const prints = page.locator("#access-log tbody tr", { hasText: "print" });
  assert.equal(await prints.count(), 1, "one print: the refused requests printed nothing");
  assert.match(await prints.textContent(), /report for the family/);
  assert.match(await prints.textContent(), /team console/);
  await context.close();
});

test("revoke a device after confirming; its next sync wipes it", async () => {
  const { context, page } = await signIn(w.olivia);
  await page.goto(`http://${server.addr}/console/devices`);
  const row = page.locator("#devices tbody tr", { hasText: "Adam's tablet" });
  assert.match(await row.textContent(), /ok: connected/);
  assert.ok(!(await page.textContent("#devices")).includes("Bella"), "another team's devices are not listed");
  await accessible(page, "devices");
  await row.locator("a[id^=revoke-]").click();
  await page.waitForSelector("#confirm-revoke");
  await accessible(page, "revoke-confirm");
  const before = await device("sync", w.adamTab);
  assert.equal(before.revoked, false);
  assert.ok(before.documents >= 2);
  await Promise.all([page.waitForURL(/\/console\/devices$/), page.click("#confirm-revoke")]);
  assert.match(await page.locator("#devices tbody tr", { hasText: "Adam's tablet" }).textContent(), /Revoked/);
  await accessible(page, "devices-revoked");
  const after = await device("sync", w.adamTab);
  assert.equal(after.revoked, true);
  assert.equal(after.documents, 0, "the tablet wiped its records");
  await context.close();
});

test("an idle session expires and the user is asked to sign in again", async () => {
  // A second server process on the same database, with a two-second idle timeout.
  idleServer = await startServer(join(dir, "server"), ["--console-idle-timeout-secs", "2"]);
  const { context, page } = await signIn(w.olivia, idleServer.addr);
  await page.goto(`http://${idleServer.addr}/console/devices`);
  assert.equal(new URL(page.url()).pathname, "/console/devices");
  // Well past the idle timeout (server-side instants in whole seconds).
  await new Promise((r) => setTimeout(r, 3500));
  await page.goto(`http://${idleServer.addr}/console/devices`);
  assert.equal(new URL(page.url()).pathname, "/console/sign-in");
  assert.match(await page.textContent("#notice"), /session ended/);
  await accessible(page, "session-expired");
  // The old cookie stays refused.
  await page.goto(`http://${idleServer.addr}/console/requests`);
  assert.equal(new URL(page.url()).pathname, "/console/sign-in");
  await context.close();
});

test("failed sign-ins are limited: after 5 the right password is refused too, with 429", async () => {
  // On the second server (its own limiter), so the other tests' sign-ins are unaffected.
  const context = await browser.newContext();
  const page = await context.newPage();
  const attempt = async (password) => {
    await page.goto(`http://${idleServer.addr}/console/sign-in`);
    await page.fill("#login", w.adam.login);
    await page.fill("#password", password);
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === "POST"),
      page.click("#sign-in"),
    ]);
    return res;
  };
  for (let i = 0; i < 5; i++) {
    assert.equal((await attempt(`wrong password ${i}`)).status(), 401);
  }
  const blocked = await attempt(PASSWORD);
  assert.equal(blocked.status(), 429);
  assert.ok(Number(blocked.headers()["retry-after"]) > 0);
  assert.match(await page.textContent(".nhsuk-error-summary"), /Too many failed sign-ins/);
  await accessible(page, "sign-in-blocked");
  await context.close();
});
