#!/usr/bin/env python3
"""Residents' points end to end. The built kiosk under Xvfb, enrolled with a real `kiosk-central` on loopback,
scans with a real xdotool tap and shows a QR code; zbar reads the code off the screenshot; headless Chromium opens
its link and claims it with a nickname and PIN before the kiosk has synced (pending), then `kiosk sync` brings the
record and the balance shows the points. Then the abuse cases over HTTP, each a clear 4xx with nothing counted
twice: the code claimed twice, forged, expired, another kiosk's record, wrong PINs, and a flood from one address,
while the server keeps serving. Screenshots: .build/screenshots/claim-*.png.

    python3 -m unittest Tests/EndToEnd/test_claim.py      (scripts/test runs it after `swift build`)
"""
import base64
import hashlib
import hmac
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chromium import Chromium  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("KIOSK_BIN_DIR", os.path.join(ROOT, ".build", "debug"))
KIOSK = os.path.join(BIN, "kiosk")
CENTRAL = os.path.join(BIN, "kiosk-central")
CATALOGUE = os.path.join(ROOT, "Resources", "catalogue.json")
PICTURE = os.path.join(ROOT, "Tests", "Fixtures", "model", "glass.jpg")
SHOTS = os.path.join(ROOT, ".build", "screenshots")
PASSWORD = "correct horse battery"


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claim_code(kiosk, token, record, issued_s):
    """A points code made here from the format's description (ClaimCode.swift), to check the server's reading."""
    key = hmac.new(hashlib.sha256(token.encode()).digest(), b"kiosk-claim-key/1", hashlib.sha256).digest()
    message = f"kiosk-claim/1\n{kiosk}\n{str(record).lower()}\n{issued_s}".encode()
    mac = hmac.new(key, message, hashlib.sha256).digest()[:16]
    return "~".join(["1", kiosk, b64url(record.bytes), str(issued_s), b64url(mac)])


