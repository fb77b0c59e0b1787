// A stock automerge-repo client (the npm packages, unmodified) against the real HomeVisit team
// server binary, with real HomeVisit devices (homevisit-core store + SyncClient) on the other
// side. Issue item 6; scope rules from docs/PROTOCOL.md ("Scope").
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Repo, isValidAutomergeUrl, generateAutomergeUrl, parseAutomergeUrl } from "@automerge/automerge-repo";
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket";
import { ImmutableString } from "@automerge/automerge";
import { Server, RustDevice, until } from "../lib/harness.mjs";

let server;
let teamA;
let teamB;
let deviceA;
let deviceB;
const repos = [];

/**
 * A Node Repo registered as a new device of `member`'s user (`device add`), connected with its
 * token in the query string, once the server has answered `join`.
 */
async function nodeRepo(member, { timeoutMs = 15_000 } = {}) {
  const token = await server.deviceToken(member.user, "stock automerge-repo client");
  const adapter = new WebSocketClientAdapter(`${server.url}?token=${token}`, 1000);
  const repo = new Repo({ network: [adapter] });
  repos.push(repo);
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the server never answered join with peer")), timeoutMs);
    repo.networkSubsystem.once("peer", () => {
      clearTimeout(timer);
      resolve();
    });
  });
  return repo;
}

/** Resolves with the first message from the server matching `pred` (bounded). */
function received(repo, pred, { timeoutMs = 15_000 } = {}) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      repo.networkSubsystem.off("message", listener);
      reject(new Error("the expected message never arrived"));
    }, timeoutMs);
    const listener = (msg) => {
      if (pred(msg)) {
        clearTimeout(timer);
        repo.networkSubsystem.off("message", listener);
        resolve(msg);
      }
    };
    repo.networkSubsystem.on("message", listener);
  });
}

/** `RK-ATTRIB` metadata for a change made by `member`'s OT from the Node client. */
function attribution(member) {
  return JSON.stringify({
    user_id: member.user,
    role: "ot",
    device_id: "00000000-0000-4000-8000-00000000a11e",
    action: "edit",
    at: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
  });
}

/** Syncs `device` until `path` of record `id` reads `expected` (bounded). */
async function deviceSees(device, id, path, expected) {
  return until(`${path} = ${JSON.stringify(expected)} on the Rust device`, async () => {
    await device.sync();
    const got = await device.get(id, path);
    return got.value === expected ? got : undefined;
  }, { attempts: 50, intervalMs: 100 });
}

before(async () => {
  server = await Server.start();
  teamA = await server.team("North");
  teamB = await server.team("South");
  deviceA = new RustDevice(server, teamA);
  deviceB = new RustDevice(server, teamB);
});

after(async () => {
  for (const repo of repos) await repo.shutdown().catch(() => {});
  deviceA?.remove();
  deviceB?.remove();
  await server?.stop();
});

test("a Rust device's record opens in a stock automerge-repo client by its automerge: URL", async () => {
  const child = await deviceA.createChild("Amara");
  assert.equal(child.synced, true, "the Rust device synced its new record");
  assert.equal(child.status, "synced");
  assert.ok(isValidAutomergeUrl(child.url), `${child.url} is a valid automerge URL`);
  assert.equal(child.url, `automerge:${child.document_id}`);

  const repo = await nodeRepo(teamA);
  const handle = await repo.find(child.url);
  const doc = handle.doc();
  assert.equal(String(doc.schema), "homevisit/child");
  assert.equal(String(doc.id), child.id);
  assert.equal(String(doc.team_id), teamA.team, "team_id at the root");
  assert.equal(String(doc.given_name), "Amara");
  assert.equal(String(doc.created_by), teamA.user);
});

test("a change made in the stock client reaches the Rust device through the server", async () => {
  const child = await deviceA.createChild("Kwame");
  const repo = await nodeRepo(teamA);
  const handle = await repo.find(child.url);
  assert.equal(String(handle.doc().given_name), "Kwame");

  // A scalar string, as the document layer stores names (docs/DOCUMENT-LAYOUT.md), with the
  // RK-ATTRIB commit message a HomeVisit device would attach.
  handle.change((d) => {
    d.given_name = new ImmutableString("Kwame-Jo");
  }, { message: attribution(teamA) });

  const seen = await deviceSees(deviceA, child.id, "given_name", "Kwame-Jo");
  assert.equal(seen.present, true);
  // SAF-LOST-EDIT: `synced` only once the server acknowledged heads holding every local change.
  assert.equal(await deviceA.status(child.id), "synced");
  // The rest of the record is untouched.
  const all = await deviceA.get(child.id);
  assert.equal(all.value.team_id, teamA.team);
  assert.equal(all.value.schema, "homevisit/child");
});

