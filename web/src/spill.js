// The spill area: files in the origin private file system (OPFS) that hold a transfer's
// bytes between the passes the protocol needs (hash, then upload; verify, then decrypt;
// verify, then save), so a multi-GB file sits on disk, not in the page's memory.
//
// Every spill (its segment files NAME.0, NAME.1...) is held by a Web Lock named NAME for as
// long as a page uses it; a page load removes the spill files no page holds (left by a
// closed tab, a crash or a save offered until the page was left). Without OPFS writes or Web Locks (an older
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

// Written in segment files of SEGMENT bytes, each kept in memory until it is committed, so
// that a disk that refuses more (a full disk, or a private window, whose OPFS lives in memory
// with a quota of about 1.3 GiB in Chromium) costs no byte already read: the rest of the
// stream then goes to memory, as the Blobs of before.
const SEGMENT = 32 * 1024 * 1024;

function noRoom(error) {
  return Boolean(error) && error.name === "QuotaExceededError";
}

export class SpillFile {
  constructor(dir, name, release) {
    this.dir = dir;
    this.name = name;
    this.release = release;
    this.entries = [];
    this.removed = false;
  }

  async openSegment(segment) {
    const name = `${this.name}.${this.entries.length}`;
    this.entries.push(name);
    segment.name = name;
    segment.handle = await this.dir.getFileHandle(name, { create: true });
    segment.writable = await segment.handle.createWritable();
  }

  async dropSegment(segment) {
    if (segment.writable) await segment.writable.abort().catch(() => {});
    if (segment.name) {
      await removeEntry(this.dir, segment.name).catch(() => {});
      this.entries = this.entries.filter((name) => name !== segment.name);
    }
  }

  /**
   * Read ``stream`` (of Uint8Array chunks no one reuses) into the spill and answer a Blob of
   * it with ``type``: disk-backed segment files, then memory for what the disk had no room for.
   */
  async write(stream, type) {
    const parts = [];
    let memory = null; // the chunks read after the disk refused
    let segment = null;
    const commit = async () => {
      await segment.writable.close();
      parts.push(await segment.handle.getFile());
      segment = null;
    };
    const toMemory = async () => {
      memory = segment ? segment.chunks : [];
      if (segment) await this.dropSegment(segment);
      segment = null;
    };
    const reader = stream.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (memory) {
          memory.push(value);
          continue;
        }
        if (!segment) segment = { chunks: [], size: 0, name: null, handle: null, writable: null };
        segment.chunks.push(value);
        segment.size += value.length;
        try {
          if (!segment.writable) await this.openSegment(segment);
          await segment.writable.write(value);
          if (segment.size >= SEGMENT) await commit();
        } catch (error) {
          if (!noRoom(error)) throw error;
          await toMemory();
        }
      }
      if (segment) {
        try {
          await commit();
        } catch (error) {
          if (!noRoom(error)) throw error;
          await toMemory();
        }
      }
    } catch (error) {
      reader.cancel(error).catch(() => {});
      if (segment) await this.dropSegment(segment);
      throw error;
    }
    if (memory) parts.push(new Blob(memory));
    return new Blob(parts, { type });
  }

  /** Remove the spill's files and let go of its lock; safe to call more than once. */
  async remove() {
    if (this.removed) return;
    this.removed = true;
    try {
      for (const name of this.entries) await removeEntry(this.dir, name);
    } finally {
      this.release();
    }
  }
}

/** A new spill (no file yet), locked; null when the browser has no usable OPFS. */
export async function create(kind) {
  const dir = await root();
  if (!dir) return null;
  const name = `${PREFIX}${kind}-${crypto.randomUUID()}`;
  try {
    return new SpillFile(dir, name, await hold(name));
  } catch {
    return null;
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
      // a segment "scelle-spill-KIND-UUID.N" is held by the lock of its spill's name
      const spillName = name.includes(".") ? name.slice(0, name.lastIndexOf(".")) : name;
      await navigator.locks.request(spillName, { ifAvailable: true }, async (lock) => {
        if (lock) await removeEntry(dir, name);
      });
    }
  } catch {
    return false; // the next page load tries again
  }
  return true;
}
