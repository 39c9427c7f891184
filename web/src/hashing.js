// Streaming SHA-256 for the protocol's digests (of the ciphertext and of the plaintext),
// computed in a worker of its own (hash-worker.js) so that the two digests and the cipher
// use both cores instead of one. The bytes are gathered into PIECE-sized pieces, each
// transferred (not copied) to the worker; at most IN_FLIGHT pieces wait there, so a worker
// slower than its stream holds the stream back instead of queueing the file in memory.
// Without workers (or when one cannot start) the digest is computed here, as before.
import { sha256 } from "@noble/hashes/sha2.js";

const WORKER_URL = "/static/hash.js";
const PIECE = 1024 * 1024;
const IN_FLIGHT = 4;

class LocalHasher {
  constructor() {
    this.hasher = sha256.create();
  }

  async update(chunk) {
    this.hasher.update(chunk);
  }

  async digest() {
    return this.hasher.digest();
  }

  close() {}
}

class WorkerHasher {
  constructor(worker) {
    this.worker = worker;
    this.buffer = new Uint8Array(PIECE);
    this.filled = 0;
    this.inFlight = 0;
    this.waiting = []; // resolvers of update() calls held back by IN_FLIGHT
    this.finished = null; // resolver of digest()
    this.failure = null;
    worker.onmessage = ({ data }) => {
      if (data.ack) {
        this.inFlight -= 1;
        const next = this.waiting.shift();
        if (next) next.resolve();
      } else if (data.digest && this.finished) {
        this.finished.resolve(data.digest);
        this.finished = null;
      }
    };
    worker.onerror = (event) => {
      event.preventDefault();
      this.fail(new Error(`hashing worker: ${event.message || "failed"}`));
    };
  }

  fail(error) {
    this.failure = error;
    for (const held of this.waiting.splice(0)) held.reject(error);
    if (this.finished) this.finished.reject(error);
    this.finished = null;
  }

  async send() {
    if (this.failure) throw this.failure;
    const piece = this.buffer.buffer.slice(0, this.filled); // a copy of the filled part
    this.filled = 0;
    this.inFlight += 1;
    this.worker.postMessage({ piece }, [piece]);
    if (this.inFlight > IN_FLIGHT) {
      await new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
    }
  }

  async update(chunk) {
    let at = 0;
    while (at < chunk.length) {
      const n = Math.min(PIECE - this.filled, chunk.length - at);
      this.buffer.set(chunk.subarray(at, at + n), this.filled);
      this.filled += n;
      at += n;
      if (this.filled === PIECE) await this.send();
    }
  }

  async digest() {
    if (this.filled) await this.send();
    if (this.failure) throw this.failure;
    return new Promise((resolve, reject) => {
      this.finished = { resolve, reject };
      this.worker.postMessage({ digest: true });
    });
  }

  close() {
    this.worker.terminate();
  }
}

/** A hasher: ``await update(chunk)`` in order, ``await digest()`` once, then ``close()``. */
export function createHasher() {
  if (typeof Worker === "undefined") return new LocalHasher();
  try {
    return new WorkerHasher(new Worker(WORKER_URL));
  } catch {
    return new LocalHasher();
  }
}