test("a Rust device's edit reaches a connected stock client, and a new record of it can be found", async () => {
  const child = await deviceA.createChild("Ife");
  const repo = await nodeRepo(teamA);
  const handle = await repo.find(child.url);
  assert.equal(String(handle.doc().given_name), "Ife");

  // A second Rust device of the same team edits the record and syncs; the server pushes the
  // change to the connection that is syncing the document.
  const member2 = { ...teamA, token: await server.deviceToken(teamA.user) };
  const device2 = new RustDevice(server, member2);
  try {
    await device2.sync();
    assert.equal((await device2.get(child.id, "given_name")).value, "Ife");
    const changed = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("the edit never reached the stock client")), 15_000);
      const check = () => {
        if (String(handle.doc().given_name) === "Ife-Ola") {
          clearTimeout(timer);
          handle.off("change", check);
          resolve();
        }
      };
      handle.on("change", check);
    });
    await device2.cmd("set", "--team", teamA.team, "--user", teamA.user, "--id", child.id,
      "--path", "given_name", "--value", "Ife-Ola");
    const report = await device2.cmd("sync", "--url", server.url, "--token", member2.token);
    assert.equal(report.docs_sent, 1);
    await changed;

    const created = await device2.cmd("create-child", "--team", teamA.team, "--user", teamA.user,
      "--given-name", "Tolu", "--url", server.url, "--token", member2.token);
    const other = await repo.find(created.url);
    assert.equal(String(other.doc().given_name), "Tolu");
  } finally {
    device2.remove();
  }
});

test("another team's record is unavailable, exactly like a record that does not exist", async () => {
  const theirs = await deviceB.createChild("Zuri");
  assert.equal(theirs.synced, true);

  // Team B's own stock client can open it: it exists on the server.
  const repoB = await nodeRepo(teamB);
  const handleB = await repoB.find(theirs.url);
  assert.equal(String(handleB.doc().team_id), teamB.team);

  const repoA = await nodeRepo(teamA);
  await assert.rejects(repoA.find(theirs.url), /unavailable/);
  // A well-formed id that exists nowhere gets the same answer.
  await assert.rejects(repoA.find(generateAutomergeUrl()), /unavailable/);
  // Team A's Rust device does not receive it either.
  await deviceA.sync();
  assert.equal((await deviceA.get(theirs.id)).present, false);
});

/** The record UUID (hyphenated) of an automerge URL: the document id's 16 bytes. */
function uuidOf(url) {
  const hex = Buffer.from(parseAutomergeUrl(url).binaryDocumentId).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A child record laid out as docs/DOCUMENT-LAYOUT.md says, for team `teamId`. */
function childRecord(url, teamId, member, givenName) {
  const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  return (d) => {
    d.schema = new ImmutableString("homevisit/child");
    d.schema_version = 1;
    d.id = new ImmutableString(uuidOf(url));
    d.team_id = new ImmutableString(teamId);
    d.created_at = new ImmutableString(now);
    d.created_by = new ImmutableString(member.user);
    d.given_name = new ImmutableString(givenName);
  };
}

test("a record created by the stock client with its team's team_id reaches the team's devices", async () => {
  const repo = await nodeRepo(teamA);
  const handle = repo.create();
  handle.change(childRecord(handle.url, teamA.team, teamA, "Nia"), { message: attribution(teamA) });
  const seen = await deviceSees(deviceA, handle.url, "given_name", "Nia");
  assert.equal(seen.present, true);
  assert.equal((await deviceA.get(handle.url, "team_id")).value, teamA.team);
});

test("a record created the way stock clients naturally do (repo.create with ordinary strings, stored as text) reaches the team's devices", async () => {
  const repo = await nodeRepo(teamA);
  const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  // Automerge 3 stores these ordinary JS strings as text objects, not scalar strings: the
  // server and the devices read team_id, schema, id and names from either (DOCUMENT-LAYOUT.md).
  const handle = repo.create({
    schema: "homevisit/child",
    schema_version: 1,
    team_id: teamA.team,
    created_at: now,
    created_by: teamA.user,
    given_name: "Zofia",
    family_name: "Kowalska",
  });
  handle.change((d) => { d.id = uuidOf(handle.url); }, { message: attribution(teamA) });
  const seen = await deviceSees(deviceA, handle.url, "given_name", "Zofia");
  assert.equal(seen.present, true, "not quarantined: the text team_id is the team's");
  assert.equal((await deviceA.get(handle.url, "team_id")).value, teamA.team);
  assert.equal((await deviceA.get(handle.url, "schema")).value, "homevisit/child");
  assert.equal((await deviceA.get(handle.url, "family_name")).value, "Kowalska");
  // Team B's device never sees it.
  await deviceB.sync();
  assert.equal((await deviceB.get(handle.url)).present, false);
});

test("a record created by the stock client claiming another team is shown to nobody", async () => {
  const repo = await nodeRepo(teamA);
  let disconnects = 0;
  repo.networkSubsystem.on("peer-disconnected", () => disconnects++);
  const handle = repo.create();
  // The server keeps it in quarantine and answers a stock peer with doc-unavailable.
  const refused = received(repo, (m) => m.type === "doc-unavailable" && m.documentId === handle.documentId);
  handle.change(childRecord(handle.url, teamB.team, teamA, "Intruder"), { message: attribution(teamA) });
  await refused;
  // The connection stays open: the client's next record still syncs over it.
  const next = repo.create();
  next.change(childRecord(next.url, teamA.team, teamA, "Marker"), { message: attribution(teamA) });
  await deviceSees(deviceA, next.url, "given_name", "Marker");
  assert.equal(disconnects, 0, "the server kept the connection");

  assert.equal((await deviceA.get(handle.url)).present, false, "not in team A");
  await deviceB.sync();
  assert.equal((await deviceB.get(handle.url)).present, false, "not in team B");
  const repoB = await nodeRepo(teamB);
  await assert.rejects(repoB.find(handle.url), /unavailable/);
});
