#!/usr/bin/env python3
"""Tests of the training pipeline's pieces: labels and their bins, the split, a student step, the ONNX export.

Run: python3 -m unittest discover -s scripts/training -p 'test_*.py'  (scripts/test does).
Needs no photos: the split is tested on a folder tree of empty files with the real datasets' naming, the student
step on small generated pictures.
"""
import json
import os
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import data  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))


def make_tree(root):
    def touch(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        open(path, "w").close()

    for label, n in [("glass", 53), ("trash", 21), ("paper", 40)]:
        for i in range(1, n + 1):
            touch(f"{root}/trashnet/{label}/{label}{i}.jpg")
    for folder, n in [("phone_tablet", 45), ("monitor", 9)]:
        for i in range(100, 100 + n):
            touch(f"{root}/e-waste/{folder}/{i}.jpg")
    for folder, varieties in [("fruit_apple", ["Pink-Lady", "Royal-Gala"]), ("vegetable_leek", ["Leek"]),
                              ("fruit_kiwi", ["Kiwi"]), ("fruit_pear", ["Conference", "Anjou"])]:
        for v in varieties:
            for session in ("train", "test"):
                for i in range(1, 5):
                    touch(f"{root}/produce/{folder}/{session}_{v}_{v}_{i:03d}.jpg")
    touch(f"{root}/trashnet/SOURCE.md")
    touch(f"{root}/trashnet/glass/notes.txt")


class LabelTests(unittest.TestCase):
    def test_folders_map_to_labels(self):
        self.assertEqual(data.label_for("trashnet", "glass"), "glass")
        self.assertEqual(data.label_for("trashnet", "styrofoam"), None)
        self.assertEqual(data.label_for("e-waste", "mouse"), "electronics")
        self.assertEqual(data.label_for("produce", "vegetable_leek"), "food")
        self.assertEqual(data.label_for("produce", "LICENSE"), None)
        self.assertEqual(data.LABELS[:6], ["cardboard", "glass", "metal", "paper", "plastic", "trash"])

    def test_every_label_has_the_expected_bin_in_the_catalogue(self):
        with open(os.path.join(ROOT, "Resources", "catalogue.json")) as f:
            bins = {k: v["category"] for k, v in json.load(f)["labels"].items()}
        expected = {"cardboard": "recyclable", "glass": "recyclable", "metal": "recyclable", "paper": "recyclable",
                    "plastic": "recyclable", "trash": "other", "electronics": "e-waste", "food": "kitchen"}
        self.assertEqual({l: bins.get(l) for l in data.LABELS}, expected)


class SplitTests(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        make_tree(self.tmp.name)
        self.samples = data.collect(self.tmp.name)

    def tearDown(self):
        self.tmp.cleanup()

    def test_collects_only_pictures_with_labels(self):
        self.assertEqual(len(self.samples), 53 + 21 + 40 + 45 + 9 + 6 * 8)
        self.assertTrue(all(p.endswith(".jpg") for p, *_ in self.samples))
        # File-number order, not name order: glass2 before glass10.
        glass = [os.path.basename(p) for p, l, *_ in self.samples if l == "glass"]
        self.assertEqual(glass[:3], ["glass1.jpg", "glass2.jpg", "glass3.jpg"])

    def test_split_is_a_seeded_partition(self):
        train, val = data.split(self.samples, seed=7)
        self.assertEqual(sorted(train + val), sorted(self.samples))
        self.assertFalse({p for p, *_ in train} & {p for p, *_ in val})
        again = data.split(self.samples, seed=7)
        self.assertEqual((train, val), again)
        other = data.split(self.samples, seed=8)
        self.assertNotEqual({p for p, *_ in val}, {p for p, *_ in other[1]})

    def test_each_stratum_keeps_its_share(self):
        train, val = data.split(self.samples, seed=7)
        for stratum in {s[2] for s in self.samples}:
            total = sum(1 for s in self.samples if s[2] == stratum)
            held = sum(1 for s in val if s[2] == stratum)
            # Within half a unit of 20% (units are at most 8 photos).
            self.assertLessEqual(abs(held - 0.2 * total), 4 + 0.5, stratum)
            self.assertGreater(held, 0, stratum)

    def test_bursts_stay_on_one_side(self):
        train, val = data.split(self.samples, seed=7)
        side = {p: "train" for p, *_ in train} | {p: "val" for p, *_ in val}
        units = {}
        for p, _, _, unit in self.samples:
            units.setdefault(unit, set()).add(side[p])
        self.assertTrue(all(len(s) == 1 for s in units.values()))
        # Consecutive e-waste photos 100..107 form one unit; produce units are one variety and session.
        phone = sorted((p for p, *_ in self.samples if "/phone_tablet/" in p), key=data._number_key)
        self.assertEqual({side[p] for p in phone[:8]}.__len__(), 1)
        apples = [u for p, _, _, u in self.samples if "fruit_apple" in p]
        self.assertEqual(sorted(set(apples)), ["fruit_apple/test_Pink-Lady_Pink-Lady", "fruit_apple/test_Royal-Gala_Royal-Gala",
                                               "fruit_apple/train_Pink-Lady_Pink-Lady", "fruit_apple/train_Royal-Gala_Royal-Gala"])


class ExtraPhotoTests(unittest.TestCase):
    def test_field_photos_join_on_their_own_strata_and_bursts_stay_together(self):
        with tempfile.TemporaryDirectory() as tmp:
            make_tree(f"{tmp}/data")
            base = data.split(data.collect(f"{tmp}/data"), seed=7)
            photos = []
            for i in range(20):
                photos.append({"file": f"glass/g{i}.jpg", "id": f"g{i:02d}", "kiosk": "station-a", "label": "glass",
                               "label_source": "technician", "taken_at_ms": 1000 + i})
            photos += [{"file": "battery/b.jpg", "id": "b", "kiosk": "station-a", "label": "battery",
                        "label_source": "technician", "taken_at_ms": 5},
                       {"file": "_unlabelled/u.jpg", "id": "u", "kiosk": "station-b", "label": None,
                        "label_source": "none", "taken_at_ms": 6}]
            for p in photos:
                os.makedirs(os.path.dirname(f"{tmp}/extra/{p['file']}"), exist_ok=True)
                open(f"{tmp}/extra/{p['file']}", "w").close()
            with open(f"{tmp}/extra/manifest.json", "w") as f:
                json.dump({"photos": photos}, f)
            extra, skipped = data.collect_extra(f"{tmp}/extra")
            self.assertEqual(skipped, {"battery": 1, "(none)": 1})
            self.assertEqual(len(extra), 20)
            self.assertEqual({s[2] for s in extra}, {"extra/glass"})
            # Time order, BLOCK photos a unit: g0..g7 together.
            units = {s[0].rsplit("/", 1)[1]: s[3] for s in extra}
            self.assertEqual(len({units[f"g{i}.jpg"] for i in range(8)}), 1)
            self.assertNotEqual(units["g0.jpg"], units["g8.jpg"])
            # The base photos split exactly as before when the field photos are added.
            joined = data.split(data.collect(f"{tmp}/data") + extra, seed=7)
            self.assertEqual([s for s in joined[0] if not s[2].startswith("extra/")], base[0])
            self.assertEqual([s for s in joined[1] if not s[2].startswith("extra/")], base[1])
            os.remove(f"{tmp}/extra/glass/g3.jpg")
            with self.assertRaises(SystemExit):
                data.collect_extra(f"{tmp}/extra")


def read_json(path):
    with open(path) as f:
        return json.load(f)


def tiny_photos(root):
    """The split's folder tree with small random pictures in it."""
    import numpy as np
    from PIL import Image
    make_tree(root)
    rng = np.random.default_rng(3)
    for folder, _, files in os.walk(root):
        for name in files:
            if name.endswith(".jpg"):
                Image.fromarray(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)).save(os.path.join(folder, name))


def run_train(*args):
    import subprocess
    return subprocess.run([sys.executable, os.path.join(HERE, "train.py"), *args], capture_output=True, text=True,
                          timeout=600)


class TeacherStoreTests(unittest.TestCase):
    def test_a_saved_teacher_restores_as_a_finished_step_in_half_the_size(self):
        """What a machine trained comes back on the next one: same weights (to fp16), the log, and train.py's check
        that the step is finished; an unfinished teacher is refused, and a finished one in the work folder stays."""
        import torch
        import nets
        import teacher_store
        import train
        with tempfile.TemporaryDirectory() as tmp:
            work, store, fresh = f"{tmp}/work", f"{tmp}/store", f"{tmp}/fresh"
            os.makedirs(work)
            torch.manual_seed(0)
            state = nets.EfficientNetLite("lite0", len(data.LABELS)).state_dict()
            torch.save(state, f"{work}/teacher-lite0.pt")
            log = {"name": "teacher-lite0", "epochs": [{"epoch": 1}], "best": {"val_top1": 0.9}}
            train.write_json(log, f"{work}/teacher-lite0-log.json")
            with self.assertRaises(SystemExit):
                teacher_store.save(work, "teacher-lite0", store)
            train.write_json({**log, "finished": True}, f"{work}/teacher-lite0-log.json")
            teacher_store.save(work, "teacher-lite0", store)
            self.assertLess(os.path.getsize(f"{store}/teacher-lite0.fp16.pt"), 0.6 * os.path.getsize(f"{work}/teacher-lite0.pt"))
            self.assertIsNone(train.finished_log(fresh, "teacher-lite0"))
            teacher_store.restore(fresh, store)
            restored = train.finished_log(fresh, "teacher-lite0")
            self.assertIsNotNone(restored)
            self.assertEqual(restored["best"], {"val_top1": 0.9})
            back = torch.load(f"{fresh}/teacher-lite0.pt", map_location="cpu")
            self.assertEqual(set(back), set(state))
            for k, v in state.items():
                if v.is_floating_point():
                    self.assertEqual(back[k].dtype, torch.float32)
                    self.assertTrue(torch.allclose(back[k], v, rtol=1e-3, atol=1e-4), k)
            # A teacher the work folder already finished is not overwritten.
            torch.save({"marker": torch.zeros(1)}, f"{fresh}/teacher-lite0.pt")
            teacher_store.restore(fresh, store)
            self.assertIn("marker", torch.load(f"{fresh}/teacher-lite0.pt", map_location="cpu"))


class StudentStepTests(unittest.TestCase):
    TINY = ["--limit", "16", "--batch", "8", "--size", "32", "--teacher-size", "64", "--threads", "1"]

    def setUp(self):
        import torch
        import nets
        self.tmp = tempfile.TemporaryDirectory()
        self.data, self.work = f"{self.tmp.name}/data", f"{self.tmp.name}/work"
        tiny_photos(self.data)
        os.makedirs(self.work)
        torch.manual_seed(0)
        torch.save(nets.EfficientNetLite("lite0", len(data.LABELS)).state_dict(), f"{self.work}/teacher-lite0.pt")

    def tearDown(self):
        self.tmp.cleanup()

    def test_function_matching_trains_and_ships_only_the_resnet(self):
        """One tiny epoch with mixup and ImageNet matching: it runs, its loss is finite, and the saved weights are
        exactly the kiosk's ResNet50 (the auxiliary ImageNet head is not in them)."""
        import numpy as np
        import torch
        import nets
        run = run_train("student", "--data", self.data, "--out", self.work, "--epochs", "1", *self.TINY)
        self.assertEqual(run.returncode, 0, run.stderr[-2000:])
        log = read_json(f"{self.work}/student-log.json")
        self.assertEqual(len(log["epochs"]), 1)
        self.assertTrue(log["finished"])
        self.assertTrue(np.isfinite(log["epochs"][0]["loss"]) and log["epochs"][0]["loss"] > 0)
        self.assertIn("ema", log["epochs"][0])
        state = torch.load(f"{self.work}/student.pt", map_location="cpu")
        nets.resnet50(len(data.LABELS)).load_state_dict(state, strict=True)
        self.assertEqual(state["fc.weight"].shape, (len(data.LABELS), 2048))

    def test_frozen_batchnorm_keeps_the_starting_statistics(self):
        """--freeze-bn (fine-tuning the shipped model): the weights move, BatchNorm's running statistics do not."""
        import torch
        import nets
        torch.manual_seed(1)
        start = nets.resnet50(len(data.LABELS)).state_dict()
        for k, v in start.items():
            if k.endswith("running_mean"):
                v.uniform_(-0.5, 0.5)
        torch.save(start, f"{self.work}/init.pt")
        run = run_train("student", "--data", self.data, "--out", self.work, "--epochs", "1", "--ema", "0",
                        "--freeze-bn", "--init", f"{self.work}/init.pt", *self.TINY)
        self.assertEqual(run.returncode, 0, run.stderr[-2000:])
        trained = torch.load(f"{self.work}/student.pt", map_location="cpu")
        for k in ("bn1.running_mean", "layer2.0.bn2.running_var", "layer4.2.bn3.running_mean"):
            self.assertTrue(torch.equal(trained[k], start[k]), k)
        self.assertFalse(torch.equal(trained["layer4.2.conv3.weight"], start["layer4.2.conv3.weight"]))

    def test_a_resumed_run_ends_where_an_unbroken_one_does(self):
        import torch
        unbroken = run_train("student", "--data", self.data, "--out", self.work, "--epochs", "2", "--name", "a",
                             *self.TINY)
        self.assertEqual(unbroken.returncode, 0, unbroken.stderr[-2000:])
        first = run_train("student", "--data", self.data, "--out", self.work, "--epochs", "2", "--name", "b",
                          "--stop-after", "1", *self.TINY)
        self.assertEqual(first.returncode, 0, first.stderr[-2000:])
        self.assertIn("paused after epoch 1 of 2", first.stdout)
        self.assertEqual(torch.load(f"{self.work}/b.ckpt", weights_only=False)["epoch"], 1)
        second = run_train("student", "--data", self.data, "--out", self.work, "--epochs", "2", "--name", "b",
                           "--resume", *self.TINY)
        self.assertEqual(second.returncode, 0, second.stderr[-2000:])
        self.assertIn("resumed after epoch 1 of 2", second.stdout)
        a = torch.load(f"{self.work}/a.ckpt", weights_only=False)
        b = torch.load(f"{self.work}/b.ckpt", weights_only=False)
        self.assertEqual((a["epoch"], b["epoch"]), (2, 2))
        for key in ("model", "ema", "imagenet_head"):
            for name, tensor in a[key].items():
                self.assertTrue(torch.equal(tensor, b[key][name]), f"{key}.{name} differs after resuming")
        self.assertEqual([e["loss"] for e in a["log"]["epochs"]], [e["loss"] for e in b["log"]["epochs"]])

    def test_teacher_step_fine_tunes_every_block(self):
        import torch
        import nets
        run = run_train("teacher", "--arch", "lite0", "--data", self.data, "--out", self.work, "--epochs", "1",
                        "--limit", "16", "--batch", "8", "--size", "64", "--threads", "1")
        self.assertEqual(run.returncode, 0, run.stderr[-2000:])
        tuned = torch.load(f"{self.work}/teacher-lite0.pt", map_location="cpu")
        imagenet = nets.efficientnet_lite_imagenet("lite0").state_dict()
        # The stem and the first block moved too: the whole network was fine-tuned.
        for name in ("_conv_stem.weight", "_blocks.0._depthwise_conv.weight", "_conv_head.weight"):
            self.assertFalse(torch.equal(tuned[name], imagenet[name]), name)
        self.assertEqual(tuned["_fc.weight"].shape, (len(data.LABELS), 1280))


class ModelFileReaderTests(unittest.TestCase):
    def test_the_shipped_model_read_back_answers_its_fixture_photos(self):
        """The shipped int8 file, dequantized into PyTorch with its BatchNorm rebuilt, names each fixture photo
        as the kiosk did (they were picked as answered correctly and confidently by both backends)."""
        import numpy as np
        import torch
        import kmodel
        import nets
        fixtures = os.path.join(ROOT, "Tests", "Fixtures", "model")
        names = sorted(n for n in os.listdir(fixtures) if n.endswith(".jpg"))
        x = torch.from_numpy(np.stack([data.to_tensor(data.center_crop(data.load_cached(os.path.join(fixtures, n),
                                                                                      260), 128, 112),
                                                      data.IMAGENET_MEAN, data.IMAGENET_STD) for n in names]))
        net = nets.resnet50(len(data.LABELS))
        net.load_state_dict(kmodel.resnet50_state(os.path.join(ROOT, "Resources", "models", "default.kmodel"), x))
        with torch.no_grad():
            predicted = [data.LABELS[i] for i in net.eval()(x).argmax(1).tolist()]
        self.assertEqual(predicted, [os.path.splitext(n)[0] for n in names])

    def test_a_file_that_is_no_model_is_refused(self):
        import kmodel
        with tempfile.NamedTemporaryFile(suffix=".kmodel") as f:
            f.write(b"not a model at all")
            f.flush()
            with self.assertRaisesRegex(kmodel.ModelFileError, "not a kiosk model file"):
                kmodel.layers(f.name)


class GpuRunTests(unittest.TestCase):
    def test_pack_train_on_a_budget_split_and_join(self):
        """The GPU run's pieces on this CPU: the pack keeps the tree and the split, the budget cuts the schedule to
        what fits, and the weights come back in parts that join to what was trained."""
        import torch
        import gpu_pack
        import nets
        with tempfile.TemporaryDirectory() as tmp:
            tiny_photos(f"{tmp}/data")
            os.makedirs(f"{tmp}/work")
            torch.manual_seed(0)
            torch.save(nets.EfficientNetLite("lite0", len(data.LABELS)).state_dict(), f"{tmp}/work/teacher-lite0.pt")
            torch.save(nets.EfficientNetLite("lite0", 1000).state_dict(), f"{tmp}/imagenet.pt")
            with open(f"{tmp}/work/teacher.json", "w") as f:
                json.dump({"chosen": {"teachers": ["teacher-lite0"]}}, f)
            pack = f"{tmp}/pack"
            args = gpu_pack.argparse.Namespace(data=f"{tmp}/data", work=f"{tmp}/work", out=pack, repo=ROOT,
                                               imagenet=f"{tmp}/imagenet.pt")
            gpu_pack.pack(args)
            with open(f"{pack}/teachers.txt") as f:
                self.assertEqual(f.read().strip(), "teacher-lite0")
            self.assertEqual(torch.load(f"{pack}/work/teacher-lite0.pt")["_fc.weight"].dtype, torch.float16)
            # Same names, same split.
            original = data.split(data.collect(f"{tmp}/data"), seed=7)
            packed = data.split(data.collect(f"{pack}/data"), seed=7)
            rel = lambda side, root: sorted(os.path.relpath(p, root) for p, *_ in side)  # noqa: E731
            self.assertEqual(rel(original[1], f"{tmp}/data"), rel(packed[1], f"{pack}/data"))
            run = run_train("student", "--data", f"{pack}/data", "--out", f"{pack}/work", "--name", "student-gpu",
                            "--teachers", "teacher-lite0", "--imagenet-teacher", f"{pack}/imagenet-lite0.pt",
                            "--epochs", "400", "--budget-minutes", "0.5", "--limit", "16", "--batch", "8",
                            "--size", "32", "--teacher-size", "64", "--threads", "1", "--device", "cpu")
            self.assertEqual(run.returncode, 0, run.stderr[-2000:])
            self.assertIn("epochs fit the budget", run.stdout)
            log = read_json(f"{pack}/work/student-gpu-log.json")
            self.assertTrue(log["finished"])
            self.assertLess(log["args"]["epochs"], 400)
            self.assertEqual(len(log["epochs"]), log["args"]["epochs"])
            self.assertEqual(log["epochs"][-1]["lr"], 0.0)  # the cosine ended where the budget did
            back = f"{tmp}/back"
            gpu_pack.split(gpu_pack.argparse.Namespace(weights=f"{pack}/work/student-gpu.pt",
                                                       log=f"{pack}/work/student-gpu-log.json", out=back))
            parts = [n for n in os.listdir(back) if n.startswith("student.fp16.")]
            self.assertGreaterEqual(len(parts), 4)  # a ResNet50 in fp16 is ~49 MiB: more than three parts
            self.assertTrue(all(os.path.getsize(f"{back}/{n}") <= 15 * 2**20 for n in parts))
            gpu_pack.join(gpu_pack.argparse.Namespace(parts=back, out=f"{tmp}/student-gpu.pt"))
            trained = torch.load(f"{pack}/work/student-gpu.pt")
            joined = torch.load(f"{tmp}/student-gpu.pt")
            for name, tensor in trained.items():
                if tensor.is_floating_point():
                    torch.testing.assert_close(joined[name], tensor.half().float(), rtol=0, atol=0)
            self.assertEqual(read_json(f"{tmp}/student-gpu-log.json")["args"]["epochs"], log["args"]["epochs"])
            with open(f"{back}/student.fp16.0", "r+b") as f:
                f.write(b"x")
            with self.assertRaises(SystemExit):
                gpu_pack.join(gpu_pack.argparse.Namespace(parts=back, out=f"{tmp}/broken.pt"))


class ModelCardTests(unittest.TestCase):
    def test_the_card_reports_what_the_logs_and_the_evaluation_say(self):
        """A card written from a made-up run: each figure in it comes from its file."""
        import evaluate
        import model_card
        import operating_point
        bins = {"cardboard": "recyclable", "glass": "recyclable", "metal": "recyclable", "paper": "recyclable",
                "plastic": "recyclable", "trash": "other", "electronics": "e-waste", "food": "kitchen"}
        truth = [l for l in data.LABELS for _ in range(24)]
        first_trash = truth.index("trash")
        predicted = ["glass" if first_trash <= i < first_trash + 3 else l for i, l in enumerate(truth)]
        predictions = [{"image": f"{i}.jpg", "label": t, "predicted": p, "p": 0.9, "asked": False,
                        "topk": [{"label": p, "p": 0.9}, {"label": "trash", "p": 0.05}],
                        "other_bins": 0.3 if t == "trash" else 0.01}
                       for i, (t, p) in enumerate(zip(truth, predicted))]
        report = evaluate.report(truth, predicted, bins)
        report["predictions"] = predictions
        epoch = lambda n, top1: {"epoch": n, "loss": 2.5, "val_top1": top1, "val_trashnet_top1": top1 - 0.1,  # noqa: E731
                                 "val_trash_recall": 0.5, "seconds": 300, "ema": {"val_top1": top1 + 0.01}}
        with tempfile.TemporaryDirectory() as work:
            ship = f"{work}/ship"
            os.makedirs(f"{ship}/onnx")
            files = {
                f"{work}/teacher-lite0-log.json": {"args": {"size": 224, "epochs": 6}, "epochs": [epoch(1, 0.9)],
                                                   "best": {"val_top1": 0.951, "val_trashnet_top1": 0.932,
                                                            "val_trash_recall": 0.8}},
                f"{work}/teacher.json": {"chosen": {"teachers": ["teacher-lite0"]},
                                         "candidates": [{"teachers": ["teacher-lite0"], "val_top1": 0.951,
                                                         "val_trashnet_top1": 0.932}]},
                f"{work}/student-log.json": {
                    "args": {"seed": 1, "epochs": 300, "lr": 8e-4, "warmup_epochs": 1, "batch": 32, "size": 112,
                             "mixup": 1.0, "alpha": 0.7, "temperature": 2.0, "imagenet_weight": 1.0, "ema": 0.999,
                             "augment": "strong"},
                    "train_photos": 2613, "validation_photos": 674, "precision": "fp32",
                    "start": {"val_top1": 0.797, "val_trashnet_top1": 0.712}, "init_kmodel_sha256": "ab" * 32,
                    "epochs": [epoch(n, 0.8 + n / 100) for n in range(1, 4)],
                    "best": {"epoch": 3, "which": "ema", "val_top1": 0.84}},
                f"{ship}/onnx/export.json": {"size": 112, "validation_top1_by_size": {"112": 0.83}},
                f"{ship}/eval.json": {"backends": {"int8": report, "fp32": report}},
                f"{ship}/operating-point.json": {
                    "without_guard": operating_point.point(predictions, None, bins),
                    "evaluated_with": operating_point.point(predictions, 0.07, bins)},
            }
            for path, content in files.items():
                with open(path, "w") as f:
                    json.dump(content, f)
            with open(f"{ship}/info.txt", "w") as f:
                f.write("format version: 1")
            text = model_card.card(work, ship, "a test machine")
        self.assertIn("| teacher-lite0 | 224 px | 1 of 6 | 95.1% | 93.2% | 80.0% |", text)
        self.assertIn("Chosen: **teacher-lite0**", text)
        self.assertIn("This model is epoch 3 (the EMA)", text)
        self.assertIn("validation top-1 79.7%, TrashNet six 71.2%", text)
        # 3 of 24 trash photos called glass, confidently: without the guard they reach recycling unasked; with a
        # limit of 0.07 on their 0.3 outside the bin, none do.
        self.assertIn("| thresholds alone | 100.0% |", text)
        self.assertIn("| 3 of 24 |", text)
        self.assertIn("| 0 of 24 |", text)
        self.assertIn("| trash recall ≥ 75% on validation | 87.5% | yes |", text)
        self.assertIn("| 3 | 2.500 | 83.0% | 84.0% |", text)


class ExportTests(unittest.TestCase):
    def test_exported_onnx_has_the_kiosk_shape_and_matches_pytorch(self):
        import numpy as np
        import onnx
        import onnxruntime as ort
        import torch
        import export
        import nets

        torch.manual_seed(0)
        net = nets.resnet50(len(data.LABELS))
        # Non-trivial BN statistics and residual scales, so a wrong export would show in the outputs.
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.data.uniform_(0.5, 1.0)
        with tempfile.TemporaryDirectory() as tmp:
            weights, out = os.path.join(tmp, "w.pt"), os.path.join(tmp, "m.onnx")
            torch.save(net.state_dict(), weights)
            export.export(weights, 96, out)
            model = onnx.load(out)
            dims = lambda v: [d.dim_value for d in v.type.tensor_type.shape.dim]  # noqa: E731
            self.assertEqual(dims(model.graph.input[0]), [1, 3, 96, 96])
            self.assertEqual(dims(model.graph.output[0]), [1, len(data.LABELS)])
            ops = {n.op_type for n in model.graph.node}
            supported = {"Conv", "BatchNormalization", "Relu", "MaxPool", "Add", "GlobalAveragePool", "Flatten",
                         "Reshape", "Gemm", "Identity"}
            self.assertLessEqual(ops, supported, f"operators the kiosk does not import: {ops - supported}")
            x = np.random.default_rng(1).standard_normal((1, 3, 96, 96)).astype(np.float32)
            net.eval()
            with torch.no_grad():
                want = net(torch.from_numpy(x)).numpy()
            got = ort.InferenceSession(out).run(None, {"input": x})[0]
            np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-4)


if __name__ == "__main__":
    unittest.main()
