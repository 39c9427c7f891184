"""Browser benchmark: a round trip of a large file through the web UI in headless chromium.

Usage: .venv/bin/python bench/browser.py [--size-mib 1024] [--small-mib 64] [--without-opfs]

A real `scelle serve` (the embedded default) and two browser users, each signed in
through the sign-in page (the e2e helpers of tests/e2e/conftest.py) in a chromium
of their own with a normal on-disk profile (a playwright new_context() is a
private window, whose OPFS Chromium keeps in memory), Debian's chromium driven by
Python playwright. For a
file of --small-mib and then one of --size-mib random bytes on disk:

- send: from the click on "send" in the sender's page to the sealed transfer shown
  (read the file, encrypt with typage, hash, spill to the origin private file
  system, tus upload, sign, seal);
- receive: from the click on "decrypt" in the recipient's page to the saved file
  complete (download, hash, verify, decrypt from the spill file, hash, verify, the
  download of the result); the saved file's SHA-256 is compared with the original.

Memory, sampled every ~0.5 s during both phases: the page's JS heap
(JSHeapUsedSize from CDP Performance.getMetrics, the active page) and the summed RSS
of chromium's renderer processes (from /proc, the browser's processes being
children of this one); also the whole browser's RSS. The peaks at --small-mib and
at --size-mib are printed side by side: a page whose memory does not grow with the
file shows about the same peak at both sizes.

Reference, same run, same page: age-encryption (typage) alone encrypting and
decrypting --size-mib bytes from a generated ReadableStream to a null sink
(web/dist/bench-age.js, built by web/build.mjs from web/bench/age-alone.js and
handed to the page by playwright at a same-origin URL: no inline script). The
ratio is Scellé's phase throughput / age-encryption's alone (send vs encrypt,
receive vs decrypt); < 1 means slower, by what hashing, the spill files, the
network and the server cost on top of the cipher.

--without-opfs hides FileSystemFileHandle.createWritable from the pages, so they
take the Blob fallback (as a browser without OPFS writes): the same table for the
path of before.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.sync_api import (
    BrowserContext,
    ConsoleMessage,
    Download,
    Page,
    expect,
    sync_playwright,
)
from tests import factories
from tests.e2e.conftest import (
    CHROMIUM,
    CHROMIUM_FLAGS,
    create_identity,
    make_member,
    server_services,
    sign_in,
    spill_entries,
)
from tests.integration.conftest import LiveServer, start_server, stop_server

from scelle.db.models import Role

REPO = Path(__file__).resolve().parents[1]
BENCH_BUNDLE = REPO / "web" / "dist" / "bench-age.js"
BENCH_URL_PATH = "/bench-age.js"  # fulfilled by playwright, never by the server
SAMPLE_SECONDS = 0.5
MIB = 2**20
PHASE_TIMEOUT_MS = 60 * 60 * 1000
NO_OPFS_WRITES = "delete FileSystemFileHandle.prototype.createWritable;"


# -- memory ---------------------------------------------------------------------------


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                # the command name may hold spaces or parentheses: the ppid follows the last ')'
                ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found: list[int] = []
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _is_chromium(pid: int) -> tuple[bool, bool]:
    """(a chromium process, a renderer)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            # a zygote-forked child rewrites its command line as one space-separated string
            words = cmdline.read().replace(b"\0", b" ").split()
    except OSError:
        return False, False
    chromium = bool(words) and words[0].endswith(b"/chromium")
    return chromium, chromium and b"--type=renderer" in words


@dataclass
class Peaks:
    renderer_rss: int = 0
    browser_rss: int = 0
    js_heap: int = 0


