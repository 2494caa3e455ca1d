#!/usr/bin/env python3
"""End-to-end sync tests: the built `kiosk` and `kiosk-central` on loopback, with a fault-injecting HTTP proxy
between them (HTTP 500, slow answers past the client's timeout, connections reset mid-response after the server
stored the batch, connections dropped), the server down and restarted, the kiosk killed with SIGKILL mid-sync,
a kiosk clock set ten years wrong. Each ends with: the server holds exactly the kiosk's records, none lost,
none twice.

    python3 -m unittest discover -s Tests/EndToEnd      (scripts/test runs it after `swift build`)
    KIOSK_SOAK=10000 python3 Tests/EndToEnd/test_sync.py SoakTest   (the soak run; 2,000 records by default)
"""
import os
import random
import json
import signal
import ssl
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request
import gzip

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("KIOSK_BIN_DIR", os.path.join(ROOT, ".build", "debug"))
KIOSK, CENTRAL, WRITER = (os.path.join(BIN, n) for n in ("kiosk", "kiosk-central", "record-writer"))


class FaultProxy:
    """An HTTP/1.1 proxy for one request per connection that injects faults with seeded odds."""

    def __init__(self, upstream_port, seed, faults, tls=None):
        self.tls = tls  # an ssl.SSLContext: the proxy is then an HTTPS front end
        self.upstream_port = upstream_port
        self.rng = random.Random(seed)
        self.faults = faults  # {"error500": p, "slow": p, "reset": p, "drop": p}
        self.counts = {k: 0 for k in ["pass", *faults]}
        self.down = False  # the network is out: every connection is reset at once
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.lock = threading.Lock()
        threading.Thread(target=self._serve, daemon=True).start()

    def _pick(self):
        with self.lock:
            r = self.rng.random()
            for name, p in self.faults.items():
                if r < p:
                    self.counts[name] += 1
                    return name
                r -= p
            self.counts["pass"] += 1
            return "pass"

    def _serve(self):
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    @staticmethod
    def _read_request(conn):
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return None
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            if k.strip().lower() == b"content-length":
                length = int(v.strip())
        while len(body) < length:
            chunk = conn.recv(65536)
            if not chunk:
                return None
            body += chunk
        return head + b"\r\n\r\n" + body

    @staticmethod
    def _reset(conn):
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        conn.close()

    def _handle(self, client):
        try:
            if self.tls:
                try:
                    client = self.tls.wrap_socket(client, server_side=True)
                except (ssl.SSLError, OSError):
                    return client.close()  # the kiosk refused our certificate
            request = self._read_request(client)
            if request is None:
                return client.close()
            if self.down:
                return self._reset(client)
            fault = self._pick()
            if fault == "drop":
                return self._reset(client)
            if fault == "error500":
                body = b'{"error":"injected failure"}'
                client.sendall(b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n"
                               b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
                return client.close()
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=10)
            # One request per connection: ask the server to close after answering.
            request = request.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n", 1)
            upstream.sendall(request)
            response = b""
            while True:
                chunk = upstream.recv(65536)
                if not chunk:
                    break
                response += chunk
            upstream.close()
            if fault == "reset":  # the server has stored the batch; the kiosk never hears so
                client.sendall(response[: len(response) // 2])
                return self._reset(client)
            if fault == "slow":
                time.sleep(3)  # past the kiosk's --timeout 2
            client.sendall(response)
            client.close()
        except OSError:
            client.close()

    def close(self):
        self.sock.close()


POSTGRES = os.environ.get("KIOSK_TEST_POSTGRES")  # a role that may create databases; scripts/setup-postgres


class ForwardProxy:
    """A plain HTTP forward proxy (what a city network may require): takes absolute-form requests, forwards them
    and counts what it forwarded."""

    def __init__(self):
        import http.client
        import http.server
        proxy = self
        self.forwarded = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def relay(self):
                url = urllib.parse.urlsplit(self.path)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("proxy-connection", "connection")}
                upstream = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
                upstream.request(self.command, url.path or "/", body=body, headers=headers)
                answer = upstream.getresponse()
                data = answer.read()
                proxy.forwarded.append((self.command, self.path))
                self.send_response(answer.status)
                for k, v in answer.getheaders():
                    if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                upstream.close()

            do_GET = do_POST = relay

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def psql(url, sql):
    result = subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-tAc", sql], capture_output=True, text=True)
    if result.returncode != 0:
        raise AssertionError(f"psql {sql!r}: {result.stderr.strip()}")
    return result.stdout


class World:
    """A kiosk-central on a fresh SQLite file or PostgreSQL database, a kiosk data folder enrolled with it."""

    def __init__(self, test, name="station-7"):
        self.tmp = tempfile.TemporaryDirectory()
        test.addCleanup(self.tmp.cleanup)
        self.test = test
        self.name = name
        if getattr(test, "backend", "sqlite") == "postgres":
            database = "kiosk_e2e_" + os.urandom(6).hex()
            psql(POSTGRES, f"CREATE DATABASE {database}")
            base = POSTGRES.rsplit("/", 1)[0]
            self.database = f"{base}/{database}"
            test.addCleanup(lambda: psql(POSTGRES, f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
        else:
            self.database = "sqlite:" + os.path.join(self.tmp.name, "central.sqlite")
        test.addCleanup(self.stop_server)
        self.data = os.path.join(self.tmp.name, "kiosk")
        self.server = None
        out = subprocess.run([CENTRAL, "device", "add", name, "--database", self.database],
                             check=True, capture_output=True, text=True).stdout
        self.token = out.strip().splitlines()[-1]
        self.start_server()

    def start_server(self):
        self.server = subprocess.Popen([CENTRAL, "serve", "--port", "0", "--database", self.database],
                                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        for line in self.server.stdout:
            if line.startswith("kiosk-central: listening on "):
                self.port = int(line.rsplit(":", 1)[1])
                return
        raise AssertionError("kiosk-central did not start")

    def stop_server(self, sig=signal.SIGTERM):
        if self.server and self.server.poll() is None:
            self.server.send_signal(sig)
            self.server.wait(10)
        if self.server:
            self.server.stdout.close()
        self.server = None

    def enroll(self, port):
        # Through a fault proxy (which may be down or failing) the token cannot be checked: enrolled offline.
        offline = [] if port == self.port else ["--offline"]
        subprocess.run([KIOSK, "enroll", "--server", f"http://127.0.0.1:{port}", "--token", self.token,
                        "--kiosk", self.name, "--data-dir", self.data, *offline], check=True, capture_output=True)

    def write(self, count, clock_offset_ms=0):
        subprocess.run([WRITER, self.data, str(count), self.name, str(clock_offset_ms)], check=True,
                       stdout=subprocess.DEVNULL)

    def sync(self, *extra, timeout=120, env=None):
        return subprocess.run([KIOSK, "sync", "--data-dir", self.data, "--timeout", "2", *extra],
                              capture_output=True, text=True, timeout=timeout, env=env)

    def kiosk_ids(self, pending_only=False):
        with sqlite3.connect(os.path.join(self.data, "records.sqlite")) as c:
            where = " WHERE synced_at_ms IS NULL" if pending_only else ""
            return {r[0].lower() for r in c.execute("SELECT id FROM records" + where)}

    def server_ids(self):
        if self.database.startswith("sqlite:"):
            with sqlite3.connect(self.database[len("sqlite:"):]) as c:
                rows = [r[0].lower() for r in c.execute("SELECT id FROM records WHERE kiosk = ?", (self.name,))]
        else:
            rows = psql(self.database, f"SELECT id FROM records WHERE kiosk = '{self.name}'").split()
        self.test.assertEqual(len(rows), len(set(rows)), "a record is on the server twice")
        return set(rows)

    def server_count(self):
        out = subprocess.run([CENTRAL, "count", "--kiosk", self.name, "--database", self.database],
                             check=True, capture_output=True, text=True).stdout
        return int(out.strip())

    def sync_until_done(self, attempts=200, batch=100):
        for i in range(attempts):
            result = self.sync("--batch-size", str(batch))
            if result.returncode == 0 and not self.kiosk_ids(pending_only=True):
                return i + 1
        raise AssertionError(f"still {len(self.kiosk_ids(True))} pending after {attempts} attempts: {result.stderr}")

    def assert_exactly_once(self):
        kiosk = self.kiosk_ids()
        self.test.assertEqual(self.kiosk_ids(pending_only=True), set(), "records still pending")
        self.test.assertEqual(self.server_ids(), kiosk, "the server does not hold exactly the kiosk's records")
        self.test.assertEqual(self.server_count(), len(kiosk))


@unittest.skipUnless(all(os.access(p, os.X_OK) for p in (KIOSK, CENTRAL, WRITER)), "build first: swift build")
class SyncTest(unittest.TestCase):
    def test_plain_push_then_duplicate_delivery(self):
        w = World(self)
        w.enroll(w.port)
        w.write(1200)
        result = w.sync()
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("1200 new on the server", result.stdout)
        w.assert_exactly_once()
        # The kiosk lost its acknowledgements (e.g. restored from a backup): everything is sent again.
        with sqlite3.connect(os.path.join(w.data, "records.sqlite")) as c:
            c.execute("UPDATE records SET synced_at_ms = NULL")
        result = w.sync()
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("0 new on the server, 1200 it already had", result.stdout)
        w.assert_exactly_once()

    def test_quiz_answers_sync_with_the_records_exactly_once(self):
        w = World(self)
        w.enroll(w.port)
        subprocess.run([WRITER, w.data, "7", w.name, "0", "12"], check=True, stdout=subprocess.DEVNULL)
        with sqlite3.connect(os.path.join(w.data, "records.sqlite")) as c:
            kiosk_quiz = {r[0].lower(): (r[1], r[2], r[3]) for r in c.execute("SELECT id, question, answer, correct FROM quiz_answers")}
        self.assertEqual(len(kiosk_quiz), 12)
        # One answer the server cannot take (an older kiosk's damaged row): set aside, kept, the others go.
        bad = "00000000-0000-4000-9000-00000000dead"
        with sqlite3.connect(os.path.join(w.data, "records.sqlite")) as c:
            c.execute("INSERT INTO quiz_answers (id, kiosk, answered_at_ms, question, answer, correct, language) "
                      "VALUES (?, ?, 1, 'Not An Id', 'other', 0, 'en')", (bad, w.name))
        result = w.sync("--batch-size", "5")
        self.assertEqual(result.returncode, 0, result.stderr)
        with sqlite3.connect(os.path.join(w.data, "records.sqlite")) as c:
            refusal = c.execute("SELECT refusal FROM quiz_answers WHERE id = ?", (bad,)).fetchone()[0]
        self.assertIn("not a quiz question id", refusal)
        w.assert_exactly_once()
        with sqlite3.connect(os.path.join(w.data, "records.sqlite")) as c:
            self.assertEqual(c.execute("SELECT COUNT(*) FROM quiz_answers WHERE synced_at_ms IS NULL").fetchone()[0], 1,
                             "only the refused one is not synced")
        sql = f"SELECT id, question, answer, CASE WHEN correct THEN 1 ELSE 0 END FROM quiz_answers WHERE kiosk = '{w.name}'"
        if w.database.startswith("sqlite:"):
            with sqlite3.connect(w.database[len("sqlite:"):]) as c:
                rows = list(c.execute(sql))
        else:
            rows = [line.split("|") for line in psql(w.database, sql).split()]  # psql -tA: columns split by |
        server = {str(r[0]).lower(): (r[1], r[2], int(r[3])) for r in rows}
        self.assertEqual(server, kiosk_quiz, "the server holds exactly the kiosk's quiz answers")
        # Delivered again (the kiosk forgot it had): duplicates, nothing counted twice.
        with sqlite3.connect(os.path.join(w.data, "records.sqlite")) as c:
            c.execute("UPDATE quiz_answers SET synced_at_ms = NULL WHERE refused_at_ms IS NULL")
        result = w.sync()
        self.assertEqual(result.returncode, 0, result.stderr)
        if w.database.startswith("sqlite:"):
            with sqlite3.connect(w.database[len("sqlite:"):]) as c:
                self.assertEqual(c.execute("SELECT COUNT(*) FROM quiz_answers").fetchone()[0], 12)
        else:
            self.assertEqual(psql(w.database, "SELECT COUNT(*) FROM quiz_answers").strip(), "12")

    def test_server_down_then_back(self):
        w = World(self)
        w.enroll(w.port)
        w.write(50)
        port = w.port
        w.stop_server()
        result = w.sync()
        self.assertEqual(result.returncode, 1)
        self.assertIn("server unreachable", result.stderr)
        self.assertEqual(len(w.kiosk_ids(pending_only=True)), 50)
        status = subprocess.run([KIOSK, "sync", "--status", "--data-dir", w.data], capture_output=True, text=True).stdout
        self.assertIn("last error:", status)
        self.assertIn("unreachable", status)
        w.start_server()
        w.enroll(w.port)  # the new server process listens elsewhere
        self.assertNotEqual(port, None)
        self.assertEqual(w.sync().returncode, 0)
        w.assert_exactly_once()

    def test_the_proxy_from_the_environment_is_used_unless_no_proxy_says_otherwise(self):
        w = World(self)
        proxy = ForwardProxy()
        self.addCleanup(proxy.close)
        w.enroll(w.port)
        w.write(20)
        base = {k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")}
        result = w.sync("--batch-size", "10", env={**base, "http_proxy": f"http://127.0.0.1:{proxy.port}"})
        self.assertEqual(result.returncode, 0, result.stderr)
        # Two batches, then the model check and the heartbeat: all of it through the proxy.
        server = f"http://127.0.0.1:{w.port}/api/v1/"
        self.assertEqual(proxy.forwarded, [("POST", server + "records")] * 2 + [("GET", server + "model"), ("POST", server + "heartbeat")])
        # no_proxy names the server: straight there.
        w.write(5)
        result = w.sync(env={**base, "http_proxy": f"http://127.0.0.1:{proxy.port}", "no_proxy": "127.0.0.1"})
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(len(proxy.forwarded), 4)
        # A proxy that is down is a clear, transient error; nothing is lost.
        w.write(5)
        dead = socket.socket()
        dead.bind(("127.0.0.1", 0))
        dead_port = dead.getsockname()[1]
        dead.close()
        result = w.sync(env={**base, "http_proxy": f"http://127.0.0.1:{dead_port}"})
        self.assertEqual(result.returncode, 1)
        self.assertIn("unreachable", result.stderr)
        self.assertEqual(w.sync(env=base).returncode, 0)
        w.assert_exactly_once()

    def test_faults_kiosk_killed_server_restarted_and_wrong_clock(self):
        w = World(self)
        proxy = FaultProxy(w.port, seed=11, faults={"error500": 0.15, "slow": 0.1, "reset": 0.2, "drop": 0.1})
        self.addCleanup(proxy.close)
        w.enroll(proxy.port)
        w.write(1500)
        w.write(300, clock_offset_ms=-10 * 365 * 86_400_000)  # a kiosk clock ten years behind
        # The kiosk killed mid-sync, several times.
        for delay in (0.3, 0.6, 0.9):
            p = subprocess.Popen([KIOSK, "sync", "--data-dir", w.data, "--batch-size", "50", "--timeout", "2"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(delay)
            p.send_signal(signal.SIGKILL)
            p.wait()
        # The server killed mid-batch and restarted.
        p = subprocess.Popen([KIOSK, "sync", "--data-dir", w.data, "--batch-size", "100", "--timeout", "2"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        w.stop_server(signal.SIGKILL)
        p.wait(60)
        w.start_server()
        proxy.upstream_port = w.port
        attempts = w.sync_until_done()
        w.assert_exactly_once()
        self.assertEqual(w.server_count(), 1800)
        print(f"\n  faults seen by the proxy: {proxy.counts}; sync runs to finish: {attempts}", file=sys.stderr)
        self.assertGreater(proxy.counts["reset"], 0)
        self.assertGreater(proxy.counts["error500"], 0)

    def test_offline_bundle_import_is_idempotent_and_checked(self):
        w = World(self)
        w.enroll(w.port)
        w.write(40)
        # Two quiz answers given at the kiosk travel in the bundle too.
        with sqlite3.connect(os.path.join(w.data, "records.sqlite")) as c:
            for i, (answer, correct) in enumerate([("hazardous", 1), ("recyclable", 0)]):
                c.execute("INSERT INTO quiz_answers (id, kiosk, answered_at_ms, question, answer, correct, language) "
                          "VALUES (?, ?, ?, 'battery', ?, ?, 'zh')", (f"00000000-0000-4000-9000-00000000000{i}", w.name, 1000 + i, answer, correct))
        usb = os.path.join(w.tmp.name, "usb")
        os.mkdir(usb)
        subprocess.run([KIOSK, "export", "--to", usb, "--data-dir", w.data], check=True, capture_output=True)
        bundle = os.path.join(usb, os.listdir(usb)[0])
        first = subprocess.run([CENTRAL, "import", bundle, "--database", w.database], capture_output=True, text=True)
        self.assertEqual(first.returncode, 0, first.stderr)
        self.assertIn("40 new, 0 already held; 2 quiz answers: 2 new", first.stdout)
        again = subprocess.run([CENTRAL, "import", bundle, "--database", w.database], capture_output=True, text=True)
        self.assertIn("0 new, 40 already held; 2 quiz answers: 0 new", again.stdout)
        if w.database.startswith("sqlite:"):
            with sqlite3.connect(w.database[len("sqlite:"):]) as c:
                held = c.execute("SELECT COUNT(*), SUM(correct) FROM quiz_answers").fetchone()
        else:
            held = tuple(int(x) for x in psql(w.database, "SELECT COUNT(*), SUM(CASE WHEN correct THEN 1 ELSE 0 END) FROM quiz_answers").split("|"))
        self.assertEqual(tuple(held), (2, 1))
        with open(bundle) as f:
            text = f.read()
        with open(bundle, "w") as f:
            f.write(text.replace('\\"glass\\"', '\\"metal\\"', 1))
        tampered = subprocess.run([CENTRAL, "import", bundle, "--database", w.database], capture_output=True, text=True)
        self.assertEqual(tampered.returncode, 1)
        self.assertIn("signature does not match", tampered.stderr)
        self.assertEqual(len(tampered.stderr.strip().splitlines()), 1)
        # A validly signed bundle with a record the HTTP API would refuse is refused whole, like a batch.
        import hashlib
        import hmac
        envelope = json.loads(text)
        payload = json.loads(envelope["payload"])
        payload["records"][0]["confidence"] = 5.0
        payload["records"][0]["id"] = "00000000-0000-4000-8000-000000000099"
        envelope["payload"] = json.dumps(payload, sort_keys=True)
        key = hashlib.sha256(w.token.encode()).digest()
        envelope["hmac_sha256"] = hmac.new(key, envelope["payload"].encode(), hashlib.sha256).hexdigest()
        with open(bundle, "w") as f:
            json.dump(envelope, f)
        bad = subprocess.run([CENTRAL, "import", bundle, "--database", w.database], capture_output=True, text=True)
        self.assertEqual(bad.returncode, 1, bad.stdout)
        self.assertIn("confidence outside 0-1", bad.stderr)
        self.assertEqual(w.server_count(), 40)
        # The records then also arrive over the network: nothing counted twice.
        self.assertEqual(w.sync().returncode, 0)
        w.assert_exactly_once()

    def test_background_sync_resumes_by_itself_when_the_network_returns(self):
        w = World(self)
        proxy = FaultProxy(w.port, seed=3, faults={})
        self.addCleanup(proxy.close)
        proxy.down = True
        w.enroll(proxy.port)
        watch = subprocess.Popen([KIOSK, "sync", "--watch", "--data-dir", w.data, "--timeout", "2"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(lambda: watch.poll() is None and watch.kill())
        w.write(100)
        time.sleep(4)
        self.assertEqual(w.server_count(), 0)
        self.assertEqual(len(w.kiosk_ids(pending_only=True)), 100)
        proxy.down = False
        back = time.time()
        while w.server_count() < 100 and time.time() - back < 20:
            time.sleep(0.2)
        self.assertEqual(w.server_count(), 100, "not resumed within 20 s of the network returning")
        resumed = time.time() - back
        w.write(50)  # new records while idle are picked up by the poll (every 5 s)
        written = time.time()
        # Generous: on a loaded machine (CI beside the model's training) one poll and a batch can take long.
        while w.server_count() < 150 and time.time() - written < 60:
            time.sleep(0.2)
        self.assertEqual(w.server_count(), 150, "records written while idle not sent within 60 s")
        w.assert_exactly_once()
        watch.send_signal(signal.SIGTERM)
        self.assertEqual(watch.wait(10), 0)
        print(f"\n  background sync resumed {resumed:.1f} s after the network returned", file=sys.stderr)

    def test_https_with_the_citys_own_ca(self):
        w = World(self)
        tmp = w.tmp.name
        ca_key, ca, key, csr, cert = (os.path.join(tmp, n) for n in ("ca.key", "ca.pem", "s.key", "s.csr", "s.pem"))
        ext = os.path.join(tmp, "san.ext")
        with open(ext, "w") as f:
            f.write("subjectAltName=IP:127.0.0.1\n")
        run = lambda *a: subprocess.run(a, check=True, capture_output=True)  # noqa: E731
        run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca, "-days", "2",
            "-subj", "/CN=City test CA")
        run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1")
        run("openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-out", cert,
            "-days", "2", "-extfile", ext)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        proxy = FaultProxy(w.port, seed=1, faults={}, tls=context)
        self.addCleanup(proxy.close)
        w.write(30)
        # Without the city's CA the certificate cannot be verified: enrolling cannot check the token, and a kiosk
        # enrolled offline sends nothing.
        refused = subprocess.run([KIOSK, "enroll", "--server", f"https://127.0.0.1:{proxy.port}", "--token", w.token,
                                  "--kiosk", w.name, "--data-dir", w.data], capture_output=True, text=True)
        self.assertEqual(refused.returncode, 1)
        self.assertIn("TLS", refused.stderr)
        subprocess.run([KIOSK, "enroll", "--server", f"https://127.0.0.1:{proxy.port}", "--token", w.token,
                        "--kiosk", w.name, "--offline", "--data-dir", w.data], check=True, capture_output=True)
        result = w.sync()
        self.assertEqual(result.returncode, 1)
        self.assertIn("TLS", result.stderr)
        self.assertEqual(w.server_count(), 0)
        subprocess.run([KIOSK, "enroll", "--server", f"https://127.0.0.1:{proxy.port}", "--token", w.token,
                        "--kiosk", w.name, "--ca-file", ca, "--data-dir", w.data], check=True, capture_output=True)
        result = w.sync()
        self.assertEqual(result.returncode, 0, result.stderr)
        w.assert_exactly_once()

    def test_bad_batches_get_a_clear_4xx_and_store_nothing(self):
        w = World(self)

        def post(body, headers=None, token=w.token):
            request = urllib.request.Request(f"http://127.0.0.1:{w.port}/api/v1/records", data=body, method="POST",
                                             headers={"Authorization": f"Bearer {token}", **(headers or {})})
            try:
                with urllib.request.urlopen(request) as r:
                    return r.status, json.loads(r.read())
            except urllib.error.HTTPError as e:
                return e.code, json.loads(e.read() or b"{}")

        def record(i, category="recyclable", kiosk="station-7"):
            return {"id": f"00000000-0000-4000-8000-{i:012d}", "kiosk": kiosk, "sequence": i + 1,
                    "captured_at_ms": 1, "label": "glass", "category": category, "confidence": 0.5,
                    "top": [], "model_version": "t", "language": "en"}

        batch = lambda records: json.dumps({"kiosk": "station-7", "records": records}).encode()  # noqa: E731

        def quiz(i, **change):
            return {"id": f"00000000-0000-4000-9000-{i:012d}", "kiosk": "station-7", "answered_at_ms": 1,
                    "question": "battery", "answer": "hazardous", "right": True, "language": "zh", **change}

        with_quiz = lambda answers: json.dumps({"kiosk": "station-7", "records": [], "quiz": answers}).encode()  # noqa: E731
        cases = [
            (post(with_quiz([quiz(1, kiosk="station-9")])), 403, "station-9"),
            (post(with_quiz([quiz(1), quiz(2, question="Not An Id")])), 400, "not a quiz question id"),
            (post(with_quiz([quiz(1), quiz(3, answer="compost")])), 400, "compost"),
            (post(with_quiz([quiz(i) for i in range(501)])), 413, "at most 500"),
            (post(b"{not json"), 400, "malformed"),
            (post(batch([record(1), record(2, category="plutonium")])), 400, "plutonium"),
            (post(batch([record(i) for i in range(501)])), 413, "at most 500"),
            (post(batch([record(1, kiosk="station-9")])), 403, "station-9"),
            (post(batch([record(1)]), token="0" * 64), 401, "unknown token"),
            (post(b"x" * (17 << 20)), 413, "larger than"),
            (post(gzip.compress(b"[" * (20 << 20)), {"Content-Encoding": "gzip"}), 413, "decompressed"),
            (post(b"\x1f\x8b\x08garbage", {"Content-Encoding": "gzip"}), 400, "gzip"),
            (post(batch([record(1)]), {"Content-Encoding": "br"}), 400, "Content-Encoding"),
        ]
        named = [
            # Refused for one record: the answer names it, so the kiosk can set just that one aside.
            (post(batch([record(1), record(2, category="plutonium")])), "00000000-0000-4000-8000-000000000002"),
            (post(batch([record(1), {**record(3), "confidence": 5.0}])), "00000000-0000-4000-8000-000000000003"),
            (post(batch([record(1), {**record(4), "id": "not-a-uuid"}])), None),  # its id unreadable: not named
            (post(b"{not json"), None),
            (post(with_quiz([quiz(1), quiz(2, question="Not An Id")])), "00000000-0000-4000-9000-000000000002"),
            (post(with_quiz([quiz(1), quiz(3, answer="compost")])), "00000000-0000-4000-9000-000000000003"),
        ]
        for (status, body), record_id in named:
            self.assertEqual(status, 400, body)
            self.assertEqual(body.get("record"), record_id, body)
        for (status, body), want, words in cases:
            self.assertEqual(status, want, body)
            self.assertIn(words, body.get("error", ""))
        self.assertEqual(w.server_count(), 0, "a rejected batch left records behind")
        status, body = post(batch([record(1), record(2)]))
        self.assertEqual(status, 200)
        self.assertEqual([r["status"] for r in body["results"]], ["accepted", "accepted"])
        status, body = post(with_quiz([quiz(1), quiz(1)]))
        self.assertEqual(status, 200)
        self.assertEqual([r["status"] for r in body["results"]], ["accepted", "duplicate"], "one answer counted once")

    def test_a_record_the_server_refuses_is_set_aside_and_the_others_go(self):
        w = World(self)
        w.enroll(w.port)
        w.write(30)
        # A record the server cannot take (as if written by a kiosk newer or buggier than the server).
        with sqlite3.connect(os.path.join(w.data, "records.sqlite")) as c:
            c.execute("UPDATE records SET confidence = 5.0 WHERE sequence = 10")
        result = w.sync("--batch-size", "8")
        self.assertEqual(result.returncode, 1, result.stdout)
        error = result.stderr.strip().splitlines()[-1]  # after the log's warning about the record
        self.assertIn("1 records are set aside", error)
        self.assertIn("--retry-refused", error)
        self.assertEqual(w.server_count(), 29)
        status = json.loads(w.sync("--status", "--json").stdout)
        self.assertEqual((status["pending"], status["refused"]), (0, 1))
        self.assertIn("confidence outside 0-1", status["latest_refusal"])
        self.assertEqual(len(w.kiosk_ids(pending_only=True)), 1, "the refused record must stay on the kiosk")
        # Neither sent again nor exported until asked; the rest of the outbox is not held up by it.
        w.write(5)
        result = w.sync()
        self.assertEqual(result.returncode, 1)
        self.assertIn("5 sent", result.stdout)
        self.assertEqual(w.server_count(), 34)
        bundles = os.path.join(w.tmp.name, "usb")
        os.mkdir(bundles)
        result = subprocess.run([KIOSK, "export", "--to", bundles, "--data-dir", w.data], capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("1 records the server refused are not exported", result.stdout)
        self.assertEqual(os.listdir(bundles), [])
        # Fixed (here by hand), then retried: the server holds exactly the kiosk's records.
        with sqlite3.connect(os.path.join(w.data, "records.sqlite")) as c:
            c.execute("UPDATE records SET confidence = 0.5 WHERE sequence = 10")
        result = w.sync("--retry-refused")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("1 refused records are pending again", result.stdout)
        w.assert_exactly_once()
        self.assertEqual(json.loads(w.sync("--status", "--json").stdout)["refused"], 0)

    def test_thumbnails_only_when_asked(self):
        w = World(self)
        w.enroll(w.port)
        engine = ["--model", os.path.join(ROOT, "Tests/Fixtures/tiny-resnet.onnx"), "--labels",
                  os.path.join(ROOT, "Tests/Fixtures/tiny-labels.txt"), "--backend", "fp32"]
        photo = os.path.join(ROOT, "Tests/Fixtures/glass1.jpg")
        subprocess.run([KIOSK, "classify", "--record", "--data-dir", w.data, *engine, photo], check=True,
                       capture_output=True)
        subprocess.run([KIOSK, "classify", "--record", "--thumbnails", "--data-dir", w.data, *engine, photo],
                       check=True, capture_output=True)
        with sqlite3.connect(os.path.join(w.data, "records.sqlite")) as c:
            thumbs = [r[0] for r in c.execute("SELECT thumbnail FROM records ORDER BY sequence")]
        self.assertIsNone(thumbs[0])
        self.assertTrue(thumbs[1].startswith(b"\xff\xd8") and len(thumbs[1]) < 20_000)
        self.assertEqual(w.sync().returncode, 0)
        w.assert_exactly_once()

    def test_systemd_readiness_and_watchdog_stop_while_the_store_is_wedged(self):
        w = World(self)
        w.enroll(w.port)
        w.write(10)
        notify_path = os.path.join(w.tmp.name, "notify")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        listener.bind(notify_path)
        self.addCleanup(listener.close)
        messages = []  # (time, text)

        def listen():
            while True:
                try:
                    messages.append((time.time(), listener.recv(4096).decode()))
                except OSError:
                    return
        threading.Thread(target=listen, daemon=True).start()
        watch = subprocess.Popen([KIOSK, "sync", "--watch", "--data-dir", w.data],
                                 env=dict(os.environ, NOTIFY_SOCKET=notify_path),
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(lambda: watch.poll() is None and watch.kill())
        deadline = time.time() + 15
        while time.time() < deadline and sum("WATCHDOG=1" in m for _, m in messages) < 2:
            time.sleep(0.1)
        self.assertTrue(any(m.startswith("READY=1") for _, m in messages), messages)
        self.assertGreaterEqual(sum("WATCHDOG=1" in m for _, m in messages), 2, messages)
        self.assertEqual(w.server_count(), 10)
        # Wedge the loop: another process holds the store's write lock, so the loop cannot read it.
        lock = sqlite3.connect(os.path.join(w.data, "records.sqlite"), isolation_level=None, timeout=30)
        # In WAL mode only an exclusive locking mode shuts readers out; it holds until the connection closes.
        lock.execute("PRAGMA locking_mode=EXCLUSIVE")
        lock.execute("BEGIN EXCLUSIVE")
        lock.execute("SELECT COUNT(*) FROM records").fetchall()
        wedged_at = time.time()
        time.sleep(14)
        pings_while_wedged = [t for t, m in messages if "WATCHDOG=1" in m and t > wedged_at + 6]
        lock.execute("ROLLBACK")
        lock.close()
        self.assertEqual(pings_while_wedged, [], "watchdog pings went on while the loop could not read its store")
        released = time.time()
        while time.time() < released + 30 and not any("WATCHDOG=1" in m and t > released for t, m in messages):
            time.sleep(0.2)
        self.assertTrue(any("WATCHDOG=1" in m and t > released for t, m in messages), "pings did not resume")
        watch.send_signal(signal.SIGTERM)
        self.assertEqual(watch.wait(15), 0)
        time.sleep(0.2)
        self.assertTrue(any("STOPPING=1" in m for _, m in messages))

    def test_rejections(self):
        w = World(self)
        other = subprocess.run([CENTRAL, "device", "add", "station-8", "--database", w.database],
                               check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
        w.write(5)
        # Enrolling checks the token with the server and takes the kiosk's name from it.
        def enroll(*args):
            return subprocess.run([KIOSK, "enroll", "--server", f"http://127.0.0.1:{w.port}", "--data-dir", w.data, *args],
                                  capture_output=True, text=True)
        result = enroll("--token", "f" * 64)
        self.assertEqual(result.returncode, 1)
        self.assertIn("does not know this token", result.stderr)
        result = enroll("--token", other, "--kiosk", "station-7")
        self.assertEqual(result.returncode, 1)
        self.assertIn("this token belongs to kiosk station-8", result.stderr)
        self.assertEqual(len(result.stderr.strip().splitlines()), 1, result.stderr)
        result = enroll("--token", w.token)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("enrolled station-7", result.stdout)
        result = subprocess.run([KIOSK, "enroll", "--server", "http://127.0.0.1:9", "--token", w.token, "--data-dir", w.data],
                                capture_output=True, text=True)
        self.assertEqual(result.returncode, 1)
        self.assertIn("--offline", result.stderr)
        result = enroll("--token", w.token, "--offline")
        self.assertEqual(result.returncode, 1)
        self.assertIn("--offline needs --kiosk", result.stderr)
        # Tokens that stop working after enrolling (revoked, or enrolled offline by mistake): a wrong token is a
        # 401, records kept.
        subprocess.run([KIOSK, "enroll", "--server", f"http://127.0.0.1:{w.port}", "--token", "f" * 64,
                        "--kiosk", "station-7", "--offline", "--data-dir", w.data], check=True, capture_output=True)
        result = w.sync()
        self.assertEqual(result.returncode, 1)
        self.assertIn("401", result.stderr)
        # Another kiosk's token for these records: 403.
        subprocess.run([KIOSK, "enroll", "--server", f"http://127.0.0.1:{w.port}", "--token", other,
                        "--kiosk", "station-7", "--offline", "--data-dir", w.data], check=True, capture_output=True)
        result = w.sync()
        self.assertEqual(result.returncode, 1)
        self.assertIn("403", result.stderr)
        self.assertEqual(len(w.kiosk_ids(pending_only=True)), 5)
        self.assertEqual(w.server_count(), 0)


@unittest.skipUnless(all(os.access(p, os.X_OK) for p in (KIOSK, CENTRAL, WRITER)), "build first: swift build")
class SoakTest(unittest.TestCase):
    def test_soak_under_random_faults(self):
        total = int(os.environ.get("KIOSK_SOAK", "2000"))
        w = World(self)
        proxy = FaultProxy(w.port, seed=7, faults={"error500": 0.1, "slow": 0.05, "reset": 0.15, "drop": 0.1})
        self.addCleanup(proxy.close)
        w.enroll(proxy.port)
        w.write(total)
        start = time.time()
        attempts = w.sync_until_done(attempts=1000)
        w.assert_exactly_once()
        print(f"\n  soak: {total} records, server holds {w.server_count()}, {attempts} sync runs, "
              f"{time.time() - start:.1f} s, faults {proxy.counts}", file=sys.stderr)


class UnitFileTest(unittest.TestCase):
    @unittest.skipUnless(subprocess.run(["which", "systemd-analyze"], capture_output=True).returncode == 0,
                         "systemd-analyze is not installed")
    def test_units_verify(self):
        units = [os.path.join(ROOT, "systemd", n) for n in sorted(os.listdir(os.path.join(ROOT, "systemd")))]
        result = subprocess.run(["systemd-analyze", "verify", *units], capture_output=True, text=True)
        # The binaries are not installed on a build machine; anything else is a mistake in a unit.
        problems = [l for l in (result.stdout + result.stderr).splitlines() if l and "is not executable" not in l]
        self.assertEqual(problems, [])


@unittest.skipUnless(POSTGRES, "no PostgreSQL (export KIOSK_TEST_POSTGRES=$(scripts/setup-postgres))")
class PostgresSyncTest(SyncTest):
    """The same tests with kiosk-central on PostgreSQL."""
    backend = "postgres"


@unittest.skipUnless(POSTGRES, "no PostgreSQL (export KIOSK_TEST_POSTGRES=$(scripts/setup-postgres))")
class PostgresSoakTest(SoakTest):
    backend = "postgres"


if __name__ == "__main__":
    unittest.main()
