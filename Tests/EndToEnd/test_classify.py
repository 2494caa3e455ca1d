#!/usr/bin/env python3
"""The residents' photo endpoint end to end: the built `kiosk-central serve --model --catalogue` on loopback,
real photos posted over HTTP answered as the kiosk's own `kiosk classify` answers them, and every hostile upload
refused with its 4xx while the server keeps serving: not an image, the wrong type, 50 MB, a decompression bomb,
a PNG claiming 100,000 x 100,000 pixels, a flood from one address.

    python3 -m unittest Tests/EndToEnd/test_classify.py      (scripts/test runs it after `swift build`)
"""
import json
import os
import select
import socket
import subprocess
import tempfile
import threading
import unittest
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("KIOSK_BIN_DIR", os.path.join(ROOT, ".build", "debug"))
KIOSK, CENTRAL = (os.path.join(BIN, n) for n in ("kiosk", "kiosk-central"))
FIXTURES = os.path.join(ROOT, "Tests", "Fixtures")
MODEL = os.path.join(ROOT, "Resources", "models", "default.kmodel")
CATALOGUE = os.path.join(ROOT, "Resources", "catalogue.json")
PHOTOS = ["glass1.jpg", "glass1.png", "glass1-4x2-progressive.jpg", "frame-1280x720.jpg"]


def fixture(name):
    with open(os.path.join(FIXTURES, name), "rb") as f:
        return f.read()


