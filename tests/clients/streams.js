// tests/clients/streams.js — the stream helpers both client workloads use:
// read a stream to its end, read a followed stream until a marker, and the
// one file of a tar archive (what Docker's archive endpoints return).
"use strict";

function collect(stream) {
  return new Promise((resolve, reject) => {
    const parts = [];
    stream.on("data", (d) => parts.push(Buffer.from(d)));
    stream.on("end", () => resolve(Buffer.concat(parts)));
    stream.on("close", () => resolve(Buffer.concat(parts)));
    stream.on("error", reject);
  });
}

// Followed streams (logs -f) never end by themselves: stop at the marker.
function readUntil(stream, marker, ms) {
  return new Promise((resolve, reject) => {
    let text = "";
    const timer = setTimeout(() => reject(new Error(`no '${marker}' within ${ms}ms: ${text}`)), ms);
    stream.on("data", (d) => {
      text += d.toString();
      if (text.includes(marker)) {
        clearTimeout(timer);
        stream.destroy();
        resolve(text);
      }
    });
    stream.on("error", reject);
  });
}

// ustar: a 512-byte header with the size in octal at offset 124, then data.
function tarFileContent(buf) {
  const size = parseInt(buf.subarray(124, 136).toString().replace(/\0.*$/, "").trim(), 8);
  return buf.subarray(512, 512 + size).toString();
}

module.exports = { collect, readUntil, tarFileContent };
