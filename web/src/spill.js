// The spill area: files in the origin private file system (OPFS) that hold a transfer's
// bytes between the passes the protocol needs (hash, then upload; verify, then decrypt;
// verify, then save), so a multi-GB file sits on disk, not in the page's memory.
//
// Every spill file is held by a Web Lock named after it for as long as a page uses it;
// a page load removes the spill files no page holds (left by a closed tab, a crash or a
// save offered until the page was left). Without OPFS writes or Web Locks (an older
// browser, a private window) create() answers null and the callers keep Blobs instead.

const PREFIX = "scelle-spill-";

let directory;

function supported() {
  return (
    typeof navigator !== "undefined" &&
    navigator.storage !== undefined &&
    typeof navigator.storage.getDirectory === "function" &&
    navigator.locks !== undefined &&
    typeof navigator.locks.request === "function" &&
    typeof FileSystemFileHandle !== "undefined" &&
    typeof FileSystemFileHandle.prototype.createWritable === "function"
  );
}

/** The OPFS root, or null when the spill area cannot be used here. */
function root() {
  if (directory === undefined) {
    directory = supported() ? navigator.storage.getDirectory().catch(() => null) : Promise.resolve(null);
  }
  return directory;
}

/** Hold the Web Lock ``name`` until the returned function is called. */
function hold(name) {
  return new Promise((resolve, reject) => {
    navigator.locks.request(name, () => new Promise((release) => resolve(release))).catch(reject);
  });
}

async function removeEntry(dir, name) {
  try {
    await dir.removeEntry(name);
  } catch (error) {
    if (!error || error.name !== "NotFoundError") throw error;
  }
}

export class SpillFile {
  constructor(dir, name, handle, release) {
    this.dir = dir;
    this.name = name;
    this.handle = handle;
    this.release = release;
    this.removed = false;
  }

  /** A WritableStream into the file (its bytes land when it closes, none if it aborts). */
  writable() {
    return this.handle.createWritable();
  }

  /** The file as a disk-backed File: slicing or streaming it reads from disk. */
  file() {
    return this.handle.getFile();
  }

  /** Remove the file and let go of its lock; safe to call more than once. */
  async remove() {
    if (this.removed) return;
    this.removed = true;
    try {
      await removeEntry(this.dir, this.name);
    } finally {
      this.release();
    }
  }
}

/** A new, empty, locked spill file; null when the browser has no usable OPFS. */
export async function create(kind) {
  const dir = await root();
  if (!dir) return null;
  const name = `${PREFIX}${kind}-${crypto.randomUUID()}`;
  let release;
  try {
    release = await hold(name);
  } catch {
    return null;
  }
  try {
    const handle = await dir.getFileHandle(name, { create: true });
    return new SpillFile(dir, name, handle, release);
  } catch {
    release();
    return null; // no room, or OPFS refused here: the caller keeps a Blob
  }
}

/** Remove the spill files that no page holds. Never throws. */
export async function sweep() {
  const dir = await root();
  if (!dir) return false;
  try {
    const names = [];
    for await (const name of dir.keys()) if (name.startsWith(PREFIX)) names.push(name);
    for (const name of names) {
      await navigator.locks.request(name, { ifAvailable: true }, async (lock) => {
        if (lock) await removeEntry(dir, name);
      });
    }
  } catch {
    return false; // the next page load tries again
  }
  return true;
}
