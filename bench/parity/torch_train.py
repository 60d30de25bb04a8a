#!/usr/bin/env python3
"""PyTorch reference run of the engine's default `cnn` recipe, for bench/parity/learning.mjs.

Same data handling as the engine's loader (src-main/engine/datasets): an IDX data set, a
class-balanced prefix of --max-train / --max-test images (the first images of each class in
file order), pixels / 255, then one mean and (population) std from the training part.
Same network as the zoo's cnn: [conv3x3 (no bias) - BatchNorm - ReLU - maxpool 2 ('same',
i.e. ceil mode)] x 3 with width, 2x, 4x channels, flatten in NHWC order, dense(hidden) + ReLU,
dense(classes). Same recipe: SGD lr 0.05, momentum 0.9, weight decay 5e-4 on all parameters,
cosine annealing to 0 over all iterations, batch 128, a fresh shuffle per epoch with the
last partial batch dropped (the engine's batch plan).

--init torch (default): kaiming_normal_(fan_in, relu) for convs, nn.Linear's default for dense
layers (torchvision's convention, what the engine now does); --init he-all: kaiming_normal_
for the dense layers too, zero biases.

Prints one JSON line: test accuracy, per-window train loss/accuracy, seconds.
Usage: /usr/bin/python3 torch_train.py --data DIR [--max-train 8000] [--max-test 2000] [--epochs 2] [--seed 7]
"""
import argparse
import gzip
import json
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def read_idx(path):
    for p in (path, path + '.gz'):
        if os.path.exists(p):
            with (gzip.open(p) if p.endswith('.gz') else open(p, 'rb')) as f:
                return f.read()
    raise FileNotFoundError(path)


def load_split(root, prefix, max_n):
    raw = read_idx(os.path.join(root, f'{prefix}-images-idx3-ubyte'))
    n, h, w = (int.from_bytes(raw[i:i + 4], 'big') for i in (4, 8, 12))
    images = np.frombuffer(raw, np.uint8, offset=16).reshape(n, h, w)
    labels = np.frombuffer(read_idx(os.path.join(root, f'{prefix}-labels-idx1-ubyte')), np.uint8, offset=8).astype(np.int64)
    k = int(labels.max()) + 1
    if max_n is not None and max_n < n:
        counts = np.bincount(labels, minlength=k)
        quotas, left = np.zeros(k, int), max_n
        while left > 0:  # the engine's balancedQuotas: equal shares, leftovers to the lowest classes
            open_ = [c for c in range(k) if quotas[c] < counts[c]]
            if not open_:
                break
            share = left // len(open_)
            if share == 0:
                for c in open_[:left]:
                    quotas[c] += 1
                break
            for c in open_:
                take = min(share, counts[c] - quotas[c])
                quotas[c] += take
                left -= take
        keep = []
        for i, c in enumerate(labels):
            if quotas[c] > 0:
                quotas[c] -= 1
                keep.append(i)
        images, labels = images[keep], labels[keep]
    return images.astype(np.float32) / 255.0, labels, k


class Cnn(nn.Module):
    def __init__(self, width, hidden, classes, side):
        super().__init__()
        layers, c = [], 1
        for b in range(3):
            f = width * 2 ** b
            layers += [nn.Conv2d(c, f, 3, padding=1, bias=False), nn.BatchNorm2d(f, eps=1e-5, momentum=0.1), nn.ReLU(), nn.MaxPool2d(2, 2, ceil_mode=True)]
            c, side = f, -(-side // 2)
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(c * side * side, hidden)
        self.logits = nn.Linear(hidden, classes)

    def forward(self, x):
        x = self.features(x).permute(0, 2, 3, 1).flatten(1)  # NHWC flatten, as the engine
        return self.logits(F.relu(self.fc(x)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--data', required=True)
    ap.add_argument('--max-train', type=int, default=8000)
    ap.add_argument('--max-test', type=int, default=2000)
    ap.add_argument('--epochs', type=float, default=2)
    ap.add_argument('--seed', type=int, default=7)
    ap.add_argument('--width', type=int, default=32)
    ap.add_argument('--hidden', type=int, default=128)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--init', choices=['torch', 'he-all'], default='torch')
    ap.add_argument('--eval-every', type=int, default=0, help='test accuracy every n iterations and at the end (the engine\'s train --eval-every)')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    xtr, ytr, k = load_split(a.data, 'train', a.max_train)
    xte, yte, _ = load_split(a.data, 't10k', a.max_test)
    mean, std = float(xtr.mean(dtype=np.float64)), float(xtr.std(dtype=np.float64))
    xtr = torch.from_numpy((xtr - mean) / std).unsqueeze(1)
    xte = torch.from_numpy((xte - mean) / std).unsqueeze(1)
    ytr, yte = torch.from_numpy(ytr), torch.from_numpy(yte)

    model = Cnn(a.width, a.hidden, k, xtr.shape[-1])
    for m in model.modules():
        if isinstance(m, nn.Conv2d) or (a.init == 'he-all' and isinstance(m, nn.Linear)):
            nn.init.kaiming_normal_(m.weight, mode='fan_in', nonlinearity='relu')
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    bs = 128
    per_epoch = max(1, len(xtr) // bs)
    total = round(a.epochs * per_epoch)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total)
    def test_accuracy():
        model.eval()
        with torch.no_grad():
            pred = torch.cat([model(xte[i:i + 500]).argmax(1) for i in range(0, len(xte), 500)])
        model.train()
        return float((pred == yte).float().mean())

    windows, curve, wl, wc, wn = [], [], 0.0, 0, 0
    t0 = time.time()
    model.train()
    for it in range(total):
        if it % per_epoch == 0:
            order = torch.randperm(len(xtr))
        idx = order[(it % per_epoch) * bs:(it % per_epoch + 1) * bs]
        logits = model(xtr[idx])
        loss = F.cross_entropy(logits, ytr[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        wl += loss.item()
        wc += int((logits.argmax(1) == ytr[idx]).sum())
        wn += 1
        if (it + 1) % 10 == 0 or it + 1 == total:
            windows.append({'iteration': it + 1, 'loss': wl / wn, 'accuracy': wc / (wn * bs)})
            wl, wc, wn = 0.0, 0, 0
        if a.eval_every and ((it + 1) % a.eval_every == 0 or it + 1 == total):
            curve.append({'iteration': it + 1, 'epoch': (it + 1) / per_epoch, 'testAccuracy': test_accuracy()})
    seconds = time.time() - t0
    result = {'engine': 'pytorch', 'init': a.init, 'torchVersion': torch.__version__, 'seed': a.seed, 'iterations': total,
              'testAccuracy': test_accuracy(), 'trainSeconds': seconds, 'windows': windows}
    if a.eval_every:
        result['curve'] = curve
    print(json.dumps(result))


if __name__ == '__main__':
    main()
