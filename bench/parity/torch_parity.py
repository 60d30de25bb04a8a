#!/usr/bin/env python3
"""PyTorch side of the engine's training-parity harness (src-main/engine/bench/parity.ts).

Reads a case directory written by the engine: `case.json` (the model's layer graph with
its Keras-style configs, the optimiser and schedule settings) and raw little-endian files
(initial weights in TF.js layout, the normalised images, labels and the engine's batch
indices). Builds the same network with stock PyTorch modules (nn.Conv2d, nn.BatchNorm2d,
nn.Linear, F.cross_entropy, torch.optim.SGD, CosineAnnealingLR), loads the engine's
initial weights, and writes `torch.json` plus raw files with:

  * the loss of every step,
  * the gradient of every parameter at step 1 (before weight decay, like the engine's),
  * every weight (and BatchNorm running statistic) after the last step,

all converted back to TF.js layout so that the engine side compares flat arrays.

Layouts: TF.js is NHWC with conv kernels [kh, kw, in, out] and dense kernels [in, out];
PyTorch is NCHW with [out, in, kh, kw] and [out, in]. The flatten before the first dense
layer therefore permutes to NHWC first, so the dense kernel needs no row permutation.
TF's 'same' padding is asymmetric when the total is odd (the extra row/column goes to the
bottom/right, e.g. a stride-2 3x3 conv on an even input); it is reproduced with an explicit
pad rather than nn.Conv2d(padding=1), which pads both sides.

Usage: /usr/bin/python3 torch_parity.py CASE_DIR   (needs python3-torch; case.json's dtype, 1 thread)
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def read_f32(case_dir, name, shape):
    a = np.fromfile(os.path.join(case_dir, name), dtype='<f4')
    return torch.from_numpy(a.reshape(shape).copy())


def write_f32(case_dir, name, t):
    t.detach().cpu().float().contiguous().numpy().astype('<f4').tofile(os.path.join(case_dir, name))
    return name


def same_pad(size, k, s):
    """TF 'same' padding along one axis: (before, after)."""
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


def paddings(cfg, h, w, kh, kw, sh, sw):
    """(before, after) padding of both axes for a layer's 'same' or 'valid' padding."""
    if cfg['padding'] == 'same':
        return same_pad(h, kh, sh), same_pad(w, kw, sw)
    return (0, 0), (0, 0)


