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


def read_json(path):
    with open(path) as f:
        return json.load(f)


class StudentStepTests(unittest.TestCase):
    def test_function_matching_trains_and_ships_only_the_resnet(self):
        """One tiny epoch of the student step with mixup and ImageNet matching: it runs, its loss is finite, and
        the saved weights are exactly the kiosk's ResNet50 (the auxiliary ImageNet head is not in them)."""
        import subprocess
        import numpy as np
        import torch
        from PIL import Image
        import nets

        with tempfile.TemporaryDirectory() as tmp:
            make_tree(f"{tmp}/data")
            rng = np.random.default_rng(3)
            for folder, _, files in os.walk(f"{tmp}/data"):
                for name in files:
                    if name.endswith(".jpg"):
                        pixels = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
                        Image.fromarray(pixels).save(os.path.join(folder, name), quality=90)
            work = f"{tmp}/work"
            os.makedirs(work)
            torch.manual_seed(0)
            torch.save(nets.EfficientNetLite0(len(data.LABELS)).state_dict(), f"{work}/teacher.pt")
            run = subprocess.run(
                [sys.executable, os.path.join(HERE, "train.py"), "student", "--data", f"{tmp}/data", "--out", work,
                 "--epochs", "1", "--limit", "16", "--batch", "8", "--size", "32", "--teacher-size", "64",
                 "--mixup", "1", "--imagenet-weight", "1", "--name", "student-match"],
                capture_output=True, text=True, timeout=600)
            self.assertEqual(run.returncode, 0, run.stderr[-2000:])
            log = read_json(f"{work}/student-match-log.json")
            self.assertEqual(len(log["epochs"]), 1)
            self.assertTrue(np.isfinite(log["epochs"][0]["loss"]) and log["epochs"][0]["loss"] > 0)
            state = torch.load(f"{work}/student-match.pt", map_location="cpu")
            nets.resnet50(len(data.LABELS)).load_state_dict(state, strict=True)
            self.assertEqual(state["fc.weight"].shape, (len(data.LABELS), 2048))
            # The ImageNet head is kept beside the weights, and a further round continues with it.
            head = torch.load(f"{work}/student-match-imagenet-head.pt", map_location="cpu")
            self.assertEqual(head["weight"].shape, (1000, 2048))
            again = subprocess.run(
                [sys.executable, os.path.join(HERE, "train.py"), "student", "--data", f"{tmp}/data", "--out", work,
                 "--epochs", "1", "--limit", "16", "--batch", "8", "--size", "32", "--teacher-size", "64",
                 "--mixup", "1", "--imagenet-weight", "1", "--init", f"{work}/student-match.pt",
                 "--round", "2", "--name", "student-match2"],
                capture_output=True, text=True, timeout=600)
            self.assertEqual(again.returncode, 0, again.stderr[-2000:])
            self.assertIn(f"ImageNet head continued from {work}/student-match-imagenet-head.pt", again.stdout)
            second = read_json(f"{work}/student-match2-log.json")
            self.assertEqual((second["args"]["seed"], second["augment_seed"]), (20261129, 20261130))


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