class RSSSampler:
    """Every SAMPLE_SECONDS, the summed RSS of chromium's renderers and of all its processes."""

    def __init__(self) -> None:
        self.peaks = Peaks()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            renderers = total = 0
            for pid in _descendants(os.getpid()):
                chromium, renderer = _is_chromium(pid)
                if not chromium:
                    continue
                rss = _rss_bytes(pid)
                total += rss
                if renderer:
                    renderers += rss
            self.peaks.renderer_rss = max(self.peaks.renderer_rss, renderers)
            self.peaks.browser_rss = max(self.peaks.browser_rss, total)
            self._stop.wait(SAMPLE_SECONDS)

    def __enter__(self) -> RSSSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


class HeapProbe:
    """JSHeapUsedSize of one page through its own CDP session."""

    def __init__(self, context: BrowserContext, page: Page) -> None:
        self.cdp = context.new_cdp_session(page)
        self.cdp.send("Performance.enable")

    def used(self) -> int:
        metrics = self.cdp.send("Performance.getMetrics")["metrics"]
        return int(next(m["value"] for m in metrics if m["name"] == "JSHeapUsedSize"))


@contextmanager
def phase(probe: HeapProbe) -> Iterator[tuple[Peaks, list[float]]]:
    """Time a phase and sample its memory; yields the peaks and a one-slot [seconds]."""
    elapsed: list[float] = [0.0]
    with RSSSampler() as sampler:
        sampler.peaks.js_heap = probe.used()
        started = time.perf_counter()
        yield sampler.peaks, elapsed
        elapsed[0] = time.perf_counter() - started


def wait_sampling(page: Page, probe: HeapProbe, peaks: Peaks, done: Callable[[], bool]) -> None:
    """Sample the page's heap every SAMPLE_SECONDS until ``done()`` is true."""
    while not done():
        peaks.js_heap = max(peaks.js_heap, probe.used())
        page.wait_for_timeout(SAMPLE_SECONDS * 1000)
    peaks.js_heap = max(peaks.js_heap, probe.used())


# -- the run --------------------------------------------------------------------------


@dataclass
class Result:
    size: int
    send_seconds: float
    receive_seconds: float
    send_peaks: Peaks
    receive_peaks: Peaks
    matches: bool
    spill_left: list[str] = field(default_factory=list)


def random_file(path: Path, size: int) -> str:
    digest = hashlib.sha256()
    with path.open("wb") as out:
        left = size
        while left:
            block = os.urandom(min(16 * MIB, left))
            digest.update(block)
            out.write(block)
            left -= len(block)
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while block := source.read(16 * MIB):
            digest.update(block)
    return digest.hexdigest()


def round_trip(
    server: LiveServer,
    sender: tuple[BrowserContext, Page, HeapProbe],
    recipient: tuple[BrowserContext, Page, HeapProbe, str],
    work: Path,
    size: int,
) -> Result:
    _, send_page, send_probe = sender
    _, receive_page, receive_probe, recipient_email = recipient
    source = work / f"bench-{size // MIB}MiB.bin"
    expected = random_file(source, size)

    send_page.goto(server.url + "/send")
    send_page.get_by_label("Destinataires (organisation").fill(recipient_email)
    send_page.get_by_role("button", name="Rechercher dans l'annuaire").click()
    expect(send_page.locator("#recipient-list li")).to_have_count(1)
    send_page.get_by_label("Fichier").set_input_files(str(source))
    sent = send_page.locator("#sent-result")
    failed = send_page.locator("#form-error")
    with phase(send_probe) as (send_peaks, send_elapsed):
        send_page.get_by_role("button", name="Chiffrer, signer et envoyer").click()
        wait_sampling(
            send_page, send_probe, send_peaks, lambda: sent.is_visible() or failed.is_visible()
        )
    if failed.is_visible():
        raise SystemExit(f"send failed in the page: {failed.inner_text()}")
    transfer_id = send_page.locator("#sent-link").get_attribute("data-transfer-id")
    left = spill_entries(send_page)

    receive_page.goto(f"{server.url}/transfers/{transfer_id}")
    downloads: list[Download] = []

    def on_download(download: Download) -> None:
        downloads.append(download)

    receive_page.on("download", on_download)
    status = receive_page.locator("#form-status[data-kind=success]")
    refused = receive_page.locator("#form-error")
    with phase(receive_probe) as (receive_peaks, receive_elapsed):
        receive_page.get_by_role("button", name="Vérifier, déchiffrer et enregistrer").click()
        wait_sampling(
            receive_page,
            receive_probe,
            receive_peaks,
            lambda: refused.is_visible() or (bool(downloads) and status.is_visible()),
        )
        if refused.is_visible():
            raise SystemExit(f"receive refused in the page: {refused.inner_text()}")
        saved = downloads[0].path()  # waits for the save to complete
    receive_page.remove_listener("download", on_download)
    matches = file_sha256(saved) == expected
    downloads[0].delete()
    source.unlink()
    # Leaving the page removes the decrypted spill file; the next page's sweep shows it
    # ("none": no usable spill area, with --without-opfs).
    receive_page.goto(server.url + "/inbox")
    swept = re.compile("^(swept|none)$")
    expect(receive_page.locator("body")).to_have_attribute("data-spill", swept, timeout=30_000)
    left += spill_entries(receive_page)
    return Result(
        size, send_elapsed[0], receive_elapsed[0], send_peaks, receive_peaks, matches, left
    )


