#!/usr/bin/env python3
"""Regenerate the SincNet parity fixture from the upstream PyTorch code.

Builds a small SincNet with upstream's own classes (mravanelli/SincNet, `dnn_models.py`:
`SincNet`, `MLP`, `LayerNorm`, `SincConv_fast`) configured as its speaker-id recipe: the
paper's CNN (80 sinc filters of 251 taps, conv 80->60->60 of 5 taps, max-pool 3, layer
norms, leaky ReLU 0.2) on 3200-sample windows at 16 kHz, fully connected widths 32, 32, 32
with batch norm, and a 4-class log-softmax head. Its parameters get non-trivial values drawn
from the seed (batch-norm running stats measured on a calibration batch), then two inputs go
through upstream's forward in eval mode while hooks record every stage.

Writes into --out:
  weights.safetensors      the parameters the forward reads, named as upstream's three state
                           dicts with the prefixes CNN., DNN1., DNN2.
  activations.safetensors  input, cnn_ln0, sinc_filters, sinc_conv (before the absolute
                           value), cnn_block0..2, cnn_out, dnn_ln0, dnn_layer0..2, log_probs
  README.md                what the files are, the torch version and the seed

The Rust parity test (model-format/tests/parity.rs) reads them from
tests/fixtures/sincnet-parity/. Outside CI: it needs torch from PyPI and upstream's file
(which is imported from where it lies, never copied into this repository).

    python3 -m venv .venv
    .venv/bin/pip install torch safetensors numpy
    .venv/bin/python scripts/sincnet-parity-fixture.py --upstream PATH/TO/SincNet/dnn_models.py \\
        --out tests/fixtures/sincnet-parity [--seed 0]
"""

import argparse
import hashlib
import importlib.util
import math
import os

import torch
from safetensors.torch import save_file

FS = 16000
WLEN = 3200  # 200 ms
CLASSES = 4
FC = [32, 32, 32]
MAX_ATTEMPTS = 20


