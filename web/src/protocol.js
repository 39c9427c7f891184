// The signed messages and the key fingerprint of docs/protocol.md, byte for byte
// what src/scelle/crypto/signing.py builds, so the CLI verifies what the browser signs.
import { sha256 } from "@noble/hashes/sha2.js";
import { concat, toBase32, utf8 } from "./bytes.js";

const NUL = new Uint8Array([0]);

export function keyBundleMessage(recipient, ed25519Public) {
  if (ed25519Public.length !== 32) throw new Error("an Ed25519 public key is 32 bytes");
  return concat(utf8("scelle/v1/key-bundle"), NUL, utf8(recipient), NUL, ed25519Public);
}

export function transferSignatureMessage(transferId, payloadSha256, metadataSha256) {
  if (payloadSha256.length !== 32 || metadataSha256.length !== 32) {
    throw new Error("digests are 32-byte SHA-256 values");
  }
  return concat(
    utf8("scelle/v1/transfer-signature"),
    NUL,
    utf8(transferId),
    NUL,
    payloadSha256,
    metadataSha256,
  );
}

export function fingerprint(recipient, ed25519Public) {
  const text = toBase32(sha256(keyBundleMessage(recipient, ed25519Public)).subarray(0, 20));
  return text.match(/.{1,4}/g).join(" ");
}

/** The sender's file name reduced to a safe base name (as client/transfer.py's safe_name). */
export function safeName(name, fallback) {
  if (typeof name !== "string") return fallback;
  const base = name.replaceAll("\\", "/").split("/").pop();
  // eslint-disable-next-line no-control-regex
  if (base === "" || base === "." || base === ".." || /[\u0000-\u001f\u007f]/.test(base)) {
    return fallback;
  }
  return utf8(base).length > 255 ? fallback : base;
}
