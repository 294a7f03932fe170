#!/usr/bin/python3
"""Writes the benchmark network as ONNX: 784-256-128-10 with BatchNorm
(pre-activation, ReLU, a final Softmax), as PyTorch builds it, in evaluation
mode with non-trivial running statistics, exported by torch.onnx.export
(opset 13, dynamic batch axis). bnmlp imports the same file, so both sides
of bench/compare_onnxruntime.sh compute the same function.

    /usr/bin/python3 bench/make_onnx_mlp.py OUT.onnx
"""
import sys

import torch
from torch import nn


def main():
    torch.manual_seed(1)
    sizes = [784, 256, 128, 10]
    layers = []
    for fan_in, fan_out in zip(sizes[:-2], sizes[1:-1]):
        norm = nn.BatchNorm1d(fan_out)
        norm.running_mean.uniform_(-0.5, 0.5)
        norm.running_var.uniform_(0.5, 2.0)
        layers += [nn.Linear(fan_in, fan_out, bias=False), norm, nn.ReLU()]
    layers += [nn.Linear(sizes[-2], sizes[-1]), nn.Softmax(dim=1)]
    model = nn.Sequential(*layers).eval()
    torch.onnx.export(model, torch.randn(2, sizes[0]), sys.argv[1],
                      opset_version=13, input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})


if __name__ == "__main__":
    main()
