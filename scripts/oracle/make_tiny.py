#!/usr/bin/env python3
"""Writes the small ONNX fixtures committed under Tests/Fixtures (a few KB each):

tiny-resnet.onnx   a ResNet-shaped network on 3x32x32 input: Conv+BN+Relu, MaxPool, a residual block
                   (Conv+BN, Add, Relu), GlobalAveragePool, Flatten, Gemm to 3 classes; random weights.
tiny-sigmoid.onnx  the same with a Sigmoid, which the engine does not implement.
tiny-input.f32, tiny-ort.f32: one NCHW input and ONNX Runtime's logits for it.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def build(with_sigmoid):
    rng = np.random.default_rng(7)
    inits, nodes = [], []

    def const(name, array):
        inits.append(numpy_helper.from_array(np.asarray(array, dtype=np.float32), name))
        return name

    def conv_bn(x, cin, cout, k, stride, tag):
        w = const(f"{tag}.w", rng.standard_normal((cout, cin, k, k)) * np.sqrt(2 / (cin * k * k)))
        b = const(f"{tag}.b", rng.normal(0, 0.1, cout))
        nodes.append(helper.make_node("Conv", [x, w, b], [f"{tag}.conv"], kernel_shape=[k, k], strides=[stride] * 2, pads=[k // 2] * 4))
        bn = [const(f"{tag}.{n}", v) for n, v in [("g", rng.uniform(0.5, 1.5, cout)), ("beta", rng.normal(0, 0.2, cout)),
                                                 ("mean", rng.normal(0, 0.3, cout)), ("var", rng.uniform(0.5, 2, cout))]]
        if tag == "block":
            # As PyTorch's exporter writes a shared initializer: through an Identity node.
            nodes.append(helper.make_node("Identity", [bn[1]], [f"{bn[1]}.shared"]))
            bn[1] = f"{bn[1]}.shared"
        nodes.append(helper.make_node("BatchNormalization", [f"{tag}.conv"] + bn, [f"{tag}.bn"], epsilon=1e-5))
        return f"{tag}.bn"

    x = conv_bn("input", 3, 8, 3, 2, "stem")
    nodes.append(helper.make_node("Relu", [x], ["stem.relu"]))
    nodes.append(helper.make_node("MaxPool", ["stem.relu"], ["pool"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]))
    y = conv_bn("pool", 8, 8, 3, 1, "block")
    nodes.append(helper.make_node("Add", [y, "pool"], ["sum"]))
    nodes.append(helper.make_node("Sigmoid" if with_sigmoid else "Relu", ["sum"], ["act"]))
    nodes.append(helper.make_node("GlobalAveragePool", ["act"], ["gap"]))
    nodes.append(helper.make_node("Flatten", ["gap"], ["flat"], axis=1))
    nodes.append(helper.make_node("Gemm", ["flat", const("fc.w", rng.standard_normal((3, 8))), const("fc.b", rng.normal(0, 0.1, 3))],
                                  ["logits"], transB=1))
    graph = helper.make_graph(nodes, "tiny", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 32, 32])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 3])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else "Tests/Fixtures"
    onnx.save(build(False), os.path.join(out, "tiny-resnet.onnx"))
    onnx.save(build(True), os.path.join(out, "tiny-sigmoid.onnx"))
    with open(os.path.join(out, "tiny-labels.txt"), "w") as f:
        f.write("cardboard\nglass\ntrash\n")
    # One input tensor and ONNX Runtime's logits for it, for the fp32 backend test.
    import onnxruntime as ort
    x = np.random.default_rng(11).standard_normal((1, 3, 32, 32)).astype(np.float32)
    x.astype("<f4").tofile(os.path.join(out, "tiny-input.f32"))
    logits = ort.InferenceSession(os.path.join(out, "tiny-resnet.onnx")).run(None, {"input": x})[0]
    logits.astype("<f4").tofile(os.path.join(out, "tiny-ort.f32"))
