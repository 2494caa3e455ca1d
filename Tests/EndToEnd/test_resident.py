#!/usr/bin/env python3
"""The residents' page and item search end to end: the built `kiosk-central serve --catalogue [--model]` on
loopback, searched over HTTP in both languages and by pinyin, every bad query answered with a 400, and headless
Chromium at phone and desk width taking a photo, searching and answering the quiz. Screenshots are saved to
.build/screenshots/resident-*.png.

    python3 -m unittest Tests/EndToEnd/test_resident.py      (scripts/test runs it after `swift build`)
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chromium import Chromium  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("KIOSK_BIN_DIR", os.path.join(ROOT, ".build", "debug"))
CENTRAL = os.path.join(BIN, "kiosk-central")
FIXTURES = os.path.join(ROOT, "Tests", "Fixtures")
MODEL = os.path.join(ROOT, "Resources", "models", "default.kmodel")
CATALOGUE = os.path.join(ROOT, "Resources", "catalogue.json")
SHOTS = os.path.join(ROOT, ".build", "screenshots")


class Server:
    def __init__(self, test, *extra):
        tmp = tempfile.TemporaryDirectory()
        test.addCleanup(tmp.cleanup)
        self.process = subprocess.Popen(
            [CENTRAL, "serve", "--port", "0", "--database", "sqlite:" + os.path.join(tmp.name, "c.sqlite"), *extra],
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

    def get(self, path, headers=None):
        request = urllib.request.Request(self.base + path, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=30) as r:
                return r.status, r.read().decode(), dict(r.headers)
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(), dict(e.headers)

    def items(self, q, lang="zh", extra=""):
        status, body, headers = self.get(f"/api/v1/items?q={urllib.parse.quote(q)}&lang={lang}{extra}")
        return status, json.loads(body)


class ItemSearchAPITest(unittest.TestCase):
    def setUp(self):
        self.server = Server(self, "--catalogue", CATALOGUE)

    def test_names_aliases_and_pinyin_find_the_bin_in_the_language_asked(self):
        status, answer = self.server.items("电池")
        self.assertEqual(status, 200)
        self.assertEqual(answer["query"], "电池")
        first = answer["items"][0]
        self.assertEqual((first["name"], first["category"], first["bin"], first["matched"]), ("废电池", "hazardous", "有害垃圾", "电池"))
        self.assertEqual(first["colour"], "#D7000F")
        self.assertIn("用胶带封住电极", first["guidance"])
        status, answer = self.server.items("battery", lang="en")
        self.assertEqual((answer["items"][0]["name"], answer["items"][0]["bin"]), ("Used battery", "Hazardous"))
        self.assertEqual(answer["language"], "en")
        for q, name in [("dianchi", "废电池"), ("dc", "废电池"), ("shafa", "沙发"), ("大骨头", "大骨头"), ("pizza box", "油污纸")]:
            status, answer = self.server.items(q)
            self.assertEqual(status, 200, q)
            self.assertEqual(answer["items"][0]["name"], name, q)
        status, answer = self.server.items("独角兽")
        self.assertEqual((status, answer["items"]), (200, []))
        status, answer = self.server.items("dian", extra="&limit=2")
        self.assertEqual(len(answer["items"]), 2)

    def test_a_bad_query_is_a_400_with_one_line_and_the_server_keeps_serving(self):
        for path, words in [("/api/v1/items", "q is missing"),
                            ("/api/v1/items?q=", "q is empty"),
                            ("/api/v1/items?q=%20%20", "q is empty"),
                            ("/api/v1/items?q=" + urllib.parse.quote("电" * 41), "41 characters long"),
                            ("/api/v1/items?q=dc&limit=0", "limit must be"),
                            ("/api/v1/items?q=dc&limit=abc", "limit must be"),
                            ("/api/v1/items?q=dc&limit=51", "limit must be"),
                            # NULs after a name (the items fuzz target's finding: Foundation's search crashed on them).
                            ("/api/v1/items?q=%E7%94%B5%E6%B1%A0%00%00%00", "control characters"),
                            ("/api/v1/items?q=%01", "control characters")]:
            status, body, _ = self.server.get(path)
            self.assertEqual(status, 400, path)
            self.assertIn(words, json.loads(body)["error"], path)
        self.assertEqual(self.server.items("电池")[0], 200)

    def test_the_page_without_a_model_offers_search_and_the_quiz_but_no_photo(self):
        status, page, headers = self.server.get("/resident?lang=en")
        self.assertEqual(status, 200)
        self.assertIn("script-src 'self'", headers["Content-Security-Policy"])
        self.assertIn('id="no-engine"', page)
        self.assertNotIn('id="photo"', page)
        self.assertIn('id="question"', page)
        # Photos are answered 503 by this server, naming what is missing.
        request = urllib.request.Request(self.server.base + "/api/v1/classify", data=b"\xff\xd8", method="POST",
                                         headers={"Content-Type": "image/jpeg"})
        with self.assertRaises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(request, timeout=30)
        self.assertEqual(caught.exception.code, 503)

    def test_search_and_quiz_work_without_javascript(self):
        status, page, _ = self.server.get("/resident?lang=zh&q=" + urllib.parse.quote("香蕉皮"))
        self.assertEqual(status, 200)
        self.assertIn('<li data-category="kitchen">', page)
        status, page, _ = self.server.get("/resident?lang=en&q=qqqzzz")
        self.assertIn('id="no-results"', page)
        status, page, _ = self.server.get("/resident?lang=en&q=" + "x" * 41)
        self.assertEqual(status, 400)
        self.assertIn('id="search-error"', page)
        status, page, _ = self.server.get("/resident?lang=en&q=%E7%94%B5%00%00")
        self.assertEqual(status, 400)
        self.assertIn('id="search-error"', page)
        # The phone's language when the link does not say.
        status, page, _ = self.server.get("/resident", headers={"Accept-Language": "en-GB,en;q=0.9,zh;q=0.5"})
        self.assertIn('<html lang="en">', page)
        status, page, _ = self.server.get("/resident", headers={"Accept-Language": "zh-CN"})
        self.assertIn('<html lang="zh-CN">', page)
        # A right and a wrong answer, each with the reason; the next question is another one.
        status, page, _ = self.server.get("/resident?lang=en&quiz=big-bone&answer=other")
        self.assertEqual(status, 200)
        self.assertIn('data-right="true"', page)
        self.assertIn("Big bones do not rot or grind easily", page)
        self.assertNotIn('data-id="big-bone"', page)
        status, page, _ = self.server.get("/resident?lang=zh&quiz=big-bone&answer=kitchen")
        self.assertIn('data-right="false"', page)
        self.assertIn("大骨头难以腐烂粉碎", page)
        status, page, _ = self.server.get("/resident?lang=en&quiz=big-bone&answer=compost")
        self.assertEqual(status, 400)
        self.assertIn("answer must be one of the bins", page)
        status, page, _ = self.server.get("/resident?lang=en&quiz=no-such-question&answer=other")
        self.assertEqual(status, 200)
        self.assertIn('id="quiz-error"', page)
        self.assertIn('id="question"', page)

    def test_hostile_text_is_escaped(self):
        status, page, _ = self.server.get("/resident?lang=en&q=" + urllib.parse.quote('<script>alert(1)</script>'))
        self.assertEqual(status, 200)
        self.assertNotIn("<script>alert", page)
        self.assertIn("&lt;script&gt;", page)


class NoCatalogueTest(unittest.TestCase):
    def test_icons_are_the_kiosks_own_and_unknown_ones_are_404(self):
        server = Server(self, "--catalogue", CATALOGUE)
        with open(os.path.join(ROOT, "Resources", "icons", "kitchen.png"), "rb") as f:
            kitchen = f.read()
        with urllib.request.urlopen(server.base + "/icons/kitchen.png") as r:
            self.assertEqual((r.status, r.headers["Content-Type"], r.read()), (200, "image/png", kitchen))
        for path in ["/icons/nothing.png", "/icons/..%2Fcatalogue.json", "/icons/LICENSE"]:
            self.assertEqual(server.get(path)[0], 404, path)

    def test_without_a_catalogue_both_routes_say_what_is_missing(self):
        server = Server(self)
        status, body, _ = server.get("/api/v1/items?q=dc")
        self.assertEqual(status, 503)
        self.assertIn("--catalogue", json.loads(body)["error"])
        status, page, _ = server.get("/resident")
        self.assertEqual(status, 503)


class ResidentPageInChromiumTest(unittest.TestCase):
    def test_a_phone_takes_a_photo_searches_and_answers_the_quiz(self):
        server = Server(self, "--catalogue", CATALOGUE, "--model", MODEL, "--classify-threads", "1")
        os.makedirs(SHOTS, exist_ok=True)
        browser = Chromium(self)
        for width, mobile, kind in [(390, True, "phone"), (1280, False, "desk")]:
            for lang in ["en", "zh"]:
                browser.send("Emulation.setDeviceMetricsOverride", {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": mobile}, session=True)
                browser.navigate(f"{server.base}/resident?lang={lang}")
                # The photo, as the phone's picker hands it over; the page shrinks and posts it.
                browser.set_files("#photo", [os.path.join(FIXTURES, "glass1.jpg")])
                state = browser.wait_for("document.getElementById('answer').dataset.state")
                self.assertEqual(state, "answered", browser.evaluate("document.getElementById('answer').textContent"))
                self.assertEqual(browser.evaluate("document.getElementById('answer').dataset.category"), "recyclable")
                self.assertTrue(browser.evaluate("document.querySelectorAll('#answer .guidance li').length") >= 2)
                browser.wait_for("document.querySelector('#answer img').complete")
                browser.screenshot(os.path.join(SHOTS, f"resident-{kind}-{lang}-photo.png"), width, mobile=mobile)
                # A search typed into the form.
                browser.evaluate("document.getElementById('q').value='电池'; document.getElementById('search-button').click()")
                browser.wait_for_load()
                self.assertEqual(browser.evaluate("document.querySelector('#results > li').dataset.category"), "hazardous")
                # The kiosk's own icons, served by kiosk-central, drawn next to each bin's name.
                browser.wait_for("[...document.images].every(i => i.complete)")
                self.assertEqual(browser.evaluate("document.querySelector('#results .bin img').getAttribute('src')"), "/icons/hazardous.png")
                self.assertEqual(browser.evaluate("document.querySelector('#results .bin img').naturalWidth"), 128)
                self.assertEqual(browser.evaluate("document.querySelectorAll('.choice img').length"), 6)
                browser.screenshot(os.path.join(SHOTS, f"resident-{kind}-{lang}-search.png"), width, mobile=mobile)
                # The quiz: the right bin, tapped.
                question = browser.evaluate("document.getElementById('question').dataset.id")
                with open(CATALOGUE, encoding="utf-8") as f:
                    answer = {q["id"]: q["answer"] for q in json.load(f)["quiz"]}[question]
                browser.evaluate(f"document.querySelector('.choice[data-category=\"{answer}\"]').click()")
                browser.wait_for_load()
                self.assertEqual(browser.evaluate("document.getElementById('feedback').dataset.right"), "true")
                browser.screenshot(os.path.join(SHOTS, f"resident-{kind}-{lang}-quiz.png"), width, mobile=mobile)


if __name__ == "__main__":
    unittest.main()
