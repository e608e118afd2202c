// tests/clients/testcontainers-workload.js — what a Testcontainers for Node
// user does, run against whatever DOCKER_HOST names (sockgate's public or
// restricted socket): a generic container with a log wait strategy, exec,
// copy in and out, logs, a network with a second container, a published
// port, stop. Ryuk is on (Testcontainers' default). One container and the
// network are deliberately left behind for Ryuk to remove after this process
// exits. Prints one JSON object with what it saw; tests/e2e/test_clients_*
// decides whether that is right.
"use strict";

const http = require("http");
const { GenericContainer, Network, Wait } = require("testcontainers");
const { collect, readUntil, tarFileContent } = require("./streams");

const SERVER = 'echo ready; while true; do printf "HTTP/1.0 200 OK\\r\\n\\r\\npong\\n" | nc -l -p 8080; done';

function httpGet(host, port) {
  return new Promise((resolve, reject) => {
    http
      .get({ host, port, path: "/", timeout: 10000 }, (res) => collect(res).then((b) => resolve(b.toString())))
      .on("error", reject);
  });
}

async function main() {
  const out = {};
  const network = await new Network().start();
  out.network = network.getName();

  const web = await new GenericContainer("bb")
    .withCommand(["sh", "-c", SERVER])
    .withExposedPorts(8080)
    .withNetwork(network)
    .withNetworkAliases("web")
    .withWaitStrategy(Wait.forLogMessage("ready"))
    .withCopyContentToContainer([{ content: "copied before start\n", target: "/tmp/in.txt" }])
    .start();
  out.web = web.getId();

  const cat = await web.exec(["cat", "/tmp/in.txt"]);
  out.exec = { exitCode: cat.exitCode, output: cat.output };

  await web.copyContentToContainer([{ content: "copied after start\n", target: "/tmp/second.txt" }]);
  const archive = await collect(await web.copyArchiveFromContainer("/tmp/second.txt"));
  out.copyOut = tarFileContent(archive);

  out.http = await httpGet(web.getHost(), web.getMappedPort(8080));

  const client = await new GenericContainer("bb")
    .withCommand(["sh", "-c", "echo client-up; sleep 300"])
    .withNetwork(network)
    .withWaitStrategy(Wait.forLogMessage("client-up"))
    .start();
  out.client = client.getId();
  const viaNetwork = await client.exec(["wget", "-qO-", "http://web:8080/"]);
  out.viaNetwork = viaNetwork.output;

  // Testcontainers follows logs: read until the line we expect, then let go.
  out.logs = await readUntil(await web.logs(), "ready", 20000);

  await web.stop();
  out.stopped = true;
  // `client` and the network are left to Ryuk.
  process.stdout.write(JSON.stringify(out) + "\n");
}

main().catch((err) => {
  process.stdout.write(JSON.stringify({ error: String(err && err.message ? err.message : err) }) + "\n");
  process.exit(1);
});
