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

const SERVER = 'echo ready; while true; do printf "HTTP/1.0 200 OK\\r\\n\\r\\npong\\n" | nc -l -p 8080; done';

function streamText(stream) {
  return new Promise((resolve, reject) => {
    const parts = [];
    stream.on("data", (d) => parts.push(Buffer.from(d)));
    stream.on("end", () => resolve(Buffer.concat(parts)));
    stream.on("error", reject);
  });
}

function httpGet(host, port) {
  return new Promise((resolve, reject) => {
    http
      .get({ host, port, path: "/", timeout: 10000 }, (res) => streamText(res).then((b) => resolve(b.toString())))
      .on("error", reject);
  });
}

// The content of the one file in a tar stream (ustar: 512-byte header,
// size in octal at offset 124).
function tarFileContent(buf) {
  const size = parseInt(buf.subarray(124, 136).toString().replace(/\0.*$/, "").trim(), 8);
  return buf.subarray(512, 512 + size).toString();
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
  const archive = await streamText(await web.copyArchiveFromContainer("/tmp/second.txt"));
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
  const logs = await web.logs();
  out.logs = await new Promise((resolve, reject) => {
    let text = "";
    const timer = setTimeout(() => reject(new Error("no 'ready' in the logs: " + text)), 20000);
    logs.on("data", (d) => {
      text += d.toString();
      if (text.includes("ready")) {
        clearTimeout(timer);
        logs.destroy();
        resolve(text);
      }
    });
    logs.on("error", reject);
  });

  await web.stop();
  out.stopped = true;
  // `client` and the network are left to Ryuk.
  process.stdout.write(JSON.stringify(out) + "\n");
}

main().catch((err) => {
  process.stdout.write(JSON.stringify({ error: String(err && err.message ? err.message : err) }) + "\n");
  process.exit(1);
});
