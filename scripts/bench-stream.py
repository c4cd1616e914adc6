#!/usr/bin/env python3
"""`make bench`, streaming part: the server's peak RSS growth while a 1 GB archive is
downloaded and a 1 GB archive is uploaded (target: at most 32 MB each), measured from
/proc/<pid>/status while curl moves the bytes. Not a test: it prints.

usage: bench-stream.py PATH-TO-holomush-admin DATABASE_URL [ARCHIVE]
ARCHIVE is a real pg_dump -Fc file (`make bench` passes an uncompressed dump of its ~1 GB
database); without it a PGDMP-headed file of BENCH_STREAM_MB (default 1024) is streamed down
only, since an upload must be a readable archive."""

import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Peak:
    def __init__(self, pid):
        self.pid, self.peak, self.stop = pid, 0, False
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stop:
            self.peak = max(self.peak, rss_kb(self.pid))
            time.sleep(0.02)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *_):
        self.stop = True
        self.thread.join()


def main():
    binary, db_url = sys.argv[1], sys.argv[2]
    archive = sys.argv[3] if len(sys.argv) > 3 and os.path.isfile(sys.argv[3]) else None
    mb = int(os.environ.get("BENCH_STREAM_MB", "1024"))
    work = tempfile.mkdtemp(prefix="holomush-bench-stream-")
    backups = os.path.join(work, "backups")
    os.makedirs(backups)
    # A custom-format header then incompressible bytes: the server streams it as it is.
    big = os.path.join(backups, "bench_download.dump")
    if archive:
        shutil.copy(archive, big)
    else:
        with open(big, "wb") as f:
            f.write(b"PGDMP")
            chunk = os.urandom(1 << 20)
            for _ in range(mb):
                f.write(chunk)
    total = os.path.getsize(big)
    mb = total / (1 << 20)
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    password = secrets.token_hex(12)
    env = dict(os.environ, DATABASE_URL=db_url, HOLOMUSH_ADMIN_ADDR=f"127.0.0.1:{port}",
               HOLOMUSH_ADMIN_DATA=os.path.join(work, "data"), HOLOMUSH_BACKUP_DIR=backups,
               HOLOMUSH_ADMIN_PASSWORD=password, HOLOMUSH_DB_AUTO_MIGRATE="false",
               HOLOMUSH_UPLOAD_LIMIT_MB=str(int(mb) + 16))
    log = open(os.path.join(work, "server.log"), "w")
    server = subprocess.Popen([binary, "serve"], env=env, stdout=log, stderr=log, cwd=work)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                if server.poll() is not None:
                    break
                time.sleep(0.2)
        else:
            server.poll()
        if server.returncode is not None:
            log.flush()
            sys.exit("The server did not start:\n" + open(os.path.join(work, "server.log")).read())
        jar = os.path.join(work, "cookies")
        # The password goes to curl on its stdin, never its command line.
        subprocess.run(["curl", "-s", "-o", "/dev/null", "-c", jar, "--data-binary", "@-",
                        "-H", "Content-Type: application/x-www-form-urlencoded",
                        base + "/login"], input=f"password={password}".encode(), check=True)
        time.sleep(0.5)
        base_rss = rss_kb(server.pid)
        with Peak(server.pid) as p:
            t = time.time()
            out = subprocess.run(["curl", "-s", "-b", jar, "-o", "/dev/null", "-w", "%{http_code} %{size_download}",
                                  base + "/files/backups/bench_download.dump"], capture_output=True, text=True, check=True)
            secs = time.time() - t
        code, size = out.stdout.split()
        assert code == "200" and int(size) == total, out.stdout
        print(f"download {mb:.0f} MiB: {secs:6.2f}s, {mb / secs:7.1f} MiB/s, server RSS {base_rss // 1024} MB -> peak {p.peak // 1024} MB, "
              f"growth {(p.peak - base_rss) / 1024:.1f} MB (target <= 32 MB)")
        if not archive:
            print("upload: skipped (give a real archive as the third argument)")
            return
        up = os.path.join(work, "bench_upload.dump")
        shutil.move(big, up)
        time.sleep(0.5)
        base_rss = rss_kb(server.pid)
        with Peak(server.pid) as p:
            t = time.time()
            out = subprocess.run(["curl", "-s", "-b", jar, "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}",
                                  "-F", f"archive=@{up};filename=bench_upload.dump", base + "/files/backups"],
                                 capture_output=True, text=True, check=True)
            secs = time.time() - t
        assert "uploaded=" in out.stdout, out.stdout
        assert os.path.getsize(os.path.join(backups, "bench_upload.dump")) == total
        print(f"upload   {mb:.0f} MiB: {secs:6.2f}s, {mb / secs:7.1f} MiB/s, server RSS {base_rss // 1024} MB -> peak {p.peak // 1024} MB, "
              f"growth {(p.peak - base_rss) / 1024:.1f} MB (target <= 32 MB)")
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
