#!/usr/bin/python3
"""Golden reference values for bnmlp's engine, computed by PyTorch in float64.

Usage (from the repository root, with Debian 12's python3-torch 1.13 and
python3-numpy; /usr/bin/python3 because a pyenv python has no torch):

    /usr/bin/python3 tests/testdata/make_golden.py tests/testdata/golden_bnmlp.json

tests/core/golden_test.cc reads the output (tests/core/golden_cases.cc
parses it). Same torch, same seed: same file, bit for bit.

Cases. 14 networks with layer sizes 5-6-4-3 on one batch of 8 samples:
{pre_activation, post_activation, none} x {relu, tanh, sigmoid, identity}
with the classification task, then pre_activation and post_activation with
relu and the regression task. Case k draws everything (data, parameters)
from numpy.random.default_rng(seed + k); values are rounded to 6 decimals so
that a failing case can be retyped by hand.

Layouts (PyTorch's, which the engine's API also uses):
  x        [batch][in]: one sample per row
  labels   [batch] class indices (classification)
  targets  [batch][out] (regression)
  weight   [out][in], as torch.nn.Linear.weight: z = x weight^T + bias
  bias, gamma, beta, running_mean, running_var: [features]
  outputs  [batch][out]: softmax probabilities (classification) or the
           identity output (regression)
  layers   one entry per Linear layer, input to output; a name is present
           only if the layer has that parameter ("buffers" entries likewise:
           {} for a layer without BatchNorm).

Parameter names and BatchNorm placement, per hidden layer:
  pre_activation   z = Linear(bias=False)(a); a' = act(BN(z))
                   parameters weight, gamma, beta (BN's beta replaces the bias)
  post_activation  h = act(Linear(bias=True)(a)); a' = BN(h)
                   parameters weight, bias, gamma, beta
  none             a' = act(Linear(bias=True)(a))
                   parameters weight, bias
where BN is torch.nn.BatchNorm1d(eps=1e-5, momentum=0.1), gamma its weight
and beta its bias, and act is ReLU, Tanh, Sigmoid or the identity. The output
layer is Linear(bias=True) with no BatchNorm and no activation.

BatchNorm1d semantics: in training mode it normalizes with the batch mean and
the biased batch variance (divisor n) and updates
  running_mean <- 0.9 running_mean + 0.1 mean
  running_var  <- 0.9 running_var  + 0.1 var * n / (n - 1)  (unbiased)
from running_mean = 0, running_var = 1; in eval mode it normalizes with the
running statistics.

Losses: classification is the mean over the batch of the softmax
cross-entropy (torch.nn.functional.cross_entropy); regression is the mean
squared error over all batch x out entries (torch.nn.functional.mse_loss,
reduction "mean").

What each case records:
  layers                         the parameters (running stats start at 0 / 1)
  train.outputs, train.loss      the training-mode forward
  train.gradients                dloss/dparameter, per layer and name
  train.grad_x                   dloss/dx, [batch][in]
  train.buffers_after            running statistics after that forward
  eval_after_one_train_forward   eval-mode outputs with those statistics
  sgd, adam                      two optimizer steps from the initial
                                 parameters, each a training forward and
                                 backward on the same batch then a step:
                                 loss_before_step, then the layers and
                                 buffers after the step

Optimizer rules (torch.optim's, applied per parameter; g is the gradient,
wd the weight decay, which applies to weights only, never to bias, gamma or
beta):
  SGD   (lr 0.1, momentum 0.9, dampening 0; Nesterov in the tanh cases)
        g <- g + wd w;  v <- g on the first step, else v <- 0.9 v + g;
        d <- g + 0.9 v if Nesterov else v;  w <- w - lr d
  Adam  (lr 0.01, beta1 0.9, beta2 0.999, eps 1e-8)
        g <- g + wd w;  m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2
        (m = v = 0 before the first step); at step t,
        w <- w - lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
Both use weight_decay 0.01.

Self-checks before anything is written (the script fails otherwise):
  - autograd's gradient of the training loss matches central finite
    differences (step 1e-6) for every parameter entry and every input entry
    of every case, to an absolute 1e-7 (the worst error is recorded);
  - torch.optim's two steps match the rules above, re-implemented here in
    numpy, to 1e-12, so the rules stated here are the ones in the file.

The output also records the torch, numpy and Python versions and the
command line that made it.
"""
import argparse
import json
import platform
import shlex
import sys

