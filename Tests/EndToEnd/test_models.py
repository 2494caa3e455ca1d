#!/usr/bin/env python3
"""Model updates for the fleet end to end: a real kiosk-central (SQLite, and PostgreSQL when available) with the
city's signing key, two enrolled kiosks, models made from the shipped one (kmodel_variants.py). A model assigned
to one kiosk reaches only it; a forged signature, a damaged file and a model that answers the trial photos
otherwise than its manifest are refused with one line while the old model stays active; a download cut halfway
resumes with a Range request; SIGKILL during an install leaves the old or the new model, never none; rollback by
command and by itself when the active file does not load; and the running touchscreen app (under Xvfb) swaps to
a newly assigned model without a restart.

    python3 -m unittest Tests/EndToEnd/test_models.py
"""
import base64
import hashlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kmodel_variants  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("KIOSK_BIN_DIR", os.path.join(ROOT, ".build", "debug"))
KIOSK, CENTRAL = (os.path.join(BIN, n) for n in ("kiosk", "kiosk-central"))
SHIPPED = os.path.join(ROOT, "Resources", "models", "default.kmodel")
POSTGRES = os.environ.get("KIOSK_TEST_POSTGRES")


def psql(url, sql):
    result = subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-tAc", sql], capture_output=True, text=True)
    if result.returncode != 0:
        raise AssertionError(f"psql {sql!r}: {result.stderr.strip()}")
    return result.stdout


def version_of(path):
    """A kiosk model's version: the SHA-256 of everything before its 32-byte trailer."""
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()[:-32]).hexdigest()


