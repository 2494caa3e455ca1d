#!/usr/bin/env python3
"""Field photos end to end with a real kiosk-central (SQLite, and PostgreSQL when available): a technician's
labelled photos (`kiosk camera capture` on a replayed tray), a resident's correction on the touchscreen under Xvfb
with `field_photos: true`, both synced with `kiosk sync`, written by `kiosk-central export-training` as a labelled
tree with a manifest, read by the training script's `--extra` in a tiny run, then deleted by day.

    python3 -m unittest Tests/EndToEnd/test_field_photos.py
"""
import datetime
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

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from test_models import CENTRAL, KIOSK, POSTGRES, ROOT, Fleet  # noqa: E402

PHOTOS = os.path.join(ROOT, "Resources", "trial-photos")
TRAINING = os.path.join(ROOT, "scripts", "training")


def tray_folder(root, *names):
    """A replay camera folder: an empty tray (a plain grey picture) first, then the named trial photos in turn."""
    os.makedirs(root)
    subprocess.run(["convert", "-size", "640x480", "xc:#d8d8d8", os.path.join(root, "00-empty.jpg")], check=True)
    for i, name in enumerate(names, 1):
        shutil.copy(os.path.join(PHOTOS, name.split("#")[0] + ".jpg"), os.path.join(root, f"{i:02d}-{name.replace('#', '-')}.jpg"))
    return root


def jpeg_size(path):
    out = subprocess.run(["identify", "-format", "%m %wx%h", path], check=True, capture_output=True, text=True).stdout
    return out.strip()


@unittest.skipUnless(all(os.access(p, os.X_OK) for p in (KIOSK, CENTRAL)) and shutil.which("Xvfb") and shutil.which("xdotool"),
                     "build first, and scripts/setup-test-tools (Xvfb, xdotool)")
