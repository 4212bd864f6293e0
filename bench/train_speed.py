"""Training throughput: the project's loop against a plain loop in the style of PyTorch's MNIST example.

Both train the same network with the same optimiser and batch size on the same MNIST samples, in one process,
alternating, and the best of several rounds is kept for each (the machine is shared and noisy). The plain loop runs
the layers in the order they are written, as the example does (conv, ReLU, pool); the project's training forward
pools before the ReLU (ConvNet._forward_pool_first: the same logits and gradients), draws its dropout mask with
torch.rand (model.Dropout) and steps a fused Adam (train.make_optimizer).

    python bench/train_speed.py [--samples 12800] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset

from cnn import train
from cnn.data import load_split, to_float
from cnn.model import ConvNet

MEAN, STD = 0.1307, 0.3081
PLAIN = "plain loop (DataLoader, per-sample transforms)"  # the example's Normalize((0.1307,), (0.3081,))


class PlainMnist(Dataset):
    """One image at a time, converted and normalised per sample, as transforms.Compose([ToTensor(), Normalize()])."""

    def __init__(self, images: np.ndarray, labels: np.ndarray):
        self.images, self.labels = images, labels

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i):
        x = torch.from_numpy(self.images[i].astype(np.float32) / 255.0)[None]  # ToTensor: (1, 28, 28) in [0, 1]
        return (x - MEAN) / STD, int(self.labels[i])


class PlainConvNet(ConvNet):
    """The same network and initial weights, its layers run one after another in training too, with nn.Dropout."""

    def __init__(self):
        super().__init__()
        self.dropout = torch.nn.Dropout(self.dropout.p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.nn.Sequential.forward(self, x)


def plain_epoch(model, loader, opt) -> None:
    model.train()
    for data, target in loader:
        opt.zero_grad()
        loss = F.cross_entropy(model(data), target)
        loss.backward()
        opt.step()


def project_epoch(model, opt, split: train.Split, recipe: train.Recipe, gen) -> None:
    train.train_epoch(model, opt, None, None, split, recipe, gen, "", progress=False)


def make_project(recipe: train.Recipe, device: torch.device):
    torch.manual_seed(0)
    model = ConvNet().to(memory_format=train.memory_format(device))
    return model, train.make_optimizer(model, recipe)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--samples", type=int, default=12_800, help="training samples per timed epoch")
    p.add_argument("--rounds", type=int, default=3, help="timed epochs of each loop, alternating")
    p.add_argument("--batch-size", type=int, default=128)
    args = p.parse_args()
    images, labels = load_split("train")
    images, labels = images[: args.samples], labels[: args.samples]
    recipe = train.Recipe(batch_size=args.batch_size)
    device = torch.device("cpu")
    split = train.Split(torch.from_numpy(to_float(images))[:, None], torch.from_numpy(labels.astype(np.int64)))

    torch.manual_seed(0)
    plain_model = PlainConvNet()
    plain_opt = torch.optim.Adam(plain_model.parameters(), lr=1e-3)
    loader = DataLoader(PlainMnist(images, labels), batch_size=args.batch_size, shuffle=True)
    loops = {"project loop, float32": (recipe, *make_project(recipe, device))}
    if train.cpu_has_bf16():  # the fast recipe's setting, where the CPU computes bfloat16 natively
        bf16 = train.Recipe(batch_size=args.batch_size, cpu_bf16=True)
        loops["project loop, bfloat16 autocast"] = (bf16, *make_project(bf16, device))
    gen = torch.Generator().manual_seed(0)

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {args.samples} samples, batch {args.batch_size}")
    plain_epoch(plain_model, loader, plain_opt)  # warm-up, untimed
    for r, model, opt in loops.values():
        project_epoch(model, opt, split, r, gen)
    rates = {PLAIN: []} | {name: [] for name in loops}
    for k in range(args.rounds):
        t0 = time.perf_counter()
        plain_epoch(plain_model, loader, plain_opt)
        rates[PLAIN].append(args.samples / (time.perf_counter() - t0))
        for name, (r, model, opt) in loops.items():
            t0 = time.perf_counter()
            project_epoch(model, opt, split, r, gen)
            rates[name].append(args.samples / (time.perf_counter() - t0))
        print(f"round {k + 1}: " + "   ".join(f"{v[-1]:6.0f}" for v in rates.values()) + " samples/s")
    plain_rates = rates[PLAIN]
    print(f"{'':<48} {'best of ' + str(args.rounds):>16}   x plain: best/best, median of each round's ratio")
    for name, v in rates.items():
        # the median of per-round ratios compares loops timed seconds apart, so a slow spell hits both alike
        ratio = statistics.median(r / p for r, p in zip(v, plain_rates))
        print(f"{name:<48} {max(v):7.0f} samples/s   {max(v) / max(plain_rates):.2f}x, {ratio:.2f}x")


if __name__ == "__main__":
    main()