def sign(key_file, manifest):
    """A signed manifest as kiosk-central writes it, signed with the key in `key_file` (base64 raw Ed25519)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    with open(key_file) as f:
        key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(f.read().strip()))
    raw = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()
    return {"manifest": base64.b64encode(raw).decode(), "signature": base64.b64encode(key.sign(raw)).decode()}


def opened(signed):
    return json.loads(base64.b64decode(signed["manifest"]))


class CutProxy:
    """Passes requests to kiosk-central, but cuts the first model download after `cut` bytes of its body (the
    connection reset), and keeps each model request's Range header."""

    def __init__(self, upstream_port, cut):
        self.upstream_port, self.cut, self.cuts = upstream_port, cut, 0
        self.ranges = []
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    def _handle(self, client):
        try:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = client.recv(65536)
                if not chunk:
                    return client.close()
                data += chunk
            head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
            path = head.split(" ")[1]
            is_model = path.startswith("/api/v1/models/")
            if is_model:
                self.ranges.append(next((l.split(":", 1)[1].strip() for l in head.split("\r\n") if l.lower().startswith("range:")), None))
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=30)
            upstream.sendall(data.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n", 1))
            response = b""
            while True:
                chunk = upstream.recv(1 << 20)
                if not chunk:
                    break
                response += chunk
            upstream.close()
            if is_model and self.cuts == 0:
                self.cuts += 1
                header_end = response.index(b"\r\n\r\n") + 4
                client.sendall(response[: header_end + self.cut])
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                return client.close()
            client.sendall(response)
            client.close()
        except OSError:
            client.close()

    def close(self):
        self.sock.close()


class Fleet:
    """kiosk-central on a fresh database with a signing key, serving; kiosks registered and enrolled on demand."""

    def __init__(self, test, serve_args=()):
        self.test = test
        self.tmp = tempfile.mkdtemp(prefix="kiosk-fleet-")
        test.addCleanup(shutil.rmtree, self.tmp, True)
        if getattr(test, "backend", "sqlite") == "postgres":
            name = "kiosk_models_" + os.urandom(6).hex()
            psql(POSTGRES, f"CREATE DATABASE {name}")
            self.database = f"{POSTGRES.rsplit('/', 1)[0]}/{name}"
            test.addCleanup(lambda: psql(POSTGRES, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        else:
            self.database = "sqlite:" + os.path.join(self.tmp, "central.sqlite")
        self.key = os.path.join(self.tmp, "keys", "model-signing.key")
        out = self.central("keys", "init", "--key-file", self.key).stdout
        self.public_key = out.strip().splitlines()[-1]
        self.tokens = {}
        self.server = subprocess.Popen([CENTRAL, "serve", "--port", "0", "--database", self.database, *serve_args],
                                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        test.addCleanup(self.stop)
        for line in self.server.stdout:
            if line.startswith("kiosk-central: listening on "):
                self.port = int(line.rsplit(":", 1)[1])
                break
        else:
            raise AssertionError("kiosk-central did not start")

    def stop(self):
        if self.server.poll() is None:
            self.server.terminate()
            self.server.wait(10)
        self.server.stdout.close()

    def central(self, *args, check=True):
        result = subprocess.run([CENTRAL, *args, "--database", self.database], capture_output=True, text=True, timeout=120)
        if check and result.returncode != 0:
            raise AssertionError(f"kiosk-central {' '.join(args)}: {result.stderr.strip()}")
        return result

    def kiosk(self, name, *args, check=True, env=None):
        result = subprocess.run([KIOSK, *args, "--data-dir", self.data(name)], capture_output=True, text=True,
                                timeout=120, env=env)
        if check and result.returncode != 0:
            raise AssertionError(f"kiosk {' '.join(args)}: {result.stderr.strip()}")
        return result

    def data(self, name):
        return os.path.join(self.tmp, "kiosk-" + name)

    def enroll(self, name, port=None):
        out = self.central("device", "add", name).stdout
        self.tokens[name] = out.strip().splitlines()[-1]
        self.kiosk(name, "enroll", "--server", f"http://127.0.0.1:{port or self.port}", "--token", self.tokens[name])

    def status(self, name):
        return json.loads(self.kiosk(name, "model", "status", "--json").stdout)

    def active(self, name):
        return self.status(name)["active"]["version"]

    def add(self, path, notes="test"):
        self.central("model", "add", path, "--notes", notes, "--key-file", self.key)
        return version_of(path)

    def variant(self, second):
        path = os.path.join(self.tmp, f"model-{second}.kmodel")
        kmodel_variants.retimed(SHIPPED, path, second)
        return path

    def sql(self, statement, params=()):
        """Changes the server's tables behind its back (what a damaged disk or an attacker would)."""
        if self.database.startswith("sqlite:"):
            with sqlite3.connect(self.database[len("sqlite:"):]) as c:
                return c.execute(statement, params).fetchall()
        for p in params:
            statement = statement.replace("?", "'" + str(p).replace("'", "''") + "'", 1)
        return psql(self.database, statement)

    def damage_file(self, version):
        if self.database.startswith("sqlite:"):
            with sqlite3.connect(self.database[len("sqlite:"):]) as c:
                blob = bytearray(c.execute("SELECT file FROM models WHERE version = ?", (version,)).fetchone()[0])
                blob[5000] ^= 0xFF
                c.execute("UPDATE models SET file = ? WHERE version = ?", (bytes(blob), version))
        else:
            psql(self.database, f"UPDATE models SET file = set_byte(file, 5000, 255 - get_byte(file, 5000)) WHERE version = '{version}'")

    def signed_manifest(self, version):
        text = self.sql("SELECT signed_manifest FROM models WHERE version = ?", (version,))
        return json.loads(text[0][0] if isinstance(text, list) else text.strip())


@unittest.skipUnless(all(os.access(p, os.X_OK) for p in (KIOSK, CENTRAL)), "build first: swift build")
class ModelUpdateTest(unittest.TestCase):
    def test_a_model_assigned_to_one_kiosk_reaches_only_it(self):
        fleet = Fleet(self)
        fleet.enroll("station-a")
        fleet.enroll("station-b")
        shipped = version_of(SHIPPED)
        self.assertEqual(fleet.active("station-a"), shipped, "before any update the bundled model is active")
        new = fleet.add(fleet.variant(11), notes="retrained")
        out = fleet.central("model", "assign", new[:12], "--kiosk", "station-a").stdout
        self.assertIn("now on it: 1 kiosk (station-a)", out)

        out = fleet.kiosk("station-a", "sync").stdout
        self.assertIn(f"model: installed {new[:16]}", out)
        status = fleet.status("station-a")
        self.assertEqual((status["active"]["version"], status["active"]["source"]), (new, "server"))
        self.assertEqual(status["previous"]["version"], shipped, "the bundled model is kept as the previous")
        self.assertIsNone(status["last_error"])
        out = fleet.kiosk("station-b", "sync").stdout
        self.assertIn("model: none assigned", out)
        self.assertEqual(fleet.active("station-b"), shipped)
        # The kiosk's engine now runs the new model: its records say so.
        out = fleet.kiosk("station-a", "classify", "--json", os.path.join(ROOT, "Resources", "trial-photos", "glass.jpg")).stdout
        self.assertEqual(json.loads(out)["model_version"], new[:16])
        # The technician's health summary names the model the app runs.
        health = json.loads(fleet.kiosk("station-a", "status", "--json", check=False).stdout)
        self.assertEqual((health["model_sha256"], health["model_error"]), (new, None))
        # Asked again, the kiosk is up to date and downloads nothing.
        self.assertIn(f"model: {new[:16]} is assigned and active", fleet.kiosk("station-a", "sync").stdout)

        listing = json.loads(fleet.central("model", "list", "--json").stdout)["models"]
        self.assertEqual([(m["version"], m["assigned"], m["notes"]) for m in listing], [(new, ["station-a"], "retrained")])
        # A rollout to all: the newest assignment covering a kiosk wins.
        newer = fleet.add(fleet.variant(22))
        fleet.central("model", "assign", newer[:16], "--all")
        for name in ("station-a", "station-b"):
            self.assertIn(f"model: installed {newer[:16]}", fleet.kiosk(name, "sync").stdout)
            self.assertEqual(fleet.active(name), newer)

    def test_forged_damaged_and_disagreeing_models_are_refused_and_the_old_one_stays(self):
        fleet = Fleet(self)
        fleet.enroll("station-a")
        shipped = version_of(SHIPPED)

        # Forged: a manifest signed with another key than the city's.
        forged = fleet.add(fleet.variant(31))
        other_key = os.path.join(fleet.tmp, "other.key")
        with open(other_key, "w") as f:
            f.write(base64.b64encode(os.urandom(32)).decode())
        resigned = sign(other_key, opened(fleet.signed_manifest(forged)))
        fleet.sql("UPDATE models SET signed_manifest = ? WHERE version = ?", (json.dumps(resigned), forged))
        fleet.central("model", "assign", forged[:16], "--kiosk", "station-a")
        result = fleet.kiosk("station-a", "sync", check=False)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("signature is not the city's", result.stderr.strip().splitlines()[-1])
        self.assertEqual(fleet.active("station-a"), shipped)

        # Damaged: one byte of the stored file flipped (size and manifest unchanged).
        damaged = fleet.add(fleet.variant(32))
        fleet.damage_file(damaged)
        fleet.central("model", "assign", damaged[:16], "--kiosk", "station-a")
        result = fleet.kiosk("station-a", "sync", check=False)
        self.assertNotEqual(result.returncode, 0)
        line = result.stderr.strip().splitlines()[-1]
        self.assertIn("model refused", line)
        self.assertIn("checksum", line.lower())
        status = fleet.status("station-a")
        self.assertEqual(status["active"]["version"], shipped)
        self.assertIn("model refused", status["last_error"])
        self.assertEqual(os.listdir(os.path.join(fleet.data("station-a"), "models")).count(damaged + ".part"), 0,
                         "the damaged download is not kept")

        # Disagreeing: a correctly signed manifest whose trial answers are not what the file answers.
        disagreeing = fleet.add(fleet.variant(33))
        manifest = opened(fleet.signed_manifest(disagreeing))
        manifest["answers"][0]["probability"] = round(max(0.0, manifest["answers"][0]["probability"] - 0.2), 4)
        fleet.sql("UPDATE models SET signed_manifest = ? WHERE version = ?", (json.dumps(sign(fleet.key, manifest)), disagreeing))
        fleet.central("model", "assign", disagreeing[:16], "--kiosk", "station-a")
        result = fleet.kiosk("station-a", "sync", check=False)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("fails its trial", result.stderr.strip().splitlines()[-1])
        status = fleet.status("station-a")
        self.assertEqual(status["active"]["version"], shipped)
        self.assertIn(disagreeing, status["refused"], "a model that answers otherwise is not downloaded again")
        again = fleet.kiosk("station-a", "sync").stdout
        self.assertIn("was refused here before", again)

        # After all that, a good model still goes in.
        good = fleet.add(fleet.variant(34))
        fleet.central("model", "assign", good[:16], "--kiosk", "station-a")
        fleet.kiosk("station-a", "sync")
        self.assertEqual(fleet.active("station-a"), good)

    def test_a_download_cut_halfway_resumes_where_it_stopped(self):
        fleet = Fleet(self)
        proxy = CutProxy(fleet.port, cut=10_000_000)
        self.addCleanup(proxy.close)
        fleet.enroll("station-a", port=proxy.port)
        new = fleet.add(fleet.variant(41))
        fleet.central("model", "assign", new[:16], "--kiosk", "station-a")
        result = fleet.kiosk("station-a", "sync", check=False)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("the download resumes at the next sync", result.stderr)
        status = fleet.status("station-a")
        self.assertEqual(status["pending"], new)
        got = status["pending_bytes"]
        self.assertTrue(0 < got <= 10_000_000, f"{got} bytes kept from the cut download")
        self.assertEqual(status["active"]["version"], version_of(SHIPPED))

        self.assertIn(f"model: installed {new[:16]}", fleet.kiosk("station-a", "sync").stdout)
        self.assertEqual(proxy.ranges, ["bytes=0-", f"bytes={got}-"], "the second request continues the first")
        status = fleet.status("station-a")
        self.assertEqual((status["active"]["version"], status["pending"]), (new, None))

    def test_usb_install_checks_the_signature_and_sigkill_never_leaves_no_model(self):
        fleet = Fleet(self)
        fleet.enroll("station-a")
        stick = os.path.join(fleet.tmp, "usb")
        os.mkdir(stick)
        first, second = fleet.add(fleet.variant(51)), fleet.add(fleet.variant(52))
        for v in (first, second):
            fleet.central("model", "export", v[:16], stick)
        first_file, second_file = (os.path.join(stick, v[:16] + ".kmodel") for v in (first, second))

        # Without a manifest: refused unless --unsigned; a manifest for another file: refused.
        plain = os.path.join(fleet.tmp, "plain.kmodel")
        shutil.copy(first_file, plain)
        result = fleet.kiosk("station-a", "model", "install", plain, check=False)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("needs the city's signature", result.stderr)
        result = fleet.kiosk("station-a", "model", "install", plain, "--manifest", second_file + ".manifest.json", check=False)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("the manifest is for", result.stderr.strip().splitlines()[-1])
        # A model that answers otherwise than its (genuinely signed) manifest says.
        skewed = os.path.join(fleet.tmp, "skewed.kmodel")
        with open(first_file + ".manifest.json") as f:
            manifest = opened(json.load(f))
        manifest["version"] = kmodel_variants.biased(SHIPPED, skewed, "metal", 3.0)
        with open(skewed + ".manifest.json", "w") as f:
            json.dump(sign(fleet.key, manifest), f)
        result = fleet.kiosk("station-a", "model", "install", skewed, check=False)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("fails its trial: on ", result.stderr.strip().splitlines()[-1])
        self.assertEqual(fleet.active("station-a"), version_of(SHIPPED))
        out = fleet.kiosk("station-a", "model", "install", skewed, "--unsigned").stdout
        self.assertIn("(unsigned)", out)
        self.assertEqual(fleet.active("station-a"), version_of(skewed))

        fleet.kiosk("station-a", "model", "install", first_file)
        self.assertEqual(fleet.active("station-a"), first)
        # SIGKILL at different moments of installing the second: the old or the new model, never none.
        outcomes = []
        for delay in (0.05, 0.15, 0.3, 0.5, 0.8, 1.2, 2.0, 3.0):
            install = subprocess.Popen([KIOSK, "model", "install", second_file, "--data-dir", fleet.data("station-a")],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(delay)
            install.send_signal(signal.SIGKILL)
            install.wait()
            status = fleet.status("station-a")
            active = status["active"]
            self.assertIn(active["version"], (first, second), f"after SIGKILL at {delay} s")
            self.assertEqual(version_of(active["file"]), active["version"], "the active file is whole")
            outcomes.append(active["version"] == second)
            if active["version"] == second:
                fleet.kiosk("station-a", "model", "rollback")
        self.assertIn(False, outcomes, "some kills came before the install finished")
        print(f"\n  SIGKILL during install: new model active after {sum(outcomes)} of {len(outcomes)} kills, the old one after the rest",
              file=sys.stderr)

    def test_rollback_by_command_and_by_itself_when_the_active_model_does_not_load(self):
        fleet = Fleet(self)
        fleet.enroll("station-a")
        first, second = fleet.add(fleet.variant(1)), fleet.add(fleet.variant(2))
        for v in (first, second):
            fleet.central("model", "assign", v[:16], "--kiosk", "station-a")
            fleet.kiosk("station-a", "sync")
        status = fleet.status("station-a")
        self.assertEqual((status["active"]["version"], status["previous"]["version"]), (second, first))
        self.assertIn(f"active model is {first[:16]} again", fleet.kiosk("station-a", "model", "rollback").stdout)
        self.assertEqual(fleet.active("station-a"), first)
        self.assertIn(f"active model is {second[:16]} again", fleet.kiosk("station-a", "model", "rollback").stdout)

        # The active file damaged on disk: the next load goes back to the previous by itself and says why.
        path = fleet.status("station-a")["active"]["file"]
        with open(path, "r+b") as f:
            f.seek(4000)
            byte = f.read(1)
            f.seek(4000)
            f.write(bytes([byte[0] ^ 0xFF]))
        out = fleet.kiosk("station-a", "classify", "--json", os.path.join(ROOT, "Resources", "trial-photos", "paper.jpg")).stdout
        self.assertEqual(json.loads(out)["model_version"], first[:16], "classified with the previous model")
        status = fleet.status("station-a")
        self.assertEqual(status["active"]["version"], first)
        self.assertIn(f"model {second[:16]} failed to load", status["last_error"])
        self.assertEqual(status["automatic_rollbacks"], 1)
        self.assertIn(second, status["refused"])
        result = fleet.kiosk("station-a", "model", "rollback", check=False)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("no previous model", result.stderr)

    def test_server_refuses_what_a_kiosk_must_not_get(self):
        fleet = Fleet(self)
        fleet.enroll("station-a")
        import urllib.error
        import urllib.request

        def get(path, token=None, headers=None):
            request = urllib.request.Request(f"http://127.0.0.1:{fleet.port}{path}", headers=headers or {})
            if token:
                request.add_header("Authorization", f"Bearer {token}")
            try:
                with urllib.request.urlopen(request, timeout=10) as r:
                    return r.status, r.read(), dict(r.headers)
            except urllib.error.HTTPError as e:
                return e.code, e.read(), dict(e.headers)

        token = fleet.tokens["station-a"]
        self.assertEqual(get("/api/v1/model", token)[0], 204, "nothing assigned")
        new = fleet.add(fleet.variant(7))
        self.assertEqual(get(f"/api/v1/models/{new}")[0], 401, "no token, no model")
        self.assertEqual(get("/api/v1/model", "x" * 40)[0], 401)
        self.assertEqual(get("/api/v1/models/abc", token)[0], 400)
        self.assertEqual(get("/api/v1/models/" + "0" * 64, token)[0], 404)
        status, _, headers = get(f"/api/v1/models/{new}", token, {"Range": "bytes=99999999-"})
        self.assertEqual((status, headers.get("Content-Range")), (416, f"bytes */{os.path.getsize(SHIPPED)}"))
        status, body, headers = get(f"/api/v1/models/{new}", token, {"Range": "bytes=10-19"})
        self.assertEqual((status, len(body), headers.get("Content-Range")), (206, 10, f"bytes 10-19/{os.path.getsize(SHIPPED)}"))
        # Bad admin input: one line each, nothing stored.
        for args, expected in [
            (["model", "add", os.path.join(ROOT, "Tests", "Fixtures", "not-an-image.jpg"), "--key-file", fleet.key], "not a valid kiosk model file"),
            (["model", "add", SHIPPED, "--key-file", os.path.join(fleet.tmp, "missing.key")], "cannot read the signing key"),
            (["model", "add", fleet.variant(7), "--key-file", fleet.key], "already held"),
            (["model", "assign", "ffffffff", "--all"], "no model ffffffff"),
            (["model", "assign", new[:16], "--kiosk", "nobody"], "no kiosk named nobody"),
            (["model", "assign", new[:16], "--share", "150"], "between 0 and 100"),
            (["keys", "init", "--key-file", fleet.key], "already exists"),
        ]:
            result = fleet.central(*args, check=False)
            self.assertNotEqual(result.returncode, 0, args)
            lines = result.stderr.strip().splitlines()
            self.assertEqual(len(lines), 1, result.stderr)
            self.assertIn(expected, lines[0])
        self.assertEqual(oct(os.stat(fleet.key).st_mode & 0o777), "0o600")
        self.assertEqual(len(json.loads(fleet.central("model", "list", "--json").stdout)["models"]), 1)


@unittest.skipUnless(all(os.access(p, os.X_OK) for p in (KIOSK, CENTRAL)) and shutil.which("Xvfb") and shutil.which("xdotool"),
                     "build first, and scripts/setup-test-tools (Xvfb, xdotool)")
class RunningKioskSwapTest(unittest.TestCase):
    def test_the_running_app_swaps_to_an_assigned_model_without_a_restart(self):
        fleet = Fleet(self)
        fleet.enroll("station-a")
        read, write = os.pipe()
        xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                                pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(write)
        with os.fdopen(read) as f:
            display = f.readline().strip()
        self.addCleanup(lambda: (xvfb.terminate(), xvfb.wait()))
        env = dict(os.environ, DISPLAY=f":{display}", SDL_VIDEODRIVER="x11")
        env.pop("NOTIFY_SOCKET", None)
        camera = os.path.join(fleet.tmp, "camera")
        os.mkdir(camera)
        # Two pictures taking turns: a scene that never settles, so the tray is never learned as empty.
        for name in ("glass.jpg", "paper.jpg"):
            shutil.copy(os.path.join(ROOT, "Resources", "trial-photos", name), camera)
        config = os.path.join(fleet.tmp, "kiosk.json")
        with open(config, "w") as f:
            json.dump({"model_check_s": 1}, f)
        log_path = os.path.join(fleet.tmp, "kiosk.log")
        with open(log_path, "w") as log:
            app = subprocess.Popen([KIOSK, "run", "--camera", camera, "--windowed", "--size", "1280x800", "--lang", "en",
                                    "--data-dir", fleet.data("station-a"), "--config", config, "--min-confidence", "0",
                                    "--min-margin", "0", "--replay-hold", "1.5", "--verbose"], env=env, stdout=log, stderr=subprocess.STDOUT)
        self.addCleanup(lambda: app.poll() is None and (app.kill(), app.wait()))

        def text():
            with open(log_path, encoding="utf-8", errors="replace") as f:
                return f.read()

        def wait(predicate, timeout, what):
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if predicate():
                    return
                time.sleep(0.1)
            raise AssertionError(f"timed out waiting for {what}: {text()[-3000:]}")

        wait(lambda: "model ready" in text() and "kiosk running" in text(), 60, "the app")
        window = subprocess.run(["xdotool", "search", "--sync", "--name", "Waste sorting kiosk"], env=env, check=True,
                                capture_output=True, text=True, timeout=30).stdout.split()[0]
        db = os.path.join(fleet.data("station-a"), "records.sqlite")

        def scan():
            before = text().count("→ result(")
            subprocess.run(["xdotool", "mousemove", "--window", window, "640", "400", "click", "1"], env=env, check=True)
            wait(lambda: text().count("→ result(") > before, 30, "the result screen")
            subprocess.run(["xdotool", "mousemove", "--window", window, "1064", "712", "click", "1"], env=env, check=True)

        def versions():
            if not os.path.exists(db):
                return []
            with sqlite3.connect(db) as c:
                return [r[0] for r in c.execute("SELECT model_version FROM records ORDER BY sequence")]

        scan()
        wait(lambda: len(versions()) == 1, 15, "the first record")
        new = fleet.add(fleet.variant(9))
        fleet.central("model", "assign", new[:16], "--kiosk", "station-a")
        wait(lambda: "model swapped" in text(), 60, "the swap")
        scan()
        wait(lambda: len(versions()) == 2, 15, "the second record")
        self.assertEqual(versions(), [version_of(SHIPPED)[:16], new[:16]], "the same process, the new model")
        app.send_signal(signal.SIGTERM)
        self.assertEqual(app.wait(timeout=20), 0, text()[-2000:])
        loop = next(l for l in text().splitlines() if "screen loop" in l)
        print(f"\n  {loop.strip()}", file=sys.stderr)
        # The screen kept drawing while the engine loaded the new model beside the old one.
        swap = loop.split("during_model_swaps=", 1)[1]
        self.assertRegex(swap, r"^[1-9][0-9]* frames", loop)
        self.assertNotIn("problem", text().lower().split("model swapped")[1].split("stopping")[0],
                         "no problem screen around the swap")


@unittest.skipUnless(all(os.access(p, os.X_OK) for p in (KIOSK, CENTRAL)) and shutil.which("chromium"),
                     "build first, and scripts/setup-test-tools (Chromium)")
class FleetDashboardTest(unittest.TestCase):
    def test_heartbeats_show_health_a_silent_kiosk_the_rollout_and_accuracy_per_model(self):
        from chromium import Chromium
        fleet = Fleet(self, serve_args=["--silent-after-minutes", "0.05"])
        password = "correct horse battery"
        subprocess.run([CENTRAL, "admin", "add", "ops", "--database", fleet.database], input=password + "\n",
                       check=True, capture_output=True, text=True)
        fleet.enroll("station-a")
        fleet.enroll("station-b")
        new = fleet.add(fleet.variant(44), notes="retrained on field photos")
        fleet.central("model", "assign", new[:16], "--kiosk", "station-a")
        photos = os.path.join(ROOT, "Resources", "trial-photos")
        pictures = sorted(os.path.join(photos, p) for p in os.listdir(photos) if p.endswith(".jpg"))
        fleet.kiosk("station-a", "sync")  # takes the new model
        fleet.kiosk("station-a", "classify", "--record", *pictures)
        fleet.kiosk("station-b", "classify", "--record", *pictures[:5])
        fleet.kiosk("station-b", "sync")
        time.sleep(3.5)  # station-b is silent from now on
        fleet.kiosk("station-a", "sync")

        import urllib.request
        request = urllib.request.Request(f"http://127.0.0.1:{fleet.port}/api/v1/heartbeat", method="POST",
                                         data=json.dumps({"kiosk": "station-b"}).encode(),
                                         headers={"Authorization": f"Bearer {fleet.tokens['station-a']}"})
        try:
            urllib.request.urlopen(request, timeout=10)
            self.fail("a malformed heartbeat was accepted")
        except urllib.error.HTTPError as e:
            self.assertEqual(e.code, 400)

        browser = Chromium(self)
        browser.send("Emulation.setDeviceMetricsOverride", {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False}, session=True)
        browser.navigate(f"http://127.0.0.1:{fleet.port}/login?lang=en")
        browser.evaluate(f"document.getElementById('name').value='ops'; document.getElementById('password').value='{password}';"
                         "document.getElementById('signin').click()")
        browser.wait_for_load()
        self.assertEqual(browser.evaluate("location.pathname"), "/dashboard")
        row = "document.querySelector('#health tr[data-kiosk=\"%s\"]').dataset.status"
        self.assertEqual(browser.evaluate(row % "station-a"), "ok")
        self.assertEqual(browser.evaluate(row % "station-b"), "silent")
        rollout = "document.querySelector('#rollout tr[data-model=\"%s\"]').dataset.%s"
        self.assertEqual((browser.evaluate(rollout % (new[:16], "assigned")), browser.evaluate(rollout % (new[:16], "running"))), ("1", "1"))
        shipped = version_of(SHIPPED)[:16]
        self.assertEqual(browser.evaluate(rollout % (shipped, "running")), "1")
        answers = "document.querySelector('#field-accuracy tr[data-model=\"%s\"]').dataset.answers"
        self.assertEqual((browser.evaluate(answers % new[:16]), browser.evaluate(answers % shipped)), (str(len(pictures)), "5"))
        shots = os.path.join(ROOT, ".build", "screenshots")
        os.makedirs(shots, exist_ok=True)
        browser.evaluate("document.getElementById('health').scrollIntoView()")
        browser.screenshot(os.path.join(shots, "dashboard-fleet-en.png"), 1280)


@unittest.skipUnless(POSTGRES, "no PostgreSQL (export KIOSK_TEST_POSTGRES=$(scripts/setup-postgres))")
class PostgresModelUpdateTest(ModelUpdateTest):
    backend = "postgres"


if __name__ == "__main__":
    unittest.main()
