#!/usr/bin/env python3
"""The touchscreen app end to end under Xvfb: the built `kiosk run` with a replay camera and the shipped model,
tapped with a real `xdotool` click on the X server. The tap starts a scan, the answer shows in the bin's colour,
a second click on Done stores the scan in the kiosk's SQLite file, and SIGTERM stops the app cleanly.
Screenshots: .build/screenshots/xvfb-*.png.

    python3 -m unittest discover -s Tests/EndToEnd      (scripts/test runs it after `swift build`)
"""
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("KIOSK_BIN_DIR", os.path.join(ROOT, ".build", "debug"))
KIOSK = os.path.join(BIN, "kiosk")
SHOTS = os.path.join(ROOT, ".build", "screenshots")
PICTURE = os.path.join(ROOT, "Tests", "Fixtures", "model", "glass.jpg")


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class ScreenUnderXvfbTest(unittest.TestCase):
    def setUp(self):
        for tool in ("Xvfb", "xdotool", "import"):
            self.assertIsNotNone(shutil.which(tool), f"{tool} is missing: run scripts/setup-test-tools")
        self.tmp = tempfile.mkdtemp(prefix="kiosk-xvfb-")
        os.makedirs(SHOTS, exist_ok=True)
        read, write = os.pipe()
        self.xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                                     pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(write)
        with os.fdopen(read) as f:
            display = f.readline().strip()
        self.assertTrue(display, "Xvfb did not report its display")
        self.env = dict(os.environ, DISPLAY=f":{display}", SDL_VIDEODRIVER="x11")
        self.env.pop("NOTIFY_SOCKET", None)

    def tearDown(self):
        if getattr(self, "app", None) and self.app.poll() is None:
            self.app.kill()
            self.app.wait()
        self.xvfb.terminate()
        self.xvfb.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def log(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def pixel(self, png, x, y):
        out = subprocess.run(["convert", png, "-crop", f"1x1+{x}+{y}", "-depth", "8", "txt:-"],
                             check=True, capture_output=True, text=True).stdout
        # "0,0: (0,91,172)  #005BAC  srgb(0,91,172)"
        return out.strip().splitlines()[-1].split("#")[1][:6].upper()

    def screenshot(self, window, name):
        path = os.path.join(SHOTS, f"xvfb-{name}.png")
        subprocess.run(["import", "-display", self.env["DISPLAY"], "-window", window, path], check=True,
                       env=self.env, capture_output=True)
        return path

    def test_a_real_tap_scans_answers_and_records(self):
        camera = os.path.join(self.tmp, "camera")
        os.mkdir(camera)
        shutil.copy(PICTURE, camera)
        data = os.path.join(self.tmp, "data")
        # What the engine says about the picture on its own, to compare with the screen and the record.
        expected = json.loads(subprocess.run([KIOSK, "classify", "--json", PICTURE], check=True, capture_output=True,
                                             text=True).stdout)
        with open(os.path.join(ROOT, "Resources", "catalogue.json"), encoding="utf-8") as f:
            catalogue = json.load(f)
        colour = next(c["color"] for c in catalogue["categories"] if c["id"] == expected["category"]).lstrip("#").upper()

        self.log_path = os.path.join(self.tmp, "kiosk.log")
        with open(self.log_path, "w") as log:
            self.app = subprocess.Popen(
                [KIOSK, "run", "--camera", camera, "--windowed", "--size", "1280x800", "--data-dir", data,
                 "--lang", "en", "--min-confidence", "0", "--min-margin", "0", "--no-sync", "--verbose"],
                env=self.env, stdout=log, stderr=subprocess.STDOUT)
        wait_for(lambda: "model ready" in self.log() and "kiosk running" in self.log(), 60, "the app to start")
        window = subprocess.run(["xdotool", "search", "--sync", "--name", "Waste sorting kiosk"], env=self.env,
                                check=True, capture_output=True, text=True, timeout=30).stdout.split()[0]
        time.sleep(0.5)  # a few frames of live picture
        self.screenshot(window, "ready")

        subprocess.run(["xdotool", "mousemove", "--window", window, "640", "400", "click", "1"], env=self.env, check=True)
        wait_for(lambda: "→ result(" in self.log(), 30, "the result screen")
        time.sleep(0.2)
        shot = self.screenshot(window, "result")
        self.assertEqual(self.pixel(shot, 8, 120), colour, "the banner shows the bin's colour")
        self.assertEqual(self.pixel(shot, 1240, 700), "FFD60A", "the Done button")

        # Done sits at the bottom right (ScreenLayout.doneButton at 1280x800).
        subprocess.run(["xdotool", "mousemove", "--window", window, "1064", "712", "click", "1"], env=self.env, check=True)
        db = os.path.join(data, "records.sqlite")

        def stored():
            if not os.path.exists(db):
                return None
            with sqlite3.connect(db) as c:
                return c.execute("SELECT label, category, language, correction, confidence FROM records").fetchall()
        rows = wait_for(stored, 15, "the record")
        self.assertEqual(len(rows), 1)
        label, category, language, correction, confidence = rows[0]
        self.assertEqual((label, category, language, correction), (expected["label"], expected["category"], "en", None))
        self.assertGreater(confidence, 0)

        self.app.send_signal(signal.SIGTERM)
        self.assertEqual(self.app.wait(timeout=15), 0, self.log()[-2000:])
        self.assertIn("stopping", self.log())

    def start(self, *args, env=None):
        camera = os.path.join(self.tmp, "camera")
        os.makedirs(camera, exist_ok=True)
        shutil.copy(PICTURE, camera)
        self.log_path = os.path.join(self.tmp, "kiosk.log")
        with open(self.log_path, "w") as log:
            self.app = subprocess.Popen(
                [KIOSK, "run", "--camera", camera, "--windowed", "--data-dir", os.path.join(self.tmp, "data"), "--no-sync",
                 *args], env=env or self.env, stdout=log, stderr=subprocess.STDOUT)

    def test_systemd_readiness_and_a_watchdog_fed_by_the_screen_loop(self):
        path = os.path.join(self.tmp, "notify")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(path)
        sock.settimeout(0.2)
        self.addCleanup(sock.close)
        # A 1 s watchdog: the loop pings every 250 ms.
        self.start(env=dict(self.env, NOTIFY_SOCKET=path, WATCHDOG_USEC="1000000"))

        def receive(seconds):
            messages, deadline = [], time.monotonic() + seconds
            while time.monotonic() < deadline:
                try:
                    messages.append(sock.recv(4096).decode())
                except socket.timeout:
                    pass
            return messages
        first = receive(3)
        self.assertTrue(any(m.startswith("READY=1") for m in first), first)
        self.assertGreaterEqual(sum(m == "WATCHDOG=1" for m in first), 3, first)
        # The loop is stopped (a wedge): the pings stop, so systemd would restart the app.
        self.app.send_signal(signal.SIGSTOP)
        receive(0.5)  # what was already on its way
        self.assertEqual(receive(1.5), [])
        self.app.send_signal(signal.SIGCONT)
        self.assertIn("WATCHDOG=1", receive(1.5))
        self.app.send_signal(signal.SIGTERM)
        self.assertEqual(self.app.wait(timeout=15), 0)
        self.assertIn("STOPPING=1", receive(0.5))

    def test_the_configuration_file_sets_the_app_up_and_a_bad_one_is_refused(self):
        config = os.path.join(self.tmp, "kiosk.json")
        with open(config, "w") as f:
            json.dump({"language": "en", "screen": {"idle_timeout_s": 20, "windowed": True}}, f)
        self.start("--config", config)
        wait_for(lambda: "kiosk running" in self.log(), 60, "the app to start")
        self.assertIn("language en, idle timeout 20.0 seconds", self.log())
        self.app.send_signal(signal.SIGTERM)
        self.assertEqual(self.app.wait(timeout=15), 0)

        with open(config, "w") as f:
            json.dump({"screen": {"min_confidence": 2}}, f)
        bad = subprocess.run([KIOSK, "run", "--config", config], env=self.env, capture_output=True, text=True, timeout=30)
        self.assertEqual(bad.returncode, 1)
        self.assertEqual(bad.stderr.strip(), f"kiosk: error: configuration {config}: screen.min_confidence: must be a number from 0 to 1")


if __name__ == "__main__":
    unittest.main()
