#!/usr/bin/env python3
"""`kiosk selftest`: the report a technician pastes from a device, run here (no camera, no display, no thermal
sensor: each says so on its line; the screen loop runs on SDL's offscreen driver)."""
import json
import os
import subprocess
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("KIOSK_BIN_DIR", os.path.join(ROOT, ".build", "debug"))
KIOSK = os.path.join(BIN, "kiosk")


@unittest.skipUnless(os.access(KIOSK, os.X_OK), "build first: swift build")
class SelftestTest(unittest.TestCase):
    def test_the_report_measures_the_engine_at_each_thread_count_and_says_what_it_cannot_measure(self):
        with tempfile.TemporaryDirectory() as data:
            env = dict(os.environ, SDL_VIDEODRIVER="offscreen")
            out = subprocess.run([KIOSK, "selftest", "--json", "--runs", "2", "--screen-scans", "3", "--device", "/dev/no-camera",
                                  "--data-dir", data], capture_output=True, text=True, timeout=600, env=env)
            self.assertEqual(out.returncode, 0, out.stderr)
            report = json.loads(out.stdout)
            cores = min(4, os.cpu_count())
            self.assertEqual([(e["model"], e["side"], e["threads"]) for e in report["engine"]],
                             [("installed", 112, t) for t in range(1, cores + 1)] + [("resnet50-224", 224, t) for t in range(1, cores + 1)])
            for e in report["engine"]:
                self.assertGreater(e["median_ms"], 0)
                self.assertLessEqual(e["min_ms"], e["median_ms"])
            self.assertIsNone(report["engine_error"])
            self.assertEqual(report["camera"], "/dev/no-camera: no camera found")
            self.assertIsNone(report["camera_fps"])
            self.assertGreater(report["peak_rss_mib"], 10)
            self.assertEqual(len(report["model_version"]), 64)
            # The screen: the kiosk's own loop for three scans, the engine classifying the replayed trial photos.
            screen = report["screen_timing"]
            self.assertEqual((screen["driver"], screen["scans"]), ("offscreen", 3), report["screen"])
            self.assertIn("trial photos", screen["picture"])
            self.assertGreater(screen["scanning_frames"], 0)
            self.assertGreater(screen["frames"], screen["scanning_frames"])
            self.assertTrue(0 < screen["median_ms"] <= screen["p99_ms"] <= screen["max_ms"], screen)
            self.assertTrue(report["screen"].startswith("no display, SDL's offscreen driver"), report["screen"])

            # No video driver at all: the screen line says why, the rest of the report is still there.
            none = dict(os.environ, SDL_VIDEODRIVER="no-such-driver")
            out = subprocess.run([KIOSK, "selftest", "--json", "--runs", "1", "--device", "/dev/no-camera", "--data-dir", data],
                                 capture_output=True, text=True, timeout=600, env=none)
            self.assertEqual(out.returncode, 0, out.stderr)
            report = json.loads(out.stdout)
            self.assertIsNone(report["screen_timing"])
            self.assertTrue(report["screen"].startswith("no display: display: cannot start SDL video"), report["screen"])
            self.assertEqual(len(report["engine"]), 2 * cores)

            text = subprocess.run([KIOSK, "selftest", "--runs", "1", "--device", "/dev/no-camera", "--data-dir", data],
                                  capture_output=True, text=True, timeout=600, env=env).stdout
            for start in ("app: kiosk", "system:", "model:", "engine: installed 112 px, 1 thread:", "engine: resnet50-224 224 px",
                          "camera: /dev/no-camera: no camera found",
                          "screen: no display, SDL's offscreen driver, ", "memory: peak RSS", "cpu temperature:", "throttling:"):
                self.assertIn("\n" + start, "\n" + text)
            print("\n" + text, end="")


if __name__ == "__main__":
    unittest.main()
