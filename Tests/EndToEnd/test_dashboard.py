#!/usr/bin/env python3
"""The fleet dashboard of `kiosk-central serve` end to end: a generated fleet posted over the kiosks' own API, then
the figures of `GET /api/v1/stats`, of the HTML pages and of the CSV export compared with the database's own
counts (SQLite, and PostgreSQL when KIOSK_TEST_POSTGRES is set); access rules (operators only, kiosk tokens
refused, CSRF, login rate limit); hostile input answered with a 4xx that changes nothing; and a real headless
Chromium that signs in and saves screenshots to .build/screenshots/dashboard-*.png.
"""
import base64
import datetime
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request
import uuid
import zoneinfo

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chromium import Chromium  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("KIOSK_BIN_DIR", os.path.join(ROOT, ".build", "debug"))
CENTRAL = os.path.join(BIN, "kiosk-central")
POSTGRES = os.environ.get("KIOSK_TEST_POSTGRES")
SHOTS = os.path.join(ROOT, ".build", "screenshots")
ZONE = "Asia/Shanghai"
PASSWORD = "correct horse battery"
LABELS = {"cardboard": "recyclable", "glass": "recyclable", "metal": "recyclable", "paper": "recyclable",
          "plastic": "recyclable", "trash": "other", "electronics": "e-waste", "food": "kitchen"}


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args):
        return None


OPENER = urllib.request.build_opener(NoRedirect)


