// The automerge-repo JS sync server, set up as the automerge-repo-sync-server package does: a
// Node Repo with NodeWSServerAdapter on a `ws` server and NodeFSStorageAdapter, sharing nothing
// unasked (sharePolicy false) and answering every request.
//   node bench/js_server.mjs --storage DIR [--import EXPORTS]…   → prints "listening 127.0.0.1:PORT"
// --import loads every file of EXPORTS (named by document id, written by `sync_bench seed`)
// into the server's repo and storage before it listens, as an operator restoring documents
// would; pushing thousands of new documents at once through one client connection makes this
// server time out on its own handles (DocHandle.whenReady, 60 s) and exit on a 2-core machine.
import http from "node:http";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { WebSocketServer } from "ws";
import { Repo } from "@automerge/automerge-repo";
import { NodeWSServerAdapter } from "@automerge/automerge-repo-network-websocket";
import { NodeFSStorageAdapter } from "@automerge/automerge-repo-storage-nodefs";

const { values } = parseArgs({
  options: { storage: { type: "string" }, import: { type: "string", multiple: true, default: [] } },
});
if (!values.storage) throw new Error("--storage DIR is required");

const wss = new WebSocketServer({ noServer: true });
// GET /idle answers once the repo has written everything pending to storage: the benchmark
// starts each measured session on a server that has finished the previous one's work.
const server = http.createServer(async (req, res) => {
  if (req.url === "/idle") await repo.flush();
  res.writeHead(200);
  res.end("automerge-repo sync server\n");
});
// On a loaded 2-core machine this single-threaded server can be busy for longer than Node's
// default HTTP header/request timeouts (60 s / 300 s), which would refuse an upgrade with 408;
// the benchmark measures sync, not HTTP admission, so those timeouts are off.
server.headersTimeout = 0;
server.requestTimeout = 0;
server.on("upgrade", (request, socket, head) => {
  wss.handleUpgrade(request, socket, head, (ws) => wss.emit("connection", ws, request));
});
const repo = new Repo({
  // Keep-alive ping interval raised from the default 5 s to 120 s: on a loaded 2-core machine a
  // busy client answers pings late and the default terminates its connection mid-sync.
  network: [new NodeWSServerAdapter(wss, 120_000)],
  storage: new NodeFSStorageAdapter(values.storage),
  sharePolicy: async () => false,
});
let imported = 0;
for (const dir of values.import) {
  for (const id of readdirSync(dir)) {
    repo.import(readFileSync(join(dir, id)), { docId: id }).doneLoading();
    imported++;
  }
}
await repo.flush();
console.error(`js_server: imported ${imported} documents`);
server.listen(0, "127.0.0.1", () => {
  console.log(`listening 127.0.0.1:${server.address().port}`);
});
const stop = async () => {
  await repo.shutdown().catch(() => {});
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
