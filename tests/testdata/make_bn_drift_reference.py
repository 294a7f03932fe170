#!/usr/bin/python3
"""How far PyTorch float32's BatchNorm running statistics drift from float64.

Usage (from the repository root; Debian 12's python3-torch 1.13,
python3-numpy and python3-sklearn, hence /usr/bin/python3):

    /usr/bin/python3 tests/testdata/make_bn_drift_reference.py

writes two files that tests/core/batch_norm_drift_test.cc reads:

  tests/testdata/digits.csv
      scikit-learn's bundled digits (sklearn.datasets.load_digits: 1,797
      8x8 images, 10 classes; no download). A header line, then one sample
      per line: the label, then the 64 pixel values, integers 0..16. The
      features are pixel / 16, exact in float32 and float64 alike.
  tests/testdata/bn_drift_reference.json
      the run's settings and initial parameters, torch float64's and float32's
      running statistics after the run, and the drift figures below.

The run: the network of make_golden.py (same conventions: BnMlp, weight
[out][in], parameter names weight/bias/gamma/beta) with the layer sizes,
normalization and activation of RUN below, trained on all 1,797 samples as
one batch (full batch, samples in file order, no shuffling) for RUN["steps"]
steps of torch.optim.SGD (RUN's lr and momentum, dampening 0, no Nesterov,
no weight decay) on the mean softmax cross-entropy, in training mode, with
BatchNorm1d(eps=1e-5, momentum=0.1) updating its running statistics once per
step. It runs twice from the same initial parameters: once in float64 (the
reference) and once in float32.

Why tanh: with ReLU, float32 and float64 runs part ways whenever some pre-
activation lies within rounding of 0 (the derivative jumps), which makes the
figures a lottery: on a 64-128-64-10 ReLU network over 8 initial seeds,
torch's own float32 running_var error (max) ranged from 4e-5 to 2e-2 and
moved by up to 400x between 1 and 2 threads. With tanh the runs separate
smoothly and the figures measure precision: over 6 seeds of this run,
torch's rms figures below stayed within 4.7e-7..5.4e-7 (running_var) and
5.7e-7..8.8e-7 (running_mean).

Initial parameters: weights He normal (std sqrt(2 / fan_in)) from
numpy.random.default_rng(RUN["seed"]), rounded to float32 so that the
float32 and float64 runs (ours and torch's) start from exactly the same
values; biases and beta 0; gamma 1. (The engine's own He initialization uses
a C++ RNG that Python cannot reproduce, hence committed parameters.)

Drift figures, over every BatchNorm feature of every hidden layer (96),
after the last step; f32 is the float32 run, f64 the float64 run:
  running_var_rms_rel_error     rms of |var_f32 - var_f64| / var_f64
  running_mean_rms_error_in_std rms of |mean_f32 - mean_f64| / sqrt(var_f64)
                                (a mean's error in units of its feature's
                                standard deviation: means can be ~0, so a
                                relative error would be meaningless)
  running_var_max_rel_error, running_mean_max_error_in_std
                                the same with max instead of rms
The test asserts the rms figures; a maximum is one feature's luck (over the
6 seeds, torch's maxima moved by up to 1.7x between its 1- and 2-thread
runs, either way; its rms figures by 4-65%, always the same way: 1 thread,
one longer float sum per feature, is worse).
Torch float32's figures depend on how its kernels split work between
threads, so the float32 run is made with 1 and with 2 intra-op threads
(torch.set_num_threads; this machine has 2 cores) and each figure in
"torch_float32_drift" is the smaller of the two, i.e. the better float32
result torch gets.

Torch 1.13's BatchNorm1d on a (batch, features) float32 input sums the
batch statistics in float, one running sum per thread (checked: over 2^20
samples its mean is bit for bit numpy's sequential float32 sum); its
(batch, features, length) path and torch.var_mean sum accurately. The
figures here are the former, i.e. what nn.BatchNorm1d users get.

Also recorded: the torch, numpy, scikit-learn and Python versions and the
command line.
"""
import argparse
import csv
import json
import os
import platform
import shlex
import sys

import numpy as np
import sklearn
import torch
from sklearn.datasets import load_digits

from make_golden import BnMlp, EPS, MOMENTUM

RUN = {
    "layer_sizes": [64, 64, 32, 10],
    "normalization": "pre_activation",
    "activation": "tanh",
    "task": "classification",
    "steps": 300,
    "optimizer": "sgd",
    "lr": 0.1,
    "momentum": 0.9,
    "seed": 1,
}
THREAD_COUNTS = (1, 2)
HERE = os.path.dirname(os.path.abspath(__file__))


def export_digits(path):
    digits = load_digits()
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["label"] + [f"pixel{i}" for i in range(64)])
        for label, row in zip(digits.target, digits.data):
            assert np.all(row == np.round(row)) and row.min() >= 0 and row.max() <= 16
            w.writerow([int(label)] + [int(v) for v in row])


