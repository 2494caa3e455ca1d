"""Reads a kiosk model file (`KIOSKMDL`, format 1) back into PyTorch ResNet50 weights, for training to continue
from a shipped model when its fp32 checkpoint is gone.

The file holds int8 OHWI convolution weights with per-output-channel scales and int32 biases, BatchNormalization
folded in, and the fp32 classifier. Dequantized, each convolution computes W'x + b'. The ResNet50 keeps its
BatchNorm layers, so each is set to give back that function: from the convolution outputs W'x on a batch of
real crops, running mean m and variance s^2, weight s and bias b' + m: in evaluation mode
(W'x - m) / s * s + b' + m = W'x + b', and in training mode the batch's own statistics are close to those.
"""
import json
import struct

import numpy as np
import torch

import nets

MAGIC = b"KIOSKMDL"


class ModelFileError(ValueError):
    pass


def read_header(blob, path):
    if blob[:8] != MAGIC:
        raise ModelFileError(f"{path}: not a kiosk model file (no KIOSKMDL)")
    version, length = struct.unpack_from("<II", blob, 8)
    if version != 1:
        raise ModelFileError(f"{path}: model format {version}, this reader knows 1")
    return json.loads(blob[16:16 + length])


def _section(blob, section, dtype):
    return np.frombuffer(blob, dtype=dtype, count=section["count"], offset=section["offset"])


def layers(path):
    """[(kind, record)] in the file's order, with the weights dequantized: convolutions as (OIHW weight, bias),
    the classifier as (weight, bias)."""
    with open(path, "rb") as f:
        blob = f.read()
    header = read_header(blob, path)
    out = []
    for layer in header["layers"]:
        (kind, body), = layer.items()
        if kind == "convolution":
            c = body["_0"]
            q = _section(blob, c["weights"], np.int8).astype(np.float32)
            scale = _section(blob, c["weightScales"], "<f4")
            o, kh, kw, i = c["outputChannels"], c["kernelHeight"], c["kernelWidth"], c["inputChannelsPerGroup"]
            weight = (q.reshape(o, kh, kw, i) * scale[:, None, None, None]).transpose(0, 3, 1, 2)
            bias = _section(blob, c["bias"], "<i4").astype(np.float32) * _section(blob, c["biasScales"], "<f4")
            out.append(("conv", (np.ascontiguousarray(weight), bias)))
        elif kind == "fullyConnected":
            c = body["_0"]
            weight = _section(blob, c["weights"], "<f4").reshape(c["outputCount"], c["inputCount"])
            out.append(("fc", (weight.copy(), _section(blob, c["bias"], "<f4").copy())))
    return header, out


def _convs_in_execution_order(net, size):
    order = []
    hooks = [m.register_forward_hook(lambda m, i, o: order.append(m))
             for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    with torch.no_grad():
        net.eval()(torch.zeros(1, 3, size, size))
    for h in hooks:
        h.remove()
    return order


def resnet50_state(path, calibration):
    """ResNet50 weights that compute what the model file computes. `calibration`: a batch of preprocessed crops
    (N, 3, H, W) for the BatchNorm statistics."""
    header, found = layers(path)
    net = nets.resnet50(len(header["labels"]))
    convs = _convs_in_execution_order(net, calibration.shape[-1])
    file_convs = [r for k, r in found if k == "conv"]
    fcs = [r for k, r in found if k == "fc"]
    if len(file_convs) != len(convs) or len(fcs) != 1:
        raise ModelFileError(f"{path}: {len(file_convs)} convolutions and {len(fcs)} classifiers, a ResNet50 has "
                             f"{len(convs)} and 1")
    bn_of = {}
    for m in net.modules():  # every convolution is followed by its own BatchNorm
        children = list(m.children())
        for a, b in zip(children, children[1:]):
            if isinstance(a, torch.nn.Conv2d) and isinstance(b, torch.nn.BatchNorm2d):
                bn_of[a] = b
        if isinstance(m, nets.Bottleneck):
            bn_of.update({m.conv1: m.bn1, m.conv2: m.bn2, m.conv3: m.bn3})
    bn_of[net.conv1] = net.bn1
    folded_bias = {}
    for conv, (weight, bias) in zip(convs, file_convs):
        if tuple(conv.weight.shape) != weight.shape:
            raise ModelFileError(f"{path}: a convolution of shape {weight.shape} where the ResNet50 has "
                                 f"{tuple(conv.weight.shape)}")
        conv.weight.data.copy_(torch.from_numpy(weight))
        folded_bias[bn_of[conv]] = torch.from_numpy(bias)

    def set_statistics(bn, inputs):
        x = inputs[0]
        mean = x.mean(dim=(0, 2, 3))
        var = x.var(dim=(0, 2, 3), unbiased=False)
        bn.running_mean.copy_(mean)
        bn.running_var.copy_(var)
        bn.weight.data.copy_(torch.sqrt(var + bn.eps))
        bn.bias.data.copy_(folded_bias[bn] + mean)

    hooks = [bn.register_forward_pre_hook(set_statistics) for bn in folded_bias]
    with torch.no_grad():
        net.eval()(calibration)
    for h in hooks:
        h.remove()
    weight, bias = fcs[0]
    net.fc.weight.data.copy_(torch.from_numpy(weight))
    net.fc.bias.data.copy_(torch.from_numpy(bias))
    return net.state_dict()