import numpy as np
import torch
from torch import nn

EPS = 1e-5
MOMENTUM = 0.1
ACTIVATIONS = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "identity": nn.Identity,
}
SGD_HYPERPARAMETERS = {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01}
ADAM_HYPERPARAMETERS = {
    "lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.01,
}
FD_STEP = 1e-6
FD_TOLERANCE = 1e-7
RULE_TOLERANCE = 1e-12


class BnMlp(nn.Module):
    """The engine's network in PyTorch (the module docstring's conventions).

    Also imported by make_bn_drift_reference.py, so both reference files
    describe the same network.
    """

    def __init__(self, sizes, normalization, activation,
                 momentum=MOMENTUM, eps=EPS):
        super().__init__()
        self.normalization = normalization
        self.linears = nn.ModuleList()
        self.norms = nn.ModuleList()
        self.act = ACTIVATIONS[activation]()
        hidden = len(sizes) - 2
        for i in range(len(sizes) - 1):
            is_hidden = i < hidden
            self.linears.append(nn.Linear(
                sizes[i], sizes[i + 1],
                bias=not (is_hidden and normalization == "pre_activation")))
            if is_hidden and normalization != "none":
                self.norms.append(
                    nn.BatchNorm1d(sizes[i + 1], eps=eps, momentum=momentum))

    def forward(self, x):
        a = x
        for i, linear in enumerate(self.linears[:-1]):
            if self.normalization == "pre_activation":
                a = self.act(self.norms[i](linear(a)))
            elif self.normalization == "post_activation":
                a = self.norms[i](self.act(linear(a)))
            else:
                a = self.act(linear(a))
        return self.linears[-1](a)

    def named_layers(self):
        """Per Linear layer, {API name: parameter}; the names of the file."""
        layers = []
        for i, linear in enumerate(self.linears):
            layer = {"weight": linear.weight}
            if linear.bias is not None:
                layer["bias"] = linear.bias
            if i < len(self.norms):
                layer["gamma"] = self.norms[i].weight
                layer["beta"] = self.norms[i].bias
            layers.append(layer)
        return layers

    def buffers_per_layer(self):
        out = []
        for i in range(len(self.linears)):
            if i < len(self.norms):
                out.append({"running_mean": to_list(self.norms[i].running_mean),
                            "running_var": to_list(self.norms[i].running_var)})
            else:
                out.append({})
        return out

    def weights_and_others(self):
        """Parameter groups: weights (decayed) and everything else."""
        weights = [layer["weight"] for layer in self.named_layers()]
        ids = {id(w) for w in weights}
        return weights, [p for p in self.parameters() if id(p) not in ids]


def to_list(t):
    return t.detach().cpu().numpy().tolist()


def layers_as_lists(net, of_grad=False):
    return [{name: to_list(p.grad if of_grad else p) for name, p in layer.items()}
            for layer in net.named_layers()]


def loss_function(task):
    if task == "classification":
        return nn.functional.cross_entropy
    return nn.functional.mse_loss


def probabilities(outputs, task):
    return torch.softmax(outputs, dim=1) if task == "classification" else outputs


class Case:
    """One network and batch; makes fresh copies of the initial network."""

    def __init__(self, sizes, batch, normalization, activation, task, seed):
        self.sizes, self.task = sizes, task
        self.normalization, self.activation = normalization, activation
        rng = np.random.default_rng(seed)
        self.x = np.round(rng.standard_normal((batch, sizes[0])), 6)
        if task == "classification":
            # Every class present; order shuffled.
            self.labels = rng.permutation(np.arange(batch) % sizes[-1]).tolist()
            self.y = torch.tensor(self.labels, dtype=torch.int64)
        else:
            self.targets = np.round(rng.standard_normal((batch, sizes[-1])), 6)
            self.y = torch.tensor(self.targets)
        net = BnMlp(sizes, normalization, activation)
        with torch.no_grad():
            for layer in net.named_layers():
                for name, p in layer.items():
                    if name == "weight":  # He normal, std sqrt(2 / fan_in)
                        v = rng.standard_normal(p.shape) * np.sqrt(2 / p.shape[1])
                    elif name == "gamma":
                        v = 1 + 0.2 * rng.standard_normal(p.shape)
                    else:  # bias, beta
                        v = 0.3 * rng.standard_normal(p.shape)
                    p.copy_(torch.from_numpy(np.round(v, 6)))
        self.initial_state = {k: v.clone() for k, v in net.state_dict().items()}

    def net(self):
        n = BnMlp(self.sizes, self.normalization, self.activation)
        n.load_state_dict(self.initial_state)
        n.train()
        return n

    def x_tensor(self, requires_grad=False):
        return torch.tensor(self.x, requires_grad=requires_grad)

    def loss(self, net, x):
        return loss_function(self.task)(net(x), self.y)