class FieldPhotoTest(unittest.TestCase):
    backend = "sqlite"

    def capture(self, fleet, folder, label, count, *extra, check=True):
        return fleet.kiosk("station-a", "camera", "capture", "--device", folder, "--label", label, "--count", str(count),
                           "--hold", "1", *extra, check=check)

    def correct_on_the_touchscreen(self, fleet):
        """Under Xvfb with field_photos on: one scan corrected (Not right → the second guess → Done) and one
        answer accepted as it is. Returns the corrected record's (label, correction)."""
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
            shutil.copy(os.path.join(PHOTOS, name), camera)
        config = os.path.join(fleet.tmp, "kiosk.json")
        with open(config, "w") as f:
            json.dump({"field_photos": True}, f)
        log_path = os.path.join(fleet.tmp, "kiosk.log")
        with open(log_path, "w") as log:
            app = subprocess.Popen([KIOSK, "run", "--camera", camera, "--windowed", "--size", "1280x800", "--lang", "en",
                                    "--data-dir", fleet.data("station-a"), "--config", config, "--min-confidence", "0",
                                    "--min-margin", "0", "--replay-hold", "1.5", "--no-sync", "--verbose"],
                                   env=env, stdout=log, stderr=subprocess.STDOUT)
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

        def tap(x, y):
            subprocess.run(["xdotool", "mousemove", "--window", window, str(x), str(y), "click", "1"], env=env, check=True)

        wait(lambda: "model ready" in text() and "kiosk running" in text(), 60, "the app")
        window = subprocess.run(["xdotool", "search", "--sync", "--name", "Waste sorting kiosk"], env=env, check=True,
                                capture_output=True, text=True, timeout=30).stdout.split()[0]
        db = os.path.join(fleet.data("station-a"), "records.sqlite")

        def records():
            with sqlite3.connect(db) as c:
                return c.execute("SELECT id, label, correction FROM records ORDER BY sequence").fetchall()

        # ScreenLayout at 1280x800: the picture (scan), Not right bottom left, the second guess, Done bottom right.
        before = text().count("→ result(")
        tap(640, 400)
        wait(lambda: text().count("→ result(") > before, 30, "the result screen")
        tap(216, 712)
        wait(lambda: "→ notSure(" in text(), 10, "the not-sure screen")
        tap(408, 420)
        wait(lambda: text().count("→ result(") > before + 1, 10, "the corrected result")
        tap(1064, 712)
        wait(lambda: os.path.exists(db) and len(records()) == 1, 15, "the corrected record")
        time.sleep(0.5)
        before = text().count("→ result(")
        tap(640, 400)
        wait(lambda: text().count("→ result(") > before, 30, "the second result")
        tap(1064, 712)
        wait(lambda: len(records()) == 2, 15, "the accepted record")
        app.send_signal(signal.SIGTERM)
        self.assertEqual(app.wait(timeout=20), 0, text()[-2000:])
        corrected, accepted = records()
        self.assertIsNotNone(corrected[2], "the first scan was corrected")
        self.assertIsNone(accepted[2])
        return corrected

    def test_technician_and_resident_photos_reach_the_training_export(self):
        fleet = Fleet(self)
        fleet.enroll("station-a")
        # The technician: a glass, then a metal item, each after the empty tray.
        out = self.capture(fleet, tray_folder(os.path.join(fleet.tmp, "tray-glass"), "glass"), "glass", 1).stdout
        self.assertIn("empty tray seen", out)
        self.capture(fleet, tray_folder(os.path.join(fleet.tmp, "tray-metal"), "metal"), "metal", 1)
        # The same item lying there twice in a row, and the same picture after the empty tray, are not kept again:
        # two photos are not reached.
        dup = tray_folder(os.path.join(fleet.tmp, "tray-dup"), "plastic#a", "plastic#b")
        shutil.copy(os.path.join(dup, "00-empty.jpg"), os.path.join(dup, "03-empty.jpg"))
        shutil.copy(os.path.join(PHOTOS, "plastic.jpg"), os.path.join(dup, "04-plastic.jpg"))
        result = self.capture(fleet, dup, "plastic", 2, "--timeout", "9", check=False)
        self.assertNotEqual(result.returncode, 0)
        self.assertRegex(result.stderr.strip(), r"^kiosk: error: only 1 of 2 photos in 9 s .*the 1 kept stay$")
        bad = self.capture(fleet, dup, "bananas", 1, check=False)
        self.assertNotEqual(bad.returncode, 0)
        self.assertIn("--label bananas is not a label of the catalogue", bad.stderr)

        record_id, model_label, correction = self.correct_on_the_touchscreen(fleet)
        with sqlite3.connect(os.path.join(fleet.data("station-a"), "records.sqlite")) as c:
            held = c.execute("SELECT label, source, record_id, model_label FROM field_photos ORDER BY taken_at_ms").fetchall()
        self.assertEqual(held, [("glass", "technician", None, None), ("metal", "technician", None, None),
                                ("plastic", "technician", None, None), (correction, "resident", record_id, model_label)],
                         "the accepted answer kept no photo")
        status = json.loads(fleet.kiosk("station-a", "sync", "--status", "--json").stdout)
        self.assertEqual(status["field_photos"], 4)

        out = fleet.kiosk("station-a", "sync").stdout
        self.assertIn("(4 of them field photos)", out)
        self.assertEqual(json.loads(fleet.kiosk("station-a", "sync", "--status", "--json").stdout)["field_photos"], 0,
                         "synced photos are deleted on the kiosk")
        self.assertRegex(fleet.central("field-photos", "status").stdout, r"^4 field photos, the oldest taken ")

        export = os.path.join(fleet.tmp, "export")
        today = datetime.date.today()
        out = fleet.central("export-training", export, "--from", str(today - datetime.timedelta(days=1)),
                            "--to", str(today + datetime.timedelta(days=1))).stdout
        self.assertIn("exported 4 field photos", out)
        self.assertIn("1 resident, 3 technician", out)
        with open(os.path.join(export, "manifest.json")) as f:
            manifest = json.load(f)
        entries = manifest["photos"]
        self.assertEqual([(e["label"], e["label_source"], e["kiosk"]) for e in entries],
                         [("glass", "technician", "station-a"), ("metal", "technician", "station-a"),
                          ("plastic", "technician", "station-a"), (correction, "resident", "station-a")])
        self.assertEqual(entries[3]["record"], record_id)
        for e in entries:
            self.assertEqual(e["file"], f"{e['label']}/{e['id']}.jpg")
            self.assertEqual(jpeg_size(os.path.join(export, e["file"])), "JPEG 224x224")
        # Another day's export has none; a folder that is not empty is refused.
        empty = fleet.central("export-training", os.path.join(fleet.tmp, "old"), "--to", str(today - datetime.timedelta(days=2)))
        self.assertIn("exported 0 field photos", empty.stdout)
        again = fleet.central("export-training", export, check=False)
        self.assertNotEqual(again.returncode, 0)
        self.assertEqual(again.stderr.strip(), f"kiosk-central: error: {export} is not empty: export into a new folder")

        if self.backend == "sqlite":
            self.tiny_training_run(export, len(entries))
        out = fleet.central("field-photos", "delete", "--before", str(today + datetime.timedelta(days=1))).stdout
        self.assertIn("deleted 4 field photos", out)
        self.assertEqual(fleet.central("field-photos", "status").stdout.strip(), "0 field photos")

    def tiny_training_run(self, export, photos):
        """The training script's --extra reads the export: one tiny epoch on small generated base photos plus the
        field photos (all of them; --limit applies to the base photos only)."""
        try:
            import torch  # noqa: F401
        except ImportError:
            self.fail("torch is missing: scripts/setup-training-tools")
        sys.path.insert(0, TRAINING)
        import data  # noqa: E402
        import nets  # noqa: E402
        import test_pipeline  # noqa: E402
        with tempfile.TemporaryDirectory() as tmp:
            test_pipeline.tiny_photos(f"{tmp}/data")
            os.makedirs(f"{tmp}/work")
            torch.manual_seed(0)
            torch.save(nets.EfficientNetLite("lite0", len(data.LABELS)).state_dict(), f"{tmp}/work/teacher-lite0.pt")
            run = subprocess.run([sys.executable, os.path.join(TRAINING, "train.py"), "student", "--data", f"{tmp}/data",
                                  "--out", f"{tmp}/work", "--extra", export, "--epochs", "1", *test_pipeline.StudentStepTests.TINY],
                                 capture_output=True, text=True, timeout=900)
            self.assertEqual(run.returncode, 0, run.stderr[-2000:])
            line = next(l for l in run.stdout.splitlines() if "field photos from" in l)
            train, val = (int(n) for n in line.split(": ", 2)[2].split(";")[0].replace(" training,", "").replace(" validation", "").split())
            self.assertEqual(train + val, photos, line)
            decoded = next(l for l in run.stdout.splitlines() if "photos decoded" in l)
            self.assertIn(f"{16 + train} training", decoded)
            with open(f"{tmp}/work/student-log.json") as f:
                self.assertTrue(json.load(f)["finished"])
            print(f"\n  {line.strip()}", file=sys.stderr)


@unittest.skipUnless(POSTGRES, "KIOSK_TEST_POSTGRES is not set")
class FieldPhotoPostgresTest(FieldPhotoTest):
    backend = "postgres"


if __name__ == "__main__":
    unittest.main()