def load_upstream(path):
    spec = importlib.util.spec_from_file_location("sincnet_upstream", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def option_dicts():
    """Upstream's speaker-id options (cfg/SincNet_TIMIT.cfg), with our widths and classes."""
    cnn = {
        "input_dim": WLEN,
        "fs": FS,
        "cnn_N_filt": [80, 60, 60],
        "cnn_len_filt": [251, 5, 5],
        "cnn_max_pool_len": [3, 3, 3],
        "cnn_use_laynorm_inp": True,
        "cnn_use_batchnorm_inp": False,
        "cnn_use_laynorm": [True, True, True],
        "cnn_use_batchnorm": [False, False, False],
        "cnn_act": ["leaky_relu"] * 3,
        "cnn_drop": [0.0] * 3,
    }
    dnn1 = {
        "input_dim": None,  # the CNN's out_dim
        "fc_lay": FC,
        "fc_drop": [0.0] * 3,
        "fc_use_batchnorm": [True, True, True],
        "fc_use_laynorm": [False, False, False],
        "fc_use_laynorm_inp": True,
        "fc_use_batchnorm_inp": False,
        "fc_act": ["leaky_relu"] * 3,
    }
    dnn2 = {
        "input_dim": FC[-1],
        "fc_lay": [CLASSES],
        "fc_drop": [0.0],
        "fc_use_batchnorm": [False],
        "fc_use_laynorm": [False],
        "fc_use_laynorm_inp": False,
        "fc_use_batchnorm_inp": False,
        "fc_act": ["softmax"],
    }
    return cnn, dnn1, dnn2


def synth(gen, n):
    """n windows of three random tones plus noise, like short music excerpts."""
    t = torch.arange(WLEN) / FS
    freqs = 50 + 7000 * torch.rand(n, 3, 1, generator=gen)
    amps = 0.1 * torch.rand(n, 3, 1, generator=gen)
    phases = 2 * math.pi * torch.rand(n, 3, 1, generator=gen)
    tones = (amps * torch.sin(2 * math.pi * freqs * t + phases)).sum(1)
    return tones + 0.02 * torch.randn(n, WLEN, generator=gen)


def build(up, seed):
    """Upstream's three networks, initialised by upstream, then perturbed from the seed."""
    cnn_opts, dnn1_opts, dnn2_opts = option_dicts()
    torch.manual_seed(seed)  # upstream's own initialisers draw from the global generator
    cnn = up.SincNet(cnn_opts)
    dnn1 = up.MLP({**dnn1_opts, "input_dim": cnn.out_dim})
    dnn2 = up.MLP(dnn2_opts)
    nets = (cnn, dnn1, dnn2)
    gen = torch.Generator().manual_seed(seed)

    def randn_like(p):
        return torch.randn(p.shape, generator=gen)

    with torch.no_grad():
        # Cut-offs: a few percent off the mel grid (the top filters can then hit the clamp at
        # fs/2) and random signs, so that the absolute values matter.
        sinc = cnn.conv[0]
        for p, lo, hi in ((sinc.low_hz_, 0.97, 1.03), (sinc.band_hz_, 0.8, 1.25)):
            p.mul_(lo + (hi - lo) * torch.rand(p.shape, generator=gen))
            p.mul_(torch.where(torch.rand(p.shape, generator=gen) < 0.3, -1.0, 1.0))
        for net in nets:
            for m in net.modules():
                if isinstance(m, (up.LayerNorm, torch.nn.BatchNorm1d)):
                    affine = (m.gamma, m.beta) if isinstance(m, up.LayerNorm) else (m.weight, m.bias)
                    affine[0].add_(0.1 * randn_like(affine[0]))
                    affine[1].add_(0.1 * randn_like(affine[1]))
                elif isinstance(m, torch.nn.Linear):
                    m.bias.copy_(0.02 * randn_like(m.bias))  # upstream starts them at zero
        # Upstream's init leaves the four logits nearly equal: widen the head.
        dnn2.wx[0].weight.mul_(30)

        # Running stats: those of one calibration batch (momentum None = cumulative average).
        for net in nets:
            for m in net.modules():
                if isinstance(m, torch.nn.BatchNorm1d):
                    m.reset_running_stats()
                    m.momentum = None
            net.train()
        dnn2(dnn1(cnn(synth(gen, 64))))
        for net in nets:
            net.eval()
    return nets, gen


def capture(nets, x):
    """Upstream's full forward on x, with every stage recorded by forward hooks."""
    cnn, dnn1, dnn2 = nets
    stages = {"input": x.clone()}

    def record(name):
        def hook(_module, _inputs, output):
            stages[name] = output.detach().clone()

        return hook

    # Each layer's Dropout (p = 0) is its last step: its output is the block's output.
    hooked = [(cnn.ln0, "cnn_ln0"), (cnn.conv[0], "sinc_conv")]
    hooked += [(d, f"cnn_block{i}") for i, d in enumerate(cnn.drop)]
    hooked += [(cnn, "cnn_out"), (dnn1.ln0, "dnn_ln0")]
    hooked += [(d, f"dnn_layer{i}") for i, d in enumerate(dnn1.drop)]
    hooked += [(dnn2, "log_probs")]
    handles = [m.register_forward_hook(record(name)) for m, name in hooked]
    with torch.no_grad():
        dnn2(dnn1(cnn(x)))
    for h in handles:
        h.remove()
    sinc = cnn.conv[0]
    stages["sinc_filters"] = sinc.filters.detach().view(sinc.out_channels, sinc.kernel_size).clone()
    return stages


def used_weights(nets):
    """The state-dict entries the configured forward reads, prefixed CNN., DNN1., DNN2.

    Upstream builds a layer norm and a batch norm for every layer whatever the options say;
    the unused ones, and batch norm's step counter, are left out."""
    out = {}
    for prefix, kind, net in zip(("CNN.", "DNN1.", "DNN2."), ("cnn", "fc", "fc"), nets):
        for name, t in net.state_dict().items():
            parts = name.split(".")
            if parts[-1] == "num_batches_tracked":
                continue
            norm = {"ln": "laynorm", "bn": "batchnorm"}.get(parts[0])
            if norm and not getattr(net, f"{kind}_use_{norm}")[int(parts[1])]:
                continue
            out[prefix + name] = t.detach().clone().contiguous()
    return out


def readme(stages, weights, torch_version, seed, upstream_sha):
    lines = [
        "# SincNet parity fixture",
        "",
        "Made by `scripts/sincnet-parity-fixture.py` with upstream SincNet's `dnn_models.py`",
        f"(sha256 {upstream_sha}),",
        f"torch {torch_version}, float32, eval mode, seed {seed}. The paper's CNN on 3200-sample",
        "windows at 16 kHz, fully connected widths 32, 32, 32 with batch norm, 4 classes; the two",
        "inputs are predicted as different classes.",
        "",
        "- `weights.safetensors`: upstream's state-dict names prefixed `CNN.`, `DNN1.`, `DNN2.`",
        "  (only the entries the forward reads):",
    ]
    lines += [f"  `{k}` {list(v.shape)}" for k, v in weights.items()]
    lines += ["- `activations.safetensors` (`sinc_conv` is before the absolute value):"]
    lines += [f"  `{k}` {list(v.shape)}" for k, v in stages.items()]
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--upstream", required=True, help="path to upstream SincNet's dnn_models.py")
    ap.add_argument("--out", required=True, help="directory to write the fixture into")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    up = load_upstream(args.upstream)
    # Deterministic retries: the next seed until the two inputs fall in different classes.
    for seed in range(args.seed, args.seed + MAX_ATTEMPTS):
        nets, gen = build(up, seed)
        x = synth(gen, 2)
        stages = capture(nets, x)
        classes = stages["log_probs"].argmax(1).tolist()
        if classes[0] != classes[1]:
            break
        print(f"seed {seed}: both inputs are class {classes[0]}; trying seed {seed + 1}")
    else:
        raise SystemExit(f"no seed in {args.seed}..{seed} separates the two inputs")

    cnn, dnn1, dnn2 = nets
    with torch.no_grad():
        assert torch.equal(stages["log_probs"], dnn2(dnn1(cnn(x)))), "hooks changed the forward"
    assert all(torch.isfinite(t).all() for t in stages.values())

    os.makedirs(args.out, exist_ok=True)
    weights = used_weights(nets)
    save_file(weights, os.path.join(args.out, "weights.safetensors"))
    save_file(stages, os.path.join(args.out, "activations.safetensors"))
    with open(args.upstream, "rb") as f:
        upstream_sha = hashlib.sha256(f.read()).hexdigest()
    with open(os.path.join(args.out, "README.md"), "w") as f:
        f.write(readme(stages, weights, torch.__version__, seed, upstream_sha))
    print(f"seed {seed}, classes {classes}, torch {torch.__version__}: wrote {args.out}")


if __name__ == "__main__":
    main()