def call(method, url, body=None, headers=None):
    """(status, headers, body) without following redirects or raising on 4xx."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with OPENER.open(request, timeout=30) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def basic(name="ops", password=PASSWORD):
    return {"Authorization": "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()}


class Fleet:
    """kiosk-central on a fresh database with three kiosks and an operator; records generated and posted."""

    def __init__(self, test, backend, *extra):
        self.tmp = tempfile.mkdtemp(prefix="kiosk-dash-")
        test.addCleanup(shutil.rmtree, self.tmp, True)
        if backend == "sqlite":
            self.path = os.path.join(self.tmp, "central.sqlite")
            self.database = "sqlite:" + self.path
        else:
            name = "kiosk_dash_" + uuid.uuid4().hex[:12]
            subprocess.run(["psql", POSTGRES, "-v", "ON_ERROR_STOP=1", "-qc", f"CREATE DATABASE {name}"], check=True)
            test.addCleanup(subprocess.run, ["psql", POSTGRES, "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"],
                            capture_output=True)
            self.database = POSTGRES.rsplit("/", 1)[0] + "/" + name
        self.backend = backend
        self.tokens = {}
        for k in ("north-1", "river-2", "park-3"):
            out = subprocess.run([CENTRAL, "device", "add", k, "--database", self.database], check=True,
                                 capture_output=True, text=True).stdout
            self.tokens[k] = out.strip().splitlines()[-1]
        subprocess.run([CENTRAL, "admin", "add", "ops", "--database", self.database], input=PASSWORD + "\n",
                       check=True, capture_output=True, text=True)
        self.server = subprocess.Popen([CENTRAL, "serve", "--port", "0", "--database", self.database, "--time-zone", ZONE, *extra],
                                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        test.addCleanup(self.stop)
        for line in self.server.stdout:
            if line.startswith("kiosk-central: listening on "):
                self.base = line.strip().rsplit(" ", 1)[1]
                break

    def stop(self):
        if self.server.poll() is None:
            self.server.send_signal(signal.SIGTERM)
            self.server.wait(10)
        self.server.stdout.close()

    def post(self, kiosk, records, quiz=None):
        body = json.dumps({"kiosk": kiosk, "records": records, **({"quiz": quiz} if quiz else {})}).encode()
        status, _, answer = call("POST", self.base + "/api/v1/records", body,
                                 {"Authorization": "Bearer " + self.tokens[kiosk], "Content-Type": "application/json"})
        return status, answer

    def generate(self, count, seed=11):
        rng = random.Random(seed)
        now = int(time.time() * 1000)
        per = {k: [] for k in self.tokens}
        for _ in range(count):
            kiosk = rng.choice(list(self.tokens))
            label = rng.choice(list(LABELS))
            second = rng.choice([l for l in LABELS if l != label])
            p = round(rng.uniform(0.3, 0.99), 4)
            p2 = round(rng.uniform(0, 1 - p), 4)
            correction = rng.choice([None] * 8 + [second, "category:hazardous"])
            per[kiosk].append({
                "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "kiosk": kiosk, "sequence": len(per[kiosk]) + 1,
                "captured_at_ms": now - rng.randrange(0, 45 * 86_400_000), "label": label, "category": LABELS[label],
                "confidence": p, "top": [{"label": label, "p": p}, {"label": second, "p": p2}],
                "model_version": rng.choice(["9e59c96496753a3b", "a1b2c3d4e5f60718"]), "language": "zh",
                "correction": correction, "asked": rng.choice([None, True, False])})
        for kiosk, records in per.items():
            for i in range(0, len(records), 500):
                status, answer = self.post(kiosk, records[i:i + 500])
                assert status == 200, answer
        self.records = [r for rs in per.values() for r in rs]

    def count(self, start_ms=None, end_ms=None, kiosk=None, extra=""):
        """COUNT(*) of the records table itself."""
        where = ["1=1"]
        if start_ms is not None:
            where.append(f"captured_at_ms >= {int(start_ms)} AND captured_at_ms < {int(end_ms)}")
        if kiosk:
            where.append(f"kiosk = '{kiosk}'")
        sql = f"SELECT COUNT(*) FROM records WHERE {' AND '.join(where)}{extra}"
        if self.backend == "sqlite":
            with sqlite3.connect(self.path) as c:
                return c.execute(sql).fetchone()[0]
        out = subprocess.run(["psql", self.database, "-tAc", sql], check=True, capture_output=True, text=True).stdout
        return int(out.strip())


def day_bounds(first, last):
    zone = zoneinfo.ZoneInfo(ZONE)
    a = datetime.datetime.combine(datetime.date.fromisoformat(first), datetime.time(), zone)
    b = datetime.datetime.combine(datetime.date.fromisoformat(last) + datetime.timedelta(days=1), datetime.time(), zone)
    return a.timestamp() * 1000, b.timestamp() * 1000


def login(base, name="ops", password=PASSWORD, lang="en"):
    """Signs in like a browser: the login page's CSRF cookie and field, then the form. Returns (status, cookies)."""
    status, headers, page = call("GET", f"{base}/login?lang={lang}")
    csrf_cookie = [c for c in headers.get_all("Set-Cookie") if c.startswith("kc_csrf=")][0].split(";")[0]
    field = page.decode().split('name="csrf" value="')[1].split('"')[0]
    form = urllib.parse.urlencode({"csrf": field, "name": name, "password": password}).encode()
    status, headers, _ = call("POST", f"{base}/login?lang={lang}", form,
                              {"Cookie": csrf_cookie, "Content-Type": "application/x-www-form-urlencoded"})
    cookies = [c.split(";")[0] for c in headers.get_all("Set-Cookie") or [] if c.startswith("kc_session=")]
    return status, (cookies[0] if cookies else None), headers


