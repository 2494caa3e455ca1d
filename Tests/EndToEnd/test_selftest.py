#!/usr/bin/env python3
"""`kiosk selftest`: the report a technician pastes from a device, run here (no camera, no display, no thermal
sensor: each says so on its line)."""
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
            out = subprocess.run([KIOSK, "selftest", "--json", "--runs", "2", "--device", "/dev/no-camera", "--data-dir", data],
                                 capture_output=True, text=True, timeout=600)
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
            text = subprocess.run([KIOSK, "selftest", "--runs", "1", "--device", "/dev/no-camera", "--data-dir", data],
                                  capture_output=True, text=True, timeout=600).stdout
            for start in ("app: kiosk", "system:", "model:", "engine: installed 112 px, 1 thread:", "engine: resnet50-224 224 px",
                          "camera: /dev/no-camera: no camera found", "memory: peak RSS", "cpu temperature:", "throttling:"):
                self.assertIn("\n" + start, "\n" + text)
            print("\n" + text, end="")


if __name__ == "__main__":
    unittest.main()
