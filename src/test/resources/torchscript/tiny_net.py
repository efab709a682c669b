"""A tiny EDM-style convolutional denoiser, only for diffrep's TorchScript test fixture.

Made into tiny_denoiser.pt by make_fixture.sh (tools/export_torchscript.py); reference inputs and
outputs computed by PyTorch are stored beside it so the Java test checks numbers, not just shapes.
"""
import torch


class TinyDenoiser(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = torch.nn.Sequential(torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.SiLU())
        self.mid = torch.nn.Sequential(torch.nn.Conv2d(8, 8, 3, stride=2, padding=1), torch.nn.SiLU())
        self.dec = torch.nn.ConvTranspose2d(8, 1, 4, stride=2, padding=1)
        self.embed = torch.nn.Linear(1, 8)

    def forward(self, x, sigma):
        sd = 0.5
        c_in = 1 / torch.sqrt(sigma ** 2 + sd ** 2)
        c_skip = sd ** 2 / (sigma ** 2 + sd ** 2)
        c_out = sigma * sd / torch.sqrt(sigma ** 2 + sd ** 2)
        e = self.embed(torch.log(sigma).view(-1, 1) / 4).view(-1, 8, 1, 1)
        h = self.enc(x * c_in.view(-1, 1, 1, 1)) + e
        m = self.mid(h)
        f = self.dec(m)
        return c_skip.view(-1, 1, 1, 1) * x + c_out.view(-1, 1, 1, 1) * f


def make():
    torch.manual_seed(0)
    return TinyDenoiser()