class DashboardTest(unittest.TestCase):
    backend = "sqlite"

    def test_figures_equal_the_databases_counts(self):
        f = Fleet(self, self.backend)
        f.generate(4000)
        today = datetime.datetime.now(zoneinfo.ZoneInfo(ZONE)).date()
        first = (today - datetime.timedelta(days=29)).isoformat()
        status, _, body = call("GET", f"{f.base}/api/v1/stats", headers=basic())
        self.assertEqual(status, 200, body)
        stats = json.loads(body)
        self.assertEqual((stats["from"], stats["to"]), (first, today.isoformat()))
        a, b = day_bounds(first, today.isoformat())
        self.assertEqual(stats["total"], f.count(a, b))
        self.assertGreater(stats["total"], 2000)
        for category in set(LABELS.values()) | {"hazardous", "bulky"}:
            self.assertEqual(stats["per_category"].get(category, 0), f.count(a, b, extra=f" AND category = '{category}'"))
        self.assertEqual(sum(x["corrected"] for x in stats["accuracy"]),
                         f.count(a, b, extra=" AND correction IS NOT NULL AND correction <> label"))
        self.assertEqual(sum(stats["hourly"]), stats["total"])
        # "Not sure": what the kiosk said when it said it, else the default thresholds on the top two guesses.
        estimate = ("json_extract(top, '$[0].p') - json_extract(top, '$[1].p')" if f.backend == "sqlite"
                    else "(top::json->0->>'p')::float8 - (top::json->1->>'p')::float8")
        self.assertEqual(stats["not_sure"], f.count(a, b, extra=f" AND COALESCE(asked, confidence < 0.55 OR COALESCE({estimate}, 1) < 0.15)"))
        self.assertEqual(stats["today"], f.count(*day_bounds(today.isoformat(), today.isoformat())))
        self.assertEqual(stats["last_7_days"], f.count(*day_bounds((today - datetime.timedelta(days=6)).isoformat(), today.isoformat())))
        for d in stats["daily"][-3:]:
            self.assertEqual(d["count"], f.count(*day_bounds(d["day"], d["day"])), d["day"])
        # One kiosk, an older range.
        k_from, k_to = (today - datetime.timedelta(days=40)).isoformat(), (today - datetime.timedelta(days=10)).isoformat()
        status, _, body = call("GET", f"{f.base}/api/v1/stats?from={k_from}&to={k_to}&kiosk=river-2", headers=basic())
        river = json.loads(body)
        self.assertEqual(river["total"], f.count(*day_bounds(k_from, k_to), kiosk="river-2"))
        self.assertEqual([k["name"] for k in river["kiosks"]], ["river-2"])
        self.assertEqual(river["kiosks"][0]["records_total"], f.count(kiosk="river-2"))

        # The HTML overview shows the same numbers.
        status, cookie, _ = login(f.base)
        self.assertEqual(status, 303)
        status, _, page = call("GET", f"{f.base}/dashboard?lang=en", headers={"Cookie": cookie})
        self.assertEqual(status, 200)
        html = page.decode()
        for key, value in [("total", stats["total"]), ("today", stats["today"]), ("last-7", stats["last_7_days"]),
                           ("last-30", stats["last_30_days"]), ("not-sure", stats["not_sure"])]:
            self.assertIn(f'id="{key}" data-value="{value}"', html, key)
        for category, n in stats["per_category"].items():
            self.assertIn(f'id="bin-{category}" data-value="{n}"', html)
        self.assertIn('<svg id="chart-days"', html)
        self.assertNotIn("http://", html.replace(f.base, ""), "nothing is fetched from outside")

        # The CSV export has one line per record of the range.
        status, headers, csv = call("GET", f"{f.base}/api/v1/records.csv?from={k_from}&to={k_to}&kiosk=river-2", headers=basic())
        self.assertEqual(status, 200)
        self.assertTrue(headers["Content-Type"].startswith("text/csv"))
        lines = csv.decode().strip().split("\r\n")
        self.assertEqual(lines[0].split(",")[0], "id")
        self.assertEqual(len(lines) - 1, river["total"])

    def test_quiz_answers_show_what_residents_get_wrong_and_the_mastery_per_bin(self):
        f = Fleet(self, self.backend, "--catalogue", os.path.join(ROOT, "Resources", "catalogue.json"))
        now = int(time.time() * 1000)
        answers = []
        for i, (question, answer, right) in enumerate([("battery", "kitchen", False)] * 3 + [("battery", "hazardous", True)]
                                                      + [("big-bone", "other", True)] * 5 + [("retired-question", "other", False)] * 2):
            answers.append({"id": str(uuid.UUID(int=i + 1)), "kiosk": "north-1", "answered_at_ms": now - i,
                            "question": question, "answer": answer, "right": right, "language": "zh"})
        status, answer = f.post("north-1", [], quiz=answers)
        self.assertEqual(status, 200, answer)
        self.assertEqual(len(json.loads(answer)["results"]), len(answers))
        # Delivered twice: counted once.
        self.assertEqual(f.post("north-1", [], quiz=answers[:3])[0], 200)
        _, session, _ = login(f.base)
        status, _, page = call("GET", f"{f.base}/dashboard?lang=en", headers={"Cookie": session})
        page = page.decode()
        self.assertEqual(status, 200)
        self.assertIn('<tr data-bin="hazardous" data-answered="4" data-right="1" data-mastery="needs_work">', page)
        self.assertIn('<tr data-bin="other" data-answered="5" data-right="5" data-mastery="mastered">', page)
        hardest = page.split('id="quiz-questions"')[1]
        order = [part.split('"')[0] for part in hardest.split('data-question="')[1:]]
        self.assertEqual(order, ["retired-question", "battery", "big-bone"], "lowest share right first")
        self.assertIn("Which bin does a used battery go in?", hardest)
        status, _, page = call("GET", f"{f.base}/dashboard/kiosk/river-2?lang=zh", headers={"Cookie": session})
        self.assertIn('id="quiz-none"', page.decode(), "another kiosk's answers are not this one's")

    def test_access_rules(self):
        f = Fleet(self, self.backend)
        f.generate(50)
        stats = f"{f.base}/api/v1/stats"
        self.assertEqual(call("GET", stats)[0], 401)
        status, headers, _ = call("GET", stats, headers={"Authorization": "Bearer " + f.tokens["north-1"]})
        self.assertEqual(status, 401, "a kiosk token cannot read statistics")
        self.assertEqual(call("GET", stats, headers=basic(password="wrong password"))[0], 401)
        self.assertEqual(call("GET", f"{f.base}/api/v1/records.csv", headers={"Authorization": "Bearer " + f.tokens["north-1"]})[0], 401)
        # Pages without a session go to the sign-in page; a made-up session cookie is no session.
        status, headers, _ = call("GET", f"{f.base}/dashboard", headers={"Cookie": "kc_session=" + "ab" * 32})
        self.assertEqual((status, headers["Location"]), (303, "/login?lang=zh"))
        self.assertEqual(call("GET", stats, headers={"Cookie": "kc_session=nonsense"})[0], 401)
        # The dashboard's session cannot write records.
        status, cookie, headers = login(f.base)
        self.assertEqual(status, 303)
        self.assertIn("HttpOnly", headers["Set-Cookie"])
        self.assertIn("SameSite=Strict", headers["Set-Cookie"])
        before = f.count()
        body = json.dumps({"kiosk": "north-1", "records": []}).encode()
        self.assertEqual(call("POST", f"{f.base}/api/v1/records", body, {"Cookie": cookie, "Content-Type": "application/json"})[0], 401)
        self.assertEqual(call("GET", stats, headers={"Cookie": cookie})[0], 200)
        # A form without the CSRF token is refused; sign-out needs the session's token.
        form = urllib.parse.urlencode({"name": "ops", "password": PASSWORD}).encode()
        self.assertEqual(call("POST", f"{f.base}/login", form, {"Content-Type": "application/x-www-form-urlencoded"})[0], 403)
        self.assertEqual(call("POST", f"{f.base}/logout", b"csrf=wrong", {"Cookie": cookie})[0], 403)
        self.assertEqual(call("GET", stats, headers={"Cookie": cookie})[0], 200, "a refused sign-out leaves the session")
        page = call("GET", f"{f.base}/dashboard", headers={"Cookie": cookie})[2].decode()
        token = page.split('name="csrf" value="')[1].split('"')[0]
        self.assertEqual(call("POST", f"{f.base}/logout", f"csrf={token}".encode(), {"Cookie": cookie})[0], 303)
        self.assertEqual(call("GET", stats, headers={"Cookie": cookie})[0], 401)
        # Five wrong passwords lock the name: the right one is then refused too, with Retry-After.
        for _ in range(5):
            self.assertEqual(login(f.base, password="not the password")[0], 401)
        status, cookie, headers = login(f.base)
        self.assertEqual(status, 429)
        self.assertIsNone(cookie)
        self.assertGreater(int(headers["Retry-After"]), 0)
        self.assertEqual(call("GET", stats, headers=basic())[0], 429)
        self.assertEqual(f.count(), before)

    def test_hostile_input_gets_a_4xx_and_changes_nothing(self):
        f = Fleet(self, self.backend)
        f.generate(200)
        before = f.count()
        cases = {
            "kiosk=x' OR '1'='1": 400,
            "kiosk=north-1;DROP TABLE records": 400,
            "kiosk=" + "a" * 300: 400,
            "kiosk=nobody": 404,
            "from=2026-02-30": 400,
            "from='; DELETE FROM records; --": 400,
            "to=tomorrow": 400,
            "from=1970-01-01&to=9999-12-31": 400,
            "from=2026-11-20&to=2026-11-01": 400,
        }
        for query, expected in cases.items():
            url = f"{f.base}/api/v1/stats?" + urllib.parse.quote(query, safe="=&")
            status, _, body = call("GET", url, headers=basic())
            self.assertEqual(status, expected, query)
            self.assertIn("error", json.loads(body))
            self.assertEqual(call("GET", url.replace("/api/v1/stats", "/api/v1/records.csv"), headers=basic())[0], expected, query)
        status, cookie, _ = login(f.base)
        status, _, page = call("GET", f"{f.base}/dashboard/kiosk/{urllib.parse.quote('<img src=x onerror=alert(1)>')}",
                               headers={"Cookie": cookie})
        self.assertEqual(status, 400)
        self.assertNotIn(b"<img", page)
        self.assertEqual(f.count(), before)
        self.assertEqual(call("GET", f"{f.base}/api/v1/stats", headers=basic())[0], 200, "the server still answers")


