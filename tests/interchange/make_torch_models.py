#!/usr/bin/python3
"""Builds, trains and exports six PyTorch models for bnmlp's import test.

    /usr/bin/python3 tests/interchange/make_torch_models.py OUT_DIR

Each is an nn.Sequential of Linear, BatchNorm1d and ReLU/Tanh/Sigmoid/Identity
in one of bnmlp's arrangements (pre-activation, post-activation, none), with
or without a final Softmax, trained for a few epochs (CrossEntropyLoss on the
logits, or MSELoss), exported in evaluation mode with torch.onnx.export
(opset 13, dynamic batch axis) to OUT_DIR/NAME.onnx. OUT_DIR/reference.json
holds the fixed inputs, each model's outputs on them, the configuration bnmlp
should infer, and the training data (for training further in bnmlp).
Deterministic: seeded, one thread.
"""
import json
import os
import sys

import torch
from torch import nn

INPUTS = 5
CLASSES = 3
TARGETS = 2


def classification_data(n, generator):
    centers = 2.0 * torch.randn(CLASSES, INPUTS, generator=generator)
    labels = torch.arange(n) % CLASSES
    x = centers[labels] + torch.randn(n, INPUTS, generator=generator)
    return x, labels


def regression_data(n, generator):
    w = torch.randn(INPUTS, TARGETS, generator=generator)
    x = torch.randn(n, INPUTS, generator=generator)
    return x, torch.tanh(x @ w) + 0.1 * torch.randn(n, TARGETS, generator=generator)


def configurations():
    """(name, body, softmax, task, expected bnmlp config)."""
    bn = nn.BatchNorm1d
    return [
        ("pre_relu_softmax",
         [nn.Linear(INPUTS, 16, bias=False), bn(16), nn.ReLU(),
          nn.Linear(16, 12, bias=False), bn(12), nn.ReLU(),
          nn.Linear(12, CLASSES)],
         True, "classification",
         dict(layer_sizes=[INPUTS, 16, 12, CLASSES], normalization="PRE_ACTIVATION",
              activation="RELU", task="CLASSIFICATION")),
        ("post_tanh_softmax",
         [nn.Linear(INPUTS, 16), nn.Tanh(), bn(16, eps=1e-3, momentum=0.2),
          nn.Linear(16, CLASSES)],
         True, "classification",
         dict(layer_sizes=[INPUTS, 16, CLASSES], normalization="POST_ACTIVATION",
              activation="TANH", task="CLASSIFICATION", batch_norm_epsilon=1e-3,
              batch_norm_momentum=0.2)),
        ("none_sigmoid_regression",
         [nn.Linear(INPUTS, 16), nn.Sigmoid(), nn.Linear(16, 8), nn.Sigmoid(),
          nn.Linear(8, TARGETS)],
         False, "regression",
         dict(layer_sizes=[INPUTS, 16, 8, TARGETS], normalization="NONE",
              activation="SIGMOID", task="REGRESSION")),
        # nn.Linear's default bias before BatchNorm: bnmlp moves it into the
        # running mean.
        ("pre_bias_relu_regression",
         [nn.Linear(INPUTS, 16), bn(16), nn.ReLU(), nn.Linear(16, TARGETS)],
         False, "regression",
         dict(layer_sizes=[INPUTS, 16, TARGETS], normalization="PRE_ACTIVATION",
              activation="RELU", task="REGRESSION")),
        # A classifier exported as it was trained, ending in Linear: its
        # outputs are logits, so bnmlp serves it as a regression model.
        ("classifier_logits",
         [nn.Linear(INPUTS, 16, bias=False), bn(16), nn.Tanh(),
          nn.Linear(16, CLASSES)],
         False, "classification",
         dict(layer_sizes=[INPUTS, 16, CLASSES], normalization="PRE_ACTIVATION",
              activation="TANH", task="REGRESSION")),
        ("pre_identity_softmax",
         [nn.Linear(INPUTS, 12, bias=False), bn(12), nn.Identity(),
          nn.Linear(12, CLASSES)],
         True, "classification",
         dict(layer_sizes=[INPUTS, 12, CLASSES], normalization="PRE_ACTIVATION",
              activation="IDENTITY", task="CLASSIFICATION")),
    ]


def train(body, task, x, y, epochs=4):
    model = nn.Sequential(*body)
    loss_fn = nn.CrossEntropyLoss() if task == "classification" else nn.MSELoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    generator = torch.Generator().manual_seed(1)
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=generator)
        for start in range(0, len(x), 32):
            batch = order[start:start + 32]
            optimizer.zero_grad()
            loss_fn(model(x[batch]), y[batch]).backward()
            optimizer.step()
    return model


def rows(tensor):
    return [[float(v) for v in row] for row in tensor]


def main(out_dir):
    torch.manual_seed(0)
    torch.set_num_threads(1)
    generator = torch.Generator().manual_seed(0)
    data = {"classification": classification_data(128, generator),
            "regression": regression_data(128, generator)}
    inputs = 2.0 * torch.randn(16, INPUTS, generator=generator)
    reference = {
        "inputs": rows(inputs),
        "train": {"x": rows(data["classification"][0]),
                  "labels": [int(v) for v in data["classification"][1]]},
        "models": [],
    }
    for name, body, softmax, task, expected in configurations():
        x, y = data[task]
        trained = train(body, task, x, y)
        exported = nn.Sequential(trained, nn.Softmax(dim=1)) if softmax else trained
        exported.eval()
        path = os.path.join(out_dir, name + ".onnx")
        torch.onnx.export(exported, inputs[:2], path, opset_version=13,
                          input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "N"}, "y": {0: "N"}})
        with torch.no_grad():
            outputs = exported(inputs)
        reference["models"].append(
            {"name": name, "file": path, "expected": expected,
             "outputs": rows(outputs)})
    with open(os.path.join(out_dir, "reference.json"), "w") as f:
        json.dump(reference, f)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: make_torch_models.py OUT_DIR")
    main(sys.argv[1])
