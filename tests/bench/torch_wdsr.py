"""PyTorch's CPU training throughput on the WDSR-B that ticketsr trains (same layers as
crate/src/model/wdsr.rs: head conv3x3, residual blocks [conv3x3 n->e*n, ReLU, conv3x3 e*n->n],
tail conv3x3 plus a parallel conv5x5 skip, pixel shuffle; input - 0.5, output + 0.5; no
weight normalisation, like ticketsr's graph), L1 loss, Adam, batches of random LR/HR
patches. Prints one JSON line: LR pixels per second over the timed steps.

    python torch_wdsr.py --blocks 4 --channels 16 --expansion 4 --scale 2 --batch 16 --patch 32
"""
import argparse, json, time

import torch
from torch import nn


class Wdsr(nn.Module):
    def __init__(self, scale, blocks, channels, expansion):
        super().__init__()
        out = 3 * scale * scale
        self.head = nn.Conv2d(3, channels, 3, padding=1)
        self.body = nn.ModuleList(
            nn.Sequential(nn.Conv2d(channels, channels * expansion, 3, padding=1), nn.ReLU(),
                          nn.Conv2d(channels * expansion, channels, 3, padding=1))
            for _ in range(blocks))
        self.tail = nn.Conv2d(channels, out, 3, padding=1)
        self.skip = nn.Conv2d(3, out, 5, padding=2)
        self.shuffle = nn.PixelShuffle(scale)

    def forward(self, x):
        x = x - 0.5
        h = self.head(x)
        for block in self.body:
            h = block(h) + h
        return self.shuffle(self.tail(h) + self.skip(x)) + 0.5


def main():
    p = argparse.ArgumentParser()
    for k, v in dict(scale=2, blocks=4, channels=16, expansion=4, batch=16, patch=32, warmup=5, steps=30, threads=0).items():
        p.add_argument(f"--{k}", type=int, default=v)
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = Wdsr(a.scale, a.blocks, a.channels, a.expansion)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    hr_side = a.patch * a.scale

    def step():
        x = torch.rand(a.batch, 3, a.patch, a.patch)
        y = torch.rand(a.batch, 3, hr_side, hr_side)
        loss = (model(x) - y).abs().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()

    for _ in range(a.warmup):
        step()
    start = time.perf_counter()
    for _ in range(a.steps):
        step()
    seconds = time.perf_counter() - start
    print(json.dumps({
        "framework": f"pytorch {torch.__version__}", "threads": torch.get_num_threads(),
        "parameters": sum(p.numel() for p in model.parameters()), "steps": a.steps,
        "seconds_per_step": seconds / a.steps, "lr_pixels_per_second": a.steps * a.batch * a.patch ** 2 / seconds,
    }))


if __name__ == "__main__":
    main()