class Net(nn.Module):
    """Runs the engine's layer graph (topological order, as Keras lists it) in NCHW."""

    def __init__(self, layers, input_shape):
        super().__init__()
        self.spec = layers
        self.mods = nn.ModuleDict()
        shapes = {}  # layer name -> NCHW shape without batch (or (features,))
        for L in layers:
            cls, cfg, name = L['className'], L['config'], L['name']
            ins = [shapes[i] for i in L['inbound']]
            if cls == 'InputLayer':
                h, w, c = input_shape
                shapes[name] = (c, h, w)
            elif cls == 'Conv2D':
                c, h, w = ins[0]
                (kh, kw), (sh, sw) = cfg['kernelSize'], cfg['strides']
                ph, pw = paddings(cfg, h, w, kh, kw, sh, sw)
                symmetric = ph[0] == ph[1] and pw[0] == pw[1]
                conv = nn.Conv2d(c, cfg['filters'], (kh, kw), (sh, sw), padding=(ph[0], pw[0]) if symmetric else 0, bias=cfg['useBias'])
                self.mods[name] = conv if symmetric else nn.Sequential(nn.ZeroPad2d((pw[0], pw[1], ph[0], ph[1])), conv)
                oh = (h + ph[0] + ph[1] - kh) // sh + 1
                ow = (w + pw[0] + pw[1] - kw) // sw + 1
                shapes[name] = (cfg['filters'], oh, ow)
                L['_act'] = cfg.get('activation', 'linear')
            elif cls == 'BatchNormalization':
                c = ins[0][0]
                # Keras momentum m: moving = m * moving + (1 - m) * batch; PyTorch's is 1 - m.
                bn = nn.BatchNorm2d(c, eps=cfg['epsilon'], momentum=1 - cfg['momentum']) if len(ins[0]) == 3 else nn.BatchNorm1d(c, eps=cfg['epsilon'], momentum=1 - cfg['momentum'])
                self.mods[name] = bn
                shapes[name] = ins[0]
            elif cls in ('ReLU', 'Activation'):
                shapes[name] = ins[0]
            elif cls == 'MaxPooling2D':
                c, h, w = ins[0]
                (kh, kw), (sh, sw) = cfg['poolSize'], cfg['strides']
                ph, pw = paddings(cfg, h, w, kh, kw, sh, sw)
                L['_pad'] = (pw[0], pw[1], ph[0], ph[1])
                shapes[name] = (c, (h + ph[0] + ph[1] - kh) // sh + 1, (w + pw[0] + pw[1] - kw) // sw + 1)
            elif cls == 'Flatten':
                shapes[name] = (int(np.prod(ins[0])),)
            elif cls == 'Dense':
                self.mods[name] = nn.Linear(ins[0][0], cfg['units'], bias=cfg['useBias'])
                shapes[name] = (cfg['units'],)
            elif cls == 'Add':
                shapes[name] = ins[0]
            elif cls == 'GlobalAveragePooling2D':
                shapes[name] = (ins[0][0],)
            else:
                raise ValueError(f'torch_parity.py: layer class {cls} ({name}) is not supported')

    def forward(self, x):
        out = {}
        for L in self.spec:
            cls, cfg, name = L['className'], L['config'], L['name']
            ins = [out[i] for i in L['inbound']] if L['inbound'] else [x]
            y = ins[0]
            if cls == 'InputLayer':
                pass
            elif cls in ('Conv2D', 'Dense', 'BatchNormalization'):
                y = self.mods[name](y)
                act = cfg.get('activation', 'linear') if cls != 'BatchNormalization' else 'linear'
                y = activation(y, act)
            elif cls == 'ReLU':
                y = F.relu(y)
            elif cls == 'Activation':
                y = activation(y, cfg['activation'])
            elif cls == 'MaxPooling2D':
                pad = L['_pad']
                if any(pad):
                    y = F.pad(y, pad, value=float('-inf'))
                y = F.max_pool2d(y, tuple(cfg['poolSize']), tuple(cfg['strides']))
            elif cls == 'Flatten':
                # NHWC flatten order, as the engine's Flatten of an NHWC tensor.
                y = y.permute(0, 2, 3, 1).flatten(1) if y.dim() == 4 else y.flatten(1)
            elif cls == 'Add':
                y = ins[0]
                for t in ins[1:]:
                    y = y + t
            elif cls == 'GlobalAveragePooling2D':
                y = y.mean(dim=(2, 3))
            out[name] = y
        return out[self.spec[-1]['name']]

    def param_slots(self):
        """(key, tensor, tf->torch, torch->tf, is_kernel, is_buffer) for every weight, keyed 'layer/role'."""
        for L in self.spec:
            name, cls = L['name'], L['className']
            if name not in self.mods:
                continue
            m = self.mods[name]
            if isinstance(m, nn.Sequential):
                m = m[1]
            if cls == 'Conv2D':
                yield f'{name}/kernel', m.weight, lambda t: t.permute(3, 2, 0, 1), lambda t: t.permute(2, 3, 1, 0), True, False
                if m.bias is not None:
                    yield f'{name}/bias', m.bias, ident, ident, False, False
            elif cls == 'Dense':
                yield f'{name}/kernel', m.weight, lambda t: t.t(), lambda t: t.t(), True, False
                if m.bias is not None:
                    yield f'{name}/bias', m.bias, ident, ident, False, False
            elif cls == 'BatchNormalization':
                yield f'{name}/gamma', m.weight, ident, ident, False, False
                yield f'{name}/beta', m.bias, ident, ident, False, False
                yield f'{name}/moving_mean', m.running_mean, ident, ident, False, True
                yield f'{name}/moving_variance', m.running_var, ident, ident, False, True


def ident(t):
    return t


def activation(y, act):
    if act in (None, 'linear'):
        return y
    if act == 'relu':
        return F.relu(y)
    raise ValueError(f'torch_parity.py: activation {act} is not supported')


def main():
    case_dir = sys.argv[1]
    with open(os.path.join(case_dir, 'case.json')) as f:
        case = json.load(f)
    torch.set_num_threads(int(case.get('threads', 1)))
    torch.manual_seed(0)  # nothing random is drawn; set for completeness
    h, w, c = case['inputShape']
    n_img = case['imageCount']
    images = read_f32(case_dir, case['images'], (n_img, h, w, c)).permute(0, 3, 1, 2).contiguous()
    labels = torch.from_numpy(np.fromfile(os.path.join(case_dir, case['labels']), dtype='<i4').astype(np.int64))
    batches = torch.from_numpy(np.fromfile(os.path.join(case_dir, case['batches']), dtype='<i4').astype(np.int64)).reshape(case['iterations'], case['batchSize'])

    net = Net(case['layers'], case['inputShape'])
    # float64 by default: the exact-arithmetic reference. PyTorch's float32 CPU kernels were
    # measured further from it (e.g. 6e-3 relative on a conv-kernel gradient, 128x28x28
    # batch) than the engine's float32 (3e-5), so a float32 reference would hide nothing
    # but blur everything.
    dtype = torch.float64 if case.get('dtype', 'float64') == 'float64' else torch.float32
    net = net.to(dtype)
    images = images.to(dtype)
    initial = {}
    with torch.no_grad():
        for key, t, to_torch, _, _, _ in net.param_slots():
            entry = case['initialWeights'][key]
            v = to_torch(read_f32(case_dir, entry['file'], entry['shape'])).to(dtype)
            assert tuple(v.shape) == tuple(t.shape), f'{key}: engine {tuple(v.shape)} vs torch {tuple(t.shape)}'
            t.copy_(v)
            initial[key] = v.clone()
    net.train()

    def batch(i):
        idx = batches[i]
        return images[idx], labels[idx]

    # Step-1 gradients of the plain loss (the engine adds weight decay inside its optimiser).
    x, y = batch(0)
    net.zero_grad()
    loss0 = F.cross_entropy(net(x), y)
    loss0.backward()
    out = {'torchVersion': torch.__version__, 'dtype': str(dtype), 'threads': torch.get_num_threads(), 'step1Loss': loss0.item(), 'grads': {}, 'final': {}}
    for key, t, _, to_tf, _, is_buf in net.param_slots():
        if not is_buf:
            out['grads'][key] = write_f32(case_dir, f'torch_grad_{len(out["grads"])}.f32', to_tf(t.grad))
    # Back to the initial state (the forward pass above moved the running statistics).
    with torch.no_grad():
        for key, t, to_torch, _, _, _ in net.param_slots():
            t.copy_(initial[key])
    net.zero_grad(set_to_none=True)

    params = [(key, t, is_kernel) for key, t, _, _, is_kernel, is_buf in net.param_slots() if not is_buf]
    wd = case['weightDecay']
    if case['weightDecayScope'] == 'all':
        groups = [{'params': [t for _, t, _ in params], 'weight_decay': wd}]
    else:
        groups = [{'params': [t for _, t, k in params if k], 'weight_decay': wd}, {'params': [t for _, t, k in params if not k], 'weight_decay': 0.0}]
    if case['optimizer'] != 'sgd':
        raise ValueError('torch_parity.py: only sgd is compared')
    opt = torch.optim.SGD(groups, lr=case['learningRate'], momentum=case['momentum'], weight_decay=wd)
    total = case['iterations']
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total) if case['schedule'] == 'cosine' else None
    losses, lrs = [], []
    # Lockstep record: per step, the trainable parameters the step starts from and their
    # gradients (TF layout, slot order), so that the engine can recompute each step's
    # gradient from exactly PyTorch's state. A free-running comparison cannot separate a
    # wrong step from float32 chaos (one ReLU input within rounding of zero flips its mask
    # on one side only, and the trajectories part); this can.
    trainable = [(key, t, to_tf) for key, t, _, to_tf, _, is_buf in net.param_slots() if not is_buf]
    out['lockstep'] = {'slots': [[key, int(t.numel())] for key, t, _ in trainable], 'files': []}
    for i in range(total):
        x, y = batch(i)
        before = torch.cat([to_tf(t.detach()).reshape(-1) for _, t, to_tf in trainable])
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        grads = torch.cat([to_tf(t.grad).reshape(-1) for _, t, to_tf in trainable])
        out['lockstep']['files'].append(write_f32(case_dir, f'torch_step_{i}.f32', torch.cat([before, grads])))
        lrs.append(opt.param_groups[0]['lr'])
        opt.step()
        if sched is not None:
            sched.step()
        losses.append(loss.item())
        if not math.isfinite(losses[-1]):
            break
    out['losses'] = losses
    out['lrs'] = lrs
    for key, t, _, to_tf, _, _ in net.param_slots():
        out['final'][key] = write_f32(case_dir, f'torch_final_{len(out["final"])}.f32', to_tf(t))
    with open(os.path.join(case_dir, 'torch.json'), 'w') as f:
        json.dump(out, f)


if __name__ == '__main__':
    main()