def finite_difference_error(case):
    """Worst |autograd - central difference| over every parameter and x."""
    net = case.net()
    x = case.x_tensor(requires_grad=True)
    case.loss(net, x).backward()
    worst = 0.0

    def central_difference(perturb):
        values = []
        for sign in (1.0, -1.0):
            probe = case.net()
            probe_x = case.x_tensor()
            with torch.no_grad():
                perturb(probe, probe_x, sign * FD_STEP)
                values.append(case.loss(probe, probe_x).item())
        return (values[0] - values[1]) / (2 * FD_STEP)

    for li, layer in enumerate(net.named_layers()):
        for name, p in layer.items():
            for idx in np.ndindex(*p.shape):
                def perturb(probe, _, h, li=li, name=name, idx=idx):
                    probe.named_layers()[li][name][idx] += h
                worst = max(worst, abs(central_difference(perturb) - p.grad[idx].item()))
    for idx in np.ndindex(*x.shape):
        def perturb(_, probe_x, h, idx=idx):
            probe_x[idx] += h
        worst = max(worst, abs(central_difference(perturb) - x.grad[idx].item()))
    return worst


def make_optimizer(net, kind, hp):
    weights, others = net.weights_and_others()
    groups = [{"params": weights, "weight_decay": hp["weight_decay"]},
              {"params": others, "weight_decay": 0.0}]
    if kind == "sgd":
        return torch.optim.SGD(groups, lr=hp["lr"], momentum=hp["momentum"],
                               nesterov=hp["nesterov"])
    return torch.optim.Adam(groups, lr=hp["lr"], betas=(hp["beta1"], hp["beta2"]),
                            eps=hp["eps"])


def check_rule(kind, hp, weight_decay, gradients, initial, final):
    """Re-applies the docstring's rule in numpy to one parameter's gradients."""
    w = initial.copy()
    state = None
    for t, g in enumerate(gradients, start=1):
        g = g + weight_decay * w
        if kind == "sgd":
            state = g if state is None else hp["momentum"] * state + g
            d = g + hp["momentum"] * state if hp["nesterov"] else state
            w = w - hp["lr"] * d
        else:
            m, v = state if state is not None else (0 * g, 0 * g)
            m = hp["beta1"] * m + (1 - hp["beta1"]) * g
            v = hp["beta2"] * v + (1 - hp["beta2"]) * g * g
            state = (m, v)
            m_hat = m / (1 - hp["beta1"] ** t)
            v_hat = v / (1 - hp["beta2"] ** t)
            w = w - hp["lr"] * m_hat / (np.sqrt(v_hat) + hp["eps"])
        worst = np.max(np.abs(w - final[t - 1]))
        assert worst < RULE_TOLERANCE, f"{kind} step {t} breaks the stated rule: {worst}"


