"""Transfer benchmark: `scelle send`/`receive` against nginx PUT/GET of the same bytes, same run.

Usage: .venv/bin/python bench/transfer.py [--size-mib 1024] [--repeat 2]

Reference: nginx (WebDAV PUT, static GET) driven by curl over loopback, the
plainest way to move the same bytes through an HTTP server to disk and back.
Scellé does strictly more on the same path (age encryption and decryption,
SHA-256 of the ciphertext on both sides, Ed25519 signature, tus with fsync
before each acknowledgement, audit), so the ratio says what that costs.

Second reference: the pipeline a careful operator could build by hand, the
reference `age` tool piped into curl and nginx (`age -r KEY < f | curl -T -`,
then `curl | age -d`), which encrypts but neither signs, verifies, resumes
nor audits.

Printed: seconds, MB/s, ratio scelle/nginx and scelle/pipeline (throughput;
> 1 means faster), and the peak RSS of the scelle client and server processes.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent
PASSWORD = "benchmark password 1"
PASSPHRASE = "benchmark passphrase"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def totp(secret_b32: str) -> str:
    secret = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    digest = hmac.new(secret, struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return f"{(struct.unpack('>I', digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


def run_child(argv: list[str], env: dict[str, str], stdin: str = "") -> tuple[float, int, str]:
    """Like timed(), measuring the peak RSS of exactly this child with wait4."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    assert proc.stdin is not None
    proc.stdin.write(stdin.encode())
    proc.stdin.close()
    out = proc.stdout.read() if proc.stdout else b""
    err = proc.stderr.read() if proc.stderr else b""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv[1:3])} failed: {err.decode().strip()}")
    return elapsed, usage.ru_maxrss, out.decode()


