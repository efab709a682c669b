#!/usr/bin/env bash
# Remakes tiny_denoiser.pt and its reference outputs with PyTorch (Debian: python3-torch).
# Not part of the build: the files it writes are committed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../../.." && pwd)
py=${PYTHON:-python3}
PYTHONPATH="$here" "$py" "$root/tools/export_torchscript.py" tiny_net:make --taps enc,mid \
  --input-shape 1,28,28 --out "$here/tiny_denoiser.pt"
"$py" - "$here" <<'PY'
import sys, numpy as np, torch
here = sys.argv[1]
torch.manual_seed(1)
m = torch.jit.load(here + "/tiny_denoiser.pt")
x = torch.randn(3, 1, 28, 28)
sigma = torch.tensor([0.05, 0.5, 2.0])
with torch.no_grad():
    out = m(x, sigma)
np.save(here + "/ref_x.npy", x.numpy())
np.save(here + "/ref_sigma.npy", sigma.numpy())
for k, v in out.items():
    np.save(here + "/ref_" + k.replace(".", "_") + ".npy", v.numpy().astype(np.float32))
print("keys", list(out.keys()), "shapes", {k: tuple(v.shape) for k, v in out.items()})
PY