def optimizer_steps(case, kind, hp):
    net = case.net()
    optimizer = make_optimizer(net, kind, hp)
    x = case.x_tensor()
    initial = {(li, n): p.detach().numpy().copy()
               for li, layer in enumerate(net.named_layers()) for n, p in layer.items()}
    gradients = {key: [] for key in initial}
    after = {key: [] for key in initial}
    steps = []
    for _ in range(2):
        optimizer.zero_grad()
        loss = case.loss(net, x)
        loss.backward()
        for li, layer in enumerate(net.named_layers()):
            for n, p in layer.items():
                gradients[(li, n)].append(p.grad.numpy().copy())
        optimizer.step()
        for li, layer in enumerate(net.named_layers()):
            for n, p in layer.items():
                after[(li, n)].append(p.detach().numpy().copy())
        steps.append({"loss_before_step": loss.item(),
                      "layers": layers_as_lists(net),
                      "buffers": net.buffers_per_layer()})
    for (li, n), w0 in initial.items():
        check_rule(kind, hp, hp["weight_decay"] if n == "weight" else 0.0,
                   gradients[(li, n)], w0, after[(li, n)])
    return {"hyperparameters": hp, "steps": steps}


def record(case):
    net = case.net()
    x = case.x_tensor(requires_grad=True)
    outputs = net(x)
    loss = loss_function(case.task)(outputs, case.y)
    loss.backward()
    out = {
        "layer_sizes": case.sizes,
        "normalization": case.normalization,
        "activation": case.activation,
        "task": case.task,
        "batch": len(case.x),
        "x": case.x.tolist(),
    }
    if case.task == "classification":
        out["labels"] = case.labels
    else:
        out["targets"] = case.targets.tolist()
    out["layers"] = layers_as_lists(case.net())
    out["train"] = {
        "outputs": to_list(probabilities(outputs, case.task)),
        "loss": loss.item(),
        "gradients": layers_as_lists(net, of_grad=True),
        "grad_x": to_list(x.grad),
        "buffers_after": net.buffers_per_layer(),
    }
    net.eval()
    with torch.no_grad():
        out["eval_after_one_train_forward"] = {
            "outputs": to_list(probabilities(net(case.x_tensor()), case.task))}
    sgd = dict(SGD_HYPERPARAMETERS, nesterov=case.activation == "tanh")
    out["sgd"] = optimizer_steps(case, "sgd", sgd)
    out["adam"] = optimizer_steps(case, "adam", dict(ADAM_HYPERPARAMETERS))
    out["finite_difference_max_abs_error"] = finite_difference_error(case)
    assert out["finite_difference_max_abs_error"] < FD_TOLERANCE, (
        f"autograd disagrees with finite differences: {out}")
    return out


def write(doc, path):
    """One top-level key per line and one case per line: diffable, compact."""
    dumps = lambda v: json.dumps(v, separators=(",", ":"))
    with open(path, "w") as f:
        f.write("{\n")
        for key, value in doc.items():
            if key == "cases":
                continue
            f.write(f"{json.dumps(key)}:{dumps(value)},\n")
        f.write('"cases":[\n')
        f.write(",\n".join(dumps(c) for c in doc["cases"]))
        f.write("\n]}\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", help="the JSON file to write")
    parser.add_argument("--seed", type=int, default=5171,
                        help="case k uses numpy.random.default_rng(seed + k)")
    args = parser.parse_args()

    torch.set_default_dtype(torch.float64)
    torch.use_deterministic_algorithms(True)
    sizes, batch = [5, 6, 4, 3], 8
    specs = [(n, a, "classification")
             for n in ("pre_activation", "post_activation", "none")
             for a in ("relu", "tanh", "sigmoid", "identity")]
    specs += [(n, "relu", "regression") for n in ("pre_activation", "post_activation")]
    cases = [record(Case(sizes, batch, n, a, t, args.seed + k))
             for k, (n, a, t) in enumerate(specs)]
    worst = max(c["finite_difference_max_abs_error"] for c in cases)
    doc = {
        "conventions": __doc__,
        "generator": {
            "script": "tests/testdata/make_golden.py",
            "command": " ".join(shlex.quote(a) for a in ["python3"] + sys.argv),
            "python_version": platform.python_version(),
            "torch_version": torch.__version__,
            "numpy_version": np.__version__,
            "dtype": "float64",
            "seed": args.seed,
            "finite_difference_step": FD_STEP,
            "finite_difference_max_abs_error": worst,
        },
        "batch_norm": {"eps": EPS, "momentum": MOMENTUM},
        "cases": cases,
    }
    write(doc, args.out)
    print(f"wrote {len(cases)} cases to {args.out}; autograd vs finite "
          f"differences: worst {worst:.2e}")


if __name__ == "__main__":
    main()