@unittest.skipUnless(POSTGRES, "no PostgreSQL (export KIOSK_TEST_POSTGRES=$(scripts/setup-postgres))")
class PostgresDashboardTest(DashboardTest):
    backend = "postgres"


class ChromiumTest(unittest.TestCase):
    def test_a_browser_signs_in_and_sees_the_overview_and_a_kiosk(self):
        f = Fleet(self, "sqlite")
        f.generate(3000)
        os.makedirs(SHOTS, exist_ok=True)
        browser = Chromium(self)
        browser.send("Emulation.setDeviceMetricsOverride", {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False}, session=True)
        browser.navigate(f"{f.base}/dashboard?lang=en")
        self.assertTrue(browser.evaluate("location.pathname") == "/login", "not signed in: the sign-in page")
        browser.screenshot(os.path.join(SHOTS, "dashboard-login.png"), 1280)
        browser.evaluate(f"document.getElementById('name').value='ops'; document.getElementById('password').value='{PASSWORD}';"
                         "document.getElementById('signin').click()")
        browser.wait_for_load()
        self.assertEqual(browser.evaluate("location.pathname"), "/dashboard")
        status, _, body = call("GET", f"{f.base}/api/v1/stats", headers=basic())
        stats = json.loads(body)
        self.assertEqual(int(browser.evaluate("document.getElementById('total').dataset.value")), stats["total"])
        self.assertEqual(browser.evaluate("document.querySelectorAll('#kiosks tr[data-kiosk]').length"), 3)
        browser.screenshot(os.path.join(SHOTS, "dashboard-overview-en.png"), 1280)
        browser.screenshot(os.path.join(SHOTS, "dashboard-overview-phone-en.png"), 390, mobile=True)
        browser.navigate(f"{f.base}/dashboard?lang=zh")
        browser.screenshot(os.path.join(SHOTS, "dashboard-overview-zh.png"), 1280)
        browser.evaluate("document.querySelector('#kiosks a').click()")
        browser.wait_for_load()
        self.assertTrue(browser.evaluate("location.pathname").startswith("/dashboard/kiosk/"))
        kiosk = browser.evaluate("decodeURIComponent(location.pathname.split('/').pop())")
        self.assertEqual(int(browser.evaluate("document.getElementById('total').dataset.value")),
                         json.loads(call("GET", f"{f.base}/api/v1/stats?kiosk={kiosk}", headers=basic())[2])["total"])
        browser.screenshot(os.path.join(SHOTS, "dashboard-kiosk-zh.png"), 1280)


if __name__ == "__main__":
    unittest.main()
