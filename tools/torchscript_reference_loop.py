#!/usr/bin/env python3
"""PyTorch's own loop over a TorchScript denoiser, as the baseline for `diffrep extract` on the same file.

usage: tools/torchscript_reference_loop.py FILE.pt STORE_DIR [--threads 2] [--tap mid] [--batch 64]

Reads the MNIST images (builtin:mnist or idx:DIR) and settings of a feature store that `diffrep extract --model FILE.pt` wrote
(clean input, mean pooling), runs forward(x, sigma) per batch and sigma with torch.no_grad(), takes
the spatial mean of the tap, prints images/s and the max abs difference to the store's features.
Needs PyTorch and NumPy (e.g. Debian's python3-torch); diffrep does not.
"""
import argparse, gzip, json, os, time
import numpy as np
import torch

ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
ap.add_argument("file"); ap.add_argument("store")
ap.add_argument("--threads", type=int, default=2); ap.add_argument("--tap", default="mid")
ap.add_argument("--batch", type=int, default=64)
a = ap.parse_args()
torch.set_num_threads(a.threads)
man = json.load(open(os.path.join(a.store, "manifest.json")))
sigmas = man["settings"]["sigmas"]
idx = np.load(os.path.join(a.store, "indices.npy"))
spec = man["settings"]["data"]
if spec == "builtin:mnist":  # the files built into the jar, from the source tree
    d = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src/main/resources/org/diffrep/data/builtin/mnist")
else:
    assert spec.startswith("idx:"), "this reference reads builtin:mnist and idx: datasets only"
    d = spec[4:]
name = next(f for f in os.listdir(d) if "images" in f and "idx3" in f)
opener = gzip.open if name.endswith(".gz") else open
with opener(os.path.join(d, name), "rb") as f:
    raw = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)
x = torch.from_numpy(raw[idx].astype(np.float32) / 127.5 - 1)
m = torch.jit.load(a.file).eval()
n = x.shape[0]
feats = None
t = time.time()
with torch.no_grad():
    for b in range(0, n, a.batch):
        xb = x[b:b + a.batch]
        for j, s in enumerate(sigmas):
            f = m(xb, torch.full((xb.shape[0],), s))[a.tap].mean((2, 3)).numpy()
            if feats is None:
                feats = np.zeros((len(sigmas), n, f.shape[1]), np.float32)
            feats[j, b:b + a.batch] = f
dt = time.time() - t
diff = max(np.abs(np.load(os.path.join(a.store, f"features/{a.tap}/sigma_{j}.npy")) - feats[j]).max()
           for j in range(len(sigmas)))
print(f"python loop: {n / dt:.1f} images/s x {len(sigmas)} sigmas ({dt:.2f} s), torch {torch.__version__}, "
      f"threads {torch.get_num_threads()}; max abs difference to the store: {diff:.2e}")