class Central:
    """kiosk-central on a fresh SQLite file, with kiosks registered and the shipped catalogue."""

    def __init__(self, test, kiosks, *extra):
        self.tmp = tempfile.TemporaryDirectory()
        test.addCleanup(self.tmp.cleanup)
        self.database = "sqlite:" + os.path.join(self.tmp.name, "central.sqlite")
        self.tokens = {}
        for name in kiosks:
            out = subprocess.run([CENTRAL, "device", "add", name, "--database", self.database],
                                 check=True, capture_output=True, text=True).stdout
            self.tokens[name] = out.strip().splitlines()[-1]
        subprocess.run([CENTRAL, "admin", "add", "ops", "--database", self.database], input=PASSWORD + "\n",
                       check=True, capture_output=True, text=True)
        self.process = subprocess.Popen(
            [CENTRAL, "serve", "--port", "0", "--database", self.database, "--catalogue", CATALOGUE, *extra],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        test.addCleanup(self.stop)
        for line in self.process.stdout:
            if line.startswith("kiosk-central: listening on "):
                self.base = line.split(" on ", 1)[1].strip()
                return
        raise AssertionError("kiosk-central did not start")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process.stdout.close()

    def request(self, path, body=None, token=None):
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(self.base + path, data=None if body is None else json.dumps(body).encode(),
                                         method="GET" if body is None else "POST", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as r:
                return r.status, json.loads(r.read() or b"{}"), dict(r.headers)
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}"), dict(e.headers)

    def claim(self, code, nickname="mei", pin="2468"):
        return self.request("/api/v1/claims", {"code": code, "nickname": nickname, "pin": pin})

    def balance(self, nickname="mei", pin="2468"):
        return self.request("/api/v1/points", {"nickname": nickname, "pin": pin})

    def push(self, kiosk, record_id, sequence, correction=None):
        record = {"id": str(record_id), "kiosk": kiosk, "sequence": sequence, "captured_at_ms": int(time.time() * 1000),
                  "label": "battery", "category": "hazardous", "confidence": 0.9, "top": [{"label": "battery", "p": 0.9}],
                  "model_version": "t", "language": "zh", "correction": correction}
        return self.request("/api/v1/records", {"kiosk": kiosk, "records": [record]}, token=self.tokens[kiosk])


class ClaimFlowTest(unittest.TestCase):
    def setUp(self):
        for tool in ("Xvfb", "xdotool", "import", "zbarimg"):
            self.assertIsNotNone(shutil.which(tool), f"{tool} is missing: run scripts/setup-test-tools")
        self.tmp = tempfile.mkdtemp(prefix="kiosk-claim-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        os.makedirs(SHOTS, exist_ok=True)

    def start_xvfb(self):
        read, write = os.pipe()
        xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                                pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(write)
        with os.fdopen(read) as f:
            display = f.readline().strip()
        self.addCleanup(lambda: (xvfb.terminate(), xvfb.wait()))
        env = dict(os.environ, DISPLAY=f":{display}", SDL_VIDEODRIVER="x11")
        env.pop("NOTIFY_SOCKET", None)
        return env

    def test_a_kiosk_scan_claimed_in_chromium_before_and_after_its_sync(self):
        central = Central(self, ["station-1"])
        data = os.path.join(self.tmp, "data")
        subprocess.run([KIOSK, "enroll", "--server", central.base, "--token", central.tokens["station-1"],
                        "--kiosk", "station-1", "--data-dir", data], check=True, capture_output=True)
        camera = os.path.join(self.tmp, "camera")
        os.mkdir(camera)
        shutil.copy(PICTURE, camera)
        env = self.start_xvfb()
        log_path = os.path.join(self.tmp, "kiosk.log")

        def log():
            with open(log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        # --no-sync: the record stays on the kiosk until `kiosk sync`, so the claim comes first (a kiosk offline).
        with open(log_path, "w") as out:
            app = subprocess.Popen(
                [KIOSK, "run", "--camera", camera, "--windowed", "--size", "1280x800", "--data-dir", data, "--lang", "en",
                 "--min-confidence", "0", "--min-margin", "0", "--no-sync", "--verbose"],
                env=env, stdout=out, stderr=subprocess.STDOUT)
        self.addCleanup(lambda: app.poll() is None and (app.kill(), app.wait()))
        wait_for(lambda: "model ready" in log() and "kiosk running" in log(), 60, "the app to start")
        window = subprocess.run(["xdotool", "search", "--sync", "--name", "Waste sorting kiosk"], env=env, check=True,
                                capture_output=True, text=True, timeout=30).stdout.split()[0]
        time.sleep(0.5)
        subprocess.run(["xdotool", "mousemove", "--window", window, "640", "400", "click", "1"], env=env, check=True)
        wait_for(lambda: "→ result(" in log(), 30, "the result screen")
        time.sleep(0.3)
        shot = os.path.join(SHOTS, "claim-kiosk-result.png")
        subprocess.run(["import", "-display", env["DISPLAY"], "-window", window, shot], check=True, env=env, capture_output=True)
        links = subprocess.run(["zbarimg", "--quiet", "--raw", shot], capture_output=True, text=True).stdout.split()
        self.assertEqual(len(links), 1, f"one QR code on the result screen ({shot})")
        link = links[0]
        self.assertTrue(link.startswith(central.base + "/resident/claim?c=1~station-1~"), link)

        # Done stores the record the code names.
        subprocess.run(["xdotool", "mousemove", "--window", window, "1064", "712", "click", "1"], env=env, check=True)
        db = os.path.join(data, "records.sqlite")

        def stored():
            if not os.path.exists(db):
                return None
            with sqlite3.connect(db) as c:
                return c.execute("SELECT id, category, correction FROM records").fetchall()
        rows = wait_for(stored, 15, "the record")
        self.assertEqual(len(rows), 1)
        record_id, category, correction = rows[0]
        self.assertEqual((category, correction), ("recyclable", None))
        code = link.split("c=", 1)[1]
        self.assertEqual(base64.urlsafe_b64decode(code.split("~")[2] + "=="), uuid.UUID(record_id).bytes)
        app.send_signal(signal.SIGTERM)
        self.assertEqual(app.wait(timeout=15), 0, log()[-2000:])

        # The resident's phone: the link, a nickname and a PIN. The record is not on the server yet: pending.
        browser = Chromium(self)
        browser.navigate(link)
        self.assertTrue(browser.evaluate("!!document.getElementById('claim-form')"))
        browser.screenshot(os.path.join(SHOTS, "claim-form-phone.png"), 390, mobile=True)
        browser.evaluate("document.getElementById('nickname').value='Mei'; document.getElementById('pin').value='2468';"
                         "document.getElementById('claim-form').requestSubmit(); true")
        browser.wait_for_load()
        self.assertEqual(browser.evaluate("document.getElementById('claimed') && document.getElementById('claimed').dataset.state"),
                         "pending", browser.evaluate("document.body.innerText"))
        self.assertEqual(browser.evaluate("document.getElementById('balance').dataset.points"), "0")
        browser.screenshot(os.path.join(SHOTS, "claim-pending-phone.png"), 390, mobile=True)

        sync = subprocess.run([KIOSK, "sync", "--data-dir", data, "--timeout", "2"], capture_output=True, text=True, timeout=120)
        self.assertEqual(sync.returncode, 0, sync.stderr)

        # After the sync: the balance shows the recyclable bin's 5 points, once.
        browser.navigate(central.base + "/resident/points?lang=en")
        browser.evaluate("document.getElementById('nickname').value='mei'; document.getElementById('pin').value='2468';"
                         "document.querySelector('#balance-form form').requestSubmit(); true")
        browser.wait_for_load()
        self.assertEqual(browser.evaluate("document.getElementById('balance').dataset.points"), "5",
                         browser.evaluate("document.body.innerText"))
        self.assertEqual(browser.evaluate("document.querySelector('#history tr').dataset.state"), "credited")
        browser.screenshot(os.path.join(SHOTS, "claim-balance-phone.png"), 390, mobile=True)
        browser.screenshot(os.path.join(SHOTS, "claim-balance-desk.png"), 1280)

        # The same code again, from the page's link: refused, and the balance stays 5.
        status, body, _ = central.claim(code)
        self.assertEqual((status, body["error"]), (409, "you have claimed this code already"))
        status, body, _ = central.claim(code, nickname="li", pin="1357")
        self.assertEqual((status, body["error"]), (409, "this code was claimed by someone else"))
        self.assertEqual(central.balance()[1]["balance"]["points"], 5)

        # The operators: today's points for station-1 on the dashboard and in its CSV export.
        browser.navigate(central.base + "/dashboard?lang=en")
        browser.evaluate(f"document.getElementById('name').value='ops'; document.getElementById('password').value='{PASSWORD}';"
                         "document.getElementById('signin').click()")
        browser.wait_for_load()
        self.assertEqual(browser.evaluate("document.getElementById('points-sum').dataset.value"), "5")
        self.assertEqual(browser.evaluate("document.querySelector('#points tr[data-kiosk]').dataset.kiosk"), "station-1")
        browser.screenshot(os.path.join(SHOTS, "claim-dashboard-points.png"), 1280)
        auth = "Basic " + base64.b64encode(f"ops:{PASSWORD}".encode()).decode()
        with urllib.request.urlopen(urllib.request.Request(central.base + "/api/v1/points.csv", headers={"Authorization": auth})) as r:
            lines = r.read().decode().splitlines()
        self.assertEqual(lines[0], "day,kiosk,claims,credited,pending,void,points")
        self.assertEqual(len(lines), 2)
        self.assertTrue(lines[1].endswith(",station-1,1,1,0,0,5"), lines)
        # Not for residents or kiosks.
        with self.assertRaises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(urllib.request.Request(central.base + "/api/v1/points.csv",
                                                          headers={"Authorization": f"Bearer {central.tokens['station-1']}"}))
        self.assertEqual(refused.exception.code, 401)

    def test_abuse_gets_a_clear_4xx_and_nothing_counts_twice(self):
        central = Central(self, ["station-1", "station-2"], "--claims-per-minute", "1000")
        token = central.tokens["station-1"]
        now = int(time.time())
        good = uuid.uuid4()
        self.assertEqual(central.push("station-1", good, 1)[0], 200)
        code = claim_code("station-1", token, good, now)
        status, body, _ = central.claim(code)
        self.assertEqual(status, 200, body)
        self.assertEqual((body["claim"]["state"], body["claim"]["points"], body["balance"]["points"]), ("credited", 10, 10))

        other = uuid.uuid4()
        self.assertEqual(central.push("station-2", other, 1)[0], 200)
        corrected = uuid.uuid4()
        self.assertEqual(central.push("station-1", corrected, 2, correction="category:other")[0], 200)
        forged = code[:-2] + ("AA" if not code.endswith("AA") else "BB")
        cases = [
            ("claimed twice", central.claim(code), 409, "claimed this code already"),
            ("forged signature", central.claim(forged), 403, "forged or altered"),
            ("signed with another kiosk's key", central.claim(claim_code("station-1", central.tokens["station-2"], uuid.uuid4(), now)),
             403, "forged or altered"),
            ("an unregistered kiosk", central.claim(claim_code("station-9", token, uuid.uuid4(), now)), 403, "not registered"),
            ("expired", central.claim(claim_code("station-1", token, uuid.uuid4(), now - 86_400 - 120)), 410, "expired"),
            ("issued in the future", central.claim(claim_code("station-1", token, uuid.uuid4(), now + 3600)), 400, "future"),
            ("another kiosk's record", central.claim(claim_code("station-1", token, other, now)), 409, "made at station-2"),
            ("a corrected scan", central.claim(claim_code("station-1", token, corrected, now)), 409, "corrected at the kiosk"),
            ("not a code", central.claim("hello"), 400, "five parts"),
            ("a bad PIN", central.claim(claim_code("station-1", token, uuid.uuid4(), now), pin="12"), 400, "PIN must be"),
            ("the wrong PIN", central.claim(claim_code("station-1", token, uuid.uuid4(), now), pin="1111"), 403, "wrong PIN"),
            ("a body that is not JSON", central.request("/api/v1/claims", "x" * 10_000), 400, ""),
        ]
        for what, (status, body, _), expected_status, expected in cases:
            self.assertEqual(status, expected_status, f"{what}: {body}")
            self.assertIn(expected, body.get("error", ""), what)
        # Five wrong PINs in a row lock the nickname, even against the right one.
        for _ in range(4):
            self.assertEqual(central.balance(pin="0000")[0], 403)
        status, body, headers = central.balance()
        self.assertEqual(status, 429, body)
        self.assertIn("Retry-After", headers)
        # Nothing counted twice or wrongly: the one good claim's 10 points, and the two void claims' none.
        with sqlite3.connect(central.database[len("sqlite:"):]) as c:
            rows = c.execute("SELECT state, COUNT(*), SUM(points) FROM claims GROUP BY state ORDER BY state").fetchall()
        self.assertEqual(rows, [("credited", 1, 10), ("void", 2, 0)])
        self.assertEqual(central.request("/api/v1/health")[0], 200)

    def test_a_flood_of_claims_from_one_address_is_refused_and_the_server_keeps_serving(self):
        central = Central(self, ["station-1"], "--claims-per-minute", "5")
        token = central.tokens["station-1"]
        statuses = [central.claim(claim_code("station-1", token, uuid.uuid4(), int(time.time())), nickname=f"r{i}")[0]
                    for i in range(12)]
        self.assertEqual(statuses[:5], [200] * 5)
        self.assertEqual(set(statuses[5:]), {429})
        status, body, headers = central.balance(nickname="r0", pin="2468")
        self.assertEqual(status, 429)
        self.assertGreater(int(headers["Retry-After"]), 0)
        self.assertEqual(central.request("/api/v1/health")[0], 200)
        status, body, _ = central.request("/api/v1/items?q=battery&lang=en")
        self.assertEqual((status, body["items"][0]["category"]), (200, "hazardous"))


if __name__ == "__main__":
    unittest.main()