def start_nginx(work: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    root = work / "nginx-root"
    (root / "up").mkdir(parents=True)
    conf = work / "nginx.conf"
    # Run as root (CI), nginx's workers would drop to www-data and fail to write here.
    user_line = "user root root;\n" if os.geteuid() == 0 else ""
    conf.write_text(
        f"""
{user_line}worker_processes 1;
daemon off;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    sendfile on;
    client_body_temp_path {work}/nginx-body;
    proxy_temp_path {work}/nginx-proxy;
    fastcgi_temp_path {work}/nginx-fcgi;
    uwsgi_temp_path {work}/nginx-uwsgi;
    scgi_temp_path {work}/nginx-scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        client_max_body_size 0;
        client_body_buffer_size 1m;
        location /up/ {{ dav_methods PUT; create_full_put_path on; }}
    }}
}}
"""
    )
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    proc = subprocess.Popen([nginx, "-c", str(conf), "-p", str(work)], stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            httpx.get(url + "/", timeout=0.5)
            return proc, url
        except httpx.TransportError:
            time.sleep(0.05)
    raise SystemExit("nginx did not start")


def start_scelle(work: Path) -> tuple[subprocess.Popen[bytes], str, Path]:
    port = free_port()
    data = work / "scelle-data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCELLE_")}
    proc = subprocess.Popen(
        [str(BIN / "scelle"), "serve", "--data", str(data), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(url + "/healthz", timeout=0.5).status_code == 200:
                return proc, url, data
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit("scelle serve did not start")


def scelle_env(url: str, data: Path, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCELLE_")}
    env.update(
        SCELLE_SERVER=url,
        SCELLE_DATA=str(data),
        SCELLE_HOME=str(home),
        SCELLE_PASSPHRASE=PASSPHRASE,
    )
    return env


def enrol(url: str, data: Path, home: Path, email: str, org: str, role: str) -> dict[str, str]:
    env = scelle_env(url, data, home)
    scelle = str(BIN / "scelle")
    user = json.loads(
        run_child(
            [scelle, "admin", "create-user", email, "--org", org, "--role", role, "--json"], env
        )[2]
    )
    enrolled = json.loads(
        run_child(
            [scelle, "enrol", "--token", user["enrolment_token"], "--password-stdin", "--json"],
            env,
            PASSWORD + "\n",
        )[2]
    )
    run_child(
        [
            scelle,
            "login",
            "--email",
            email,
            "--password-stdin",
            "--otp",
            totp(enrolled["totp_secret"]),
        ],
        env,
        PASSWORD + "\n",
    )
    run_child([scelle, "keygen", "--passphrase-stdin"], env, PASSPHRASE + "\n")
    return env


def file_digest(path: Path) -> bytes:
    """SHA-256 of a file, streamed: the bench itself must stay small, or the
    children it forks would report its memory as theirs (ru_maxrss counts the
    pages a child shares with its parent before exec)."""
    with path.open("rb") as src:
        return hashlib.file_digest(src, "sha256").digest()


def proc_peak_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=2, help="best of N")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="scelle-bench-", dir=Path.cwd()) as tmp:
        work = Path(tmp)
        source = work / "input.bin"
        with source.open("wb") as fh:
            for _ in range(args.size_mib):
                fh.write(os.urandom(1024 * 1024))
        size = source.stat().st_size

        nginx, nginx_url = start_nginx(work)
        scelle_proc, url, data = start_scelle(work)
        try:
            scelle = str(BIN / "scelle")
            admin_env = scelle_env(url, data, work / "admin-home")
            run_child([scelle, "admin", "create-org", "lab-x"], admin_env)
            run_child([scelle, "admin", "create-org", "cpam-75"], admin_env)
            ana = enrol(url, data, work / "ana", "ana@lab-x.test", "lab-x", "sender")
            bob = enrol(url, data, work / "bob", "bob@cpam-75.test", "cpam-75", "recipient")

            results: dict[str, float] = {}
            rss: dict[str, int] = {}
            curl = shutil.which("curl") or "curl"
            env = dict(os.environ)
            age_key = work / "age-key.txt"
            run_child(["age-keygen", "-o", str(age_key)], env)
            age_recipient = next(
                line.split(": ", 1)[1]
                for line in age_key.read_text().splitlines()
                if line.startswith("# public key: ")
            )
            for i in range(args.repeat):
                put = run_child([curl, "-sf", "-T", str(source), f"{nginx_url}/up/f{i}"], env)[0]
                get = run_child(
                    [curl, "-sf", "-o", str(work / f"nginx-out{i}"), f"{nginx_url}/up/f{i}"], env
                )[0]
                results["nginx PUT"] = min(results.get("nginx PUT", 1e9), put)
                results["nginx GET"] = min(results.get("nginx GET", 1e9), get)
                (work / f"nginx-out{i}").unlink()

                piped_put = run_child(
                    [
                        "bash",
                        "-c",
                        'set -o pipefail; age -r "$1" < "$2" | curl -sf -T - "$3"',
                        "pipeline",
                        age_recipient,
                        str(source),
                        f"{nginx_url}/up/a{i}",
                    ],
                    env,
                )[0]
                piped_get = run_child(
                    [
                        "bash",
                        "-c",
                        'set -o pipefail; curl -sf "$1" | age -d -i "$2" > "$3"',
                        "pipeline",
                        f"{nginx_url}/up/a{i}",
                        str(age_key),
                        str(work / f"age-out{i}"),
                    ],
                    env,
                )[0]
                if file_digest(work / f"age-out{i}") != file_digest(source):
                    raise SystemExit("the age pipeline's bytes differ from the source")
                (work / f"age-out{i}").unlink()
                results["age + curl PUT"] = min(results.get("age + curl PUT", 1e9), piped_put)
                results["curl GET + age"] = min(results.get("curl GET + age", 1e9), piped_get)

                send_s, send_rss, out = run_child(
                    [
                        scelle,
                        "send",
                        str(source),
                        "--to",
                        "cpam-75",
                        "--max-downloads",
                        "1",
                        "--json",
                    ],
                    ana,
                )
                transfer_id = (
                    json.loads(out)[0]["id"]
                    if out.strip().startswith("[")
                    else json.loads(out)["id"]
                )
                target = work / f"received{i}.bin"
                recv_s, recv_rss, _ = run_child(
                    [scelle, "receive", transfer_id, "-o", str(target)], bob
                )
                if file_digest(target) != file_digest(source):
                    raise SystemExit("received bytes differ from the source")
                target.unlink()
                results["scelle send"] = min(results.get("scelle send", 1e9), send_s)
                results["scelle receive"] = min(results.get("scelle receive", 1e9), recv_s)
                rss["scelle send"] = max(rss.get("scelle send", 0), send_rss)
                rss["scelle receive"] = max(rss.get("scelle receive", 0), recv_rss)
            server_rss = proc_peak_rss_kib(scelle_proc.pid)
        finally:
            scelle_proc.terminate()
            nginx.terminate()
            scelle_proc.wait()
            nginx.wait()

    mb = size / 1e6
    print(f"\nTransfer benchmark: {size / 2**20:.0f} MiB over loopback, best of {args.repeat}")
    results["scelle send + receive"] = results["scelle send"] + results["scelle receive"]
    results["age+curl+nginx, both"] = results["age + curl PUT"] + results["curl GET + age"]
    print(f"{'path':<24}{'seconds':>9}{'MB/s':>9}{'vs nginx':>10}{'vs age':>8}{'peak RSS':>11}")
    rows = [
        ("nginx PUT", "nginx PUT", None),
        ("age + curl PUT", "nginx PUT", None),
        ("scelle send", "nginx PUT", "age + curl PUT"),
        ("nginx GET", "nginx GET", None),
        ("curl GET + age", "nginx GET", None),
        ("scelle receive", "nginx GET", "curl GET + age"),
        ("age+curl+nginx, both", None, None),
        ("scelle send + receive", None, "age+curl+nginx, both"),
    ]
    for name, plain, piped in rows:
        seconds = results[name]
        vs_nginx = f"{results[plain] / seconds:.2f}x" if plain else "-"
        vs_age = f"{results[piped] / seconds:.2f}x" if piped else "-"
        peak = f"{rss[name] / 1024:.0f} MiB" if name in rss else "-"
        print(f"{name:<24}{seconds:>9.2f}{mb / seconds:>9.0f}{vs_nginx:>10}{vs_age:>8}{peak:>11}")
    print(f"scelle server peak RSS: {server_rss / 1024:.0f} MiB")
    print("ratio = scelle (or pipeline) throughput / reference throughput on the same bytes")


if __name__ == "__main__":
    main()