def age_alone(page: Page, server: LiveServer, size: int) -> dict[str, float]:
    page.route(
        server.url + BENCH_URL_PATH,
        lambda route: route.fulfill(
            body=BENCH_BUNDLE.read_bytes(), content_type="text/javascript; charset=utf-8"
        ),
    )
    answer: dict[str, float] = page.evaluate(
        "async ([url, size]) => (await import(url)).run(size)", [BENCH_URL_PATH, size]
    )
    if answer["plainSize"] != size:
        raise SystemExit(f"age-encryption alone decrypted {answer['plainSize']} of {size} bytes")
    return answer


def show_problem(message: ConsoleMessage) -> None:
    """A page's warnings and errors (a refusal's reason is logged there), as they come."""
    if message.type in {"warning", "error"} and "favicon" not in (message.location or {}).get(
        "url", ""
    ):
        print(f"page console: {message.type}: {message.text}", file=sys.stderr)


def users(server: LiveServer) -> tuple[factories.Member, factories.Member]:
    with server_services(server) as services:
        factories.org(services, "lab-bench")
        factories.org(services, "cpam-bench")
    sender = make_member(server, "lab-bench", Role.SENDER, publish_key=False)
    recipient = make_member(server, "cpam-bench", Role.RECIPIENT, publish_key=False)
    return sender, recipient


def mib(n: int) -> str:
    return f"{n / MIB:.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--small-mib", type=int, default=64)
    parser.add_argument("--without-opfs", action="store_true", help="the pages' Blob fallback")
    args = parser.parse_args()
    if not BENCH_BUNDLE.exists():
        raise SystemExit(f"{BENCH_BUNDLE} is missing: run `cd web && npm run build`")
    sizes = [args.small_mib * MIB, args.size_mib * MIB]
    # a SIGTERM still stops the server and the browsers and removes the work folder
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    with tempfile.TemporaryDirectory(prefix="scelle-bench-browser-") as tmp:
        work = Path(tmp)
        server = start_server(work / "server-data")
        try:
            sender_user, recipient_user = users(server)
            with sync_playwright() as playwright:
                # Two people, each in a normal (on-disk) profile of their own: a playwright
                # new_context() is a private window, whose OPFS lives in memory.
                contexts = []
                try:
                    for name in ("sender", "recipient"):
                        ctx = playwright.chromium.launch_persistent_context(
                            work / f"profile-{name}",
                            executable_path=CHROMIUM,
                            headless=True,
                            args=CHROMIUM_FLAGS,
                            locale="fr-FR",
                            accept_downloads=True,
                        )
                        contexts.append(ctx)
                        ctx.set_default_timeout(PHASE_TIMEOUT_MS)
                        if args.without_opfs:
                            ctx.add_init_script(NO_OPFS_WRITES)
                    pages = [ctx.pages[0] if ctx.pages else ctx.new_page() for ctx in contexts]
                    for page in pages:
                        page.on("console", show_problem)
                    for page, user in zip(pages, (sender_user, recipient_user), strict=True):
                        sign_in(page, server, user, user.recovery_codes[0])
                        create_identity(page)
                    probes = [
                        HeapProbe(ctx, page) for ctx, page in zip(contexts, pages, strict=True)
                    ]
                    sender = (contexts[0], pages[0], probes[0])
                    recipient = (contexts[1], pages[1], probes[1], recipient_user.email)
                    results = [round_trip(server, sender, recipient, work, s) for s in sizes]
                    reference = age_alone(pages[1], server, sizes[-1])
                finally:
                    for ctx in contexts:
                        ctx.close()
        finally:
            stop_server(server)

    report(results, reference, "Blobs (OPFS writes hidden)" if args.without_opfs else "OPFS")


