#!/usr/bin/python3
"""PyTorch peer of configs/convT_emoji.ini, for comparing clae's numbers.

Reads the split clae wrote (RUN/split.csv) and the same prepared PNGs, composites
on white, trains the same architecture with Adam (lr 1e-3, L2 1e-5), batch 64,
30 epochs, MSE, the training split as 4 copies with random horizontal flips
(fixed per copy, like clae's augment.copies), and prints the test MSE.
INIT=kaiming applies kaiming_uniform_(w, nonlinearity='relu') to every conv and
linear weight, as clae's [model] init = kaiming; the default keeps PyTorch's.
Optional: needs Debian's python3-torch and python3-pil; clae never needs it.

usage: [SEED=k] [INIT=kaiming] /usr/bin/python3 bench/torch_convT_emoji.py RUN [DATA_DIR]
"""
import csv
import os
import re
import sys

import numpy as np
import torch
import torch.nn as nn
from PIL import Image

run = sys.argv[1]
data = sys.argv[2] if len(sys.argv) > 2 else os.path.expanduser("~/.cache/clae/data")
torch.manual_seed(int(os.environ.get("SEED", "1")))  # SEED=k: another initialisation
rng = np.random.default_rng(1)


def load(name):
    m = re.match(r"(\w+)/(\S+) \(", name)
    img = Image.open(os.path.join(data, "emoji", m.group(1), m.group(2))).convert("RGBA")
    bg = Image.new("RGBA", img.size, (255, 255, 255, 255))
    return np.asarray(Image.alpha_composite(bg, img).convert("RGB"), dtype=np.float32).transpose(2, 0, 1) / 255.0


splits = {"train": [], "val": [], "test": []}
with open(os.path.join(run, "split.csv")) as f:
    for row in csv.DictReader(f):
        splits[row["split"]].append(load(row["name"]))
train = []
for _ in range(4):
    for img in splits["train"]:
        train.append(img[:, :, ::-1].copy() if rng.random() < 0.5 else img)
train = torch.tensor(np.stack(train))
test = torch.tensor(np.stack(splits["test"]))


def down(i, o):
    return [nn.Conv2d(i, o, 3, 2, 1), nn.ReLU()]


def up(i, o, act):
    return [nn.ConvTranspose2d(i, o, 3, 2, 1, output_padding=1), act]


model = nn.Sequential(*down(3, 32), *down(32, 64), *down(64, 128), *down(128, 256), nn.Flatten(),
                      nn.Linear(4096, 128), nn.Dropout(0.2), nn.Linear(128, 4096), nn.ReLU(),
                      nn.Unflatten(1, (256, 4, 4)), *up(256, 128, nn.ReLU()), *up(128, 64, nn.ReLU()),
                      *up(64, 32, nn.ReLU()), *up(32, 3, nn.Sigmoid()))
if os.environ.get("INIT", "pytorch") == "kaiming":
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.kaiming_uniform_(m.weight, nonlinearity="relu")
opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-5)
for epoch in range(30):
    model.train()
    perm = torch.randperm(len(train))
    total = 0.0
    for s in range(0, len(train), 64):
        x = train[perm[s:s + 64]]
        loss = nn.functional.mse_loss(model(x), x)
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += loss.item() * len(x)
    model.eval()
    with torch.no_grad():
        test_mse = nn.functional.mse_loss(model(test), test).item()
    print(f"epoch {epoch + 1}: train mse {total / len(train):.6f} test mse {test_mse:.6f}", flush=True)
