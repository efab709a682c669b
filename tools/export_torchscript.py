#!/usr/bin/env python3
"""Export a PyTorch denoiser as a TorchScript file that diffrep reads (TorchScriptDenoiser).

usage: tools/export_torchscript.py MODULE_SPEC --taps a,b,... --input-shape C,H,W --out F.pt
                                   [--param edm|vp] [--sigma-data 0.5]

MODULE_SPEC is "package.module:factory" (a callable returning an nn.Module, called with no
arguments) or "package.module:factory:weights.pt" (then load_state_dict(torch.load(weights,
weights_only=True)) is applied). --taps lists submodule names (as in named_modules()) whose outputs
become taps, in forward order; they are exported under the same names.

The module must map (x, cond) -> output. With --param edm (default) it is taken as an EDM denoiser
D(x; sigma) already, called as module(x, sigma). With --param vp it is taken as a DDPM
eps-prediction network on the VP linear schedule (beta 1e-4..0.02, T=1000): it is called as
module(s * x, t) with s = 1/sqrt(1+sigma^2) and t the continuous timestep of sigma in [0, 999],
and D = x - sigma * eps.

The file's forward(x, sigma) returns Dict[str, Tensor] with "denoised" and one entry per tap
(forward hooks record them while tracing); extra/diffrep.json holds input_shape and taps.
Needs PyTorch; diffrep itself does not.
"""
import argparse
import importlib
import json
import math
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("module_spec")
    ap.add_argument("--taps", default="", help="comma-separated submodule names, in forward order")
    ap.add_argument("--input-shape", required=True, help="one sample's shape, e.g. 1,28,28")
    ap.add_argument("--out", required=True)
    ap.add_argument("--param", choices=["edm", "vp"], default="edm")
    ap.add_argument("--batch", type=int, default=2, help="batch size of the tracing example")
    args = ap.parse_args()

    import torch

    parts = args.module_spec.split(":")
    if len(parts) not in (2, 3):
        sys.exit("MODULE_SPEC must be package.module:factory[:weights.pt]")
    net = getattr(importlib.import_module(parts[0]), parts[1])()
    if len(parts) == 3:
        net.load_state_dict(torch.load(parts[2], map_location="cpu", weights_only=True))
    net.eval()
    taps = [t for t in args.taps.split(",") if t]
    shape = [int(s) for s in args.input_shape.split(",")]
    modules = dict(net.named_modules())
    missing = [t for t in taps if t not in modules]
    if missing:
        sys.exit("unknown submodule(s) %s; available: %s" % (missing, ", ".join(n for n in modules if n)))

    class Wrapped(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net = net
            self.recorded = {}
            for name in taps:
                modules[name].register_forward_hook(self._hook(name))

        def _hook(self, name):
            def hook(_module, _inputs, output):
                self.recorded[name] = output
            return hook

        def forward(self, x, sigma):
            self.recorded = {}
            if args.param == "edm":
                d = self.net(x, sigma)
            else:
                bmin, bd = 0.1, 19.9
                t = (torch.sqrt(bmin ** 2 + 2 * bd * torch.log1p(sigma ** 2)) - bmin) / bd
                s = torch.rsqrt(1 + sigma ** 2).view(-1, *([1] * (x.dim() - 1)))
                eps = self.net(s * x, t * 999)
                d = x - sigma.view(-1, *([1] * (x.dim() - 1))) * eps
            out = {"denoised": d}
            for name in taps:
                out[name] = self.recorded[name]
            return out

    example = (torch.randn(args.batch, *shape), torch.rand(args.batch) * 2 + 0.01)
    traced = torch.jit.trace(Wrapped(), example, strict=False, check_trace=False)
    meta = {"input_shape": shape, "taps": taps, "parametrisation": args.param,
            "source": args.module_spec, "torch": torch.__version__}
    torch.jit.save(traced, args.out, _extra_files={"diffrep.json": json.dumps(meta)})
    print("wrote %s: taps %s, input %s" % (args.out, taps, shape))


if __name__ == "__main__":
    main()