class Server:
    def __init__(self, test, *extra):
        tmp = tempfile.TemporaryDirectory()
        test.addCleanup(tmp.cleanup)
        self.process = subprocess.Popen(
            [CENTRAL, "serve", "--port", "0", "--database", "sqlite:" + os.path.join(tmp.name, "c.sqlite"),
             "--model", MODEL, "--catalogue", CATALOGUE, "--classify-threads", "1", *extra],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        test.addCleanup(self.stop)
        for line in self.process.stdout:
            if line.startswith("kiosk-central: listening on "):
                self.port = int(line.rsplit(":", 1)[1])
                return
        raise AssertionError("kiosk-central did not start")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process.stdout.close()

    def post(self, body, content_type, lang="en"):
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}/api/v1/classify?lang={lang}", data=body,
                                         method="POST")
        if content_type:
            request.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(request, timeout=60) as r:
                return r.status, json.loads(r.read()), dict(r.headers)
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read()), dict(e.headers)
        except (ConnectionResetError, BrokenPipeError):
            return None, None, {}
        except urllib.error.URLError as e:
            if isinstance(e.reason, (ConnectionResetError, BrokenPipeError)):
                return None, None, {}
            raise

    def post_streaming(self, size, chunked):
        """Sends a body of `size` bytes the way a browser does, reading the answer as soon as there is one (a
        plain client that sends everything first would wait forever on a server that stops reading)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=30) as s:
            length = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {size}"
            s.sendall(f"POST /api/v1/classify HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\n{length}\r\n\r\n".encode())
            piece = b"\xff\xd8\xff" + bytes(1024 * 1024 - 3)
            sent = 0
            while sent < size:
                readable, _, _ = select.select([s], [], [], 0)
                if readable:
                    break
                try:
                    s.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
                except (BrokenPipeError, ConnectionResetError):
                    break
                sent += len(piece)
            reply = b""
            while b"\r\n\r\n" not in reply or len(reply.split(b"\r\n\r\n", 1)[1]) < 20:
                data = s.recv(65536)
                if not data:
                    break
                reply += data
        head, _, body = reply.partition(b"\r\n\r\n")
        self.sent = sent
        return int(head.split()[1]), body.decode(errors="replace")

    def healthy(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/v1/health", timeout=10) as r:
            return r.status == 200


class ClassifyTest(unittest.TestCase):
    def test_photos_are_answered_as_the_kiosk_answers_them(self):
        server = Server(self)
        kiosk = subprocess.run([KIOSK, "classify", "--json", "--lang", "en", "--model", MODEL, "--catalogue", CATALOGUE,
                                *(os.path.join(FIXTURES, p) for p in PHOTOS)],
                               check=True, capture_output=True, text=True).stdout.splitlines()
        for name, line in zip(PHOTOS, kiosk):
            expected = json.loads(line)
            kind = "image/png" if name.endswith(".png") else "image/jpeg"
            status, answer, headers = server.post(fixture(name), kind)
            self.assertEqual(status, 200, f"{name}: {answer}")
            self.assertEqual(answer["label"], expected["label"], name)
            self.assertEqual(answer["category"], expected["category"], name)
            self.assertAlmostEqual(answer["confidence"], expected["confidence"], delta=0.02, msg=name)
            self.assertTrue(answer["guidance"] and answer["item"], name)
            self.assertEqual(answer["not_sure"], expected["asked"], name)
            self.assertEqual([a["label"] for a in answer["alternatives"]], [t["label"] for t in expected["topk"][1:3]], name)
            self.assertTrue(headers["Content-Type"].startswith("application/json"))
        status, answer, _ = server.post(fixture("glass1.jpg"), "image/jpeg", lang="zh")
        self.assertEqual((status, answer["item"], answer["language"]), (200, "玻璃", "zh"))

    def test_hostile_uploads_are_refused_and_the_server_keeps_serving(self):
        server = Server(self)
        cases = [
            (b"<html>not a photo</html>", "image/jpeg", 415, "not a JPEG or PNG"),
            (fixture("glass1.jpg"), "text/html", 415, "Content-Type text/html"),
            (fixture("glass1.jpg"), "image/png", 415, "but the photo is a JPEG"),
            (fixture("truncated.jpg"), "image/jpeg", 422, "corrupt JPEG"),
            (fixture("bomb-8000x8000.png"), "image/png", 413, "8000x8000 pixels"),
            (fixture("claims-100000x100000.png"), "image/png", 413, "100000x100000 pixels"),
            (fixture("huge-20000x20000.jpg"), "image/jpeg", 413, "20000x20000"),
            (b"", "image/jpeg", 422, "empty"),
        ]
        for body, kind, code, words in cases:
            status, answer, _ = server.post(body, kind)
            self.assertEqual(status, code, f"{kind} {words}: {answer}")
            self.assertIn(words, answer["error"])
            self.assertNotIn("\n", answer["error"])
        # 50 MB: answered 413 as soon as the headers say so, and the rest is never read.
        for chunked in (False, True):
            status, answer = server.post_streaming(50 * 1024 * 1024, chunked)
            self.assertEqual(status, 413, answer)
            self.assertIn("larger than 12582912 bytes", answer)
            self.assertLess(server.sent, 50 * 1024 * 1024, "the whole body was read")
        self.assertTrue(server.healthy())
        status, _, _ = server.post(fixture("glass1.jpg"), "image/jpeg")
        self.assertEqual(status, 200)

    def test_a_flood_from_one_address_is_limited_and_others_still_answered(self):
        server = Server(self, "--uploads-per-minute", "4")
        statuses = []
        lock = threading.Lock()

        def send():
            status, _, headers = server.post(fixture("glass1.jpg"), "image/jpeg")
            with lock:
                statuses.append((status, headers.get("Retry-After")))

        threads = [threading.Thread(target=send) for _ in range(10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(sorted(s for s, _ in statuses).count(200), 4, statuses)
        refused = [r for s, r in statuses if s == 429]
        self.assertEqual(len(refused), 6, statuses)
        self.assertTrue(all(r and 1 <= int(r) <= 60 for r in refused), refused)
        self.assertTrue(server.healthy())

    def test_without_a_model_the_route_says_so(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        process = subprocess.Popen([CENTRAL, "serve", "--port", "0", "--database",
                                    "sqlite:" + os.path.join(tmp.name, "c.sqlite")],
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            port = next(int(l.rsplit(":", 1)[1]) for l in process.stdout if l.startswith("kiosk-central: listening"))
            request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/classify", data=fixture("glass1.jpg"),
                                             method="POST", headers={"Content-Type": "image/jpeg"})
            with self.assertRaises(urllib.error.HTTPError) as caught:
                urllib.request.urlopen(request, timeout=10)
            self.assertEqual(caught.exception.code, 503)
            self.assertIn("--model", json.loads(caught.exception.read())["error"])
        finally:
            process.terminate()
            process.wait(10)
            process.stdout.close()

    def test_a_bad_model_or_catalogue_stops_the_server_with_one_line(self):
        with tempfile.TemporaryDirectory() as tmp:
            for extra, words in [(["--model", os.path.join(tmp, "none.kmodel"), "--catalogue", CATALOGUE], "none.kmodel"),
                                 (["--model", MODEL, "--catalogue", os.path.join(FIXTURES, "glass1.jpg")], "glass1.jpg"),
                                 (["--model", MODEL], "--model needs --catalogue"),
                                 (["--catalogue", os.path.join(tmp, "none.json")], "none.json: cannot read it")]:
                r = subprocess.run([CENTRAL, "serve", "--port", "0", "--database",
                                    "sqlite:" + os.path.join(tmp, "c.sqlite"), *extra],
                                   capture_output=True, text=True, timeout=30)
                self.assertNotEqual(r.returncode, 0)
                self.assertIn(words, r.stderr)


if __name__ == "__main__":
    unittest.main()
