// Upload a file to Scellé's tus server with tus-js-client (interop test).
//
// usage: node upload.mjs ENDPOINT TRANSFER_ID FILE [--chunk-size N] [--stop-after N] [--resume URL]
// The API token is read from SCELLE_TOKEN (never from argv, so it stays out of `ps`).
// --stop-after N aborts the upload once at least N bytes are acknowledged, as an
// interrupted client would; --resume URL continues an earlier upload from the
// offset the server reports. Prints one JSON line: {"url", "offset", "complete"}.
import fs from "node:fs";
import process from "node:process";
import * as tus from "tus-js-client";

function parseArgs(argv) {
  const [endpoint, transferId, file, ...rest] = argv;
  if (!endpoint || !transferId || !file) {
    throw new Error("usage: upload.mjs ENDPOINT TRANSFER_ID FILE [options]");
  }
  const options = { endpoint, transferId, file, chunkSize: 64 * 1024, stopAfter: null, resume: null };
  for (let i = 0; i < rest.length; i += 2) {
    const value = rest[i + 1];
    if (value === undefined) throw new Error(`missing value for ${rest[i]}`);
    if (rest[i] === "--chunk-size") options.chunkSize = Number.parseInt(value, 10);
    else if (rest[i] === "--stop-after") options.stopAfter = Number.parseInt(value, 10);
    else if (rest[i] === "--resume") options.resume = value;
    else throw new Error(`unknown option ${rest[i]}`);
  }
  return options;
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const token = process.env.SCELLE_TOKEN;
  if (!token) throw new Error("SCELLE_TOKEN is not set");
  const size = fs.statSync(options.file).size;
  const stream = fs.createReadStream(options.file);

  const outcome = await new Promise((resolve, reject) => {
    let acknowledged = 0;
    const upload = new tus.Upload(stream, {
      endpoint: options.endpoint,
      uploadUrl: options.resume,
      uploadSize: size,
      chunkSize: options.chunkSize,
      headers: { Authorization: `Bearer ${token}` },
      metadata: { transfer: options.transferId },
      retryDelays: [0, 200, 500],
      storeFingerprintForResuming: false,
      onChunkComplete(_chunk, accepted) {
        acknowledged = accepted;
        if (options.stopAfter !== null && accepted >= options.stopAfter && accepted < size) {
          upload.abort(false).then(
            () => resolve({ url: upload.url, offset: acknowledged, complete: false }),
            reject,
          );
        }
      },
      onSuccess() {
        resolve({ url: upload.url, offset: size, complete: true });
      },
      onError(error) {
        reject(error);
      },
    });
    upload.start();
  });
  stream.destroy();
  process.stdout.write(`${JSON.stringify(outcome)}\n`);
}

main().catch((error) => {
  process.stderr.write(`error: ${error && error.message ? error.message : error}\n`);
  process.exit(1);
});
