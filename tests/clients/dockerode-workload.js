// tests/clients/dockerode-workload.js — dockerode, the Node Docker client,
// as its users call it, against whatever DOCKER_HOST names: pull, build,
// hijacked attach with stdin (the call that showed the attach-body bug),
// exec with stdin, archives in and out, follow logs, events, stats. Every
// step is tried and reported, failures included (the restricted socket
// blocks build), as one JSON object; tests/e2e/test_clients_dockerode.py
// judges it. Containers it creates carry the label sockgate.test=<RUN>.
"use strict";

const Docker = require("dockerode");
const tar = require("tar-fs");
const fs = require("fs");
const os = require("os");
const path = require("path");
const { PassThrough } = require("stream");
const { collect, readUntil, tarFileContent } = require("./streams");

const docker = new Docker(); // DOCKER_HOST, as every dockerode user has it
const RUN = process.env.SG_RUN || String(process.pid);
const LABELS = { "sockgate.test": RUN };

// stdout of a multiplexed stream, demuxed by dockerode.
function demuxed(stream) {
  const out = new PassThrough();
  const err = new PassThrough();
  docker.modem.demuxStream(stream, out, err);
  stream.on("end", () => { out.end(); err.end(); });
  stream.on("close", () => { out.end(); err.end(); });
  return collect(out);
}

function followProgress(stream) {
  return new Promise((resolve, reject) =>
    docker.modem.followProgress(stream, (err, res) => (err ? reject(err) : resolve(res))));
}

async function run(name, fn, out) {
  try {
    out[name] = { ok: true, value: await fn() };
  } catch (err) {
    out[name] = { ok: false, status: err.statusCode, error: String(err.message || err) };
  }
}

async function started(opts) {
  const c = await docker.createContainer({ Image: "bb", Labels: LABELS, ...opts });
  await c.start();
  return c;
}

async function main() {
  const out = {};

  await run("pull", async () => {
    const events = await followProgress(await docker.pull("docker:cli"));
    return events.map((e) => e.status).filter(Boolean).slice(-1)[0];
  }, out);

  await run("build", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sg-dockerode-"));
    fs.writeFileSync(path.join(dir, "Dockerfile"), "FROM bb\nRUN echo built-by-dockerode > /built\n");
    const stream = await docker.buildImage(tar.pack(dir), { t: "sg-dockerode-built:" + RUN, labels: LABELS });
    const events = await followProgress(stream);
    fs.rmSync(dir, { recursive: true });
    const failed = events.find((e) => e.error);
    if (failed) throw new Error(failed.error);
    const c = await docker.createContainer({ Image: "sg-dockerode-built:" + RUN, Cmd: ["cat", "/built"], Labels: LABELS });
    await c.start();
    await c.wait();
    const logs = await c.logs({ stdout: true });
    await c.remove();
    return logs.subarray(8).toString();
  }, out);

  await run("attach", async () => {
    // The issue-10 call: options as a JSON body on the hijacked attach. The
    // body reached stdin in some attaches only, so: ten of them.
    const seen = [];
    for (let i = 0; i < 10; i++) {
      const c = await docker.createContainer({
        Image: "bb", Labels: LABELS, OpenStdin: true, StdinOnce: true,
        Cmd: ["sh", "-c", 'read x; echo "stdin:[$x]"'],
      });
      await c.start();
      const stream = await c.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true });
      const text = demuxed(stream);
      stream.end("hello from dockerode\n");
      seen.push((await text).toString());
      await c.wait();
      await c.remove();
    }
    return seen;
  }, out);

  const box = await started({ Cmd: ["sh", "-c", "for i in 1 2 3; do echo line $i; sleep 0.3; done; sleep 300"] });

  await run("exec", async () => {
    const exec = await box.exec({ AttachStdin: true, AttachStdout: true, AttachStderr: true, Cmd: ["sh", "-c", "tr a-z A-Z"] });
    const stream = await exec.start({ hijack: true, stdin: true });
    const text = demuxed(stream);
    stream.end("exec stdin\n");
    return (await text).toString();
  }, out);

  await run("archive", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sg-dockerode-"));
    fs.writeFileSync(path.join(dir, "put.txt"), "put by dockerode\n");
    await box.putArchive(tar.pack(dir), { path: "/tmp" });
    fs.rmSync(dir, { recursive: true });
    return tarFileContent(await collect(await box.getArchive({ path: "/tmp/put.txt" })));
  }, out);

  await run("logs", async () => {
    const stream = await box.logs({ follow: true, stdout: true, stderr: true });
    const text = await readUntil(stream, "line 3", 20000);
    return text.replace(/[\x00-\x08]/g, ""); // the multiplexed frame headers
  }, out);

  await run("stats", async () => {
    const s = await box.stats({ stream: false });
    return { hasMemory: !!s.memory_stats, hasCpu: !!s.cpu_stats, read: s.read };
  }, out);

  await run("events", async () => {
    const events = await docker.getEvents({ filters: { container: [box.id], event: ["die"] } });
    const seen = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no die event")), 30000);
      events.on("data", (d) => {
        const e = JSON.parse(d.toString());
        clearTimeout(timer);
        events.destroy();
        resolve(e.Action);
      });
    });
    await box.kill();
    return await seen;
  }, out);

  await box.remove({ force: true });
  process.stdout.write(JSON.stringify(out) + "\n");
}

main().catch((err) => {
  process.stdout.write(JSON.stringify({ error: String(err && err.message ? err.message : err) }) + "\n");
  process.exit(1);
});
