// A stock automerge-repo client (Node Repo + WebSocketClientAdapter + NodeFSStorageAdapter),
// the JS side of the sync benchmark. Prints one JSON line.
//   prime     --storage DIR --import EXPORTS           import the exported documents offline
//   reconnect --url U --storage DIR --ids EXPORTS      reopen, sync every document, nothing changed
//   first     --url U --storage DIR --ids EXPORTS      new device: fetch every document
// EXPORTS is a directory of files named by document id (written by `sync_bench seed`).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Repo } from "@automerge/automerge-repo";
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket";
import { NodeFSStorageAdapter } from "@automerge/automerge-repo-storage-nodefs";

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    url: { type: "string" },
    storage: { type: "string" },
    import: { type: "string" },
    ids: { type: "string" },
    "timeout-ms": { type: "string", default: "600000" },
  },
});
const mode = positionals[0];
const timeoutMs = Number(values["timeout-ms"]);
const deadline = setTimeout(() => {
  console.error(`js_client ${mode}: timed out after ${timeoutMs} ms`);
  process.exit(2);
}, timeoutMs);

function connect() {
  const repo = new Repo({
    network: [new WebSocketClientAdapter(values.url, 1000)],
    storage: new NodeFSStorageAdapter(values.storage),
  });
  const peer = new Promise((resolve) => repo.networkSubsystem.once("peer", ({ peerId, peerMetadata }) => resolve({ peerId, peerMetadata })));
  return { repo, peer };
}

/** Resolves once the server's heads of `handle` (from its sync messages) equal the local heads. */
function serverHas(handle, storageId) {
  const same = (a, b) => a && b && a.length === b.length && [...a].sort().join() === [...b].sort().join();
  if (same(handle.getSyncInfo(storageId)?.lastHeads, handle.heads())) return Promise.resolve();
  return new Promise((resolve) => {
    const check = () => {
      if (same(handle.getSyncInfo(storageId)?.lastHeads, handle.heads())) {
        handle.off("remote-heads", check);
        resolve();
      }
    };
    handle.on("remote-heads", check);
  });
}

const ids = (dir) => readdirSync(dir).sort();

let out;
if (mode === "prime") {
  const repo = new Repo({ storage: new NodeFSStorageAdapter(values.storage) });
  let n = 0;
  for (const id of ids(values.import)) {
    repo.import(readFileSync(join(values.import, id)), { docId: id }).doneLoading();
    n++;
  }
  await repo.flush();
  await repo.shutdown();
  out = { primed: n };
} else if (mode === "reconnect" || mode === "first") {
  const list = ids(values.ids);
  const start = performance.now();
  const { repo, peer } = connect();
  const { peerMetadata } = await peer;
  const connectedMs = performance.now() - start;
  const handles = await Promise.all(list.map((id) => repo.find(`automerge:${id}`)));
  const foundMs = performance.now() - start;
  if (mode === "reconnect") {
    await Promise.all(handles.map((h) => serverHas(h, peerMetadata.storageId)));
  }
  await repo.flush();
  const wallMs = performance.now() - start;
  const bad = handles.filter((h) => !h.isReady()).length;
  await repo.shutdown();
  out = { mode, docs: handles.length, not_ready: bad, wall_ms: wallMs, connected_ms: connectedMs, found_ms: foundMs };
} else {
  throw new Error(`unknown mode ${mode}`);
}
clearTimeout(deadline);
console.log(JSON.stringify(out));
process.exit(0);
