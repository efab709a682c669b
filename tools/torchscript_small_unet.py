"""A small EDM UNet like diffrep's default (channels 32,64,64; GroupNorm, SiLU, attention at 7x7, nearest
upsampling, skip concatenation): the TorchScript file for timing `diffrep extract` against PyTorch.

Export (Debian python3-torch is enough):
  PYTHONPATH=tools python3 tools/export_torchscript.py torchscript_small_unet:make --taps mid,dec1 \
      --input-shape 1,28,28 --out small_unet.pt
  (make_no_attention for the variant without attention, e.g. --out small_unet_noattn.pt)
"""
import math, torch
import torch.nn as nn
import torch.nn.functional as F

class Res(nn.Module):
    def __init__(s, cin, cout, emb):
        super().__init__()
        s.n1 = nn.GroupNorm(8, cin); s.c1 = nn.Conv2d(cin, cout, 3, padding=1)
        s.e = nn.Linear(emb, cout); s.n2 = nn.GroupNorm(8, cout); s.c2 = nn.Conv2d(cout, cout, 3, padding=1)
        s.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()
    def forward(s, x, e):
        h = s.c1(F.silu(s.n1(x))) + s.e(e)[:, :, None, None]
        h = s.c2(F.silu(s.n2(h)))
        return s.skip(x) + h

class Attn(nn.Module):
    def __init__(s, c):
        super().__init__(); s.n = nn.GroupNorm(8, c); s.qkv = nn.Conv2d(c, 3 * c, 1); s.o = nn.Conv2d(c, c, 1)
    def forward(s, x):
        b, c, h, w = x.shape
        q, k, v = s.qkv(s.n(x)).reshape(b, 3, c, h * w).unbind(1)
        a = torch.softmax(q.transpose(1, 2) @ k / math.sqrt(c), -1)
        return x + s.o((v @ a.transpose(1, 2)).reshape(b, c, h, w))

class Mid(nn.Module):
    def __init__(s, c, emb):
        super().__init__(); s.r1 = Res(c, c, emb); s.a = Attn(c); s.r2 = Res(c, c, emb)
    def forward(s, x, e):
        return s.r2(s.a(s.r1(x, e)), e)

class MidNoAttn(nn.Module):
    def __init__(s, c, emb):
        super().__init__(); s.r1 = Res(c, c, emb); s.r2 = Res(c, c, emb)
    def forward(s, x, e):
        return s.r2(s.r1(x, e), e)

class UNet(nn.Module):
    def __init__(s, ch=(32, 64, 64), emb=128, attention=True):
        super().__init__()
        s.emb = nn.Sequential(nn.Linear(64, emb), nn.SiLU(), nn.Linear(emb, emb))
        s.inp = nn.Conv2d(1, ch[0], 3, padding=1)
        s.enc0 = Res(ch[0], ch[0], emb); s.down0 = nn.Conv2d(ch[0], ch[1], 3, stride=2, padding=1)
        s.enc1 = Res(ch[1], ch[1], emb); s.down1 = nn.Conv2d(ch[1], ch[2], 3, stride=2, padding=1)
        s.mid = Mid(ch[2], emb) if attention else MidNoAttn(ch[2], emb)
        s.up1 = nn.Conv2d(ch[2], ch[1], 3, padding=1); s.dec1 = Res(2 * ch[1], ch[1], emb)
        s.up0 = nn.Conv2d(ch[1], ch[0], 3, padding=1); s.dec0 = Res(2 * ch[0], ch[0], emb)
        s.out = nn.Sequential(nn.GroupNorm(8, ch[0]), nn.SiLU(), nn.Conv2d(ch[0], 1, 3, padding=1))
    def forward(s, x, sigma):
        sd = 0.5
        c_in = 1 / torch.sqrt(sigma ** 2 + sd ** 2); c_skip = sd ** 2 / (sigma ** 2 + sd ** 2)
        c_out = sigma * sd / torch.sqrt(sigma ** 2 + sd ** 2)
        f = torch.exp(-math.log(1e4) * torch.arange(32, dtype=torch.float32) / 32)
        a = (torch.log(sigma) / 4)[:, None] * f[None] * 1000
        e = s.emb(torch.cat([a.sin(), a.cos()], 1))
        h0 = s.enc0(s.inp(x * c_in[:, None, None, None]), e)
        h1 = s.enc1(s.down0(h0), e)
        m = s.mid(s.down1(h1), e)
        u1 = s.dec1(torch.cat([s.up1(F.interpolate(m, scale_factor=2.0, mode="nearest")), h1], 1), e)
        u0 = s.dec0(torch.cat([s.up0(F.interpolate(u1, scale_factor=2.0, mode="nearest")), h0], 1), e)
        return c_skip[:, None, None, None] * x + c_out[:, None, None, None] * s.out(u0)

def make():
    torch.manual_seed(0)
    return UNet()

def make_no_attention():
    """The same UNet with GroupNorm only: two residual blocks in the middle instead of block, attention, block."""
    torch.manual_seed(0)
    return UNet(attention=False)

def make_wide():
    """Channels 32,64,128 with attention: the width of the UNet in the AMD EPYC report of issue 20."""
    torch.manual_seed(0)
    return UNet(ch=(32, 64, 128))
