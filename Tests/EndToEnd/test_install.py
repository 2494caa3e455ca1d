#!/usr/bin/env python3
"""scripts/install-pi and scripts/uninstall-pi into a throwaway root (--prefix): what lands where, that a second
run upgrades in place keeping the technician's configuration and the records, that a bad configuration stops the
install with the key named, and what uninstall keeps and removes.
"""
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("KIOSK_BIN_DIR", os.path.join(ROOT, ".build", "debug"))


class InstallTest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="kiosk-install-")

    def tearDown(self):
        shutil.rmtree(self.root, ignore_errors=True)

    def install(self, *extra):
        return subprocess.run([os.path.join(ROOT, "scripts", "install-pi"), "--prefix", self.root, "--skip-packages",
                               "--binaries", BIN, *extra], capture_output=True, text=True)

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def test_install_upgrade_and_uninstall(self):
        first = self.install()
        self.assertEqual(first.returncode, 0, first.stderr)
        for f in ["usr/local/bin/kiosk", "usr/local/share/kiosk/models/default.kmodel", "usr/local/share/kiosk/catalogue.json",
                  "usr/local/share/kiosk/icons/hazardous.png", "usr/local/share/kiosk/trial-photos/glass.jpg", "etc/kiosk/kiosk.json", "etc/systemd/system/kiosk.service",
                  "etc/systemd/system/kiosk-sync.service"]:
            self.assertTrue(os.path.isfile(self.path(f)), f)
        self.assertTrue(os.access(self.path("usr/local/bin/kiosk"), os.X_OK))
        self.assertEqual(os.stat(self.path("var/lib/kiosk")).st_mode & 0o777, 0o750)
        with open(self.path("etc/kiosk/kiosk.json")) as f, open(os.path.join(ROOT, "Resources", "kiosk.example.json")) as g:
            self.assertEqual(json.load(f), json.load(g))

        # The installed binary finds its installed resources (share/kiosk beside its bin folder).
        kiosk = self.path("usr/local/bin/kiosk")
        data = self.path("var/lib/kiosk")
        picture = os.path.join(ROOT, "Tests", "Fixtures", "model", "glass.jpg")
        env = dict(os.environ)
        env.pop("KIOSK_MODEL", None)
        classified = subprocess.run([kiosk, "classify", "--record", "--data-dir", data, "--json", "--config",
                                     self.path("etc/kiosk/kiosk.json"), picture], capture_output=True, text=True, env=env)
        self.assertEqual(classified.returncode, 0, classified.stderr)
        self.assertEqual(json.loads(classified.stdout)["image"], picture)
        # A technician's model install tries the model on the installed trial photos.
        installed = subprocess.run([kiosk, "model", "install", self.path("usr/local/share/kiosk/models/default.kmodel"),
                                    "--unsigned", "--data-dir", data, "--config", self.path("etc/kiosk/kiosk.json")],
                                   capture_output=True, text=True, env=env)
        self.assertEqual(installed.returncode, 0, installed.stderr)
        self.assertIn("(unsigned)", installed.stdout)

        # The technician edits the configuration; an upgrade keeps it and the records.
        with open(self.path("etc/kiosk/kiosk.json")) as f:
            config = json.load(f)
        config["language"] = "en"
        config["screen"]["idle_timeout_s"] = 20
        with open(self.path("etc/kiosk/kiosk.json"), "w") as f:
            json.dump(config, f)
        second = self.install()
        self.assertEqual(second.returncode, 0, second.stderr)
        self.assertIn("kept", second.stdout)
        with open(self.path("etc/kiosk/kiosk.json")) as f:
            self.assertEqual(json.load(f), config)
        with sqlite3.connect(os.path.join(data, "records.sqlite")) as c:
            self.assertEqual(c.execute("SELECT COUNT(*) FROM records").fetchone()[0], 1)

        # A broken configuration stops the install with the key named.
        config["screen"]["min_confidence"] = 3
        with open(self.path("etc/kiosk/kiosk.json"), "w") as f:
            json.dump(config, f)
        broken = self.install()
        self.assertEqual(broken.returncode, 1)
        self.assertIn("screen.min_confidence: must be a number from 0 to 1", broken.stderr)

        # Uninstall keeps records and configuration; --purge removes them too.
        gone = subprocess.run([os.path.join(ROOT, "scripts", "uninstall-pi"), "--prefix", self.root], capture_output=True, text=True)
        self.assertEqual(gone.returncode, 0, gone.stderr)
        self.assertFalse(os.path.exists(self.path("usr/local/bin/kiosk")))
        self.assertFalse(os.path.exists(self.path("usr/local/share/kiosk")))
        self.assertFalse(os.path.exists(self.path("etc/systemd/system/kiosk.service")))
        self.assertTrue(os.path.exists(os.path.join(data, "records.sqlite")))
        self.assertTrue(os.path.exists(self.path("etc/kiosk/kiosk.json")))
        purged = subprocess.run([os.path.join(ROOT, "scripts", "uninstall-pi"), "--prefix", self.root, "--purge"],
                                capture_output=True, text=True)
        self.assertEqual(purged.returncode, 0, purged.stderr)
        self.assertFalse(os.path.exists(data))
        self.assertFalse(os.path.exists(self.path("etc/kiosk")))

    def test_bad_options_and_missing_binaries_are_one_line_errors(self):
        unknown = subprocess.run([os.path.join(ROOT, "scripts", "install-pi"), "--frobnicate"], capture_output=True, text=True)
        self.assertEqual(unknown.returncode, 2)
        self.assertIn("unknown option --frobnicate", unknown.stderr)
        empty = tempfile.mkdtemp()
        try:
            missing = subprocess.run([os.path.join(ROOT, "scripts", "install-pi"), "--prefix", self.root, "--skip-packages",
                                      "--binaries", empty], capture_output=True, text=True)
        finally:
            os.rmdir(empty)
        self.assertEqual(missing.returncode, 1)
        self.assertIn("kiosk is missing", missing.stderr)
        self.assertFalse(os.path.exists(self.path("usr/local/bin/kiosk")))


if __name__ == "__main__":
    unittest.main()