def read_digits(path):
    """The committed file, read back: the run uses exactly what the test reads."""
    with open(path) as f:
        rows = list(csv.reader(f))[1:]
    data = np.array(rows, dtype=np.int64)
    return data[:, 1:].astype(np.float64) / 16.0, data[:, 0]


def initial_layers(sizes, seed):
    rng = np.random.default_rng(seed)
    layers = []
    for i in range(len(sizes) - 1):
        fan_in, out = sizes[i], sizes[i + 1]
        w = rng.standard_normal((out, fan_in)) * np.sqrt(2.0 / fan_in)
        layer = {"weight": w.astype(np.float32).astype(np.float64).tolist()}
        hidden = i + 2 < len(sizes)
        if not (hidden and RUN["normalization"] == "pre_activation"):
            layer["bias"] = [0.0] * out
        if hidden and RUN["normalization"] != "none":
            layer["gamma"] = [1.0] * out
            layer["beta"] = [0.0] * out
        layers.append(layer)
    return layers


def train(x, labels, layers, dtype):
    net = BnMlp(RUN["layer_sizes"], RUN["normalization"], RUN["activation"])
    net = net.to(dtype)
    with torch.no_grad():
        for params, values in zip(net.named_layers(), layers):
            assert params.keys() == values.keys()
            for name, p in params.items():
                p.copy_(torch.tensor(values[name], dtype=torch.float64))
    net.train()
    x = torch.tensor(x, dtype=dtype)
    y = torch.tensor(labels)
    opt = torch.optim.SGD(net.parameters(), lr=RUN["lr"], momentum=RUN["momentum"])
    for _ in range(RUN["steps"]):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
    buffers = [{"running_mean": bn.running_mean.double().tolist(),
                "running_var": bn.running_var.double().tolist()} for bn in net.norms]
    return {"final_loss": loss.item(), "buffers": buffers}


def drift(ours, reference):
    var_rel, mean_in_std = [], []
    for a, b in zip(ours["buffers"], reference["buffers"]):
        var, var_ref = np.array(a["running_var"]), np.array(b["running_var"])
        mean, mean_ref = np.array(a["running_mean"]), np.array(b["running_mean"])
        var_rel.append(np.abs(var - var_ref) / var_ref)
        mean_in_std.append(np.abs(mean - mean_ref) / np.sqrt(var_ref))
    var_rel, mean_in_std = np.concatenate(var_rel), np.concatenate(mean_in_std)
    return {"running_var_max_rel_error": float(np.max(var_rel)),
            "running_var_rms_rel_error": float(np.sqrt(np.mean(var_rel ** 2))),
            "running_mean_max_error_in_std": float(np.max(mean_in_std)),
            "running_mean_rms_error_in_std": float(np.sqrt(np.mean(mean_in_std ** 2)))}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out_dir", default=HERE,
                        help="where digits.csv and bn_drift_reference.json go")
    parser.add_argument("--seed", type=int, default=RUN["seed"],
                        help="seed of the initial parameters")
    args = parser.parse_args()
    RUN["seed"] = args.seed

    torch.use_deterministic_algorithms(True)
    csv_path = os.path.join(args.out_dir, "digits.csv")
    export_digits(csv_path)
    x, labels = read_digits(csv_path)
    layers = initial_layers(RUN["layer_sizes"], RUN["seed"])

    torch.set_num_threads(1)
    f64 = train(x, labels, layers, torch.float64)
    f32 = {}
    for threads in THREAD_COUNTS:
        torch.set_num_threads(threads)
        f32[threads] = train(x, labels, layers, torch.float32)
        f32[threads]["drift"] = drift(f32[threads], f64)
        print(f"torch float32, {threads} thread(s): {f32[threads]['drift']}")
    figures = {key: min(f32[t]["drift"][key] for t in THREAD_COUNTS)
               for key in f32[THREAD_COUNTS[0]]["drift"]}

    doc = {
        "description": __doc__,
        "generator": {
            "script": "tests/testdata/make_bn_drift_reference.py",
            "command": " ".join(shlex.quote(a) for a in ["python3"] + sys.argv),
            "python_version": platform.python_version(),
            "torch_version": torch.__version__,
            "numpy_version": np.__version__,
            "sklearn_version": sklearn.__version__,
        },
        "data": {"file": "digits.csv", "samples": len(labels), "features": 64,
                 "classes": 10, "feature_scale": 1.0 / 16},
        "batch_norm": {"eps": EPS, "momentum": MOMENTUM},
        "run": RUN,
        "initial_layers": layers,
        "torch_float64": f64,
        "torch_float32": {str(t): f32[t] for t in THREAD_COUNTS},
        "torch_float32_drift": figures,
    }
    out = os.path.join(args.out_dir, "bn_drift_reference.json")
    with open(out, "w") as f:  # one top-level key per line: diffable
        f.write("{\n")
        f.write(",\n".join(f"{json.dumps(k)}:{json.dumps(v, separators=(',', ':'))}"
                           for k, v in doc.items()))
        f.write("\n}\n")
    print(f"wrote {csv_path} and {out}; torch float32 drift: {figures}")


if __name__ == "__main__":
    main()