def report(results: list[Result], reference: dict[str, float], spill: str) -> None:
    small, full = results
    mb = full.size / 1e6
    encrypt_rate = mb / reference["encryptSeconds"]
    decrypt_rate = mb / reference["decryptSeconds"]
    send_rate = mb / full.send_seconds
    receive_rate = mb / full.receive_seconds
    print(
        f"\nBrowser benchmark: {mib(full.size)} MiB through the web UI, headless chromium,"
        f" spill area: {spill}"
    )
    print(f"{'phase':<40}{'seconds':>9}{'MB/s':>9}{'vs age alone':>14}")
    print(
        f"{'send (encrypt+upload)':<40}{full.send_seconds:>9.2f}{send_rate:>9.0f}"
        f"{send_rate / encrypt_rate:>13.2f}x"
    )
    print(
        f"{'receive (download+verify+decrypt+save)':<40}{full.receive_seconds:>9.2f}"
        f"{receive_rate:>9.0f}{receive_rate / decrypt_rate:>13.2f}x"
    )
    name = "age-encryption alone: encrypt"
    print(f"{name:<40}{reference['encryptSeconds']:>9.2f}{encrypt_rate:>9.0f}")
    name = "age-encryption alone: decrypt"
    print(f"{name:<40}{reference['decryptSeconds']:>9.2f}{decrypt_rate:>9.0f}")
    print()
    head = f"peak memory, MiB ({mib(small.size)} MiB vs {mib(full.size)} MiB file)"
    print(f"{head:<48}{mib(small.size) + ' MiB':>10}{mib(full.size) + ' MiB':>10}{'ratio':>8}")
    rows = [
        ("send: page JS heap", small.send_peaks.js_heap, full.send_peaks.js_heap),
        ("send: renderer RSS", small.send_peaks.renderer_rss, full.send_peaks.renderer_rss),
        ("send: all chromium RSS", small.send_peaks.browser_rss, full.send_peaks.browser_rss),
        ("receive: page JS heap", small.receive_peaks.js_heap, full.receive_peaks.js_heap),
        (
            "receive: renderer RSS",
            small.receive_peaks.renderer_rss,
            full.receive_peaks.renderer_rss,
        ),
        (
            "receive: all chromium RSS",
            small.receive_peaks.browser_rss,
            full.receive_peaks.browser_rss,
        ),
    ]
    for name, at_small, at_full in rows:
        print(f"{name:<48}{at_small / MIB:>10.0f}{at_full / MIB:>10.0f}{at_full / at_small:>7.2f}x")
    print()
    for result in results:
        same = "identical" if result.matches else "DIFFERENT"
        left = ", ".join(result.spill_left) or "none"
        print(f"{mib(result.size)} MiB: saved file SHA-256 {same}; spill files left: {left}")
    print("ratio = Scellé phase throughput / age-encryption alone on the same number of bytes")


if __name__ == "__main__":
    main()
