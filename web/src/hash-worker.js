// The hashing worker (built into src/scelle/server/static/hash.js, served as /static/hash.js):
// SHA-256 of the pieces the page posts, in order, beside the page's encryption on another
// core. Protocol: {piece: ArrayBuffer} (acknowledged with {ack: true}, for the page's
// back-pressure), then {digest: true} (answered with {digest: Uint8Array}).
import { sha256 } from "@noble/hashes/sha2.js";

let hasher = sha256.create();

self.onmessage = ({ data }) => {
  if (data.piece) {
    hasher.update(new Uint8Array(data.piece));
    self.postMessage({ ack: true });
  } else if (data.digest) {
    const digest = hasher.digest();
    hasher = sha256.create();
    self.postMessage({ digest }, [digest.buffer]);
  }
};
